# scripts/lib.sh: shell functions shared by setup.sh, demo.sh and test.sh.
# Source it; it defines functions and a few variables and runs nothing.

VSIM_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
PG_MAJOR=${PG_MAJOR:-15}
PG_CONFIG=${PG_CONFIG:-/usr/lib/postgresql/$PG_MAJOR/bin/pg_config}
# A relative $VSIM_DATA (see vsim_data_dir) is relative to the directory the
# script was started in (scripts cd to $VSIM_ROOT): made absolute here, also
# for the processes the script starts.
case ${VSIM_DATA:-} in '' | /*) ;; *) VSIM_DATA=$PWD/$VSIM_DATA ;; esac
# Where the test suite stages a private copy of PostgreSQL with vsim in it.
VSIM_STAGE=$VSIM_ROOT/build/tmp_install

# Debian packages the build, the tests and the demo need (FastAPI, uvicorn and
# psycopg 3 for the similarity API example's test, test/t/070_similarity_api.pl).
VSIM_APT_PACKAGES="build-essential postgresql-$PG_MAJOR postgresql-server-dev-$PG_MAJOR
  postgresql-client-$PG_MAJOR libipc-run-perl python3 python3-numpy python3-onnx
  python3-psycopg2 python3-sklearn libopenblas0-pthread dataset-fashion-mnist libutf8proc-dev
  ca-certificates libpq-dev pkgconf python3-fastapi python3-uvicorn python3-psycopg
  python3-psycopg-pool"
# Node.js and npm for the client test (test/t/081_node_client.pl): Debian's,
# unless a node with npm is already installed (such as NodeSource's, whose
# nodejs package conflicts with Debian's npm).
command -v npm >/dev/null 2>&1 || VSIM_APT_PACKAGES="$VSIM_APT_PACKAGES nodejs npm"

log() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }
now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.2f", b - a }'; }

# vsim_data_dir: find the data directory (models and corpora: models/,
# corpus/).  It is $VSIM_DATA when that is set (an error, which ends the
# script, when it is not a directory), else ../shared/data beside the
# checkout when that exists.  Sets VSIM_DATA_DIR to its absolute path and
# returns 0, or sets it empty and returns 1 when there is none, so callers
# can skip what needs it:  if vsim_data_dir; then ... "$VSIM_DATA_DIR" ...
# test/lib/VsimTest.pm has the same rule for the TAP tests (vsim_data_dir).
vsim_data_dir() {
  VSIM_DATA_DIR=
  if [ -n "${VSIM_DATA:-}" ]; then
    [ -d "$VSIM_DATA" ] || die "VSIM_DATA=$VSIM_DATA is not a directory"
    VSIM_DATA_DIR=$(cd "$VSIM_DATA" && pwd)
  elif [ -d "$VSIM_ROOT/../shared/data" ]; then
    VSIM_DATA_DIR=$(cd "$VSIM_ROOT/../shared/data" && pwd)
  fi
  [ -n "$VSIM_DATA_DIR" ]
}

# Install missing Debian packages (as root); a no-op when all are present.
install_packages() {
  local missing=() p
  for p in $VSIM_APT_PACKAGES; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' || missing+=("$p")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  [ "$(id -u)" -eq 0 ] || die "missing packages (install them as root): ${missing[*]}"
  log "installing Debian packages: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -q >/dev/null
  apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null
}

# Build the extension in the source tree.
build_vsim() {
  log "building vsim"
  make -C "$VSIM_ROOT" -s -j"$(nproc)" PG_CONFIG="$PG_CONFIG" >/dev/null
}

# Run a command as the PostgreSQL OS user when we are root (PostgreSQL
# refuses to run as root), as ourselves otherwise.
as_pg() {
  if [ "$(id -u)" -eq 0 ]; then
    runuser -u postgres -- env PATH="$PATH" "$@"
  else
    "$@"
  fi
}

# A fresh directory owned by whoever as_pg runs as.
pg_tempdir() {
  local d
  d=$(mktemp -d "${TMPDIR:-/tmp}/vsim-$1.XXXXXX")
  chmod 755 "$d"
  [ "$(id -u)" -eq 0 ] && chown postgres: "$d"
  echo "$d"
}

# Stage PostgreSQL plus vsim under $VSIM_STAGE, the way PostgreSQL's own
# "make check" does: the copied server finds its share and lib directories
# relative to its own binary, so the tests never touch the system install.
stage_install() {
  local bindir sharedir pkglibdir
  bindir=$("$PG_CONFIG" --bindir)
  sharedir=$("$PG_CONFIG" --sharedir)
  pkglibdir=$("$PG_CONFIG" --pkglibdir)
  if [ ! -x "$VSIM_STAGE$bindir/postgres" ]; then
    log "staging a private PostgreSQL $PG_MAJOR under build/tmp_install"
    mkdir -p "$VSIM_STAGE$(dirname "$bindir")" "$VSIM_STAGE$(dirname "$sharedir")"
    cp -a "$(dirname "$bindir")/." "$VSIM_STAGE$(dirname "$bindir")/"
    cp -a "$sharedir" "$VSIM_STAGE$(dirname "$sharedir")/"
  fi
  make -C "$VSIM_ROOT" -s install DESTDIR="$VSIM_STAGE" PG_CONFIG="$PG_CONFIG" >/dev/null
  # test-only modules (test/modules/*: C-level tests of internal APIs),
  # installed into the staged server only, never by "make install"
  local mod
  for mod in "$VSIM_ROOT"/test/modules/*/; do
    [ -f "$mod/Makefile" ] || continue
    make -C "$mod" -s install DESTDIR="$VSIM_STAGE" PG_CONFIG="$PG_CONFIG" >/dev/null
  done
  chmod -R a+rX "$VSIM_ROOT/build"
  STAGE_BINDIR=$VSIM_STAGE$bindir
  STAGE_PKGLIBDIR=$VSIM_STAGE$pkglibdir
}

# Start a throwaway cluster in $1 (a directory as_pg can write) listening
# only on a Unix socket inside it.  Sets PGHOST, PGPORT, PGDATABASE.
# Extra arguments are postgresql.conf lines.
start_cluster() {
  local dir=$1 bindir=$2; shift 2
  as_pg "$bindir/initdb" -D "$dir/data" -A trust -U postgres --no-sync >/dev/null
  {
    echo "listen_addresses = ''"
    echo "unix_socket_directories = '$dir'"
    echo "port = 5432"
    for line in "$@"; do echo "$line"; done
  } | as_pg tee -a "$dir/data/postgresql.conf" >/dev/null
  as_pg "$bindir/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w start >/dev/null \
    || { cat "$dir/server.log" >&2; die "could not start PostgreSQL"; }
  export PGHOST=$dir PGPORT=5432 PGUSER=postgres PGDATABASE=postgres
}

stop_cluster() {
  local dir=$1 bindir=$2
  [ -f "$dir/data/postmaster.pid" ] && as_pg "$bindir/pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null 2>&1
  return 0
}
