#!/usr/bin/env bash
# Installs every Debian 12 (bookworm) package that iocgrid needs to build, test and run.
# Idempotent: when every package is already present it does nothing (no apt-get update, no
# network). Run as root, or with sudo available.
set -euo pipefail

PACKAGES=(
  # toolchain
  build-essential cmake ninja-build pkg-config ccache git
  clang libclang-rt-14-dev                # clang-tidy dependency scan (ctest), libFuzzer (make fuzz)
  clang-format-14 clang-tidy-14           # Style.Format and Style.Tidy (ctest), make lint
  # libraries (STYLE.md section 9)
  libboost1.81-dev libboost-url1.81-dev   # Asio/Beast (net/), Boost.URL (core/)
  libcurl4-openssl-dev libssl-dev         # outbound HTTPS fan-out
  libsimdjson-dev nlohmann-json3-dev      # JSON: large/untrusted, small documents
  libsqlite3-dev sqlite3                  # embedded store
  libpq-dev postgresql                    # the portal on PostgreSQL (libpq; the tests' server)
  libsodium-dev                           # PSI, key hashing, constant-time compare
  libhyperscan-dev libre2-dev             # multi-pattern scans (extract/, sift/)
  libidn2-dev                             # IDN -> punycode for domain normalization
  zlib1g-dev                              # gzip-compressed feeds (IPsum)
  libcli11-dev libtomlplusplus-dev        # CLI flags and TOML config
  libspdlog-dev libfmt-dev                # logging and formatting
  libgtest-dev libgmock-dev libbenchmark-dev   # tests and benchmarks
  # test tooling
  python3 jq openssl ca-certificates
  poppler-utils                           # pdftotext: PDF reports for extract
  chromium                                # headless browser for the web UI tests
  fonts-noto-cjk                          # Japanese glyphs for the UI and its screenshots
)

# Node.js for the web UI tests: keep a newer one that is already installed (e.g. NodeSource),
# else take Debian's.
if ! command -v node >/dev/null 2>&1; then PACKAGES+=(nodejs npm); fi

missing=()
for p in "${PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -gt 0 ]; then
  SUDO=""
  if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
  echo "install-deps: installing ${missing[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

# The web UI's test dependencies (playwright-core, driving the Debian chromium above, no
# browser download; axe-core, the accessibility rules the browser tests run), from the npm
# registry, pinned by web/package-lock.json.
web="$(dirname "$0")/../web"
if [ -f "$web/package-lock.json" ] && \
   { [ ! -d "$web/node_modules/playwright-core" ] || [ ! -d "$web/node_modules/axe-core" ] || \
     [ "$web/package-lock.json" -nt "$web/node_modules/.package-lock.json" ]; }; then
  echo "install-deps: npm ci in web/" >&2
  (cd "$web" && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund --loglevel=error)
fi
