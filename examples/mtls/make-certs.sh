#!/usr/bin/env bash
# Makes throwaway certificates for the mutual-TLS example into examples/mtls/certs/ (git-ignored):
#   ca.pem / ca.key            a private certificate authority that signs everything below
#   server.pem / server.key    the server, valid for localhost and 127.0.0.1
#   alice.pem / alice.key      a client the server's allow-list accepts (CN=alice)
#   mallory.pem / mallory.key  a client signed by the same CA but NOT on the allow-list (CN=mallory)
#   rogue-ca.pem, rogue.pem/.key  a client from a CA the server does not trust at all
# Usage: bash examples/mtls/make-certs.sh [--force]   (skips the work when the certs already exist)
set -euo pipefail
out="$(cd "$(dirname "$0")" && pwd)/certs"
if [ -f "$out/rogue.pem" ] && [ "${1:-}" != "--force" ]; then
  echo "certificates already in $out (use --force to make new ones)"
  exit 0
fi
command -v openssl >/dev/null || { echo "openssl is needed to make the certificates" >&2; exit 1; }
rm -rf "$out" && mkdir -p "$out" && cd "$out"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
DAYS=30

ca() { # name subject
  openssl req -x509 -newkey rsa:2048 -nodes -sha256 -days "$DAYS" -keyout "$1.key" -out "$1.pem" -subj "$2" \
    -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" 2>/dev/null
}
sign() { # name subject ca extensions
  openssl req -newkey rsa:2048 -nodes -sha256 -keyout "$1.key" -out "$tmp/$1.csr" -subj "$2" 2>/dev/null
  printf '%s\n' "$4" > "$tmp/$1.ext"
  openssl x509 -req -in "$tmp/$1.csr" -CA "$3.pem" -CAkey "$3.key" -CAcreateserial -CAserial "$tmp/$3.srl" \
    -days "$DAYS" -sha256 -out "$1.pem" -extfile "$tmp/$1.ext" 2>/dev/null
}
CLIENT_EXT="basicConstraints=CA:FALSE
keyUsage=critical,digitalSignature,keyEncipherment
extendedKeyUsage=clientAuth"

ca ca "/CN=proto-example-ca"
sign server "/CN=localhost" ca "basicConstraints=CA:FALSE
keyUsage=critical,digitalSignature,keyEncipherment
extendedKeyUsage=serverAuth
subjectAltName=DNS:localhost,IP:127.0.0.1"
sign alice "/CN=alice" ca "$CLIENT_EXT"
sign mallory "/CN=mallory" ca "$CLIENT_EXT"
ca rogue-ca "/CN=rogue-ca"
sign rogue "/CN=alice" rogue-ca "$CLIENT_EXT"
chmod 600 ./*.key
echo "certificates written to $out"
