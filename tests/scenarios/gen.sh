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
#                              when the broker cannot reproduce the synthetic facts, or when
#                              only the broker's configuration shows the problem
#   live_expect_<engine>=      the same for one TLS engine (MQTLS_TLS_ENGINE: mbedtls2,
#                              mbedtls3, openssl) where the handshake itself differs between
#                              engines (docs/tls-engines.md "Facts parity")
#   broker_ciphers=            mosquitto `ciphers` (OpenSSL 3 refuses to load SHA-1 / P-192
#                              certificates at security level 2 unless lowered)
#   broker_conf=               more mosquitto.conf lines, ';'-separated, paths relative to the
#                              scenario (tls_version tlsv1.3; crlfile broker/crl.pem)
#   server_name=               --tls-server-name
#   ca_default=1               no --cafile: the system bundle is used (and said so)
#   msg_has=                   text the first finding's message must contain
#   expect_severity=warning    `expect` is a warning: doctor still says ok (exit 0) with it
#                              first (live.sh, fix_check.sh); after its fix it is gone
#   not_has=                   finding ids that must not be reported (comma list)
#   pin=                       the client's --pin value(s), space-separated sha256//BASE64
#                              (live only: tests/unit/diag computes the leaf's pin and sets
#                              the facts a mismatch leaves; doctor --offline has no server key)
#   via=reset-proxy            the client reaches the broker through tests/scenarios/
#                              reset_proxy.py, which resets the connection without an alert
#                              after the server's first flight (live.sh, fix_check.sh start it;
#                              tests/unit/diag gives the facts such a reset leaves;
#                              doctor_offline.sh has no connection to reset)
#   fix_has= fix_pre= fix_use= fix_args= fix_changes= fix=manual:WHY
#                              the fix, as tests/scenarios/fix_check.sh applies and proves it
#                              (see "fix recipes" at the end of this file)
# The broker's files live in <name>/broker/, the client's in <name>/: what lies beside the
# client's files is what `mqtls doctor` may point at ("the key that belongs to it lies beside
# it"). No faketime: validity periods come from `openssl ca -startdate/-enddate`.
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
crlnumber = $dir/crlnumber
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
[ v3_inter2 ]
basicConstraints = critical,CA:TRUE
keyUsage = critical,keyCertSign,cRLSign
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always
[ v3_root_nc ]
basicConstraints = critical,CA:TRUE
keyUsage = critical,keyCertSign,cRLSign
subjectKeyIdentifier = hash
nameConstraints = critical,permitted;DNS:localhost,permitted;IP:127.0.0.1/255.255.255.255
[ v3_server_keyenc ]
basicConstraints = CA:FALSE
keyUsage = critical,keyEncipherment
extendedKeyUsage = serverAuth
subjectAltName = $ENV::GEN_SAN
authorityKeyIdentifier = keyid:always
[ v3_client_self ]
basicConstraints = CA:FALSE
keyUsage = critical,digitalSignature
extendedKeyUsage = clientAuth
subjectKeyIdentifier = hash
[ v3_client_keyenc ]
basicConstraints = CA:FALSE
keyUsage = critical,keyEncipherment
extendedKeyUsage = clientAuth
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
    p384) openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-384 -pkeyopt ec_param_enc:named_curve -out "$f" ;;
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
key p192 p192; key ed ed25519; key p384 p384; key inter2 rsa2048; key cnroot p256
key cninter p256; key cnother p256; key client3 p256

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
# --- the wider catalogue (diag2) ---
# CN-only names, as `mqtls pki` makes them: a root, an intermediate, an unrelated root.
cert cnroot        cnroot  "/CN=Home Root CA" self cnroot v3_root $GOOD_START $GOOD_END
cert cninter       cninter "/CN=Home Intermediate CA" cnroot cnroot v3_inter $GOOD_START $GOOD_END
cert cnserver_i    ecserver "/CN=localhost" cninter cninter v3_server $GOOD_START $GOOD_END
cert cnclient      ecclient "/CN=device-cn" cnroot cnroot v3_client $GOOD_START $GOOD_END
cert cnother       cnother "/CN=Office Root CA" self cnother v3_root $GOOD_START $GOOD_END
cert cnserver_o    ecserver "/CN=localhost" cnother cnother v3_server $GOOD_START $GOOD_END
# An intermediate that expired; a chain longer than the root's pathlen allows.
cert inter_exp     inter  "$O/CN=mqtls Old Intermediate CA" root root v3_inter $OLD_START $OLD_END
cert server_iexp   server "$O/CN=localhost" inter_exp inter v3_server $OLD_START $GOOD_END
cert inter2        inter2 "$O/CN=mqtls Test Sub-Intermediate CA" inter inter v3_inter2 $GOOD_START $GOOD_END
cert server_i2     server "$O/CN=localhost" inter2 inter2 v3_server $GOOD_START $GOOD_END
# keyUsage without digitalSignature; P-384; a wildcard name; Ed25519 server; name constraints.
cert server_keyenc server "$O/CN=localhost" root root v3_server_keyenc $GOOD_START $GOOD_END
cert client_keyenc client "$O/CN=device-001" root root v3_client_keyenc $GOOD_START $GOOD_END
cert ecroot384     p384   "$O/CN=mqtls Test P-384 Root CA" self p384 v3_root $GOOD_START $GOOD_END sha384
cert ecserver384   ecserver "$O/CN=localhost" ecroot384 p384 v3_server $GOOD_START $GOOD_END sha384
cert ecclient384   client3 "$O/CN=device-384" ecroot384 p384 v3_client $GOOD_START $GOOD_END sha384
cert server_wild   server "$O/CN=broker.example.test" root root v3_server $GOOD_START $GOOD_END sha256 DNS:*.example.test
cert server_ed     ed     "$O/CN=localhost" root root v3_server $GOOD_START $GOOD_END
cert ncroot        root2  "$O/CN=mqtls Constrained Root CA" self root2 v3_root_nc $GOOD_START $GOOD_END
cert server_nc     server "$O/CN=localhost" ncroot root2 v3_server $GOOD_START $GOOD_END
cert client_self   client "$O/CN=device-001" self client v3_client_self $GOOD_START $GOOD_END
cert client_sha1   client "$O/CN=device-001" root root v3_client $GOOD_START $GOOD_END sha1
cert client_rev    client2 "$O/CN=device-rev" root root v3_client $GOOD_START $GOOD_END
# The broker's CRL revokes client_rev (mosquitto crlfile).
crl_revoking() { # OUT CERT: a CRL of `root` that lists CERT
    local d=$WORK/crlca
    rm -rf "$d"; mkdir -p "$d/newcerts"; : >"$d/index.txt"; echo 1000 >"$d/serial"
    echo 01 >"$d/crlnumber"
    GEN_CADIR=$d GEN_SAN=DNS:x openssl ca -config "$WORK/ca.cnf" -cert "$WORK/root.crt" \
        -keyfile "$WORK/root.key" -revoke "$WORK/$2.crt" -batch 2>/dev/null
    GEN_CADIR=$d GEN_SAN=DNS:x openssl ca -config "$WORK/ca.cnf" -cert "$WORK/root.crt" \
        -keyfile "$WORK/root.key" -gencrl -crldays 3650 -out "$1" -batch 2>/dev/null
}

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
    mkdir -p "$(dirname "$dir/$f")"
    cat "$@" >"$dir/$f"
}
std() { # SCEN: the usual broker side: server.crt/key from `server`, broker trusts root
    put "$1" broker/server.key $W/server.key
    put "$1" broker/broker-ca.crt $W/root.crt
}
client_ok() { # SCEN: a good client cert/key from root
    put "$1" client.crt $W/client.crt
    put "$1" client.key $W/client.key
}
BROKER="server_cert=broker/server.crt server_key=broker/server.key broker_ca=broker/broker-ca.crt"
FILES="ca=ca.crt cert=client.crt key=client.key $BROKER"

# --- good set-ups ----------------------------------------------------------------------------
s=good-rsa2048; scenario $s expect=none $FILES host=localhost
put $s ca.crt $W/root.crt; put $s broker/server.crt $W/server.crt; std $s; client_ok $s

s=good-ecdsa-p256; scenario $s expect=none $FILES host=localhost
put $s ca.crt $W/ecroot.crt; put $s broker/server.crt $W/ecserver.crt; put $s broker/server.key $W/ecserver.key
put $s broker/broker-ca.crt $W/ecroot.crt; put $s client.crt $W/ecclient.crt; put $s client.key $W/ecclient.key

s=good-intermediate; scenario $s expect=none $FILES host=localhost
put $s ca.crt $W/root.crt; put $s broker/server.crt $W/server_i.crt $W/inter.crt; std $s
put $s client.crt $W/client_i.crt $W/inter.crt; put $s client.key $W/client.key

s=good-der-ca; scenario $s expect=none ca=ca.der cert=client.crt key=client.key \
    $BROKER host=localhost
openssl x509 -in $W/root.crt -outform DER -out $OUT/$s/ca.der
put $s broker/server.crt $W/server.crt; std $s; client_ok $s

s=good-ip-san; scenario $s expect=none $FILES host=127.0.0.1
put $s ca.crt $W/root.crt; put $s broker/server.crt $W/server.crt; std $s; client_ok $s

# Connecting by IP to a certificate with the IP as an iPAddress SAN only: right, and mqtls
# accepts it, but a device on mbedTLS < 3.5 (esp-idf-4) matches the host against dNSName SANs
# only. The CA folder is laid out as `mqtls pki` keeps it, with the broker's current
# server.crt/server.key beside ca.crt/ca.key: a fix that re-issued with `mqtls pki server
# --force` into that folder would replace them (fix_check.sh proves they stay).
s=ip-san-old-mbedtls; scenario $s expect=ip-san-old-mbedtls expect_severity=warning $FILES \
    host=127.0.0.1 profile=esp-idf-4
put $s ca.crt $W/root.crt; put $s ca.key $W/root.key; put $s broker/server.crt $W/server.crt
std $s; client_ok $s; put $s server.crt $W/server.crt; put $s server.key $W/server.key

s=good-mosquitto-org-new-ca; scenario $s expect=none $FILES host=localhost profile=mbedtls3-default
put $s ca.crt $W/root.crt; put $s broker/server.crt $W/server.crt; std $s; client_ok $s

s=good-der-client; scenario $s expect=none ca=ca.crt cert=client.der key=client-key.der \
    $BROKER host=localhost
put $s ca.crt $W/root.crt; put $s broker/server.crt $W/server.crt; std $s
openssl x509 -in $W/client.crt -outform DER -out $OUT/$s/client.der
openssl pkey -in $W/client.key -outform DER -out $OUT/$s/client-key.der

# The right root among a system bundle's ~150 (no silent cap on CA files).
if [ -f /etc/ssl/certs/ca-certificates.crt ]; then
    s=good-system-bundle-plus-root; scenario $s expect=none $FILES host=localhost
    put $s ca.crt /etc/ssl/certs/ca-certificates.crt $W/root.crt; put $s broker/server.crt $W/server.crt
    std $s; client_ok $s
fi

# --- chain / trust -----------------------------------------------------------------------------
s=weak-ca-rsa1024; scenario $s expect=weak-key $FILES host=localhost
put $s ca.crt $W/weakroot.crt; put $s broker/server.crt $W/server_weak.crt; std $s; client_ok $s

# The server's OWN key is RSA-1024 (same BAD_KEY flag as a weak CA key).
s=weak-server-key; scenario $s expect=weak-key $FILES host=localhost broker_ciphers=DEFAULT:@SECLEVEL=0
put $s ca.crt $W/root.crt; put $s broker/server.crt $W/server_weakkey.crt; put $s broker/server.key $W/weak.key
put $s broker/broker-ca.crt $W/root.crt; client_ok $s

s=sha1-server-signature; scenario $s expect=weak-signature-hash $FILES host=localhost \
    broker_ciphers=DEFAULT:@SECLEVEL=0
put $s ca.crt $W/root.crt; put $s broker/server.crt $W/server_sha1.crt; std $s; client_ok $s

# SHA-224: fine for mbedTLS 2.28's default (ESP-IDF 4), refused by 3.x's (ESP-IDF 5).
s=sha224-on-mbedtls3; scenario $s expect=weak-signature-hash $FILES host=localhost \
    profile=mbedtls3-default
put $s ca.crt $W/root.crt; put $s broker/server.crt $W/server_sha224.crt; std $s; client_ok $s

s=server-expired; scenario $s expect=server-cert-expired $FILES host=localhost
put $s ca.crt $W/root.crt; put $s broker/server.crt $W/server_exp.crt; std $s; client_ok $s

s=server-not-yet-valid; scenario $s expect=server-cert-not-yet-valid $FILES host=localhost
put $s ca.crt $W/root.crt; put $s broker/server.crt $W/server_fut.crt; std $s; client_ok $s

s=wrong-ca; scenario $s expect=untrusted-issuer $FILES host=localhost
put $s ca.crt $W/root.crt; put $s broker/server.crt $W/server_other.crt; std $s; client_ok $s

s=ca-same-name-different-key; scenario $s expect=ca-same-name-different-key $FILES host=localhost
put $s ca.crt $W/root_regen.crt; put $s broker/server.crt $W/server.crt; std $s; client_ok $s

s=missing-intermediate; scenario $s expect=missing-intermediate $FILES host=localhost
put $s ca.crt $W/root.crt; put $s broker/server.crt $W/server_i.crt; std $s; client_ok $s

s=hostname-mismatch; scenario $s expect=hostname-mismatch $FILES host=localhost
put $s ca.crt $W/root.crt; put $s broker/server.crt $W/server_name.crt; std $s; client_ok $s

s=hostname-ip-not-in-san; scenario $s expect=hostname-mismatch $FILES host=127.0.0.1
put $s ca.crt $W/root.crt; put $s broker/server.crt $W/server_dnsonly.crt; std $s; client_ok $s

s=server-eku-missing; scenario $s expect=server-eku-missing $FILES host=localhost
put $s ca.crt $W/root.crt; put $s broker/server.crt $W/server_noeku.crt; std $s; client_ok $s

s="issuer-not-ca"; scenario $s expect=issuer-not-ca $FILES host=localhost
put $s ca.crt $W/root.crt; put $s broker/server.crt $W/server_notca.crt $W/notca.crt; std $s; client_ok $s

s=server-self-signed; scenario $s expect=server-self-signed $FILES host=localhost
put $s ca.crt $W/root.crt; put $s broker/server.crt $W/server_self.crt; std $s; client_ok $s

s=ca-file-holds-leaf; scenario $s expect=ca-file-holds-leaf $FILES host=localhost
put $s ca.crt $W/server.crt; put $s broker/server.crt $W/server.crt; std $s; client_ok $s

s=ca-expired; scenario $s expect=ca-expired $FILES host=localhost
put $s ca.crt $W/root_exp.crt; put $s broker/server.crt $W/server_rexp.crt; std $s; client_ok $s

s=clock-not-set; scenario $s expect=clock-not-set $FILES host=localhost now=0
put $s ca.crt $W/root.crt; put $s broker/server.crt $W/server.crt; std $s; client_ok $s

# The server's OWN key on P-192: mbedTLS 3.6 (ESP-IDF 5) and OpenSSL do not offer secp192r1,
# so the broker cannot use that key and refuses the handshake (handshake_failure) before any
# certificate is sent; mbedTLS 2.28 offers it, receives the chain and judges it.
s=curve-not-allowed-mbedtls3; scenario $s expect=curve-not-allowed $FILES host=localhost \
    profile=mbedtls3-default broker_ciphers=DEFAULT:@SECLEVEL=0 live_expect=no-shared-cipher \
    live_expect_mbedtls2=curve-not-allowed
put $s ca.crt $W/ecroot.crt; put $s broker/server.crt $W/server_p192.crt; put $s broker/server.key $W/p192.key
put $s broker/broker-ca.crt $W/root.crt; client_ok $s

# The CA's key on P-192, the server's on P-256: every engine gets the chain, and ESP-IDF 5's
# profile (the default) refuses the CA's curve.
s=curve-not-allowed-ca; scenario $s expect=curve-not-allowed $FILES host=localhost
put $s ca.crt $W/p192root.crt; put $s broker/server.crt $W/server_by_p192.crt
put $s broker/server.key $W/ecserver.key; put $s broker/broker-ca.crt $W/root.crt; client_ok $s

# --- client credentials -------------------------------------------------------------------------
s=client-expired; scenario $s expect=client-cert-expired $FILES host=localhost
put $s ca.crt $W/root.crt; put $s broker/server.crt $W/server.crt; std $s
put $s client.crt $W/client_exp.crt; put $s client.key $W/client.key

s=client-not-yet-valid; scenario $s expect=client-cert-not-yet-valid $FILES host=localhost
put $s ca.crt $W/root.crt; put $s broker/server.crt $W/server.crt; std $s
put $s client.crt $W/client_fut.crt; put $s client.key $W/client.key

s=client-eku-missing; scenario $s expect=client-eku-missing $FILES host=localhost
put $s ca.crt $W/root.crt; put $s broker/server.crt $W/server.crt; std $s
put $s client.crt $W/client_noeku.crt; put $s client.key $W/client.key

s=client-key-mismatch; scenario $s expect=client-key-mismatch $FILES host=localhost
put $s ca.crt $W/root.crt; put $s broker/server.crt $W/server.crt; std $s
put $s client.crt $W/client.crt; put $s client.key $W/client2.key

# mosquitto sends no CA names in its CertificateRequest: live, only the alert is seen.
s=client-ca-not-accepted; scenario $s expect=client-ca-not-accepted $FILES host=localhost \
    facts=cert_requested,cert_sent,alert=48,ca_names live_expect=client-cert-rejected
put $s ca.crt $W/root.crt; put $s broker/server.crt $W/server.crt; std $s
put $s client.crt $W/client_other.crt; put $s client.key $W/client2.key

# Synthetic: a broker policy rejects a good certificate; a stock mosquitto accepts it.
s=client-cert-rejected; scenario $s expect=client-cert-rejected $FILES host=localhost \
    facts=cert_requested,cert_sent,alert=42,ca_names live_expect=none
put $s ca.crt $W/root.crt; put $s broker/server.crt $W/server.crt; std $s; client_ok $s

s=client-cert-missing; scenario $s expect=client-cert-missing ca=ca.crt $BROKER host=localhost \
    facts=cert_requested,alert=40
put $s ca.crt $W/root.crt; put $s broker/server.crt $W/server.crt; std $s

s=client-chain-incomplete; scenario $s expect=client-chain-incomplete $FILES host=localhost
put $s ca.crt $W/root.crt $W/inter.crt; put $s broker/server.crt $W/server.crt; std $s
put $s client.crt $W/client_i.crt; put $s client.key $W/client.key

s=weak-client-key; scenario $s expect=weak-client-key $FILES host=localhost
put $s ca.crt $W/root.crt; put $s broker/server.crt $W/server.crt; std $s
put $s client.crt $W/client_weak.crt; put $s client.key $W/weak.key

# Encrypted keys: AES-256-CBC in the traditional PEM form, which every engine and both
# ESP-IDF versions decrypt (ESP-IDF 5's mbedTLS has no DES: a -des3 key fails there).
s=key-password-required; scenario $s expect=key-password-required $FILES host=localhost
put $s ca.crt $W/root.crt; put $s broker/server.crt $W/server.crt; std $s; put $s client.crt $W/client.crt
openssl pkey -in $W/client.key -aes256 -traditional -passout pass:s3cret -out $OUT/$s/client.key

s=key-password-wrong; scenario $s expect=key-password-wrong $FILES keypass=Not-The-Pass-7 \
    host=localhost
put $s ca.crt $W/root.crt; put $s broker/server.crt $W/server.crt; std $s; put $s client.crt $W/client.crt
openssl pkey -in $W/client.key -aes256 -traditional -passout pass:s3cret -out $OUT/$s/client.key

s=good-encrypted-key; scenario $s expect=none $FILES keypass=s3cret host=localhost
put $s ca.crt $W/root.crt; put $s broker/server.crt $W/server.crt; std $s; put $s client.crt $W/client.crt
openssl pkey -in $W/client.key -aes256 -traditional -passout pass:s3cret -out $OUT/$s/client.key

# OpenSSL 3's default encrypted key: PKCS#8 PBES2 with AES-256-CBC (mbedTLS < 3.5 cannot).
s=key-encryption-unsupported; scenario $s expect=key-encryption-unsupported $FILES keypass=s3cret \
    host=localhost
put $s ca.crt $W/root.crt; put $s broker/server.crt $W/server.crt; std $s; put $s client.crt $W/client.crt
openssl pkey -in $W/client.key -aes-256-cbc -passout pass:s3cret -out $OUT/$s/client.key

s=key-type-unsupported; scenario $s expect=key-type-unsupported $FILES host=localhost
put $s ca.crt $W/root.crt; put $s broker/server.crt $W/server.crt; std $s
put $s client.crt $W/client_ed.crt; put $s client.key $W/ed.key

# --- files ---------------------------------------------------------------------------------------
# (and the root beside the client's files is no missing intermediate)
s=empty-ca-file; scenario $s expect=empty-file $FILES host=localhost \
    not_has=client-chain-incomplete
: >$OUT/$s/ca.crt; put $s broker/server.crt $W/server.crt; std $s; client_ok $s
put $s root-ca.crt $W/root.crt

s=pem-truncated; scenario $s expect=pem-truncated $FILES host=localhost
head -c 700 $W/root.crt >$OUT/$s/ca.crt; put $s broker/server.crt $W/server.crt; std $s; client_ok $s

s=ca-file-is-csr; scenario $s expect=not-a-certificate $FILES host=localhost
put $s ca.crt $W/root.csr; put $s broker/server.crt $W/server.crt; std $s; client_ok $s

s=cert-and-key-swapped; scenario $s expect=cert-and-key-swapped $FILES host=localhost
put $s ca.crt $W/root.crt; put $s broker/server.crt $W/server.crt; std $s
put $s client.crt $W/client.key; put $s client.key $W/client.crt

s=pem-not-nul-terminated; scenario $s expect=pem-not-nul-terminated $FILES host=localhost ca_buffer=1
put $s ca.crt $W/root.crt; put $s broker/server.crt $W/server.crt; std $s; client_ok $s

# --- the wider catalogue (diag2): good set-ups people have, and what breaks them ------------
# One PEM holding the certificate and its key, given as --cert and as --key: a normal set-up.
s=good-cert-and-key-one-pem; scenario $s expect=none ca=ca.crt cert=client.pem key=client.pem \
    $BROKER host=localhost
put $s ca.crt $W/root.crt; put $s broker/server.crt $W/server.crt; std $s
put $s client.pem $W/client.crt $W/client.key

s=good-pkcs8-key; scenario $s expect=none $FILES host=localhost
put $s ca.crt $W/root.crt; put $s broker/server.crt $W/server.crt; std $s; put $s client.crt $W/client.crt
openssl pkcs8 -topk8 -nocrypt -in $W/client.key -out $OUT/$s/client.key

# PKCS#8 encrypted with PBES2 + 3DES: what mbedTLS 2.28 can decrypt (offline, diag's view);
# mbedTLS 3.6 as ESP-IDF 5 builds it has no DES. Live, doctor names the default profile
# (esp-idf-5), whose mbedTLS loads the credentials whatever engine connects, and refuses it.
s=good-pkcs8-encrypted-des3; scenario $s expect=none $FILES keypass=s3cret host=localhost \
    live_expect=key-encryption-unsupported
put $s ca.crt $W/root.crt; put $s broker/server.crt $W/server.crt; std $s; put $s client.crt $W/client.crt
openssl pkcs8 -topk8 -v2 des3 -passout pass:s3cret -in $W/client.key -out $OUT/$s/client.key

# The CA file holds the root and the intermediate; the server sends only its own certificate.
s=good-ca-bundle-root-and-intermediate; scenario $s expect=none $FILES host=localhost
put $s ca.crt $W/root.crt $W/inter.crt; put $s broker/server.crt $W/server_i.crt; std $s
put $s client.crt $W/client_i.crt $W/inter.crt; put $s client.key $W/client.key

s=good-ecdsa-p384; scenario $s expect=none $FILES host=localhost
put $s ca.crt $W/ecroot384.crt; put $s broker/server.crt $W/ecserver384.crt
put $s broker/server.key $W/ecserver.key; put $s broker/broker-ca.crt $W/ecroot384.crt
put $s client.crt $W/ecclient384.crt; put $s client.key $W/client3.key

# Connect by address, check a name the wildcard certificate covers (no name is resolved).
s=good-wildcard-server-name; scenario $s expect=none $FILES host=127.0.0.1 \
    server_name=broker.example.test
put $s ca.crt $W/root.crt; put $s broker/server.crt $W/server_wild.crt; std $s; client_ok $s

# The old and the regenerated CA of the same name, both trusted: mbedTLS tries each.
s=good-ca-same-name-both-keys; scenario $s expect=none $FILES host=localhost
put $s ca.crt $W/root_regen.crt $W/root.crt; put $s broker/server.crt $W/server.crt; std $s
client_ok $s

# An expired, unrelated root in a bundle with the right one: harmless.
s=good-ca-bundle-expired-extra-root; scenario $s expect=none $FILES host=localhost
put $s ca.crt $W/root_exp.crt $W/root.crt; put $s broker/server.crt $W/server.crt; std $s
client_ok $s

# Windows line ends; `openssl x509 -text` output (text before the PEM block).
s=good-crlf-pem; scenario $s expect=none $FILES host=localhost
put $s broker/server.crt $W/server.crt; std $s
sed 's/$/\r/' $W/root.crt >$OUT/$s/ca.crt; sed 's/$/\r/' $W/client.crt >$OUT/$s/client.crt
sed 's/$/\r/' $W/client.key >$OUT/$s/client.key

s=good-pem-with-text; scenario $s expect=none $FILES host=localhost
openssl x509 -in $W/root.crt -text >$OUT/$s/ca.crt; put $s broker/server.crt $W/server.crt
std $s; client_ok $s

# No --cafile: the system bundle is used, and the finding says so. The CA lies beside.
s=no-cafile; scenario $s expect=untrusted-issuer ca_default=1 cert=client.crt key=client.key \
    $BROKER host=localhost "msg_has=You gave no --cafile"
put $s ca.crt $W/root.crt; put $s broker/server.crt $W/server.crt; std $s; client_ok $s

# --cafile is the client's own certificate; the CA lies beside it as my-ca.crt.
s=ca-file-is-client-cert; scenario $s expect=ca-file-holds-leaf ca=client.crt cert=client.crt \
    key=client.key $BROKER host=localhost "msg_has=your own client certificate"
put $s my-ca.crt $W/root.crt; put $s broker/server.crt $W/server.crt; std $s; client_ok $s

# The wrong key is given; the right one lies beside the certificate.
s=client-key-mismatch-key-beside; scenario $s expect=client-key-mismatch $FILES host=localhost
put $s ca.crt $W/root.crt; put $s broker/server.crt $W/server.crt; std $s
put $s client.crt $W/client.crt; put $s client.key $W/client2.key; put $s device-001.key $W/client.key

# The CA file is not named ca.crt, its key not ca.key: re-issuing must still find them.
s=server-expired-ca-named-root; scenario $s expect=server-cert-expired ca=root.pem \
    cert=client.crt key=client.key $BROKER host=localhost
put $s root.pem $W/root.crt; put $s broker/server.crt $W/server_exp.crt; std $s; client_ok $s

# CN-only names: the server does not send its intermediate (not "untrusted-issuer").
s=missing-intermediate-cn-only; scenario $s expect=missing-intermediate ca=ca.crt \
    cert=client.crt key=client.key $BROKER host=localhost
put $s ca.crt $W/cnroot.crt; put $s broker/server.crt $W/cnserver_i.crt
put $s broker/server.key $W/ecserver.key; put $s broker/broker-ca.crt $W/cnroot.crt
put $s client.crt $W/cnclient.crt; put $s client.key $W/ecclient.key

# CN-only names, a CA of another PKI: still untrusted-issuer.
s=wrong-ca-cn-only; scenario $s expect=untrusted-issuer ca=ca.crt cert=client.crt key=client.key \
    $BROKER host=localhost
put $s ca.crt $W/cnroot.crt; put $s broker/server.crt $W/cnserver_o.crt
put $s broker/server.key $W/ecserver.key; put $s broker/broker-ca.crt $W/cnroot.crt
put $s client.crt $W/cnclient.crt; put $s client.key $W/ecclient.key

# The client certificate comes from an intermediate that neither its file nor the CA file
# holds: the broker answers unknown_ca. client-chain-incomplete, not client-cert-rejected.
s=client-chain-incomplete-unknown-inter; scenario $s expect=client-chain-incomplete $FILES \
    host=localhost facts=cert_requested,cert_sent,alert=48
put $s ca.crt $W/root.crt; put $s broker/server.crt $W/server.crt; std $s
put $s client.crt $W/client_i.crt; put $s client.key $W/client.key

s=intermediate-expired; scenario $s expect=server-cert-expired $FILES host=localhost
put $s ca.crt $W/root.crt; put $s broker/server.crt $W/server_iexp.crt $W/inter_exp.crt; std $s
client_ok $s

s=path-length-exceeded; scenario $s expect=path-length-exceeded $FILES host=localhost
put $s ca.crt $W/root.crt; put $s broker/server.crt $W/server_i2.crt $W/inter2.crt $W/inter.crt
std $s; client_ok $s

s=server-key-usage-no-digital-signature; scenario $s expect=server-key-usage $FILES host=localhost
put $s ca.crt $W/root.crt; put $s broker/server.crt $W/server_keyenc.crt; std $s; client_ok $s

s=client-key-usage-no-digital-signature; scenario $s expect=client-key-usage $FILES host=localhost
put $s ca.crt $W/root.crt; put $s broker/server.crt $W/server.crt; std $s
put $s client.crt $W/client_keyenc.crt; put $s client.key $W/client.key

# A CA with critical nameConstraints: OpenSSL (the broker) takes it, mbedTLS cannot parse it.
s=ca-name-constraints-critical; scenario $s expect=unsupported-critical-extension $FILES \
    host=localhost
put $s ca.crt $W/ncroot.crt; put $s broker/server.crt $W/server_nc.crt; std $s; client_ok $s

# A self-signed client certificate: the broker does not trust it (unknown_ca).
s=client-self-signed; scenario $s expect=client-cert-rejected $FILES host=localhost \
    facts=cert_requested,cert_sent,alert=48
put $s ca.crt $W/root.crt; put $s broker/server.crt $W/server.crt; std $s
put $s client.crt $W/client_self.crt; put $s client.key $W/client.key

s=client-sha1-signature; scenario $s expect=client-weak-signature-hash $FILES host=localhost
put $s ca.crt $W/root.crt; put $s broker/server.crt $W/server.crt; std $s
put $s client.crt $W/client_sha1.crt; put $s client.key $W/client.key

# The broker's CRL (mosquitto crlfile) revokes the client certificate.
s=client-cert-revoked; scenario $s expect=client-cert-revoked $FILES host=localhost \
    facts=cert_requested,cert_sent,alert=44 "broker_conf=crlfile broker/crl.pem"
put $s ca.crt $W/root.crt; put $s broker/server.crt $W/server.crt; std $s
put $s client.crt $W/client_rev.crt; put $s client.key $W/client2.key
crl_revoking $OUT/$s/broker/crl.pem client_rev

# A broker that speaks TLS 1.3 only, and a TLS 1.2 mbedTLS (2.28, ESP-IDF 4): the files are
# fine, the broker refuses the version.
s=tls13-only-broker; scenario $s expect=none live_expect=tls-version-mismatch $FILES host=localhost \
    "broker_conf=tls_version tlsv1.3" live_expect_mbedtls3=none live_expect_openssl=none
put $s ca.crt $W/root.crt; put $s broker/server.crt $W/server.crt; std $s; client_ok $s

# The broker serves an Ed25519 certificate: mbedTLS has no Ed25519, the handshake cannot
# agree on a signature (and the certificate could not be parsed).
s=server-ed25519; scenario $s expect=none live_expect=no-shared-cipher $FILES host=localhost
put $s ca.crt $W/root.crt; put $s broker/server.crt $W/server_ed.crt; put $s broker/server.key $W/ed.key
put $s broker/broker-ca.crt $W/root.crt; client_ok $s

# --- the connection, not the files -----------------------------------------------------------
# The broker's key is not the one pinned (--pin: a renewed key, another broker behind the name,
# an interception): the chain verifies, the pin does not. The pin given is a real key's (the
# client's), not a made-up string.
pin_of() { # CERT -> the --pin form of its public key (SHA-256 of the DER SPKI, base64)
    openssl x509 -in "$1" -pubkey -noout | openssl pkey -pubin -outform der |
        openssl dgst -sha256 -binary | openssl enc -base64
}
s=pin-mismatch; scenario $s expect=pin-mismatch $FILES host=localhost \
    "pin=sha256//$(pin_of $W/client.crt)" "msg_has=sha256//$(pin_of $W/server.crt)"
put $s ca.crt $W/root.crt; put $s broker/server.crt $W/server.crt; std $s; client_ok $s

# Good files; something between client and broker (tests/scenarios/reset_proxy.py) resets the
# connection after the broker's first flight, without an alert: what a TLS-inspecting firewall
# or a broker that drops a client certificate silently looks like.
s=handshake-reset; scenario $s expect=handshake-reset $FILES host=localhost via=reset-proxy \
    facts=cert_requested,cert_sent
put $s ca.crt $W/root.crt; put $s broker/server.crt $W/server.crt; std $s; client_ok $s

# --- fix recipes: how tests/scenarios/fix_check.sh applies each fix and proves it -----------
# fix_check.sh copies the scenario into a folder whose path has a space and a quote, runs
# `mqtls doctor` from outside it (so every path in the fix is that path, quoted), and runs the
# fix's "$ " command lines as printed (those before the first "Or ..." line). Then:
#   fix_has=   text the fix must contain (the test of tests/unit/diag checks it with the
#              scenario's own names, relative to the scenario folder)
#   fix_pre=   what the fix asks the user to do by hand (fetch the right file), simulated by a
#              command run inside the copy before the fix's commands
#   fix_args=  arguments appended to the last command: what openssl would prompt for
#   fix_use=   "k=v ..." the manifest values after the fix (new --cert/--key/--cafile, the
#              broker's new certfile, --tls-server-name), relative to the scenario folder
#   fix_changes=  files of the user's that the fix may change: the finding is about them (an
#              empty CA file is filled again); every other file must stay byte for byte
#   fix_use=pin=+printed  the fix's commands print a pin (base64) and the fix says to add it
#              as "--pin sha256//<...>": the new pins are the scenario's and that one
#   fix=manual:WHY   cannot be applied by a script (counted and listed, never skipped); where
#              the finding shows live, fix_check.sh still checks that it is the one expected and
#              that its text holds no command that writes, moves or deletes a file
#   fix_engines=     the TLS engines whose live finding the recipe answers (others see
#              another one: live_expect); fix_check.sh checks it there only
#   fix_mbedtls2_host=  the host a device on mbedTLS 2.28 connects to: fix_check.sh asks
#              mbedTLS 2.28 itself (tests/unit/diag/mbedtls2_name_check.c) to reject the
#              broker's certificate for it before the fix and to accept the new one after
# ca.key next to ca.crt: the "own PKI" layout of `mqtls pki` (DIR/ca.crt + DIR/ca.key).
fixes() {
    local s=$1
    shift
    local kv
    for kv in "$@"; do echo "$kv" >>"$OUT/$s/manifest"; done
}
NEW_SERVER="fix_use=server_cert=server-new/server.crt server_key=server-new/server.key"
NEW_CLIENT="fix_use=cert=device-001-new/device-001.crt key=device-001-new/device-001.key"
for s in weak-server-key sha1-server-signature server-expired server-not-yet-valid wrong-ca \
    server-eku-missing issuer-not-ca server-self-signed intermediate-expired path-length-exceeded \
    server-key-usage-no-digital-signature; do
    put $s ca.key $W/root.key
    fixes $s "fix_has=mqtls pki server server-new --name localhost --ip 127.0.0.1 --rsa 2048" \
        "$NEW_SERVER"
done
put sha224-on-mbedtls3 ca.key $W/root.key
fixes sha224-on-mbedtls3 "fix_has=mqtls pki server server-new --name localhost --ip 127.0.0.1" \
    "$NEW_SERVER"
put ca-same-name-different-key ca.key $W/root2.key
fixes ca-same-name-different-key "fix_has=mqtls pki server server-new --name localhost" \
    "$NEW_SERVER"
put curve-not-allowed-mbedtls3 ca.key $W/ecroot.key
fixes curve-not-allowed-mbedtls3 \
    "fix_has=mqtls pki server server-new --name localhost --ip 127.0.0.1 --ec" "$NEW_SERVER" \
    "fix_engines=mbedtls2"
put curve-not-allowed-ca ca.key $W/p192.key
fixes curve-not-allowed-ca "fix_has=mkdir ca-new && mqtls pki init ca-new" \
    "fix_use=ca=ca-new/ca.crt server_cert=ca-new/server.crt server_key=ca-new/server.key"
put wrong-ca-cn-only ca.key $W/cnroot.key
fixes wrong-ca-cn-only "fix_has=mqtls pki server server-new --name localhost --ip 127.0.0.1 --ec" \
    "$NEW_SERVER"
put server-expired-ca-named-root root.key $W/root.key
fixes server-expired-ca-named-root \
    "fix_has=ln -s ../root.pem server-new/ca.crt && ln -s ../root.key server-new/ca.key" \
    "$NEW_SERVER"
fixes hostname-mismatch "fix_has=--tls-server-name broker.example.com" \
    "fix_use=server_name=broker.example.com"
fixes hostname-ip-not-in-san "fix_has=--tls-server-name localhost" "fix_use=server_name=localhost"
fixes ip-san-old-mbedtls \
    "fix_has=mqtls pki server server-new --name localhost --dns 127.0.0.1 --ip 127.0.0.1 --rsa 2048" \
    "$NEW_SERVER" "fix_mbedtls2_host=127.0.0.1"
put weak-ca-rsa1024 ca.key $W/weak.key
fixes weak-ca-rsa1024 "fix_has=mkdir ca-new && mqtls pki init ca-new --rsa 2048" \
    "fix_use=ca=ca-new/ca.crt server_cert=ca-new/server.crt server_key=ca-new/server.key"
put ca-name-constraints-critical ca.key $W/root2.key
fixes ca-name-constraints-critical "fix_has=mkdir ca-new && mqtls pki init ca-new" \
    "fix_use=ca=ca-new/ca.crt server_cert=ca-new/server.crt server_key=ca-new/server.key"
for s in missing-intermediate missing-intermediate-cn-only; do
    fixes $s "fix_has=test ! -e ca-bundle.crt && cat ca.crt intermediate.crt > ca-bundle.crt" \
        "fix_use=ca=ca-bundle.crt"
done
put missing-intermediate intermediate.crt $W/inter.crt
put missing-intermediate-cn-only intermediate.crt $W/cninter.crt
fixes ca-file-holds-leaf "fix_pre=cp broker/broker-ca.crt broker-ca.crt" "fix_use=ca=broker-ca.crt"
fixes ca-file-is-client-cert "fix_has=--cafile my-ca.crt" "fix_use=ca=my-ca.crt"
fixes no-cafile "fix_has=--cafile ca.crt" "fix_use=ca=ca.crt"
put ca-expired ca.key $W/root2.key
fixes ca-expired "fix_has=test ! -e ca-renewed.crt && openssl x509 -in ca.crt -signkey ca.key" \
    "fix_use=ca=ca-renewed.crt"
fixes clock-not-set \
    "fix=manual:the device clock is wrong (now=0); setting a clock is not a file change"
for s in client-expired client-not-yet-valid client-eku-missing client-key-mismatch \
    client-key-usage-no-digital-signature client-sha1-signature client-self-signed; do
    put $s ca.key $W/root.key
    fixes $s "fix_has=mqtls pki client device-001-new --name device-001 --rsa 2048" "$NEW_CLIENT"
done
for s in client-cert-missing key-type-unsupported; do
    put $s ca.key $W/root.key
    fixes $s "fix_has=mqtls pki client device-001-new --name device-001 --ec" "$NEW_CLIENT"
done
fixes client-key-mismatch-key-beside "fix_has=--key device-001.key" "fix_use=key=device-001.key"
put client-ca-not-accepted ca.key $W/root.key
fixes client-ca-not-accepted "fix_has=mqtls pki client device-009-new --name device-009" \
    "fix_use=cert=device-009-new/device-009.crt key=device-009-new/device-009.key"
put weak-client-key ca.key $W/root.key
fixes weak-client-key "fix_has=mqtls pki client device-weak-new --name device-weak --rsa 2048" \
    "fix_use=cert=device-weak-new/device-weak.crt key=device-weak-new/device-weak.key"
put client-cert-revoked ca.key $W/root.key
fixes client-cert-revoked "fix_has=mqtls pki client device-rev-new --name device-rev --rsa 2048" \
    "fix_use=cert=device-rev-new/device-rev.crt key=device-rev-new/device-rev.key"
fixes client-cert-rejected \
    "fix=manual:synthetic broker policy (alert 42); a stock mosquitto accepts this certificate"
fixes client-chain-incomplete \
    "fix_has=test ! -e client-chain.crt && cat client.crt ca.crt > client-chain.crt" \
    "fix_use=cert=client-chain.crt"
put client-chain-incomplete-unknown-inter intermediate.crt $W/inter.crt
fixes client-chain-incomplete-unknown-inter \
    "fix_has=test ! -e client-chain.crt && cat client.crt intermediate.crt > client-chain.crt" \
    "fix_use=cert=client-chain.crt"
for s in key-password-required key-password-wrong; do
    fixes $s "fix_pre=printf 's3cret\n' >key.pass" "fix_use=keypass= keypass_file=key.pass" \
        "fix_has=--keypass-file key.pass"
done
fixes key-encryption-unsupported \
    "fix_has=test ! -e client-legacy.key && openssl pkey -in client.key -aes256 -traditional" \
    "fix_args=-passin pass:s3cret -passout pass:s3cret" "fix_use=key=client-legacy.key"
for s in empty-ca-file pem-truncated ca-file-is-csr; do
    fixes $s "fix_pre=cp broker/broker-ca.crt ca.crt" "fix_changes=ca.crt"
done
fixes empty-ca-file "fix_has=openssl x509 -in ca.crt -noout -subject"
fixes cert-and-key-swapped "fix_use=cert=client.key key=client.crt" \
    "fix_has=--cert client.key --key client.crt"
fixes pin-mismatch "fix_has=--pin sha256//<the printed pin>" "fix_use=pin=+printed"
fixes handshake-reset \
    "fix=manual:advice (read the broker's log, check the client certificate): nothing to run"
fixes pem-not-nul-terminated \
    "fix=manual:the buffer API (ESP-IDF EMBED_TXTFILES) is a firmware build change, not a file"
rm -rf "$WORK"
ls "$OUT" | wc -l | sed 's/^/scenarios: /'
