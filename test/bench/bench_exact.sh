#!/usr/bin/env bash
# Exact-scan throughput per storage mode vs memory bandwidth (run by scripts/bench.sh).
exec /usr/bin/python3 "$(dirname "$0")/exact_scan.py" "$@"
