/* Static tables of mqtls explain: the finding catalogue (id, title, explanation, fix),
 * codes (mbedTLS, verify flags, esp-tls, TLS alerts, MQTT reason codes, errno) and message
 * phrases of esp-tls / esp-mqtt / mosquitto / Paho / OpenSSL. A phrase's `exclude` is a
 * '|'-separated list of substrings that veto the match.
 *
 * Included by explain.c only. Sources of every text and number are cited per table; message
 * phrases are matched case-insensitively as substrings of a log line. */
#ifndef MQTLS_EXPLAIN_TABLES_H
#define MQTLS_EXPLAIN_TABLES_H

#include <stdint.h>

/* Shared "how to confirm" commands. The doctor/pki flags mirror mosquitto_pub's. */
#define DOCTOR "mqtls doctor -h HOST -p 8883 --cafile ca.crt --cert client.crt --key client.key"
/* Data tables are hand-aligned for reading; clang-format would put one field per line. */
/* clang-format off */
#define SCLIENT "openssl s_client -connect HOST:8883 -servername HOST -showcerts </dev/null"

typedef struct catalogue_entry {
    const char *id;
    const char *title;
    const char *explanation;
    const char *fix;
} catalogue_entry_t;

/* Explanation and fix for every finding id of src/diag/findings.def (the contract; its titles
 * are what explain prints, so doctor and explain read the same). Same order as findings.def. */
static const catalogue_entry_t catalogue[] = {
    {"weak-key", "a certificate in the server's chain is signed with a key the profile rejects",
     "mbedTLS sets MBEDTLS_X509_BADCERT_BAD_KEY (0x10000) on a certificate whose ISSUER's key "
     "fails the X.509 profile: RSA shorter than 2048 bits, or an elliptic curve the profile does "
     "not allow. The problem is the CA (or intermediate) that signed the server certificate, not "
     "your device, so neither an ESP-IDF update nor 'openssl verify' (which accepts it) helps. "
     "Check the key size of every certificate the server sends.",
     SCLIENT " | grep -E 'Public-Key|s:|i:'\n"
     "# replace the RSA-1024 CA: re-issue the chain with RSA-2048+/P-256, e.g.\n"
     "mqtls pki init pki && mqtls pki server pki --name HOST\n" DOCTOR},
    {"weak-signature-hash", "a certificate is signed with a hash the profile rejects (MD5/SHA-1)",
     "mbedTLS sets MBEDTLS_X509_BADCERT_BAD_MD (0x4000) and OpenSSL reports 'ca md too weak' when "
     "a certificate in the chain is signed with SHA-1 or MD5. Re-sign it with SHA-256.",
     "openssl x509 -in server.crt -noout -text | grep 'Signature Algorithm'\n"
     "openssl x509 -req -sha256 ...   # or: mqtls pki server pki --name HOST --force\n" DOCTOR},
    {"curve-not-allowed", "a key uses an algorithm or curve this mbedTLS build/profile rejects",
     "The certificate is signed with a public-key algorithm or a curve outside the profile "
     "(MBEDTLS_X509_BADCERT_BAD_PK 0x8000, or BAD_KEY for a disallowed curve), or the curve is not "
     "compiled into mbedTLS (e.g. brainpool, Ed25519, P-521 on small builds).",
     "openssl x509 -in ca.crt -noout -text | grep -E 'Public Key Algorithm|ASN1 OID|NIST CURVE'\n"
     "# use RSA-2048+ or ECDSA P-256: mqtls pki init pki && mqtls pki server pki --name HOST\n" DOCTOR},
    {"untrusted-issuer", "the server certificate is not signed by the CA you trust",
     "MBEDTLS_X509_BADCERT_NOT_TRUSTED (0x08) / 'unable to get local issuer certificate': "
     "the CA file on the client does not contain the CA that issued the server's chain, or it is "
     "a different (e.g. renewed) CA with the same name.",
     SCLIENT " | grep -E 's:|i:'\n"
     "openssl x509 -in ca.crt -noout -subject -fingerprint -sha256\n"
     "# use the CA file that issued the broker certificate (the broker's cafile), then:\n" DOCTOR},
    {"ca-same-name-different-key", "the CA file has the right name but a different key",
     "The issuer name of the server certificate matches your CA's subject, but the signature "
     "does not verify with its key: the CA was re-generated (same CN, new key) and one side still "
     "has the old one.",
     "openssl x509 -in ca.crt -noout -subject -ext subjectKeyIdentifier\n"
     SCLIENT " | openssl x509 -noout -issuer -ext authorityKeyIdentifier\n"
     "# copy the broker's current CA to the client\n" DOCTOR},
    {"missing-intermediate", "the server does not send its intermediate CA certificate",
     "The server sends only its own certificate; the intermediate that links it to your root is "
     "neither sent nor in your CA file ('unable to get issuer certificate', 'unable to verify the "
     "first certificate').",
     "cat server.crt intermediate.crt > server-chain.crt\n"
     "# mosquitto.conf: certfile /etc/mosquitto/certs/server-chain.crt\n" DOCTOR},
    {"server-self-signed", "the server presents a self-signed certificate",
     "The broker's certificate signs itself ('self-signed certificate'), so only a CA file that "
     "contains exactly that certificate would trust it. Issue the server certificate from a CA.",
     "mqtls pki init pki && mqtls pki server pki --name HOST\n"
     "# mosquitto.conf: cafile ca.crt / certfile server.crt / keyfile server.key\n" DOCTOR},
    {"ca-file-holds-leaf", "the CA file holds a server/client certificate, not a CA",
     "The file given as CA is an end-entity certificate (CA:FALSE). A trust anchor must be the "
     "issuing CA certificate.",
     "openssl x509 -in ca.crt -noout -subject -issuer -ext basicConstraints\n" DOCTOR},
    {"issuer-not-ca", "a certificate in the chain is signed by a certificate that is not a CA",
     "The issuer lacks basicConstraints CA:TRUE or keyUsage keyCertSign ('invalid CA "
     "certificate', MBEDTLS_X509_BADCERT_KEY_USAGE on the issuer).",
     "openssl x509 -in ca.crt -noout -ext basicConstraints,keyUsage\n"
     "mqtls pki init pki   # creates a CA with CA:TRUE, keyCertSign\n" DOCTOR},
    {"server-cert-expired", "the server certificate has expired",
     "MBEDTLS_X509_BADCERT_EXPIRED (0x01) / 'certificate has expired'. Check notAfter; if it is "
     "in the future, the client's clock is wrong instead.",
     SCLIENT " | openssl x509 -noout -dates\n"
     "mqtls pki server pki --name HOST --force   # re-issue, then restart the broker\n" DOCTOR},
    {"server-cert-not-yet-valid", "the server certificate is not valid yet",
     "MBEDTLS_X509_BADCERT_FUTURE (0x200) / 'certificate is not yet valid': notBefore is after the "
     "client's current time. Usually the client's clock (see clock-not-set).",
     SCLIENT " | openssl x509 -noout -dates\ndate -u\n" DOCTOR},
    {"ca-expired", "the CA certificate has expired",
     "The trusted CA (or an intermediate) is past its notAfter date.",
     "openssl x509 -in ca.crt -noout -enddate\nmqtls pki init pki   # new CA; re-issue leaves\n" DOCTOR},
    {"clock-not-set", "the device clock is not set (1970), so every certificate looks invalid",
     "Devices without RTC start at 1970-01-01; certificates then look 'not yet valid' (FUTURE) "
     "until SNTP has set the time. Wait for time sync before connecting.",
     "/* ESP-IDF */ esp_sntp_setoperatingmode(SNTP_OPMODE_POLL);\n"
     "esp_sntp_setservername(0, \"pool.ntp.org\"); esp_sntp_init();\n"
     "/* wait until time(NULL) > 1700000000 before esp_mqtt_client_start() */"},
    {"hostname-mismatch", "the host name you connect to is not in the server certificate",
     "MBEDTLS_X509_BADCERT_CN_MISMATCH (0x04) / 'Hostname mismatch': the URI host (or IP) is not "
     "in the certificate's subjectAltName (or CN). Connecting by IP needs an IP SAN.",
     SCLIENT " | openssl x509 -noout -ext subjectAltName\n"
     "mqtls pki server pki --name HOST --force   # put the exact name/IP you connect to in the SAN\n" DOCTOR},
    {"server-eku-missing", "the server certificate is not allowed for TLS server use",
     "extendedKeyUsage lacks serverAuth (MBEDTLS_X509_BADCERT_EXT_KEY_USAGE 0x1000, "
     "'unsupported certificate purpose').",
     SCLIENT " | openssl x509 -noout -ext extendedKeyUsage,keyUsage\n"
     "mqtls pki server pki --name HOST --force   # EKU serverAuth\n" DOCTOR},
    {"server-key-usage", "the server certificate's keyUsage does not allow the TLS handshake",
     "keyUsage lacks digitalSignature (ECDHE suites) or keyEncipherment (RSA key exchange); "
     "mbedTLS sets MBEDTLS_X509_BADCERT_KEY_USAGE (0x800) on the server certificate.",
     SCLIENT " | openssl x509 -noout -ext keyUsage\n"
     "mqtls pki server pki --name HOST --force   # keyUsage digitalSignature,keyEncipherment\n" DOCTOR},
    {"ca-not-ca", "a certificate in the CA file is not marked as a CA",
     "basicConstraints CA:FALSE or absent on a certificate in the CA file; mbedTLS will not use "
     "it to verify others.",
     "openssl x509 -in ca.crt -noout -ext basicConstraints\n" DOCTOR},
    {"ca-key-usage", "the issuing CA's keyUsage does not allow signing certificates",
     "keyUsage present without keyCertSign: mbedTLS does not accept the CA as a parent, so the "
     "chain ends up NOT_TRUSTED (0x08).",
     "openssl x509 -in ca.crt -noout -ext keyUsage\nmqtls pki init pki   # keyCertSign, cRLSign\n"
     DOCTOR},
    {"verify-failed", "the server certificate was rejected for another reason",
     "Verification failed (mbedTLS -0x2700, OpenSSL 'certificate verify failed') and the input "
     "does not say why, or the flags are uncommon (REVOKED 0x02, MISSING 0x40, OTHER 0x100). "
     "The verify flags or the 'verification info' lines name the reason.",
     "/* ESP-IDF */ esp_tls_get_and_clear_last_error(h, &mbedtls_err, &verify_flags);\n"
     "mqtls explain <verify_flags>\n" DOCTOR},
    {"chain-order", "the certificates in a chain file are not leaf-first",
     "A chain file must list the leaf first, then each issuer. Some stacks accept any order, "
     "mbedTLS and OpenSSL do not always.",
     "cat server.crt intermediate.crt > server-chain.crt   # leaf first\n" DOCTOR},
    {"ca-self-signature-sha1", "a trusted root signs itself with SHA-1 (harmless)",
     "Roots are trusted by presence; their self-signature is not checked. Not a cause of "
     "failure.",
     "# nothing to do\n" DOCTOR},
    {"client-cert-missing", "the broker requires a client certificate and none was sent",
     "mosquitto 'require_certificate true' rejects clients that send no certificate ('peer did "
     "not return a certificate'; alert 116 certificate_required in TLS 1.3, handshake_failure in "
     "TLS 1.2).",
     "mosquitto_pub ... --cert client.crt --key client.key\n"
     "/* esp-mqtt */ .credentials.authentication.certificate = client_crt_pem, .key = key_pem\n"
     DOCTOR},
    {"client-key-missing", "a client certificate is configured without its private key",
     "mbedTLS -0x7600 (own private key not set): the certificate was given, the key was not (or "
     "failed to load).",
     "mosquitto_pub ... --cert client.crt --key client.key\n"
     "/* esp-mqtt */ .credentials.authentication.key = client_key_pem\n" DOCTOR},
    {"client-key-mismatch", "the client key does not belong to the client certificate",
     "'Client certificate/key are inconsistent' / 'key values mismatch': the private key is not "
     "the one the certificate was issued for.",
     "openssl x509 -in client.crt -noout -pubkey | openssl sha256\n"
     "openssl pkey -in client.key -pubout | openssl sha256   # must be equal\n" DOCTOR},
    {"client-cert-expired", "the client certificate has expired (broker rejects it)",
     "The broker reports 'certificate has expired' for the client; the client receives alert 45 "
     "certificate_expired.",
     "openssl x509 -in client.crt -noout -enddate\nmqtls pki client pki --name CLIENT_ID --force\n" DOCTOR},
    {"client-cert-not-yet-valid", "the client certificate is not valid yet",
     "notBefore of the client certificate is after the broker's clock.",
     "openssl x509 -in client.crt -noout -startdate\ndate -u   # on the broker\n" DOCTOR},
    {"client-eku-missing", "the client certificate is not allowed for TLS client use",
     "extendedKeyUsage lacks clientAuth; the broker reports 'unsupported certificate purpose' and "
     "sends alert 43 unsupported_certificate or 42 bad_certificate.",
     "openssl x509 -in client.crt -noout -ext extendedKeyUsage\n"
     "mqtls pki client pki --name CLIENT_ID --force   # EKU clientAuth\n" DOCTOR},
    {"client-key-usage", "the client certificate keyUsage lacks digitalSignature",
     "A TLS client signs the handshake (CertificateVerify); keyUsage without digitalSignature "
     "makes the broker reject the certificate.",
     "openssl x509 -in client.crt -noout -ext keyUsage\nmqtls pki client pki --name CLIENT_ID --force\n"
     DOCTOR},
    {"client-chain-incomplete", "the client does not send the intermediate its certificate needs",
     "The broker trusts the root but the client sends only its leaf, not the intermediate.",
     "cat client.crt intermediate.crt > client-chain.crt\n"
     "mosquitto_pub ... --cert client-chain.crt --key client.key\n" DOCTOR},
    {"client-cert-rejected", "the broker rejected the client certificate",
     "The broker sent a fatal alert about the client's certificate (bad_certificate, "
     "certificate_unknown, access_denied). The broker's log line says why.",
     "journalctl -u mosquitto | grep -i -E 'openssl|certificate'\n"
     "openssl verify -CAfile broker-cafile.crt client.crt\n" DOCTOR},
    {"client-ca-not-accepted", "the broker does not trust the CA that issued the client cert",
     "The client sent a certificate from a CA that is not in the broker's cafile: the client "
     "receives 'tlsv1 alert unknown ca' (alert 48); on ESP-IDF: -0x7780 (fatal alert received).",
     "openssl verify -CAfile /etc/mosquitto/ca_certificates/ca.crt client.crt\n"
     "# mosquitto.conf: cafile must contain the CA that issued the client certificates\n" DOCTOR},
    {"key-password-required", "the private key is encrypted and no password was given",
     "mbedTLS -0x3C00/-0x1300 (password can't be empty).",
     "openssl pkey -in client.key -out client-plain.key   # or pass the password\n" DOCTOR},
    {"key-password-wrong", "the private key password is wrong",
     "mbedTLS -0x3B80/-0x1380 (password does not allow for correct decryption); OpenSSL 'bad "
     "decrypt'.",
     "openssl pkey -in client.key -noout   # asks for the password\n" DOCTOR},
    {"key-encryption-unsupported", "the key's encryption is not supported by mbedTLS",
     "PKCS#8 with PBES2/scrypt or an uncompiled cipher (mbedTLS -0x1280 / -0x1400 / -0x3980).",
     "openssl pkey -in client.key -out client-plain.key\n"
     "# or re-encrypt: openssl pkey -in client.key -aes256 -out client-aes.key\n" DOCTOR},
    {"key-type-unsupported", "the key type is not supported by this mbedTLS",
     "Ed25519/Ed448/X25519 keys or unknown curves cannot be loaded (mbedTLS -0x3C80, -0x3A00).",
     "openssl pkey -in client.key -noout -text | head -1\n"
     "mqtls pki client pki --name CLIENT_ID --force   # ECDSA P-256\n" DOCTOR},
    {"weak-client-key", "the client key is too small for the broker's security level",
     "OpenSSL at SECLEVEL 2 rejects RSA < 2048 ('ee key too small').",
     "openssl x509 -in client.crt -noout -text | grep Public-Key\n"
     "mqtls pki client pki --name CLIENT_ID --force\n" DOCTOR},
    {"client-weak-signature-hash", "the client certificate is signed with SHA-1/MD5",
     "OpenSSL brokers at security level 1+ reject it ('ca md too weak' in the broker log).",
     "openssl x509 -in client.crt -noout -text | grep 'Signature Algorithm'\n"
     "mqtls pki client pki --name CLIENT_ID --force\n" DOCTOR},
    {"file-unreadable", "a certificate or key file cannot be read",
     "Wrong path, permissions, or the broker user cannot read it ('Unable to load ...', 'File "
     "not found').",
     "ls -l ca.crt client.crt client.key\nsudo -u mosquitto cat /etc/mosquitto/certs/server.key "
     ">/dev/null\n" DOCTOR},
    {"empty-file", "a certificate or key file/buffer is empty",
     "Zero bytes: a failed download or an embedded buffer that was never filled.",
     "ls -l ca.crt client.crt client.key\n" DOCTOR},
    {"pem-truncated", "a PEM file is cut off or its base64 is damaged",
     "'-----END' line missing or base64 corrupted (mbedTLS -0x1100/-0x1080, OpenSSL 'bad base64 "
     "decode').",
     "openssl x509 -in ca.crt -noout && tail -1 ca.crt\n" DOCTOR},
    {"der-not-pem", "a DER (binary) file was given where PEM was expected",
     "OpenSSL 'no start line'. Convert it.",
     "openssl x509 -inform DER -in ca.der -out ca.crt\n" DOCTOR},
    {"not-a-certificate", "the file is not a certificate (a key, a CSR, HTML ...)",
     "Nothing in the file parses as an X.509 certificate (mbedTLS -0x2780 / -0x2180).",
     "head -1 ca.crt; openssl x509 -in ca.crt -noout -subject\n" DOCTOR},
    {"cert-parse-failed", "a certificate block is damaged and cannot be parsed",
     "The PEM armour is there but the content does not parse (mbedTLS -0x1100 PEM invalid data, "
     "-0x2180-ish X509 invalid format).",
     "openssl x509 -in ca.crt -noout -text\n" DOCTOR},
    {"cert-and-key-swapped", "certificate and key are swapped",
     "The key file holds a certificate and the certificate file holds a key.",
     "head -1 client.crt client.key   # BEGIN CERTIFICATE / BEGIN ... PRIVATE KEY\n" DOCTOR},
    {"key-not-a-key", "the key file does not hold a private key",
     "mbedTLS -0x3D00 (invalid key tag) / -0x1080: the file is a certificate, a public key or "
     "a CSR.",
     "head -1 client.key   # must be BEGIN ... PRIVATE KEY\n" DOCTOR},
    {"pem-not-nul-terminated", "a PEM buffer is passed without its terminating NUL byte",
     "mbedTLS parses a PEM buffer only if its length includes the trailing '\\0'; otherwise it "
     "tries DER and fails (e.g. -0x2180 X509 invalid format, ESP_ERR_MBEDTLS_X509_CRT_PARSE_FAILED "
     "0x8015). With EMBED_TXTFILES use end - start (includes the NUL).",
     "/* ESP-IDF */ .cert_len = ca_end - ca_start;   /* EMBED_TXTFILES adds the NUL */\n"
     "/* or */ .cert_len = strlen(ca_pem) + 1;\n" DOCTOR},
    {"dns-failure", "the broker host name cannot be resolved",
     "getaddrinfo failed (esp-tls 'couldn't get hostname', mosquitto 'Lookup error.', Linux "
     "'Name or service not known').",
     "getent hosts HOST\n/* ESP-IDF: check DNS from DHCP, esp_netif_get_dns_info() */\n" DOCTOR},
    {"connection-refused", "nothing listens on that host and port",
     "TCP RST: the broker is down, listens on another port, or only on localhost.",
     "ss -ltnp | grep mosquitto\n# mosquitto.conf: listener 8883 0.0.0.0\n" DOCTOR},
    {"connect-timeout", "TCP connect timed out",
     "No answer at all: firewall, wrong IP, unreachable network.",
     "nc -vz -w 5 HOST 8883\n" DOCTOR},
    {"network-unreachable", "the network or host is unreachable",
     "EHOSTUNREACH / ENETUNREACH ('No route to host', 'Network is unreachable'): no route, no "
     "Wi-Fi/IP yet, wrong subnet.",
     "ip route get BROKER_IP\n/* ESP-IDF: connect only after IP_EVENT_STA_GOT_IP */\n" DOCTOR},
    {"tls-on-plain-port", "TLS was spoken to a plain-MQTT port",
     "The client starts TLS but the port speaks plain MQTT (often 1883): the broker logs a "
     "protocol error and closes; the client sees EOF, 'wrong version number' or mbedTLS "
     "-0x7280/-0x7200.",
     "mosquitto_pub -h HOST -p 8883 --cafile ca.crt ...   # TLS port\n"
     "# or use mqtt:// for port 1883\n" DOCTOR},
    {"plain-on-tls-port", "plain MQTT was sent to a TLS port",
     "The client sends CONNECT without TLS to a TLS listener; the broker's TLS layer fails "
     "('wrong version number', 'http request') and closes; the client sees 'Protocol error' or "
     "'The connection was lost.'",
     "mosquitto_pub -h HOST -p 8883 --cafile ca.crt ...   # add --cafile (TLS)\n"
     "/* esp-mqtt */ .broker.address.uri = \"mqtts://HOST:8883\"\n" DOCTOR},
    {"no-shared-cipher", "client and server share no TLS version or cipher suite",
     "'no shared cipher', 'sslv3 alert handshake failure' (40), protocol_version (70), mbedTLS "
     "-0x7380/-0x6E80. Often: server key type (ECDSA) not matched by the client's suites, or "
     "TLS 1.3-only vs TLS 1.2-only.",
     "openssl s_client -connect HOST:8883 -tls1_2 </dev/null | grep -E 'Protocol|Cipher'\n"
     "# mosquitto.conf: tls_version tlsv1.2\n" DOCTOR},
    {"handshake-timeout", "the TLS handshake did not finish in time",
     "Slow peer or a middlebox; on small devices RSA-4096 operations take seconds (mbedTLS "
     "-0x6800).",
     "/* esp-mqtt */ .network.timeout_ms = 20000\n" DOCTOR},
    {"alpn-required", "the broker requires an ALPN protocol (e.g. AWS IoT on 443)",
     "Alert 120 no_application_protocol, or the broker closes right after ClientHello.",
     "mosquitto_pub ... --tls-alpn x-amzn-mqtt-ca\n"
     "/* esp-mqtt */ .broker.verification.alpn_protos = (const char *[]){\"x-amzn-mqtt-ca\", "
     "NULL}\n" DOCTOR},
    {"tls-alert", "the peer ended the handshake with a fatal TLS alert",
     "A fatal alert with no more specific finding (e.g. internal_error 80, illegal_parameter 47, "
     "decode_error 50). The peer's log says why.",
     "journalctl -u mosquitto | grep -i openssl\n" DOCTOR},
    {"not-authorized", "the broker refused the connection: not authorised",
     "CONNACK 5 (3.1.1) / 0x87 Not authorized (5.0): authentication succeeded at TLS level but the "
     "broker's auth (password file, use_identity_as_username, ACL plugin) rejects this client.",
     "# mosquitto.conf (cert CN as user): require_certificate true\nuse_identity_as_username true\n"
     "# or give -u/-P; check: journalctl -u mosquitto | grep -i 'not authori'"},
    {"bad-credentials", "wrong user name or password",
     "CONNACK 4 (3.1.1) / 0x86 Bad User Name or Password (5.0).",
     "mosquitto_passwd -b /etc/mosquitto/passwd USER PASSWORD && systemctl reload mosquitto"},
    {"client-id-rejected", "the broker rejected the client identifier",
     "CONNACK 2 / 0x85: empty id with clean session false, too long, or invalid characters.",
     "mosquitto_pub -i device-001 ...   # non-empty, <= 23 chars for strict 3.1.1 brokers"},
    {"unsupported-protocol-version", "the broker does not speak this MQTT version",
     "CONNACK 1 (3.1.1) / 0x84 (5.0): e.g. MQTT 5 to a 3.1.1-only broker.",
     "mosquitto_pub -V mqttv311 ...\n/* esp-mqtt */ .session.protocol_ver = MQTT_PROTOCOL_V_3_1_1"},
    {"server-unavailable", "the broker is unavailable or busy",
     "CONNACK 3 / 0x88 Server unavailable / 0x89 Server busy / 0x8B shutting down, or "
     "max_connections reached.",
     "journalctl -u mosquitto -n 50\n# mosquitto.conf: max_connections -1"},
    {"connack-refused", "the broker refused CONNECT with another reason code",
     "An MQTT 5 reason code >= 0x80 without a more specific finding (0x80 unspecified, 0x83 "
     "implementation specific, 0x95 packet too large, 0x9C use another server ...).",
     "mosquitto_sub -V mqttv5 -d ...   # prints the reason code and reason string\n" DOCTOR},
    {"closed-after-connect", "the broker closed the connection after CONNECT",
     "The broker dropped the connection after CONNECT, without CONNACK (AWS IoT does this when "
     "the policy denies the connect or the client id is in use) or soon after it (another "
     "client took over the same client id: 0x8E, keepalive expired). The broker log says which.",
     "mosquitto_pub -i unique-id-$(hostname) ...\njournalctl -u mosquitto | grep -E 'already "
     "connected|exceeded timeout|disconnected'"},
    {"insecure-mode", "certificate verification is turned off",
     "MBEDTLS_SSL_VERIFY_NONE/OPTIONAL, --insecure, skip_cert_common_name_check: the connection "
     "is open to impersonation ('Certificate verification was skipped').",
     "/* esp-mqtt */ remove .broker.verification.skip_cert_common_name_check = true\n" DOCTOR},
    {"ip-san-old-mbedtls",
     "connecting by IP works here, but devices on mbedTLS older than 3.5 cannot match an IP "
     "subjectAltName",
     "mbedTLS before 3.5 (ESP-IDF 4.x and early 5.x) compares the host only with dNSName SANs "
     "(and the CN when there is no SAN), never with iPAddress SANs: a device that connects by "
     "IP fails with -0x2700, flags 0x04 (CN_MISMATCH), although OpenSSL and mqtls accept the "
     "certificate.",
     "mqtls pki server pki --name HOST --ip 192.0.2.10 --dns 192.0.2.10 --force   # the IP as "
     "a DNS name too\n# or connect by a DNS name that is in the certificate\n" DOCTOR},
};

/* --- mbedTLS error codes (2.28 include/mbedtls/{ssl,x509,pk,pem,net_sockets}.h) --------
 * Only codes that point to a cause are listed; mbedtls_strerror() names every other one.
 * `v3` notes where mbedTLS 3.x (ESP-IDF >= 5.0) reuses the number for another error. */
typedef struct weight {
    const char *id;
    int w;
} weight_t;

typedef struct mbed_entry {
    uint16_t code; /* magnitude: -0x2700 is 0x2700 */
    const char *name;
    const char *v3;
    weight_t to[3];
} mbed_entry_t;

static const mbed_entry_t mbed_codes[] = {
    /* 0x2700 is resolved after all input: by the verify flags if any, else the generic ids */
    {0x2700, "MBEDTLS_ERR_X509_CERT_VERIFY_FAILED", NULL, {{NULL, 0}}},
    {0x7800, "MBEDTLS_ERR_SSL_PEER_VERIFY_FAILED", NULL, {{NULL, 0}}},
    {0x7780, "MBEDTLS_ERR_SSL_FATAL_ALERT_MESSAGE", NULL,
     {{"client-ca-not-accepted", 2}, {"client-cert-rejected", 2}, {"tls-alert", 1}}},
    {0x7280, "MBEDTLS_ERR_SSL_CONN_EOF", NULL,
     {{"tls-on-plain-port", 2}, {"client-cert-missing", 1}, {"alpn-required", 1}}},
    {0x7880, "MBEDTLS_ERR_SSL_PEER_CLOSE_NOTIFY", NULL, {{"closed-after-connect", 1}}},
    {0x7200, "MBEDTLS_ERR_SSL_INVALID_RECORD", NULL, {{"tls-on-plain-port", 3}}},
    {0x6800, "MBEDTLS_ERR_SSL_TIMEOUT", NULL, {{"handshake-timeout", 3}}},
    {0x7380, "MBEDTLS_ERR_SSL_NO_CIPHER_CHOSEN", NULL, {{"no-shared-cipher", 3}}},
    {0x6980, "MBEDTLS_ERR_SSL_NO_USABLE_CIPHERSUITE", NULL, {{"no-shared-cipher", 3}}},
    {0x6E80, "MBEDTLS_ERR_SSL_BAD_HS_PROTOCOL_VERSION", "BAD_PROTOCOL_VERSION",
     {{"no-shared-cipher", 3}}},
    {0x6A80, "MBEDTLS_ERR_SSL_HELLO_VERIFY_REQUIRED", "MBEDTLS_ERR_SSL_HANDSHAKE_FAILURE",
     {{"no-shared-cipher", 2}, {"client-cert-missing", 1}}},
    {0x7580, "MBEDTLS_ERR_SSL_CERTIFICATE_REQUIRED", "MBEDTLS_ERR_SSL_NO_APPLICATION_PROTOCOL",
     {{"client-cert-missing", 2}, {"alpn-required", 2}}},
    {0x7480, "MBEDTLS_ERR_SSL_NO_CLIENT_CERTIFICATE", NULL, {{"client-cert-missing", 3}}},
    {0x7600, "MBEDTLS_ERR_SSL_PRIVATE_KEY_REQUIRED", NULL, {{"client-key-missing", 4}}},
    {0x7680, "MBEDTLS_ERR_SSL_CA_CHAIN_REQUIRED", NULL,
     {{"empty-file", 2}, {"file-unreadable", 1}}},
    {0x7A00, "MBEDTLS_ERR_SSL_BAD_HS_CERTIFICATE", NULL,
     {{"curve-not-allowed", 2}, {"key-type-unsupported", 1}}},
    {0x7B00, "MBEDTLS_ERR_SSL_BAD_HS_SERVER_KEY_EXCHANGE", NULL, {{"curve-not-allowed", 2}}},
    {0x6D00, "MBEDTLS_ERR_SSL_PK_TYPE_MISMATCH", NULL, {{"no-shared-cipher", 2}}},
    {0x0052, "MBEDTLS_ERR_NET_UNKNOWN_HOST", NULL, {{"dns-failure", 3}}},
    {0x0044, "MBEDTLS_ERR_NET_CONNECT_FAILED", NULL,
     {{"connection-refused", 2}, {"connect-timeout", 1}}},
    {0x0050, "MBEDTLS_ERR_NET_CONN_RESET", NULL,
     {{"tls-on-plain-port", 1}, {"client-cert-rejected", 1}}},
    {0x3C00, "MBEDTLS_ERR_PK_PASSWORD_REQUIRED", NULL, {{"key-password-required", 3}}},
    {0x1300, "MBEDTLS_ERR_PEM_PASSWORD_REQUIRED", NULL, {{"key-password-required", 3}}},
    {0x3B80, "MBEDTLS_ERR_PK_PASSWORD_MISMATCH", NULL, {{"key-password-wrong", 3}}},
    {0x1380, "MBEDTLS_ERR_PEM_PASSWORD_MISMATCH", NULL, {{"key-password-wrong", 3}}},
    {0x3C80, "MBEDTLS_ERR_PK_UNKNOWN_PK_ALG", NULL,
     {{"key-type-unsupported", 3}, {"cert-and-key-swapped", 1}}},
    {0x3A00, "MBEDTLS_ERR_PK_UNKNOWN_NAMED_CURVE", NULL,
     {{"key-type-unsupported", 3}, {"curve-not-allowed", 1}}},
    {0x3D00, "MBEDTLS_ERR_PK_KEY_INVALID_FORMAT", NULL,
     {{"key-not-a-key", 2}, {"cert-and-key-swapped", 2}, {"pem-not-nul-terminated", 1}}},
    {0x3F00, "MBEDTLS_ERR_PK_TYPE_MISMATCH", NULL, {{"client-key-mismatch", 2}}},
    {0x3980, "MBEDTLS_ERR_PK_FEATURE_UNAVAILABLE", NULL, {{"key-encryption-unsupported", 2}}},
    {0x3E00, "MBEDTLS_ERR_PK_FILE_IO_ERROR", NULL, {{"file-unreadable", 3}}},
    {0x2900, "MBEDTLS_ERR_X509_FILE_IO_ERROR", NULL, {{"file-unreadable", 3}}},
    {0x1280, "MBEDTLS_ERR_PEM_UNKNOWN_ENC_ALG", NULL, {{"key-encryption-unsupported", 3}}},
    {0x1400, "MBEDTLS_ERR_PEM_FEATURE_UNAVAILABLE", NULL, {{"key-encryption-unsupported", 2}}},
    {0x1080, "MBEDTLS_ERR_PEM_NO_HEADER_FOOTER_PRESENT", NULL,
     {{"der-not-pem", 2}, {"not-a-certificate", 1}, {"pem-truncated", 1}}},
    {0x1100, "MBEDTLS_ERR_PEM_INVALID_DATA", NULL,
     {{"cert-parse-failed", 3}, {"pem-truncated", 2}}},
    {0x2180, "MBEDTLS_ERR_X509_INVALID_FORMAT", NULL,
     {{"pem-not-nul-terminated", 3}, {"cert-parse-failed", 1}, {"not-a-certificate", 1}}},
    {0x2780, "MBEDTLS_ERR_X509_CERT_UNKNOWN_FORMAT", NULL,
     {{"not-a-certificate", 2}, {"pem-not-nul-terminated", 2}}},
    {0x2600, "MBEDTLS_ERR_X509_UNKNOWN_SIG_ALG", NULL, {{"curve-not-allowed", 2}}},
    {0x2080, "MBEDTLS_ERR_X509_FEATURE_UNAVAILABLE", NULL, {{"key-type-unsupported", 2}}},
    {0x3000, "MBEDTLS_ERR_X509_FATAL_ERROR", NULL, {{"missing-intermediate", 1}}},
};

/* --- Verify flags (2.28 include/mbedtls/x509.h MBEDTLS_X509_BADCERT_*). `info` is the exact
 * text mbedtls_x509_crt_verify_info() prints (checked against the linked library in
 * tests/unit/explain). Only BADCERT bits (server/peer certificate) map to causes. */
typedef struct flag_entry {
    uint32_t bit;
    const char *name;
    const char *info;
    weight_t to[4];
} flag_entry_t;

static const flag_entry_t verify_flags_tab[] = {
    {0x01, "MBEDTLS_X509_BADCERT_EXPIRED", "The certificate validity has expired",
     {{"server-cert-expired", 3}, {"ca-expired", 1}, {"clock-not-set", 1}}},
    {0x02, "MBEDTLS_X509_BADCERT_REVOKED", "The certificate has been revoked (is on a CRL)",
     {{"verify-failed", 3}}},
    {0x04, "MBEDTLS_X509_BADCERT_CN_MISMATCH",
     "The certificate Common Name (CN) does not match with the expected CN",
     {{"hostname-mismatch", 4}, {"ip-san-old-mbedtls", 1}}},
    {0x08, "MBEDTLS_X509_BADCERT_NOT_TRUSTED",
     "The certificate is not correctly signed by the trusted CA",
     {{"untrusted-issuer", 3}, {"missing-intermediate", 2}, {"ca-same-name-different-key", 1},
      {"ca-key-usage", 1}}},
    {0x10, "MBEDTLS_X509_BADCRL_NOT_TRUSTED", "The CRL is not correctly signed by the trusted CA",
     {{NULL, 0}}},
    {0x20, "MBEDTLS_X509_BADCRL_EXPIRED", "The CRL is expired", {{NULL, 0}}},
    {0x40, "MBEDTLS_X509_BADCERT_MISSING", "Certificate was missing", {{"verify-failed", 3}}},
    {0x80, "MBEDTLS_X509_BADCERT_SKIP_VERIFY", "Certificate verification was skipped",
     {{"insecure-mode", 3}}},
    {0x100, "MBEDTLS_X509_BADCERT_OTHER", "Other reason (can be used by verify callback)",
     {{"verify-failed", 3}}},
    {0x200, "MBEDTLS_X509_BADCERT_FUTURE", "The certificate validity starts in the future",
     {{"clock-not-set", 3}, {"server-cert-not-yet-valid", 2}}},
    {0x400, "MBEDTLS_X509_BADCRL_FUTURE", "The CRL is from the future", {{NULL, 0}}},
    /* Set by the TLS layer on the server certificate (mbedtls_ssl_check_cert_usage); a CA
     * without keyCertSign is not accepted as parent at all and shows up as NOT_TRUSTED. */
    {0x800, "MBEDTLS_X509_BADCERT_KEY_USAGE", "Usage does not match the keyUsage extension",
     {{"server-key-usage", 4}}},
    {0x1000, "MBEDTLS_X509_BADCERT_EXT_KEY_USAGE",
     "Usage does not match the extendedKeyUsage extension", {{"server-eku-missing", 3}}},
    {0x2000, "MBEDTLS_X509_BADCERT_NS_CERT_TYPE", "Usage does not match the nsCertType extension",
     {{"server-eku-missing", 2}, {"server-key-usage", 1}}},
    {0x4000, "MBEDTLS_X509_BADCERT_BAD_MD", "The certificate is signed with an unacceptable hash.",
     {{"weak-signature-hash", 4}}},
    {0x8000, "MBEDTLS_X509_BADCERT_BAD_PK",
     "The certificate is signed with an unacceptable PK alg (eg RSA vs ECDSA).",
     {{"curve-not-allowed", 3}}},
    {0x10000, "MBEDTLS_X509_BADCERT_BAD_KEY",
     "The certificate is signed with an unacceptable key (eg bad curve, RSA too short).",
     {{"weak-key", 5}, {"curve-not-allowed", 1}}},
    {0x20000, "MBEDTLS_X509_BADCRL_BAD_MD", "The CRL is signed with an unacceptable hash.",
     {{NULL, 0}}},
    {0x40000, "MBEDTLS_X509_BADCRL_BAD_PK",
     "The CRL is signed with an unacceptable PK alg (eg RSA vs ECDSA).", {{NULL, 0}}},
    {0x80000, "MBEDTLS_X509_BADCRL_BAD_KEY",
     "The CRL is signed with an unacceptable key (eg bad curve, RSA too short).", {{NULL, 0}}},
};

/* --- esp-tls codes (esp-idf components/esp-tls/esp_tls_errors.h, ESP_ERR_ESP_TLS_BASE 0x8000).
 * IDF >= 4.3 renumbered: the mbedTLS block moved from +0x06.. to +0x10... `old` is the
 * IDF 4.0-4.2 meaning of the same number (esp_tls.h then), or NULL. */
typedef struct esp_entry {
    uint16_t code;
    const char *name;
    const char *old;
    weight_t to[3];
} esp_entry_t;

static const esp_entry_t esp_codes[] = {
    {0x8001, "ESP_ERR_ESP_TLS_CANNOT_RESOLVE_HOSTNAME", NULL, {{"dns-failure", 4}}},
    {0x8002, "ESP_ERR_ESP_TLS_CANNOT_CREATE_SOCKET", NULL, {{NULL, 0}}},
    {0x8003, "ESP_ERR_ESP_TLS_UNSUPPORTED_PROTOCOL_FAMILY", NULL, {{NULL, 0}}},
    {0x8004, "ESP_ERR_ESP_TLS_FAILED_CONNECT_TO_HOST", NULL,
     {{"connection-refused", 3}, {"connect-timeout", 2}}},
    {0x8005, "ESP_ERR_ESP_TLS_SOCKET_SETOPT_FAILED", NULL, {{NULL, 0}}},
    {0x8006, "ESP_ERR_ESP_TLS_CONNECTION_TIMEOUT", "ESP_ERR_MBEDTLS_CERT_PARTLY_OK",
     {{"connect-timeout", 3}, {"handshake-timeout", 2}}},
    {0x8007, "ESP_ERR_ESP_TLS_SE_FAILED", "ESP_ERR_MBEDTLS_CTR_DRBG_SEED_FAILED", {{NULL, 0}}},
    {0x8008, "ESP_ERR_ESP_TLS_TCP_CLOSED_FIN", "ESP_ERR_MBEDTLS_SSL_SET_HOSTNAME_FAILED",
     {{"tls-on-plain-port", 2}, {"client-cert-missing", 1}, {"closed-after-connect", 1}}},
    {0x8009, "ESP_ERR_ESP_TLS_SERVER_HANDSHAKE_TIMEOUT (IDF >= 5.1)",
     "ESP_ERR_MBEDTLS_SSL_CONFIG_DEFAULTS_FAILED", {{"handshake-timeout", 2}}},
    {0x800A, NULL, "ESP_ERR_MBEDTLS_SSL_CONF_ALPN_PROTOCOLS_FAILED", {{NULL, 0}}},
    {0x800B, NULL, "ESP_ERR_MBEDTLS_X509_CRT_PARSE_FAILED",
     {{"pem-not-nul-terminated", 2}, {"not-a-certificate", 1}}},
    {0x800C, NULL, "ESP_ERR_MBEDTLS_SSL_CONF_OWN_CERT_FAILED", {{"client-key-mismatch", 2}}},
    {0x800D, NULL, "ESP_ERR_MBEDTLS_SSL_SETUP_FAILED", {{NULL, 0}}},
    {0x800E, NULL, "ESP_ERR_MBEDTLS_SSL_WRITE_FAILED", {{NULL, 0}}},
    {0x800F, NULL, "ESP_ERR_MBEDTLS_PK_PARSE_KEY_FAILED",
     {{"key-password-required", 1}, {"pem-not-nul-terminated", 1}, {"key-type-unsupported", 1}}},
    {0x8010, "ESP_ERR_MBEDTLS_CERT_PARTLY_OK", "ESP_ERR_MBEDTLS_SSL_HANDSHAKE_FAILED",
     {{"pem-truncated", 1}, {"not-a-certificate", 1}}},
    {0x8011, "ESP_ERR_MBEDTLS_CTR_DRBG_SEED_FAILED", "ESP_ERR_MBEDTLS_SSL_CONF_PSK_FAILED",
     {{NULL, 0}}},
    {0x8012, "ESP_ERR_MBEDTLS_SSL_SET_HOSTNAME_FAILED", "ESP_ERR_ESP_TLS_CONNECTION_TIMEOUT",
     {{NULL, 0}}},
    {0x8013, "ESP_ERR_MBEDTLS_SSL_CONFIG_DEFAULTS_FAILED", NULL, {{NULL, 0}}},
    {0x8014, "ESP_ERR_MBEDTLS_SSL_CONF_ALPN_PROTOCOLS_FAILED", NULL, {{NULL, 0}}},
    {0x8015, "ESP_ERR_MBEDTLS_X509_CRT_PARSE_FAILED", NULL,
     {{"pem-not-nul-terminated", 3}, {"not-a-certificate", 1}, {"pem-truncated", 1}}},
    {0x8016, "ESP_ERR_MBEDTLS_SSL_CONF_OWN_CERT_FAILED", NULL, {{"client-key-mismatch", 3}}},
    {0x8017, "ESP_ERR_MBEDTLS_SSL_SETUP_FAILED", NULL, {{NULL, 0}}},
    {0x8018, "ESP_ERR_MBEDTLS_SSL_WRITE_FAILED", NULL, {{"closed-after-connect", 1}}},
    {0x8019, "ESP_ERR_MBEDTLS_PK_PARSE_KEY_FAILED", NULL,
     {{"pem-not-nul-terminated", 2}, {"key-password-required", 1}, {"key-type-unsupported", 1}}},
    {0x801A, "ESP_ERR_MBEDTLS_SSL_HANDSHAKE_FAILED", NULL, {{NULL, 0}}},
    {0x801B, "ESP_ERR_MBEDTLS_SSL_CONF_PSK_FAILED", NULL, {{NULL, 0}}},
    {0x801C, "ESP_ERR_MBEDTLS_SSL_TICKET_SETUP_FAILED", NULL, {{NULL, 0}}},
    {0x8031, "ESP_ERR_WOLFSSL_SSL_SET_HOSTNAME_FAILED", NULL, {{NULL, 0}}},
    {0x8032, "ESP_ERR_WOLFSSL_SSL_CONF_ALPN_PROTOCOLS_FAILED", NULL, {{NULL, 0}}},
    {0x8033, "ESP_ERR_WOLFSSL_CERT_VERIFY_SETUP_FAILED", NULL, {{NULL, 0}}},
    {0x8034, "ESP_ERR_WOLFSSL_KEY_VERIFY_SETUP_FAILED", NULL, {{NULL, 0}}},
    {0x8035, "ESP_ERR_WOLFSSL_SSL_HANDSHAKE_FAILED", NULL, {{NULL, 0}}},
    {0x8036, "ESP_ERR_WOLFSSL_CTX_SETUP_FAILED", NULL, {{NULL, 0}}},
    {0x8037, "ESP_ERR_WOLFSSL_SSL_SETUP_FAILED", NULL, {{NULL, 0}}},
    {0x8038, "ESP_ERR_WOLFSSL_SSL_WRITE_FAILED", NULL, {{NULL, 0}}},
};

/* --- TLS alerts (RFC 8446 6.2, RFC 5246 7.2; OpenSSL reason strings "sslv3 alert ..." /
 * "tlsv1 alert ..."). `recv` = causes when the CLIENT received it (the broker rejects the
 * client); `sent` = when the broker's log shows it (the client rejected the broker). */
typedef struct alert_entry {
    int num;
    const char *name;
    weight_t recv[3];
    weight_t sent[3];
} alert_entry_t;

static const alert_entry_t alerts[] = {
    {0, "close_notify", {{NULL, 0}}, {{NULL, 0}}},
    {10, "unexpected_message", {{"tls-alert", 2}, {"tls-on-plain-port", 1}}, {{NULL, 0}}},
    {20, "bad_record_mac", {{"tls-alert", 2}}, {{NULL, 0}}},
    {22, "record_overflow", {{"tls-alert", 2}}, {{NULL, 0}}},
    {40, "handshake_failure", {{"client-cert-missing", 3}, {"no-shared-cipher", 2}},
     {{"no-shared-cipher", 2}}},
    {42, "bad_certificate", {{"client-cert-rejected", 3}, {"client-eku-missing", 1}},
     {{"untrusted-issuer", 2}, {"weak-key", 1}, {"hostname-mismatch", 1}}},
    {43, "unsupported_certificate", {{"client-eku-missing", 2}, {"client-cert-rejected", 1}},
     {{"server-eku-missing", 2}, {"curve-not-allowed", 1}}},
    {44, "certificate_revoked", {{"client-cert-rejected", 2}}, {{NULL, 0}}},
    {45, "certificate_expired", {{"client-cert-expired", 3}, {"client-cert-not-yet-valid", 1}},
     {{"server-cert-expired", 3}, {"clock-not-set", 1}}},
    {46, "certificate_unknown", {{"client-cert-rejected", 2}, {"client-ca-not-accepted", 1}},
     {{"untrusted-issuer", 2}, {"hostname-mismatch", 1}}},
    {47, "illegal_parameter", {{"tls-alert", 2}}, {{NULL, 0}}},
    {48, "unknown_ca", {{"client-ca-not-accepted", 3}, {"client-chain-incomplete", 2}},
     {{"untrusted-issuer", 3}, {"missing-intermediate", 2}}},
    {49, "access_denied", {{"client-cert-rejected", 3}}, {{NULL, 0}}},
    {50, "decode_error", {{"tls-alert", 2}, {"tls-on-plain-port", 1}}, {{NULL, 0}}},
    {51, "decrypt_error", {{"client-key-mismatch", 2}}, {{NULL, 0}}},
    {70, "protocol_version", {{"no-shared-cipher", 3}}, {{"no-shared-cipher", 3}}},
    {71, "insufficient_security", {{"no-shared-cipher", 3}}, {{"no-shared-cipher", 3}}},
    {80, "internal_error", {{"tls-alert", 2}}, {{NULL, 0}}},
    {86, "inappropriate_fallback", {{"tls-alert", 2}}, {{NULL, 0}}},
    {90, "user_canceled", {{"tls-alert", 2}}, {{NULL, 0}}},
    {109, "missing_extension", {{"tls-alert", 2}}, {{NULL, 0}}},
    {110, "unsupported_extension", {{"tls-alert", 2}}, {{NULL, 0}}},
    {112, "unrecognized_name", {{"hostname-mismatch", 2}}, {{NULL, 0}}},
    {113, "bad_certificate_status_response", {{"tls-alert", 2}}, {{NULL, 0}}},
    {115, "unknown_psk_identity", {{"tls-alert", 2}}, {{NULL, 0}}},
    {116, "certificate_required", {{"client-cert-missing", 4}}, {{NULL, 0}}},
    {120, "no_application_protocol", {{"alpn-required", 4}}, {{NULL, 0}}},
};

/* --- MQTT 3.1.1 CONNACK return codes (MQTT 3.1.1 section 3.2.2.3, table 3.1; esp-mqtt
 * esp_mqtt_connect_return_code_t uses the same numbers; mosquitto_connack_string() texts). */
typedef struct rc_entry {
    int code;
    const char *name;
    const char *text;
    weight_t to[2];
} rc_entry_t;

static const rc_entry_t connack311[] = {
    {0, "MQTT_CONNECTION_ACCEPTED", "Connection Accepted.", {{NULL, 0}}},
    {1, "MQTT_CONNECTION_REFUSE_PROTOCOL", "Connection Refused: unacceptable protocol version.",
     {{"unsupported-protocol-version", 4}}},
    {2, "MQTT_CONNECTION_REFUSE_ID_REJECTED", "Connection Refused: identifier rejected.",
     {{"client-id-rejected", 4}}},
    {3, "MQTT_CONNECTION_REFUSE_SERVER_UNAVAILABLE", "Connection Refused: broker unavailable.",
     {{"server-unavailable", 4}}},
    {4, "MQTT_CONNECTION_REFUSE_BAD_USERNAME", "Connection Refused: bad user name or password.",
     {{"bad-credentials", 4}}},
    {5, "MQTT_CONNECTION_REFUSE_NOT_AUTHORIZED", "Connection Refused: not authorised.",
     {{"not-authorized", 4}}},
};

/* --- MQTT 5 reason codes >= 0x80 (MQTT 5.0 section 2.4, table 2-6). */
static const rc_entry_t reason5[] = {
    {0x80, "Unspecified error", "CONNACK/DISCONNECT", {{"connack-refused", 2}}},
    {0x81, "Malformed Packet", "CONNACK/DISCONNECT", {{"unsupported-protocol-version", 1}}},
    {0x82, "Protocol Error", "CONNACK/DISCONNECT", {{"unsupported-protocol-version", 1}}},
    {0x83, "Implementation specific error", "CONNACK/DISCONNECT", {{"connack-refused", 2}}},
    {0x84, "Unsupported Protocol Version", "CONNACK", {{"unsupported-protocol-version", 4}}},
    {0x85, "Client Identifier not valid", "CONNACK", {{"client-id-rejected", 4}}},
    {0x86, "Bad User Name or Password", "CONNACK", {{"bad-credentials", 4}}},
    {0x87, "Not authorized", "CONNACK/DISCONNECT/SUBACK/PUBACK", {{"not-authorized", 4}}},
    {0x88, "Server unavailable", "CONNACK", {{"server-unavailable", 4}}},
    {0x89, "Server busy", "CONNACK/DISCONNECT", {{"server-unavailable", 3}}},
    {0x8A, "Banned", "CONNACK", {{"not-authorized", 3}}},
    {0x8B, "Server shutting down", "DISCONNECT", {{"server-unavailable", 2}}},
    {0x8C, "Bad authentication method", "CONNACK/DISCONNECT", {{"bad-credentials", 3}}},
    {0x8D, "Keep Alive timeout", "DISCONNECT", {{"closed-after-connect", 3}}},
    {0x8E, "Session taken over", "DISCONNECT", {{"closed-after-connect", 4}}},
    {0x8F, "Topic Filter invalid", "SUBACK/DISCONNECT", {{NULL, 0}}},
    {0x90, "Topic Name invalid", "CONNACK/PUBACK/DISCONNECT", {{"connack-refused", 2}}},
    {0x91, "Packet Identifier in use", "PUBACK/SUBACK", {{NULL, 0}}},
    {0x92, "Packet Identifier not found", "PUBREL/PUBCOMP", {{NULL, 0}}},
    {0x93, "Receive Maximum exceeded", "DISCONNECT", {{"closed-after-connect", 1}}},
    {0x94, "Topic Alias invalid", "DISCONNECT", {{NULL, 0}}},
    {0x95, "Packet too large", "CONNACK/DISCONNECT", {{"connack-refused", 2}}},
    {0x96, "Message rate too high", "DISCONNECT", {{"closed-after-connect", 1}}},
    {0x97, "Quota exceeded", "CONNACK/DISCONNECT", {{"connack-refused", 2}}},
    {0x98, "Administrative action", "DISCONNECT", {{"closed-after-connect", 2}}},
    {0x99, "Payload format invalid", "CONNACK/PUBACK/DISCONNECT", {{"connack-refused", 2}}},
    {0x9A, "Retain not supported", "CONNACK/DISCONNECT", {{"connack-refused", 2}}},
    {0x9B, "QoS not supported", "CONNACK/DISCONNECT", {{"connack-refused", 2}}},
    {0x9C, "Use another server", "CONNACK/DISCONNECT", {{"server-unavailable", 2}}},
    {0x9D, "Server moved", "CONNACK/DISCONNECT", {{"server-unavailable", 2}}},
    {0x9E, "Shared Subscriptions not supported", "SUBACK/DISCONNECT", {{NULL, 0}}},
    {0x9F, "Connection rate exceeded", "CONNACK/DISCONNECT", {{"server-unavailable", 2}}},
    {0xA0, "Maximum connect time", "DISCONNECT", {{"closed-after-connect", 2}}},
    {0xA1, "Subscription Identifiers not supported", "SUBACK/DISCONNECT", {{NULL, 0}}},
    {0xA2, "Wildcard Subscriptions not supported", "SUBACK/DISCONNECT", {{NULL, 0}}},
};

/* --- Paho C MQTTClient return codes (paho.mqtt.c src/MQTTClient.h; MQTTClient_strerror()). */
static const rc_entry_t paho_rc[] = {
    {-1, "MQTTCLIENT_FAILURE", "Failure (generic: TCP, TLS or CONNACK failure; enable "
     "MQTT_C_CLIENT_TRACE=ON for the reason)", {{NULL, 0}}},
    {-2, "MQTTCLIENT_PERSISTENCE_ERROR", "persistence error", {{NULL, 0}}},
    {-3, "MQTTCLIENT_DISCONNECTED", "Disconnected", {{"closed-after-connect", 2}}},
    {-4, "MQTTCLIENT_MAX_MESSAGES_INFLIGHT", "too many messages in flight", {{NULL, 0}}},
    {-5, "MQTTCLIENT_BAD_UTF8_STRING", "Invalid UTF8 string", {{NULL, 0}}},
    {-6, "MQTTCLIENT_NULL_PARAMETER", "Invalid (NULL) parameter", {{NULL, 0}}},
    {-7, "MQTTCLIENT_TOPICNAME_TRUNCATED", "topic name truncated", {{NULL, 0}}},
    {-8, "MQTTCLIENT_BAD_STRUCTURE", "Bad structure", {{NULL, 0}}},
    {-9, "MQTTCLIENT_BAD_QOS", "Invalid QoS value", {{NULL, 0}}},
    {-10, "MQTTCLIENT_SSL_NOT_SUPPORTED", "SSL is not supported (link paho-mqtt3cs)",
     {{NULL, 0}}},
    {-11, "MQTTCLIENT_BAD_MQTT_VERSION", "Unrecognized MQTT version",
     {{"unsupported-protocol-version", 1}}},
    {-14, "MQTTCLIENT_BAD_PROTOCOL", "Invalid protocol scheme (use ssl:// or mqtts://)",
     {{NULL, 0}}},
    {-15, "MQTTCLIENT_BAD_MQTT_OPTION", "bad MQTT option for this version", {{NULL, 0}}},
    {-16, "MQTTCLIENT_WRONG_MQTT_VERSION", "call not valid for this MQTT version", {{NULL, 0}}},
    {-17, "MQTTCLIENT_0_LEN_WILL_TOPIC", "Zero length will topic on connect", {{NULL, 0}}},
};

/* --- errno. Linux numbers (asm-generic/errno.h) and newlib numbers (ESP-IDF uses newlib's
 * sys/errno.h: ECONNREFUSED 111 but ETIMEDOUT 116, EHOSTUNREACH 118, ENOTCONN 128). */
typedef struct errno_entry {
    const char *name;
    int linux_num;
    int newlib_num;
    const char *text;
    weight_t to[2];
} errno_entry_t;

static const errno_entry_t errnos[] = {
    {"ECONNREFUSED", 111, 111, "Connection refused", {{"connection-refused", 4}}},
    {"ETIMEDOUT", 110, 116, "Connection timed out", {{"connect-timeout", 4}}},
    {"EHOSTUNREACH", 113, 118, "No route to host", {{"network-unreachable", 4}}},
    {"ENETUNREACH", 101, 114, "Network is unreachable", {{"network-unreachable", 4}}},
    {"ECONNRESET", 104, 104, "Connection reset by peer",
     {{"tls-on-plain-port", 1}, {"client-cert-rejected", 1}}},
    {"ECONNABORTED", 103, 113, "Software caused connection abort",
     {{"closed-after-connect", 1}}},
    {"ENOTCONN", 107, 128, "Transport endpoint is not connected", {{"closed-after-connect", 2}}},
    {"EPIPE", 32, 32, "Broken pipe", {{"closed-after-connect", 2}}},
    {"EINPROGRESS", 115, 119, "Operation now in progress (a write/connect did not finish)",
     {{"connect-timeout", 1}}},
    {"EAGAIN", 11, 11, "Resource temporarily unavailable (read timed out)",
     {{"handshake-timeout", 1}}},
    {"ENOENT", 2, 2, "No such file or directory", {{"file-unreadable", 3}}},
    {"EACCES", 13, 13, "Permission denied", {{"file-unreadable", 3}}},
    {"EAI_NONAME", -2, -2, "Name or service not known", {{"dns-failure", 4}}},
    {"EAI_AGAIN", -3, -3, "Temporary failure in name resolution", {{"dns-failure", 4}}},
};

/* --- Message phrases, matched case-insensitively as substrings of one log line.
 * Sources: esp-idf components/esp-tls/esp_tls{,_mbedtls}.c and tcp_transport; esp-mqtt
 * mqtt_client.c; mosquitto 2.0 lib/strings_mosq.c, client/ and src/ (verified against the
 * installed 2.0.11 binaries); paho.mqtt.c src/SSLSocket.c; OpenSSL 3.0 crypto/err/openssl.txt
 * and x509_txt.c (OpenSSL 1.1 spellings too). `broker` replaces `to` when the text is a
 * mosquitto broker log (the reasons then describe the CLIENT's certificate). */
enum {
    PH_NONE = 0,
    PH_VERIFY_INFO = 1, /* `arg` is a verify flag bit */
    PH_ALERT = 2,       /* `arg` is a TLS alert number: direction decides the causes */
    PH_VERIFY_FAILED = 3 /* generic "verification failed": resolved in _finish */
};

typedef struct phrase_entry {
    const char *needle;  /* lowercase */
    const char *exclude; /* lowercase; skip if the line contains it, or NULL */
    const char *source;
    const char *meaning;
    int special;
    uint32_t arg;
    weight_t to[3];
    weight_t broker[3];
} phrase_entry_t;

static const phrase_entry_t phrases[] = {
    /* ---- ESP-IDF esp-tls / esp-mqtt / transport ---- */
    {"failed to verify peer certificate", NULL, "esp-tls",
     "mbedtls_ssl_get_verify_result() returned flags: the server certificate was rejected; the "
     "'verification info' lines that follow name the reason",
     PH_VERIFY_FAILED, 0, {{NULL, 0}}, {{NULL, 0}}},
    {"couldn't get hostname", NULL, "esp-tls",
     "getaddrinfo() failed for the broker host", PH_NONE, 0, {{"dns-failure", 4}}, {{NULL, 0}}},
    {"getaddrinfo() returns", NULL, "esp-tls", "DNS lookup failed", PH_NONE, 0,
     {{"dns-failure", 4}}, {{NULL, 0}}},
    {"select() timeout", NULL, "esp-tls", "TCP connect did not complete in time", PH_NONE, 0,
     {{"connect-timeout", 3}}, {{NULL, 0}}},
    {"failed to connnect to host", NULL, "esp-tls",
     "TCP connect failed (the errno in parentheses says why; 'connnect' is IDF's spelling)",
     PH_NONE, 0, {{"connection-refused", 1}, {"connect-timeout", 1}}, {{NULL, 0}}},
    {"failed to connect to host", NULL, "esp-tls", "TCP connect failed", PH_NONE, 0,
     {{"connection-refused", 1}, {"connect-timeout", 1}}, {{NULL, 0}}},
    {"error transport connect", NULL, "esp-mqtt",
     "the transport (TCP/TLS) could not connect; the esp-tls lines before it say why", PH_NONE,
     0, {{NULL, 0}}, {{NULL, 0}}},
    {"connection refused, bad protocol", NULL, "esp-mqtt", "CONNACK return code 1", PH_NONE, 0,
     {{"unsupported-protocol-version", 4}}, {{NULL, 0}}},
    {"connection refused, server unavailable", NULL, "esp-mqtt", "CONNACK return code 3",
     PH_NONE, 0, {{"server-unavailable", 4}}, {{NULL, 0}}},
    {"connection refused, bad username or password", NULL, "esp-mqtt", "CONNACK return code 4",
     PH_NONE, 0, {{"bad-credentials", 4}}, {{NULL, 0}}},
    {"connection refused, not authorized", NULL, "esp-mqtt", "CONNACK return code 5", PH_NONE, 0,
     {{"not-authorized", 4}}, {{NULL, 0}}},
    {"connection refused, unknow reason", NULL, "esp-mqtt",
     "CONNACK return code 2 (identifier rejected: esp-mqtt has no text for it) or an MQTT 5 "
     "reason code", PH_NONE, 0, {{"client-id-rejected", 3}, {"connack-refused", 2}}, {{NULL, 0}}},
    {"no ping_resp, disconnected", NULL, "esp-mqtt", "keepalive expired without PINGRESP",
     PH_NONE, 0, {{"closed-after-connect", 2}}, {{NULL, 0}}},
    {"error network response", NULL, "esp-mqtt", "no CONNACK: the broker closed the connection",
     PH_NONE, 0, {{"closed-after-connect", 1}, {"plain-on-tls-port", 1}}, {{NULL, 0}}},
    {"mqtt_message_receive() returned 0", NULL, "esp-mqtt", "no CONNACK within network timeout",
     PH_NONE, 0, {{"plain-on-tls-port", 1}, {"closed-after-connect", 1}}, {{NULL, 0}}},
    {"mqtt_message_receive() returned -1", NULL, "esp-mqtt",
     "the broker closed the connection before CONNACK", PH_NONE, 0,
     {{"closed-after-connect", 2}, {"plain-on-tls-port", 1}}, {{NULL, 0}}},
    /* ---- mbedTLS verify info (mbedtls_x509_crt_verify_info) ---- */
    {"certificate validity has expired", NULL, "mbedTLS", NULL, PH_VERIFY_INFO, 0x01,
     {{NULL, 0}}, {{NULL, 0}}},
    {"certificate has been revoked", NULL, "mbedTLS", NULL, PH_VERIFY_INFO, 0x02, {{NULL, 0}},
     {{NULL, 0}}},
    {"common name (cn) does not match", NULL, "mbedTLS", NULL, PH_VERIFY_INFO, 0x04, {{NULL, 0}},
     {{NULL, 0}}},
    {"certificate is not correctly signed by the trusted ca", NULL, "mbedTLS", NULL,
     PH_VERIFY_INFO, 0x08, {{NULL, 0}}, {{NULL, 0}}},
    {"the certificate is not trusted", NULL, "mbedTLS", NULL, PH_VERIFY_INFO, 0x08, {{NULL, 0}},
     {{NULL, 0}}},
    {"certificate was missing", NULL, "mbedTLS", NULL, PH_VERIFY_INFO, 0x40, {{NULL, 0}},
     {{NULL, 0}}},
    {"certificate verification was skipped", NULL, "mbedTLS", NULL, PH_VERIFY_INFO, 0x80,
     {{NULL, 0}}, {{NULL, 0}}},
    {"other reason (can be used by verify callback)", NULL, "mbedTLS", NULL, PH_VERIFY_INFO,
     0x100, {{NULL, 0}}, {{NULL, 0}}},
    {"certificate validity starts in the future", NULL, "mbedTLS", NULL, PH_VERIFY_INFO, 0x200,
     {{NULL, 0}}, {{NULL, 0}}},
    {"usage does not match the keyusage extension", NULL, "mbedTLS", NULL, PH_VERIFY_INFO, 0x800,
     {{NULL, 0}}, {{NULL, 0}}},
    {"usage does not match the extendedkeyusage extension", NULL, "mbedTLS", NULL,
     PH_VERIFY_INFO, 0x1000, {{NULL, 0}}, {{NULL, 0}}},
    {"usage does not match the nscerttype extension", NULL, "mbedTLS", NULL, PH_VERIFY_INFO,
     0x2000, {{NULL, 0}}, {{NULL, 0}}},
    {"certificate is signed with an unacceptable hash", NULL, "mbedTLS", NULL, PH_VERIFY_INFO,
     0x4000, {{NULL, 0}}, {{NULL, 0}}},
    {"certificate is signed with an unacceptable pk alg", NULL, "mbedTLS", NULL, PH_VERIFY_INFO,
     0x8000, {{NULL, 0}}, {{NULL, 0}}},
    {"certificate is signed with an unacceptable key", NULL, "mbedTLS", NULL, PH_VERIFY_INFO,
     0x10000, {{NULL, 0}}, {{NULL, 0}}},
    /* ---- mosquitto_pub/sub and libmosquitto (mosquitto_strerror, mosquitto_connack_string) */
    {"a tls error occurred", NULL, "mosquitto client",
     "MOSQ_ERR_TLS: the TLS handshake failed; the 'OpenSSL Error[...]' line printed before it "
     "names the reason (run mosquitto_pub with -d, or mqtls doctor)",
     PH_NONE, 0, {{NULL, 0}}, {{NULL, 0}}},
    {"tls handshake failed", NULL, "mosquitto client", "MOSQ_ERR_TLS_HANDSHAKE", PH_NONE, 0,
     {{NULL, 0}}, {{NULL, 0}}},
    {"connection refused: not authorised", NULL, "mosquitto client", "CONNACK 5 / 0x87",
     PH_NONE, 0, {{"not-authorized", 4}}, {{NULL, 0}}},
    {"connection refused: bad user name or password", NULL, "mosquitto client", "CONNACK 4",
     PH_NONE, 0, {{"bad-credentials", 4}}, {{NULL, 0}}},
    {"connection refused: identifier rejected", NULL, "mosquitto client", "CONNACK 2", PH_NONE,
     0, {{"client-id-rejected", 4}}, {{NULL, 0}}},
    {"connection refused: broker unavailable", NULL, "mosquitto client", "CONNACK 3", PH_NONE, 0,
     {{"server-unavailable", 4}}, {{NULL, 0}}},
    {"connection refused: unacceptable protocol version", NULL, "mosquitto client", "CONNACK 1",
     PH_NONE, 0, {{"unsupported-protocol-version", 4}}, {{NULL, 0}}},
    {"connection error: not authorized", NULL, "mosquitto client", "MQTT 5 reason 0x87",
     PH_NONE, 0, {{"not-authorized", 4}}, {{NULL, 0}}},
    {"connection error: bad user name or password", NULL, "mosquitto client",
     "MQTT 5 reason 0x86", PH_NONE, 0, {{"bad-credentials", 4}}, {{NULL, 0}}},
    {"connection error: client identifier not valid", NULL, "mosquitto client",
     "MQTT 5 reason 0x85", PH_NONE, 0, {{"client-id-rejected", 4}}, {{NULL, 0}}},
    {"connection error: unsupported protocol version", NULL, "mosquitto client",
     "MQTT 5 reason 0x84", PH_NONE, 0, {{"unsupported-protocol-version", 4}}, {{NULL, 0}}},
    {"try connecting to an mqtt v5 broker", NULL, "mosquitto client",
     "the broker refused MQTT 5 (it speaks 3.1.1 only)", PH_NONE, 0,
     {{"unsupported-protocol-version", 3}}, {{NULL, 0}}},
    /* Observed with mosquitto_pub 2.0.11 against mosquitto 2.0.11 (require_certificate true):
     * client certificate from a CA the broker does not trust, or no client certificate with
     * TLS 1.2 -> "Error: Protocol error" (strerror(EPROTO) after the broker's alert);
     * plain MQTT to the TLS port, or no client certificate with TLS 1.3 -> "Error: The
     * connection was lost." */
    {"protocol error", "disconnected|a network protocol error", "mosquitto client",
     "strerror(EPROTO): the broker aborted TLS, typically because it rejected the client "
     "certificate (or none was sent); the broker's log says which",
     PH_NONE, 0, {{"client-ca-not-accepted", 2}, {"client-cert-missing", 2},
                  {"client-cert-rejected", 1}}, {{NULL, 0}}},
    {"a network protocol error occurred", NULL, "mosquitto client",
     "MOSQ_ERR_PROTOCOL: the connection ended abnormally; with MQTT 5 it follows a refusing "
     "CONNACK printed just before (\"Connection error: ...\")", PH_NONE, 0, {{NULL, 0}},
     {{NULL, 0}}},
    {"the connection was refused", NULL, "mosquitto client",
     "MOSQ_ERR_CONN_REFUSED: the CONNACK refused the connection; the \"Connection error:\" line "
     "before it says why", PH_NONE, 0, {{NULL, 0}}, {{NULL, 0}}},
    {"the connection was lost", NULL, "mosquitto client",
     "MOSQ_ERR_CONN_LOST: the broker closed the connection (plain MQTT sent to a TLS port, or "
     "no client certificate with TLS 1.3, or closed after CONNECT)", PH_NONE, 0,
     {{"plain-on-tls-port", 2}, {"client-cert-missing", 2}, {"closed-after-connect", 1}},
     {{NULL, 0}}},
    {"lookup error", NULL, "mosquitto client", "MOSQ_ERR_EAI: host name lookup failed", PH_NONE,
     0, {{"dns-failure", 4}}, {{NULL, 0}}},
    {"connection refused", "connection refused:|connection refused,", "socket",
     "ECONNREFUSED: nothing listens on that host/port", PH_NONE, 0, {{"connection-refused", 4}},
     {{NULL, 0}}},
    {"unable to load ca certificates", NULL, "mosquitto",
     "the CA file/dir could not be read or parsed", PH_NONE, 0,
     {{"file-unreadable", 3}, {"der-not-pem", 1}}, {{NULL, 0}}},
    {"unable to load client certificate", NULL, "mosquitto client",
     "the --cert file could not be read or parsed", PH_NONE, 0,
     {{"file-unreadable", 2}, {"der-not-pem", 1}, {"cert-and-key-swapped", 1}}, {{NULL, 0}}},
    {"unable to load client key file", NULL, "mosquitto client",
     "the --key file could not be read, parsed or decrypted", PH_NONE, 0,
     {{"file-unreadable", 2}, {"key-password-wrong", 1}, {"cert-and-key-swapped", 1}},
     {{NULL, 0}}},
    {"client certificate/key are inconsistent", NULL, "mosquitto client",
     "SSL_CTX_check_private_key failed", PH_NONE, 0, {{"client-key-mismatch", 4}}, {{NULL, 0}}},
    {"problem setting tls options: file not found", NULL, "mosquitto client",
     "a --cafile/--cert/--key path does not exist", PH_NONE, 0, {{"file-unreadable", 4}},
     {{NULL, 0}}},
    /* ---- mosquitto broker log ---- */
    {"disconnected due to protocol error", NULL, "mosquitto broker",
     "the bytes received were not MQTT (e.g. a TLS ClientHello on a plain listener)", PH_NONE,
     0, {{"tls-on-plain-port", 3}}, {{NULL, 0}}},
    /* 2.0: a failed SSL_read/SSL_accept sets errno EPROTO, so do_disconnect() logs
     * strerror(EPROTO): the reason is the "OpenSSL Error[...]" line just before it. */
    {"disconnected: protocol error", NULL, "mosquitto broker",
     "EPROTO after a TLS failure; the 'OpenSSL Error[...]' line just before it names the reason",
     PH_NONE, 0, {{NULL, 0}}, {{NULL, 0}}},
    {"disconnected: a tls error occurred", NULL, "mosquitto broker",
     "MOSQ_ERR_TLS; the 'OpenSSL Error[...]' line just before it names the reason", PH_NONE, 0,
     {{NULL, 0}}, {{NULL, 0}}},
    {"disconnected, not authorised", NULL, "mosquitto broker",
     "the broker's authentication refused this client", PH_NONE, 0, {{"not-authorized", 4}},
     {{NULL, 0}}},
    {"already connected, closing old connection", NULL, "mosquitto broker",
     "a second client used the same client id", PH_NONE, 0, {{"closed-after-connect", 4}},
     {{NULL, 0}}},
    {"has exceeded timeout, disconnecting", NULL, "mosquitto broker", "keepalive expired",
     PH_NONE, 0, {{"closed-after-connect", 3}}, {{NULL, 0}}},
    {"max_connections exceeded", NULL, "mosquitto broker", "connection limit reached", PH_NONE,
     0, {{"server-unavailable", 3}}, {{NULL, 0}}},
    {"socket error on client", NULL, "mosquitto broker",
     "the connection broke (often right after a TLS error logged just before)", PH_NONE, 0,
     {{NULL, 0}}, {{NULL, 0}}},
    {"peer did not return a certificate", NULL, "OpenSSL (broker)",
     "require_certificate is on and the client sent no certificate", PH_NONE, 0,
     {{"client-cert-missing", 5}}, {{NULL, 0}}},
    {"no shared cipher", NULL, "OpenSSL", "no common cipher suite", PH_NONE, 0,
     {{"no-shared-cipher", 4}}, {{NULL, 0}}},
    {"http request", NULL, "OpenSSL (broker)", "plain text arrived on the TLS listener",
     PH_NONE, 0, {{"plain-on-tls-port", 2}}, {{NULL, 0}}},
    /* ---- Paho C ---- */
    {"ssl is not supported", NULL, "Paho", "MQTTCLIENT_SSL_NOT_SUPPORTED (-10): link "
     "paho-mqtt3cs / paho-mqtt3as", PH_NONE, 0, {{NULL, 0}}, {{NULL, 0}}},
    {"sslsocket error", NULL, "Paho", "SSLSocket_error(): the OpenSSL reason follows", PH_NONE,
     0, {{NULL, 0}}, {{NULL, 0}}},
    {"ssl certificate verification failed", NULL, "Paho",
     "the server certificate failed verification", PH_VERIFY_FAILED, 0, {{NULL, 0}},
     {{NULL, 0}}},
    /* ---- OpenSSL reason strings (SSL_R_*, X509_V_ERR_* texts) ---- */
    {"certificate verify failed", NULL, "OpenSSL",
     "SSL_R_CERTIFICATE_VERIFY_FAILED: the peer's certificate chain was rejected; the "
     "verify error text says why",
     PH_VERIFY_FAILED, 0, {{NULL, 0}}, {{"client-ca-not-accepted", 3}}},
    {"unable to get local issuer certificate", NULL, "OpenSSL",
     "X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY (20)", PH_NONE, 0,
     {{"untrusted-issuer", 4}, {"missing-intermediate", 3}},
     {{"client-ca-not-accepted", 4}, {"client-chain-incomplete", 3}}},
    {"unable to get issuer certificate", NULL, "OpenSSL", "X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT",
     PH_NONE, 0, {{"missing-intermediate", 4}, {"untrusted-issuer", 2}},
     {{"client-chain-incomplete", 4}}},
    {"unable to verify the first certificate", NULL, "OpenSSL",
     "X509_V_ERR_UNABLE_TO_VERIFY_LEAF_SIGNATURE (21)", PH_NONE, 0,
     {{"missing-intermediate", 4}, {"untrusted-issuer", 2}}, {{"client-chain-incomplete", 4}}},
    {"self signed certificate in certificate chain", NULL, "OpenSSL 1.1",
     "X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN (19): the chain ends in a root you do not trust",
     PH_NONE, 0, {{"untrusted-issuer", 4}, {"ca-same-name-different-key", 2}},
     {{"client-ca-not-accepted", 4}}},
    {"self-signed certificate in certificate chain", NULL, "OpenSSL 3",
     "X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN (19): the chain ends in a root you do not trust",
     PH_NONE, 0, {{"untrusted-issuer", 4}, {"ca-same-name-different-key", 2}},
     {{"client-ca-not-accepted", 4}}},
    {"self signed certificate", "in certificate chain", "OpenSSL 1.1",
     "X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT (18)", PH_NONE, 0, {{"server-self-signed", 4}},
     {{"client-ca-not-accepted", 3}}},
    {"self-signed certificate", "in certificate chain", "OpenSSL 3",
     "X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT (18)", PH_NONE, 0, {{"server-self-signed", 4}},
     {{"client-ca-not-accepted", 3}}},
    {"certificate has expired", NULL, "OpenSSL", "X509_V_ERR_CERT_HAS_EXPIRED (10)", PH_NONE, 0,
     {{"server-cert-expired", 4}, {"ca-expired", 1}, {"clock-not-set", 1}},
     {{"client-cert-expired", 4}}},
    {"certificate is not yet valid", NULL, "OpenSSL", "X509_V_ERR_CERT_NOT_YET_VALID (9)",
     PH_NONE, 0, {{"server-cert-not-yet-valid", 3}, {"clock-not-set", 2}},
     {{"client-cert-not-yet-valid", 4}}},
    {"hostname mismatch", NULL, "OpenSSL", "X509_V_ERR_HOSTNAME_MISMATCH (62)", PH_NONE, 0,
     {{"hostname-mismatch", 5}}, {{NULL, 0}}},
    {"ip address mismatch", NULL, "OpenSSL", "X509_V_ERR_IP_ADDRESS_MISMATCH (64)", PH_NONE, 0,
     {{"hostname-mismatch", 5}}, {{NULL, 0}}},
    {"ca md too weak", NULL, "OpenSSL", "SSL_R_CA_MD_TOO_WEAK: a CA signature uses SHA-1/MD5",
     PH_NONE, 0, {{"weak-signature-hash", 5}}, {{"client-weak-signature-hash", 5}}},
    {"ee key too small", NULL, "OpenSSL",
     "SSL_R_EE_KEY_TOO_SMALL: the end-entity key is below the security level (RSA < 2048 at "
     "SECLEVEL 2)",
     PH_NONE, 0, {{"weak-client-key", 3}, {"weak-key", 2}}, {{"weak-key", 4}}},
    {"ca key too small", NULL, "OpenSSL", "SSL_R_CA_KEY_TOO_SMALL", PH_NONE, 0,
     {{"weak-key", 5}}, {{NULL, 0}}},
    {"ca certificate key too weak", NULL, "OpenSSL", "X509_V_ERR_CA_KEY_TOO_SMALL (67)", PH_NONE,
     0, {{"weak-key", 5}}, {{"weak-key", 5}}},
    {"ee certificate key too weak", NULL, "OpenSSL", "X509_V_ERR_EE_KEY_TOO_SMALL (66)", PH_NONE,
     0, {{"weak-key", 4}, {"weak-client-key", 2}}, {{"weak-client-key", 5}}},
    {"ca signature digest algorithm too weak", NULL, "OpenSSL", "X509_V_ERR_CA_MD_TOO_WEAK (68)",
     PH_NONE, 0, {{"weak-signature-hash", 5}}, {{"weak-signature-hash", 5}}},
    {"wrong curve", NULL, "OpenSSL", "SSL_R_WRONG_CURVE", PH_NONE, 0, {{"curve-not-allowed", 4}},
     {{"curve-not-allowed", 4}}},
    {"unable to load server key file", NULL, "mosquitto broker",
     "keyfile unreadable (mosquitto drops to user 'mosquitto': check permissions) or encrypted",
     PH_NONE, 0, {{"file-unreadable", 4}, {"key-password-required", 1}}, {{NULL, 0}}},
    {"unable to load server certificate", NULL, "mosquitto broker", "certfile unreadable",
     PH_NONE, 0, {{"file-unreadable", 4}}, {{NULL, 0}}},
    {"key values mismatch", NULL, "OpenSSL", "X509_R_KEY_VALUES_MISMATCH", PH_NONE, 0,
     {{"client-key-mismatch", 5}}, {{NULL, 0}}},
    {"unsupported certificate purpose", NULL, "OpenSSL", "X509_V_ERR_INVALID_PURPOSE (26)",
     PH_NONE, 0, {{"server-eku-missing", 4}}, {{"client-eku-missing", 4}}},
    {"invalid ca certificate", NULL, "OpenSSL", "X509_V_ERR_INVALID_CA (24)", PH_NONE, 0,
     {{"issuer-not-ca", 4}, {"ca-file-holds-leaf", 2}}, {{"issuer-not-ca", 4}}},
    {"certificate signature failure", NULL, "OpenSSL",
     "X509_V_ERR_CERT_SIGNATURE_FAILURE (7): the issuer's key does not verify the signature",
     PH_NONE, 0, {{"ca-same-name-different-key", 4}}, {{"ca-same-name-different-key", 4}}},
    {"wrong version number", NULL, "OpenSSL",
     "SSL_R_WRONG_VERSION_NUMBER: the peer's bytes are not TLS", PH_NONE, 0,
     {{"tls-on-plain-port", 4}}, {{"plain-on-tls-port", 4}}},
    {"packet length too long", NULL, "OpenSSL", "the peer's bytes are not TLS", PH_NONE, 0,
     {{"tls-on-plain-port", 2}}, {{"plain-on-tls-port", 3}}},
    {"unexpected eof while reading", NULL, "OpenSSL 3",
     "the peer closed the TCP connection during the handshake", PH_NONE, 0,
     {{"tls-on-plain-port", 2}, {"client-cert-missing", 1}, {"alpn-required", 1}},
     {{"closed-after-connect", 1}}},
    {"unsupported protocol", NULL, "OpenSSL", "SSL_R_UNSUPPORTED_PROTOCOL", PH_NONE, 0,
     {{"no-shared-cipher", 4}}, {{"no-shared-cipher", 4}}},
    {"no protocols available", NULL, "OpenSSL", "SSL_R_NO_PROTOCOLS_AVAILABLE", PH_NONE, 0,
     {{"no-shared-cipher", 4}}, {{"no-shared-cipher", 4}}},
    {"bad decrypt", NULL, "OpenSSL", "the key file's password is wrong", PH_NONE, 0,
     {{"key-password-wrong", 4}}, {{"key-password-wrong", 4}}},
    {"no start line", NULL, "OpenSSL", "PEM_R_NO_START_LINE: no '-----BEGIN' line", PH_NONE, 0,
     {{"der-not-pem", 2}, {"not-a-certificate", 1}, {"empty-file", 1}},
     {{"der-not-pem", 2}, {"not-a-certificate", 1}}},
    {"bad base64 decode", NULL, "OpenSSL", "PEM body damaged", PH_NONE, 0,
     {{"pem-truncated", 4}}, {{"pem-truncated", 4}}},
    {"name or service not known", NULL, "libc", "EAI_NONAME", PH_NONE, 0, {{"dns-failure", 4}},
     {{NULL, 0}}},
    {"temporary failure in name resolution", NULL, "libc", "EAI_AGAIN", PH_NONE, 0,
     {{"dns-failure", 4}}, {{NULL, 0}}},
    {"connection timed out", NULL, "libc", "ETIMEDOUT", PH_NONE, 0, {{"connect-timeout", 4}},
     {{NULL, 0}}},
    {"no route to host", NULL, "libc", "EHOSTUNREACH", PH_NONE, 0, {{"network-unreachable", 4}},
     {{NULL, 0}}},
    {"network is unreachable", NULL, "libc", "ENETUNREACH", PH_NONE, 0,
     {{"network-unreachable", 4}},
     {{NULL, 0}}},
    {"connection reset by peer", NULL, "libc", "ECONNRESET", PH_NONE, 0,
     {{"tls-on-plain-port", 1}, {"client-cert-rejected", 1}}, {{NULL, 0}}},
    /* ---- TLS alerts as OpenSSL prints them (SSL_R_SSLV3_ALERT_* / SSL_R_TLSV1_ALERT_*) ---- */
    {"alert handshake failure", NULL, "OpenSSL", NULL, PH_ALERT, 40, {{NULL, 0}}, {{NULL, 0}}},
    {"alert bad certificate", NULL, "OpenSSL", NULL, PH_ALERT, 42, {{NULL, 0}}, {{NULL, 0}}},
    {"alert unsupported certificate", NULL, "OpenSSL", NULL, PH_ALERT, 43, {{NULL, 0}},
     {{NULL, 0}}},
    {"alert certificate revoked", NULL, "OpenSSL", NULL, PH_ALERT, 44, {{NULL, 0}}, {{NULL, 0}}},
    {"alert certificate expired", NULL, "OpenSSL", NULL, PH_ALERT, 45, {{NULL, 0}}, {{NULL, 0}}},
    {"alert certificate unknown", NULL, "OpenSSL", NULL, PH_ALERT, 46, {{NULL, 0}}, {{NULL, 0}}},
    {"alert unknown ca", NULL, "OpenSSL", NULL, PH_ALERT, 48, {{NULL, 0}}, {{NULL, 0}}},
    {"alert access denied", NULL, "OpenSSL", NULL, PH_ALERT, 49, {{NULL, 0}}, {{NULL, 0}}},
    {"alert decrypt error", NULL, "OpenSSL", NULL, PH_ALERT, 51, {{NULL, 0}}, {{NULL, 0}}},
    {"alert protocol version", NULL, "OpenSSL", NULL, PH_ALERT, 70, {{NULL, 0}}, {{NULL, 0}}},
    {"alert insufficient security", NULL, "OpenSSL", NULL, PH_ALERT, 71, {{NULL, 0}},
     {{NULL, 0}}},
    {"unrecognized name", NULL, "OpenSSL", NULL, PH_ALERT, 112, {{NULL, 0}}, {{NULL, 0}}},
    {"alert certificate required", NULL, "OpenSSL", NULL, PH_ALERT, 116, {{NULL, 0}},
     {{NULL, 0}}},
    {"alert no application protocol", NULL, "OpenSSL", NULL, PH_ALERT, 120, {{NULL, 0}},
     {{NULL, 0}}},
};

/* Lines that mark a mosquitto BROKER log (then OpenSSL reasons describe the client's side). */
static const char *const broker_markers[] = {
    "new connection from", "client <unknown>", "mosquitto version", "opening ipv4 listen socket",
    "opening ipv6 listen socket", "socket error on client", "new client connected from",
    "client connection from", "closed its connection",
};

/* Lines that mark ESP-IDF output (errno numbers are newlib's; the clock is often unset). */
static const char *const esp_markers[] = {
    "esp-tls", "esp_tls", "mqtt_client", "transport_base", "esp-x509-crt-bundle", "mqtt_event",
    "esp_err_", "esp_mqtt",
};

/* clang-format on */

#endif /* MQTLS_EXPLAIN_TABLES_H */
