#!/usr/bin/env bash
# scripts/test.sh: the whole test suite.
#
# Installs what is missing, builds vsim, stages a private PostgreSQL with
# vsim in it (build/tmp_install), then runs the pg_regress suite (sql/,
# expected/) and the TAP tests (test/t/*.pl) against throwaway clusters
# owned by the postgres OS user.  Ends with "tests: N passed, M failed" and
# exits non-zero on any failure.
#
# Environment: VSIM_TAP_TESTS limits the TAP files run (e.g. test/t/010_*);
# VSIM_REGRESS_TESTS limits the pg_regress tests run (names from sql/, e.g.
# "hnsw ivf"; "none" runs none); VSIM_DATA is the data directory (models and corpora, default ../shared/data
# beside the checkout) for the tests that need it; they skip without it.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
cd "$VSIM_ROOT"
if vsim_data_dir; then
  log "data directory: $VSIM_DATA_DIR"
else
  log "no data directory (VSIM_DATA is not set, ../shared/data does not exist): the tests that need models and corpora skip"
fi

"$VSIM_ROOT/scripts/setup.sh"
stage_install
# Citus for test/t/090_citus.pl (built once and cached; skipped without its source)
"$VSIM_ROOT/scripts/citus.sh"

PGXS_DIR=$(cd "$(dirname "$("$PG_CONFIG" --pgxs)")/../.." && pwd)
work=$(pg_tempdir test)
passed=0
failed=0

# --- pg_regress -------------------------------------------------------------
tests=${VSIM_REGRESS_TESTS:-$(make -s -C "$VSIM_ROOT" print-regress 2>/dev/null)}
[ "$tests" != none ] || tests=
if [ -n "$tests" ]; then
  log "pg_regress: $(echo "$tests" | wc -w) tests"
  set +e
  as_pg "$PGXS_DIR/src/test/regress/pg_regress" \
    --temp-instance="$work/regress-instance" \
    --temp-config="$VSIM_ROOT/test/regress.conf" \
    --bindir="$STAGE_BINDIR" \
    --inputdir="$VSIM_ROOT" \
    --outputdir="$work/regress" \
    --load-extension=vsim \
    $tests 2>&1 | tee "$work/regress.log"
  rc=${PIPESTATUS[0]}
  set -e
  n_fail=$(grep -cE '\.\.\. FAILED|failed \(ignored\)' "$work/regress.log" || true)
  n_ok=$(grep -cE '\.\.\. ok' "$work/regress.log" || true)
  passed=$((passed + n_ok))
  failed=$((failed + n_fail))
  if [ "$rc" -ne 0 ]; then
    [ "$n_fail" -gt 0 ] || failed=$((failed + 1))
    [ -f "$work/regress/regression.diffs" ] && cat "$work/regress/regression.diffs"
  fi
fi

# --- TAP ----------------------------------------------------------------------
tap=${VSIM_TAP_TESTS:-$(ls test/t/*.pl 2>/dev/null || true)}
if [ -n "$tap" ]; then
  log "TAP: $(echo "$tap" | wc -w) files"
  as_pg mkdir -p "$work/tap"
  set +e
  as_pg env PATH="$STAGE_BINDIR:$PATH" TESTDIR="$work/tap" \
    VSIM_ROOT="$VSIM_ROOT" ${VSIM_DATA_DIR:+"VSIM_DATA=$VSIM_DATA_DIR"} PG_REGRESS="$PGXS_DIR/src/test/regress/pg_regress" \
    prove -I "$PGXS_DIR/src/test/perl" -I "$VSIM_ROOT/test/lib" $tap 2>&1 | tee "$work/tap.log"
  set -e
  files=$(sed -n 's/^Files=\([0-9]*\),.*/\1/p' "$work/tap.log")
  files=${files:-$(echo "$tap" | wc -w)}
  # prove lists each failing file in its summary report as "NAME (Wstat: ...)"
  bad=$(grep -cE '^[^ ]+\.pl +\(Wstat:' "$work/tap.log" || true)
  grep -qE '^Result: (PASS|NOTESTS)' "$work/tap.log" || [ "$bad" -gt 0 ] || bad=$files
  passed=$((passed + files - bad))
  failed=$((failed + bad))
  # the tail of each failing test's own log (its assertions and psql output)
  for t in $(sed -nE 's/^([^ ]+)\.pl +\(Wstat:.*/\1/p' "$work/tap.log"); do
    echo "--- $t.pl: tail of its log"
    tail -n 60 "$work/tap/tmp_check/log/regress_log_$(basename "$t")" 2>/dev/null || true
  done
fi

echo "tests: $passed passed, $failed failed"
# keep the clusters and logs of a failing run for inspection
if [ "$failed" -eq 0 ]; then rm -rf "$work"; else log "logs kept in $work"; fi
[ "$failed" -eq 0 ]
