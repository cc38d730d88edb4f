#!/usr/bin/env bash
# Regenerate tests/fuzz/corpus/certinfo: the certificates and keys of the test PKI
# (tests/harness/make-pki.sh; throwaway keys made for this corpus), in the forms users have them:
# PEM, DER, chains, PKCS#8 / SEC1 / PKCS#1, encrypted, a CSR, a public key, an Ed25519 certificate
# mbedTLS cannot parse.
#   tests/fuzz/seeds-certinfo.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
out=tests/fuzz/corpus/certinfo
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
bash tests/harness/make-pki.sh "$work" >/dev/null
rm -rf "$out"
mkdir -p "$out"
for f in ca.crt server.crt client.crt weak-ca.crt weak-server.crt server.key weak-ca.key; do
  cp "$work/$f" "$out/$f"
done
cat "$work/server.crt" "$work/ca.crt" >"$out/chain.pem"
openssl x509 -in "$work/server.crt" -outform DER -out "$out/server.der"
cat "$out/server.der" >"$out/two.der"
openssl x509 -in "$work/ca.crt" -outform DER >>"$out/two.der"
openssl pkey -in "$work/client.key" -outform DER -out "$out/client-key.der"
openssl ec -in "$work/client.key" -out "$out/client-sec1.key" 2>/dev/null
openssl rsa -in "$work/weak-server.key" -traditional -out "$out/weak-server-pkcs1.key" 2>/dev/null
openssl pkcs8 -topk8 -in "$work/client.key" -v2 aes-256-cbc -passout pass:x \
  -out "$out/client-pkcs8-aes.key"
openssl ec -in "$work/client.key" -aes128 -passout pass:x -out "$out/client-legacy-enc.key" 2>/dev/null
openssl pkey -in "$work/client.key" -pubout -out "$out/client-pub.pem"
openssl req -new -key "$work/client.key" -subj "/CN=csr" -out "$out/client.csr"
openssl req -x509 -newkey ed25519 -keyout "$out/ed25519.key" -nodes -subj "/CN=ed25519" \
  -days 30 -out "$out/ed25519.crt" 2>/dev/null
echo "$(ls "$out" | wc -l) seeds in $out"
