#!/usr/bin/env bash
# Generate broken and good mutual-TLS set-ups for the diagnosis tests (tests/unit/diag) and,
# later, the live checks against mosquitto. Usage: gen.sh OUTDIR
#
# Every scenario is a directory OUTDIR/<name>/ holding PEM/DER files and a `manifest`:
#   expect=<finding id>|none   the finding mqtls_diag_run must rank first (none: no error)
#   ca= cert= key=             what the CLIENT is given (--cafile --cert --key)
#   keypass=                   password for the client key (absent: none given)
#   server_cert= server_key=   what the BROKER serves (server_cert = leaf + chain as sent)
#   broker_ca=                 the CA file the broker uses to check client certificates
#   host=                      host name the client connects to
#   profile=                   X.509 profile name (default mbedtls-default)
#   now=                       Unix time to diagnose at (absent: the real time)
#   ca_buffer=1                the CA comes from a (ptr,len) buffer API without its NUL
#   facts=                     synthetic handshake facts, comma list: cert_requested,
#                              cert_sent, alert=<n>, ca_names (= broker_ca subject names)
#   live_expect=               what live.sh (real mosquitto) must see instead of `expect`,
#                              when the broker cannot reproduce the synthetic facts
#   live_expect_<engine>=      the same for one TLS engine (MQTLS_TLS_ENGINE: mbedtls2,
#                              mbedtls3, openssl) where the handshake itself differs between
#                              engines (docs/tls-engines.md "Facts parity")
#   broker_ciphers=            mosquitto `ciphers` (OpenSSL 3 refuses to load SHA-1 / P-192
#                              certificates at security level 2 unless lowered)
#   fix_cmd= fix_args= fix_pre= fix_use= fix_text= fix=manual:WHY
#                              the fix recipe tests/scenarios/fix_check.sh applies and proves
#                              (see "fix recipes" at the end of this file)
# No faketime: validity periods come from `openssl ca -startdate/-enddate`.
set -euo pipefail
OUT=${1:?usage: gen.sh OUTDIR}
mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)
WORK=$OUT/.work
rm -rf "$WORK"
mkdir -p "$WORK"

GOOD_START=20240101000000Z
GOOD_END=20491231235959Z
OLD_START=20180101000000Z
OLD_END=20200609000000Z      # like the old test.mosquitto.org CA: ended 2020-06-09
FUTURE_START=20400101000000Z
FUTURE_END=20450101000000Z

cat >"$WORK/ca.cnf" <<'EOF'
[ ca ]
default_ca = CA_default
[ CA_default ]
dir = $ENV::GEN_CADIR
database = $dir/index.txt
new_certs_dir = $dir/newcerts
serial = $dir/serial
default_md = sha256
policy = policy_any
unique_subject = no
copy_extensions = none
preserve = yes
email_in_dn = no
[ policy_any ]
commonName = supplied
organizationName = optional
organizationalUnitName = optional
[ req ]
distinguished_name = req_dn
prompt = no
[ req_dn ]
CN = unused
[ v3_root ]
basicConstraints = critical,CA:TRUE
keyUsage = critical,keyCertSign,cRLSign
subjectKeyIdentifier = hash
[ v3_inter ]
basicConstraints = critical,CA:TRUE,pathlen:0
keyUsage = critical,keyCertSign,cRLSign
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always
[ v3_server ]
basicConstraints = CA:FALSE
keyUsage = critical,digitalSignature,keyEncipherment
extendedKeyUsage = serverAuth
subjectAltName = $ENV::GEN_SAN
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always
[ v3_server_noeku ]
basicConstraints = CA:FALSE
keyUsage = critical,digitalSignature,keyEncipherment
extendedKeyUsage = clientAuth
subjectAltName = $ENV::GEN_SAN
authorityKeyIdentifier = keyid:always
[ v3_client ]
basicConstraints = CA:FALSE
keyUsage = critical,digitalSignature
extendedKeyUsage = clientAuth
authorityKeyIdentifier = keyid:always
[ v3_client_noeku ]
basicConstraints = CA:FALSE
keyUsage = critical,digitalSignature
extendedKeyUsage = serverAuth
authorityKeyIdentifier = keyid:always
[ v3_notca ]
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature,keyCertSign
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always
EOF

# key NAME TYPE: TYPE = rsa2048 | rsa1024 | p256 | p192 | ed25519
key() {
    local f=$WORK/$1.key
    [ -f "$f" ] && return 0
    case $2 in
    rsa*) openssl genpkey -algorithm RSA -pkeyopt "rsa_keygen_bits:${2#rsa}" -out "$f" 2>/dev/null ;;
    p256) openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -pkeyopt ec_param_enc:named_curve -out "$f" ;;
    p192) openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-192 -pkeyopt ec_param_enc:named_curve -out "$f" ;;
    ed25519) openssl genpkey -algorithm ed25519 -out "$f" ;;
    esac
}

# cert OUT KEYNAME SUBJECT ISSUER(name of a cert made before, or "self") ISSUERKEY EXT START END [MD] [SAN]
cert() {
    local out=$1 k=$2 subj=$3 issuer=$4 ikey=$5 ext=$6 start=$7 end=$8 md=${9:-sha256}
    local san=${10:-DNS:localhost,IP:127.0.0.1}
    local cadir=$WORK/cadir
    mkdir -p "$cadir/newcerts"
    : >"$cadir/index.txt"
    [ -f "$cadir/serial" ] || echo 1000 >"$cadir/serial"
    GEN_CADIR=$cadir GEN_SAN=$san openssl req -new -key "$WORK/$k.key" -subj "$subj" \
        -config "$WORK/ca.cnf" -out "$WORK/$out.csr"
    local mdopt=(-md "$md")
    [ "$md" = none ] && mdopt=()
    if [ "$issuer" = self ]; then
        GEN_CADIR=$cadir GEN_SAN=$san openssl ca -batch -notext -config "$WORK/ca.cnf" -selfsign \
            -keyfile "$WORK/$k.key" -in "$WORK/$out.csr" -out "$WORK/$out.crt" \
            -extensions "$ext" -startdate "$start" -enddate "$end" "${mdopt[@]}" 2>/dev/null
    else
        GEN_CADIR=$cadir GEN_SAN=$san openssl ca -batch -notext -config "$WORK/ca.cnf" \
            -cert "$WORK/$issuer.crt" -keyfile "$WORK/$ikey.key" -in "$WORK/$out.csr" \
            -out "$WORK/$out.crt" -extensions "$ext" -startdate "$start" -enddate "$end" \
            "${mdopt[@]}" 2>/dev/null
    fi
}

# --- building blocks ------------------------------------------------------------------------
key root rsa2048; key root2 rsa2048; key other rsa2048; key inter rsa2048
key server rsa2048; key client rsa2048; key client2 rsa2048
key weak rsa1024; key ecroot p256; key ecserver p256; key ecclient p256
key p192 p192; key ed ed25519

O="/O=mqtls-test"
cert root          root   "$O/CN=mqtls Test Root CA" self root v3_root $GOOD_START $GOOD_END
cert server        server "$O/CN=localhost" root root v3_server $GOOD_START $GOOD_END
cert client        client "$O/CN=device-001" root root v3_client $GOOD_START $GOOD_END
cert inter         inter  "$O/CN=mqtls Test Intermediate CA" root root v3_inter $GOOD_START $GOOD_END
cert server_i      server "$O/CN=localhost" inter inter v3_server $GOOD_START $GOOD_END
cert client_i      client "$O/CN=device-002" inter inter v3_client $GOOD_START $GOOD_END
cert ecroot        ecroot "$O/CN=mqtls Test EC Root CA" self ecroot v3_root $GOOD_START $GOOD_END
cert ecserver      ecserver "$O/CN=localhost" ecroot ecroot v3_server $GOOD_START $GOOD_END
cert ecclient      ecclient "$O/CN=device-ec" ecroot ecroot v3_client $GOOD_START $GOOD_END
# Old test.mosquitto.org style: RSA-1024 CA whose own signature is SHA-1.
cert weakroot      weak   "/O=Mosquitto/CN=mosquitto.org" self weak v3_root $GOOD_START $GOOD_END sha1
cert server_weak   server "/O=Mosquitto/CN=localhost" weakroot weak v3_server $GOOD_START $GOOD_END
cert server_sha1   server "$O/CN=localhost" root root v3_server $GOOD_START $GOOD_END sha1
cert server_weakkey weak "$O/CN=localhost" root root v3_server $GOOD_START $GOOD_END
cert server_sha224 server "$O/CN=localhost" root root v3_server $GOOD_START $GOOD_END sha224
cert server_exp    server "$O/CN=localhost" root root v3_server $OLD_START $OLD_END
cert server_fut    server "$O/CN=localhost" root root v3_server $FUTURE_START $FUTURE_END
cert client_exp    client "$O/CN=device-001" root root v3_client $OLD_START $OLD_END
cert client_fut    client "$O/CN=device-001" root root v3_client $FUTURE_START $FUTURE_END
cert otherroot     other  "/O=Other Org/CN=Other Root CA" self other v3_root $GOOD_START $GOOD_END
cert server_other  server "/O=Other Org/CN=localhost" otherroot other v3_server $GOOD_START $GOOD_END
cert client_other  client2 "/O=Other Org/CN=device-009" otherroot other v3_client $GOOD_START $GOOD_END
# Same subject name as `root`, new key: the CA was regenerated.
cert root_regen    root2  "$O/CN=mqtls Test Root CA" self root2 v3_root $GOOD_START $GOOD_END
cert server_name   server "$O/CN=broker.example.com" root root v3_server $GOOD_START $GOOD_END sha256 DNS:broker.example.com
cert server_dnsonly server "$O/CN=localhost" root root v3_server $GOOD_START $GOOD_END sha256 DNS:localhost
cert server_noeku  server "$O/CN=localhost" root root v3_server_noeku $GOOD_START $GOOD_END
cert client_noeku  client "$O/CN=device-001" root root v3_client_noeku $GOOD_START $GOOD_END
cert client_weak   weak   "$O/CN=device-weak" root root v3_client $GOOD_START $GOOD_END
cert notca         other  "$O/CN=mqtls Leaf Used As CA" root root v3_notca $GOOD_START $GOOD_END
cert server_notca  server "$O/CN=localhost" notca other v3_server $GOOD_START $GOOD_END
cert server_self   server "$O/CN=localhost" self server v3_server $GOOD_START $GOOD_END
cert root_exp      root2  "$O/CN=mqtls Old Root CA" self root2 v3_root $OLD_START $OLD_END
cert server_rexp   server "$O/CN=localhost" root_exp root2 v3_server $OLD_START $GOOD_END
cert server_p192   p192   "$O/CN=localhost" ecroot ecroot v3_server $GOOD_START $GOOD_END
cert p192root      p192   "$O/CN=mqtls Test P-192 Root CA" self p192 v3_root $GOOD_START $GOOD_END
cert server_by_p192 ecserver "$O/CN=localhost" p192root p192 v3_server $GOOD_START $GOOD_END
cert client_ed     ed     "$O/CN=device-ed25519" root root v3_client $GOOD_START $GOOD_END

W=$WORK
# scenario NAME key=value... ; then copies files named by the manifest values.
scenario() {
    local name=$1
    shift
    local dir=$OUT/$name
    rm -rf "$dir"
    mkdir -p "$dir"
    : >"$dir/manifest"
    for kv in "$@"; do
        echo "$kv" >>"$dir/manifest"
    done
}
# put SCEN FILE CONTENT-SOURCES... : concatenate sources into SCEN/FILE
put() {
    local dir=$OUT/$1 f=$2
    shift 2
    cat "$@" >"$dir/$f"
}
std() { # SCEN: the usual broker side: server.crt/key from `server`, broker trusts root
    put "$1" server.key $W/server.key
    put "$1" broker-ca.crt $W/root.crt
}
client_ok() { # SCEN: a good client cert/key from root
    put "$1" client.crt $W/client.crt
    put "$1" client.key $W/client.key
}
FILES="ca=ca.crt cert=client.crt key=client.key server_cert=server.crt server_key=server.key broker_ca=broker-ca.crt"

# --- good set-ups ----------------------------------------------------------------------------
s=good-rsa2048; scenario $s expect=none $FILES host=localhost
put $s ca.crt $W/root.crt; put $s server.crt $W/server.crt; std $s; client_ok $s

s=good-ecdsa-p256; scenario $s expect=none $FILES host=localhost
put $s ca.crt $W/ecroot.crt; put $s server.crt $W/ecserver.crt; put $s server.key $W/ecserver.key
put $s broker-ca.crt $W/ecroot.crt; put $s client.crt $W/ecclient.crt; put $s client.key $W/ecclient.key

s=good-intermediate; scenario $s expect=none $FILES host=localhost
put $s ca.crt $W/root.crt; put $s server.crt $W/server_i.crt $W/inter.crt; std $s
put $s client.crt $W/client_i.crt $W/inter.crt; put $s client.key $W/client.key

s=good-der-ca; scenario $s expect=none ca=ca.der cert=client.crt key=client.key \
    server_cert=server.crt server_key=server.key broker_ca=broker-ca.crt host=localhost
openssl x509 -in $W/root.crt -outform DER -out $OUT/$s/ca.der
put $s server.crt $W/server.crt; std $s; client_ok $s

s=good-ip-san; scenario $s expect=none $FILES host=127.0.0.1
put $s ca.crt $W/root.crt; put $s server.crt $W/server.crt; std $s; client_ok $s

s=good-mosquitto-org-new-ca; scenario $s expect=none $FILES host=localhost profile=mbedtls3-default
put $s ca.crt $W/root.crt; put $s server.crt $W/server.crt; std $s; client_ok $s

s=good-der-client; scenario $s expect=none ca=ca.crt cert=client.der key=client-key.der \
    server_cert=server.crt server_key=server.key broker_ca=broker-ca.crt host=localhost
put $s ca.crt $W/root.crt; put $s server.crt $W/server.crt; std $s
openssl x509 -in $W/client.crt -outform DER -out $OUT/$s/client.der
openssl pkey -in $W/client.key -outform DER -out $OUT/$s/client-key.der

# The right root among a system bundle's ~150 (no silent cap on CA files).
if [ -f /etc/ssl/certs/ca-certificates.crt ]; then
    s=good-system-bundle-plus-root; scenario $s expect=none $FILES host=localhost
    put $s ca.crt /etc/ssl/certs/ca-certificates.crt $W/root.crt; put $s server.crt $W/server.crt
    std $s; client_ok $s
fi

# --- chain / trust -----------------------------------------------------------------------------
s=weak-ca-rsa1024; scenario $s expect=weak-key $FILES host=localhost
put $s ca.crt $W/weakroot.crt; put $s server.crt $W/server_weak.crt; std $s; client_ok $s

# The server's OWN key is RSA-1024 (same BAD_KEY flag as a weak CA key).
s=weak-server-key; scenario $s expect=weak-key $FILES host=localhost broker_ciphers=DEFAULT:@SECLEVEL=0
put $s ca.crt $W/root.crt; put $s server.crt $W/server_weakkey.crt; put $s server.key $W/weak.key
put $s broker-ca.crt $W/root.crt; client_ok $s

s=sha1-server-signature; scenario $s expect=weak-signature-hash $FILES host=localhost \
    broker_ciphers=DEFAULT:@SECLEVEL=0
put $s ca.crt $W/root.crt; put $s server.crt $W/server_sha1.crt; std $s; client_ok $s

# SHA-224: fine for mbedTLS 2.28's default (ESP-IDF 4), refused by 3.x's (ESP-IDF 5).
s=sha224-on-mbedtls3; scenario $s expect=weak-signature-hash $FILES host=localhost \
    profile=mbedtls3-default
put $s ca.crt $W/root.crt; put $s server.crt $W/server_sha224.crt; std $s; client_ok $s

s=server-expired; scenario $s expect=server-cert-expired $FILES host=localhost
put $s ca.crt $W/root.crt; put $s server.crt $W/server_exp.crt; std $s; client_ok $s

s=server-not-yet-valid; scenario $s expect=server-cert-not-yet-valid $FILES host=localhost
put $s ca.crt $W/root.crt; put $s server.crt $W/server_fut.crt; std $s; client_ok $s

s=wrong-ca; scenario $s expect=untrusted-issuer $FILES host=localhost
put $s ca.crt $W/root.crt; put $s server.crt $W/server_other.crt; std $s; client_ok $s

s=ca-same-name-different-key; scenario $s expect=ca-same-name-different-key $FILES host=localhost
put $s ca.crt $W/root_regen.crt; put $s server.crt $W/server.crt; std $s; client_ok $s

s=missing-intermediate; scenario $s expect=missing-intermediate $FILES host=localhost
put $s ca.crt $W/root.crt; put $s server.crt $W/server_i.crt; std $s; client_ok $s

s=hostname-mismatch; scenario $s expect=hostname-mismatch $FILES host=localhost
put $s ca.crt $W/root.crt; put $s server.crt $W/server_name.crt; std $s; client_ok $s

s=hostname-ip-not-in-san; scenario $s expect=hostname-mismatch $FILES host=127.0.0.1
put $s ca.crt $W/root.crt; put $s server.crt $W/server_dnsonly.crt; std $s; client_ok $s

s=server-eku-missing; scenario $s expect=server-eku-missing $FILES host=localhost
put $s ca.crt $W/root.crt; put $s server.crt $W/server_noeku.crt; std $s; client_ok $s

s="issuer-not-ca"; scenario $s expect=issuer-not-ca $FILES host=localhost
put $s ca.crt $W/root.crt; put $s server.crt $W/server_notca.crt $W/notca.crt; std $s; client_ok $s

s=server-self-signed; scenario $s expect=server-self-signed $FILES host=localhost
put $s ca.crt $W/root.crt; put $s server.crt $W/server_self.crt; std $s; client_ok $s

s=ca-file-holds-leaf; scenario $s expect=ca-file-holds-leaf $FILES host=localhost
put $s ca.crt $W/server.crt; put $s server.crt $W/server.crt; std $s; client_ok $s

s=ca-expired; scenario $s expect=ca-expired $FILES host=localhost
put $s ca.crt $W/root_exp.crt; put $s server.crt $W/server_rexp.crt; std $s; client_ok $s

s=clock-not-set; scenario $s expect=clock-not-set $FILES host=localhost now=0
put $s ca.crt $W/root.crt; put $s server.crt $W/server.crt; std $s; client_ok $s

# The server's OWN key on P-192: mbedTLS 3.6 (ESP-IDF 5) and OpenSSL do not offer secp192r1,
# so the broker cannot use that key and refuses the handshake (handshake_failure) before any
# certificate is sent; mbedTLS 2.28 offers it, receives the chain and judges it.
s=curve-not-allowed-mbedtls3; scenario $s expect=curve-not-allowed $FILES host=localhost \
    profile=mbedtls3-default broker_ciphers=DEFAULT:@SECLEVEL=0 live_expect=no-shared-cipher \
    live_expect_mbedtls2=curve-not-allowed
put $s ca.crt $W/ecroot.crt; put $s server.crt $W/server_p192.crt; put $s server.key $W/p192.key
put $s broker-ca.crt $W/root.crt; client_ok $s

# The CA's key on P-192, the server's on P-256: every engine gets the chain, and ESP-IDF 5's
# profile (the default) refuses the CA's curve.
s=curve-not-allowed-ca; scenario $s expect=curve-not-allowed $FILES host=localhost
put $s ca.crt $W/p192root.crt; put $s server.crt $W/server_by_p192.crt
put $s server.key $W/ecserver.key; put $s broker-ca.crt $W/root.crt; client_ok $s

# --- client credentials -------------------------------------------------------------------------
s=client-expired; scenario $s expect=client-cert-expired $FILES host=localhost
put $s ca.crt $W/root.crt; put $s server.crt $W/server.crt; std $s
put $s client.crt $W/client_exp.crt; put $s client.key $W/client.key

s=client-not-yet-valid; scenario $s expect=client-cert-not-yet-valid $FILES host=localhost
put $s ca.crt $W/root.crt; put $s server.crt $W/server.crt; std $s
put $s client.crt $W/client_fut.crt; put $s client.key $W/client.key

s=client-eku-missing; scenario $s expect=client-eku-missing $FILES host=localhost
put $s ca.crt $W/root.crt; put $s server.crt $W/server.crt; std $s
put $s client.crt $W/client_noeku.crt; put $s client.key $W/client.key

s=client-key-mismatch; scenario $s expect=client-key-mismatch $FILES host=localhost
put $s ca.crt $W/root.crt; put $s server.crt $W/server.crt; std $s
put $s client.crt $W/client.crt; put $s client.key $W/client2.key

# mosquitto sends no CA names in its CertificateRequest: live, only the alert is seen.
s=client-ca-not-accepted; scenario $s expect=client-ca-not-accepted $FILES host=localhost \
    facts=cert_requested,cert_sent,alert=48,ca_names live_expect=client-cert-rejected
put $s ca.crt $W/root.crt; put $s server.crt $W/server.crt; std $s
put $s client.crt $W/client_other.crt; put $s client.key $W/client2.key

# Synthetic: a broker policy rejects a good certificate; a stock mosquitto accepts it.
s=client-cert-rejected; scenario $s expect=client-cert-rejected $FILES host=localhost \
    facts=cert_requested,cert_sent,alert=42,ca_names live_expect=none
put $s ca.crt $W/root.crt; put $s server.crt $W/server.crt; std $s; client_ok $s

s=client-cert-missing; scenario $s expect=client-cert-missing ca=ca.crt server_cert=server.crt \
    server_key=server.key broker_ca=broker-ca.crt host=localhost facts=cert_requested,alert=40
put $s ca.crt $W/root.crt; put $s server.crt $W/server.crt; std $s

s=client-chain-incomplete; scenario $s expect=client-chain-incomplete $FILES host=localhost
put $s ca.crt $W/root.crt $W/inter.crt; put $s server.crt $W/server.crt; std $s
put $s client.crt $W/client_i.crt; put $s client.key $W/client.key

s=weak-client-key; scenario $s expect=weak-client-key $FILES host=localhost
put $s ca.crt $W/root.crt; put $s server.crt $W/server.crt; std $s
put $s client.crt $W/client_weak.crt; put $s client.key $W/weak.key

# Encrypted keys: AES-256-CBC in the traditional PEM form, which every engine and both
# ESP-IDF versions decrypt (ESP-IDF 5's mbedTLS has no DES: a -des3 key fails there).
s=key-password-required; scenario $s expect=key-password-required $FILES host=localhost
put $s ca.crt $W/root.crt; put $s server.crt $W/server.crt; std $s; put $s client.crt $W/client.crt
openssl pkey -in $W/client.key -aes256 -traditional -passout pass:s3cret -out $OUT/$s/client.key

s=key-password-wrong; scenario $s expect=key-password-wrong $FILES keypass=Not-The-Pass-7 \
    host=localhost
put $s ca.crt $W/root.crt; put $s server.crt $W/server.crt; std $s; put $s client.crt $W/client.crt
openssl pkey -in $W/client.key -aes256 -traditional -passout pass:s3cret -out $OUT/$s/client.key

s=good-encrypted-key; scenario $s expect=none $FILES keypass=s3cret host=localhost
put $s ca.crt $W/root.crt; put $s server.crt $W/server.crt; std $s; put $s client.crt $W/client.crt
openssl pkey -in $W/client.key -aes256 -traditional -passout pass:s3cret -out $OUT/$s/client.key

# OpenSSL 3's default encrypted key: PKCS#8 PBES2 with AES-256-CBC (mbedTLS < 3.5 cannot).
s=key-encryption-unsupported; scenario $s expect=key-encryption-unsupported $FILES keypass=s3cret \
    host=localhost
put $s ca.crt $W/root.crt; put $s server.crt $W/server.crt; std $s; put $s client.crt $W/client.crt
openssl pkey -in $W/client.key -aes-256-cbc -passout pass:s3cret -out $OUT/$s/client.key

s=key-type-unsupported; scenario $s expect=key-type-unsupported $FILES host=localhost
put $s ca.crt $W/root.crt; put $s server.crt $W/server.crt; std $s
put $s client.crt $W/client_ed.crt; put $s client.key $W/ed.key

# --- files ---------------------------------------------------------------------------------------
s=empty-ca-file; scenario $s expect=empty-file $FILES host=localhost
: >$OUT/$s/ca.crt; put $s server.crt $W/server.crt; std $s; client_ok $s

s=pem-truncated; scenario $s expect=pem-truncated $FILES host=localhost
head -c 700 $W/root.crt >$OUT/$s/ca.crt; put $s server.crt $W/server.crt; std $s; client_ok $s

s=ca-file-is-csr; scenario $s expect=not-a-certificate $FILES host=localhost
put $s ca.crt $W/root.csr; put $s server.crt $W/server.crt; std $s; client_ok $s

s=cert-and-key-swapped; scenario $s expect=cert-and-key-swapped $FILES host=localhost
put $s ca.crt $W/root.crt; put $s server.crt $W/server.crt; std $s
put $s client.crt $W/client.key; put $s client.key $W/client.crt

s=pem-not-nul-terminated; scenario $s expect=pem-not-nul-terminated $FILES host=localhost ca_buffer=1
put $s ca.crt $W/root.crt; put $s server.crt $W/server.crt; std $s; client_ok $s

# --- fix recipes: what tests/scenarios/fix_check.sh applies and then proves working ------------
# Every broken scenario says how its top finding's fix is applied to its own files:
#   fix_cmd=   the command the finding's fix text gives, verbatim (fix_check.sh asserts the text
#              contains it, so text and recipe cannot drift), run in a copy of the scenario
#   fix_args=  arguments appended when running fix_cmd: what the text leaves to a prompt
#              (openssl asks for the key password)
#   fix_pre=   a step the text describes but cannot spell out (fetch the right file again),
#              simulated with a file the operator would hand out
#   fix_use=   "k=v ..." manifest values after the fix (new --cert/--key/--cafile, broker
#              certfile, keypass_file); every non-empty value must appear in the fix text
#   fix_text=  more text the fix must contain
#   fix=manual:WHY   cannot be applied automatically (counted by fix_check.sh, not skipped)
#   fix_engines=     the TLS engines whose live finding the recipe answers (others see
#              another one: live_expect); fix_check.sh checks it there only
# ca.key next to ca.crt: the "own PKI" layout of `mqtls pki` (DIR/ca.crt + DIR/ca.key), which
# the fix texts address as the folder of --cafile.
fixes() {
    local s=$1
    shift
    local kv
    for kv in "$@"; do echo "$kv" >>"$OUT/$s/manifest"; done
}
PKI_SERVER="fix_cmd=mqtls pki server . --name localhost --force"
PKI_CLIENT="fix_cmd=mqtls pki client . --name device-001 --force"
USE_CLIENT="fix_use=cert=device-001.crt key=device-001.key"
for s in weak-server-key sha1-server-signature sha224-on-mbedtls3 server-expired \
    server-not-yet-valid wrong-ca hostname-mismatch server-eku-missing issuer-not-ca \
    server-self-signed; do
    put $s ca.key $W/root.key; fixes $s "$PKI_SERVER"
done
put ca-same-name-different-key ca.key $W/root2.key
fixes ca-same-name-different-key "$PKI_SERVER"
put curve-not-allowed-mbedtls3 ca.key $W/ecroot.key
fixes curve-not-allowed-mbedtls3 "$PKI_SERVER" "fix_engines=mbedtls2"
put curve-not-allowed-ca ca.key $W/p192.key
fixes curve-not-allowed-ca \
    "fix_cmd=mqtls pki init . --force && mqtls pki server . --name localhost --force"
put hostname-ip-not-in-san ca.key $W/root.key
fixes hostname-ip-not-in-san "fix_cmd=mqtls pki server . --name localhost --ip 127.0.0.1 --force"
fixes weak-ca-rsa1024 \
    "fix_cmd=mqtls pki init . --force && mqtls pki server . --name localhost --force"
put missing-intermediate intermediate.crt $W/inter.crt
fixes missing-intermediate "fix_cmd=cat server.crt intermediate.crt > server-chain.crt" \
    "fix_use=server_cert=server-chain.crt"
fixes ca-file-holds-leaf "fix_pre=cp broker-ca.crt ca.crt" \
    "fix_cmd=openssl x509 -in ca.crt -noout -subject -ext basicConstraints"
put ca-expired ca.key $W/root2.key
fixes ca-expired \
    "fix_cmd=openssl x509 -in ca.crt -signkey ca.key -days 3650 -sha256 -out ca-renewed.crt" \
    "fix_use=ca=ca-renewed.crt"
fixes clock-not-set \
    "fix=manual:the device clock is wrong (now=0); setting a clock is not a file change"
for s in client-expired client-not-yet-valid client-eku-missing client-key-mismatch \
    client-cert-missing key-type-unsupported; do
    put $s ca.key $W/root.key; fixes $s "$PKI_CLIENT" "$USE_CLIENT"
done
put client-ca-not-accepted ca.key $W/root.key
fixes client-ca-not-accepted "fix_cmd=mqtls pki client . --name device-009 --force" \
    "fix_use=cert=device-009.crt key=device-009.key"
put weak-client-key ca.key $W/root.key
fixes weak-client-key "fix_cmd=mqtls pki client . --name device-weak --force" \
    "fix_use=cert=device-weak.crt key=device-weak.key"
fixes client-cert-rejected \
    "fix=manual:synthetic broker policy (alert 42); a stock mosquitto accepts this certificate"
put client-chain-incomplete intermediate.crt $W/inter.crt
fixes client-chain-incomplete "fix_cmd=cat 'client.crt' intermediate.crt > client-chain.crt" \
    "fix_use=cert=client-chain.crt"
for s in key-password-required key-password-wrong; do
    fixes $s "fix_pre=printf 's3cret\n' >key.pass" "fix_use=keypass= keypass_file=key.pass" \
        "fix_text=--keypass-file key.pass"
done
fixes key-encryption-unsupported \
    "fix_cmd=openssl pkey -in 'client.key' -aes256 -traditional -out client-legacy.key" \
    "fix_args=-passin pass:s3cret -passout pass:s3cret" "fix_use=key=client-legacy.key"
fixes empty-ca-file "fix_pre=cp broker-ca.crt ca.crt" \
    "fix_cmd=openssl x509 -in 'ca.crt' -noout -subject"
fixes pem-truncated "fix_pre=cp broker-ca.crt ca.crt" \
    "fix_cmd=openssl x509 -in 'ca.crt' -noout -subject -enddate"
fixes ca-file-is-csr "fix_pre=cp broker-ca.crt ca.crt" \
    "fix_cmd=openssl x509 -in 'ca.crt' -noout -subject"
fixes cert-and-key-swapped "fix_use=cert=client.key key=client.crt" \
    "fix_text=--cert 'client.key' --key 'client.crt'"
fixes pem-not-nul-terminated \
    "fix=manual:the buffer API (ESP-IDF EMBED_TXTFILES) is a firmware build change, not a file"

rm -rf "$WORK"
ls "$OUT" | wc -l | sed 's/^/scenarios: /'
