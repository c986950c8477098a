#!/usr/bin/python3
"""Backfill records for the load test: JSON lines for POST /backfill.

    backfill_data.py BASE.csv COPIES SIGMA > backfill.jsonl

BASE.csv (CSV, no header: id, label, text, embedding) holds the AG News
items with the embeddings the database computed for them (vsim.embed).
Copy 0 is those items as they are; copies 1..COPIES-1 are the same texts
with each embedding moved by Gaussian noise of norm about SIGMA and
normalised again, so that the table reaches COPIES x 7,600 rows whose
vectors are spread around the real ones as a larger corpus would be (at
SIGMA 0.3 a copy's cosine similarity to its original is about 0.96).  The
noise comes from a fixed seed: the same file every time.  Record ids are
copy * items + the item's id (0-based), as strings.
"""
import csv
import json
import sys

import numpy as np


def main(base, copies, sigma):
    with open(base, encoding="utf-8", newline="") as f:
        rows = list(csv.reader(f))
    ids = [int(r[0]) for r in rows]
    labels = [int(r[1]) for r in rows]
    texts = [r[2] for r in rows]
    vectors = np.array([json.loads(r[3]) for r in rows], dtype=np.float64)
    n, dims = vectors.shape
    rng = np.random.default_rng(20261202)
    out = sys.stdout
    for copy in range(copies):
        v = vectors
        if copy:
            v = vectors + rng.standard_normal((n, dims)) * (sigma / np.sqrt(dims))
            v /= np.linalg.norm(v, axis=1, keepdims=True)
        # 7 decimals (elements of unit vectors are mostly 0.01-0.3): short JSON,
        # and within the precision of the float4 the column keeps
        v = np.round(v, 7).tolist()
        for i in range(n):
            out.write(json.dumps({"id": str(copy * n + ids[i]), "description": texts[i],
                                  "metadata": {"label": labels[i], "copy": copy},
                                  "embedding": v[i]}, separators=(",", ":")) + "\n")


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]), float(sys.argv[3]))
