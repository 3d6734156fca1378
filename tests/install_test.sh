#!/usr/bin/env bash
# install_test.sh - test_install: what a user does with an installed recache.
#
#   install_test.sh BUILD_DIR CONSUMER_DIR C_COMPILER [SANITIZE]
#
# Installs BUILD_DIR into a temporary prefix, then MOVES the tree elsewhere
# (so recache.pc and the CMake package must locate themselves), checks what
# librecache.so exports (exactly the RC_EXPORT declarations of the installed
# headers, never the codec) and its SONAME, starts the installed
# recache-server on a free loopback port (waiting for its ready line, which
# must name a recache-cli that works), and builds CONSUMER_DIR/app.c three
# ways: pkg-config shared, pkg-config static, find_package(recache CONFIG)
# (shared and static targets).  Every build runs against the server, which
# runs with the installed recache.conf.example as its config file.  The man
# pages must be installed, render without groff warnings and cover every
# option and command; the systemd unit's LimitNOFILE must exceed the
# default max-connections.
# SANITIZE (address/thread) adds the sanitizer the library was built with.
set -euo pipefail
build=$1 src=$2 cc=$3 sanitize=${4:-}
case "$sanitize" in
  address) san=(-fsanitize=address,undefined) ;;
  thread) san=(-fsanitize=thread) ;;
  *) san=() ;;
esac

tmp=$(mktemp -d)
server_pid=""
cleanup() {
  if [ -n "$server_pid" ]; then kill -KILL "$server_pid" 2>/dev/null || true; fi
  rm -rf "$tmp"
}
trap cleanup EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }
step() { echo "--- $*"; }

step "install into a temporary prefix, then move it"
cmake --install "$build" --prefix "$tmp/stage" >/dev/null
mv "$tmp/stage" "$tmp/moved"
prefix=$(realpath "$tmp/moved")

pc=$(find "$prefix" -name recache.pc)
[ -n "$pc" ] || fail "recache.pc is not installed"
export PKG_CONFIG_PATH=${pc%/*}
libdir=$(realpath "$(pkg-config --variable=libdir recache)")
[ -f "$libdir/librecache.so" ] && [ -f "$libdir/librecache.a" ] ||
  fail "pkg-config's libdir ($libdir) has no librecache.so / librecache.a"
case "$(pkg-config --cflags recache)" in
  *"$tmp"*) ;;
  *) fail "pkg-config --cflags does not point into the moved prefix: $(pkg-config --cflags recache)" ;;
esac

step "librecache.so exports exactly the public API"
exported=$(nm -D --defined-only "$libdir/librecache.so" | awk '{print $3}' | sort)
declared=$(cat "$prefix"/include/recache/*.h | grep -oE 'RC_EXPORT [^(]*\(' |
  grep -oE 'rc_[a-z0-9_]+\($' | tr -d '(' | sort)
[ -n "$declared" ] || fail "no RC_EXPORT declarations in the installed headers"
if [ "$exported" != "$declared" ]; then
  diff <(echo "$declared") <(echo "$exported") >&2 || true
  fail "exported symbols (right) differ from the RC_EXPORT declarations (left)"
fi
if grep -E '^rc_(encode|decode)|^rc__' <<<"$exported"; then fail "internal symbols exported"; fi
readelf -d "$libdir/librecache.so" | grep -q 'SONAME.*\[librecache\.so\.[0-9]*\]' ||
  fail "librecache.so has no librecache.so.N SONAME"

step "manual pages, sample config, systemd unit"
man1=$(find "$prefix" -type d -path '*/man/man1')
docdir=$(find "$prefix" -type d -path '*/doc/recache')
for page in recache-server recache-cli; do
  [ -f "$man1/$page.1" ] || fail "$page.1 is not installed"
  warnings=$(LC_ALL=C.UTF-8 groff -man -ww -z "$man1/$page.1" 2>&1)
  [ -z "$warnings" ] || fail "$page.1: groff says: $warnings"
done
opts=$("$prefix/bin/recache-server" --help | sed -n 's/^  --\([a-z-]*\) .*/\1/p')
cmds=$("$prefix/bin/recache-cli" --help | sed -n 's/^  \([a-z][a-z-]*\)\( .*\)\{0,1\}$/\1/p')
[ "$(wc -w <<<"$opts")" -ge 20 ] && [ "$(wc -w <<<"$cmds")" -ge 15 ] ||
  fail "could not read the options and commands from --help"
for opt in $opts; do
  grep -qF "\\fB\\-\\-${opt//-/\\-}\\fR" "$man1/recache-server.1" ||
    fail "recache-server.1 lacks --$opt"
done
for cmd in $cmds; do
  grep -qF "\\fB${cmd//-/\\-}\\fR" "$man1/recache-cli.1" || fail "recache-cli.1 lacks command $cmd"
done
[ -f "$docdir/recache.conf.example" ] || fail "recache.conf.example is not installed"
max_connections=$("$prefix/bin/recache-server" --help |
  sed -n 's/^  --max-connections .*\[default: \([0-9]*\)\]$/\1/p')
nofile=$(sed -n 's/^LimitNOFILE=\([0-9]*\)$/\1/p' "$docdir/recache-server.service")
[ -n "$max_connections" ] && [ -n "$nofile" ] && [ "$nofile" -gt "$max_connections" ] ||
  fail "recache-server.service: LimitNOFILE '$nofile' is not above max-connections '$max_connections'"

step "start the installed server"
mkfifo "$tmp/ready"
"$prefix/bin/recache-server" --config "$docdir/recache.conf.example" \
  --bind localhost --port 0 --threads 1 --memory 64mb \
  >"$tmp/ready" 2>"$tmp/server.err" &
server_pid=$!
exec 3<"$tmp/ready"
IFS= read -r -t 20 line <&3 || fail "no ready line from the server: $(cat "$tmp/server.err")"
echo "$line"
port=$(sed -n 's/.* listening on 127\.0\.0\.1:\([0-9]*\) .*/\1/p' <<<"$line")
[ -n "$port" ] || fail "ready line has no 127.0.0.1 port (--bind localhost)"

step "the ready line's CLI command works"
try=${line#*try: }
case "$try" in
  "$prefix/bin/recache-cli "*) ;;
  *) fail "ready line names '$try', not the installed $prefix/bin/recache-cli" ;;
esac
[ "$($try)" = "PONG" ] || fail "'$try' did not answer PONG"

run_app() { # run_app BINARY LABEL
  local out
  out=$("$1" "$port" "$2") || fail "$2: the program failed"
  [ "$out" = "$2 ok (librecache $(pkg-config --modversion recache))" ] || fail "$2: said '$out'"
  echo "$out"
}

step "pkg-config, shared"
# shellcheck disable=SC2046 # pkg-config output is a list of flags
"$cc" "${san[@]}" -o "$tmp/pc-shared" "$src/app.c" $(pkg-config --cflags --libs recache) \
  -Wl,-rpath,"$libdir"
readelf -d "$tmp/pc-shared" | grep -q 'NEEDED.*librecache\.so\.' || fail "pc-shared: no librecache.so"
run_app "$tmp/pc-shared" pc-shared

step "pkg-config, static"
# shellcheck disable=SC2046
"$cc" "${san[@]}" -o "$tmp/pc-static" "$src/app.c" $(pkg-config --cflags recache) \
  -Wl,-Bstatic $(pkg-config --static --libs recache) -Wl,-Bdynamic
if readelf -d "$tmp/pc-static" | grep -q librecache; then fail "pc-static needs librecache.so"; fi
run_app "$tmp/pc-static" pc-static

step "find_package(recache CONFIG)"
cmake -S "$src" -B "$tmp/consumer" -DCMAKE_C_COMPILER="$cc" -DCMAKE_PREFIX_PATH="$prefix" \
  -DCMAKE_C_FLAGS="${san[*]}" >/dev/null
cmake --build "$tmp/consumer" >/dev/null
if readelf -d "$tmp/consumer/app_cmake_static" | grep -q librecache; then
  fail "recache::recache_static needs librecache.so"
fi
run_app "$tmp/consumer/app_cmake_shared" cmake-shared
run_app "$tmp/consumer/app_cmake_static" cmake-static

step "stop the server"
kill -TERM "$server_pid"
status=0
wait "$server_pid" || status=$?
server_pid=""
[ "$status" -eq 0 ] || fail "server exited with $status: $(cat "$tmp/server.err")"
echo "install test passed"
