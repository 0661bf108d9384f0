#!/usr/bin/env bash
# The demo: the BlackTech IoC list matched against the bundled "anonymity" and "honeypot"
# member data (data/README.md names every file's origin and licence).
set -euo pipefail
bin=${1:-build/ci/iocgrid}
cd "$(dirname "$0")/.."
echo "== iocgrid match: BlackTech IoCs (data/queries/blacktech_iocs.csv)"
echo "   against the anonymity member (cloud, VPN, Tor, proxies) and the honeypot member"
echo
status=0
"$bin" match --against data/members/anonymity data/members/honeypot \
  --max-warnings 5 data/queries/blacktech_iocs.csv || status=$?
# Exit 1 means "no hits", which is a valid result of a search, not a failure of the demo.
if [ "$status" -gt 1 ]; then exit "$status"; fi
