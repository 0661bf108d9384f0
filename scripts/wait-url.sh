# Sourced by scripts/demo.sh (installed beside it as share/iocgrid/wait-url.sh) and
# tests/install/install_test.sh: waiting for an iocgrid server to come up.

# Waits up to 10 s for "listening on URL" in the server's log file LOG and prints the URL;
# otherwise prints the log to stderr and returns 1.
wait_url() {
  local log=$1
  for _ in $(seq 1 200); do
    if grep -q "listening on" "$log" 2>/dev/null; then
      grep -o "listening on [^ ]*" "$log" | head -1 | cut -d' ' -f3
      return 0
    fi
    sleep 0.05
  done
  echo "a server did not start; its log ($log):" >&2
  cat "$log" >&2 2>/dev/null || true
  return 1
}
