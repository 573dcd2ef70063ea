#!/bin/sh
# test_rt_exports.sh — libseptune_rt.so exports exactly the functions
# septune.h declares (nothing internal, nothing missing) and carries the
# versioned SONAME.
# Run by ctest (tests/cmake/shared.cmake):
#   test_rt_exports.sh LIBRARY INCLUDE_DIR C_COMPILER NM READELF SONAME
set -eu

lib=$1 include=$2 cc=$3 nm=$4 readelf=$5 soname=$6
tmp=$(mktemp -d "${TMPDIR:-/tmp}/septune-exports.XXXXXX")
trap 'rm -rf "$tmp"' EXIT

# The API: every name followed by "(" in the preprocessed header (comments
# gone). System headers declare nothing named septune_*.
"$cc" -E -P -I "$include" "$include/septune.h" | grep -oE '\bseptune_[a-z0-9_]+ *\(' | tr -d ' (' | sort -u > "$tmp/api"
"$nm" -D --defined-only "$lib" | awk '{ print $NF }' | grep -v '^_' | sort -u > "$tmp/exported"

count=$(wc -l < "$tmp/api")
[ "$count" -gt 20 ] || { echo "test_rt_exports: only $count functions found in septune.h" >&2; exit 1; }
if ! diff -u "$tmp/api" "$tmp/exported" > "$tmp/diff"; then
  echo "test_rt_exports: $lib does not export exactly septune.h (- declared only, + exported only):" >&2
  cat "$tmp/diff" >&2
  exit 1
fi
echo "exports: the $count functions of septune.h, nothing else"

got=$("$readelf" -d "$lib" | sed -n 's/.*Library soname: \[\(.*\)\].*/\1/p')
[ "$got" = "$soname" ] || { echo "test_rt_exports: SONAME is '$got', expected '$soname'" >&2; exit 1; }
echo "SONAME: $got"
