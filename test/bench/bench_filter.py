#!/usr/bin/python3
"""Filtered vector search benchmark (issue 14).

The 256-d CNN embeddings of Fashion-MNIST (annbench's cnn256 data set) with
an uncorrelated attribute, a hash of the row id into 10, 100 and 1000
buckets (10%, 1% and 0.1% of the rows), and a correlated one, the class
(filtered to a class other than the query's).  For each filter, recall@10
and queries/s of:

  filtered  the hnsw index with the filter columns (the filter applied
            during the graph walk), per hnsw.ef_search and
            hnsw.filter_walk_limit (1: the graph walk alone; below, the
            share of the elements after which it reads them all, through
            the filter directory, which it also switches to as soon as
            that is expected to be cheaper than the walk)
  iterative the plain hnsw index with hnsw.iterative_scan = relaxed_order,
            the filter applied to the rows it returns, per
            hnsw.max_scan_tuples (20,000 is the default)
  ivfflat   the ivfflat index with the same filter columns (the filter
            tested on each list item before its distance; lists beyond
            ivfflat.probes read until ivfflat.filter_candidates rows
            match), per ivfflat.probes, unquantized and with sq8
  exact     a btree on the filter column, the distances of the rows it
            finds and a sort (the ground truth)

Each figure times ONE server-side LATERAL join over the query table
(EXPLAIN ANALYZE's execution time), as annbench.py does; buffers is the
mean shared buffer hits per query, a measure of the elements visited.  One
JSON object per line.
"""
import argparse
import json
import os
import sys
import time

import psycopg2

sys.path.insert(0, os.path.dirname(__file__))
import annbench  # noqa: E402

CASES = [
    ("10%", "t.b10 = q.id % 10"),
    ("1%", "t.b100 = q.id % 100"),
    ("0.1%", "t.b1000 = q.id % 1000"),
    ("other class", "t.label = (q.label + 1) % 10"),
]
K = 10


def lateral(cond):
    return (f"SELECT q.id AS qid, n.id, n.d FROM bf_test q CROSS JOIN LATERAL ("
            f"SELECT t.id, t.v <=> q.v AS d FROM bf_train t WHERE {cond} "
            f"ORDER BY t.v <=> q.v LIMIT {K}) n")


def run(cur, cond, settings):
    cur.execute("RESET ALL")
    for s in settings:
        cur.execute(s)
    cur.execute("EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) " + lateral(cond))
    plan = cur.fetchone()[0][0]
    ms = plan["Execution Time"]
    hits = plan["Plan"].get("Shared Hit Blocks", 0)
    cur.execute(lateral(cond))
    res = {}
    for qid, id_, d in cur.fetchall():
        res.setdefault(qid, []).append((id_, d))
    cur.execute("EXPLAIN (COSTS OFF) " + lateral(cond))
    shape = " ".join(r[0].strip() for r in cur.fetchall())
    return ms, hits, res, shape


def btrees(cur, create):
    """The btrees on the filter columns (only the exact and the planner's
    runs have them, so that the forced runs use the hnsw index)."""
    for col in ("b10", "b100", "b1000", "label"):
        if create:
            cur.execute(f"CREATE INDEX bf_{col} ON bf_train ({col})")
        else:
            cur.execute(f"DROP INDEX bf_{col}")
    cur.execute("ANALYZE bf_train")


def recall(truth, res):
    hit = total = 0
    for qid, rows in truth.items():
        kth = rows[-1][1] if len(rows) == K else float("inf")
        got = res.get(qid, [])[:K]
        hit += sum(1 for _, d in got if d <= kth + 1e-6 * (1 + abs(kth)))
        total += len(rows)
    return hit / total if total else 0


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=60000)
    ap.add_argument("--queries", type=int, default=200)
    ap.add_argument("--model-dir", required=True)
    ap.add_argument("--ef", default="10,40")
    ap.add_argument("--walk-limit", default="1,0.1")
    ap.add_argument("--max-scan-tuples", default="20000,100000")
    ap.add_argument("--probes", default="5,10,20")
    ap.add_argument("--lists", type=int, default=245)
    ap.add_argument("--methods", default="filtered,iterative,ivfflat,ivfflat sq8",
                    help="which index methods to run (comma-separated)")
    args = ap.parse_args()
    conn = psycopg2.connect("")
    conn.autocommit = True
    cur = conn.cursor()
    cur.execute("CREATE EXTENSION IF NOT EXISTS vsim")
    annbench.load_cnn256(cur, "cnn_train", "train", args.rows, args.model_dir)
    annbench.load_cnn256(cur, "cnn_test", "test", args.queries, args.model_dir)
    cur.execute("DROP TABLE IF EXISTS bf_train, bf_test")
    cur.execute("""CREATE TABLE bf_train AS SELECT id, label, v,
        (hashint4(id)::int8 & 2147483647) % 10 AS b10,
        (hashint4(id)::int8 & 2147483647) % 100 AS b100,
        (hashint4(id)::int8 & 2147483647) % 1000 AS b1000 FROM cnn_train""")
    cur.execute("CREATE TABLE bf_test AS SELECT id, label, v FROM cnn_test")
    cur.execute("VACUUM ANALYZE bf_train")
    btrees(cur, True)
    cur.execute("ANALYZE bf_test")

    truth = {}
    for name, cond in CASES:
        ms, hits, res, shape = run(cur, cond, ["SET enable_indexscan = off"])
        truth[name] = res
        annbench.emit(benchmark="filter", case=name, method="exact (btree + sort)",
                      recall=1.0, qps=round(args.queries / ms * 1000, 1),
                      buffers=round(hits / args.queries), plan=shape[:120])

    btrees(cur, False)
    methods = args.methods.split(",")
    ivf_builds = [
        ("ivfflat", f"ivfflat (v vector_cosine_ops, b10, b100, b1000, label) "
                    f"WITH (lists = {args.lists})"),
        ("ivfflat sq8", f"ivfflat (v vector_cosine_ops, b10, b100, b1000, label) "
                        f"WITH (lists = {args.lists}, quantization = sq8)"),
    ]
    for method, idx in ivf_builds:
        if method not in methods:
            continue
        cur.execute("DROP INDEX IF EXISTS bf_ivf")
        t = time.time()
        cur.execute(f"CREATE INDEX bf_ivf ON bf_train USING {idx}")
        cur.execute("SELECT pg_relation_size('bf_ivf')")
        annbench.emit(event="build", method=method, seconds=round(time.time() - t, 1),
                      bytes=cur.fetchone()[0])
        force = ["SET enable_seqscan = off", "SET enable_bitmapscan = off"]
        for name, cond in CASES:
            for probes in args.probes.split(","):
                ms, hits, res, shape = run(cur, cond, force + [f"SET ivfflat.probes = {probes}"])
                full = sum(1 for q in truth[name] if len(res.get(q, [])) >= len(truth[name][q]))
                annbench.emit(benchmark="filter", case=name, method=method,
                              setting=f"probes={probes}",
                              recall=round(recall(truth[name], res), 4),
                              qps=round(args.queries / ms * 1000, 1),
                              buffers=round(hits / args.queries),
                              full_limit=f"{full}/{len(truth[name])}",
                              ivfflat="bf_ivf" in shape)
        if method == "ivfflat":
            # what the planner picks on its own, with the btrees there
            btrees(cur, True)
            for name, cond in CASES:
                ms, hits, res, shape = run(cur, cond, ["SET ivfflat.probes = 10"])
                annbench.emit(benchmark="filter", case=name, method="planner's choice (ivfflat)",
                              recall=round(recall(truth[name], res), 4),
                              qps=round(args.queries / ms * 1000, 1),
                              uses_ivfflat="bf_ivf" in shape)
            btrees(cur, False)
    cur.execute("DROP INDEX IF EXISTS bf_ivf")
    builds = [
        ("filtered", "hnsw (v vector_cosine_ops, b10, b100, b1000, label) "
                     "WITH (m = 16, ef_construction = 64)"),
        ("iterative", "hnsw (v vector_cosine_ops) WITH (m = 16, ef_construction = 64)"),
    ]
    for method, idx in builds:
        if method not in methods:
            continue
        cur.execute("DROP INDEX IF EXISTS bf_hnsw")
        t = time.time()
        cur.execute(f"CREATE INDEX bf_hnsw ON bf_train USING {idx}")
        cur.execute("SELECT pg_relation_size('bf_hnsw')")
        annbench.emit(event="build", method=method, seconds=round(time.time() - t, 1),
                      bytes=cur.fetchone()[0])
        force = ["SET enable_seqscan = off", "SET enable_bitmapscan = off"]
        if method == "filtered":
            # elements visited without a filter, for the ef / s rule
            for ef in args.ef.split(","):
                ms, hits, res, shape = run(cur, "true", force + [f"SET hnsw.ef_search = {ef}"])
                annbench.emit(benchmark="filter", case="no filter", method=method,
                              setting=f"ef_search={ef}", qps=round(args.queries / ms * 1000, 1),
                              buffers=round(hits / args.queries))
        for name, cond in CASES:
            if method == "filtered":
                sweep = [(f"ef_search={ef} filter_walk_limit={lim}",
                          [f"SET hnsw.ef_search = {ef}", f"SET hnsw.filter_walk_limit = {lim}"])
                         for ef in args.ef.split(",") for lim in args.walk_limit.split(",")]
            else:
                sweep = [(f"max_scan_tuples={m}",
                          ["SET hnsw.iterative_scan = relaxed_order",
                           f"SET hnsw.max_scan_tuples = {m}"])
                         for m in args.max_scan_tuples.split(",")]
            for label, settings in sweep:
                ms, hits, res, shape = run(cur, cond, force + settings)
                full = sum(1 for q in truth[name] if len(res.get(q, [])) >= len(truth[name][q]))
                annbench.emit(benchmark="filter", case=name, method=method, setting=label,
                              recall=round(recall(truth[name], res), 4),
                              qps=round(args.queries / ms * 1000, 1),
                              buffers=round(hits / args.queries),
                              full_limit=f"{full}/{len(truth[name])}",
                              hnsw="bf_hnsw" in shape)
        if method == "filtered":
            # what the planner picks on its own, with the btrees there
            btrees(cur, True)
            for name, cond in CASES:
                ms, hits, res, shape = run(cur, cond, [])
                annbench.emit(benchmark="filter", case=name, method="planner's choice",
                              recall=round(recall(truth[name], res), 4),
                              qps=round(args.queries / ms * 1000, 1),
                              uses_hnsw="bf_hnsw" in shape)
            btrees(cur, False)
    cur.execute("DROP TABLE bf_train, bf_test")


if __name__ == "__main__":
    main()
