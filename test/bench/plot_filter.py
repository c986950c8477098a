#!/usr/bin/python3
"""Plot the filtered-search benchmark (test/bench/bench_filter.sh).

Reads its JSON lines (files named on the command line, or standard input;
other lines are ignored) and draws, for each filter case (10%, 1%, 0.1%,
another class), recall@10 against queries per second for every method:
the hnsw index with filter columns, the plain hnsw index with the iterative
scan, the ivfflat index with filter columns (plain and sq8) and exact search
with a btree.  A later line for the same case, method and setting replaces
an earlier one.  Writes the PNG named by --out.
"""
import argparse
import json
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

CASES = ["10%", "1%", "0.1%", "other class"]
# (label, method in the JSON, settings kept (None: all), marker)
SERIES = [
    ("hnsw, filter columns", "filtered", lambda s: "filter_walk_limit=1" not in s, "o"),
    ("hnsw, iterative scan", "iterative", None, "s"),
    ("ivfflat, filter columns", "ivfflat", None, "^"),
    ("ivfflat sq8, filter columns", "ivfflat sq8", None, "v"),
    ("exact (btree + sort)", "exact (btree + sort)", None, "*"),
]


def read(lines):
    points = {}
    for line in lines:
        line = line.strip()
        if not line.startswith("{"):
            continue
        d = json.loads(line)
        if d.get("benchmark") != "filter" or "recall" not in d:
            continue
        points[(d["case"], d["method"], d.get("setting", ""))] = d
    return points


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("files", nargs="*")
    ap.add_argument("--out", required=True)
    args = ap.parse_args()
    lines = []
    for f in args.files or ["-"]:
        lines += (sys.stdin if f == "-" else open(f)).readlines()
    points = read(lines)
    if not points:
        sys.exit("plot_filter: no filter benchmark lines in the input")
    fig, axes = plt.subplots(1, len(CASES), figsize=(16, 4.2), sharey=True)
    for ax, case in zip(axes, CASES):
        for label, method, keep, marker in SERIES:
            pts = sorted((d["qps"], d["recall"]) for (c, m, s), d in points.items()
                         if c == case and m == method and (keep is None or keep(s)))
            if pts:
                ax.plot([p[0] for p in pts], [p[1] for p in pts], marker=marker,
                        linestyle="-" if len(pts) > 1 else "", label=label)
        ax.set_xscale("log")
        ax.set_title(f"filter keeps {case}" if case != "other class"
                     else "another class (correlated)")
        ax.set_xlabel("queries / s (log)")
        ax.grid(True, which="both", alpha=0.3)
    axes[0].set_ylabel("recall@10")
    axes[0].legend(loc="lower left", fontsize=8)
    fig.suptitle("Filtered search, 60,000 CNN-256 Fashion-MNIST embeddings, 200 queries")
    fig.tight_layout()
    fig.savefig(args.out, dpi=110)


if __name__ == "__main__":
    main()
