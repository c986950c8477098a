#!/usr/bin/env bash
# scripts/fuzz.sh: the long fuzz run of vsim's input functions.
#
#   scripts/fuzz.sh [--inputs N] [--seconds S] [--seed N]
#
# Builds vsim and the driver test/fuzz/vsim_fuzz, starts a throwaway
# cluster of the staged build with the test models of test/embed/models.py
# as its vsim.model_directory, and feeds N inputs in all (default 10^6) to
# the four targets in fixed shares: text (vector_in), binary
# (vector_recv), tokenize (vsim.tokenize) and model (vsim.create_model).
# The whole run takes at most S seconds (default 3600): each target may
# use its share of the time that is left when it starts, and stops early
# when that is used up.  Prints one JSON line of figures per target; exits
# non-zero on the first failure, which the driver prints with the input in
# hex and the command that reproduces it (against this setup: the run
# keeps its directory then); the seed (default 1) makes runs repeatable,
# so the same command line meets the same input again.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
cd "$VSIM_ROOT"

inputs=1000000
seconds=3600
seed=1
while [ $# -gt 0 ]; do
  case $1 in
    --inputs) inputs=$2 ;;
    --seconds) seconds=$2 ;;
    --seed) seed=$2 ;;
    *) die "usage: scripts/fuzz.sh [--inputs N] [--seconds S] [--seed N]" ;;
  esac
  shift 2
done

"$VSIM_ROOT/scripts/setup.sh" >&2
stage_install
make -s -C test/fuzz BUILD="$VSIM_ROOT/build/fuzz" >/dev/null
chmod -R a+rX "$VSIM_ROOT/build/fuzz"

FUZZ_DIR=$(pg_tempdir fuzz)
# kept after a failure: the server log, and the model files of the last case
failed=0
trap 'stop_cluster "$FUZZ_DIR" "$STAGE_BINDIR"
  if [ "$failed" -eq 0 ]; then rm -rf "$FUZZ_DIR"; else log "kept $FUZZ_DIR"; fi' EXIT
as_pg mkdir "$FUZZ_DIR/models"
as_pg /usr/bin/python3 test/embed/models.py gen "$FUZZ_DIR/models"
# ERRORs (most inputs) stay out of the log; crashes and PANICs do not.
start_cluster "$FUZZ_DIR" "$STAGE_BINDIR" "vsim.model_directory = '$FUZZ_DIR/models'" \
  "log_min_messages = log" "jit = off" "synchronous_commit = off"
as_pg "$STAGE_BINDIR/psql" -qX -c \
  "CREATE DATABASE fuzz ENCODING 'UTF8' LC_COLLATE 'C' LC_CTYPE 'C' TEMPLATE template0"

# Shares in per mille of the inputs and of the time, by target.
log "fuzzing: $inputs inputs, at most $seconds s, seed $seed"
deadline=$(($(date +%s) + seconds))
time_left=1000
total=0
for share in "text 450 350" "binary 400 200" "tokenize 146 250" "model 4 200"; do
  set -- $share
  budget=$(((deadline - $(date +%s)) * $3 / time_left))
  time_left=$((time_left - $3))
  rc=0
  figures=$(as_pg env PGDATABASE=fuzz "$VSIM_ROOT/build/fuzz/vsim_fuzz" "$1" \
    --inputs $((inputs * $2 / 1000)) --seconds $((budget > 1 ? budget : 1)) --seed "$seed" \
    --model-dir "$FUZZ_DIR/models" --server-log "$FUZZ_DIR/server.log") || rc=$?
  echo "$figures"
  [ "$rc" -eq 0 ] || { failed=1; die "target $1 failed (the input and how to reproduce it are above)"; }
  total=$((total + $(sed -n 's/.*"inputs": \([0-9]*\),.*/\1/p' <<<"$figures")))
done
log "$total inputs, no failure"
