#!/usr/bin/python3
"""Exact-scan throughput of vsim over the Fashion-MNIST training set.

For each column storage mode (PLAIN, EXTERNAL = the type's default, MAIN,
EXTENDED) loads the 60,000 training images, runs --queries exact top-10
searches in one server-side LATERAL join (EXPLAIN ANALYZE execution time)
without parallel workers, and prints queries/s and GB/s of vector data
scanned.  In the same run it measures this machine's single-thread
memory-read bandwidth (membw.c) and prints the ratio.  JSON lines.
"""
import argparse
import io
import json
import os
import subprocess
import sys
import tempfile
import time

import psycopg2

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
import fmnist  # noqa: E402


def emit(**kw):
    print(json.dumps(kw), flush=True)


def memory_bandwidth():
    here = os.path.dirname(os.path.abspath(__file__))
    with tempfile.TemporaryDirectory() as d:
        exe = os.path.join(d, "membw")
        subprocess.run(["cc", "-O2", "-o", exe, os.path.join(here, "membw.c")], check=True)
        return float(subprocess.run([exe], check=True, capture_output=True, text=True).stdout)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--queries", type=int, default=50)
    ap.add_argument("--storage", default="plain,external,main,extended")
    args = ap.parse_args()

    conn = psycopg2.connect("")
    conn.autocommit = True
    cur = conn.cursor()
    cur.execute("CREATE EXTENSION IF NOT EXISTS vsim")
    cur.execute("SET max_parallel_workers_per_gather = 0")
    x, y = fmnist.load("train")
    q, qy = fmnist.load("test", args.queries)
    cur.execute("DROP TABLE IF EXISTS scan_query")
    cur.execute("CREATE TABLE scan_query (id int, label int, v vector(784))")
    buf = io.BytesIO()
    fmnist.copy_binary(buf, q, qy)
    buf.seek(0)
    cur.copy_expert("COPY scan_query FROM STDIN WITH (FORMAT binary)", buf)
    vector_bytes = x.shape[0] * x.shape[1] * 4

    mem = memory_bandwidth()
    emit(event="memory_bandwidth", gb_per_s=mem)
    for storage in args.storage.split(","):
        cur.execute("DROP TABLE IF EXISTS scan_train")
        cur.execute("CREATE TABLE scan_train (id int, label int, v vector(784))")
        cur.execute(f"ALTER TABLE scan_train ALTER v SET STORAGE {storage}")
        buf = io.BytesIO()
        fmnist.copy_binary(buf, x, y)
        buf.seek(0)
        t = time.time()
        cur.copy_expert("COPY scan_train FROM STDIN WITH (FORMAT binary)", buf)
        load_s = time.time() - t
        cur.execute("VACUUM ANALYZE scan_train")
        cur.execute("SELECT pg_table_size('scan_train')")
        size = cur.fetchone()[0]
        sql = ("SELECT q.id, n.id FROM scan_query q CROSS JOIN LATERAL (SELECT t.id FROM scan_train t "
               "ORDER BY t.v <-> q.v LIMIT 10) n")
        cur.execute(f"SELECT count(*) FROM ({sql}) s")  # warm the cache
        cur.execute(f"EXPLAIN (ANALYZE, TIMING OFF, FORMAT JSON) {sql}")
        ms = cur.fetchone()[0][0]["Execution Time"]
        qps = args.queries / (ms / 1000)
        gbps = vector_bytes * qps / 1e9
        emit(event="exact_scan", storage=storage, rows=len(x), dims=x.shape[1],
             table_bytes=size, load_s=round(load_s, 2), queries=args.queries,
             qps=round(qps, 2), vector_gb_per_s=round(gbps, 2),
             ratio_to_memory_bandwidth=round(gbps / mem, 3))


if __name__ == "__main__":
    main()
