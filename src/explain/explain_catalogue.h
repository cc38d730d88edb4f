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
     "openssl x509 -req -sha256 ...   # or: mqtls pki server pki --name HOST --force\n" DOCTOR},
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
     "cat server.crt intermediate.crt > server-chain.crt\n"
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
     "mqtls pki server pki --name HOST --force   # re-issue, then restart the broker\n" DOCTOR},
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
     "mqtls pki server pki --name HOST --force   # put the exact name/IP you connect to in the "
     "SAN\n" DOCTOR},
    [MQTLS__F_SERVER_EKU_MISSING] = {
     "extendedKeyUsage lacks serverAuth (MBEDTLS_X509_BADCERT_EXT_KEY_USAGE 0x1000, "
     "'unsupported certificate purpose').",
     SCLIENT " | openssl x509 -noout -ext extendedKeyUsage,keyUsage\n"
     "mqtls pki server pki --name HOST --force   # EKU serverAuth\n" DOCTOR},
    [MQTLS__F_SERVER_KEY_USAGE] = {
     "keyUsage lacks digitalSignature (ECDHE suites) or keyEncipherment (RSA key exchange); "
     "mbedTLS sets MBEDTLS_X509_BADCERT_KEY_USAGE (0x800) on the server certificate.",
     SCLIENT " | openssl x509 -noout -ext keyUsage\n"
     "mqtls pki server pki --name HOST --force   # keyUsage digitalSignature,keyEncipherment\n"
     DOCTOR},
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
     "cat server.crt intermediate.crt > server-chain.crt   # leaf first\n" DOCTOR},
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
     "mqtls pki client pki --name CLIENT_ID --force\n" DOCTOR},
    [MQTLS__F_CLIENT_CERT_NOT_YET_VALID] = {
     "notBefore of the client certificate is after the broker's clock.",
     "openssl x509 -in client.crt -noout -startdate\ndate -u   # on the broker\n" DOCTOR},
    [MQTLS__F_CLIENT_EKU_MISSING] = {
     "extendedKeyUsage lacks clientAuth; the broker reports 'unsupported certificate purpose' and "
     "sends alert 43 unsupported_certificate or 42 bad_certificate.",
     "openssl x509 -in client.crt -noout -ext extendedKeyUsage\n"
     "mqtls pki client pki --name CLIENT_ID --force   # EKU clientAuth\n" DOCTOR},
    [MQTLS__F_CLIENT_KEY_USAGE] = {
     "A TLS client signs the handshake (CertificateVerify); keyUsage without digitalSignature "
     "makes the broker reject the certificate.",
     "openssl x509 -in client.crt -noout -ext keyUsage\n"
     "mqtls pki client pki --name CLIENT_ID --force\n"
     DOCTOR},
    [MQTLS__F_CLIENT_CHAIN_INCOMPLETE] = {
     "The broker trusts the root but the client sends only its leaf, not the intermediate.",
     "cat client.crt intermediate.crt > client-chain.crt\n"
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
     "openssl pkey -in client.key -out client-plain.key   # or pass the password\n" DOCTOR},
    [MQTLS__F_KEY_PASSWORD_WRONG] = {
     "mbedTLS -0x3B80/-0x1380 (password does not allow for correct decryption); OpenSSL 'bad "
     "decrypt'.",
     "openssl pkey -in client.key -noout   # asks for the password\n" DOCTOR},
    [MQTLS__F_KEY_ENCRYPTION_UNSUPPORTED] = {
     "PKCS#8 with PBES2/scrypt or an uncompiled cipher (mbedTLS -0x1280 / -0x1400 / -0x3980).",
     "openssl pkey -in client.key -out client-plain.key\n"
     "# or re-encrypt: openssl pkey -in client.key -aes256 -out client-aes.key\n" DOCTOR},
    [MQTLS__F_KEY_TYPE_UNSUPPORTED] = {
     "Ed25519/Ed448/X25519 keys or unknown curves cannot be loaded (mbedTLS -0x3C80, -0x3A00).",
     "openssl pkey -in client.key -noout -text | head -1\n"
     "mqtls pki client pki --name CLIENT_ID --force   # ECDSA P-256\n" DOCTOR},
    [MQTLS__F_WEAK_CLIENT_KEY] = {
     "OpenSSL at SECLEVEL 2 rejects RSA < 2048 ('ee key too small').",
     "openssl x509 -in client.crt -noout -text | grep Public-Key\n"
     "mqtls pki client pki --name CLIENT_ID --force\n" DOCTOR},
    [MQTLS__F_CLIENT_SIGNATURE_HASH] = {
     "OpenSSL brokers at security level 1+ reject it ('ca md too weak' in the broker log).",
     "openssl x509 -in client.crt -noout -text | grep 'Signature Algorithm'\n"
     "mqtls pki client pki --name CLIENT_ID --force\n" DOCTOR},
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
     "openssl x509 -inform DER -in ca.der -out ca.crt\n" DOCTOR},
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
     "'no shared cipher', 'sslv3 alert handshake failure' (40), protocol_version (70), mbedTLS "
     "-0x7380/-0x6E80. Often: server key type (ECDSA) not matched by the client's suites, or "
     "TLS 1.3-only vs TLS 1.2-only.",
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
     "mqtls pki server pki --name HOST --ip 192.0.2.10 --dns 192.0.2.10 --force   # the IP as "
     "a DNS name too\n# or connect by a DNS name that is in the certificate\n" DOCTOR},
    [MQTLS__F_PIN_MISMATCH] = {
     "Public-key pinning (mqtls --pin, curl --pinnedpubkey, an app's pinned SPKI hash): the "
     "chain verified, but the SHA-256 of the server's public key is none of the pins. The "
     "server got a new key (renewed certificate, other broker behind the name) or a proxy "
     "intercepts TLS.",
     "openssl s_client -connect HOST:8883 </dev/null 2>/dev/null | openssl x509 -pubkey -noout "
     "| openssl pkey -pubin -outform der | openssl dgst -sha256 -binary | openssl enc -base64"
     "   # the server's pin: compare, then add it with --pin sha256//...\n"},
};
/* clang-format on */

_Static_assert(sizeof catalogue / sizeof catalogue[0] == MQTLS__F_COUNT,
               "explain_catalogue.h must explain every finding of src/diag/findings.def");

#undef DOCTOR
#undef SCLIENT

#endif /* MQTLS_EXPLAIN_CATALOGUE_H */
