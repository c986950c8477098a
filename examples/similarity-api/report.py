#!/usr/bin/python3
"""Figures for run.sh's report, as Markdown table rows.

    report.py locust LABEL STATS.csv
        one row per endpoint and one for all requests, from Locust's
        *_stats.csv format: requests, requests/s (Locust's), mean, p50,
        p95, p99 (ms) and failures
    report.py pgbench LABEL SECONDS LOG...
        the same from pgbench's per-transaction logs (--log): one row per
        script (0 = the first -f) and one for all transactions
    report.py memory PID...
        per-backend memory from /proc/PID/smaps_rollup (kB -> MB): the mean
        resident, proportional and private size, and the private total
"""
import csv
import math
import statistics
import sys


def percentile(sorted_values, p):
    """Nearest-rank percentile of an ascending list."""
    if not sorted_values:
        return float("nan")
    return sorted_values[max(1, math.ceil(p / 100 * len(sorted_values))) - 1]


def row(*cells):
    return "| " + " | ".join(str(c) for c in cells) + " |"


def locust(label, path):
    with open(path, newline="") as f:
        for r in csv.DictReader(f):
            name = r["Name"] if r["Name"] != "Aggregated" else "all"
            n = int(r["Request Count"])
            print(row(label, name, n, f"{float(r['Requests/s']):.1f}", f"{float(r['Average Response Time']):.1f}",
                      r["50%"], r["95%"], r["99%"], r["Failure Count"]))


def pgbench(label, seconds, logs):
    by_script = {}
    for path in logs:
        with open(path) as f:
            for line in f:
                cells = line.split()
                # client transaction latency_us script epoch_s epoch_us ...
                by_script.setdefault(cells[3], []).append(int(cells[2]) / 1000)
    everything = sorted(x for v in by_script.values() for x in v)
    for name, values in sorted(by_script.items()) + [("all", everything)]:
        values.sort()
        print(row(label, name, len(values), f"{len(values) / seconds:.1f}", f"{statistics.fmean(values):.2f}",
                  f"{percentile(values, 50):.2f}", f"{percentile(values, 95):.2f}",
                  f"{percentile(values, 99):.2f}"))


def memory(pids):
    sizes = []
    for pid in pids:
        fields = {}
        try:
            f = open(f"/proc/{pid}/smaps_rollup")
        except OSError:
            continue    # the backend exited meanwhile
        with f:
            for line in f:
                parts = line.split()
                if len(parts) == 3 and parts[2] == "kB":
                    fields[parts[0].rstrip(":")] = int(parts[1])
        sizes.append((fields["Rss"], fields["Pss"], fields["Private_Clean"] + fields["Private_Dirty"]))
    if not sizes:
        print("0 - - - -")    # the run ended before the backends were read
        return
    mb = [statistics.fmean(s[i] for s in sizes) / 1024 for i in range(3)]
    total = sum(s[2] for s in sizes) / 1024
    print(f"{len(sizes)} {mb[0]:.0f} {mb[1]:.0f} {mb[2]:.0f} {total:.0f}")


if __name__ == "__main__":
    cmd = sys.argv[1]
    if cmd == "locust":
        locust(sys.argv[2], sys.argv[3])
    elif cmd == "pgbench":
        pgbench(sys.argv[2], float(sys.argv[3]), sys.argv[4:])
    elif cmd == "memory":
        memory(sys.argv[2:])
    else:
        sys.exit(__doc__)
