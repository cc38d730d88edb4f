#!/usr/bin/env bash
# make-pki.sh DIR — a good test PKI made with openssl (independent of `mqtls pki`):
#   ca.crt/ca.key          ECDSA P-256 CA "mqtls test CA", CA:TRUE, keyCertSign
#   server.crt/server.key  CN=localhost, SAN DNS:localhost IP:127.0.0.1 IP:::1, serverAuth
#   client.crt/client.key  CN=test-client, clientAuth
#   other-ca.crt/.key, other-client.crt/.key  a second, unrelated CA and a client it signed
#   weak-ca.crt/.key       RSA-1024 CA (below mbedTLS's default profile: the -0x2700 BAD_KEY case)
#   weak-server.crt/.key   CN=localhost server cert (RSA-2048, SHA-256) signed by weak-ca
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
# The ESP32 / test.mosquitto.org case: a CA whose key is RSA-1024.
openssl genrsa -out weak-ca.key 1024 2>/dev/null
openssl req -new -x509 -key weak-ca.key -out weak-ca.crt -days 3650 -sha256 \
  -subj "/CN=mqtls weak RSA-1024 CA" -addext "basicConstraints=critical,CA:TRUE" \
  -addext "keyUsage=critical,keyCertSign,cRLSign" 2>/dev/null
openssl genrsa -out weak-server.key 2048 2>/dev/null
openssl req -new -key weak-server.key -out weak-server.csr -subj "/CN=localhost" 2>/dev/null
printf '%s\n' "basicConstraints=critical,CA:FALSE" "keyUsage=critical,digitalSignature,keyEncipherment" \
  "extendedKeyUsage=serverAuth" "subjectAltName=DNS:localhost,IP:127.0.0.1,IP:::1" > weak-server.ext
openssl x509 -req -in weak-server.csr -CA weak-ca.crt -CAkey weak-ca.key -CAcreateserial \
  -out weak-server.crt -days 825 -sha256 -extfile weak-server.ext 2>/dev/null
rm -f weak-server.csr weak-server.ext
chmod 644 ./*.crt
chmod 600 ./*.key
rm -f ./*.srl
