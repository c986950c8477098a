#!/usr/bin/python3
"""Scale-out benchmark driver: one data set, a single node and Citus shards.

Run by test/bench/bench_citus.sh, which starts the Citus nodes.  Loads the
cnn256x training rows and the 1,000 query rows ONCE into the single node
named by the PG* variables (annbench's loader: the embeddings are computed
there by vsim.embed), computes ground truth with numpy, then for each
configuration:
  - single: the plain single node (one "shard"), HNSW built with
    max_parallel_maintenance_workers = each of --single-workers;
  - S shards (each of --shards): a distributed table of S shards on a
    Citus coordinator and its workers, filled by COPY (binary) from the
    single node; CREATE INDEX on the coordinator builds every shard's
    index (Citus runs them concurrently, one process per shard).
For each: build seconds and index bytes (all shards), then per value of
hnsw.ef_search (--sweep): recall@k and queries/s of the queries one after
another from one client connection (ORDER BY v <=> q LIMIT k, the query
vector a literal), the latency distribution, and where the time goes:
for a sample of queries each shard's query timed directly on its worker
(EXPLAIN ANALYZE's execution time of the shard table's top-k, which is the
query Citus sends) against the coordinator's end-to-end time.
Prints one JSON object per line.
"""
import argparse
import io
import json
import os
import sys
import time

import numpy as np
import psycopg2

sys.path.insert(0, os.path.dirname(__file__))
import annbench  # noqa: E402

INDEX = "hnsw (v vector_cosine_ops) WITH (m = 16, ef_construction = 64)"


def emit(**kw):
    print(json.dumps(kw), flush=True)


def connect(dsn=""):
    c = psycopg2.connect(dsn)
    c.autocommit = True
    return c


def pct(a, p):
    return round(float(np.percentile(np.array(a), p)), 3)


def run_queries(conn, table, queries, truth, k, ef, propagate):
    """All queries in one transaction with SET LOCAL hnsw.ef_search (and
    citus.propagate_set_commands = local on a coordinator, so the shard
    queries see it).  Returns (recall, seconds, per-query ms list)."""
    cur = conn.cursor()
    cur.execute("BEGIN")
    if propagate:
        cur.execute("SET LOCAL citus.propagate_set_commands = local")
    cur.execute(f"SET LOCAL hnsw.ef_search = {int(ef)}")
    sql = f"SELECT v <=> %s::vector FROM {table} ORDER BY v <=> %s::vector LIMIT {k}"
    for qid, q in queries[:20]:                      # warm the caches
        cur.execute(sql, (q, q))
        cur.fetchall()
    hits, lat = 0, []
    t0 = time.perf_counter()
    for qid, q in queries:
        t = time.perf_counter()
        cur.execute(sql, (q, q))
        ds = cur.fetchall()
        lat.append((time.perf_counter() - t) * 1000)
        kth = truth[qid]
        hits += sum(d[0] <= kth + 1e-6 * (1 + abs(kth)) for d in ds)
    secs = time.perf_counter() - t0
    cur.execute("COMMIT")
    return hits / (k * len(queries)), secs, lat


def shard_times(workers, shards, queries, k, ef, sample):
    """Per-query lists of each shard's server-side execution ms (EXPLAIN
    ANALYZE on the worker holding the shard)."""
    out = []
    curs = {}
    for name, host, port in shards:
        if (host, port) not in curs:
            c = workers[(host, port)].cursor()
            c.execute(f"SET hnsw.ef_search = {int(ef)}")
            curs[(host, port)] = c
    for qid, q in queries[:sample]:
        row = []
        for name, host, port in shards:
            c = curs[(host, port)]
            c.execute(f"EXPLAIN (ANALYZE, TIMING OFF, FORMAT JSON) SELECT v <=> %s::vector "
                      f"FROM {name} ORDER BY v <=> %s::vector LIMIT {k}", (q, q))
            row.append(c.fetchone()[0][0]["Execution Time"])
        out.append(row)
    return out


HNSW_BYTES = ("SELECT coalesce(sum(pg_relation_size(i.indexrelid)), 0) FROM pg_index i "
              "JOIN pg_class c ON c.oid = i.indexrelid JOIN pg_am a ON a.oid = c.relam "
              "WHERE i.indrelid = '%s'::regclass AND a.amname = 'hnsw'")


def index_bytes(cur, citus):
    """Bytes of the HNSW index: of every shard's on a coordinator."""
    if citus:
        cur.execute("SELECT sum(result::bigint) FROM run_command_on_shards('bench_items', %s)",
                    (HNSW_BYTES,))
    else:
        cur.execute(HNSW_BYTES % "bench_items")
    return int(cur.fetchone()[0])


def measure(label, conn, shards_n, citus, queries, truth, args, workers=None, shards=None):
    cur = conn.cursor()
    for ef in args.sweep.split(","):
        r, secs, lat = run_queries(conn, "bench_items", queries, truth, args.k, ef, citus)
        rec = dict(event="search", config=label, shards=shards_n, rows=args.train, ef_search=int(ef),
                   queries=len(queries), k=args.k, **{f"recall@{args.k}": round(r, 4)},
                   qps=round(len(queries) / secs, 1), ms_mean=round(secs * 1000 / len(queries), 3),
                   ms_p50=pct(lat, 50), ms_p95=pct(lat, 95), ms_p99=pct(lat, 99),
                   ms_max=round(max(lat), 3))
        if citus and args.sample > 0:
            st = np.array(shard_times(workers, shards, queries, args.k, ef, args.sample))
            rec.update(shard_ms_mean=round(float(st.mean()), 3),
                       shard_max_ms_mean=round(float(st.max(axis=1).mean()), 3),
                       shard_sum_ms_mean=round(float(st.sum(axis=1).mean()), 3),
                       sampled=args.sample)
        elif args.sample > 0:
            tms = []
            for qid, q in queries[:args.sample]:
                cur.execute("BEGIN")
                cur.execute(f"SET LOCAL hnsw.ef_search = {int(ef)}")
                cur.execute(f"EXPLAIN (ANALYZE, TIMING OFF, FORMAT JSON) SELECT v <=> %s::vector "
                            f"FROM bench_items ORDER BY v <=> %s::vector LIMIT {args.k}", (q, q))
                tms.append(cur.fetchone()[0][0]["Execution Time"])
                cur.execute("COMMIT")
            rec.update(shard_ms_mean=round(float(np.mean(tms)), 3), sampled=args.sample)
        emit(**rec)
    if citus:
        cur.execute("SET citus.explain_all_tasks = on")
        q = queries[0][1]
        cur.execute(f"EXPLAIN (ANALYZE, TIMING OFF, SUMMARY ON) SELECT v <=> %s::vector FROM bench_items "
                    f"ORDER BY v <=> %s::vector LIMIT {args.k}", (q, q))
        plan = "\n".join(r[0] for r in cur.fetchall())
        emit(event="explain", config=label, index_scans=plan.count("Index Scan"),
             seq_scans=plan.count("Seq Scan"),
             plan=[ln for ln in plan.split("\n") if "Execution Time" in ln or "Task Count" in ln])


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--train", type=int, default=250000)
    ap.add_argument("--queries", type=int, default=1000)
    ap.add_argument("--k", type=int, default=10)
    ap.add_argument("--model-dir", required=True)
    ap.add_argument("--sweep", default="40,20,80,160", help="hnsw.ef_search values (40: default)")
    ap.add_argument("--single-workers", default="0,1",
                    help="max_parallel_maintenance_workers values for the single node's build")
    ap.add_argument("--shards", default="2,4", help="shard counts of the distributed runs")
    ap.add_argument("--coordinator", required=True, help="libpq conninfo of the coordinator")
    ap.add_argument("--workers", required=True, help="conninfos of the workers, comma separated")
    ap.add_argument("--sample", type=int, default=100,
                    help="queries whose per-shard time is measured on the workers")
    ap.add_argument("--maintenance-work-mem", default="2GB")
    args = ap.parse_args()

    single = connect()
    cur = single.cursor()
    cur.execute("CREATE EXTENSION IF NOT EXISTS vsim")
    train, query = "bench_cnn256x_train", "bench_cnn256_query"
    t = time.time()
    annbench.load_cnn256x(cur, train, args.train, args.model_dir)
    annbench.load_cnn256(cur, query, "test", args.queries, args.model_dir)
    emit(event="loaded", rows=args.train, seconds=round(time.time() - t, 1))
    t = time.time()
    truth, _, _, _ = annbench.ground_truth(cur, train, query, "cosine", args.k)
    emit(event="ground-truth", seconds=round(time.time() - t, 1))
    cur.execute(f"SELECT id, v::text FROM {query} ORDER BY id")
    queries = cur.fetchall()

    # single node: its own copy of the rows under the benchmark's name
    cur.execute("DROP TABLE IF EXISTS bench_items")
    cur.execute(f"CREATE TABLE bench_items AS SELECT * FROM {train}")
    cur.execute("ALTER TABLE bench_items ADD PRIMARY KEY (id)")
    cur.execute("VACUUM ANALYZE bench_items")
    cur.execute(f"SET maintenance_work_mem = '{args.maintenance_work_mem}'")
    for w in [int(x) for x in args.single_workers.split(",") if x != ""]:
        cur.execute("DROP INDEX IF EXISTS bench_items_v_idx")
        cur.execute(f"SET max_parallel_maintenance_workers = {w}")
        cur.execute("CHECKPOINT")
        t = time.time()
        cur.execute(f"CREATE INDEX bench_items_v_idx ON bench_items USING {INDEX}")
        emit(event="build", config="single", shards=1, rows=args.train, workers=w,
             seconds=round(time.time() - t, 2), bytes=index_bytes(cur, False))
    measure("single", single, 1, False, queries, truth, args)
    cur.execute("DROP TABLE bench_items")

    # the rows once, in binary COPY format, for every distributed table
    buf = io.BytesIO()
    cur.copy_expert(f"COPY {train} (id, label, v) TO STDOUT WITH (FORMAT binary)", buf)
    coord = connect(args.coordinator)
    ccur = coord.cursor()
    workers = {}
    for dsn in args.workers.split(","):
        c = connect(dsn)
        p = c.get_dsn_parameters()
        workers[(p["host"], int(p["port"]))] = c
    for s in [int(x) for x in args.shards.split(",") if x != ""]:
        ccur.execute("DROP TABLE IF EXISTS bench_items")
        ccur.execute("CREATE TABLE bench_items (id int PRIMARY KEY, label int, v vector(256))")
        ccur.execute(f"SELECT create_distributed_table('bench_items', 'id', shard_count => {s})")
        buf.seek(0)
        t = time.time()
        ccur.copy_expert("COPY bench_items FROM STDIN WITH (FORMAT binary)", buf)
        copy_s = time.time() - t
        ccur.execute("VACUUM ANALYZE bench_items")
        for c in workers.values():
            c.cursor().execute("CHECKPOINT")
        ccur.execute(f"SET maintenance_work_mem = '{args.maintenance_work_mem}'")
        t = time.time()
        ccur.execute(f"CREATE INDEX bench_items_v_idx ON bench_items USING {INDEX}")
        build = time.time() - t
        ccur.execute("SELECT shard_name, nodename, nodeport FROM citus_shards "
                     "WHERE table_name = 'bench_items'::regclass ORDER BY shardid")
        shards = [(r[0], r[1], int(r[2])) for r in ccur.fetchall()]
        per_node = {}
        for _, h, p in shards:
            per_node[f"{p}"] = per_node.get(f"{p}", 0) + 1
        emit(event="build", config=f"citus-{s}", shards=s, rows=args.train, copy_seconds=round(copy_s, 2),
             seconds=round(build, 2), bytes=index_bytes(ccur, True), shards_per_port=per_node)
        measure(f"citus-{s}", coord, s, True, queries, truth, args, workers, shards)
        ccur.execute("DROP TABLE bench_items")


if __name__ == "__main__":
    main()
