#!/usr/bin/env bash
# Runs every benchmark of a Release build (make bench), one component after another, and keeps
# each one's output in BUILD/bench-results/<component>.txt. The figures go into README's
# performance table and docs/performance*.md. Arguments after the build dir are passed to every
# benchmark (e.g. --benchmark_filter=Grid).
set -euo pipefail
build=${1:-build/release}
shift || true
out="$build/bench-results"
mkdir -p "$out"
for bin in "$build"/bench/*/iocgrid_*_bench; do
  name=$(basename "$bin" _bench)
  name=${name#iocgrid_}
  echo "== $name ($bin)"
  "$bin" "$@" 2>&1 | tee "$out/$name.txt"
done
echo "results in $out/"
