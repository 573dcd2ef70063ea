#!/bin/sh
# Configures and builds septune into build/ (or $1) with warnings as errors.
# Extra arguments after the directory go to cmake's configure step.
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
dir=${1:-"$top/build"}
[ $# -gt 0 ] && shift
cmake -S "$top" -B "$dir" -DSEPTUNE_WERROR=ON "$@" >/dev/null
cmake --build "$dir" -j "$(nproc)"
