#!/usr/bin/env bash
# STYLE.md section 3 / issue 15: every C++ source of the project is clang-format 14 clean
# (.clang-format at the root). Run by ctest as Style.Format; `make format` rewrites in place.
#   check-format.sh          check, print each offending file and the first differing lines
#   check-format.sh --fix    reformat in place
set -euo pipefail
cd "$(dirname "$0")/.."
CLANG_FORMAT=${CLANG_FORMAT:-$(command -v clang-format-14 || command -v clang-format || true)}
if [[ -z $CLANG_FORMAT ]]; then
  echo "check-format: clang-format 14 not found; run scripts/install-deps.sh" >&2
  exit 2
fi
mapfile -t files < <(find src tests bench fuzz -type f \( -name '*.cc' -o -name '*.h' \) \
  -not -path '*/node_modules/*' | sort)
if [[ ${1:-} == --fix ]]; then
  "$CLANG_FORMAT" -i "${files[@]}"
  exit 0
fi
# One process for every file; clang-format names each offending line.
if out=$("$CLANG_FORMAT" --dry-run -Werror "${files[@]}" 2>&1); then
  echo "check-format: ${#files[@]} files clean"
  exit 0
fi
echo "check-format: not clang-format clean (run: make format):"
grep -E '^[^ ]+:[0-9]+:[0-9]+: error' <<<"$out" | cut -d: -f1,2 | head -40
exit 1
