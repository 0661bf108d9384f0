#!/usr/bin/env bash
# The shipped package, run from a temporary root with the checkout out of reach:
#   1. cpack builds the .deb from the build tree; its control file carries the library
#      dependencies (dpkg-shlibdeps) and its payload the binary, data, web UI, demo and units;
#   2. dpkg-deb -x unpacks it into a temporary root (not a system install: no root, no dpkg db);
#   3. the installed demo (share/iocgrid/demo.sh) runs the alliance search with the installed
#      binary and data;
#   4. the installed binary reads its warninglists from the root: hiding the root's
#      share/iocgrid makes extract fail naming the root, never falling back to the checkout;
#   5. the installed portal serves the root's web/ (a marker written into the root's
#      index.html comes back over HTTP);
#   6. the systemd units pass systemd-analyze verify (when present), the maintainer scripts parse,
#      and the example configs shipped for the units start a real node and portal over TLS;
#   7. a relocated install (DESTDIR + another prefix, cmake --install) works the same way.
# Usage: install_test.sh BUILD_DIR CMAKE_COMMAND CPACK_COMMAND
set -euo pipefail
build=$(realpath "$1")
cmake=$2
cpack=$3
src=$(cd "$(dirname "$0")/../.." && pwd)
tmp=$(mktemp -d "${TMPDIR:-/tmp}/iocgrid-install-test.XXXXXX")
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$tmp"
}
trap cleanup EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }
step() { echo "== $*"; }
# Nothing from the environment may point the binary back at the checkout.
unset IOCGRID_DATA_DIR IOCGRID_WEB_DIR
cd "$tmp"
case "$tmp" in "$src"/*|"$build"/*) fail "temporary root $tmp lies inside the checkout" ;; esac

step "cpack -G DEB"
"$cpack" -G DEB --config "$build/CPackConfig.cmake" -B "$tmp/pkg" > "$tmp/cpack.log" 2>&1 || {
  cat "$tmp/cpack.log" >&2; fail "cpack failed"; }
debs=("$tmp"/pkg/iocgrid_*.deb)
[ -f "${debs[0]}" ] || fail "no iocgrid_*.deb in $tmp/pkg"
deb=${debs[0]}

step "control file"
control=$(dpkg-deb -f "$deb")
echo "$control" | grep -E '^(Package|Version|Architecture|Depends):'
depends=$(dpkg-deb -f "$deb" Depends)
for lib in libc6 libstdc++6 libsqlite3-0 libhyperscan5 libsodium23 libcurl4 libidn2-0 adduser; do
  [[ ", $depends," == *", $lib"[\ ,]* ]] || fail "Depends lacks $lib: $depends"
done

step "payload"
dpkg-deb -c "$deb" | awk '{print $6}' | sed 's|^\./|/|' > "$tmp/contents"
for f in /usr/bin/iocgrid /usr/share/iocgrid/warninglists/tlds/list.json \
         /usr/share/iocgrid/members/anonymity/tor/tor-exit-nodes.lst \
         /usr/share/iocgrid/queries/blacktech_iocs.csv /usr/share/iocgrid/demo.sh \
         /usr/share/iocgrid/wait-url.sh \
         /usr/share/iocgrid/web/index.html /usr/share/iocgrid/web/app.js \
         /usr/share/doc/iocgrid/copyright /usr/share/doc/iocgrid/deploy.md \
         /usr/share/doc/iocgrid/examples/node.env /usr/share/doc/iocgrid/examples/portal.toml \
         /usr/lib/systemd/system/iocgrid-node.service \
         /usr/lib/systemd/system/iocgrid-portal.service; do
  grep -qxF "$f" "$tmp/contents" || fail "the package lacks $f"
done
if grep -E '/web/(tests|node_modules)/|/web/package(-lock)?\.json$|\.gitignore$' "$tmp/contents"; then
  fail "the package ships test or npm files (above)"
fi
if grep -E '^/(home|root|work|tmp)/' "$tmp/contents"; then fail "files outside /usr, /etc, /lib"; fi

step "dpkg-deb -x into $tmp/root"
dpkg-deb -x "$deb" "$tmp/root"
bin=$tmp/root/usr/bin/iocgrid
share=$tmp/root/usr/share/iocgrid
"$bin" --version
if file "$bin" 2>/dev/null | grep -q "with debug_info"; then fail "the packaged binary is not stripped"; fi

step "installed demo (share/iocgrid/demo.sh --once)"
IOCGRID_DEMO_DIR=$tmp/demo bash "$share/demo.sh" --once > "$tmp/demo.out" 2>&1 || {
  cat "$tmp/demo.out" >&2; fail "the installed demo failed"; }
grep -E 'anonymity +in-range +172\.104\.64\.0/18' "$tmp/demo.out" | head -1 ||
  { cat "$tmp/demo.out" >&2; fail "the installed demo found no BlackTech hit"; }
grep -qF "in $share" "$tmp/demo.out" || fail "the installed demo did not use the installed data"

step "extract reads the root's warninglists, and only those"
printf 'C2 at hxxp://evil-example[.]net/gate.php, resolver 8.8.8.8\n' > "$tmp/report.txt"
"$bin" extract --keep-benign --format csv "$tmp/report.txt" > "$tmp/extract.out"
grep -q 'evil-example\.net' "$tmp/extract.out" || fail "extract found nothing: $(cat "$tmp/extract.out")"
# With the root's share/iocgrid gone the binary must say so, not quietly use the checkout's
# data/ compiled in for build-tree runs.
mv "$share" "$share.hidden"
status=0
"$bin" extract "$tmp/report.txt" > /dev/null 2> "$tmp/extract.err" || status=$?
mv "$share.hidden" "$share"
cat "$tmp/extract.err"
[ "$status" = 2 ] || fail "extract without the root's share/iocgrid exited $status, not 2"
grep -qF "$tmp/root/usr/share/iocgrid" "$tmp/extract.err" || fail "the error does not name the root"
if grep -qF "$src" "$tmp/extract.err"; then fail "the installed binary looked in the checkout"; fi

# wait_url LOG: the URL a server logs as "listening on URL".
. "$src/scripts/wait-url.sh"
# Starts `iocgrid portal serve` from BINARY with a member-less config in DIR (in this shell,
# so that cleanup can stop it).
start_portal() {
  local binary=$1 dir=$2
  mkdir -p "$dir"
  printf 'listen = "127.0.0.1:0"\ndata = "portal-data"\n' > "$dir/portal.toml"
  "$binary" portal serve --config "$dir/portal.toml" > /dev/null 2> "$dir/portal.log" &
  pids+=($!)
}
# Prints the URL that the portal logging to DIR/portal.log listens on.
portal_url() { wait_url "$1/portal.log" || fail "the portal did not start"; }
fetch() {
  python3 -c 'import sys, urllib.request; sys.stdout.write(urllib.request.urlopen(sys.argv[1], timeout=10).read().decode())' "$1"
}

step "the installed portal serves the root's web UI"
marker="<!-- iocgrid-install-test $$ -->"
echo "$marker" >> "$share/web/index.html"
start_portal "$bin" "$tmp/portal"
url=$(portal_url "$tmp/portal")
echo "portal at $url"
fetch "$url/" > "$tmp/index.html"
grep -qF "$marker" "$tmp/index.html" || fail "GET / is not the root's index.html"
fetch "$url/app.js" | cmp -s - "$share/web/app.js" || fail "GET /app.js differs from the root's"

step "maintainer scripts and systemd units"
dpkg-deb -e "$deb" "$tmp/control"
for script in postinst prerm postrm; do
  [ -x "$tmp/control/$script" ] || fail "no executable $script in the package"
  sh -n "$tmp/control/$script" || fail "$script does not parse"
done
grep -q 'adduser --system --group' "$tmp/control/postinst" || fail "postinst creates no system user"
units=$tmp/root/usr/lib/systemd/system
for unit in iocgrid-node.service iocgrid-portal.service; do
  grep -q '^ExecStart=/usr/bin/iocgrid ' "$units/$unit" || fail "$unit: ExecStart is not /usr/bin/iocgrid"
  for key in User=iocgrid NoNewPrivileges=yes ProtectSystem=strict ProtectHome=yes PrivateTmp=yes \
             PrivateDevices=yes ProtectKernelTunables=yes ProtectKernelModules=yes \
             ProtectKernelLogs=yes ProtectControlGroups=yes 'CapabilityBoundingSet=' \
             'RestrictAddressFamilies=AF_INET AF_INET6 AF_UNIX' SystemCallFilter=@system-service \
             MemoryDenyWriteExecute=yes LimitNOFILE=65536 Restart=on-failure StateDirectory=iocgrid; do
    grep -qxF "$key" "$units/$unit" || fail "$unit lacks $key"
  done
  if command -v systemd-analyze > /dev/null; then
    # verify needs ExecStart to exist: the same unit, pointed at the unpacked binary.
    sed "s|^ExecStart=/usr/bin/iocgrid|ExecStart=$bin|" "$units/$unit" > "$tmp/$unit"
    systemd-analyze verify "$tmp/$unit" > "$tmp/verify.log" 2>&1 || {
      cat "$tmp/verify.log" >&2; fail "systemd-analyze verify $unit failed"; }
    if [ -s "$tmp/verify.log" ]; then cat "$tmp/verify.log" >&2; fail "systemd-analyze verify $unit warned"; fi
  fi
done

step "the example configs start a node and a portal over TLS"
examples=$tmp/root/usr/share/doc/iocgrid/examples
etc=$tmp/etc/iocgrid
mkdir -p "$etc/tls" "$etc/keys" "$tmp/state"
for name in node portal; do
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 \
    -subj "/CN=localhost" -addext "subjectAltName=DNS:localhost,IP:127.0.0.1" -keyout "$etc/tls/$name.key" -out "$etc/tls/$name.crt" 2> /dev/null
done
cp "$etc/tls/node.crt" "$etc/tls/alliance-ca.pem"
# The unit's environment file, as shipped, with this test's paths and a free loopback port.
sed -e "s|/etc/iocgrid|$etc|g" -e 's|0\.0\.0\.0:8443|127.0.0.1:0|' "$examples/node.env" > "$etc/node.env"
(
  set -a; . "$etc/node.env"; set +a
  "$bin" node keys create --data "$tmp/state/node" --org ACME-CERT --comment portal \
    > "$etc/keys/acme.key" 2> /dev/null
  # shellcheck disable=SC2086  # split like systemd's $IOCGRID_NODE_ARGS
  exec "$bin" node serve --data "$tmp/state/node" $IOCGRID_NODE_ARGS > /dev/null 2> "$tmp/node.log"
) &
pids+=($!)
node_url=$(wait_url "$tmp/node.log") || fail "the node did not start"
[[ $node_url == https://* ]] || fail "the example node.env does not serve HTTPS: $node_url"
echo "node at $node_url"
# portal.toml as shipped, with this test's paths, and its iocgrid member pointed at that node
# (certificate checked against ca_file).
sed -e "s|/var/lib/iocgrid|$tmp/state|" -e 's|0\.0\.0\.0:8443|127.0.0.1:0|' \
  -e "s|https://node.acme.example:8443|$node_url|" "$examples/portal.toml" > "$etc/portal.toml"
echo "beta-misp-key" > "$etc/keys/beta.key"
"$bin" portal serve --config "$etc/portal.toml" > /dev/null 2> "$tmp/portal-tls.log" &
pids+=($!)
portal_tls=$(wait_url "$tmp/portal-tls.log") || fail "the portal did not start"
[[ $portal_tls == https://* ]] || fail "the example portal.toml does not serve HTTPS: $portal_tls"
echo "portal at $portal_tls"
"$bin" portal members check --config "$etc/portal.toml" > "$tmp/check.out" 2>&1 || true
cat "$tmp/check.out"
grep -qE '^acme +ok ' "$tmp/check.out" || fail "the portal cannot reach the node over TLS with ca_file"
[ -f "$tmp/state/portal/portal.db" ] || fail "the example portal.toml keeps no store in its data folder"

step "relocated install: DESTDIR + prefix /opt/iocgrid"
DESTDIR=$tmp/destdir "$cmake" --install "$build" --prefix /opt/iocgrid --strip > "$tmp/install.log"
rbin=$tmp/destdir/opt/iocgrid/bin/iocgrid
[ -f "$tmp/destdir/opt/iocgrid/share/iocgrid/web/index.html" ] || fail "no web UI under the prefix"
"$rbin" extract --format list "$tmp/report.txt" | grep -q 'evil-example\.net' ||
  fail "the relocated binary cannot extract"
start_portal "$rbin" "$tmp/portal2"
rurl=$(portal_url "$tmp/portal2")
fetch "$rurl/" | cmp -s - "$tmp/destdir/opt/iocgrid/share/iocgrid/web/index.html" ||
  fail "the relocated portal does not serve its own web UI"
echo "ok: the package installs into a temporary root and runs from there"
