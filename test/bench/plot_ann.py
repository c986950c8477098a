#!/usr/bin/python3
"""Plot recall against queries per second from annbench.py's JSON lines.

Reads the lines of annbench.py (files named on the command line, or
standard input; other lines are ignored) and draws one panel per data set:
for each index method, quantization mode and table storage, recall@k
against queries/s over the swept hnsw.ef_search or ivfflat.probes (sweeps
of other settings, such as the re-rank depth, are left out).  The x axis
is queries per CPU second of the server process (cpu_qps) when every line
has it, else per wall-clock second; points below --min-recall (0.9) are
left out.  A later line for the same curve and
setting value replaces an earlier one.  Writes the PNG named by --out.
"""
import argparse
import json
import re
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

DATASETS = {"fmnist": "Fashion-MNIST pixels, 784-d, L2",
            "cnn256": "CNN embeddings, 256-d, cosine",
            "cnn256x": "shifted CNN embeddings, 256-d, cosine"}
SWEPT = ("hnsw.ef_search", "ivfflat.probes")


def curve_name(d):
    """'hnsw sq8', 'ivfflat rabitq, rows in the row', ... of one line."""
    method = d["index"].split()[0]
    m = re.search(r"quantization\s*=\s*'?(\w+)", d["index"])
    name = f"{method} {m.group(1) if m else 'none'}"
    if d.get("rows", 0):
        name += f", {d['rows']:,} rows"
    if d.get("storage", "external") != "external":
        name += f", STORAGE {d['storage']}"
    return name


def read(lines):
    curves = {}
    for line in lines:
        line = line.strip()
        if not line.startswith("{"):
            continue
        d = json.loads(line)
        if d.get("event") != "search" or d.get("setting") not in SWEPT:
            continue
        recall = next(v for k, v in d.items() if k.startswith("recall@"))
        key = (d["dataset"], curve_name(d))
        curves.setdefault(key, {})[float(d["value"])] = (recall, d.get("cpu_qps"), d["qps"])
    return curves


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("files", nargs="*")
    ap.add_argument("--out", required=True)
    ap.add_argument("--title", default="recall against queries/s, one curve per index and mode")
    ap.add_argument("--min-recall", type=float, default=0.9)
    args = ap.parse_args()
    lines = []
    for f in args.files or ["-"]:
        lines += (sys.stdin if f == "-" else open(f)).readlines()
    curves = read(lines)
    if not curves:
        sys.exit("plot_ann.py: no search lines of a swept ef_search or probes")
    cpu = all(p[1] for pts in curves.values() for p in pts.values())
    datasets = [ds for ds in DATASETS if any(k[0] == ds for k in curves)]
    fig, axes = plt.subplots(1, len(datasets), figsize=(6.5 * len(datasets), 4.8), squeeze=False)
    for ax, ds in zip(axes[0], datasets):
        for (cds, name), pts in sorted(curves.items()):
            if cds != ds:
                continue
            kept = [p for _, p in sorted(pts.items()) if p[0] >= args.min_recall]
            xs = [p[1] if cpu else p[2] for p in kept]
            ys = [p[0] for p in kept]
            ax.plot(xs, ys, marker="o" if name.startswith("hnsw") else "^",
                    linestyle="-" if "STORAGE" not in name else "--", label=name)
        ax.set_xscale("log")
        ax.set_title(DATASETS[ds])
        ax.set_xlabel("queries per CPU second (log)" if cpu else "queries / s (log)")
        ax.set_ylabel("recall@10")
        ax.grid(True, which="both", alpha=0.3)
        ax.legend(fontsize=8)
    fig.suptitle(args.title)
    fig.tight_layout()
    fig.savefig(args.out, dpi=110)


if __name__ == "__main__":
    main()
