#!/usr/bin/env bash
# iocgrid match and iocgrid sift against the Unix pipelines an analyst would otherwise use
# (issue 9 goals): `match` of 10^6 query IPs vs `grep -Fxf`, and `sift` of a 2·10^6-line Apache
# combined log vs `awk '{print $1}' | sort -u | grep -Fxf`, each against the union of the shared
# honeypot IP lists, in the same run, checking that both sides find the same IPs.
#
#   bash bench/cli/vs_grep.sh build/release/iocgrid [RUNS]
#
# Generated files go to ${TMPDIR:-/tmp}/iocgrid-bench-cli (reused between runs).
set -euo pipefail
bin=$(realpath "${1:?usage: vs_grep.sh IOCGRID_BINARY [RUNS]}")
runs=${2:-3}
here=$(cd "$(dirname "$0")" && pwd)
shared=$(realpath "$here/../../../shared/data")
work=${TMPDIR:-/tmp}/iocgrid-bench-cli
mkdir -p "$work"
cd "$work"
export LC_ALL=C

if [ ! -s honeypot.txt ]; then
  { zcat "$shared/D_member_honeypot/ipsum/ipsum.txt.gz" | grep -v '^#' | cut -f1
    cat "$shared"/D_member_honeypot/ipsum/levels_3.txt \
        "$shared"/D_member_honeypot/sequoia/Unauthorized_Access_Blocklist.txt \
        "$shared"/D_member_honeypot/shadowwhisperer/Probes \
        "$shared"/D_member_honeypot/shadowwhisperer/Threats_Unclassified
    cut -d, -f1 "$shared"/D_member_honeypot/shadowwhisperer/Scanners.csv \
        "$shared"/D_member_honeypot/shadowwhisperer/Threats.csv
  } | grep -E '^[0-9]{1,3}(\.[0-9]{1,3}){3}$' | grep -vE '(^|\.)0[0-9]' | sort -u > honeypot.txt
fi
if [ ! -s queries.txt ] || [ ! -s access.log ]; then
  python3 - <<'PY'
import random
random.seed(9)
honey = [l.strip() for l in open('honeypot.txt')]
def rand_ip():
    return '%d.%d.%d.%d' % (random.randint(1, 223), random.randint(0, 255),
                            random.randint(0, 255), random.randint(1, 254))
with open('queries.txt', 'w') as q:
    for i in range(1000000):
        q.write((random.choice(honey) if i % 20 == 0 else rand_ip()) + '\n')
clients = [random.choice(honey) if i % 10 == 0 else rand_ip() for i in range(100000)]
paths = ['/', '/index.html', '/wp-login.php', '/static/app.js?v=3', '/api/v1/items/12345']
agents = ['Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) '
          'Chrome/119.0.0.0 Safari/537.36', 'curl/8.4.0',
          'Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)']
with open('access.log', 'w') as log:
    for i in range(2000000):
        s = i // 20
        log.write('%s - - [15/Dec/2023:%02d:%02d:%02d +0100] "GET %s HTTP/1.1" 200 %d '
                  '"https://www.example.org/" "%s"\n' % (
                      random.choice(clients), (s // 3600) % 24, (s // 60) % 60, s % 60,
                      random.choice(paths), random.randint(100, 50000), random.choice(agents)))
PY
fi
echo "honeypot list: $(wc -l < honeypot.txt) IPs; queries: $(wc -l < queries.txt); log: $(wc -l < access.log) lines"

seconds() { local s=$EPOCHREALTIME; "$@" > /dev/null; awk -v s="$s" -v e="$EPOCHREALTIME" 'BEGIN { print e - s }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }

for run in $(seq "$runs"); do
  g=$(seconds grep -Fxf honeypot.txt queries.txt)
  m=$(seconds "$bin" match -q queries.txt --against honeypot.txt --format csv)
  a=$(seconds sh -c "awk '{print \$1}' access.log | sort -u | grep -Fxf honeypot.txt")
  s=$(seconds "$bin" sift -q --against honeypot.txt --format json access.log)
  printf 'run %d: match %.2f s, grep -Fxf %.2f s (%sx) | sift %.2f s, awk|sort -u|grep %.2f s (%sx)\n' \
    "$run" "$m" "$g" "$(ratio "$g" "$m")" "$s" "$a" "$(ratio "$a" "$s")"
done

# Same hits: the IPs each side found.
grep -Fxf honeypot.txt queries.txt | sort -u > grep-hits.txt
"$bin" match -q queries.txt --against honeypot.txt --format json |
  python3 -c 'import json,sys; print("\n".join(sorted({json.loads(l)["query_normalized"] for l in sys.stdin if l.strip()})))' > match-hits.txt || true
cmp -s grep-hits.txt match-hits.txt && echo "match: same $(wc -l < grep-hits.txt) IPs as grep" || echo "match: DIFFERENT hits from grep ($(wc -l < match-hits.txt) vs $(wc -l < grep-hits.txt))"
# sift never sends private, loopback, link-local or documentation addresses (counted as
# internal): leave those out of the pipeline's side too.
awk '{print $1}' access.log | sort -u | grep -Fxf honeypot.txt |
  python3 -c 'import ipaddress,sys; print("\n".join(l.strip() for l in sys.stdin if not ipaddress.ip_address(l.strip()).is_private))' > awk-hits.txt
"$bin" sift -q --against honeypot.txt --format json access.log |
  python3 -c 'import json,sys
rows=[json.loads(l) for l in sys.stdin if l.strip()]
print("\n".join(sorted({r["value"] for r in rows if r.get("kind")=="observable" and r.get("hits")})))' > sift-hits.txt || true
cmp -s awk-hits.txt sift-hits.txt && echo "sift: same $(wc -l < awk-hits.txt) IPs as awk|sort|grep" || { echo "sift: DIFFERENT hits ($(wc -l < sift-hits.txt) vs $(wc -l < awk-hits.txt))"; comm -3 awk-hits.txt sift-hits.txt | head; }
