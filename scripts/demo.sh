#!/usr/bin/env bash
# The demo alliance on loopback: three members and a portal, then the BlackTech search, then a
# web server's access log sifted through the alliance (logs/secrepo_access.log.2021-10-22), then
# a watchlist keeping the BlackTech IoCs watched.
#   anonymity  iocgrid node: cloud, VPN, Tor and proxy ranges (data/members/anonymity)
#   honeypot   iocgrid node: attacker IPs seen by honeypot networks (data/members/honeypot)
#   osint      a member that speaks only the MISP API (an iocgrid node reached through the
#              portal's MISP connector): CIRCL OSINT events (data/members/osint)
# Usage: scripts/demo.sh [BINARY] [--once]    (--once: exit after the search)
# Runs from the checkout (data/, build/ci/iocgrid, state in build/demo) or from an install as
# <prefix>/share/iocgrid/demo.sh (<prefix>/share/iocgrid, <prefix>/bin/iocgrid, state in
# ${TMPDIR:-/tmp}/iocgrid-demo). IOCGRID_DEMO_DIR sets the state folder, IOCGRID_DEMO_PORT the
# portal's port.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
if [ -d "$here/../data/members" ]; then      # the checkout: scripts/demo.sh
  root=$(cd "$here/.." && pwd)
  data=$root/data
  bin=$root/build/ci/iocgrid
  state=$root/build/demo
elif [ -d "$here/members" ]; then            # an install: <prefix>/share/iocgrid/demo.sh
  data=$here
  bin=$here/../../bin/iocgrid
  state=${TMPDIR:-/tmp}/iocgrid-demo
else
  echo "demo: no demo data beside $0 (expected ../data/members or ./members)" >&2
  exit 2
fi
once=0
for arg in "$@"; do
  case "$arg" in
    --once) once=1 ;;
    *) bin=$arg ;;
  esac
done
bin=$(realpath "$bin")
demo=$(realpath -m "${IOCGRID_DEMO_DIR:-$state}")
cd "$data"
mkdir -p "$demo"
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
}
trap cleanup EXIT INT TERM

# wait_url LOG: the URL a server logs as "listening on URL".
. "$here/wait-url.sh"

start_member() {
  local name=$1; shift
  local dir=$demo/$name
  mkdir -p "$dir"
  if [ ! -s "$dir/portal.key" ]; then
    "$bin" node keys create --data "$dir/data" --org "$name" --role user --comment portal \
      > "$dir/portal.key" 2>/dev/null
  fi
  "$bin" node import --data "$dir/data" --org "$name" --quiet "$@" 2> "$dir/import.log" || {
    cat "$dir/import.log" >&2; return 1; }
  "$bin" node serve --data "$dir/data" --org "$name" --listen 127.0.0.1:0 2> "$dir/serve.log" &
  pids+=($!)
}

echo "== starting the demo alliance in $demo"
start_member anonymity members/anonymity
start_member honeypot members/honeypot
start_member osint members/osint
anon_url=$(wait_url "$demo/anonymity/serve.log")
honey_url=$(wait_url "$demo/honeypot/serve.log")
osint_url=$(wait_url "$demo/osint/serve.log")

cat > "$demo/portal.toml" <<TOML
listen = "127.0.0.1:${IOCGRID_DEMO_PORT:-0}"
data = "portal-data"

[[members]]
name = "anonymity"
display_name = "Anonymity ranges (cloud, VPN, Tor, proxies)"
sector = "data provider"
kind = "iocgrid"
url = "$anon_url"
data_kind = "anonymizer"
key_file = "anonymity/portal.key"
timeout_ms = 5000
disclosure = "full"

[[members]]
name = "honeypot"
display_name = "Honeypot network"
sector = "research"
kind = "iocgrid"
url = "$honey_url"
data_kind = "honeypot"
key_file = "honeypot/portal.key"
timeout_ms = 5000
disclosure = "full"

[[members]]
name = "osint"
display_name = "OSINT MISP (CIRCL events)"
sector = "national CERT"
kind = "misp"
url = "$osint_url"
data_kind = "threat"
key_file = "osint/portal.key"
timeout_ms = 10000
batch_size = 100
disclosure = "full"
TOML

if [ ! -s "$demo/analyst.key" ]; then
  "$bin" portal users create --config "$demo/portal.toml" --name analyst --role analyst \
    > "$demo/analyst.key" 2>/dev/null
fi
"$bin" portal serve --config "$demo/portal.toml" 2> "$demo/portal.log" &
pids+=($!)
portal_url=$(wait_url "$demo/portal.log")
key=$(cat "$demo/analyst.key")

echo "== members"
"$bin" portal members check --config "$demo/portal.toml" || true
echo
echo "== iocgrid search: BlackTech IoCs (queries/blacktech_iocs.csv in $data) through the portal"
status=0
"$bin" search --portal "$portal_url" --key "$key" --label "BlackTech demo" \
  queries/blacktech_iocs.csv || status=$?
if [ "$status" -gt 1 ]; then exit "$status"; fi
echo
echo "== iocgrid sift: a web server's access log (logs/secrepo_access.log.2021-10-22 in $data)"
echo "   through the alliance: only its distinct client addresses leave this machine"
status=0
"$bin" sift --portal "$portal_url" --key "$key" --top 3 logs/secrepo_access.log.2021-10-22 || status=$?
if [ "$status" -gt 1 ]; then exit "$status"; fi
echo
echo "== iocgrid watch: keep watching the BlackTech IoCs; it runs again when a member's data"
echo "   changes, and new hits go to the web UI's Watchlists page, a signed webhook, and TAXII"
watch_id=$(cat "$demo/watch.id" 2>/dev/null || true)
if [ -z "$watch_id" ] ||
   ! "$bin" watch runs --portal "$portal_url" --key "$key" "$watch_id" --limit 1 > /dev/null 2>&1; then
  watch_id=$("$bin" watch add --portal "$portal_url" --key "$key" --name "BlackTech (watch)" \
    --interval 1h queries/blacktech_iocs.csv 2> /dev/null) || watch_id=""
  echo "$watch_id" > "$demo/watch.id"
fi
if [ -n "$watch_id" ]; then
  for _ in $(seq 120); do
    if "$bin" watch runs --portal "$portal_url" --key "$key" "$watch_id" --limit 1 \
        > "$demo/watch-run.txt" 2> /dev/null; then
      head -n 1 "$demo/watch-run.txt"
      break
    fi
    sleep 0.5
  done
fi
echo "   TAXII 2.1 for SOC tools: $portal_url/taxii2/ (HTTP Basic, the API key as the password)"
echo
if [ "$once" = 1 ]; then exit 0; fi
echo "== the portal is up: open $portal_url in a browser"
echo "   API key (analyst): $key"
echo "   Ctrl-C stops the alliance."
wait
