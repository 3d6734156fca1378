#!/usr/bin/env bash
# Install what is missing, build (Release) and start recache-server in the
# foreground with its embedded defaults (127.0.0.1:7400, 1 GiB, one worker per
# core).  Extra arguments go to the server (try --help).  Ctrl-C stops it.
# Everything `cmake --install build-release` installs is built (server, CLI,
# load tester, librecache static and shared, man pages), so README's install
# step works right after this script.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/deps.sh
cmake -S . -B build-release -DCMAKE_BUILD_TYPE=Release -DRECACHE_BUILD_TESTS=OFF >/dev/null
cmake --build build-release -j"$(nproc)"
exec build-release/server/recache-server "$@"
