#!/bin/sh
# Quick start, main job: installs what is missing, builds, and runs every
# layer of the bundled MobileNetV2 on this CPU (kernel chosen, check against
# the reference, median time, GFLOP/s). Extra arguments go to `septune run`.
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
"$top/scripts/setup.sh"
"$top/scripts/build.sh" "$top/build"
exec "$top/build/tuner/septune" run --model "$top/models/mobilenet_v2.txt" "$@"
