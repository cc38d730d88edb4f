/* The explain catalogue: for every finding of src/diag/findings.def (which holds its id,
 * severity and title), what it means and what to check (`explanation`) and the commands or
 * config to paste (`fix`, '\n'-separated). Keyed by the findings.def enum, so an entry cannot
 * name an unknown finding; tests/unit/explain checks that none is missing. Sources are cited
 * in the texts; docs/troubleshooting.md has a section per id.
 *
 * Included by explain_decode.c (and the unit test) only. */
#ifndef MQTLS_EXPLAIN_CATALOGUE_H
#define MQTLS_EXPLAIN_CATALOGUE_H

#include "diag/findings.h"

typedef struct explain_text {
    const char *explanation;
    const char *fix;
} explain_text_t;

/* Shared "how to confirm" commands. The doctor/pki flags mirror mosquitto_pub's. */
#define DOCTOR "mqtls doctor -h HOST -p 8883 --cafile ca.crt --cert client.crt --key client.key"
#define SCLIENT "openssl s_client -connect HOST:8883 -servername HOST -showcerts </dev/null"
/* Re-issue from the CA in pki/ (ca.crt + ca.key, as `mqtls pki` keeps it) into a NEW folder
 * with links to that CA: never `--force`, which would replace the user's pki/server.* or
 * pki/<client>.* (DESIGN.md: a printed fix never overwrites a file the user has). mkdir
 * fails if the folder exists, so nothing is ever replaced. */
#define PKI_NEW "mkdir pki-new && ln -s ../pki/ca.crt ../pki/ca.key pki-new/ && "
#define NEW_SERVER PKI_NEW "mqtls pki server pki-new --name HOST"
#define NEW_CLIENT PKI_NEW "mqtls pki client pki-new --name CLIENT_ID"
#define USE_SERVER "# then the broker: certfile pki-new/server.crt, keyfile pki-new/server.key\n"
#define USE_CLIENT "# then: --cert pki-new/CLIENT_ID.crt --key pki-new/CLIENT_ID.key\n"

/* Texts are hand-wrapped for reading. */
/* clang-format off */
static const explain_text_t catalogue[] = {
    [MQTLS__F_WEAK_KEY] = {
     "mbedTLS sets MBEDTLS_X509_BADCERT_BAD_KEY (0x10000) on a certificate whose ISSUER's key "
     "fails the X.509 profile: RSA shorter than 2048 bits, or an elliptic curve the profile does "
     "not allow. The problem is the CA (or intermediate) that signed the server certificate, not "
     "your device, so neither an ESP-IDF update nor 'openssl verify' (which accepts it) helps. "
     "Check the key size of every certificate the server sends.",
     SCLIENT " | grep -E 'Public-Key|s:|i:'\n"
     "# replace the RSA-1024 CA: re-issue the chain with RSA-2048+/P-256, e.g.\n"
     "mqtls pki init pki && mqtls pki server pki --name HOST\n" DOCTOR},
    [MQTLS__F_WEAK_SIGNATURE_HASH] = {
     "mbedTLS sets MBEDTLS_X509_BADCERT_BAD_MD (0x4000) and OpenSSL reports 'ca md too weak' when "
     "a certificate in the chain is signed with SHA-1 or MD5. Re-sign it with SHA-256.",
     "openssl x509 -in server.crt -noout -text | grep 'Signature Algorithm'\n"
     "openssl x509 -req -sha256 ...   # or:\n" NEW_SERVER "\n" USE_SERVER DOCTOR},
    [MQTLS__F_CURVE_NOT_ALLOWED] = {
     "The certificate is signed with a public-key algorithm or a curve outside the profile "
     "(MBEDTLS_X509_BADCERT_BAD_PK 0x8000, or BAD_KEY for a disallowed curve), or the curve is not "
     "compiled into mbedTLS (e.g. brainpool, Ed25519, P-521 on small builds).",
     "openssl x509 -in ca.crt -noout -text | grep -E 'Public Key Algorithm|ASN1 OID|NIST CURVE'\n"
     "# use RSA-2048+ or ECDSA P-256: mqtls pki init pki && mqtls pki server pki --name HOST\n"
     DOCTOR},
    [MQTLS__F_UNTRUSTED_ISSUER] = {
     "MBEDTLS_X509_BADCERT_NOT_TRUSTED (0x08) / 'unable to get local issuer certificate': "
     "the CA file on the client does not contain the CA that issued the server's chain, or it is "
     "a different (e.g. renewed) CA with the same name.",
     SCLIENT " | grep -E 's:|i:'\n"
     "openssl x509 -in ca.crt -noout -subject -fingerprint -sha256\n"
     "# use the CA file that issued the broker certificate (the broker's cafile), then:\n" DOCTOR},
    [MQTLS__F_CA_SAME_NAME_DIFFERENT_KEY] = {
     "The issuer name of the server certificate matches your CA's subject, but the signature "
     "does not verify with its key: the CA was re-generated (same CN, new key) and one side still "
     "has the old one.",
     "openssl x509 -in ca.crt -noout -subject -ext subjectKeyIdentifier\n"
     SCLIENT " | openssl x509 -noout -issuer -ext authorityKeyIdentifier\n"
     "# copy the broker's current CA to the client\n" DOCTOR},
    [MQTLS__F_MISSING_INTERMEDIATE] = {
     "The server sends only its own certificate; the intermediate that links it to your root is "
     "neither sent nor in your CA file ('unable to get issuer certificate', 'unable to verify the "
     "first certificate').",
     "test ! -e server-chain.crt && cat server.crt intermediate.crt > server-chain.crt\n"
     "# mosquitto.conf: certfile /etc/mosquitto/certs/server-chain.crt\n" DOCTOR},
    [MQTLS__F_SERVER_SELF_SIGNED] = {
     "The broker's certificate signs itself ('self-signed certificate'), so only a CA file that "
     "contains exactly that certificate would trust it. Issue the server certificate from a CA.",
     "mqtls pki init pki && mqtls pki server pki --name HOST\n"
     "# mosquitto.conf: cafile ca.crt / certfile server.crt / keyfile server.key\n" DOCTOR},
    [MQTLS__F_CA_FILE_HOLDS_LEAF] = {
     "The file given as CA is an end-entity certificate (CA:FALSE). A trust anchor must be the "
     "issuing CA certificate.",
     "openssl x509 -in ca.crt -noout -subject -issuer -ext basicConstraints\n" DOCTOR},
    [MQTLS__F_ISSUER_NOT_CA] = {
     "The issuer lacks basicConstraints CA:TRUE or keyUsage keyCertSign ('invalid CA "
     "certificate', MBEDTLS_X509_BADCERT_KEY_USAGE on the issuer).",
     "openssl x509 -in ca.crt -noout -ext basicConstraints,keyUsage\n"
     "mqtls pki init pki   # creates a CA with CA:TRUE, keyCertSign\n" DOCTOR},
    [MQTLS__F_SERVER_CERT_EXPIRED] = {
     "MBEDTLS_X509_BADCERT_EXPIRED (0x01) / 'certificate has expired'. Check notAfter; if it is "
     "in the future, the client's clock is wrong instead.",
     SCLIENT " | openssl x509 -noout -dates\n"
     NEW_SERVER "   # re-issue, then restart the broker\n" USE_SERVER DOCTOR},
    [MQTLS__F_SERVER_CERT_NOT_YET_VALID] = {
     "MBEDTLS_X509_BADCERT_FUTURE (0x200) / 'certificate is not yet valid': notBefore is after the "
     "client's current time. Usually the client's clock (see clock-not-set).",
     SCLIENT " | openssl x509 -noout -dates\ndate -u\n" DOCTOR},
    [MQTLS__F_CA_EXPIRED] = {
     "The trusted CA (or an intermediate) is past its notAfter date.",
     "openssl x509 -in ca.crt -noout -enddate\nmqtls pki init pki   # new CA; re-issue leaves\n"
     DOCTOR},
    [MQTLS__F_CLOCK_NOT_SET] = {
     "Devices without RTC start at 1970-01-01; certificates then look 'not yet valid' (FUTURE) "
     "until SNTP has set the time. Wait for time sync before connecting.",
     "/* ESP-IDF */ esp_sntp_setoperatingmode(SNTP_OPMODE_POLL);\n"
     "esp_sntp_setservername(0, \"pool.ntp.org\"); esp_sntp_init();\n"
     "/* wait until time(NULL) > 1700000000 before esp_mqtt_client_start() */"},
    [MQTLS__F_HOSTNAME_MISMATCH] = {
     "MBEDTLS_X509_BADCERT_CN_MISMATCH (0x04) / 'Hostname mismatch': the URI host (or IP) is not "
     "in the certificate's subjectAltName (or CN). Connecting by IP needs an IP SAN.",
     SCLIENT " | openssl x509 -noout -ext subjectAltName\n"
     NEW_SERVER "   # the exact name you connect to; an IP: --ip ADDR, and\n"
     "# --dns NAME / --ip ADDR for every other SAN the old one had\n" USE_SERVER DOCTOR},
    [MQTLS__F_SERVER_EKU_MISSING] = {
     "extendedKeyUsage lacks serverAuth (MBEDTLS_X509_BADCERT_EXT_KEY_USAGE 0x1000, "
     "'unsupported certificate purpose').",
     SCLIENT " | openssl x509 -noout -ext extendedKeyUsage,keyUsage\n"
     NEW_SERVER "   # EKU serverAuth\n" USE_SERVER DOCTOR},
    [MQTLS__F_SERVER_KEY_USAGE] = {
     "keyUsage lacks digitalSignature (ECDHE suites) or keyEncipherment (RSA key exchange); "
     "mbedTLS sets MBEDTLS_X509_BADCERT_KEY_USAGE (0x800) on the server certificate.",
     SCLIENT " | openssl x509 -noout -ext keyUsage\n"
     NEW_SERVER "   # keyUsage digitalSignature,keyEncipherment\n" USE_SERVER DOCTOR},
    [MQTLS__F_CA_NOT_CA] = {
     "basicConstraints CA:FALSE or absent on a certificate in the CA file; mbedTLS will not use "
     "it to verify others.",
     "openssl x509 -in ca.crt -noout -ext basicConstraints\n" DOCTOR},
    [MQTLS__F_CA_KEY_USAGE] = {
     "keyUsage present without keyCertSign: mbedTLS does not accept the CA as a parent, so the "
     "chain ends up NOT_TRUSTED (0x08).",
     "openssl x509 -in ca.crt -noout -ext keyUsage\nmqtls pki init pki   # keyCertSign, cRLSign\n"
     DOCTOR},
    [MQTLS__F_VERIFY_FAILED] = {
     "Verification failed (mbedTLS -0x2700, OpenSSL 'certificate verify failed') and the input "
     "does not say why, or the flags are uncommon (REVOKED 0x02, MISSING 0x40, OTHER 0x100). "
     "The verify flags or the 'verification info' lines name the reason.",
     "/* ESP-IDF */ esp_tls_get_and_clear_last_error(h, &mbedtls_err, &verify_flags);\n"
     "mqtls explain <verify_flags>\n" DOCTOR},
    [MQTLS__F_CHAIN_ORDER] = {
     "A chain file must list the leaf first, then each issuer. Some stacks accept any order, "
     "mbedTLS and OpenSSL do not always.",
     "test ! -e server-chain.crt && cat server.crt intermediate.crt > server-chain.crt   # leaf first\n" DOCTOR},
    [MQTLS__F_CA_WEAK_SIGNATURE_INFO] = {
     "Roots are trusted by presence; their self-signature is not checked. Not a cause of "
     "failure.",
     "# nothing to do\n" DOCTOR},
    [MQTLS__F_CLIENT_CERT_MISSING] = {
     "mosquitto 'require_certificate true' rejects clients that send no certificate ('peer did "
     "not return a certificate'; alert 116 certificate_required in TLS 1.3, handshake_failure in "
     "TLS 1.2).",
     "mosquitto_pub ... --cert client.crt --key client.key\n"
     "/* esp-mqtt */ .credentials.authentication.certificate = client_crt_pem, .key = key_pem\n"
     DOCTOR},
    [MQTLS__F_CLIENT_KEY_MISSING] = {
     "mbedTLS -0x7600 (own private key not set): the certificate was given, the key was not (or "
     "failed to load).",
     "mosquitto_pub ... --cert client.crt --key client.key\n"
     "/* esp-mqtt */ .credentials.authentication.key = client_key_pem\n" DOCTOR},
    [MQTLS__F_CLIENT_KEY_MISMATCH] = {
     "'Client certificate/key are inconsistent' / 'key values mismatch': the private key is not "
     "the one the certificate was issued for.",
     "openssl x509 -in client.crt -noout -pubkey | openssl sha256\n"
     "openssl pkey -in client.key -pubout | openssl sha256   # must be equal\n" DOCTOR},
    [MQTLS__F_CLIENT_CERT_EXPIRED] = {
     "The broker reports 'certificate has expired' for the client; the client receives alert 45 "
     "certificate_expired.",
     "openssl x509 -in client.crt -noout -enddate\n"
     NEW_CLIENT "\n" USE_CLIENT DOCTOR},
    [MQTLS__F_CLIENT_CERT_NOT_YET_VALID] = {
     "notBefore of the client certificate is after the broker's clock.",
     "openssl x509 -in client.crt -noout -startdate\ndate -u   # on the broker\n" DOCTOR},
    [MQTLS__F_CLIENT_EKU_MISSING] = {
     "extendedKeyUsage lacks clientAuth; the broker reports 'unsupported certificate purpose' and "
     "sends alert 43 unsupported_certificate or 42 bad_certificate.",
     "openssl x509 -in client.crt -noout -ext extendedKeyUsage\n"
     NEW_CLIENT "   # EKU clientAuth\n" USE_CLIENT DOCTOR},
    [MQTLS__F_CLIENT_KEY_USAGE] = {
     "A TLS client signs the handshake (CertificateVerify); keyUsage without digitalSignature "
     "makes the broker reject the certificate.",
     "openssl x509 -in client.crt -noout -ext keyUsage\n"
     NEW_CLIENT "\n" USE_CLIENT DOCTOR},
    [MQTLS__F_CLIENT_CHAIN_INCOMPLETE] = {
     "The broker trusts the root but the client sends only its leaf, not the intermediate.",
     "test ! -e client-chain.crt && cat client.crt intermediate.crt > client-chain.crt\n"
     "mosquitto_pub ... --cert client-chain.crt --key client.key\n" DOCTOR},
    [MQTLS__F_CLIENT_CERT_REJECTED] = {
     "The broker sent a fatal alert about the client's certificate (bad_certificate, "
     "certificate_unknown, access_denied). The broker's log line says why.",
     "journalctl -u mosquitto | grep -i -E 'openssl|certificate'\n"
     "openssl verify -CAfile broker-cafile.crt client.crt\n" DOCTOR},
    [MQTLS__F_CLIENT_CA_NOT_ACCEPTED] = {
     "The client sent a certificate from a CA that is not in the broker's cafile: the client "
     "receives 'tlsv1 alert unknown ca' (alert 48); on ESP-IDF: -0x7780 (fatal alert received).",
     "openssl verify -CAfile /etc/mosquitto/ca_certificates/ca.crt client.crt\n"
     "# mosquitto.conf: cafile must contain the CA that issued the client certificates\n" DOCTOR},
    [MQTLS__F_KEY_PASSWORD_REQUIRED] = {
     "mbedTLS -0x3C00/-0x1300 (password can't be empty).",
     "test ! -e client-plain.key && openssl pkey -in client.key -out client-plain.key   # or pass the password\n" DOCTOR},
    [MQTLS__F_KEY_PASSWORD_WRONG] = {
     "mbedTLS -0x3B80/-0x1380 (password does not allow for correct decryption); OpenSSL 'bad "
     "decrypt'.",
     "openssl pkey -in client.key -noout   # asks for the password\n" DOCTOR},
    [MQTLS__F_KEY_ENCRYPTION_UNSUPPORTED] = {
     "PKCS#8 with PBES2/scrypt or an uncompiled cipher (mbedTLS -0x1280 / -0x1400 / -0x3980).",
     "test ! -e client-plain.key && openssl pkey -in client.key -out client-plain.key\n"
     "# or re-encrypt: test ! -e client-aes.key && openssl pkey -in client.key -aes256 -out client-aes.key\n" DOCTOR},
    [MQTLS__F_KEY_TYPE_UNSUPPORTED] = {
     "Ed25519/Ed448/X25519 keys or unknown curves cannot be loaded (mbedTLS -0x3C80, -0x3A00).",
     "openssl pkey -in client.key -noout -text | head -1\n"
     NEW_CLIENT "   # ECDSA P-256\n" USE_CLIENT DOCTOR},
    [MQTLS__F_WEAK_CLIENT_KEY] = {
     "OpenSSL at SECLEVEL 2 rejects RSA < 2048 ('ee key too small').",
     "openssl x509 -in client.crt -noout -text | grep Public-Key\n"
     NEW_CLIENT "\n" USE_CLIENT DOCTOR},
    [MQTLS__F_CLIENT_SIGNATURE_HASH] = {
     "OpenSSL brokers at security level 1+ reject it ('ca md too weak' in the broker log).",
     "openssl x509 -in client.crt -noout -text | grep 'Signature Algorithm'\n"
     NEW_CLIENT "\n" USE_CLIENT DOCTOR},
    [MQTLS__F_FILE_UNREADABLE] = {
     "Wrong path, permissions, or the broker user cannot read it ('Unable to load ...', 'File "
     "not found').",
     "ls -l ca.crt client.crt client.key\nsudo -u mosquitto cat /etc/mosquitto/certs/server.key "
     ">/dev/null\n" DOCTOR},
    [MQTLS__F_EMPTY_FILE] = {
     "Zero bytes: a failed download or an embedded buffer that was never filled.",
     "ls -l ca.crt client.crt client.key\n" DOCTOR},
    [MQTLS__F_PEM_TRUNCATED] = {
     "'-----END' line missing or base64 corrupted (mbedTLS -0x1100/-0x1080, OpenSSL 'bad base64 "
     "decode').",
     "openssl x509 -in ca.crt -noout && tail -1 ca.crt\n" DOCTOR},
    [MQTLS__F_DER_NOT_PEM] = {
     "OpenSSL 'no start line'. Convert it.",
     "test ! -e ca.crt && openssl x509 -inform DER -in ca.der -out ca.crt\n" DOCTOR},
    [MQTLS__F_NOT_A_CERTIFICATE] = {
     "Nothing in the file parses as an X.509 certificate (mbedTLS -0x2780 / -0x2180).",
     "head -1 ca.crt; openssl x509 -in ca.crt -noout -subject\n" DOCTOR},
    [MQTLS__F_CERT_PARSE_FAILED] = {
     "The PEM armour is there but the content does not parse (mbedTLS -0x1100 PEM invalid data, "
     "-0x2180-ish X509 invalid format).",
     "openssl x509 -in ca.crt -noout -text\n" DOCTOR},
    [MQTLS__F_CERT_AND_KEY_SWAPPED] = {
     "The key file holds a certificate and the certificate file holds a key.",
     "head -1 client.crt client.key   # BEGIN CERTIFICATE / BEGIN ... PRIVATE KEY\n" DOCTOR},
    [MQTLS__F_KEY_NOT_A_KEY] = {
     "mbedTLS -0x3D00 (invalid key tag) / -0x1080: the file is a certificate, a public key or "
     "a CSR.",
     "head -1 client.key   # must be BEGIN ... PRIVATE KEY\n" DOCTOR},
    [MQTLS__F_PEM_NOT_NUL_TERMINATED] = {
     "mbedTLS parses a PEM buffer only if its length includes the trailing '\\0'; otherwise it "
     "tries DER and fails (e.g. -0x2180 X509 invalid format, ESP_ERR_MBEDTLS_X509_CRT_PARSE_FAILED "
     "0x8015). With EMBED_TXTFILES use end - start (includes the NUL).",
     "/* ESP-IDF */ .cert_len = ca_end - ca_start;   /* EMBED_TXTFILES adds the NUL */\n"
     "/* or */ .cert_len = strlen(ca_pem) + 1;\n" DOCTOR},
    [MQTLS__F_DNS_FAILURE] = {
     "getaddrinfo failed (esp-tls 'couldn't get hostname', mosquitto 'Lookup error.', Linux "
     "'Name or service not known').",
     "getent hosts HOST\n/* ESP-IDF: check DNS from DHCP, esp_netif_get_dns_info() */\n" DOCTOR},
    [MQTLS__F_CONNECTION_REFUSED] = {
     "TCP RST: the broker is down, listens on another port, or only on localhost.",
     "ss -ltnp | grep mosquitto\n# mosquitto.conf: listener 8883 0.0.0.0\n" DOCTOR},
    [MQTLS__F_CONNECT_TIMEOUT] = {
     "No answer at all: firewall, wrong IP, unreachable network.",
     "nc -vz -w 5 HOST 8883\n" DOCTOR},
    [MQTLS__F_NETWORK_UNREACHABLE] = {
     "EHOSTUNREACH / ENETUNREACH ('No route to host', 'Network is unreachable'): no route, no "
     "Wi-Fi/IP yet, wrong subnet.",
     "ip route get BROKER_IP\n/* ESP-IDF: connect only after IP_EVENT_STA_GOT_IP */\n" DOCTOR},
    [MQTLS__F_TLS_ON_PLAIN_PORT] = {
     "The client starts TLS but the port speaks plain MQTT (often 1883): the broker logs a "
     "protocol error and closes; the client sees EOF, 'wrong version number' or mbedTLS "
     "-0x7280/-0x7200.",
     "mosquitto_pub -h HOST -p 8883 --cafile ca.crt ...   # TLS port\n"
     "# or use mqtt:// for port 1883\n" DOCTOR},
    [MQTLS__F_PLAIN_ON_TLS_PORT] = {
     "The client sends CONNECT without TLS to a TLS listener; the broker's TLS layer fails "
     "('wrong version number', 'http request') and closes; the client sees 'Protocol error' or "
     "'The connection was lost.'",
     "mosquitto_pub -h HOST -p 8883 --cafile ca.crt ...   # add --cafile (TLS)\n"
     "/* esp-mqtt */ .broker.address.uri = \"mqtts://HOST:8883\"\n" DOCTOR},
    [MQTLS__F_NO_SHARED_CIPHER] = {
     "'no shared cipher', 'sslv3 alert handshake failure' (40), insufficient_security (71), "
     "'no_suitable_ciphers', mbedTLS -0x7380/-0x6980. Often: the server key type (ECDSA) is not "
     "matched by the client's suites, or the broker allows only suites the client lacks (e.g. "
     "PSK). No common TLS *version* is tls-version-mismatch.",
     "openssl s_client -connect HOST:8883 -tls1_2 </dev/null | grep -E 'Protocol|Cipher'\n"
     "# mosquitto.conf: tls_version tlsv1.2\n" DOCTOR},
    [MQTLS__F_HANDSHAKE_TIMEOUT] = {
     "Slow peer or a middlebox; on small devices RSA-4096 operations take seconds (mbedTLS "
     "-0x6800).",
     "/* esp-mqtt */ .network.timeout_ms = 20000\n" DOCTOR},
    [MQTLS__F_ALPN_REQUIRED] = {
     "Alert 120 no_application_protocol, or the broker closes right after ClientHello.",
     "mosquitto_pub ... --tls-alpn x-amzn-mqtt-ca\n"
     "/* esp-mqtt */ .broker.verification.alpn_protos = (const char *[]){\"x-amzn-mqtt-ca\", "
     "NULL}\n" DOCTOR},
    [MQTLS__F_TLS_ALERT] = {
     "A fatal alert with no more specific finding (e.g. internal_error 80, illegal_parameter 47, "
     "decode_error 50). The peer's log says why.",
     "journalctl -u mosquitto | grep -i openssl\n" DOCTOR},
    [MQTLS__F_NOT_AUTHORIZED] = {
     "CONNACK 5 (3.1.1) / 0x87 Not authorized (5.0): authentication succeeded at TLS level but the "
     "broker's auth (password file, use_identity_as_username, ACL plugin) rejects this client.",
     "# mosquitto.conf (cert CN as user): require_certificate true\nuse_identity_as_username true\n"
     "# or give -u/-P; check: journalctl -u mosquitto | grep -i 'not authori'"},
    [MQTLS__F_BAD_CREDENTIALS] = {
     "CONNACK 4 (3.1.1) / 0x86 Bad User Name or Password (5.0).",
     "mosquitto_passwd -b /etc/mosquitto/passwd USER PASSWORD && systemctl reload mosquitto"},
    [MQTLS__F_CLIENT_ID_REJECTED] = {
     "CONNACK 2 / 0x85: empty id with clean session false, too long, or invalid characters.",
     "mosquitto_pub -i device-001 ...   # non-empty, <= 23 chars for strict 3.1.1 brokers"},
    [MQTLS__F_UNSUPPORTED_PROTOCOL_VERSION] = {
     "CONNACK 1 (3.1.1) / 0x84 (5.0): e.g. MQTT 5 to a 3.1.1-only broker.",
     "mosquitto_pub -V mqttv311 ...\n/* esp-mqtt */ .session.protocol_ver = MQTT_PROTOCOL_V_3_1_1"},
    [MQTLS__F_SERVER_UNAVAILABLE] = {
     "CONNACK 3 / 0x88 Server unavailable / 0x89 Server busy / 0x8B shutting down, or "
     "max_connections reached.",
     "journalctl -u mosquitto -n 50\n# mosquitto.conf: max_connections -1"},
    [MQTLS__F_CONNACK_REFUSED] = {
     "An MQTT 5 reason code >= 0x80 without a more specific finding (0x80 unspecified, 0x83 "
     "implementation specific, 0x95 packet too large, 0x9C use another server ...).",
     "mosquitto_sub -V mqttv5 -d ...   # prints the reason code and reason string\n" DOCTOR},
    [MQTLS__F_CLOSED_AFTER_CONNECT] = {
     "The broker dropped the connection after CONNECT, without CONNACK (AWS IoT does this when "
     "the policy denies the connect or the client id is in use) or soon after it (another "
     "client took over the same client id: 0x8E, keepalive expired). The broker log says which.",
     "mosquitto_pub -i unique-id-$(hostname) ...\njournalctl -u mosquitto | grep -E 'already "
     "connected|exceeded timeout|disconnected'"},
    [MQTLS__F_INSECURE_MODE] = {
     "MBEDTLS_SSL_VERIFY_NONE/OPTIONAL, --insecure, skip_cert_common_name_check: the connection "
     "is open to impersonation ('Certificate verification was skipped').",
     "/* esp-mqtt */ remove .broker.verification.skip_cert_common_name_check = true\n" DOCTOR},
    [MQTLS__F_IP_SAN_OLD_MBEDTLS] = {
     "mbedTLS before 3.5 (ESP-IDF 4.x and early 5.x) compares the host only with dNSName SANs "
     "(and the CN when there is no SAN), never with iPAddress SANs: a device that connects by "
     "IP fails with -0x2700, flags 0x04 (CN_MISMATCH), although OpenSSL and mqtls accept the "
     "certificate.",
     NEW_SERVER " --ip 192.0.2.10 --dns 192.0.2.10   # the IP as a DNS name too\n" USE_SERVER
     "# or connect by a DNS name that is in the certificate\n" DOCTOR},
    [MQTLS__F_PSK_MISMATCH] = {
     "Both sides derived different keys from the PSK: the broker's psk_file holds another key for this identity (or the key was given in another form: hex digits, not text). OpenSSL logs decryption failed or bad record mac.",
     "grep '^IDENTITY:' /etc/mosquitto/psk_file   # the hex after the colon must equal --psk\n" DOCTOR},
    [MQTLS__F_PSK_IDENTITY_UNKNOWN] = {
     "The identity we sent is not in the broker's psk_file (OpenSSL: psk identity not found), or the listener has no psk_file at all.",
     "grep -c '^IDENTITY:' /etc/mosquitto/psk_file   # add 'IDENTITY:HEXKEY' and reload the broker\n" DOCTOR},
    [MQTLS__F_PROXY_UNREACHABLE] = {
     "Nothing accepts connections at the proxy's address, or its name does not resolve: the proxy is down or the --proxy URL names the wrong host or port (default 1080).",
     "nc -vz PROXYHOST PROXYPORT   # is the proxy listening?\n" DOCTOR},
    [MQTLS__F_PROXY_REFUSED] = {
     "The proxy's own rules forbid this destination (dante's socks/client rules, tinyproxy's ConnectPort/Allow, squid's CONNECT ACLs), or it is not the kind of proxy the URL says (SOCKS5 vs HTTP).",
     "allow the broker's address and port in the proxy's rules (tinyproxy: ConnectPort 8883)\n" DOCTOR},
    [MQTLS__F_PROXY_AUTH_FAILED] = {
     "The proxy requires authentication and the URL gave none, or gave credentials it rejects.",
     "--proxy socks5h://USER:PASSWORD@PROXYHOST:PROXYPORT   (http://USER:PASSWORD@... for an HTTP proxy)\n" DOCTOR},
    [MQTLS__F_PROXY_TARGET_UNREACHABLE] = {
     "The tunnel was allowed but the proxy's own connection to the broker failed: wrong broker host or port as seen from the proxy, broker down, or a firewall between proxy and broker.",
     "from the proxy host: nc -vz BROKER PORT\n" DOCTOR},
    [MQTLS__F_TLS_VERSION_MISMATCH] = {
     "The two sides have no TLS protocol version in common: 'tlsv1 alert protocol version' "
     "(alert 70), 'unsupported protocol', 'no protocols available', mbedTLS -0x6E80, Java 'No "
     "appropriate protocol', .NET 'do not possess a common algorithm', Erlang 'Protocol Version'. "
     "Typical: a client that offers only TLS 1.0/1.1 against mosquitto >= 1.6 (TLS 1.0 was "
     "dropped), or a broker set to TLS 1.3 only against a TLS 1.2-only device (mbedTLS 2.28, "
     "ESP-IDF 4.x).",
     "openssl s_client -connect HOST:8883 -tls1_2 </dev/null | grep -E 'Protocol|Cipher'\n"
     "openssl s_client -connect HOST:8883 -tls1_3 </dev/null | grep -E 'Protocol|Cipher'\n"
     "# client: offer TLS 1.2 (Python: ssl.PROTOCOL_TLS_CLIENT, not PROTOCOL_TLSv1)\n"
     "# mosquitto.conf: tls_version tlsv1.2   # TLS 1.2 and 1.3\n" DOCTOR},
    [MQTLS__F_OUT_OF_MEMORY] = {
     "mbedTLS could not allocate memory: MBEDTLS_ERR_SSL_ALLOC_FAILED -0x7F00 (mbedtls_ssl_setup: "
     "the record buffers, 16 KiB each by default), MBEDTLS_ERR_X509_ALLOC_FAILED -0x2880 or "
     "MBEDTLS_ERR_PK_ALLOC_FAILED -0x3F80 (parsing the certificates and keys), MicroPython "
     "'MemoryError'. A TLS connection needs about 40-50 KiB of heap on a device; check the free "
     "heap right before connecting, free what you can, and make the buffers and the CA file "
     "smaller.",
     "/* right before connecting */\n"
     "printf(\"free heap %u\\n\", (unsigned)esp_get_free_heap_size());\n"
     "# ESP-IDF sdkconfig: CONFIG_MBEDTLS_ASYMMETRIC_CONTENT_LEN=y, "
     "CONFIG_MBEDTLS_SSL_OUT_CONTENT_LEN=4096\n"
     "# (keep CONFIG_MBEDTLS_SSL_IN_CONTENT_LEN=16384), CONFIG_MBEDTLS_DYNAMIC_BUFFER=y\n"
     "# give the device only the one root CA the broker chains to, not a bundle"},
    [MQTLS__F_TLS_RECORD_BUFFER_TOO_SMALL] = {
     "mbedTLS refuses a record longer than its input buffer (MBEDTLS_SSL_IN_CONTENT_LEN): -0x7200 "
     "MBEDTLS_ERR_SSL_INVALID_RECORD ('bad message length' in its debug log) or -0x7100 "
     "('requesting more data than fits'); BearSSL reports BR_ERR_TOO_LARGE. TLS records can be "
     "16384 bytes and brokers send their whole certificate chain in one, so a device built with "
     "a 2-4 KiB input buffer (ESP8266 RTOS SDK defaults, small mbedTLS configs) fails in the "
     "handshake, unless the broker honours the max_fragment_length extension.",
     "# ESP-IDF / ESP8266 RTOS SDK menuconfig: Component config > mbedTLS > TLS maximum incoming "
     "fragment length: 16384\n"
     "CONFIG_MBEDTLS_SSL_IN_CONTENT_LEN=16384   # sdkconfig\n"
     "/* plain mbedTLS config */ #define MBEDTLS_SSL_IN_CONTENT_LEN 16384\n"
     SCLIENT " | grep -c 'BEGIN CERTIFICATE'   # how long a chain the broker sends"},
    [MQTLS__F_LIBRARY_WITHOUT_TLS] = {
     "The program uses a build of its MQTT library without TLS: Paho C returns "
     "MQTTCLIENT_BAD_PROTOCOL (-14) for an ssl:// or mqtts:// URI when it is linked with "
     "paho-mqtt3c / paho-mqtt3a instead of paho-mqtt3cs / paho-mqtt3as, and "
     "MQTTCLIENT_SSL_NOT_SUPPORTED (-10) when SSL options are set; esp-mqtt logs 'There are no "
     "transports valid' for mqtts:// when MQTT over SSL is disabled; Python without its ssl "
     "module raises \"No module named '_ssl'\". Nothing reached the network.",
     "cc app.c -o app -lpaho-mqtt3cs   # Paho C, synchronous API (MQTTAsync: -lpaho-mqtt3as)\n"
     "# CMake: target_link_libraries(app eclipse-paho-mqtt-c::paho-mqtt3cs)\n"
     "# ESP-IDF menuconfig: Component config > ESP-MQTT Configurations > Enable MQTT over SSL "
     "(CONFIG_MQTT_TRANSPORT_SSL=y)"},
    [MQTLS__F_NO_VERIFICATION_OPTION] = {
     "esp-tls refuses to start TLS when no way to verify the broker is configured: no CA "
     "certificate, no certificate bundle, no PSK and no explicit skip ('No server verification "
     "option set in esp_tls_cfg_t structure', then 'Failed to set client configurations' / "
     "0x8017). arduino-esp32's WiFiClientSecure returns -1 from start_ssl_client() for the same "
     "reason when none of setCACert(), setCACertBundle(), setPreSharedKey() or setInsecure() was "
     "called. The connection never reaches the network; give the device the broker's CA.",
     "/* esp-mqtt (IDF >= 5): the broker's CA, PEM with its terminating NUL */\n"
     ".broker.verification.certificate = (const char *)ca_crt_start,\n"
     "/* or, for a broker with a public CA: the IDF bundle */\n"
     ".broker.verification.crt_bundle_attach = esp_crt_bundle_attach,\n"
     "/* arduino-esp32 */ wifiClient.setCACert(root_ca_pem);"},
    [MQTLS__F_SERVER_KEY_TOO_SMALL] = {
     "OpenSSL at security level 2 (the default of OpenSSL 3 and of Debian/Ubuntu builds of "
     "1.1.1) refuses to load a certificate whose RSA key is shorter than 2048 bits: the broker "
     "logs 'Unable to load server certificate' with 'SSL_CTX_use_certificate:ee key too small' "
     "and does not open its TLS listener, so clients get 'connection refused'. Re-issue the "
     "broker certificate with RSA-2048+ or P-256 (and the same subjectAltNames); lowering the "
     "security level only hides it, and mbedTLS devices reject the key anyway (BAD_KEY).",
     "openssl x509 -in server.crt -noout -text | grep -E 'Public-Key|DNS:|IP Address:'\n"
     "# a new folder with links to the CA in pki/ (ca.crt, ca.key); pki/ stays as it is:\n"
     "mkdir pki-2048 && ln -s ../pki/ca.crt ../pki/ca.key pki-2048/ && "
     "mqtls pki server pki-2048 --name HOST --rsa 2048   # add --dns/--ip for every SAN shown "
     "above\n"
     "# mosquitto.conf: certfile .../pki-2048/server.crt   keyfile .../pki-2048/server.key"},
    [MQTLS__F_BROKER_LOCAL_ONLY] = {
     "mosquitto 2.0 and later, started without a configuration that has a 'listener' line, runs "
     "in local only mode ('Starting in local only mode. Connections will only be possible from "
     "clients running on this machine.'): it listens on 127.0.0.1 / ::1 only, so other machines "
     "and Docker containers get 'connection refused' (Windows: WinError 10061), while "
     "mosquitto_sub on the broker's own machine works.",
     "ss -ltnp | grep mosquitto   # 127.0.0.1:1883 = local only\n"
     "# mosquitto.conf, then start mosquitto with -c /etc/mosquitto/mosquitto.conf:\n"
     "listener 8883\n"
     "cafile /etc/mosquitto/certs/ca.crt\n"
     "certfile /etc/mosquitto/certs/server.crt\n"
     "keyfile /etc/mosquitto/certs/server.key\n"
     "require_certificate true"},
    [MQTLS__F_PROTOCOL_NAME_MISMATCH] = {
     "The CONNECT pairs a protocol name with the wrong level. MQTT 3.1 is name 'MQIsdp' with "
     "level 3; MQTT 3.1.1 is 'MQTT' with level 4 and MQTT 5.0 'MQTT' with level 5. mosquitto logs "
     "'Invalid protocol version 3 in CONNECT' for 'MQTT' with level 3 and 'Invalid protocol \"X\" "
     "in CONNECT' for any other name (old brokers such as mosquitto 0.15 know only 'MQIsdp'), then "
     "answers CONNACK 1 or closes. The client's protocol setting or a hand-built CONNECT is wrong, "
     "not the network or TLS.",
     "mosquitto_pub -V mqttv311 ...   # 'MQTT', level 4\n"
     "/* esp-mqtt */ .session.protocol_ver = MQTT_PROTOCOL_V_3_1_1\n"
     "/* PubSubClient */ #define MQTT_VERSION MQTT_VERSION_3_1_1   /* 3_1 sends 'MQIsdp' */\n"
     "/* MQTT.js */ mqtt.connect(url, { protocolId: 'MQTT', protocolVersion: 4 })"},
    [MQTLS__F_KEEPALIVE_REJECTED] = {
     "mosquitto 2.0.12 and later apply max_keepalive (default 65535) to MQTT 3.1.1 clients and "
     "treat keep-alive 0 as above it: the CONNECT is refused with CONNACK 2 ('identifier "
     "rejected') and the broker logs 'Bad socket read/write on client X: Invalid arguments "
     "provided.' right after 'New client connected ... (p2, c1, k0)'. A new client id does not "
     "help; a keep-alive between 1 and max_keepalive does.",
     "/* MicroPython umqtt */ MQTTClient(client_id, server, keepalive=60)\n"
     "/* lwIP MQTT */ ci.keep_alive = 60;\n"
     "mosquitto_pub -k 60 ...\n"
     "# broker side: mosquitto.conf max_keepalive must be >= what the clients send"},
    [MQTLS__F_KEY_FORMAT_UNSUPPORTED] = {
     "The key file holds a valid private key, but in an encoding the tool does not read: HiveMQ "
     "mqtt-cli (before 4.x) did not read unencrypted PKCS#8 ('BEGIN PRIVATE KEY') or DER keys "
     "('The private key could not be recognized'), Java code written for one of PKCS#8 / PKCS#1 "
     "fails on the other ('PrivateKeyInfo cannot be cast', 'algid parse error'). If 'openssl "
     "pkey' reads it, convert the key; the certificate stays valid.",
     "openssl pkey -in client.key -noout && echo 'the key itself is fine'\n"
     "test ! -e client-pkcs8.pem && openssl pkey -in client.key -out client-pkcs8.pem                # 'BEGIN PRIVATE KEY'\n"
     "test ! -e client-pkcs1.pem && openssl pkey -in client.key -traditional -out client-pkcs1.pem   # 'BEGIN RSA/EC PRIVATE "
     "KEY'\n"
     "test ! -e client.pem && openssl pkey -inform DER -in client.der -out client.pem          # DER -> PEM"},
    [MQTLS__F_SERVER_KEY_MISMATCH] = {
     "The broker's keyfile is not the key of its certfile: mosquitto logs 'Server "
     "certificate/key are inconsistent.' (OpenSSL: 'key values mismatch' while loading) and does "
     "not open its TLS listener. Usually the key of an older certificate, or files from two runs "
     "of a certificate script.",
     "openssl x509 -in server.crt -noout -pubkey | openssl sha256\n"
     "openssl pkey -in server.key -pubout | openssl sha256   # must be equal\n"
     "# use the key that was generated with this certificate (certfile / keyfile in "
     "mosquitto.conf)"},
    /* diag2 */
    [MQTLS__F_CONNACK_TIMEOUT] = {
     "TCP (and TLS) connected, CONNECT was sent, and no CONNACK came within the timeout: the "
     "port is not an MQTT listener (HTTP, SSH, a database), a TLS port spoken to in plain MQTT, "
     "or a broker too loaded to answer.",
     "ss -ltnp | grep PORT   # on the broker host: who listens there\n" DOCTOR},
    [MQTLS__F_CLIENT_ID_TAKEN_OVER] = {
     "A broker must close an existing session when a new client connects with the same client "
     "id [MQTT-3.1.4-3]; MQTT 5 says so with DISCONNECT 0x8E (session taken over). Two devices "
     "with one id kick each other out in a loop.",
     "journalctl -u mosquitto | grep 'already connected'\n"
     "/* esp-mqtt */ .credentials.client_id = a unique id per device"},
    [MQTLS__F_BROKER_STOPPED] = {
     "The broker closed an accepted session and then refused new connections (MQTT 5: "
     "DISCONNECT 0x8B, server shutting down): it stopped or restarted.",
     "systemctl status mosquitto\njournalctl -u mosquitto -n 50"},
    [MQTLS__F_CONNECTION_LOST] = {
     "The broker (or the network) ended a session after CONNACK: keepalive expired, an MQTT 5 "
     "DISCONNECT reason, a policy change, or a broker restart.",
     "journalctl -u mosquitto | grep -E 'disconnected|exceeded timeout'"},
    [MQTLS__F_HANDSHAKE_RESET] = {
     "The server answered the ClientHello (it speaks TLS) and then reset or closed the "
     "connection without a TLS alert: a proxy or firewall dropping TLS, a broker crash, or a "
     "broker rejecting the client certificate silently.",
     SCLIENT "\njournalctl -u mosquitto -n 50"},
    [MQTLS__F_CONNECTION_FAILED] = {
     "The failure carries no fact a check could pin to a cause; the raw facts (layer, status, "
     "mbedTLS code, verify flags, alert, errno) are shown.",
     DOCTOR},
    [MQTLS__F_CLIENT_CERT_REVOKED] = {
     "The broker checks client certificates against a CRL (mosquitto 'crlfile') that lists "
     "this one: alert certificate_revoked (44), OpenSSL 'certificate revoked'.",
     "openssl crl -in crl.pem -noout -text | grep -A1 'Serial Number'"},
    [MQTLS__F_PATH_LENGTH_EXCEEDED] = {
     "A CA's basicConstraints pathLenConstraint limits the intermediate CAs below it; a longer "
     "chain is rejected (mbedTLS NOT_TRUSTED, OpenSSL 'path length constraint exceeded').",
     "openssl x509 -in ca.crt -noout -ext basicConstraints\n" DOCTOR},
    [MQTLS__F_UNSUPPORTED_CRITICAL_EXTENSION] = {
     "mbedTLS refuses to parse a certificate with a critical extension it does not implement "
     "(nameConstraints, policyConstraints, ...) unless built with "
     "MBEDTLS_X509_ALLOW_UNSUPPORTED_CRITICAL_EXTENSION: -0x2562 (X509 - unsupported extension).",
     "openssl x509 -in ca.crt -noout -text | grep -A2 critical"},
    [MQTLS__F_MQTT5_NOT_SUPPORTED] = {
     "After an MQTT 5 CONNECT the broker closed the connection without any CONNACK (TLS and TCP "
     "were fine). A broker that speaks MQTT 5 refuses with a CONNACK reason code (0x84 for the "
     "version); one that does not cannot parse the v5 CONNECT (its property length shifts every "
     "later field) and drops it: RabbitMQ before 3.13, e.g. Debian 12's 3.10 (node log 'MQTT "
     "cannot parse a frame ... function_clause'). mosquitto_pub -V 5: 'Error: The connection "
     "was lost.'",
     "mosquitto_pub -V mqttv311 ...   # mqtls: -V 311\n/* esp-mqtt */ .session.protocol_ver = "
     "MQTT_PROTOCOL_V_3_1_1"},
    [MQTLS__F_PIN_MISMATCH] = {
     "Public-key pinning (mqtls --pin, curl --pinnedpubkey, an app's pinned SPKI hash): the "
     "chain verified, but the SHA-256 of the server's public key is none of the pins. The "
     "server got a new key (renewed certificate, other broker behind the name) or a proxy "
     "intercepts TLS.",
     "openssl s_client -connect HOST:8883 </dev/null 2>/dev/null | openssl x509 -pubkey -noout "
     "| openssl pkey -pubin -outform der | openssl dgst -sha256 -binary | openssl enc -base64"
     "   # the server's pin: compare, then add it with --pin sha256//...\n"},
    [MQTLS__F_PKCS11_KEY_UNUSABLE] = {
     "The client key is on a PKCS#11 token (an RFC 7512 pkcs11: URI as --key, "
     "mqtls_tls_cfg_t::key_file) and could not be used: the module cannot be loaded, no token or "
     "no private key matches the URI (or several do), the token wants a PIN (none given, or it "
     "refused it: CKR_PIN_INCORRECT 0xA0), or the TLS engine cannot sign with that key (EC keys "
     "on a token need the openssl engine; mbedTLS 3.6 signs with a token key in TLS 1.2 only).",
     "pkcs11-tool --module MODULE.so --list-slots\n"
     "pkcs11-tool --module MODULE.so --login --list-objects --type privkey   # asks for the PIN\n"
     "mqtls doctor -h HOST -p 8883 --cafile ca.crt --cert client.crt --key "
     "'pkcs11:token=LABEL;object=KEY' --pkcs11-module MODULE.so --keypass-file pin.txt"},
    [MQTLS__F_HANDSHAKE_FRAGMENTED] = {
     "mbedTLS before 3.6.3 (ESP-IDF 4.x, and 5.x releases with an older 3.x) reads a TLS "
     "handshake message only when it arrives in one record: -0x7080 (SSL - The requested "
     "feature is not available; debug log 'TLS handshake fragmentation not supported'). A "
     "server splits one when it is longer than the records it writes: a long certificate chain, "
     "a max_fragment_length the device asked for (mbedtls_ssl_conf_max_frag_len()), or a "
     "server that always writes small records.",
     "openssl s_client -connect HOST:8883 -showcerts </dev/null | grep -c 'BEGIN CERT'   # "
     "certificates the broker sends\n# shorter chain (mosquitto certfile: the server certificate "
     "alone), a larger or no max_fragment_length, or mbedTLS >= 3.6.3 on the device\n" DOCTOR},
};
/* clang-format on */

_Static_assert(sizeof catalogue / sizeof catalogue[0] == MQTLS__F_COUNT,
               "explain_catalogue.h must explain every finding of src/diag/findings.def");

#undef DOCTOR
#undef SCLIENT
#undef PKI_NEW
#undef NEW_SERVER
#undef NEW_CLIENT
#undef USE_SERVER
#undef USE_CLIENT

#endif /* MQTLS_EXPLAIN_CATALOGUE_H */
