#!/usr/bin/env bash
# Checks the include rules of STYLE.md sections 2-3 (run by ctest as Style.IncludeRules):
#  1. a component never includes another component's internal/ headers;
#  2. public headers (src/<c>/*.h) include no third-party headers (json_fwd.hpp is fine);
#  3. a component includes only components its CMake target links (the arrows of
#     src/README.md), checked against the allowed list below;
#  4. only the shared SQLite layer (src/sqlite/) includes sqlite3.h, so no other code calls
#     sqlite3_* (issue 15: one SQLite layer); only the portal's database layer (src/sql/)
#     includes libpq-fe.h.
set -euo pipefail
cd "$(dirname "$0")/../src"
status=0

# 1. internal/ stays inside its component.
while IFS= read -r line; do
  file=${line%%:*}
  comp=${file%%/*}
  inc=$(sed -E 's/.*#include "([^"]+)".*/\1/' <<<"$line")
  if [[ $inc == */internal/* && ${inc%%/*} != "$comp" ]]; then
    echo "check-includes: $file includes another component's internal header $inc"
    status=1
  fi
done < <(grep -rn --include='*.h' --include='*.cc' '#include "[a-z_]*/internal/' . | sed 's|^\./||')

# 2. public headers stay free of third-party headers.
third='boost/|curl/curl.h|sqlite3.h|libpq-fe.h|simdjson.h|hs/hs.h|re2/re2.h|sodium.h|nlohmann/json.hpp|toml\+\+|CLI/|spdlog/|fmt/'
for h in */*.h; do
  [[ $h == app/* ]] && continue  # app is the binary, not a library
  if grep -En "#include <($third)" "$h" >/dev/null; then
    echo "check-includes: public header $h includes a third-party header:"
    grep -En "#include <($third)" "$h"
    status=1
  fi
done

# 3. dependency arrows: component -> components it may include.
declare -A allowed=(
  [common]="common"
  [core]="common core"
  [index]="common core index"
  [ingest]="common core ingest"
  [psi]="common core psi"
  [extract]="common core extract"
  [sqlite]="common sqlite"
  [sql]="common sqlite sql"
  [store]="common core sqlite store"
  [net]="common net"
  [node]="common core index ingest psi store net node"
  [federation]="common core index psi net federation"
  [portal]="common core index ingest extract sift psi net federation sqlite sql portal"
)
for comp in "${!allowed[@]}"; do
  [ -d "$comp" ] || continue
  while IFS= read -r inc; do
    dep=${inc%%/*}
    if [[ " ${allowed[$comp]} " != *" $dep "* ]]; then
      echo "check-includes: $comp includes $inc, but $comp may only use: ${allowed[$comp]}"
      status=1
    fi
  done < <(grep -rhoE '#include "[a-z_]+/[^"]+"' "$comp" | sed -E 's/#include "([^"]+)"/\1/' | sort -u)
done

# 4. SQLite is called from the shared layer only.
while IFS= read -r file; do
  echo "check-includes: $file includes sqlite3.h; only src/sqlite/ may (use sqlite/connection.h)"
  status=1
done < <(grep -rlE '#include <sqlite3(ext)?\.h>' . | sed 's|^\./||' | grep -v '^sqlite/' || true)

# 5. libpq is called from the portal's database layer only.
while IFS= read -r file; do
  echo "check-includes: $file includes libpq-fe.h; only src/sql/ may (use sql/database.h)"
  status=1
done < <(grep -rlE '#include <libpq-fe\.h>' . | sed 's|^\./||' | grep -v '^sql/' || true)

if [ $status -eq 0 ]; then echo "check-includes: OK"; fi
exit $status
