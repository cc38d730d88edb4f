/* Internal helpers shared by the files of src/pki (not installed). */
#ifndef MQTLS_PKI_INTERNAL_H
#define MQTLS_PKI_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include <mbedtls/x509_crt.h>

#include "mqtls/error.h"
#include "mqtls/status.h"

/* Record a failure in @p err (may be NULL) and return @p st. @p mbed_ret: raw mbedTLS code
 * or 0; its text is appended to the detail. */
mqtls_status_t mqtls__pki_fail(mqtls_error_t *err, mqtls_status_t st, int mbed_ret, int sys_errno,
                               const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 5, 6)))
#endif
    ;

/* Read a whole file into a malloc'd buffer with one NUL byte appended (mbedTLS parses PEM
 * only when the length includes the NUL). *len counts the NUL. Caller frees. */
mqtls_status_t mqtls__pki_read_file(const char *path, unsigned char **buf, size_t *len,
                                    mqtls_error_t *err);

/* Find the extension @p oid in @p crt by walking its TBSCertificate (mbedTLS 2.28 does not
 * keep iPAddress SAN entries or extension criticality). Returns 0 and sets @p val / @p val_len
 * (the extnValue contents) and @p critical; -1 if absent or the DER is malformed. */
int mqtls__pki_find_ext(const mbedtls_x509_crt *crt, const char *oid, size_t oid_len,
                        const unsigned char **val, size_t *val_len, int *critical);

/* One GeneralName from a subjectAltName value. *p advances; returns 1 with an entry, 0 at the
 * end, -1 if malformed. @p tag: the context tag number (2 = dNSName, 7 = iPAddress, ...). */
int mqtls__pki_san_next(const unsigned char **p, const unsigned char *end, int *tag,
                        const unsigned char **data, size_t *len);

/* Seconds since the epoch for an mbedTLS time (UTC). */
int64_t mqtls__pki_x509_time_to_epoch(const mbedtls_x509_time *t);

#endif /* MQTLS_PKI_INTERNAL_H */
