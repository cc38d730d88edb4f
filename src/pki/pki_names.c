/* src/pki's names: what a request may name (client file names, DNS names, IP literals) and the
 * subject / issuer DNs as the strings mbedtls_x509write takes. */
#include <string.h>

#include <arpa/inet.h>

#include <mbedtls/oid.h>

#include "pki/pki_internal.h"

/* A client name is also a file name: keep it to a portable, shell-safe set. */
int mqtls__pki_is_safe_file_name(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > 64 || s[0] == '.' || s[0] == '-') {
        return 0;
    }
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        int ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                 c == '.' || c == '_' || c == '-';
        if (!ok) {
            return 0;
        }
    }
    return 1;
}

/* RFC 1035 / RFC 6125 host name, optionally with a leading "*." wildcard label. */
int mqtls__pki_is_dns_name(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > 253) {
        return 0;
    }
    size_t label = 0;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (c == '*' && i == 0 && n > 2 && s[1] == '.') {
            label = 1;
            continue;
        }
        if (c == '.') {
            if (label == 0 || s[i - 1] == '-') {
                return 0;
            }
            label = 0;
            continue;
        }
        int ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                 c == '-' || c == '_';
        if (!ok || (c == '-' && label == 0) || ++label > 63) {
            return 0;
        }
    }
    return label > 0 && s[n - 1] != '-';
}

/* Parse an IPv4 or IPv6 literal; returns the address length (4 or 16), 0 if not an IP. */
size_t mqtls__pki_parse_ip(const char *s, unsigned char out[16])
{
    if (inet_pton(AF_INET, s, out) == 1) {
        return 4;
    }
    if (inet_pton(AF_INET6, s, out) == 1) {
        return 16;
    }
    return 0;
}

/* "CN=<name>" for mbedtls_x509_string_to_names: ',' must be escaped; 2.28 accepts no other
 * escape, so names with a backslash or control characters are refused. */
mqtls_status_t mqtls__pki_cn_string(const char *name, char *out, size_t cap, mqtls_error_t *err)
{
    size_t n = strlen(name);
    if (n == 0 || n > 64) { /* RFC 5280 ub-common-name = 64 */
        return mqtls__pki_fail(err, MQTLS_ERR_INVALID_ARG, 0, 0, "name must be 1 to 64 characters");
    }
    size_t o = 0;
    const char prefix[] = "CN=";
    memcpy(out, prefix, sizeof prefix - 1);
    o = sizeof prefix - 1;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)name[i];
        if (c < 0x20 || c == 0x7f || c == '\\') {
            return mqtls__pki_fail(err, MQTLS_ERR_INVALID_ARG, 0, 0,
                                   "name contains a control character or backslash");
        }
        if (o + 3 >= cap) {
            return mqtls__pki_fail(err, MQTLS_ERR_INVALID_ARG, 0, 0, "name too long");
        }
        if (c == ',') {
            out[o++] = '\\';
        }
        out[o++] = (char)c;
    }
    out[o] = '\0';
    return MQTLS_OK;
}

/* The CA's subject DN as a string that mbedtls_x509_string_to_names re-encodes to the same
 * attributes, in the same order (used as the issuer of what it signs). */
mqtls_status_t mqtls__pki_dn_string(const mbedtls_x509_name *dn, char *out, size_t cap,
                                    mqtls_error_t *err)
{
    size_t o = 0;
    out[0] = '\0';
    for (int guard = 0; dn != NULL && guard < 64; dn = dn->next, guard++) {
        if (dn->oid.p == NULL) {
            continue;
        }
        const char *sn = NULL;
        if (mbedtls_oid_get_attr_short_name(&dn->oid, &sn) != 0 || sn == NULL) {
            return mqtls__pki_fail(err, MQTLS_ERR_CA_PARSE, 0, 0,
                                   "CA subject has an attribute mbedTLS cannot name");
        }
        size_t need = strlen(sn) + 2 + dn->val.len * 2 + 1;
        if (o + need >= cap) {
            return mqtls__pki_fail(err, MQTLS_ERR_CA_PARSE, 0, 0, "CA subject too long");
        }
        if (o > 0) {
            out[o++] = ',';
        }
        size_t snl = strlen(sn);
        memcpy(out + o, sn, snl);
        o += snl;
        out[o++] = '=';
        for (size_t i = 0; i < dn->val.len; i++) {
            unsigned char c = dn->val.p[i];
            if (c == '\\' || c == 0) {
                return mqtls__pki_fail(err, MQTLS_ERR_CA_PARSE, 0, 0,
                                       "CA subject contains a character mbedTLS cannot re-encode");
            }
            if (c == ',') {
                out[o++] = '\\';
            }
            out[o++] = (char)c;
        }
        out[o] = '\0';
    }
    return MQTLS_OK;
}
