/* The mbedTLS 3.6 side (compiled with mqtls::mbedtls3: 3.6 headers, our config, every
 * mbedtls_* and psa_* name force-mapped to its mqtls3_ symbol). See sides.h. */
#include "sides.h"

#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "mbedtls/aes.h"
#include "mbedtls/ctr_drbg.h"
#include "mbedtls/ecp.h"
#include "mbedtls/entropy.h"
#include "mbedtls/gcm.h"
#include "mbedtls/sha256.h"
#include "mbedtls/sha512.h"
#include "mbedtls/ssl.h"
#include "mbedtls/version.h"
#include "mbedtls/x509_crt.h"
#include "psa/crypto.h"

#include "x509/profile.h" /* the 3.6 copy's: names renamed mqtls3__ (CMakeLists.txt) */

_Static_assert(MBEDTLS_VERSION_MAJOR == 3 && MBEDTLS_VERSION_MINOR == 6, "3.6 headers");

int side3_profile_is_library_default(const char *name)
{
    mbedtls_x509_crt_profile p;
    if (!mqtls__profile_mbedtls_by_name(name, &p)) {
        return -1;
    }
    const mbedtls_x509_crt_profile *d = &mbedtls_x509_crt_profile_default;
    return p.allowed_mds == d->allowed_mds && p.allowed_pks == d->allowed_pks &&
           p.allowed_curves == d->allowed_curves && p.rsa_min_bitlen == d->rsa_min_bitlen;
}

const char *side3_version_string(void)
{
    static char buf[32]; /* mbedtls_version_get_string needs 9 bytes */
    mbedtls_version_get_string(buf);
    return buf;
}

unsigned long side3_header_version(void)
{
    return (unsigned long)MBEDTLS_VERSION_NUMBER;
}

side_version_fn_t side3_version_fn(void)
{
    return mbedtls_version_get_string;
}

int side3_self_tests(void)
{
    /* Exercises the per-file AES-NI flags of cmake/mbedtls3/CMakeLists.txt: a mismatch between
     * aes.c and aesni.c faults or fails here. */
    int (*const tests[])(int) = {mbedtls_aes_self_test,      mbedtls_gcm_self_test,
                                 mbedtls_sha256_self_test,   mbedtls_sha512_self_test,
                                 mbedtls_ctr_drbg_self_test, mbedtls_ecp_self_test};
    for (size_t i = 0; i < sizeof tests / sizeof tests[0]; i++) {
        if (tests[i](0) != 0) {
            return (int)i + 1;
        }
    }
    return 0;
}

static int parse_one(mbedtls_x509_crt *crt, const char *pem)
{
    return mbedtls_x509_crt_parse(crt, (const unsigned char *)pem, strlen(pem) + 1);
}

int side3_parse(const char *pem, size_t len, side_cert_t *out)
{
    mbedtls_x509_crt crt;
    mbedtls_x509_crt_init(&crt);
    memset(out, 0, sizeof *out);
    int rc = mbedtls_x509_crt_parse(&crt, (const unsigned char *)pem, len + 1);
    if (rc == 0) {
        (void)mbedtls_x509_dn_gets(out->subject, sizeof out->subject, &crt.subject);
        (void)mbedtls_x509_dn_gets(out->issuer, sizeof out->issuer, &crt.issuer);
        (void)mbedtls_x509_serial_gets(out->serial, sizeof out->serial, &crt.serial);
    }
    mbedtls_x509_crt_free(&crt);
    return rc;
}

int side3_verify(const char *ca_pem, const char *leaf_pem, const char *cn, int allow_sha1,
                 uint32_t *flags)
{
    mbedtls_x509_crt ca, leaf;
    mbedtls_x509_crt_init(&ca);
    mbedtls_x509_crt_init(&leaf);
    mbedtls_x509_crt_profile profile = mbedtls_x509_crt_profile_default;
    if (allow_sha1) {
        profile.allowed_mds |= MBEDTLS_X509_ID_FLAG(MBEDTLS_MD_SHA1);
    }
    *flags = 0;
    int rc = parse_one(&ca, ca_pem);
    if (rc == 0) {
        rc = parse_one(&leaf, leaf_pem);
    }
    if (rc == 0) {
        rc =
            mbedtls_x509_crt_verify_with_profile(&leaf, &ca, NULL, &profile, cn, flags, NULL, NULL);
    }
    mbedtls_x509_crt_free(&leaf);
    mbedtls_x509_crt_free(&ca);
    return rc;
}

uint32_t side3_flag_bad_md(void)
{
    return MBEDTLS_X509_BADCERT_BAD_MD;
}

void side3_flags_text(uint32_t flags, char *buf, size_t len)
{
    buf[0] = '\0';
    (void)mbedtls_x509_crt_verify_info(buf, len, "", flags);
}

/* ---- TLS client over a blocking socket with timeouts (MBEDTLS_NET_C is off in our config:
 * mqtls has its own transports, as ESP-IDF has its own net port) ---- */

static int bio_send(void *ctx, const unsigned char *buf, size_t len)
{
    int fd = *(int *)ctx;
    ssize_t n = send(fd, buf, len, MSG_NOSIGNAL);
    if (n >= 0) {
        return (int)n;
    }
    return errno == EAGAIN || errno == EWOULDBLOCK ? MBEDTLS_ERR_SSL_TIMEOUT
                                                   : MBEDTLS_ERR_SSL_INTERNAL_ERROR;
}

static int bio_recv(void *ctx, unsigned char *buf, size_t len)
{
    int fd = *(int *)ctx;
    ssize_t n = recv(fd, buf, len, 0);
    if (n >= 0) {
        return (int)n; /* 0: the peer closed */
    }
    return errno == EAGAIN || errno == EWOULDBLOCK ? MBEDTLS_ERR_SSL_TIMEOUT
                                                   : MBEDTLS_ERR_SSL_INTERNAL_ERROR;
}

static int connect_loopback(uint16_t port, int timeout_ms)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0) {
        return -1;
    }
    struct timeval tv = {.tv_sec = timeout_ms / 1000, .tv_usec = (timeout_ms % 1000) * 1000};
    (void)setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    (void)setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(port)};
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(fd, (struct sockaddr *)&sa, sizeof sa) != 0) {
        close(fd);
        return -1;
    }
    return fd;
}

void side3_tls_get(uint16_t port, const char *ca_pem, const char *host, int timeout_ms,
                   side_tls_result_t *res)
{
    memset(res, 0, sizeof *res);
    mbedtls_entropy_context entropy;
    mbedtls_ctr_drbg_context drbg;
    mbedtls_x509_crt ca;
    mbedtls_ssl_config conf;
    mbedtls_ssl_context ssl;
    mbedtls_entropy_init(&entropy);
    mbedtls_ctr_drbg_init(&drbg);
    mbedtls_x509_crt_init(&ca);
    mbedtls_ssl_config_init(&conf);
    mbedtls_ssl_init(&ssl);
    int fd = -1;
    int rc;

    res->step = "psa_crypto_init"; /* TLS 1.3 in 3.6 runs on PSA */
    if ((rc = (int)psa_crypto_init()) != 0) {
        goto out;
    }
    res->step = "seed";
    if ((rc = mbedtls_ctr_drbg_seed(&drbg, mbedtls_entropy_func, &entropy, NULL, 0)) != 0) {
        goto out;
    }
    res->step = "ca";
    if ((rc = parse_one(&ca, ca_pem)) != 0) {
        goto out;
    }
    res->step = "config";
    if ((rc =
             mbedtls_ssl_config_defaults(&conf, MBEDTLS_SSL_IS_CLIENT, MBEDTLS_SSL_TRANSPORT_STREAM,
                                         MBEDTLS_SSL_PRESET_DEFAULT)) != 0) {
        goto out;
    }
    mbedtls_ssl_conf_authmode(&conf, MBEDTLS_SSL_VERIFY_REQUIRED);
    mbedtls_ssl_conf_ca_chain(&conf, &ca, NULL);
    mbedtls_ssl_conf_rng(&conf, mbedtls_ctr_drbg_random, &drbg);
    mbedtls_ssl_conf_min_tls_version(&conf, MBEDTLS_SSL_VERSION_TLS1_2);
    mbedtls_ssl_conf_max_tls_version(&conf, MBEDTLS_SSL_VERSION_TLS1_3);
    /* Report tickets from mbedtls_ssl_read (3.6.1+ discards them silently by default). */
    mbedtls_ssl_conf_tls13_enable_signal_new_session_tickets(
        &conf, MBEDTLS_SSL_TLS1_3_SIGNAL_NEW_SESSION_TICKETS_ENABLED);
    res->step = "setup";
    if ((rc = mbedtls_ssl_setup(&ssl, &conf)) != 0 ||
        (rc = mbedtls_ssl_set_hostname(&ssl, host)) != 0) {
        goto out;
    }
    res->step = "connect";
    if ((fd = connect_loopback(port, timeout_ms)) < 0) {
        rc = MBEDTLS_ERR_SSL_INTERNAL_ERROR;
        goto out;
    }
    mbedtls_ssl_set_bio(&ssl, &fd, bio_send, bio_recv, NULL);

    res->step = "handshake"; /* blocking socket: WANT_* only on interrupted calls */
    for (int i = 0; i < 100; i++) {
        rc = mbedtls_ssl_handshake(&ssl);
        if (rc != MBEDTLS_ERR_SSL_WANT_READ && rc != MBEDTLS_ERR_SSL_WANT_WRITE) {
            break;
        }
    }
    res->verify_flags = mbedtls_ssl_get_verify_result(&ssl);
    if (rc != 0) {
        goto out;
    }
    snprintf(res->version, sizeof res->version, "%s", mbedtls_ssl_get_version(&ssl));
    snprintf(res->ciphersuite, sizeof res->ciphersuite, "%s", mbedtls_ssl_get_ciphersuite(&ssl));

    res->step = "write";
    static const char get[] = "GET / HTTP/1.0\r\n\r\n";
    if ((rc = mbedtls_ssl_write(&ssl, (const unsigned char *)get, sizeof get - 1)) < 0) {
        goto out;
    }
    res->step = "read";
    size_t got = 0;
    for (int i = 0; i < 100 && got + 1 < sizeof res->reply; i++) {
        rc = mbedtls_ssl_read(&ssl, (unsigned char *)res->reply + got, sizeof res->reply - 1 - got);
        if (rc == MBEDTLS_ERR_SSL_RECEIVED_NEW_SESSION_TICKET) {
            res->tickets++;
            continue;
        }
        if (rc == MBEDTLS_ERR_SSL_WANT_READ || rc == MBEDTLS_ERR_SSL_WANT_WRITE) {
            continue; /* a post-handshake message was handled; no data yet */
        }
        if (rc <= 0) {
            break;
        }
        got += (size_t)rc;
    }
    res->reply[got] = '\0';
    rc = got > 0 ? 0 : rc;
    if (rc == 0) {
        res->step = "done";
        (void)mbedtls_ssl_close_notify(&ssl);
    }

out:
    res->rc = rc;
    if (fd >= 0) {
        close(fd);
    }
    mbedtls_ssl_free(&ssl);
    mbedtls_ssl_config_free(&conf);
    mbedtls_x509_crt_free(&ca);
    mbedtls_ctr_drbg_free(&drbg);
    mbedtls_entropy_free(&entropy);
    mbedtls_psa_crypto_free();
}
