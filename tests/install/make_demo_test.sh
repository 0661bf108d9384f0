#!/usr/bin/env bash
# `make demo` builds only what the demo runs (the iocgrid binary), never the test targets;
# `make test` still builds everything. Checked on make's dry run, so nothing is built here.
# Usage: make_demo_test.sh SOURCE_DIR
set -euo pipefail
src=$1
fail() { echo "FAIL: $*" >&2; exit 1; }

demo=$(make -n -C "$src" --no-print-directory demo PRESET=ci JOBS=2)
echo "$demo"
builds=$(grep -E '^cmake --build' <<<"$demo" || true)
[ -n "$builds" ] || fail "make demo runs no cmake --build"
while read -r line; do
  [[ $line == *"--target iocgrid"* ]] || fail "make demo builds more than the binary: $line"
done <<<"$builds"
grep -qE '^(bash )?scripts/demo\.sh build/ci/iocgrid' <<<"$demo" || fail "make demo does not run scripts/demo.sh"

tests=$(make -n -C "$src" --no-print-directory test PRESET=ci JOBS=2)
grep -qE '^cmake --build --preset ci -j 2$' <<<"$tests" || fail "make test no longer builds every target"
grep -qE '^ctest --preset ci' <<<"$tests" || fail "make test no longer runs ctest"
echo "ok: make demo builds --target iocgrid only; make test builds everything"
