#!/usr/bin/env bash
# scripts/citus.sh: Citus, the distributed PostgreSQL extension, for vsim's
# scale-out tests and benchmarks.
#
#   ./scripts/citus.sh [install]
#
# Verifies the Citus 13.2.2 release source against its SHA-256
# ($VSIM_CITUS_SRC, default ../shared/vendor beside the checkout, holding
# citus-13.2.2.tar.gz, SHA256SUMS and citus-13.2.2-pg15-minor.patch),
# installs its Debian build dependencies (as root), builds it once into a
# cache keyed by those checksums and the PostgreSQL version
# (~/.cache/vsim/citus-<version>-pg<major>-<key>/, a DESTDIR tree), and
# installs it into the staged PostgreSQL the tests use (build/tmp_install).
# A second run only copies from the cache.  Exits 0 with a message when the
# source is absent (the Citus tests then skip).
#
# The patch: current PostgreSQL 15 minor releases export
# have_createdb_privilege(), which Citus 13.2.2 also defines.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
cd "$VSIM_ROOT"

CITUS_VERSION=13.2.2
src=${VSIM_CITUS_SRC:-$VSIM_ROOT/../shared/vendor}
tarball=$src/citus-$CITUS_VERSION.tar.gz
patchfile=$src/citus-$CITUS_VERSION-pg15-minor.patch
if [ ! -f "$tarball" ]; then
  log "citus: no $tarball: the Citus tests skip"
  exit 0
fi

# Verify what we build from: every file SHA256SUMS names.
(cd "$src" && sha256sum --quiet -c SHA256SUMS) || die "citus: checksum mismatch in $src"

pg_version=$("$PG_CONFIG" --version | awk '{print $2}')
key=$(cat "$src/SHA256SUMS" | sha256sum | cut -c1-12)
cache=${XDG_CACHE_HOME:-$HOME/.cache}/vsim/citus-$CITUS_VERSION-pg$pg_version-$key

if [ ! -f "$cache/.complete" ]; then
  VSIM_APT_PACKAGES="build-essential postgresql-server-dev-$PG_MAJOR liblz4-dev libzstd-dev
    libcurl4-openssl-dev libkrb5-dev libssl-dev" install_packages
  build=$(mktemp -d "${TMPDIR:-/tmp}/vsim-citus-build.XXXXXX")
  log "citus: building $CITUS_VERSION for PostgreSQL $pg_version (a few minutes, once)"
  started=$(now)
  tar -xzf "$tarball" -C "$build" --strip-components=1
  (
    cd "$build"
    patch -s -p1 < "$patchfile"
    ./configure -q PG_CONFIG="$PG_CONFIG" >"$build/configure.log" 2>&1 \
      || { tail -n 30 "$build/configure.log" >&2; exit 1; }
    make -s -j"$(nproc)" >"$build/make.log" 2>&1 || { tail -n 30 "$build/make.log" >&2; exit 1; }
    rm -rf "$cache.tmp"
    make -s install DESTDIR="$cache.tmp" >/dev/null
  ) || die "citus: build failed (logs in $build)"
  touch "$cache.tmp/.complete"
  rm -rf "$cache"
  mv "$cache.tmp" "$cache"
  rm -rf "$build"
  log "citus: built in $(elapsed "$started") s, cached in $cache"
fi

# Into the staged PostgreSQL: the same absolute paths under $VSIM_STAGE.
stage_install
cp -a "$cache/." "$VSIM_STAGE/"
rm -f "$VSIM_STAGE/.complete"
chmod -R a+rX "$VSIM_STAGE"
log "citus: installed into $VSIM_STAGE"
