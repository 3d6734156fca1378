#!/usr/bin/env bash
# Install the Debian 12 packages recache needs to build and test, if missing.
# Usage: scripts/deps.sh [extra-package...]   (uses sudo when not root)
set -euo pipefail
# groff-base: test_install checks that the generated man pages render cleanly.
# Admin port: libhttp-parser-dev and libcjson-dev build it; openssl (certificates), curl and
# prometheus (promtool) are what its tests drive it with; testssl.sh audits it (docs/ADMIN.md).
# python3-pytest and python3-setuptools: the Python client (clients/python) and its tests.
pkgs=(build-essential cmake pkg-config libuv1-dev libmbedtls-dev clang libclang-rt-14-dev groff-base
  libhttp-parser-dev libcjson-dev openssl curl prometheus testssl.sh
  python3 python3-pytest python3-setuptools "$@")
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  echo "installing: ${missing[*]}"
  $sudo env DEBIAN_FRONTEND=noninteractive apt-get update -qq
  $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
fi
