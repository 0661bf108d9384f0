#!/usr/bin/env bash
# STYLE.md section 3 / issue 15: clang-tidy 14 with the checks of .clang-tidy (each one's reason
# is written there) on every source of src/ in the build's compile database; warnings are
# errors. Run by ctest as Style.Tidy and by `make lint`.
#   check-tidy.sh BUILD_DIR [FILE...]   (default: every src/**/*.cc of the compile database)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${1:?usage: check-tidy.sh BUILD_DIR [FILE...]}
shift
build=$(cd "$build" && pwd)
TIDY=${CLANG_TIDY:-$(command -v clang-tidy-14 || command -v clang-tidy || true)}
if [[ -z $TIDY ]]; then
  echo "check-tidy: clang-tidy 14 not found; run scripts/install-deps.sh" >&2
  exit 2
fi
if [[ ! -f $build/compile_commands.json ]]; then
  echo "check-tidy: $build/compile_commands.json missing; configure with cmake --preset first" >&2
  exit 2
fi
if [[ $# -gt 0 ]]; then
  files=("$@")
else
  mapfile -t files < <(python3 -c '
import json, sys
root = sys.argv[2] + "/src/"
seen = sorted({e["file"] for e in json.load(open(sys.argv[1])) if e["file"].startswith(root)})
print("\n".join(seen))' "$build/compile_commands.json" "$root")
fi
jobs=${TIDY_JOBS:-$(nproc 2>/dev/null || echo 2)}
out=$(mktemp)
trap 'rm -f "$out"' EXIT
# One clang-tidy per file, `jobs` at a time; keep only the findings (file:line: warning/error
# lines and the source excerpt after each), not the "N warnings generated" noise.
status=0
printf '%s\n' "${files[@]}" |
  xargs -P "$jobs" -n 1 "$TIDY" -p "$build" --quiet >"$out" 2>&1 || status=$?
if [[ $status != 0 ]]; then
  grep -E -A3 '^/[^ ]+:[0-9]+:[0-9]+: (warning|error)' "$out" | head -200
  echo "check-tidy: findings above (fix them, or explain a new exception in .clang-tidy)"
  exit 1
fi
echo "check-tidy: ${#files[@]} files clean"
