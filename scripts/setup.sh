#!/usr/bin/env bash
# scripts/setup.sh: install everything vsim needs on Debian 12 and build it.
# Idempotent; run as root on a fresh machine (as another user it only
# builds, and says which packages are missing).
set -euo pipefail
. "$(dirname "$0")/lib.sh"

install_packages
"$VSIM_ROOT/scripts/onnxruntime.sh"
build_vsim
