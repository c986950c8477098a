#!/usr/bin/python3
"""knn_check.py: brute-force k-nearest neighbours of sparsevec and bit data,
in plain Python (float64 arithmetic, exact integer bit counts), to check
the database's ORDER BY ... LIMIT k answers.  Used by
test/t/080_sparsevec_bit.pl.

  knn_check.py sparse ITEMS RESULTS   ITEMS: CSV id,sparsevec text ({i:x,...}/dim)
  knn_check.py bits ITEMS RESULTS     ITEMS: CSV id,vector text ([x1,...]),
                                      binary-quantized here (1 where x > 0)

RESULTS holds one line per query and metric: "qid metric id:dist id:dist ..."
(metric: l2 ip cosine l1 for sparse, hamming jaccard for bits; ip is the
<#> value, the negative inner product).  An answer is correct when its k
distances equal the k smallest brute-force distances (ties may pick either
item) and each returned item's brute-force distance equals the one reported.
Prints a JSON object: {"checked": n, "wrong": [first few wrong answers]}.
"""
import csv
import json
import math
import struct
import sys

csv.field_size_limit(1 << 30)


def float4(text):
    """The float4 value a shortest-decimal literal stands for, as a double."""
    return struct.unpack("f", struct.pack("f", float(text)))[0]


def parse_sparse(text):
    body, dim = text.rsplit("/", 1)
    body = body.strip()[1:-1].strip()
    elems = {}
    if body:
        for part in body.split(","):
            i, x = part.split(":")
            elems[int(i)] = float4(x)
    return elems


def sparse_distance(metric, a, b):
    keys = set(a) | set(b)
    if metric == "l2":
        return math.sqrt(sum((a.get(k, 0.0) - b.get(k, 0.0)) ** 2 for k in keys))
    if metric == "l1":
        return sum(abs(a.get(k, 0.0) - b.get(k, 0.0)) for k in keys)
    dot = sum(a[k] * b[k] for k in set(a) & set(b))
    if metric == "ip":
        return -dot
    aa = sum(x * x for x in a.values())
    bb = sum(x * x for x in b.values())
    if aa == 0 or bb == 0:
        return 1.0
    return 1.0 - max(-1.0, min(1.0, dot / math.sqrt(aa * bb)))


def parse_bits(text):
    xs = [float(x) for x in text.strip()[1:-1].split(",")]
    return sum(1 << i for i, x in enumerate(xs) if x > 0)


def bit_distance(metric, a, b):
    if metric == "hamming":
        return float(bin(a ^ b).count("1"))
    either = bin(a | b).count("1")
    return 1.0 if either == 0 else 1.0 - bin(a & b).count("1") / either


def close(x, y):
    return abs(x - y) <= 1e-9 * (1 + abs(y))


def main():
    kind, items_file, results_file = sys.argv[1:4]
    if len(sys.argv) > 4 and sys.argv[4] == "recall":
        return recall(kind, items_file, results_file)
    parse, distance = (parse_sparse, sparse_distance) if kind == "sparse" else (parse_bits, bit_distance)
    with open(items_file, newline="") as f:
        items = {int(r[0]): parse(r[1]) for r in csv.reader(f)}
    checked, wrong = 0, []
    with open(results_file) as f:
        for line in f:
            fields = line.split()
            if not fields:
                continue
            qid, metric = int(fields[0]), fields[1]
            got = [(int(p.split(":")[0]), float(p.split(":")[1])) for p in fields[2:]]
            truth = {i: distance(metric, v, items[qid]) for i, v in items.items()}
            best = sorted(truth.values())[:len(got)]
            ok = len(got) == min(10, len(items)) and all(
                close(d, b) and close(d, truth[i]) for (i, d), b in zip(got, best))
            checked += 1
            if not ok and len(wrong) < 5:
                wrong.append({"query": qid, "metric": metric, "got": got[:10],
                              "truth": sorted(truth.items(), key=lambda t: t[1])[:10]})
    print(json.dumps({"checked": checked, "wrong": wrong}))


def recall(kind, items_file, results_file):
    """recall@k of approximate results: a returned item counts when its true
    distance is within the k-th best (ties count as hits); prints
    {"checked", "recall", "wrong_distance"}"""
    parse, distance = (parse_sparse, sparse_distance) if kind == "sparse" else (parse_bits, bit_distance)
    with open(items_file, newline="") as f:
        items = {int(r[0]): parse(r[1]) for r in csv.reader(f)}
    checked, hits, total, wrong_distance = 0, 0, 0, 0
    with open(results_file) as f:
        for line in f:
            fields = line.split()
            if not fields:
                continue
            qid, metric = int(fields[0]), fields[1]
            got = [(int(p.split(":")[0]), float(p.split(":")[1])) for p in fields[2:]]
            truth = {i: distance(metric, v, items[qid]) for i, v in items.items()}
            k = min(10, len(items))
            kth = sorted(truth.values())[k - 1]
            hits += sum(1 for i, d in got[:k] if i in truth and truth[i] <= kth + 1e-9)
            wrong_distance += sum(1 for i, d in got if i not in truth or not close(d, truth[i]))
            total += k
            checked += 1
    print(json.dumps({"checked": checked, "recall": hits / total if total else 0,
                      "wrong_distance": wrong_distance}))


if __name__ == "__main__":
    main()
