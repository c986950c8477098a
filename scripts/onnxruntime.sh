#!/usr/bin/env bash
# scripts/onnxruntime.sh: fetch ONNX Runtime for vsim's in-database embedding.
#
# Downloads the npm package onnxruntime-node at a pinned version with npm's
# own client (its install scripts are never run), checks the package's and
# the library's SHA-256 against the values below, and puts the x86-64 Linux
# library at build/onnxruntime/libonnxruntime.so.1.  "make install" copies
# it to $(pkglibdir)/vsim/, where the setting vsim.onnxruntime_library looks
# by default.  Idempotent: does nothing when the right file is already there.
# Installs Debian's npm when npm is missing (as root; as another user it
# only warns, and everything but vsim.embed works without the library).
set -euo pipefail
. "$(dirname "$0")/lib.sh"

ORT_VERSION=1.30.0
ORT_PACKAGE_SHA256=6e3390d6b783e7be946fad629292799da28d0b42f84856e50d2c1b0383291e75
ORT_LIBRARY_SHA256=ffb75a925ba05e47b235bb66e3e3911714a80b328a9c9425539feb204aa32a23
ORT_MEMBER=package/bin/napi-v6/linux/x64/libonnxruntime.so.1
dest=$VSIM_ROOT/build/onnxruntime
lib=$dest/libonnxruntime.so.1

sha_ok() { [ -f "$1" ] && echo "$2  $1" | sha256sum --check --status; }

if sha_ok "$lib" "$ORT_LIBRARY_SHA256"; then
  exit 0
fi
[ "$(uname -m)" = x86_64 ] || die "ONNX Runtime: only x86-64 Linux is packaged here (this is $(uname -m))"
if ! command -v npm >/dev/null; then
  if [ "$(id -u)" -ne 0 ]; then
    log "npm is missing (install Debian's npm as root): vsim.embed will lack ONNX Runtime"
    exit 0
  fi
  log "installing Debian's npm"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends npm >/dev/null \
    || { apt-get update -q >/dev/null &&
         DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends npm >/dev/null; }
fi

log "fetching ONNX Runtime $ORT_VERSION (npm package onnxruntime-node)"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
(cd "$tmp" && npm pack --ignore-scripts --silent "onnxruntime-node@$ORT_VERSION" >/dev/null 2>&1) \
  || die "npm pack onnxruntime-node@$ORT_VERSION failed"
tgz=$tmp/onnxruntime-node-$ORT_VERSION.tgz
sha_ok "$tgz" "$ORT_PACKAGE_SHA256" || die "onnxruntime-node-$ORT_VERSION.tgz: SHA-256 mismatch"
tar -xzf "$tgz" -C "$tmp" "$ORT_MEMBER"
sha_ok "$tmp/$ORT_MEMBER" "$ORT_LIBRARY_SHA256" || die "libonnxruntime.so.1: SHA-256 mismatch"
mkdir -p "$dest"
install -m 0755 "$tmp/$ORT_MEMBER" "$lib"
log "ONNX Runtime $ORT_VERSION: $lib"
