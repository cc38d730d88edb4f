#!/usr/bin/env bash
# make-pki.sh DIR — a good test PKI made with openssl (independent of `mqtls pki`):
#   ca.crt/ca.key          ECDSA P-256 CA "mqtls test CA", CA:TRUE, keyCertSign
#   server.crt/server.key  CN=localhost, SAN DNS:localhost IP:127.0.0.1 IP:::1, serverAuth
#   client.crt/client.key  CN=test-client, clientAuth
#   other-ca.crt/.key, other-client.crt/.key  a second, unrelated CA and a client it signed
set -euo pipefail
dir=${1:?usage: make-pki.sh DIR}
mkdir -p "$dir"
cd "$dir"
umask 077

ec_key() { openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1" 2>/dev/null; }

make_ca() { # name cn
  ec_key "$1.key"
  openssl req -new -x509 -key "$1.key" -out "$1.crt" -days 3650 -sha256 -subj "/CN=$2" \
    -addext "basicConstraints=critical,CA:TRUE" \
    -addext "keyUsage=critical,keyCertSign,cRLSign" \
    -addext "subjectKeyIdentifier=hash" 2>/dev/null
}

make_leaf() { # name cn ca ext-lines...
  local name=$1 cn=$2 ca=$3; shift 3
  ec_key "$name.key"
  openssl req -new -key "$name.key" -out "$name.csr" -subj "/CN=$cn" 2>/dev/null
  printf '%s\n' "$@" > "$name.ext"
  openssl x509 -req -in "$name.csr" -CA "$ca.crt" -CAkey "$ca.key" -CAcreateserial \
    -out "$name.crt" -days 825 -sha256 -extfile "$name.ext" 2>/dev/null
  rm -f "$name.csr" "$name.ext"
}

make_ca ca "mqtls test CA"
make_leaf server localhost ca \
  "basicConstraints=critical,CA:FALSE" "keyUsage=critical,digitalSignature" \
  "extendedKeyUsage=serverAuth" "subjectAltName=DNS:localhost,IP:127.0.0.1,IP:::1"
make_leaf client test-client ca \
  "basicConstraints=critical,CA:FALSE" "keyUsage=critical,digitalSignature" \
  "extendedKeyUsage=clientAuth"
make_ca other-ca "mqtls other CA"
make_leaf other-client other-client other-ca \
  "basicConstraints=critical,CA:FALSE" "keyUsage=critical,digitalSignature" \
  "extendedKeyUsage=clientAuth"
chmod 644 ./*.crt
chmod 600 ./*.key
rm -f ./*.srl
