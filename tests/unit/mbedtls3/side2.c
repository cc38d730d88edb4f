/* The mbedTLS 2.28 side (Debian 12's libmbedtls-dev, MbedTLS::mbedtls; no renaming).
 * See sides.h. */
#include "sides.h"

#include <string.h>

#include "mbedtls/version.h"
#include "mbedtls/x509_crt.h"

#include "x509/profile.h"

_Static_assert(MBEDTLS_VERSION_MAJOR == 2 && MBEDTLS_VERSION_MINOR == 28, "2.28 headers");

int side2_profile_is_library_default(const char *name)
{
    mbedtls_x509_crt_profile p;
    if (!mqtls__profile_mbedtls_by_name(name, &p)) {
        return -1;
    }
    const mbedtls_x509_crt_profile *d = &mbedtls_x509_crt_profile_default;
    return p.allowed_mds == d->allowed_mds && p.allowed_pks == d->allowed_pks &&
           p.allowed_curves == d->allowed_curves && p.rsa_min_bitlen == d->rsa_min_bitlen;
}

const char *side2_version_string(void)
{
    static char buf[32]; /* mbedtls_version_get_string needs 9 bytes */
    mbedtls_version_get_string(buf);
    return buf;
}

unsigned long side2_header_version(void)
{
    return (unsigned long)MBEDTLS_VERSION_NUMBER;
}

side_version_fn_t side2_version_fn(void)
{
    return mbedtls_version_get_string;
}

static int parse_one(mbedtls_x509_crt *crt, const char *pem)
{
    return mbedtls_x509_crt_parse(crt, (const unsigned char *)pem, strlen(pem) + 1);
}

int side2_parse(const char *pem, size_t len, side_cert_t *out)
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

int side2_verify(const char *ca_pem, const char *leaf_pem, const char *cn, int allow_sha1,
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

uint32_t side2_flag_bad_md(void)
{
    return MBEDTLS_X509_BADCERT_BAD_MD;
}

void side2_flags_text(uint32_t flags, char *buf, size_t len)
{
    buf[0] = '\0';
    (void)mbedtls_x509_crt_verify_info(buf, len, "", flags);
}
