#!/usr/bin/python3
"""Write a one-row, one-column PostgreSQL binary COPY file holding a vector
in its binary form, built byte by byte so tests can make malformed ones.

  binvec.py OUT DIM RESERVED VALUES...   (VALUES are floats; 'nan' allowed)
"""
import struct
import sys

out, dim, reserved, values = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4:]
payload = struct.pack(">hh", dim, reserved) + b"".join(struct.pack(">f", float(v)) for v in values)
with open(out, "wb") as f:
    f.write(b"PGCOPY\n\xff\r\n\x00" + struct.pack(">ii", 0, 0))
    f.write(struct.pack(">hi", 1, len(payload)) + payload)
    f.write(struct.pack(">h", -1))
