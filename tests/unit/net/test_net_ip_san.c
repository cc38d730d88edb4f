/* The iPAddress SAN match of the TLS client (src/x509/asn1.c mqtls__x509_crt_has_ip_san), which
 * is the host name check whenever the host is an IP literal and mbedTLS cannot match IPs itself
 * (< 3.5). It must stay exactly this strict: an iPAddress entry of the same length, byte for
 * byte; never the CN, never a dNSName that reads like an address, no IPv4-mapped IPv6 equality.
 *
 * Two tables: the matcher on hand-made TBSCertificates (every shape of SAN, malformed ones
 * too), and real handshakes of the TLS transport against an in-memory mbedTLS server whose
 * certificate carries the SAN (start_handshake -> no SNI -> the verify callback -> the flags
 * the caller sees). */
#include <arpa/inet.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "common/tls_facts.h"

#include "mbedtls/ctr_drbg.h"
#include "mbedtls/ecp.h"
#include "mbedtls/entropy.h"
#include "mbedtls/pk.h"
#include "mbedtls/ssl.h"
#include "mbedtls/x509_crt.h"

#include "mqtls/error.h"
#include "mqtls/tls.h"
#include "net/net.h"
#include "x509/asn1.h"
#include "x509/compat.h"

#include "cert_util.h"

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

/* ---- DER by hand ---------------------------------------------------------------------------- */

typedef struct {
    uint8_t b[2048];
    size_t len;
} der_t;

/* Append tag, length (short or two-byte long form) and @p n bytes of content. */
static void tlv(der_t *o, uint8_t tag, const uint8_t *content, size_t n)
{
    assert_true(n < 65536 && o->len + 4 + n <= sizeof o->b);
    o->b[o->len++] = tag;
    if (n < 128) {
        o->b[o->len++] = (uint8_t)n;
    } else {
        o->b[o->len++] = 0x82;
        o->b[o->len++] = (uint8_t)(n >> 8);
        o->b[o->len++] = (uint8_t)n;
    }
    if (n > 0) {
        memcpy(o->b + o->len, content, n);
        o->len += n;
    }
}

/* GeneralNames (RFC 5280 4.2.1.6) as the DER value of a subjectAltName extension. */
static void san_value(der_t *out, const uint8_t *names, size_t names_len)
{
    out->len = 0;
    tlv(out, 0x30, names, names_len);
}

/* A TBSCertificate whose subject is CN=127.0.0.1 and whose extensions are @p san_names as a
 * subjectAltName (NULL: only a keyUsage extension). The other fields are placeholders: the
 * matcher walks tags and lengths only. */
static void tbs_with_san(der_t *tbs, const uint8_t *san_names, size_t san_len)
{
    static const uint8_t version[] = {0x02, 0x01, 0x02};
    static const uint8_t serial[] = {0x01};
    static const uint8_t alg[] = {0x06, 0x08, 0x2A, 0x86, 0x48, 0xCE, 0x3D, 0x04, 0x03, 0x02};
    static const uint8_t cn_ip[] = {0x31, 0x14, 0x30, 0x12, 0x06, 0x03, 0x55, 0x04, 0x03, 0x0C,
                                    0x09, '1',  '2',  '7',  '.',  '0',  '.',  '0',  '.',  '1'};
    static const uint8_t ku_ext[] = {0x30, 0x0E, 0x06, 0x03, 0x55, 0x1D, 0x0F, 0x01,
                                     0x01, 0xFF, 0x04, 0x04, 0x03, 0x02, 0x07, 0x80};
    der_t fields = {.len = 0};
    tlv(&fields, 0xA0, version, sizeof version);
    tlv(&fields, 0x02, serial, sizeof serial);
    tlv(&fields, 0x30, alg, sizeof alg);
    tlv(&fields, 0x30, cn_ip, sizeof cn_ip); /* issuer */
    tlv(&fields, 0x30, NULL, 0);             /* validity */
    tlv(&fields, 0x30, cn_ip, sizeof cn_ip); /* subject: the CN is an IP, never used */
    tlv(&fields, 0x30, NULL, 0);             /* subjectPublicKeyInfo */
    der_t exts = {.len = 0};
    memcpy(exts.b, ku_ext, sizeof ku_ext);
    exts.len = sizeof ku_ext;
    if (san_names != NULL) {
        static const uint8_t san_oid[] = {0x55, 0x1D, 0x11};
        der_t value, ext = {.len = 0};
        san_value(&value, san_names, san_len);
        tlv(&ext, 0x06, san_oid, sizeof san_oid);
        tlv(&ext, 0x04, value.b, value.len);
        tlv(&exts, 0x30, ext.b, ext.len);
    }
    der_t seq = {.len = 0};
    tlv(&seq, 0x30, exts.b, exts.len);
    tlv(&fields, 0xA3, seq.b, seq.len);
    tbs->len = 0;
    tlv(tbs, 0x30, fields.b, fields.len);
}

static size_t ip_of(const char *text, uint8_t ip[16])
{
    if (inet_pton(AF_INET, text, ip) == 1) {
        return 4;
    }
    assert_int_equal(inet_pton(AF_INET6, text, ip), 1);
    return 16;
}

/* GeneralName entries: [2] dNSName, [7] iPAddress, [1] rfc822Name, [7] constructed. */
#define V4_LOOPBACK 127, 0, 0, 1
#define V6_LOOPBACK 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1
static const uint8_t ip4[] = {0x87, 4, V4_LOOPBACK};
static const uint8_t ip6[] = {0x87, 16, V6_LOOPBACK};
static const uint8_t dns_ip4[] = {0x82, 9, '1', '2', '7', '.', '0', '.', '0', '.', '1'};
static const uint8_t dns_ip6[] = {0x82, 3, ':', ':', '1'};
static const uint8_t email_ip4[] = {0x81, 9, '1', '2', '7', '.', '0', '.', '0', '.', '1'};
static const uint8_t mapped6[] = {0x87, 16, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xFF, 0xFF, V4_LOOPBACK};
static const uint8_t ip4_mask[] = {0x87, 8, V4_LOOPBACK, 255, 0, 0, 0};
static const uint8_t ip4_constructed[] = {0xA7, 4, V4_LOOPBACK};
static const uint8_t dns_then_ip4[] = {0x82, 9,   'l', 'o', 'c',  'a', 'l',
                                       'h',  'o', 's', 't', 0x87, 4,   V4_LOOPBACK};
static const uint8_t ip4_cut[] = {0x87, 5, V4_LOOPBACK}; /* length past the end of the list */
static const uint8_t not_context[] = {0x04, 4, V4_LOOPBACK, 0x87, 4, V4_LOOPBACK};

static const struct {
    const char *what;
    const uint8_t *names; /* NULL: no subjectAltName extension at all */
    size_t names_len;
    const char *host;
    bool match;
} matcher_cases[] = {
    {"IPv4 SAN, same IPv4", ip4, sizeof ip4, "127.0.0.1", true},
    {"IPv6 SAN, same IPv6", ip6, sizeof ip6, "::1", true},
    {"IPv4 SAN, other IPv4", ip4, sizeof ip4, "127.0.0.2", false},
    {"IPv6 SAN, other IPv6", ip6, sizeof ip6, "::2", false},
    {"dNSName that reads like the IPv4", dns_ip4, sizeof dns_ip4, "127.0.0.1", false},
    {"dNSName that reads like the IPv6", dns_ip6, sizeof dns_ip6, "::1", false},
    {"rfc822Name that reads like the IPv4", email_ip4, sizeof email_ip4, "127.0.0.1", false},
    {"no SAN, CN is the IP", NULL, 0, "127.0.0.1", false},
    {"IPv4 SAN, IPv4-mapped IPv6 host", ip4, sizeof ip4, "::ffff:127.0.0.1", false},
    {"IPv4-mapped IPv6 SAN, IPv4 host", mapped6, sizeof mapped6, "127.0.0.1", false},
    {"address + mask (8 bytes), IPv4 host", ip4_mask, sizeof ip4_mask, "127.0.0.1", false},
    {"constructed [7], IPv4 host", ip4_constructed, sizeof ip4_constructed, "127.0.0.1", false},
    {"dNSName then the IPv4", dns_then_ip4, sizeof dns_then_ip4, "127.0.0.1", true},
    {"iPAddress longer than the list", ip4_cut, sizeof ip4_cut, "127.0.0.1", false},
    {"a non-context tag before the IPv4", not_context, sizeof not_context, "127.0.0.1", false},
};

static void test_ip_san_matcher_table(void **state)
{
    (void)state;
    for (size_t i = 0; i < ARRAY_LEN(matcher_cases); i++) {
        der_t tbs;
        tbs_with_san(&tbs, matcher_cases[i].names, matcher_cases[i].names_len);
        mbedtls_x509_crt crt;
        mbedtls_x509_crt_init(&crt);
        crt.tbs.p = tbs.b;
        crt.tbs.len = tbs.len;
        uint8_t ip[16];
        size_t ip_len = ip_of(matcher_cases[i].host, ip);
        bool got = mqtls__x509_crt_has_ip_san(&crt, ip, ip_len);
        if (got != matcher_cases[i].match) {
            fail_msg("%s (host %s): matched %d, want %d", matcher_cases[i].what,
                     matcher_cases[i].host, got, matcher_cases[i].match);
        }
        /* Every prefix of the TBS is malformed: never a match, never a read past it. */
        for (size_t cut = 0; cut < tbs.len; cut++) {
            crt.tbs.len = cut;
            assert_false(mqtls__x509_crt_has_ip_san(&crt, ip, ip_len));
        }
    }
}

static void test_ip_san_matcher_rejects_other_address_lengths(void **state)
{
    (void)state;
    der_t tbs;
    tbs_with_san(&tbs, ip4_mask, sizeof ip4_mask);
    mbedtls_x509_crt crt;
    mbedtls_x509_crt_init(&crt);
    crt.tbs.p = tbs.b;
    crt.tbs.len = tbs.len;
    /* Only 4 or 16 bytes are addresses: the 8-byte entry is not matched even byte for byte. */
    assert_false(mqtls__x509_crt_has_ip_san(&crt, ip4_mask + 2, 8));
    assert_false(mqtls__x509_crt_has_ip_san(&crt, ip4_mask + 2, 0));
    assert_false(mqtls__x509_crt_has_ip_san(&crt, NULL, 4));
}

/* ---- real handshakes against an in-memory mbedTLS server ----------------------------------- */

typedef struct {
    mbedtls_entropy_context entropy;
    mbedtls_ctr_drbg_context drbg;
    mbedtls_pk_context ca_key;
    mbedtls_pk_context server_key;
    unsigned char ca_pem[4096];
} world_t;

static world_t world;

static void gen_p256(mbedtls_pk_context *pk)
{
    mbedtls_pk_init(pk);
    assert_int_equal(mbedtls_pk_setup(pk, mbedtls_pk_info_from_type(MBEDTLS_PK_ECKEY)), 0);
    assert_int_equal(mbedtls_ecp_gen_key(MBEDTLS_ECP_DP_SECP256R1, mbedtls_pk_ec(*pk),
                                         mbedtls_ctr_drbg_random, &world.drbg),
                     0);
}

static int world_setup(void **state)
{
    (void)state;
    mbedtls_entropy_init(&world.entropy);
    mbedtls_ctr_drbg_init(&world.drbg);
    if (mbedtls_ctr_drbg_seed(&world.drbg, mbedtls_entropy_func, &world.entropy,
                              (const unsigned char *)"ip-san", 6) != 0) {
        return -1;
    }
    gen_p256(&world.ca_key);
    gen_p256(&world.server_key);
    const tu_cert_spec_t ca = {.subject_key = &world.ca_key,
                               .subject = "CN=ip-san test CA",
                               .issuer_key = &world.ca_key,
                               .issuer = "CN=ip-san test CA",
                               .md = MBEDTLS_MD_SHA256,
                               .is_ca = true,
                               .serial = 1};
    tu_make_cert(&ca, &world.drbg, world.ca_pem, sizeof world.ca_pem);
    return 0;
}

static int world_teardown(void **state)
{
    (void)state;
    mbedtls_pk_free(&world.server_key);
    mbedtls_pk_free(&world.ca_key);
    mbedtls_ctr_drbg_free(&world.drbg);
    mbedtls_entropy_free(&world.entropy);
    return 0;
}

/* The inner transport of the TLS client: a mbedTLS server in the same thread, stepped whenever
 * the client writes or reads. */
typedef struct {
    mqtls_transport_t base;
    mbedtls_ssl_context srv;
    uint8_t c2s[16384];
    size_t c2s_len;
    uint8_t s2c[16384];
    size_t s2c_len;
    size_t s2c_pos;
    int srv_ret;
} peer_t;

static int srv_send(void *p, const unsigned char *buf, size_t len)
{
    peer_t *peer = p;
    if (len > sizeof peer->s2c - peer->s2c_len) {
        return MBEDTLS_ERR_SSL_WANT_WRITE;
    }
    memcpy(peer->s2c + peer->s2c_len, buf, len);
    peer->s2c_len += len;
    return (int)len;
}

static int srv_recv(void *p, unsigned char *buf, size_t len)
{
    peer_t *peer = p;
    if (peer->c2s_len == 0) {
        return MBEDTLS_ERR_SSL_WANT_READ;
    }
    size_t n = len < peer->c2s_len ? len : peer->c2s_len;
    memcpy(buf, peer->c2s, n);
    memmove(peer->c2s, peer->c2s + n, peer->c2s_len - n);
    peer->c2s_len -= n;
    return (int)n;
}

static void peer_step(peer_t *p)
{
    if (p->srv_ret == 0 || p->srv_ret == MBEDTLS_ERR_SSL_WANT_READ ||
        p->srv_ret == MBEDTLS_ERR_SSL_WANT_WRITE) {
        p->srv_ret = mbedtls_ssl_handshake(&p->srv);
    }
}

static mqtls_status_t peer_connect(mqtls_transport_t *t, int64_t now_ms)
{
    (void)t;
    (void)now_ms;
    return MQTLS_OK;
}

static mqtls_status_t peer_read(mqtls_transport_t *t, uint8_t *buf, size_t cap, size_t *got)
{
    peer_t *p = (peer_t *)t;
    *got = 0;
    peer_step(p);
    if (p->s2c_pos == p->s2c_len) {
        bool failed = p->srv_ret != 0 && p->srv_ret != MBEDTLS_ERR_SSL_WANT_READ &&
                      p->srv_ret != MBEDTLS_ERR_SSL_WANT_WRITE;
        return failed ? MQTLS_ERR_CLOSED : MQTLS_ERR_WOULD_BLOCK;
    }
    size_t n = p->s2c_len - p->s2c_pos;
    n = n < cap ? n : cap;
    memcpy(buf, p->s2c + p->s2c_pos, n);
    p->s2c_pos += n;
    *got = n;
    return MQTLS_OK;
}

static mqtls_status_t peer_writev(mqtls_transport_t *t, const mqtls_iovec_t *iov, size_t count,
                                  size_t *sent)
{
    peer_t *p = (peer_t *)t;
    *sent = 0;
    for (size_t i = 0; i < count; i++) {
        assert_true(iov[i].len <= sizeof p->c2s - p->c2s_len);
        memcpy(p->c2s + p->c2s_len, iov[i].base, iov[i].len);
        p->c2s_len += iov[i].len;
        *sent += iov[i].len;
    }
    peer_step(p);
    return MQTLS_OK;
}

static size_t peer_pending(mqtls_transport_t *t)
{
    (void)t;
    return 0;
}

static int peer_fd(mqtls_transport_t *t)
{
    (void)t;
    return -1;
}

static unsigned peer_want(mqtls_transport_t *t)
{
    (void)t;
    return MQTLS_WANT_READ;
}

static void peer_nothing(mqtls_transport_t *t)
{
    (void)t; /* close and destroy: the peer lives on the test's stack */
}

static const mqtls_transport_ops_t peer_ops = {
    .name = "in-memory mbedTLS server",
    .connect = peer_connect,
    .read = peer_read,
    .writev = peer_writev,
    .pending = peer_pending,
    .fd = peer_fd,
    .want = peer_want,
    .close = peer_nothing,
    .destroy = peer_nothing,
};

typedef struct {
    mqtls_status_t status;
    uint32_t leaf_flags;
    bool matched_by_us;
    bool hostname_checked;
    int server_ret; /* the server's handshake result once the client is done */
} outcome_t;

/* The TLS client connects to @p host; the server presents a certificate with subject
 * @p subject and the subjectAltName entries @p names (NULL: none), signed by the test CA. */
static const char *engine; /* the mbedTLS engine that connects (the server here is 2.28) */

static outcome_t handshake_with(const char *host, const char *subject, const uint8_t *names,
                                size_t names_len)
{
    static unsigned char pem[4096];
    der_t san;
    if (names != NULL) {
        san_value(&san, names, names_len);
    }
    const tu_cert_spec_t leaf = {.subject_key = &world.server_key,
                                 .subject = subject,
                                 .issuer_key = &world.ca_key,
                                 .issuer = "CN=ip-san test CA",
                                 .md = MBEDTLS_MD_SHA256,
                                 .serial = 2,
                                 .san = names != NULL ? san.b : NULL,
                                 .san_len = names != NULL ? san.len : 0};
    tu_make_cert(&leaf, &world.drbg, pem, sizeof pem);

    mbedtls_x509_crt crt;
    mbedtls_x509_crt_init(&crt);
    assert_int_equal(mbedtls_x509_crt_parse(&crt, pem, strlen((char *)pem) + 1), 0);
    mbedtls_ssl_config conf;
    mbedtls_ssl_config_init(&conf);
    assert_int_equal(mbedtls_ssl_config_defaults(&conf, MBEDTLS_SSL_IS_SERVER,
                                                 MBEDTLS_SSL_TRANSPORT_STREAM,
                                                 MBEDTLS_SSL_PRESET_DEFAULT),
                     0);
    mbedtls_ssl_conf_rng(&conf, mbedtls_ctr_drbg_random, &world.drbg);
    assert_int_equal(mbedtls_ssl_conf_own_cert(&conf, &crt, &world.server_key), 0);
    static peer_t peer;
    memset(&peer, 0, sizeof peer);
    peer.base.ops = &peer_ops;
    mbedtls_ssl_init(&peer.srv);
    assert_int_equal(mbedtls_ssl_setup(&peer.srv, &conf), 0);
    mbedtls_ssl_set_bio(&peer.srv, &peer, srv_send, srv_recv, NULL);

    mqtls_tls_cfg_t cfg = {.enabled = true,
                           .ca_buf = world.ca_pem,
                           .ca_len = strlen((char *)world.ca_pem) + 1,
                           .engine = engine};
    mqtls_error_t err;
    mqtls_error_init(&err);
    mqtls__tls_ctx_t *ctx = NULL;
    assert_int_equal(mqtls__tls_ctx_create(&cfg, &err, &ctx), MQTLS_OK);
    mqtls_tls_facts_t facts;
    mqtls_transport_t *t = NULL;
    assert_int_equal(mqtls__tls_create(ctx, &peer.base, host, &facts, &err, &t), MQTLS_OK);
    outcome_t o = {.status = MQTLS_ERR_WOULD_BLOCK};
    for (int i = 0; i < 200 && o.status == MQTLS_ERR_WOULD_BLOCK; i++) {
        o.status = t->ops->connect(t, 0);
    }
    peer_step(&peer); /* the server reads what the client sent last (its alert, if it failed) */
    o.server_ret = peer.srv_ret;
    o.leaf_flags = facts.chain_len > 0 ? facts.chain[0].flags : 0xFFFFFFFFu;
    o.matched_by_us = facts.ip_san_matched_by_us;
    o.hostname_checked = facts.hostname_checked;
    t->ops->destroy(t);
    mqtls__tls_facts_free(&facts);
    mqtls__tls_ctx_destroy(ctx);
    mbedtls_ssl_free(&peer.srv);
    mbedtls_ssl_config_free(&conf);
    mbedtls_x509_crt_free(&crt);
    return o;
}

/* ok: mbedTLS 2.28 with mqtls's own iPAddress match (RFC 6125: an IP matches iPAddress SANs
 * only). ok36: mbedTLS 3.6's own check, what an ESP-IDF 5 device does: it also compares the IP
 * as a string with dNSName SANs, and with the CN when there is no SAN. */
static const struct {
    const char *what;
    const char *host;
    const char *subject;
    const uint8_t *names;
    size_t names_len;
    bool ok;
    bool ok36;
} handshake_cases[] = {
    {"IPv4 host, IPv4 SAN", "127.0.0.1", "CN=server", ip4, sizeof ip4, true, true},
    {"IPv6 host, IPv6 SAN", "::1", "CN=server", ip6, sizeof ip6, true, true},
    {"IPv4 host, other IPv4 in the SAN", "127.0.0.2", "CN=server", ip4, sizeof ip4, false, false},
    {"IPv6 host, other IPv6 in the SAN", "::2", "CN=server", ip6, sizeof ip6, false, false},
    {"IPv4 host, dNSName '127.0.0.1'", "127.0.0.1", "CN=127.0.0.1", dns_ip4, sizeof dns_ip4, false,
     true},
    {"IPv6 host, dNSName '::1'", "::1", "CN=::1", dns_ip6, sizeof dns_ip6, false, true},
    {"IPv4 host, no SAN, CN is the IP", "127.0.0.1", "CN=127.0.0.1", NULL, 0, false, true},
    {"IPv4-mapped IPv6 host, IPv4 SAN", "::ffff:127.0.0.1", "CN=server", ip4, sizeof ip4, false,
     false},
    {"IPv4 host, dNSName then the IPv4", "127.0.0.1", "CN=server", dns_then_ip4,
     sizeof dns_then_ip4, true, true},
};

static void ip_san_handshake_table(void)
{
    /* mbedTLS < 3.5 (2.28): the check is ours; 3.6 matches iPAddress SANs itself. */
    bool ours = strcmp(engine, "mbedtls2") == 0;
    for (size_t i = 0; i < ARRAY_LEN(handshake_cases); i++) {
        outcome_t o = handshake_with(handshake_cases[i].host, handshake_cases[i].subject,
                                     handshake_cases[i].names, handshake_cases[i].names_len);
        print_message("%-36s -> %s, leaf flags 0x%X\n", handshake_cases[i].what,
                      mqtls_status_name(o.status), (unsigned)o.leaf_flags);
        assert_true(o.hostname_checked);
        if (strcmp(engine, "mbedtls2") == 0 ? handshake_cases[i].ok : handshake_cases[i].ok36) {
            assert_int_equal(o.status, MQTLS_OK);
            assert_int_equal(o.leaf_flags, 0);
            assert_int_equal(o.matched_by_us, ours);
        } else {
            assert_int_equal(o.status, MQTLS_ERR_TLS_VERIFY);
            /* Only the name is wrong: the chain itself is trusted. */
            assert_int_equal(o.leaf_flags, MBEDTLS_X509_BADCERT_CN_MISMATCH);
            assert_false(o.matched_by_us);
            /* Our fatal alert left the gathered flight: the server saw why we hung up. */
            assert_int_equal(o.server_ret, MBEDTLS_ERR_SSL_FATAL_ALERT_MESSAGE);
        }
    }
}

/* Both mbedTLS engines against the same in-memory 2.28 server (TLS 1.2). */
static void test_ip_san_handshake_table(void **state)
{
    (void)state;
    for (size_t i = 0; i < mqtls_tls_engine_count(); i++) {
        engine = mqtls_tls_engine_name(i);
        if (strncmp(engine, "mbedtls", 7) == 0) {
            print_message("engine %s\n", engine);
            ip_san_handshake_table();
        }
    }
    engine = NULL;
}

static void test_ip_san_handshake_by_name_is_mbedtls_own_check(void **state)
{
    (void)state;
    static const uint8_t dns_localhost[] = {0x82, 9, 'l', 'o', 'c', 'a', 'l', 'h', 'o', 's', 't'};
    outcome_t o = handshake_with("localhost", "CN=server", dns_localhost, sizeof dns_localhost);
    assert_int_equal(o.status, MQTLS_OK);
    assert_false(o.matched_by_us); /* a name goes to mbedTLS (SNI and its own check) */
    o = handshake_with("broker.example", "CN=server", dns_localhost, sizeof dns_localhost);
    assert_int_equal(o.status, MQTLS_ERR_TLS_VERIFY);
    assert_int_equal(o.leaf_flags, MBEDTLS_X509_BADCERT_CN_MISMATCH);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ip_san_matcher_table),
        cmocka_unit_test(test_ip_san_matcher_rejects_other_address_lengths),
        cmocka_unit_test(test_ip_san_handshake_table),
        cmocka_unit_test(test_ip_san_handshake_by_name_is_mbedtls_own_check),
    };
    return cmocka_run_group_tests(tests, world_setup, world_teardown);
}
