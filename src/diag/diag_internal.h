/* Internal to src/diag: the finding catalogue and list (findings.h). Parsed certificate sets
 * (mqtls__certset_t), profiles as data (mqtls__profile_t) and the mbedTLS version shims
 * (mqtls__dm_*) come from src/x509. */
#ifndef MQTLS_DIAG_INTERNAL_H
#define MQTLS_DIAG_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <mbedtls/x509_crt.h>

#include "mqtls/certinfo.h"
#include "mqtls/diag.h"
#include "findings.h"
#include "x509/asn1.h"
#include "x509/certinfo.h"
#include "x509/compat.h"
#include "x509/profile.h"

#if defined(__GNUC__)
#define MQTLS__PRINTF(a, b) __attribute__((format(printf, a, b)))
#else
#define MQTLS__PRINTF(a, b)
#endif
void mqtls__setf(char *dst, size_t cap, const char *fmt, ...) MQTLS__PRINTF(3, 4);
void mqtls__appendf(char *dst, size_t cap, const char *fmt, ...) MQTLS__PRINTF(3, 4);

#endif
