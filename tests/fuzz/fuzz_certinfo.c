/* libFuzzer target: certificate and key inspection (src/x509/certinfo.c: mqtls_certinfo_parse
 * and mqtls_keyinfo_parse, which `mqtls doctor` and `mqtls pki show` run on users' files) on
 * arbitrary bytes. Invariants: nothing crashes or reads past the input (the copy ASan guards);
 * only documented statuses; every string of every result NUL-terminated within its array; the
 * counts within their bounds. Keys are parsed without a password (no key derivation whose cost
 * the input chooses). Linked into replay_main.c for ctest under gcc. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "mqtls/certinfo.h"

#include "fuzz_check.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define TERMINATED(field) CHECK(memchr((field), '\0', sizeof(field)) != NULL)

static void check_certinfo(const mqtls_certinfo_t *ci)
{
    TERMINATED(ci->subject);
    TERMINATED(ci->issuer);
    TERMINATED(ci->serial);
    TERMINATED(ci->key_desc);
    TERMINATED(ci->sig_desc);
    TERMINATED(ci->common_name);
    TERMINATED(ci->sha256_hex);
    CHECK(ci->san_dns_count <= MQTLS_CERTINFO_MAX_SANS);
    CHECK(ci->san_ip_count <= MQTLS_CERTINFO_MAX_SANS);
    for (size_t i = 0; i < ci->san_dns_count; i++) {
        TERMINATED(ci->san_dns[i]);
    }
    for (size_t i = 0; i < ci->san_ip_count; i++) {
        TERMINATED(ci->san_ip[i]);
    }
    CHECK(ci->ski_len <= sizeof ci->ski && ci->aki_len <= sizeof ci->aki);
    CHECK(ci->version >= 1 && ci->version <= 3);
    CHECK(!ci->self_signed || ci->self_issued);
    CHECK(ci->max_pathlen >= -1);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    enum { CAP = 4 };
    mqtls_certinfo_t *out = calloc(CAP, sizeof *out);
    CHECK(out != NULL);
    size_t count = 0;
    mqtls_status_t st = mqtls_certinfo_parse(data, size, out, CAP, &count);
    CHECK(st == MQTLS_OK || st == MQTLS_ERR_FILE_EMPTY || st == MQTLS_ERR_CERT_PARSE ||
          st == MQTLS_ERR_NOMEM);
    CHECK(st != MQTLS_OK || count > 0);
    for (size_t i = 0; i < count && i < CAP; i++) {
        check_certinfo(&out[i]);
    }
    free(out);

    mqtls_keyinfo_t ki;
    st = mqtls_keyinfo_parse(data, size, NULL, &ki);
    CHECK(st == MQTLS_OK || st == MQTLS_ERR_FILE_EMPTY || st == MQTLS_ERR_KEY_PARSE ||
          st == MQTLS_ERR_KEY_PASSWORD_REQUIRED || st == MQTLS_ERR_KEY_PASSWORD_WRONG ||
          st == MQTLS_ERR_KEY_UNSUPPORTED || st == MQTLS_ERR_NOMEM);
    TERMINATED(ki.encryption);
    TERMINATED(ki.key_desc);
    CHECK(st != MQTLS_OK || (ki.key_type != MQTLS_KEY_NONE && ki.mbedtls_ret == 0));
    return 0;
}
