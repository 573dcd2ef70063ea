#!/bin/sh
# One short, reproducible fuzzing run (ctest -L fuzz in a SEPTUNE_FUZZ build):
#   run_fuzz.sh FUZZER CORPUS WORKDIR RUNS [DICTIONARY]
# libFuzzer runs every file of CORPUS, then RUNS mutated inputs from a fixed
# seed. The inputs it finds go to WORKDIR/new (never into the source tree);
# an input that crashes, leaks or times out is saved in WORKDIR/artifacts/
# and fails the test (README.md, "Fuzzing", says how to minimise it and keep
# it as a regression input).
set -eu
fuzzer=$1 corpus=$2 work=$3 runs=$4 dict=${5:-}
rm -rf "$work/new"
mkdir -p "$work/new" "$work/artifacts"
set -- -runs="$runs" -seed=1 -timeout=60 -print_final_stats=1 -artifact_prefix="$work/artifacts/"
[ -n "$dict" ] && set -- "$@" -dict="$dict"
exec "$fuzzer" "$@" "$work/new" "$corpus"
