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
#   6. a relocated install (DESTDIR + another prefix, cmake --install) works the same way.
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
         /usr/share/iocgrid/web/index.html /usr/share/iocgrid/web/app.js \
         /usr/share/doc/iocgrid/copyright; do
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
portal_url() {
  local dir=$1
  for _ in $(seq 1 200); do
    if grep -q "listening on" "$dir/portal.log"; then
      grep -o "listening on [^ ]*" "$dir/portal.log" | head -1 | cut -d' ' -f3
      return 0
    fi
    sleep 0.05
  done
  cat "$dir/portal.log" >&2
  fail "the portal did not start"
}
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
