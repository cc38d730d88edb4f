#!/usr/bin/env bash
# make-profile-pki.sh DIR — server chains that the X.509 profiles (tls.h) judge differently,
# made with openssl (independent of `mqtls pki`). Every server certificate is CN=localhost with
# SAN DNS:localhost IP:127.0.0.1, serverAuth, SHA-256, valid now.
#   rsa-ca.crt, rsa-server.crt/.key    RSA-2048 CA and server: any default accepts it, suiteb
#                                      (ECDSA only) does not
#   p192-ca.crt, p192-server.crt/.key  a P-192 CA signing a P-256 server: mbedTLS 2.28's default
#                                      accepts any curve; openssl-seclevel2 (>= 224 bits) and the
#                                      3.x default (>= 128-bit security) do not
#   k256-ca.crt, k256-server.crt/.key  a secp256k1 CA signing a P-256 server: 2.28's default and
#                                      mbedtls-next accept it, 3.6's default does not (its curve
#                                      list has no Koblitz curve)
#   sha224-server.crt/.key             RSA-2048, signed by rsa-ca with SHA-224: 2.28's default
#                                      accepts it, 3.6's (SHA-256 and up) does not
set -euo pipefail
dir=${1:?usage: make-profile-pki.sh DIR}
mkdir -p "$dir"
cd "$dir"
umask 077

make_ca() { # name cn keyfile
  openssl req -new -x509 -key "$3" -out "$1.crt" -days 3650 -sha256 -subj "/CN=$2" \
    -addext "basicConstraints=critical,CA:TRUE" \
    -addext "keyUsage=critical,keyCertSign,cRLSign" 2>/dev/null
}

make_server() { # name ca-name keyfile [digest]
  openssl req -new -key "$3" -out "$1.csr" -subj "/CN=localhost" 2>/dev/null
  printf '%s\n' "basicConstraints=critical,CA:FALSE" \
    "keyUsage=critical,digitalSignature,keyEncipherment" "extendedKeyUsage=serverAuth" \
    "subjectAltName=DNS:localhost,IP:127.0.0.1" > "$1.ext"
  openssl x509 -req -in "$1.csr" -CA "$2.crt" -CAkey "$2.key" -CAcreateserial \
    -out "$1.crt" -days 825 "-${4:-sha256}" -extfile "$1.ext" 2>/dev/null
  rm -f "$1.csr" "$1.ext"
}

openssl genrsa -out rsa-ca.key 2048 2>/dev/null
make_ca rsa-ca "mqtls profile RSA-2048 CA" rsa-ca.key
openssl genrsa -out rsa-server.key 2048 2>/dev/null
make_server rsa-server rsa-ca rsa-server.key

openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-192 -out p192-ca.key 2>/dev/null
make_ca p192-ca "mqtls profile P-192 CA" p192-ca.key
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out p192-server.key 2>/dev/null
make_server p192-server p192-ca p192-server.key

openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:secp256k1 -out k256-ca.key 2>/dev/null
make_ca k256-ca "mqtls profile secp256k1 CA" k256-ca.key
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out k256-server.key 2>/dev/null
make_server k256-server k256-ca k256-server.key

openssl genrsa -out sha224-server.key 2048 2>/dev/null
make_server sha224-server rsa-ca sha224-server.key sha224

chmod 644 ./*.crt
chmod 600 ./*.key
rm -f ./*.srl
