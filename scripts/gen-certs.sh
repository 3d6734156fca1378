#!/usr/bin/env bash
# Make the certificates recache's TLS admin port needs, with openssl:
#   DIR/ca.crt, DIR/ca.key          a certificate authority (keep ca.key offline in production)
#   DIR/server.crt, DIR/server.key  the admin port's certificate, signed by the CA
#   DIR/client.crt, DIR/client.key  one client certificate (curl, Prometheus), signed by the CA
#
# Usage: scripts/gen-certs.sh [-f] DIR [SERVER-NAME...] [--client-cn NAME] [--days N]
#   SERVER-NAME  extra DNS names or IP addresses for the server certificate
#                (localhost, 127.0.0.1 and ::1 are always included)
#   --client-cn  the client certificate's CN (default: recache-admin)
#   --days       validity of every certificate (default: 825)
#   -f           overwrite existing files (default: keep a complete set and exit)
#
# Start the server with:
#   recache-server --admin-cert DIR/server.crt --admin-key DIR/server.key --admin-ca DIR/ca.crt
# and read the metrics with:
#   curl --cacert DIR/ca.crt --cert DIR/client.crt --key DIR/client.key https://127.0.0.1:7443/metrics
#
# Production: run this (or your own PKI) once per environment, keep ca.key away from
# the servers, give every client its own certificate (scripts/gen-certs.sh --client-cn NAME
# reuses an existing CA in DIR), and list the allowed client subjects with
# --admin-allow-subject "CN=prometheus;CN=deploy".  Keys are EC P-256 and written mode 0600.
set -euo pipefail

force=0
days=825
client_cn=recache-admin
dir=""
names=()
while [ $# -gt 0 ]; do
  case "$1" in
    -f) force=1 ;;
    --days) days="$2"; shift ;;
    --client-cn) client_cn="$2"; shift ;;
    -h|--help) sed -n '2,25p' "$0"; exit 0 ;;
    -*) echo "gen-certs.sh: unknown option $1" >&2; exit 2 ;;
    *) if [ -z "$dir" ]; then dir="$1"; else names+=("$1"); fi ;;
  esac
  shift
done
if [ -z "$dir" ]; then
  echo "usage: scripts/gen-certs.sh [-f] DIR [SERVER-NAME...] [--client-cn NAME] [--days N]" >&2
  exit 2
fi
command -v openssl >/dev/null || { echo "gen-certs.sh: openssl is not installed" >&2; exit 1; }
mkdir -p "$dir"
umask 077

if [ "$force" -eq 0 ] && [ -s "$dir/ca.crt" ] && [ -s "$dir/server.crt" ] && [ -s "$dir/client.crt" ]; then
  echo "gen-certs.sh: $dir already holds a certificate set (use -f to replace it)"
  exit 0
fi

key() { openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1" 2>/dev/null; }

if [ "$force" -eq 1 ] || [ ! -s "$dir/ca.key" ] || [ ! -s "$dir/ca.crt" ]; then
  key "$dir/ca.key"
  openssl req -x509 -new -key "$dir/ca.key" -sha256 -days "$days" -subj "/CN=recache dev CA" \
    -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" \
    -out "$dir/ca.crt" 2>/dev/null
fi

san="DNS:localhost,IP:127.0.0.1,IP:::1"
for n in "${names[@]+"${names[@]}"}"; do
  if [[ "$n" =~ ^[0-9.]+$ || "$n" == *:* ]]; then san="$san,IP:$n"; else san="$san,DNS:$n"; fi
done

# sign NAME SUBJECT EXTENSIONS: NAME.key and NAME.crt signed by the CA.
sign() {
  key "$dir/$1.key"
  openssl req -new -key "$dir/$1.key" -subj "$2" -out "$dir/$1.csr" 2>/dev/null
  printf '%b' "$3" > "$dir/$1.ext"
  openssl x509 -req -in "$dir/$1.csr" -CA "$dir/ca.crt" -CAkey "$dir/ca.key" -CAcreateserial \
    -sha256 -days "$days" -extfile "$dir/$1.ext" -out "$dir/$1.crt" 2>/dev/null
  rm -f "$dir/$1.csr" "$dir/$1.ext"
}
sign server "/CN=recache admin port" \
  "basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth\nsubjectAltName=$san\n"
sign client "/CN=$client_cn" \
  "basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=clientAuth\n"
rm -f "$dir/ca.srl"
chmod 600 "$dir"/*.key
echo "gen-certs.sh: wrote ca, server and client certificates to $dir (server names: $san)"
