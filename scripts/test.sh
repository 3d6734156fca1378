#!/usr/bin/env bash
# Install what is missing, build everything with warnings as errors and run
# the whole test suite through ctest.  BUILD_DIR and extra cmake arguments
# (e.g. -DRECACHE_SANITIZE=address) may be given:
#   scripts/test.sh                                  # normal build
#   BUILD_DIR=build-asan scripts/test.sh -DRECACHE_SANITIZE=address
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/deps.sh
build="${BUILD_DIR:-build}"
cmake -S . -B "$build" -DRECACHE_WERROR=ON "$@" >/dev/null
cmake --build "$build" -j"$(nproc)"
ctest --test-dir "$build" --output-on-failure -j2
