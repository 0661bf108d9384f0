#!/usr/bin/env bash
# Runs every libFuzzer target for a bounded time (docs/fuzzing.md); `make fuzz` calls it after
# building the fuzz preset.
#   fuzz/run_fuzzers.sh BUILD_DIR [TARGET...]     (default: every target below)
# Environment:
#   FUZZ_SECONDS=30     time per target (-max_total_time)
#   FUZZ_RSS_MB=2048    memory cap per target (-rss_limit_mb)
#   FUZZ_KEEP_GOING=1   fork mode that keeps fuzzing after a crash (-fork=1 -ignore_crashes=1)
# The seed corpus fuzz/corpus/<t>/ is read, never written: new inputs go to
# BUILD_DIR/fuzz-work/<t>/corpus, crashes to BUILD_DIR/fuzz-work/<t>/crash-*. Exit status 1 when
# any target crashed, leaked, ran out of memory or timed out.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
build=${1:?usage: fuzz/run_fuzzers.sh BUILD_DIR [TARGET...]}
shift
seconds=${FUZZ_SECONDS:-30}
rss_mb=${FUZZ_RSS_MB:-2048}

# target  max_len  dictionary (fuzz/dict/<name>.dict, - for none)
table="
extractor      65536 indicators
misp_event     65536 json
misp_feed      32768 json
text_feed      16384 indicators
stix           32768 json
query_reader   16384 indicators
search_params  16384 json
grid_request   16384 json
member_reply   32768 json
portal_config   8192 toml
search_request 32768 json
sift_upload    32768 http
combined_log   16384 http
json_log       16384 json
eve_log        16384 json
modsec_log     32768 http
zeek_log       16384 indicators
csv_log        16384 indicators
http_request   20000 http
psi_frame       4096 -
distinct_sketch 16400 -
staged_sightings 4096 -
"
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
  mapfile -t targets < <(awk 'NF {print $1}' <<<"$table")
fi

failed=()
for t in "${targets[@]}"; do
  read -r _ max_len dict < <(awk -v t="$t" '$1 == t' <<<"$table")
  bin="$build/fuzz/iocgrid_${t}_fuzz"
  if [ -z "${max_len:-}" ] || [ ! -x "$bin" ]; then
    echo "run_fuzzers: unknown or unbuilt target '$t' ($bin)" >&2
    failed+=("$t")
    continue
  fi
  work="$build/fuzz-work/$t"
  mkdir -p "$work/corpus"
  rm -f "$work"/crash-* "$work"/leak-* "$work"/oom-* "$work"/timeout-*  # a previous run's
  args=(-max_total_time="$seconds" -rss_limit_mb="$rss_mb" -max_len="$max_len" -timeout=10
        -print_final_stats=1 -artifact_prefix="$work/")
  [ "$dict" != "-" ] && args+=(-dict="$here/dict/$dict.dict")
  [ "${FUZZ_KEEP_GOING:-0}" = 1 ] && args+=(-fork=1 -ignore_crashes=1 -ignore_timeouts=1 -ignore_ooms=1)
  echo "== $t: ${seconds}s, max_len $max_len, dict ${dict}"
  # The first corpus directory receives new inputs; the seeds are only read.
  if ! "$bin" "${args[@]}" "$work/corpus" "$here/corpus/$t" >"$work/log.txt" 2>&1; then
    failed+=("$t")
  fi
  # Normal mode ends with DONE and stat:: lines; fork mode with a last "#N: cov: ..." line.
  { grep -aE '^(#[0-9]+.*DONE|stat::number_of_executed_units|stat::peak_rss_mb)' "$work/log.txt" ||
      grep -aE '^#[0-9]+: cov:' "$work/log.txt" | tail -1; } | tr -s ' \n' ' '
  echo
  if compgen -G "$work/crash-*" >/dev/null || compgen -G "$work/leak-*" >/dev/null ||
     compgen -G "$work/oom-*" >/dev/null || compgen -G "$work/timeout-*" >/dev/null; then
    [[ " ${failed[*]} " == *" $t "* ]] || failed+=("$t")
    ls "$work"/crash-* "$work"/leak-* "$work"/oom-* "$work"/timeout-* 2>/dev/null
  fi
done

if [ ${#failed[@]} -gt 0 ]; then
  echo "run_fuzzers: FAILED: ${failed[*]} (logs and inputs in $build/fuzz-work/<target>/)" >&2
  exit 1
fi
echo "run_fuzzers: ${#targets[@]} targets, no crash"
