"""Request metrics in Prometheus text format, shared by uvicorn's worker
processes.

Each process owns one small file of float64 counters (request counts and a
latency histogram per endpoint and status class) mapped into memory; only
that process writes it, so no lock is needed.  GET /metrics may land in any
worker, so it adds up the files of every worker, those of workers that
exited included, which keeps every counter monotonic.  Without a directory
(one process, the tests) the counters live in an anonymous mapping.
"""
import mmap
import os

ENDPOINTS = ("insert", "query", "backfill", "health", "metrics", "other")
STATUSES = ("2xx", "3xx", "4xx", "5xx")
# Upper bounds of the latency buckets, in seconds; +Inf is the count.
BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0)

# One record per (endpoint, status): count, sum of seconds, then one
# cumulative counter per bucket.
_RECORD = 2 + len(BUCKETS)
_SLOTS = len(ENDPOINTS) * len(STATUSES) * _RECORD
_SIZE = _SLOTS * 8


def _status_class(status):
    return STATUSES[min(max(status // 100, 2), 5) - 2]


class Metrics:
    def __init__(self, directory=None):
        self.directory = directory
        if directory:
            os.makedirs(directory, exist_ok=True)
            path = os.path.join(directory, f"worker-{os.getpid()}.bin")
            with open(path, "wb+") as f:
                f.truncate(_SIZE)
                self._map = mmap.mmap(f.fileno(), _SIZE)
        else:
            self._map = mmap.mmap(-1, _SIZE)
        self._values = memoryview(self._map).cast("d")

    def observe(self, endpoint, status, seconds):
        if endpoint not in ENDPOINTS:
            endpoint = "other"
        base = (ENDPOINTS.index(endpoint) * len(STATUSES)
                + STATUSES.index(_status_class(status))) * _RECORD
        v = self._values
        v[base] += 1
        v[base + 1] += seconds
        for i, bound in enumerate(BUCKETS):
            if seconds <= bound:
                v[base + 2 + i] += 1

    def _totals(self):
        """The counters of all workers added up (this one alone without a directory)."""
        if not self.directory:
            return list(self._values)
        totals = [0.0] * _SLOTS
        for name in os.listdir(self.directory):
            if not name.startswith("worker-"):
                continue
            with open(os.path.join(self.directory, name), "rb") as f:
                data = f.read(_SIZE)
            if len(data) == _SIZE:
                for i, x in enumerate(memoryview(data).cast("d")):
                    totals[i] += x
        return totals

    def render(self, gauges):
        """Prometheus text exposition: the request metrics, then the gauges
        given as (name, help, value)."""
        t = self._totals()
        lines = ["# HELP simapi_requests_total HTTP requests by endpoint and status class.",
                 "# TYPE simapi_requests_total counter"]
        hist = ["# HELP simapi_request_duration_seconds Time from request to response.",
                "# TYPE simapi_request_duration_seconds histogram"]
        for e, endpoint in enumerate(ENDPOINTS):
            merged = [0.0] * _RECORD
            for s, status in enumerate(STATUSES):
                base = (e * len(STATUSES) + s) * _RECORD
                rec = t[base:base + _RECORD]
                lines.append(f'simapi_requests_total{{endpoint="{endpoint}",status="{status}"}} {rec[0]:.0f}')
                merged = [a + b for a, b in zip(merged, rec)]
            for i, bound in enumerate(BUCKETS):
                hist.append(f'simapi_request_duration_seconds_bucket{{endpoint="{endpoint}",le="{bound}"}} '
                            f"{merged[2 + i]:.0f}")
            hist.append(f'simapi_request_duration_seconds_bucket{{endpoint="{endpoint}",le="+Inf"}} {merged[0]:.0f}')
            hist.append(f'simapi_request_duration_seconds_sum{{endpoint="{endpoint}"}} {merged[1]:.6f}')
            hist.append(f'simapi_request_duration_seconds_count{{endpoint="{endpoint}"}} {merged[0]:.0f}')
        for name, help_text, value in gauges:
            lines += [f"# HELP {name} {help_text}", f"# TYPE {name} gauge", f"{name} {value}"]
        return "\n".join(lines + hist) + "\n"
