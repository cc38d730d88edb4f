/** @file limits.h
 *  @brief Build-time knobs of the library, each overridable with -D when building mqtls
 *  itself. Units in the names. No public struct's size or layout depends on any of them
 *  (docs/abi.md; a test compiles the headers with other values and compares every layout). */
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

#endif /* MQTLS_LIMITS_H */
