#!/usr/bin/python3
"""Write a one-row, one-column PostgreSQL binary COPY file holding a vector
in its binary form, built byte by byte so tests can make malformed ones.

  binvec.py OUT DIM RESERVED VALUES...   (VALUES are floats; 'nan' allowed)
  binvec.py OUT --half DIM RESERVED VALUES...   (halfvec: binary16 elements)
"""
import struct
import sys

args = sys.argv[1:]
elem = ">f"
if len(args) > 1 and args[1] == "--half":
    elem = ">e"
    del args[1]
out, dim, reserved, values = args[0], int(args[1]), int(args[2]), args[3:]
payload = struct.pack(">hh", dim, reserved) + b"".join(struct.pack(elem, float(v)) for v in values)
with open(out, "wb") as f:
    f.write(b"PGCOPY\n\xff\r\n\x00" + struct.pack(">ii", 0, 0))
    f.write(struct.pack(">hi", 1, len(payload)) + payload)
    f.write(struct.pack(">h", -1))
