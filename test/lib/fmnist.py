#!/usr/bin/python3
"""Fashion-MNIST for vsim's demo, tests and benchmarks.

Reads the IDX files of Debian's dataset-fashion-mnist, writes them as a
PostgreSQL binary COPY stream (id int4, label int4, v vector), and computes
brute-force k-nearest-neighbour ground truth with numpy, independently of
the database.

  fmnist.py copy train|test [LIMIT [FIRST_ID]]   binary COPY data on stdout
  fmnist.py knn METRIC K TRAIN_LIMIT TEST_LIMIT
        one line per test image: "qid id:dist id:dist ..." (K nearest
        training images; METRIC is l2, ip, cosine or l1; distances are the
        SQL operator's values)
"""
import gzip
import os
import struct
import sys

import numpy as np

DATA_DIR = os.environ.get("FMNIST_DIR", "/usr/share/datasets/fashion-mnist")
CLASSES = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
           "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"]


def load(split, limit=None):
    """Images as float32 [n, 784] (raw 0..255 pixels) and int labels [n]."""
    prefix = "train" if split == "train" else "t10k"
    with gzip.open(f"{DATA_DIR}/{prefix}-images-idx3-ubyte.gz") as f:
        magic, n, rows, cols = struct.unpack(">IIII", f.read(16))
        assert magic == 2051, "not an IDX image file"
        x = np.frombuffer(f.read(), dtype=np.uint8).reshape(n, rows * cols)
    with gzip.open(f"{DATA_DIR}/{prefix}-labels-idx1-ubyte.gz") as f:
        magic, n2 = struct.unpack(">II", f.read(8))
        assert magic == 2049 and n2 == n, "not a matching IDX label file"
        y = np.frombuffer(f.read(), dtype=np.uint8)
    if limit:
        x, y = x[:limit], y[:limit]
    return x.astype(np.float32), y.astype(np.int32)


# Offsets (dx, dy) of shifted(): every shift of up to 2 pixels each way,
# the smallest first, so that any row count takes the gentlest shifts.
SHIFTS = sorted(((dx, dy) for dx in range(-2, 3) for dy in range(-2, 3)),
                key=lambda s: (abs(s[0]) + abs(s[1]), s))


def shifted(x, shift):
    """Images [n, 784] moved by shift = (dx, dy) pixels (right, down), the
    pixels moved in from outside the image black: a larger data set of
    plausible images, the same for every run."""
    dx, dy = shift
    img = x.reshape(-1, 28, 28)
    out = np.zeros_like(img)
    ys, yd = (slice(0, 28 - dy), slice(dy, 28)) if dy >= 0 else (slice(-dy, 28), slice(0, 28 + dy))
    xs, xd = (slice(0, 28 - dx), slice(dx, 28)) if dx >= 0 else (slice(-dx, 28), slice(0, 28 + dx))
    out[:, yd, xd] = img[:, ys, xs]
    return out.reshape(-1, 784)


def copy_binary(out, x, y, first_id=1):
    """Write rows (id, label, vector) in PostgreSQL's binary COPY format."""
    n, dim = x.shape
    out.write(b"PGCOPY\n\xff\r\n\x00" + struct.pack(">ii", 0, 0))
    vec_len = 4 + 4 * dim
    big = x.astype(">f4")
    for i in range(n):
        out.write(struct.pack(">hiiiiih", 3, 4, first_id + i, 4, int(y[i]),
                              vec_len, dim))
        out.write(b"\x00\x00")
        out.write(big[i].tobytes())
    out.write(struct.pack(">h", -1))


def distances(metric, q, x):
    """Distances [len(q), len(x)] in float64, as the SQL operators define them."""
    q = q.astype(np.float64)
    x = x.astype(np.float64)
    if metric == "l2":
        d = (q * q).sum(1)[:, None] - 2 * q @ x.T + (x * x).sum(1)[None, :]
        return np.sqrt(np.maximum(d, 0))
    if metric == "ip":
        return -(q @ x.T)
    if metric == "cosine":
        qn = np.linalg.norm(q, axis=1)[:, None]
        xn = np.linalg.norm(x, axis=1)[None, :]
        denom = qn * xn
        sim = np.divide(q @ x.T, denom, out=np.zeros_like(denom), where=denom > 0)
        return 1 - np.clip(sim, -1, 1)
    if metric == "l1":
        return np.stack([np.abs(x - row).sum(1) for row in q])
    raise SystemExit(f"unknown metric {metric}")


def knn(metric, k, train_limit, test_limit):
    x, _ = load("train", train_limit)
    q, _ = load("test", test_limit)
    for start in range(0, len(q), 256):
        d = distances(metric, q[start:start + 256], x)
        idx = np.argsort(d, axis=1, kind="stable")[:, :k]
        for r, row in enumerate(idx):
            cells = " ".join(f"{j + 1}:{d[r, j]:.6f}" for j in row)
            print(f"{start + r + 1} {cells}")


def main(argv):
    if len(argv) >= 3 and argv[1] == "copy":
        limit = int(argv[3]) if len(argv) > 3 else None
        first_id = int(argv[4]) if len(argv) > 4 else 1
        x, y = load(argv[2], limit)
        copy_binary(sys.stdout.buffer, x, y, first_id)
    elif len(argv) == 6 and argv[1] == "knn":
        knn(argv[2], int(argv[3]), int(argv[4]), int(argv[5]))
    else:
        raise SystemExit(__doc__)


if __name__ == "__main__":
    main(sys.argv)
