#!/usr/bin/env bash
# Install what is missing, build (Release) and start recache-server in the
# foreground with its embedded defaults (127.0.0.1:7400, 1 GiB, one worker per
# core) and its TLS admin port on 127.0.0.1:7443.  On the first run it makes a
# development CA, a server certificate and a client certificate with openssl
# (scripts/gen-certs.sh) in .dev-certs/ (git-ignored); the ready line prints
# the curl command that reads /metrics with them.  Extra arguments go to the
# server (try --help).  Ctrl-C stops it.
# Everything `cmake --install build-release` installs is built (server, CLI,
# load tester, librecache static and shared, man pages), so README's install
# step works right after this script.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/deps.sh
cmake -S . -B build-release -DCMAKE_BUILD_TYPE=Release -DRECACHE_BUILD_TESTS=OFF >/dev/null
cmake --build build-release -j"$(nproc)"
certs="$PWD/.dev-certs"
scripts/gen-certs.sh "$certs" >/dev/null
exec build-release/server/recache-server --admin-cert "$certs/server.crt" \
  --admin-key "$certs/server.key" --admin-ca "$certs/ca.crt" "$@"
