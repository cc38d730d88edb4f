/* Unit tests of the explain engine: inputs (code arguments or log excerpts) -> expected
 * finding ids and the top one; garbage never recognised and never a crash; every table
 * consistent with the finding catalogue (findings.def), the alert and reason-code tables, the
 * linked mbedTLS and docs/troubleshooting.md. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "explain/explain_internal.h"
#include <mbedtls/x509_crt.h>

#include "explain/explain_catalogue.h"
#include "explain/explain_codes.h"
#include "explain/explain_phrases.h"
#include "mqtls/error.h"
#include "mqtls/explain.h"
#include "packet/names.h"

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

typedef struct explain_case {
    const char *name;
    bool is_log; /* input is a log excerpt (else: '\n'-separated arguments) */
    const char *input;
    const char *top;            /* expected most likely id, NULL = no cause expected */
    const char *ids[4];         /* further ids that must be present */
    const char *absent;         /* an id that must NOT be present, or NULL */
    const char *input_contains; /* text one recognised input's text/meaning must contain */
} explain_case_t;

#define SEED_LOG                                                                                   \
    "E (1193558) esp-tls: mbedtls_ssl_handshake returned -0x2700\n"                                \
    "I (1193558) esp-tls: Failed to verify peer certificate!\n"                                    \
    "I (1193558) esp-tls: verification info:   ! The certificate is signed with an unacceptable "  \
    "key (eg bad curve, RSA too short).\n"                                                         \
    "E MQTT_CLIENT: Error transport connect\n"

/* clang-format off */
static const explain_case_t cases[] = {
    /* ---- the seed: ESP32 to test.mosquitto.org with the pre-2020 CA ---- */
    {"seed esp32 log", true, SEED_LOG, "weak-key", {"curve-not-allowed"}, "untrusted-issuer",
     "MBEDTLS_X509_BADCERT_BAD_KEY"},
    {"seed esp32 log + host", true,
     "I (100) MQTT_CLIENT: uri mqtts://test.mosquitto.org:8883\n" SEED_LOG, "weak-key", {NULL},
     NULL, "ISSUER's key"},
    /* ---- code arguments in every form ---- */
    {"-0x2700 alone", false, "-0x2700", "untrusted-issuer", {"missing-intermediate"}, NULL,
     "MBEDTLS_ERR_X509_CERT_VERIFY_FAILED"},
    {"-0x2700 with flags", false, "-0x2700\n0x10000", "weak-key", {NULL}, "untrusted-issuer",
     "0x10000 MBEDTLS_X509_BADCERT_BAD_KEY"},
    {"0x2700 unsigned", false, "0x2700", "untrusted-issuer", {NULL}, NULL,
     "also considered: as verify flags"},
    {"-9984 decimal", false, "-9984", "untrusted-issuer", {NULL}, NULL, "decimal -9984 = -0x2700"},
    {"2700 bare digits", false, "2700", "untrusted-issuer", {NULL}, NULL, "read as hex"},
    {"0x10008 flags", false, "0x10008", "weak-key", {"untrusted-issuer", "missing-intermediate"},
     NULL, "MBEDTLS_X509_BADCERT_NOT_TRUSTED"},
    {"65536 decimal flags", false, "65536", "weak-key", {NULL}, NULL, "BAD_KEY"},
    {"0x4000 bad md", false, "0x4000", "weak-signature-hash", {NULL}, NULL, "BAD_MD"},
    {"0x8008 esp-tls", false, "0x8008", "tls-on-plain-port", {NULL}, "untrusted-issuer",
     "ESP_ERR_ESP_TLS_TCP_CLOSED_FIN"},
    {"0x8015 crt parse", false, "0x8015", "pem-not-nul-terminated", {NULL}, NULL,
     "ESP_ERR_MBEDTLS_X509_CRT_PARSE_FAILED"},
    {"0x8001 dns", false, "0x8001", "dns-failure", {NULL}, NULL, "CANNOT_RESOLVE_HOSTNAME"},
    {"0x8010 renumbered", false, "0x8010", "pem-truncated", {"not-a-certificate"}, NULL,
     "ESP-IDF 4.0-4.2 the same number was ESP_ERR_MBEDTLS_SSL_HANDSHAKE_FAILED"},
    {"-0x21E2 composite", false, "-0x21E2", "pem-not-nul-terminated", {NULL}, NULL,
     "high-level -0x2180 + low-level -0x0062"},
    {"-0x3B80 password", false, "-0x3B80", "key-password-wrong", {NULL}, NULL, NULL},
    {"-0x3C00 no password", false, "-0x3C00", "key-password-required", {NULL}, NULL, NULL},
    {"-0x6800 timeout", false, "-0x6800", "handshake-timeout", {NULL}, NULL, NULL},
    {"alert 48", false, "alert 48", "client-ca-not-accepted", {"untrusted-issuer"}, NULL,
     "unknown_ca"},
    {"unknown_ca", false, "unknown_ca", "client-ca-not-accepted", {NULL}, NULL, NULL},
    {"alert 116", false, "alert 116", "client-cert-missing", {NULL}, NULL, NULL},
    {"CONNACK 5", false, "5", "not-authorized", {NULL}, NULL, "NOT_AUTHORIZED"},
    {"CONNACK 2", false, "2", "client-id-rejected", {NULL}, NULL, NULL},
    {"reason 0x87", false, "0x87", "not-authorized", {NULL}, NULL, "Not authorized"},
    {"reason 0x86", false, "0x86", "bad-credentials", {NULL}, NULL, NULL},
    {"reason 0x85", false, "0x85", "client-id-rejected", {NULL}, NULL, NULL},
    {"reason 0x8C", false, "0x8C", "bad-credentials", {NULL}, NULL, NULL},
    {"reason 0x84", false, "0x84", "unsupported-protocol-version", {NULL}, NULL, NULL},
    {"reason 0x8E", false, "0x8E", "closed-after-connect", {NULL}, NULL, NULL},
    {"ECONNREFUSED", false, "ECONNREFUSED", "connection-refused", {NULL}, NULL, NULL},
    {"ETIMEDOUT", false, "ETIMEDOUT", "connect-timeout", {NULL}, NULL, NULL},
    {"symbolic mbedTLS name", false, "MBEDTLS_ERR_PK_PASSWORD_MISMATCH", "key-password-wrong",
     {NULL}, NULL, NULL},
    {"symbolic esp name", false, "ESP_ERR_ESP_TLS_CANNOT_RESOLVE_HOSTNAME", "dns-failure",
     {NULL}, NULL, NULL},
    {"phrase argument", false, "ca md too weak", "weak-signature-hash", {NULL}, NULL, NULL},
    /* ---- ESP-IDF logs ---- */
    {"esp clock 1970", true,
     "E (5123) esp-tls-mbedtls: Failed to verify peer certificate!\n"
     "I (5123) esp-tls-mbedtls: verification info:   ! The certificate validity starts in the "
     "future\n",
     "clock-not-set", {"server-cert-not-yet-valid"}, NULL, "BADCERT_FUTURE"},
    {"esp cn mismatch", true,
     "I (900) esp-tls: verification info:   ! The certificate Common Name (CN) does not match "
     "with the expected CN\n",
     "hostname-mismatch", {NULL}, NULL, NULL},
    {"esp not trusted", true,
     "E (900) esp-tls-mbedtls: mbedtls_ssl_handshake returned -0x2700\n"
     "I (900) esp-tls-mbedtls: verification info:   ! The certificate is not correctly signed "
     "by the trusted CA\n",
     "untrusted-issuer", {"missing-intermediate"}, NULL, "BADCERT_NOT_TRUSTED"},
    {"esp dns", true,
     "E (3031) esp-tls: couldn't get hostname for :broker.lan: getaddrinfo() returns 202, "
     "addrinfo=0x0\n",
     "dns-failure", {NULL}, NULL, NULL},
    {"esp select timeout", true, "E (10123) esp-tls: [sock=54] select() timeout\n",
     "connect-timeout", {NULL}, NULL, NULL},
    {"esp connack refused", true, "W (2345) MQTT_CLIENT: Connection refused, not authorized\n",
     "not-authorized", {NULL}, "connection-refused", NULL},
    {"esp mqtt error event", true,
     "E (4000) MQTT_EXAMPLE: Last error code reported from esp-tls: 0x8008\n"
     "E (4000) MQTT_EXAMPLE: Last tls stack error number: 0x0\n",
     "tls-on-plain-port", {NULL}, NULL, "TCP_CLOSED_FIN"},
    {"esp fatal alert 48", true,
     "E (700) esp-tls-mbedtls: mbedtls_ssl_handshake returned -0x7780\n"
     "D (700) mbedtls: ssl_msg.c:4745 got an alert message, type: [2:48]\n",
     "client-ca-not-accepted", {"client-cert-rejected"}, NULL, "FATAL_ALERT"},
    {"esp errno newlib", true, "E (9000) esp-tls: Failed to connnect to host (errno 116)\n",
     "connect-timeout", {NULL}, NULL, "ETIMEDOUT"},
    /* ---- mosquitto_pub / mosquitto_sub ---- */
    {"mosquitto_pub verify failed", true,
     "OpenSSL Error[0]: error:0A000086:SSL routines::certificate verify failed\n"
     "Error: A TLS error occurred.\n",
     "untrusted-issuer", {NULL}, NULL, "SSL_R_CERTIFICATE_VERIFY_FAILED"},
    {"mosquitto_pub unknown ca", true,
     "OpenSSL Error[0]: error:0A000418:SSL routines::tlsv1 alert unknown ca\n"
     "Error: A TLS error occurred.\n",
     "client-ca-not-accepted", {NULL}, NULL, "the BROKER rejected the client"},
    {"mosquitto_pub not authorised", true,
     "Connection error: Connection Refused: not authorised.\nError: The connection was refused.\n",
     "not-authorized", {NULL}, "connection-refused", NULL},
    {"mosquitto_pub bad password", true,
     "Connection error: Connection Refused: bad user name or password.\n", "bad-credentials",
     {NULL}, "connection-refused", NULL},
    {"mosquitto_pub econnrefused", true, "Error: Connection refused\n", "connection-refused",
     {NULL}, NULL, NULL},
    /* The next four were captured from mosquitto_pub/mosquitto 2.0.11 on 127.0.0.1. */
    {"mosquitto_pub protocol error", true, "Error: Protocol error\n", "client-ca-not-accepted",
     {"client-cert-missing"}, "plain-on-tls-port", NULL},
    {"mosquitto_pub conn lost", true, "Error: The connection was lost.\n", "plain-on-tls-port",
     {"client-cert-missing", "closed-after-connect"}, NULL, NULL},
    {"mosquitto_pub v5 not authorized", true,
     "Connection error: Not authorized\n"
     "Error: A network protocol error occurred when communicating with the broker.\n",
     "not-authorized", {NULL}, "client-ca-not-accepted", NULL},
    {"broker plain on tls port", true,
     "1795824943: New connection from 127.0.0.1:46178 on port 57909.\n"
     "1795824943: OpenSSL Error[0]: error:0A00010B:SSL routines::wrong version number\n"
     "1795824943: Client <unknown> disconnected: Protocol error.\n",
     "plain-on-tls-port", {NULL}, "tls-on-plain-port", NULL},
    {"mosquitto_pub lookup", true, "Error: Unable to connect (Lookup error.).\n", "dns-failure",
     {NULL}, NULL, NULL},
    {"mosquitto_pub key mismatch", true, "Error: Client certificate/key are inconsistent.\n",
     "client-key-mismatch", {NULL}, NULL, NULL},
    {"mosquitto v5 refused", true,
     "Connection error: Unsupported Protocol Version. Try connecting to an MQTT v5 broker, or "
     "use MQTT v3.x mode.\n",
     "unsupported-protocol-version", {NULL}, NULL, NULL},
    /* ---- mosquitto broker log ---- */
    {"broker unknown ca", true,
     "1700000000: New connection from 192.168.1.20:50344 on port 8883.\n"
     "1700000000: OpenSSL Error[0]: error:0A000418:SSL routines::tlsv1 alert unknown ca\n"
     "1700000000: Client <unknown> disconnected: Protocol error.\n",
     "untrusted-issuer", {"missing-intermediate"}, "client-ca-not-accepted",
     "the CLIENT sent it"},
    {"broker verify failed", true,
     "1700000000: OpenSSL Error[0]: error:0A000086:SSL routines::certificate verify failed\n"
     "1700000000: Client <unknown> disconnected: Protocol error.\n",
     "client-ca-not-accepted", {NULL}, NULL, NULL},
    {"broker no client cert", true,
     "1700000000: OpenSSL Error[0]: error:0A0000C7:SSL routines::peer did not return a "
     "certificate\n",
     "client-cert-missing", {NULL}, NULL, NULL},
    {"broker expired client", true,
     "1700000000: New connection from 10.0.0.5:4000 on port 8883.\n"
     "1700000000: OpenSSL Error[0]: error:0A000086:SSL routines::certificate verify failed\n"
     "1700000000: Client <unknown> disconnected: certificate has expired.\n",
     "client-cert-expired", {NULL}, "server-cert-expired", NULL},
    {"broker duplicate id", true,
     "1700000000: Client sensor-1 already connected, closing old connection.\n",
     "closed-after-connect", {NULL}, NULL, NULL},
    {"broker tls on plain", true,
     "1700000000: Client <unknown> disconnected due to protocol error.\n", "tls-on-plain-port",
     {NULL}, NULL, NULL},
    {"broker not authorised", true, "1700000000: Client dev7 disconnected, not authorised.\n",
     "not-authorized", {NULL}, NULL, NULL},
    /* ---- Paho C ---- */
    {"paho rc 5", true, "Failed to connect, return code 5\n", "not-authorized", {NULL}, NULL,
     NULL},
    {"paho rc -1", true, "Failed to connect, return code -1\n", NULL, {NULL}, NULL,
     "MQTTCLIENT_FAILURE"},
    {"paho sslsocket", true,
     "SSLSocket error error:0A000086:SSL routines::certificate verify failed(1) in SSL_connect "
     "for socket 3 rc -1 errno 0 Success\n",
     "untrusted-issuer", {NULL}, NULL, NULL},
    {"paho alert read", true, "SSL alert read:fatal:certificate required\n",
     "client-cert-missing", {NULL}, NULL, NULL},
    /* ---- OpenSSL texts ---- */
    {"openssl ca md too weak", true, "error:0A00018E:SSL routines::ca md too weak\n",
     "weak-signature-hash", {NULL}, NULL, NULL},
    {"openssl ee key too small", true, "error:0A00018F:SSL routines::ee key too small\n",
     "weak-client-key", {"weak-key"}, NULL, NULL},
    {"openssl handshake failure", true,
     "error:0A000410:SSL routines::sslv3 alert handshake failure\n", "client-cert-missing",
     {"no-shared-cipher"}, NULL, NULL},
    {"openssl wrong version", true, "error:0A00010B:SSL routines::wrong version number\n",
     "tls-on-plain-port", {NULL}, NULL, NULL},
    {"openssl expired", true, "verify error:num=10:certificate has expired\n",
     "server-cert-expired", {NULL}, NULL, NULL},
    {"openssl self-signed in chain", true,
     "verify error:num=19:self-signed certificate in certificate chain\n", "untrusted-issuer",
     {NULL}, "server-self-signed", NULL},
    {"openssl self signed leaf", true, "verify error:num=18:self signed certificate\n",
     "server-self-signed", {NULL}, "untrusted-issuer", NULL},
    {"openssl hostname mismatch", true, "Verify return code: 62 (Hostname mismatch)\n",
     "hostname-mismatch", {NULL}, NULL, NULL},
    {"openssl local issuer", true, "verify error:num=20:unable to get local issuer certificate\n",
     "untrusted-issuer", {"missing-intermediate"}, NULL, NULL},
    {"openssl tls13 cert required", true,
     "error:0A00045C:SSL routines::tlsv13 alert certificate required\n", "client-cert-missing",
     {NULL}, NULL, NULL},
    {"openssl no alpn", true, "error:0A000460:SSL routines::tlsv1 alert no application protocol\n",
     "alpn-required", {NULL}, NULL, NULL},
    {"openssl bad decrypt", true, "error:1C800064:Provider routines::bad decrypt\n",
     "key-password-wrong", {NULL}, NULL, NULL},
    {"openssl purpose", true, "verify error:num=26:unsupported certificate purpose\n",
     "server-eku-missing", {NULL}, NULL, NULL},
    {"openssl invalid ca", true, "verify error:num=24:invalid CA certificate\n", "issuer-not-ca",
     {NULL}, NULL, NULL},
    /* ---- ids findings.def added beyond the first 49 ---- */
    {"no route to host", true, "Error: No route to host\n", "network-unreachable", {NULL}, NULL,
     NULL},
    {"EHOSTUNREACH", false, "EHOSTUNREACH", "network-unreachable", {NULL}, NULL, NULL},
    {"reason 0x80", false, "0x80", "connack-refused", {NULL}, NULL, "Unspecified error"},
    {"alert 80", false, "alert 80", "tls-alert", {NULL}, NULL, "internal_error"},
    {"-0x7600 no key", false, "-0x7600", "client-key-missing", {NULL}, NULL, NULL},
    {"0x800 key usage", false, "0x800", "server-key-usage", {NULL}, NULL, "BADCERT_KEY_USAGE"},
    {"0x80 skip verify flag", false, "0x10080", "weak-key", {"insecure-mode"}, NULL, NULL},
    {"-0x3D00 not a key", false, "-0x3D00", "key-not-a-key", {"cert-and-key-swapped"}, NULL,
     NULL},
    {"broker client sha1", true,
     "1700000000: OpenSSL Error[0]: error:0A00018E:SSL routines::ca md too weak\n",
     "client-weak-signature-hash", {NULL}, "weak-signature-hash", NULL},
    {"openssl no start line", true, "error:0480006C:PEM routines::no start line\n", "der-not-pem",
     {NULL}, NULL, NULL},
};
/* clang-format on */

/* ------------------------------------------------------------------ helpers */

static mqtls_explain_t *run_input(const explain_case_t *c)
{
    mqtls_explain_t *r = malloc(sizeof *r);
    assert_non_null(r);
    mqtls__explain_init(r);
    if (c->is_log) {
        assert_int_equal(mqtls_explain_text(r, c->input, strlen(c->input)), MQTLS_OK);
    } else {
        char buf[256];
        (void)snprintf(buf, sizeof buf, "%s", c->input);
        char *line = buf;
        while (line != NULL) {
            char *nl = strchr(line, '\n');
            if (nl != NULL) {
                *nl = '\0';
            }
            assert_int_equal(mqtls_explain_arg(r, line), MQTLS_OK);
            line = nl != NULL ? nl + 1 : NULL;
        }
    }
    mqtls_explain_finish(r);
    return r;
}

static bool has_cause(const mqtls_explain_t *r, const char *id)
{
    for (size_t i = 0; i < r->cause_count; i++) {
        if (strcmp(r->causes[i].id, id) == 0) {
            return true;
        }
    }
    return false;
}

static bool inputs_mention(const mqtls_explain_t *r, const char *text)
{
    for (size_t i = 0; i < r->input_count; i++) {
        if (strstr(r->inputs[i].text, text) != NULL || strstr(r->inputs[i].meaning, text) != NULL) {
            return true;
        }
    }
    return false;
}

static void print_result(const explain_case_t *c, const mqtls_explain_t *r)
{
    print_message("case '%s':\n", c->name);
    for (size_t i = 0; i < r->input_count; i++) {
        print_message("  input [%s] %s\n", r->inputs[i].kind, r->inputs[i].text);
    }
    for (size_t i = 0; i < r->cause_count; i++) {
        print_message("  cause %d %s\n", r->causes[i].score, r->causes[i].id);
    }
}

/* ------------------------------------------------------------------ tests */

static void test_explain_table_cases_give_expected_ids(void **state)
{
    (void)state;
    assert_true(ARRAY_LEN(cases) >= 30);
    for (size_t k = 0; k < ARRAY_LEN(cases); k++) {
        const explain_case_t *c = &cases[k];
        mqtls_explain_t *r = run_input(c);
        bool ok = mqtls_explain_recognised(r);
        if (c->top != NULL) {
            ok = ok && r->cause_count > 0 && strcmp(r->causes[0].id, c->top) == 0;
        } else {
            ok = ok && r->cause_count == 0;
        }
        for (size_t i = 0; i < ARRAY_LEN(c->ids) && c->ids[i] != NULL; i++) {
            ok = ok && has_cause(r, c->ids[i]);
        }
        if (c->absent != NULL) {
            ok = ok && !has_cause(r, c->absent);
        }
        if (c->input_contains != NULL) {
            ok = ok && inputs_mention(r, c->input_contains);
        }
        for (size_t i = 0; i < r->cause_count; i++) {
            ok = ok && mqtls_finding_title(r->causes[i].id) != NULL && r->causes[i].fix != NULL &&
                 r->causes[i].evidence[0] != '\0';
        }
        if (!ok) {
            print_result(c, r);
        }
        free(r);
        assert_true(ok);
    }
}

static void test_explain_seed_names_bad_key_and_test_mosquitto_ca(void **state)
{
    (void)state;
    const explain_case_t *plain = &cases[0];
    const explain_case_t *with_host = &cases[1];
    mqtls_explain_t *r = run_input(plain);
    assert_string_equal(r->causes[0].id, "weak-key");
    assert_true((r->verify_flags & 0x10000u) != 0);
    assert_string_equal(r->causes[0].note, ""); /* no host in the log: no mosquitto story */
    free(r);

    r = run_input(with_host);
    assert_string_equal(r->causes[0].id, "weak-key");
    assert_true(r->saw_test_mosquitto);
    assert_non_null(strstr(r->causes[0].note, "2020-06-09"));
    assert_non_null(strstr(r->causes[0].note, "RSA-1024"));
    assert_non_null(strstr(r->causes[0].note, "https://test.mosquitto.org/ssl/mosquitto.org.crt"));
    assert_non_null(strstr(r->causes[0].evidence, "BAD_KEY"));
    free(r);
}

static void test_explain_every_verify_info_text_maps_to_its_flag(void **state)
{
    (void)state;
    /* Feed what the LINKED mbedTLS prints for each BADCERT bit; expect exactly that bit. */
    for (size_t i = 0; i < ARRAY_LEN(verify_flags_tab); i++) {
        const flag_entry_t *f = &verify_flags_tab[i];
        char info[512];
        char log[600];
        char text[160];
        int n = mbedtls_x509_crt_verify_info(info, sizeof info, "  ! ", f->bit);
        assert_true(n > 0);
        /* explain shows the library's own text for every bit of its table */
        assert_true(mqtls__explain_verify_text(f->bit, text, sizeof text));
        assert_non_null(strstr(info, text));
        assert_null(strchr(text, '\n'));
        if (strstr(f->name, "BADCRL") != NULL) {
            continue; /* CRL texts are recognised as text only; they have no cause */
        }
        (void)snprintf(log, sizeof log, "I (1) esp-tls: verification info: %s", info);
        mqtls_explain_t *r = malloc(sizeof *r);
        assert_non_null(r);
        mqtls__explain_init(r);
        assert_int_equal(mqtls_explain_text(r, log, strlen(log)), MQTLS_OK);
        mqtls_explain_finish(r);
        if (r->verify_flags != f->bit) {
            print_message("flag %s: got 0x%x\n", f->name, (unsigned)r->verify_flags);
        }
        assert_int_equal(r->verify_flags, f->bit);
        free(r);
    }
}

static void test_explain_tables_only_reference_catalogue_ids(void **state)
{
    (void)state;
#define CHECK_W(arr)                                                                               \
    for (size_t j = 0; j < ARRAY_LEN(arr) && (arr)[j].w > 0; j++) {                                \
        assert_non_null(mqtls__finding_def((arr)[j].id));                                          \
    }
    for (size_t i = 0; i < ARRAY_LEN(mbed_codes); i++) {
        CHECK_W(mbed_codes[i].to);
    }
    for (size_t i = 0; i < ARRAY_LEN(verify_flags_tab); i++) {
        CHECK_W(verify_flags_tab[i].to);
    }
    for (size_t i = 0; i < ARRAY_LEN(esp_codes); i++) {
        CHECK_W(esp_codes[i].to);
    }
    for (size_t i = 0; i < ARRAY_LEN(alerts); i++) {
        CHECK_W(alerts[i].recv);
        CHECK_W(alerts[i].sent);
        /* named by src/common/tls_alert.h, listed once */
        assert_string_not_equal(mqtls_tls_alert_name(alerts[i].num), "unknown alert");
        for (size_t j = 0; j < i; j++) {
            assert_int_not_equal(alerts[i].num, alerts[j].num);
        }
    }
    for (size_t i = 0; i < ARRAY_LEN(connack311); i++) {
        CHECK_W(connack311[i].to);
    }
    for (size_t i = 0; i < ARRAY_LEN(reason5); i++) {
        CHECK_W(reason5[i].to);
        /* a reason code of src/packet/names.c */
        assert_int_not_equal(mqtls__reason_packets(reason5[i].code), 0);
        assert_true(reason5[i].code >= 0x80);
    }
    for (size_t i = 0; i < ARRAY_LEN(paho_rc); i++) {
        CHECK_W(paho_rc[i].to);
    }
    for (size_t i = 0; i < ARRAY_LEN(errnos); i++) {
        CHECK_W(errnos[i].to);
    }
    for (size_t i = 0; i < ARRAY_LEN(phrases); i++) {
        CHECK_W(phrases[i].to);
        CHECK_W(phrases[i].broker);
        for (const char *p = phrases[i].needle; *p != '\0'; p++) {
            assert_false(*p >= 'A' && *p <= 'Z'); /* needles are matched against lowercase */
        }
    }
#undef CHECK_W
    assert_true(ARRAY_LEN(broker_markers) > 0 && ARRAY_LEN(esp_markers) > 0);
    /* catalogue: one entry per finding of findings.def (keyed by its enum), every field
     * filled: a finding without its explanation is a hole here */
    assert_int_equal(ARRAY_LEN(catalogue), MQTLS__F_COUNT);
    for (size_t i = 0; i < ARRAY_LEN(catalogue); i++) {
        const mqtls__finding_def_t *d = mqtls__finding_def((mqtls__finding_id_t)i);
        assert_non_null(d);
        if (catalogue[i].explanation == NULL || catalogue[i].fix == NULL) {
            print_message("explain_catalogue.h lacks %s\n", d->id);
        }
        assert_non_null(catalogue[i].fix);
        assert_non_null(catalogue[i].explanation);
        assert_true(strlen(catalogue[i].explanation) > 20);
        for (size_t j = i + 1; j < ARRAY_LEN(catalogue); j++) {
            assert_string_not_equal(d->id, mqtls__finding_def((mqtls__finding_id_t)j)->id);
        }
    }
    assert_null(mqtls__finding_def(MQTLS__F_COUNT));
    assert_null(mqtls_finding_title("no-such-id"));
}

static char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        return NULL;
    }
    size_t cap = 1u << 20;
    char *buf = malloc(cap + 1);
    assert_non_null(buf);
    *len = fread(buf, 1, cap, f);
    buf[*len] = '\0';
    fclose(f);
    return buf;
}

static void test_explain_every_id_has_a_troubleshooting_section(void **state)
{
    (void)state;
    size_t len = 0;
    char *doc = slurp(MQTLS_DOCS_DIR "/troubleshooting.md", &len);
    assert_non_null(doc);
    for (size_t i = 0; i < MQTLS__F_COUNT; i++) {
        const char *id = mqtls__finding_def((mqtls__finding_id_t)i)->id;
        char heading[96];
        (void)snprintf(heading, sizeof heading, "\n## %s\n", id);
        if (strstr(doc, heading) == NULL) {
            print_message("docs/troubleshooting.md lacks '## %s'\n", id);
        }
        assert_non_null(strstr(doc, heading));
    }
    free(doc);
}

/* src/diag/findings.def is the contract: every id explain explains is defined there (the
 * catalogue is keyed by its enum and explain_catalogue.h's _Static_assert makes the counts
 * equal, so the reverse holds too). */
static void test_explain_ids_match_findings_def(void **state)
{
    (void)state;
    size_t len = 0;
    char *def = slurp(MQTLS_FINDINGS_DEF, &len);
    assert_non_null(def); /* the contract; findings.h compiles it in, so it must exist */
    assert_true(ARRAY_LEN(catalogue) >= 49);
    for (size_t i = 0; i < ARRAY_LEN(catalogue); i++) {
        char quoted[96];
        (void)snprintf(quoted, sizeof quoted, "\"%s\"",
                       mqtls__finding_def((mqtls__finding_id_t)i)->id);
        if (strstr(def, quoted) == NULL) {
            print_message("findings.def lacks %s\n", quoted);
        }
        assert_non_null(strstr(def, quoted));
    }
    free(def);
}

/* xorshift32: deterministic "random" bytes, so a failure reproduces. */
static uint32_t rng(uint32_t *s)
{
    uint32_t x = *s;
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    *s = x;
    return x;
}

static void test_explain_garbage_is_not_recognised_and_never_crashes(void **state)
{
    (void)state;
    mqtls_explain_t *r = malloc(sizeof *r);
    assert_non_null(r);
    static const char *const words[] = {
        "",     "   ",   "hello world", "0x",        "-",           "--",
        "0xZZ", "12abc", "alert",       "alert 999", "-0x99999999", "lorem ipsum dolor sit amet"};
    for (size_t i = 0; i < ARRAY_LEN(words); i++) {
        mqtls__explain_init(r);
        assert_int_equal(mqtls_explain_arg(r, words[i]), MQTLS_ERR_NOT_SUPPORTED);
        mqtls_explain_finish(r);
        assert_false(mqtls_explain_recognised(r));
        assert_int_equal(r->cause_count, 0);
    }
    /* Random bytes, NULs included: must not crash (ASan/UBSan run checks the memory). */
    size_t n = 256u * 1024u;
    char *buf = malloc(n);
    assert_non_null(buf);
    uint32_t seed = 0x12345678u;
    for (int round = 0; round < 8; round++) {
        for (size_t i = 0; i < n; i++) {
            buf[i] = (char)(rng(&seed) & 0xFFu);
        }
        mqtls__explain_init(r);
        (void)mqtls_explain_text(r, buf, n);
        mqtls_explain_finish(r);
        assert_true(r->input_count <= MQTLS__EXPLAIN_MAX_INPUTS);
        assert_true(r->cause_count <= MQTLS__EXPLAIN_MAX_CAUSES);
    }
    /* Printable random text without any known phrase is not recognised. */
    for (size_t i = 0; i < n; i++) {
        buf[i] = (char)('g' + (int)(rng(&seed) % 20u)); /* g..z: no hex digit, no phrase */
        if (rng(&seed) % 50u == 0) {
            buf[i] = (rng(&seed) & 1u) ? ' ' : '\n';
        }
    }
    mqtls__explain_init(r);
    assert_int_equal(mqtls_explain_text(r, buf, n), MQTLS_ERR_NOT_SUPPORTED);
    mqtls_explain_finish(r);
    assert_false(mqtls_explain_recognised(r));
    free(buf);
    free(r);
}

static void test_explain_one_mib_line_is_scanned_to_the_end(void **state)
{
    (void)state;
    size_t n = 1024u * 1024u;
    char *buf = malloc(n + 64);
    assert_non_null(buf);
    memset(buf, 'A', n);
    mqtls_explain_t *r = malloc(sizeof *r);
    assert_non_null(r);
    mqtls__explain_init(r);
    assert_int_equal(mqtls_explain_text(r, buf, n), MQTLS_ERR_NOT_SUPPORTED);
    mqtls_explain_finish(r);
    assert_false(mqtls_explain_recognised(r));
    /* The same line with a code at its very end, and one straddling a window boundary. */
    static const char tail[] = " mbedtls_ssl_handshake returned -0x7200";
    memcpy(buf + n - (sizeof tail - 1), tail, sizeof tail - 1);
    memcpy(buf + 2048 - 10, "ca md too weak", 14);
    mqtls__explain_init(r);
    assert_int_equal(mqtls_explain_text(r, buf, n), MQTLS_OK);
    mqtls_explain_finish(r);
    assert_true(has_cause(r, "tls-on-plain-port"));
    assert_true(has_cause(r, "weak-signature-hash"));
    /* A line repeated many times counts once. */
    static const char rep[] = "Error: Connection refused\n";
    size_t reps = n / (sizeof rep - 1);
    for (size_t i = 0; i < reps; i++) {
        memcpy(buf + i * (sizeof rep - 1), rep, sizeof rep - 1);
    }
    mqtls__explain_init(r);
    assert_int_equal(mqtls_explain_text(r, buf, reps * (sizeof rep - 1)), MQTLS_OK);
    mqtls_explain_finish(r);
    assert_int_equal(r->input_count, 1);
    assert_int_equal(r->cause_count, 1);
    assert_int_equal(r->causes[0].score, 4);
    free(buf);
    free(r);
}

static void test_explain_api_rejects_bad_arguments(void **state)
{
    (void)state;
    mqtls_explain_t *r = malloc(sizeof *r);
    assert_non_null(r);
    mqtls__explain_init(r);
    assert_int_equal(mqtls_explain_arg(NULL, "5"), MQTLS_ERR_INVALID_ARG);
    assert_int_equal(mqtls_explain_arg(r, NULL), MQTLS_ERR_INVALID_ARG);
    assert_int_equal(mqtls_explain_text(r, NULL, 3), MQTLS_ERR_INVALID_ARG);
    assert_int_equal(mqtls_explain_text(r, NULL, 0), MQTLS_ERR_NOT_SUPPORTED);
    assert_int_equal(mqtls_explain_arg(r, "nonsense"), MQTLS_ERR_NOT_SUPPORTED);
    assert_int_equal(r->unparsed_count, 1);
    assert_string_equal(r->unparsed[0], "nonsense");
    mqtls_explain_finish(r);
    assert_int_equal(mqtls_explain_arg(r, "5"), MQTLS_ERR_INVALID_ARG); /* after finish */
    mqtls_explain_finish(NULL);
    assert_false(mqtls_explain_recognised(NULL));
    free(r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_explain_table_cases_give_expected_ids),
        cmocka_unit_test(test_explain_seed_names_bad_key_and_test_mosquitto_ca),
        cmocka_unit_test(test_explain_every_verify_info_text_maps_to_its_flag),
        cmocka_unit_test(test_explain_tables_only_reference_catalogue_ids),
        cmocka_unit_test(test_explain_every_id_has_a_troubleshooting_section),
        cmocka_unit_test(test_explain_ids_match_findings_def),
        cmocka_unit_test(test_explain_garbage_is_not_recognised_and_never_crashes),
        cmocka_unit_test(test_explain_one_mib_line_is_scanned_to_the_end),
        cmocka_unit_test(test_explain_api_rejects_bad_arguments),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
