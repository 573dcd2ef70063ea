#!/bin/sh
# Quick start, main job: installs what is missing, builds, and tunes every
# layer of the bundled MobileNetV2 for this CPU (about 90 s), then prints the
# table: chosen knobs, default and tuned time, speed-up, GFLOP/s, share of the
# roofline, and the geometric-mean speed-up. The winners go to the tuning
# database ($SEPTUNE_DB, else ~/.cache/septune/tuning.db). Extra arguments go
# to `septune tune` (e.g. --budget 30 --report roofline.svg).
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
"$top/scripts/setup.sh"
"$top/scripts/build.sh" "$top/build"
exec "$top/build/tuner/septune" tune "$top/models/mobilenet_v2.txt" "$@"
