/* Every mbedTLS 2.28 / 3.x difference used by src/pki, in one place (STYLE.md). Internal. */
#ifndef MQTLS_PKI_COMPAT_H
#define MQTLS_PKI_COMPAT_H

#include <mbedtls/version.h>

#include <mbedtls/bignum.h>
#include <mbedtls/ecp.h>
#include <mbedtls/md.h>
#include <mbedtls/pk.h>
#include <mbedtls/x509_crt.h>

#if MBEDTLS_VERSION_NUMBER >= 0x03000000
#define PKI_CRT_FIELD(crt, f) ((crt)->MBEDTLS_PRIVATE(f))
#else
#define PKI_CRT_FIELD(crt, f) ((crt)->f)
#endif

/* Extension presence bits (MBEDTLS_X509_EXT_*) of a parsed certificate. */
static inline int pki_crt_ext_types(const mbedtls_x509_crt *crt)
{
    return PKI_CRT_FIELD(crt, ext_types);
}

/* basicConstraints cA. */
static inline int pki_crt_ca_istrue(const mbedtls_x509_crt *crt)
{
    return PKI_CRT_FIELD(crt, ca_istrue);
}

/* keyUsage bits (MBEDTLS_X509_KU_*). */
static inline unsigned int pki_crt_key_usage(const mbedtls_x509_crt *crt)
{
    return PKI_CRT_FIELD(crt, key_usage);
}

/* Hash of the certificate's signature. */
static inline mbedtls_md_type_t pki_crt_sig_md(const mbedtls_x509_crt *crt)
{
    return PKI_CRT_FIELD(crt, sig_md);
}

/* Curve of an EC key (the caller checked the type is EC). */
static inline mbedtls_ecp_group_id pki_pk_ec_curve(const mbedtls_pk_context *pk)
{
#if MBEDTLS_VERSION_NUMBER >= 0x03050000
    return mbedtls_pk_get_ec_group_id(pk);
#elif MBEDTLS_VERSION_NUMBER >= 0x03000000
    return mbedtls_pk_ec(*pk)->MBEDTLS_PRIVATE(grp).id;
#else
    return mbedtls_pk_ec(*pk)->grp.id;
#endif
}

/* 3.x needs an RNG to parse a private key (blinding); 2.28 does not take one. */
static inline int pki_pk_parse_key(mbedtls_pk_context *pk, const unsigned char *buf, size_t len,
                                   int (*f_rng)(void *, unsigned char *, size_t), void *p_rng)
{
#if MBEDTLS_VERSION_NUMBER >= 0x03000000
    return mbedtls_pk_parse_key(pk, buf, len, NULL, 0, f_rng, p_rng);
#else
    (void)f_rng;
    (void)p_rng;
    return mbedtls_pk_parse_key(pk, buf, len, NULL, 0);
#endif
}

/* Does @p prv hold the private half of @p pub? */
static inline int pki_pk_check_pair(const mbedtls_pk_context *pub, const mbedtls_pk_context *prv,
                                    int (*f_rng)(void *, unsigned char *, size_t), void *p_rng)
{
#if MBEDTLS_VERSION_NUMBER >= 0x03000000
    return mbedtls_pk_check_pair(pub, prv, f_rng, p_rng);
#else
    (void)f_rng;
    (void)p_rng;
    return mbedtls_pk_check_pair(pub, prv);
#endif
}

/* Serial number as big-endian bytes (set_serial(mpi) is deprecated in 3.x). */
static inline int pki_crt_set_serial(mbedtls_x509write_cert *ctx, unsigned char *bytes, size_t len)
{
#if MBEDTLS_VERSION_NUMBER >= 0x03040000
    return mbedtls_x509write_crt_set_serial_raw(ctx, bytes, len);
#else
    mbedtls_mpi serial;
    mbedtls_mpi_init(&serial);
    int ret = mbedtls_mpi_read_binary(&serial, bytes, len);
    if (ret == 0) {
        ret = mbedtls_x509write_crt_set_serial(ctx, &serial);
    }
    mbedtls_mpi_free(&serial);
    return ret;
#endif
}

#endif /* MQTLS_PKI_COMPAT_H */
