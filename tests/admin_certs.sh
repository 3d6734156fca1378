#!/usr/bin/env bash
# Certificates for the admin port's tests (tests/test_admin*.c), all made with openssl:
#   DIR/good/   scripts/gen-certs.sh's set (ca, server, client "CN=recache-admin")
#               plus expired.crt/.key: a client certificate signed by that CA that expired in 2020
#   DIR/other/  a second, unrelated set: its client certificate is signed by another CA
# Usage: tests/admin_certs.sh SCRIPTS_DIR DIR
set -euo pipefail
scripts="$1"
dir="$2"
"$scripts/gen-certs.sh" "$dir/good" >/dev/null
"$scripts/gen-certs.sh" "$dir/other" --client-cn intruder >/dev/null
work="$dir/ca-work"
mkdir -p "$work"
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$dir/good/expired.key" 2>/dev/null
openssl req -new -key "$dir/good/expired.key" -subj "/CN=expired-client" -out "$work/e.csr" 2>/dev/null
cat > "$work/ca.cnf" <<CNF
[ca]
default_ca = d
[d]
database = $work/index.txt
new_certs_dir = $work
serial = $work/serial
default_md = sha256
policy = p
[p]
commonName = supplied
[ext]
basicConstraints = CA:FALSE
keyUsage = critical,digitalSignature
extendedKeyUsage = clientAuth
CNF
: > "$work/index.txt"
echo 01 > "$work/serial"
openssl ca -batch -config "$work/ca.cnf" -cert "$dir/good/ca.crt" -keyfile "$dir/good/ca.key" \
  -in "$work/e.csr" -out "$dir/good/expired.crt" -startdate 20200101000000Z \
  -enddate 20200201000000Z -extensions ext -notext >/dev/null 2>&1
rm -rf "$work"
