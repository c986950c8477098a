#!/usr/bin/python3
"""Approximate-nearest-neighbour benchmark harness shared by vsim's indexes.

Loads a data set into the server named by the usual PG* variables (once;
reused while the row counts match), computes brute-force ground truth with
numpy, builds the index once per --workers value (build seconds, CPU
seconds of the server's processes: build_cpu_seconds, index bytes, peak
build memory: BuildMemory), then for each value of the swept setting times ONE server-side
LATERAL join over the query table (EXPLAIN ANALYZE's execution time, so
client overhead does not count; cpu_qps: queries per CPU second of the
server process, which other jobs on a shared machine do not inflate) and
measures recall@k.  Prints one JSON object per line.

Example:
  annbench.py --index "hnsw (v vector_l2_ops) WITH (m = 16, ef_construction = 64)" \
      --metric l2 --sweep hnsw.ef_search=10,20,40,80 --workers 0,1

Data sets: fmnist (784-d raw pixels, Debian's dataset-fashion-mnist),
cnn256 (the 256-d embeddings of the Fashion-MNIST CNN, computed in the
database with vsim.embed; needs the model, see --model-dir) and cnn256x
(the same for up to 1,500,000 training images: each of the 60,000 moved by
up to 2 pixels each way, fmnist.SHIFTS, queries the unshifted test images).
"""
import argparse
import io
import json
import os
import sys
import threading
import time

import numpy as np
import psycopg2

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
import fmnist  # noqa: E402

OPS = {"l2": "<->", "ip": "<#>", "cosine": "<=>", "l1": "<+>"}


def emit(**kw):
    print(json.dumps(kw), flush=True)


def table_rows(cur, table):
    cur.execute("SELECT to_regclass(%s) IS NOT NULL", (table,))
    if not cur.fetchone()[0]:
        return -1
    cur.execute(f"SELECT count(*) FROM {table}")
    return cur.fetchone()[0]


def load_fmnist(cur, table, split, n):
    if table_rows(cur, table) == n:
        return
    x, y = fmnist.load(split, n)
    buf = io.BytesIO()
    fmnist.copy_binary(buf, x, y)
    buf.seek(0)
    cur.execute(f"DROP TABLE IF EXISTS {table} CASCADE")
    cur.execute(f"CREATE TABLE {table} (id int PRIMARY KEY, label int, v vector(784))")
    t = time.time()
    cur.copy_expert(f"COPY {table} FROM STDIN WITH (FORMAT binary)", buf)
    cur.execute(f"VACUUM ANALYZE {table}")
    emit(event="load", table=table, rows=n, seconds=round(time.time() - t, 2))


def register_cnn(cur, model_dir):
    cur.execute("SELECT count(*) FROM vsim.models WHERE name = 'fmnist_cnn'")
    if cur.fetchone()[0] == 0:
        cur.execute("SELECT vsim.create_model('fmnist_cnn', %s, NULL, "
                    "'{\"input\": \"tensor\", \"output\": \"embedding\", "
                    "\"input_shape\": [1, 1, 28, 28], \"pooling\": \"none\", "
                    "\"input_scale\": 0.00392156862745098}')",
                    (os.path.join(model_dir, "fashion_mnist_embed256.onnx"),))


def load_cnn256(cur, table, split, n, model_dir):
    """256-d CNN embeddings computed in the database by vsim.embed."""
    if table_rows(cur, table) == n:
        return
    raw = f"{table}_raw"
    load_fmnist(cur, raw, split, n)
    register_cnn(cur, model_dir)
    t = time.time()
    cur.execute(f"DROP TABLE IF EXISTS {table}")
    cur.execute(f"CREATE TABLE {table} AS SELECT id, label, "
                f"vsim.embed('fmnist_cnn', v::real[])::vector(256) AS v FROM {raw}")
    cur.execute(f"ALTER TABLE {table} ADD PRIMARY KEY (id)")
    cur.execute(f"VACUUM ANALYZE {table}")
    emit(event="embed", table=table, rows=n, seconds=round(time.time() - t, 2))


def load_cnn256x(cur, table, n, model_dir):
    """n CNN embeddings of shifted training images: row id 60000 * i + j is
    training image j (1-based) moved by fmnist.SHIFTS[i].  Grows or shrinks
    an existing table to n rows, so a sweep over sizes embeds each row once;
    each chunk's pixels go through a scratch table."""
    have = table_rows(cur, table)
    if have == n:
        return
    if n > 60000 * len(fmnist.SHIFTS):
        raise SystemExit(f"cnn256x has at most {60000 * len(fmnist.SHIFTS)} rows")
    register_cnn(cur, model_dir)
    if have < 0:
        cur.execute(f"CREATE TABLE {table} (id int PRIMARY KEY, label int, v vector(256))")
        have = 0
    cur.execute(f"DELETE FROM {table} WHERE id > %s", (n,))
    x, y = fmnist.load("train")
    cur.execute("CREATE TEMP TABLE IF NOT EXISTS cnn256x_pixels (id int, label int, v vector(784))")
    t = time.time()
    first = have + 1                    # ids first .. n are missing
    while first <= n:
        i, j = divmod(first - 1, 60000)
        m = min(60000 - j, n - first + 1)
        buf = io.BytesIO()
        fmnist.copy_binary(buf, fmnist.shifted(x[j:j + m], fmnist.SHIFTS[i]), y[j:j + m],
                           first_id=first)
        buf.seek(0)
        cur.execute("TRUNCATE cnn256x_pixels")
        cur.copy_expert("COPY cnn256x_pixels FROM STDIN WITH (FORMAT binary)", buf)
        cur.execute(f"INSERT INTO {table} SELECT id, label, "
                    f"vsim.embed('fmnist_cnn', v::real[])::vector(256) FROM cnn256x_pixels")
        first += m
        emit(event="embed-progress", table=table, rows=first - 1,
             seconds=round(time.time() - t, 1))
    cur.execute(f"VACUUM ANALYZE {table}")
    emit(event="embed", table=table, rows=n, added=max(n - have, 0),
         seconds=round(time.time() - t, 2))


def fetch_matrix(cur, table):
    cur.execute(f"SELECT id, v::real[] FROM {table} ORDER BY id")
    rows = cur.fetchall()
    return np.array([r[0] for r in rows]), np.array([r[1] for r in rows], dtype=np.float32)


class BuildMemory:
    """Peak memory of an index build, in bytes, sampled every 20 ms by a
    thread with its own connection while the build runs: the private memory
    (RssAnon in /proc) of the building backend and of its parallel workers
    (pg_stat_activity.leader_pid), plus the dynamic shared memory segments
    (/dev/shm/PostgreSQL.*: a parallel build's shared graph), each less
    what it was before the build.  For a server on this machine (peak None
    elsewhere); shared buffers are not counted."""

    def __init__(self, cur):
        cur.execute("SELECT pg_backend_pid()")
        self.pid = cur.fetchone()[0]
        self.peak = None
        self.base = self.sample([self.pid])
        self.done = threading.Event()
        self.thread = threading.Thread(target=self.run)

    @staticmethod
    def rss_anon(pid):
        try:
            with open(f"/proc/{pid}/status") as f:
                for line in f:
                    if line.startswith("RssAnon:"):
                        return int(line.split()[1]) * 1024
        except OSError:
            pass
        return 0

    @staticmethod
    def dsm_bytes():
        try:
            return sum(os.path.getsize(os.path.join("/dev/shm", n)) for n in os.listdir("/dev/shm")
                       if n.startswith("PostgreSQL."))
        except OSError:
            return 0

    def sample(self, pids):
        return sum(self.rss_anon(p) for p in pids) + self.dsm_bytes()

    def run(self):
        conn = psycopg2.connect("")
        cur = conn.cursor()
        peak = 0
        while not self.done.is_set():
            cur.execute("SELECT pid FROM pg_stat_activity WHERE leader_pid = %s", (self.pid,))
            conn.commit()
            peak = max(peak, self.sample([self.pid] + [r[0] for r in cur.fetchall()]))
            self.done.wait(0.02)
        conn.close()
        if os.path.exists(f"/proc/{self.pid}/status"):
            self.peak = max(0, peak - self.base)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.done.set()
        self.thread.join()


def proc_stat(pid):
    """The fields of /proc/<pid>/stat after the command name (None when
    there is no such process here: a server on another machine)."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()
    except OSError:
        return None


def backend_cpu_seconds(cur):
    """User + system CPU seconds of the server process of `cur` (from
    /proc, for a local server; None elsewhere).  On a shared machine the
    queries/s it gives (cpu_qps) leave out the time other jobs held the
    cores; its resolution is one clock tick (10 ms)."""
    cur.execute("SELECT pg_backend_pid()")
    fields = proc_stat(cur.fetchone()[0])
    if fields is None:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def build_cpu_seconds(cur):
    """backend_cpu_seconds plus the CPU seconds of the postmaster's exited
    children (a parallel build's workers, which it reaps; another child
    exiting meanwhile, such as an autovacuum worker, counts too)."""
    cur.execute("SELECT pg_backend_pid()")
    fields = proc_stat(cur.fetchone()[0])
    parent = proc_stat(fields[1]) if fields is not None else None
    if parent is None:
        return None
    ticks = int(fields[11]) + int(fields[12]) + int(parent[13]) + int(parent[14])
    return ticks / os.sysconf("SC_CLK_TCK")


def with_storage(cur, table, storage):
    """A copy of `table` whose vector column has STORAGE `storage` (SET
    STORAGE applies to rows written later, so the rows are copied)."""
    copy = f"{table}_{storage}"
    if table_rows(cur, copy) != table_rows(cur, table):
        cur.execute(f"DROP TABLE IF EXISTS {copy} CASCADE")
        cur.execute(f"CREATE TABLE {copy} (LIKE {table})")
        cur.execute(f"ALTER TABLE {copy} ALTER COLUMN v SET STORAGE {storage}")
        cur.execute(f"INSERT INTO {copy} SELECT * FROM {table}")
        cur.execute(f"VACUUM ANALYZE {copy}")
    return copy


def ground_truth(cur, train, query, metric, k):
    ids, x = fetch_matrix(cur, train)
    qids, q = fetch_matrix(cur, query)
    truth = {}
    for s in range(0, len(q), 256):
        d = fmnist.distances(metric, q[s:s + 256], x)
        order = np.argsort(d, axis=1, kind="stable")[:, :k]
        for r, row in enumerate(order):
            truth[int(qids[s + r])] = float(d[r, row[-1]])
    return truth, dict(zip(ids.tolist(), range(len(ids)))), x, dict(zip(qids.tolist(), q))


def recall(cur, sql, truth, k):
    """recall@k counting ties at the k-th true distance as hits."""
    cur.execute(sql)
    hits = 0
    for qid, dist in cur.fetchall():
        hits += dist <= truth[qid] + 1e-6 * (1 + abs(truth[qid]))
    return hits / (k * len(truth))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--dataset", default="fmnist", choices=["fmnist", "cnn256", "cnn256x"])
    ap.add_argument("--index", required=True, help="index definition after USING")
    ap.add_argument("--metric", required=True, choices=sorted(OPS))
    ap.add_argument("--sweep", required=True, help="setting=v1,v2,...")
    ap.add_argument("--workers", default="0", help="max_parallel_maintenance_workers values")
    ap.add_argument("--train", type=int, default=60000)
    ap.add_argument("--queries", type=int, default=1000)
    ap.add_argument("--k", type=int, default=10)
    ap.add_argument("--maintenance-work-mem", default="2GB")
    ap.add_argument("--model-dir",
                    help="directory of fashion_mnist_embed256.onnx (needed for --dataset cnn256; "
                         "the bench scripts pass $VSIM_DATA/models/fashion-mnist-cnn)")
    ap.add_argument("--extra-sql", default="", help="SQL run before the searches")
    ap.add_argument("--storage", default="external", choices=["external", "plain", "main"],
                    help="STORAGE of the vector column (external: the type's default, "
                         "out of line above 2 kB; plain: always in the row)")
    args = ap.parse_args()
    if args.dataset.startswith("cnn256") and not args.model_dir:
        ap.error(f"--dataset {args.dataset} needs --model-dir")

    conn = psycopg2.connect("")
    conn.autocommit = True
    cur = conn.cursor()
    cur.execute("CREATE EXTENSION IF NOT EXISTS vsim")
    train, query = f"bench_{args.dataset}_train", f"bench_{args.dataset}_query"
    if args.dataset == "fmnist":
        load_fmnist(cur, train, "train", args.train)
        load_fmnist(cur, query, "test", args.queries)
    elif args.dataset == "cnn256":
        load_cnn256(cur, train, "train", args.train, args.model_dir)
        load_cnn256(cur, query, "test", args.queries, args.model_dir)
    else:
        load_cnn256x(cur, train, args.train, args.model_dir)
        load_cnn256(cur, query, "test", args.queries, args.model_dir)
    if args.storage != "external":
        train = with_storage(cur, train, args.storage)
    truth, _, _, _ = ground_truth(cur, train, query, args.metric, args.k)

    op = OPS[args.metric]
    cur.execute(f"SET maintenance_work_mem = '{args.maintenance_work_mem}'")
    for w in [int(x) for x in args.workers.split(",")]:
        cur.execute("DROP INDEX IF EXISTS bench_idx")
        cur.execute(f"SET max_parallel_maintenance_workers = {w}")
        cur.execute("CHECKPOINT")
        cpu0 = build_cpu_seconds(cur)
        t = time.time()
        with BuildMemory(cur) as mem:
            cur.execute(f"CREATE INDEX bench_idx ON {train} USING {args.index}")
        build = time.time() - t
        cpu = build_cpu_seconds(cur) - cpu0 if cpu0 is not None else None
        cur.execute("SELECT pg_relation_size('bench_idx')")
        emit(event="build", dataset=args.dataset, index=args.index, storage=args.storage,
             workers=w,
             rows=args.train, seconds=round(build, 2),
             cpu_seconds=round(cpu, 2) if cpu is not None else None, bytes=cur.fetchone()[0],
             peak_build_mb=round(mem.peak / 2**20, 1) if mem.peak is not None else None)

    if args.extra_sql:
        cur.execute(args.extra_sql)
    name, values = args.sweep.split("=")
    lateral = (f"FROM {query} q CROSS JOIN LATERAL (SELECT t.v {op} q.v AS d FROM {train} t "
               f"ORDER BY t.v {op} q.v LIMIT {args.k}) n")
    for value in values.split(","):
        cur.execute(f"SET {name} = {value}")
        cur.execute(f"EXPLAIN (COSTS OFF) SELECT q.id, n.d {lateral}")
        uses_index = "bench_idx" in "\n".join(r[0] for r in cur.fetchall())
        cur.execute(f"SELECT count(*) {lateral}")  # warm the cache
        cpu0 = backend_cpu_seconds(cur)
        cur.execute(f"EXPLAIN (ANALYZE, TIMING OFF, FORMAT JSON) SELECT q.id, n.d {lateral}")
        ms = cur.fetchone()[0][0]["Execution Time"]
        cpu = backend_cpu_seconds(cur) - cpu0 if cpu0 is not None else None
        r = recall(cur, f"SELECT q.id, n.d {lateral}", truth, args.k)
        emit(event="search", dataset=args.dataset, index=args.index, storage=args.storage,
             setting=name,
             value=value, queries=args.queries, k=args.k, uses_index=uses_index,
             **{f"recall@{args.k}": round(r, 4)},
             qps=round(args.queries / (ms / 1000), 1), ms=round(ms, 1),
             cpu_qps=round(args.queries / cpu, 1) if cpu else None)


if __name__ == "__main__":
    main()
