/* Every mbedTLS version difference of src/net's TLS protocol code, in one place (STYLE.md).
 * Certificates and keys are src/x509/compat.c's. Tested with 2.28 (Debian 12); the 3.x branches
 * follow the 3.6 API. */
#include "tls_internal.h"

#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "mbedtls/sha1.h"
#include "mbedtls/version.h"

mqtls_status_t mqtls__compat_set_versions(mbedtls_ssl_config *conf, uint16_t min_version,
                                          uint16_t max_version, mqtls_error_t *err)
{
    if (min_version == 0) {
        min_version = 0x0303; /* DESIGN.md: TLS 1.2 minimum */
    }
    if (min_version < 0x0303) {
        return mqtls__net_fail(err, MQTLS_LAYER_CONFIG, MQTLS_ERR_INVALID_ARG, 0,
                               "TLS versions below 1.2 (0x%04X) are not allowed",
                               (unsigned)min_version);
    }
    if (max_version != 0 && max_version < min_version) {
        return mqtls__net_fail(err, MQTLS_LAYER_CONFIG, MQTLS_ERR_INVALID_ARG, 0,
                               "max TLS version 0x%04X is below the minimum 0x%04X",
                               (unsigned)max_version, (unsigned)min_version);
    }
#if MBEDTLS_VERSION_NUMBER >= 0x03020000
    mbedtls_ssl_conf_min_tls_version(conf, (mbedtls_ssl_protocol_version)min_version);
#if defined(MBEDTLS_SSL_PROTO_TLS1_3)
    uint16_t highest = 0x0304;
#else
    uint16_t highest = 0x0303;
#endif
    if (min_version > highest) {
        return mqtls__net_fail(err, MQTLS_LAYER_CONFIG, MQTLS_ERR_NOT_SUPPORTED, 0,
                               "TLS 1.3 is not enabled in the linked mbedTLS");
    }
    mbedtls_ssl_conf_max_tls_version(
        conf, (mbedtls_ssl_protocol_version)(max_version != 0 && max_version < highest ? max_version
                                                                                       : highest));
#else
    /* 2.28: TLS 1.3 is not available (its prototype is not for production). */
    if (min_version > 0x0303) {
        return mqtls__net_fail(err, MQTLS_LAYER_CONFIG, MQTLS_ERR_NOT_SUPPORTED, 0,
                               "TLS 1.3 needs mbedTLS 3.x; the linked mbedTLS is %s",
                               MBEDTLS_VERSION_STRING);
    }
    mbedtls_ssl_conf_min_version(conf, MBEDTLS_SSL_MAJOR_VERSION_3, MBEDTLS_SSL_MINOR_VERSION_3);
    mbedtls_ssl_conf_max_version(conf, MBEDTLS_SSL_MAJOR_VERSION_3, MBEDTLS_SSL_MINOR_VERSION_3);
#endif
    return MQTLS_OK;
}

int mqtls__compat_peer_alert(const mbedtls_ssl_context *ssl)
{
#if MBEDTLS_VERSION_NUMBER >= 0x04010000
    return mbedtls_ssl_get_fatal_alert(ssl);
#elif MBEDTLS_VERSION_NUMBER < 0x03000000
    /* 2.x: after MBEDTLS_ERR_SSL_FATAL_ALERT_MESSAGE the alert is still in in_msg. */
    if (ssl->in_msg != NULL && ssl->in_msgtype == MBEDTLS_SSL_MSG_ALERT &&
        ssl->in_msg[0] == MBEDTLS_SSL_ALERT_LEVEL_FATAL) {
        return ssl->in_msg[1];
    }
    return -1;
#else
    /* 3.x before 4.1 does not expose it; a plaintext alert is still caught by the record
     * parser (tls_records.c). */
    (void)ssl;
    return -1;
#endif
}

uint16_t mqtls__compat_tls_version(const mbedtls_ssl_context *ssl)
{
    const char *v = mbedtls_ssl_get_version(ssl);
    if (strcmp(v, "TLSv1.2") == 0) {
        return 0x0303;
    }
    if (strcmp(v, "TLSv1.3") == 0) {
        return 0x0304;
    }
    if (strcmp(v, "TLSv1.1") == 0) {
        return 0x0302;
    }
    return 0;
}

bool mqtls__compat_is_tls13(const mbedtls_ssl_context *ssl)
{
    return mqtls__compat_tls_version(ssl) == 0x0304;
}

bool mqtls__compat_read_again(int ret)
{
#if defined(MBEDTLS_ERR_SSL_RECEIVED_NEW_SESSION_TICKET)
    if (ret == MBEDTLS_ERR_SSL_RECEIVED_NEW_SESSION_TICKET) {
        return true; /* 3.6: TLS 1.3 NewSessionTicket, not data */
    }
#endif
    (void)ret;
    return false;
}

int mqtls__compat_sha1(const uint8_t *in, size_t len, uint8_t digest[20])
{
#if MBEDTLS_VERSION_NUMBER < 0x03000000
    return mbedtls_sha1_ret(in, len, digest);
#else
    return mbedtls_sha1(in, len, digest);
#endif
}

static char tls_library_text[32];

static void tls_library_version_init(void)
{
#if defined(MBEDTLS_VERSION_C)
    /* What the loaded mbedTLS says: its shared library may be newer than our headers. */
    mbedtls_version_get_string_full(tls_library_text); /* at most 18 bytes + NUL */
#else
    (void)snprintf(tls_library_text, sizeof tls_library_text, "%s", MBEDTLS_VERSION_STRING_FULL);
#endif
}

const char *mqtls_tls_library_version(void)
{
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    (void)pthread_once(&once, tls_library_version_init);
    return tls_library_text;
}
