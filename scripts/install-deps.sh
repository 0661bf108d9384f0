#!/usr/bin/env bash
# Installs every Debian 12 (bookworm) package that iocgrid needs to build, test and run.
# Idempotent: when every package is already present it does nothing (no apt-get update, no
# network). Run as root, or with sudo available.
set -euo pipefail

PACKAGES=(
  # toolchain
  build-essential cmake ninja-build pkg-config ccache git
  # libraries (STYLE.md section 9)
  libboost1.81-dev libboost-url1.81-dev   # Asio/Beast (net/), Boost.URL (core/)
  libcurl4-openssl-dev libssl-dev         # outbound HTTPS fan-out
  libsimdjson-dev nlohmann-json3-dev      # JSON: large/untrusted, small documents
  libsqlite3-dev sqlite3                  # embedded store
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
)

missing=()
for p in "${PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
echo "install-deps: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
