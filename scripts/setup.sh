#!/bin/sh
# Installs the Debian packages septune needs, only those that are missing.
#   scripts/setup.sh            build + test dependencies and the peers (XNNPACK, oneDNN)
#   scripts/setup.sh --no-peers without the peers (the benchmarks then skip them)
set -eu

# libclang-rt-14-dev: clang's libFuzzer, ASan and UBSan runtimes, for the fuzz
# targets (cmake -DSEPTUNE_FUZZ=ON with CC=clang; CI runs them).
packages="luajit libluajit-5.1-dev tcc libtcc-dev libcmocka-dev cmake make gcc clang libclang-rt-14-dev binutils pkg-config valgrind"
# septune import reads ONNX with protobuf-c, its C code generated at build
# time from the ONNX schema libonnx-dev installs (onnx/onnx.proto).
packages="$packages libprotobuf-c-dev protobuf-c-compiler libonnx-dev"
# The import tests export real networks with PyTorch (torch.onnx.export of
# torchvision's models, random weights) and build small graphs with onnx.
packages="$packages python3-torch python3-torchvision python3-onnx"
if [ "${1:-}" != "--no-peers" ]; then
  packages="$packages libxnnpack-dev libpthreadpool-dev libdnnl-dev"
fi

missing=""
for p in $packages; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
[ -z "$missing" ] && exit 0

if [ "$(id -u)" -eq 0 ]; then sudo=""; else sudo="sudo"; fi
echo "septune setup: installing$missing" >&2
$sudo apt-get update -q
# shellcheck disable=SC2086
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q --no-install-recommends $missing
