/* The one DER walker of the project, for what mbedTLS does not keep, or does not keep the same
 * way in 2.28 and 3.x: extension values by OID (with criticality), subjectAltName entries of
 * every type, the iPAddress SAN match of the TLS client, X.509 times as Unix time and back, and
 * the key OIDs mbedTLS cannot parse. Pure: bytes in, facts out; never reads past its input. */
#ifndef MQTLS_X509_ASN1_H
#define MQTLS_X509_ASN1_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <mbedtls/x509_crt.h>

#include "mqtls/certinfo.h"

/* GeneralName identifier octets (RFC 5280 4.2.1.6), as mqtls__x509_san_next() returns them. */
#define MQTLS__SAN_EMAIL 0x81u /* [1] rfc822Name IA5String */
#define MQTLS__SAN_DNS 0x82u   /* [2] dNSName IA5String */
#define MQTLS__SAN_URI 0x86u   /* [6] uniformResourceIdentifier IA5String */
#define MQTLS__SAN_IP 0x87u    /* [7] iPAddress OCTET STRING: 4 or 16 bytes */

/* Find the extension @p oid (its DER bytes, e.g. MBEDTLS_OID_SUBJECT_ALT_NAME) in the
 * TBSCertificate of @p crt. Returns 0 with @p val / @p val_len (the extnValue contents, which
 * point into @p crt) and @p critical; -1 if it is absent or the DER is malformed. */
int mqtls__x509_find_ext(const mbedtls_x509_crt *crt, const char *oid, size_t oid_len,
                         const uint8_t **val, size_t *val_len, bool *critical);

/* Walks the GeneralNames of a subjectAltName: mqtls__x509_san_begin(), then _next() until it
 * returns 0. Views point into the certificate. */
typedef struct mqtls__x509_san_iter {
    const uint8_t *p;
    const uint8_t *end;
} mqtls__x509_san_iter_t;

/* 0 and @p it ready (the list may be empty); -1 if @p crt has no SAN or it is malformed. */
int mqtls__x509_san_begin(mqtls__x509_san_iter_t *it, const mbedtls_x509_crt *crt);
/* The next GeneralName: 1 with its identifier octet in @p tag (MQTLS__SAN_*), @p data and
 * @p len; 0 at the end; -1 if malformed (not a context-specific tag, or a bad length). */
int mqtls__x509_san_next(mqtls__x509_san_iter_t *it, uint8_t *tag, const uint8_t **data,
                         size_t *len);

/* Does @p crt hold an iPAddress SAN equal to @p ip (4 bytes IPv4, 16 bytes IPv6)? Exact byte
 * match of an entry of the same length, and nothing else: no CN fallback, no dNSName that
 * reads like an address, no IPv4-mapped IPv6 equivalence (RFC 6125 6.2.1). This is the host
 * name check of the TLS client when mbedTLS cannot match IPs itself (< 3.5). */
bool mqtls__x509_crt_has_ip_san(const mbedtls_x509_crt *crt, const uint8_t *ip, size_t ip_len);

/* Seconds since 1970-01-01 UTC of a proleptic Gregorian date and time (no libc, no TZ). */
int64_t mqtls__x509_time_to_unix(int year, int mon, int day, int hour, int min, int sec);
/* The same for an mbedTLS certificate time. */
int64_t mqtls__x509_time_unix(const mbedtls_x509_time *t);
/* The inverse: @p unix_s as a date and time (UTC). */
void mqtls__x509_time_from_unix(int64_t unix_s, mbedtls_x509_time *out);

/* Does @p data contain the OID @p oid (its content bytes) as a DER TLV 06 <len> <bytes>? */
bool mqtls__x509_der_has_oid(const uint8_t *data, size_t len, const uint8_t *oid, size_t oid_len);
/* Does @p data contain the DER OID bytes of Ed25519 / Ed448 / X25519 / X448? */
mqtls_key_type_t mqtls__scan_unsupported_key_oid(const uint8_t *data, size_t len);

#endif /* MQTLS_X509_ASN1_H */
