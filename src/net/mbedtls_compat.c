/* Every mbedTLS version difference of src/net's TLS protocol code, in one place (STYLE.md).
 * Certificates and keys are src/x509/compat.c's. Compiled against 2.28 (Debian 12) and 3.6
 * (mqtls::mbedtls3): both branches of every guard are built and tested.
 *
 * A few facts mbedTLS 3.x keeps in private fields (the alert it received or sent, the decrypted
 * handshake message): they are read through MBEDTLS_PRIVATE() here and nowhere else. That is
 * sound because the 3.6 sources are pinned (docs/mbedtls3.md) and tests/integration/net checks
 * every fact on real handshakes with each engine. */
#include "tls_internal.h"

#include <pthread.h>
#include <string.h>

#include "mbedtls/error.h"
#include "mbedtls/oid.h"
#include "mbedtls/pk.h"
#include "mbedtls/platform.h"
#include "mbedtls/platform_util.h"
#include "mbedtls/sha1.h"
#include "mbedtls/version.h"
#if MBEDTLS_VERSION_NUMBER >= 0x03000000
#include "psa/crypto.h"
#endif

#include "net/pkcs11.h"

#if MBEDTLS_VERSION_NUMBER >= 0x03000000
#define SSL_FIELD(ssl, f) ((ssl)->MBEDTLS_PRIVATE(f))
#else
#define SSL_FIELD(ssl, f) ((ssl)->f)
#endif

/* The mbedTLS codes tls_engine.h lets engines without mbedTLS headers report. */
_Static_assert(MBEDTLS_ERR_X509_CERT_VERIFY_FAILED == MQTLS__MBEDTLS_ERR_X509_CERT_VERIFY_FAILED,
               "code");
_Static_assert(MBEDTLS_ERR_SSL_FATAL_ALERT_MESSAGE == MQTLS__MBEDTLS_ERR_SSL_FATAL_ALERT_MESSAGE,
               "code");
_Static_assert(MBEDTLS_ERR_SSL_CONN_EOF == MQTLS__MBEDTLS_ERR_SSL_CONN_EOF, "code");
#if MBEDTLS_VERSION_NUMBER >= 0x03000000
_Static_assert(MBEDTLS_ERR_SSL_BAD_PROTOCOL_VERSION == MQTLS__MBEDTLS_ERR_SSL_BAD_PROTOCOL_VERSION,
               "code");
_Static_assert(MBEDTLS_ERR_SSL_HANDSHAKE_FAILURE == MQTLS__MBEDTLS_ERR_SSL_HANDSHAKE_FAILURE,
               "code");
#else
_Static_assert(MBEDTLS_ERR_SSL_BAD_HS_PROTOCOL_VERSION ==
                   MQTLS__MBEDTLS_ERR_SSL_BAD_PROTOCOL_VERSION,
               "code");
#endif
_Static_assert(MBEDTLS_X509_BADCERT_EXPIRED == MQTLS__BADCERT_EXPIRED &&
                   MBEDTLS_X509_BADCERT_CN_MISMATCH == MQTLS__BADCERT_CN_MISMATCH &&
                   MBEDTLS_X509_BADCERT_NOT_TRUSTED == MQTLS__BADCERT_NOT_TRUSTED &&
                   MBEDTLS_X509_BADCERT_FUTURE == MQTLS__BADCERT_FUTURE &&
                   MBEDTLS_X509_BADCERT_EXT_KEY_USAGE == MQTLS__BADCERT_EXT_KEY_USAGE &&
                   MBEDTLS_X509_BADCERT_BAD_MD == MQTLS__BADCERT_BAD_MD &&
                   MBEDTLS_X509_BADCERT_BAD_PK == MQTLS__BADCERT_BAD_PK &&
                   MBEDTLS_X509_BADCERT_BAD_KEY == MQTLS__BADCERT_BAD_KEY &&
                   MBEDTLS_X509_BADCERT_OTHER == MQTLS__BADCERT_OTHER &&
                   MBEDTLS_X509_BADCERT_REVOKED == MQTLS__BADCERT_REVOKED &&
                   MBEDTLS_X509_BADCERT_KEY_USAGE == MQTLS__BADCERT_KEY_USAGE,
               "MBEDTLS_X509_BADCERT_* numbering");

void mqtls__compat_set_versions(mbedtls_ssl_config *conf, uint16_t min_version,
                                uint16_t max_version)
{
#if MBEDTLS_VERSION_NUMBER >= 0x03020000
    mbedtls_ssl_conf_min_tls_version(conf, (mbedtls_ssl_protocol_version)min_version);
    mbedtls_ssl_conf_max_tls_version(conf, (mbedtls_ssl_protocol_version)max_version);
#else
    /* 2.28: TLS 1.2 only (its TLS 1.3 prototype is not for production); tls.c refuses more. */
    (void)min_version;
    (void)max_version;
    mbedtls_ssl_conf_min_version(conf, MBEDTLS_SSL_MAJOR_VERSION_3, MBEDTLS_SSL_MINOR_VERSION_3);
    mbedtls_ssl_conf_max_version(conf, MBEDTLS_SSL_MAJOR_VERSION_3, MBEDTLS_SSL_MINOR_VERSION_3);
#endif
}

size_t mqtls__compat_in_buf_len(const mbedtls_ssl_context *ssl)
{
#if defined(MBEDTLS_SSL_VARIABLE_BUFFER_LENGTH)
    return SSL_FIELD(ssl, in_buf_len);
#else
    (void)ssl;
    return 0;
#endif
}

void mqtls__compat_restore_in_buf(mbedtls_ssl_context *ssl, size_t full_len)
{
#if defined(MBEDTLS_SSL_VARIABLE_BUFFER_LENGTH)
    unsigned char *old = SSL_FIELD(ssl, in_buf);
    size_t old_len = SSL_FIELD(ssl, in_buf_len);
    if (old == NULL || old_len >= full_len) {
        return;
    }
    unsigned char *buf = mbedtls_calloc(1, full_len);
    if (buf == NULL) {
        return;
    }
    /* What mbedTLS's own resize (handle_buffer_resizing(), ssl_tls.c) does when it grows the
     * buffer before a new handshake: copy what was read, move every pointer into it by the
     * same offset. Bytes already read but not yet processed (in_left) come along. */
    memcpy(buf, old, old_len);
#define REBASE(f)                                                                                  \
    do {                                                                                           \
        if (SSL_FIELD(ssl, f) != NULL) {                                                           \
            SSL_FIELD(ssl, f) = buf + (SSL_FIELD(ssl, f) - old);                                   \
        }                                                                                          \
    } while (0)
    REBASE(in_ctr);
    REBASE(in_hdr);
#if defined(MBEDTLS_SSL_DTLS_CONNECTION_ID)
    REBASE(in_cid);
#endif
    REBASE(in_len);
    REBASE(in_iv);
    REBASE(in_msg);
    REBASE(in_offt);
#undef REBASE
    SSL_FIELD(ssl, in_buf) = buf;
    SSL_FIELD(ssl, in_buf_len) = full_len;
    mbedtls_platform_zeroize(old, old_len);
    mbedtls_free(old);
#else
    (void)ssl;
    (void)full_len;
#endif
}

int mqtls__compat_conf_tls13(mbedtls_ssl_config *conf, bool resumption)
{
#if defined(MBEDTLS_SSL_PROTO_TLS1_3)
    /* TLS 1.3 in 3.6 runs on PSA; the call is idempotent and thread-safe. */
    psa_status_t ps = psa_crypto_init();
    if (ps != PSA_SUCCESS) {
        return MBEDTLS_ERR_SSL_HW_ACCEL_FAILED;
    }
#if defined(MBEDTLS_SSL_SESSION_TICKETS)
    /* 3.6 drops TLS 1.3 tickets unless told that the reader handles
     * MBEDTLS_ERR_SSL_RECEIVED_NEW_SESSION_TICKET: tls_transport.c saves the session then (when
     * resuming), and a ticket is the broker's word that it accepted our certificate. */
    mbedtls_ssl_conf_tls13_enable_signal_new_session_tickets(
        conf, MBEDTLS_SSL_TLS1_3_SIGNAL_NEW_SESSION_TICKETS_ENABLED);
#endif
#else
    (void)conf;
#endif
    (void)resumption;
    return 0;
}

void mqtls__compat_strerror(int code, char *buf, size_t cap)
{
    mbedtls_strerror(code, buf, cap);
}

static char version_text[16]; /* mbedtls_version_get_string() writes up to 9 bytes */

static void version_once(void)
{
    mbedtls_version_get_string(version_text);
}

const char *mqtls__compat_version(void)
{
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    (void)pthread_once(&once, version_once);
    return version_text;
}

int mqtls__compat_peer_alert(const mbedtls_ssl_context *ssl)
{
#if MBEDTLS_VERSION_NUMBER >= 0x04010000
    return mbedtls_ssl_get_fatal_alert(ssl);
#else
    /* After MBEDTLS_ERR_SSL_FATAL_ALERT_MESSAGE the alert is still in in_msg (decrypted: this
     * also sees the TLS 1.3 alert that rejects a client certificate after the handshake). */
    const unsigned char *msg = SSL_FIELD(ssl, in_msg);
    if (msg != NULL && SSL_FIELD(ssl, in_msgtype) == MBEDTLS_SSL_MSG_ALERT &&
        SSL_FIELD(ssl, in_msglen) >= 2 && msg[0] == MBEDTLS_SSL_ALERT_LEVEL_FATAL) {
        return msg[1];
    }
    return -1;
#endif
}

int mqtls__compat_sent_alert(const mbedtls_ssl_context *ssl, int ret)
{
#if defined(MBEDTLS_SSL_PROTO_TLS1_3)
    /* 3.6's TLS 1.3 code queues most fatal alerts (mbedtls_ssl_pend_fatal_alert()); the
     * handshake then fails with the queued reason, and the type stays recorded after it was
     * sent. */
    if (mqtls__compat_is_tls13(ssl) && ret != 0 && SSL_FIELD(ssl, alert_reason) == ret) {
        return SSL_FIELD(ssl, alert_type);
    }
#else
    (void)ssl;
    (void)ret;
#endif
    return -1;
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

bool mqtls__compat_handshake_over(const mbedtls_ssl_context *ssl)
{
#if MBEDTLS_VERSION_NUMBER >= 0x03020000
    return mbedtls_ssl_is_handshake_over((mbedtls_ssl_context *)(uintptr_t)ssl) != 0;
#else
    return ssl->state == MBEDTLS_SSL_HANDSHAKE_OVER;
#endif
}

bool mqtls__compat_is_tls13(const mbedtls_ssl_context *ssl)
{
#if defined(MBEDTLS_SSL_PROTO_TLS1_3)
    /* Known from the ServerHello on, during the handshake too. */
    return mbedtls_ssl_get_version_number(ssl) == MBEDTLS_SSL_VERSION_TLS1_3;
#else
    (void)ssl;
    return false;
#endif
}

bool mqtls__compat_current_hs_msg(const mbedtls_ssl_context *ssl, uint8_t *type,
                                  const uint8_t **body, size_t *len, uint64_t *key)
{
    const unsigned char *msg = SSL_FIELD(ssl, in_msg);
    size_t hslen = SSL_FIELD(ssl, in_hslen);
    size_t msglen = SSL_FIELD(ssl, in_msglen);
    if (msg == NULL || SSL_FIELD(ssl, in_msgtype) != MBEDTLS_SSL_MSG_HANDSHAKE || hslen < 4 ||
        hslen > msglen) {
        return false;
    }
    /* A record's sequence number and how much of it is left tell its messages apart. */
    const unsigned char *ctr = SSL_FIELD(ssl, in_ctr);
    uint64_t k = (uint64_t)msglen;
    for (size_t i = 0; i < 8; i++) {
        k = (k * 1099511628211u) ^ ctr[i];
    }
    *type = msg[0];
    *body = msg + 4;
    *len = hslen - 4;
    *key = k;
    return true;
}

bool mqtls__compat_is_key_update(const mbedtls_ssl_context *ssl)
{
    const unsigned char *msg = SSL_FIELD(ssl, in_msg);
    return mqtls__compat_is_tls13(ssl) && msg != NULL &&
           SSL_FIELD(ssl, in_msgtype) == MBEDTLS_SSL_MSG_HANDSHAKE && msg[0] == 24;
}

bool mqtls__compat_read_again(int ret, bool *ticket)
{
    *ticket = false;
#if defined(MBEDTLS_ERR_SSL_RECEIVED_NEW_SESSION_TICKET) && MBEDTLS_VERSION_NUMBER >= 0x03000000
    if (ret == MBEDTLS_ERR_SSL_RECEIVED_NEW_SESSION_TICKET) {
        *ticket = true;
        return true; /* 3.6: TLS 1.3 NewSessionTicket, not data */
    }
#endif
    (void)ret;
    return false;
}

bool mqtls__compat_session_saveable(const mbedtls_ssl_context *ssl, bool ticket_seen)
{
    return !mqtls__compat_is_tls13(ssl) || ticket_seen;
}

int mqtls__compat_sha1(const uint8_t *in, size_t len, uint8_t digest[20])
{
#if MBEDTLS_VERSION_NUMBER < 0x03000000
    return mbedtls_sha1_ret(in, len, digest);
#else
    return mbedtls_sha1(in, len, digest);
#endif
}

/* ---- an RSA key on a PKCS#11 token as mbedTLS's RSA_ALT key ---------------------------- */

static size_t p11_rsa_len(void *ctx)
{
    return mqtls__p11_key_len(ctx);
}

/* PKCS#1 v1.5 (RFC 8017 9.2): the token pads; we give it the DigestInfo of @p hash. */
static int p11_rsa_sign_digest(void *ctx, mbedtls_md_type_t md_alg, unsigned int hashlen,
                               const unsigned char *hash, unsigned char *sig)
{
    unsigned char info[19 + 64];
    size_t n = 0;
    if (md_alg == MBEDTLS_MD_NONE) {
        if (hashlen > sizeof info) {
            return MBEDTLS_ERR_PK_BAD_INPUT_DATA;
        }
        memcpy(info, hash, hashlen);
        n = hashlen;
    } else {
        const char *oid = NULL;
        size_t oid_len = 0;
        if (mbedtls_oid_get_oid_by_md(md_alg, &oid, &oid_len) != 0 || hashlen > 64 ||
            oid_len > 9) {
            return MBEDTLS_ERR_PK_BAD_INPUT_DATA;
        }
        /* DigestInfo ::= SEQUENCE { SEQUENCE { OID, NULL }, OCTET STRING hash } */
        info[n++] = 0x30;
        info[n++] = (unsigned char)(8 + oid_len + hashlen);
        info[n++] = 0x30;
        info[n++] = (unsigned char)(4 + oid_len);
        info[n++] = 0x06;
        info[n++] = (unsigned char)oid_len;
        memcpy(info + n, oid, oid_len);
        n += oid_len;
        info[n++] = 0x05;
        info[n++] = 0x00;
        info[n++] = 0x04;
        info[n++] = (unsigned char)hashlen;
        memcpy(info + n, hash, hashlen);
        n += hashlen;
    }
    size_t len = mqtls__p11_key_len(ctx);
    size_t got = 0;
    if (mqtls__p11_sign_rsa_pkcs1(ctx, info, n, sig, len, &got) != 0 || got != len) {
        return MBEDTLS_ERR_RSA_PRIVATE_FAILED; /* the token refused or failed */
    }
    return 0;
}

#if MBEDTLS_VERSION_NUMBER >= 0x03000000
static int p11_rsa_sign(void *ctx, mbedtls_f_rng_t *f_rng, void *p_rng, mbedtls_md_type_t md_alg,
                        unsigned int hashlen, const unsigned char *hash, unsigned char *sig)
{
    (void)f_rng;
    (void)p_rng;
    return p11_rsa_sign_digest(ctx, md_alg, hashlen, hash, sig);
}

static int p11_rsa_decrypt(void *ctx, size_t *olen, const unsigned char *input,
                           unsigned char *output, size_t output_max_len)
{
    (void)ctx;
    (void)olen;
    (void)input;
    (void)output;
    (void)output_max_len;
    return MBEDTLS_ERR_PK_FEATURE_UNAVAILABLE; /* a client never decrypts with its key */
}
#else
static int p11_rsa_sign(void *ctx, int (*f_rng)(void *, unsigned char *, size_t), void *p_rng,
                        int mode, mbedtls_md_type_t md_alg, unsigned int hashlen,
                        const unsigned char *hash, unsigned char *sig)
{
    (void)f_rng;
    (void)p_rng;
    (void)mode;
    return p11_rsa_sign_digest(ctx, md_alg, hashlen, hash, sig);
}

static int p11_rsa_decrypt(void *ctx, int mode, size_t *olen, const unsigned char *input,
                           unsigned char *output, size_t output_max_len)
{
    (void)ctx;
    (void)mode;
    (void)olen;
    (void)input;
    (void)output;
    (void)output_max_len;
    return MBEDTLS_ERR_PK_FEATURE_UNAVAILABLE; /* a client never decrypts with its key */
}
#endif

int mqtls__compat_pk_setup_p11_rsa(mbedtls_pk_context *pk, struct mqtls__p11_key *key)
{
    return mbedtls_pk_setup_rsa_alt(pk, key, p11_rsa_decrypt, p11_rsa_sign, p11_rsa_len);
}
