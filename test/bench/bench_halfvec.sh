#!/usr/bin/env bash
# test/bench/bench_halfvec.sh (run by scripts/bench.sh): exact top-10 L2
# scans of 20,000 synthetic 784-d rows stored as vector (default EXTERNAL
# storage, out of line), vector with PLAIN storage (inline), and halfvec
# (inline: 1,572 bytes), with the kernels vsim.distance_kernel picks (auto)
# and with the portable ones; one process.  One JSON line per case: median
# of 5 runs in ms (a whole psql call, connection included), the table's
# total size, and the mean stored bytes per row.
set -euo pipefail
. "$(dirname "$0")/../../scripts/lib.sh"
psql -X -q -v ON_ERROR_STOP=1 <<SQL
CREATE EXTENSION IF NOT EXISTS vsim;
DROP TABLE IF EXISTS bench_hv_vector, bench_hv_plain, bench_hv_half;
CREATE TABLE bench_hv_vector AS
  SELECT i AS id, array(SELECT sin(i * 0.37 + j) FROM generate_series(1, 784) j)::vector(784) AS v
  FROM generate_series(1, 20000) i;
CREATE TABLE bench_hv_plain (id int, v vector(784));
ALTER TABLE bench_hv_plain ALTER v SET STORAGE PLAIN;
INSERT INTO bench_hv_plain SELECT * FROM bench_hv_vector;
CREATE TABLE bench_hv_half AS SELECT id, v::halfvec(784) AS v FROM bench_hv_vector;
VACUUM ANALYZE bench_hv_vector;
VACUUM ANALYZE bench_hv_plain;
VACUUM ANALYZE bench_hv_half;
SQL
for kernel in auto portable; do
  for rep in "bench_hv_vector:vector" "bench_hv_plain:vector" "bench_hv_half:halfvec"; do
    table=${rep%%:*} type=${rep##*:}
    times=()
    for run in 1 2 3 4 5; do
      t0=$(now)
      psql -X -q -At -c "SET max_parallel_workers_per_gather = 0; SET vsim.distance_kernel = $kernel;
        SELECT count(*) FROM (SELECT t.id FROM $table t,
          (SELECT v AS q FROM $table WHERE id = $run) x ORDER BY t.v <-> x.q LIMIT 10) s" >/dev/null
      times+=("$(awk -v a="$t0" -v b="$(now)" 'BEGIN { print (b - a) * 1000 }')")
    done
    median=$(printf '%s\n' "${times[@]}" | sort -g | sed -n 3p)
    size=$(psql -X -At -c "SELECT pg_total_relation_size('$table')")
    bytes=$(psql -X -At -c "SELECT round(avg(pg_column_size(v))) FROM $table")
    printf '{"benchmark": "halfvec_exact_top10", "rows": 20000, "dims": 784, "table": "%s", "type": "%s", "kernel": "%s", "median_ms": %.1f, "total_bytes": %s, "bytes_per_row": %s}\n' \
      "$table" "$type" "$kernel" "$median" "$size" "$bytes"
  done
done
psql -X -q -c "DROP TABLE bench_hv_vector, bench_hv_plain, bench_hv_half"
