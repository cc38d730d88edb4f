/** @file limits.h
 *  @brief Compile-time knobs, each overridable with -D. Units in the names. */
#ifndef MQTLS_LIMITS_H
#define MQTLS_LIMITS_H

/** Largest packet we build or accept by default (bytes, whole packet). */
#ifndef MQTLS_DEFAULT_MAX_PACKET_SIZE
#define MQTLS_DEFAULT_MAX_PACKET_SIZE (1024u * 1024u + 1024u)
#endif

/** Receive buffer size of a client (bytes); grows up to the max packet size when needed. */
#ifndef MQTLS_RX_BUFFER_INITIAL
#define MQTLS_RX_BUFFER_INITIAL 4096u
#endif

/** Findings kept per diagnosis run. */
#ifndef MQTLS_MAX_FINDINGS
#define MQTLS_MAX_FINDINGS 16
#endif

#endif /* MQTLS_LIMITS_H */
