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

/** Receive Maximum a client announces by default (messages): the QoS 1/2 PUBLISHes the broker
 *  may send before we acknowledge them. The control buffer keeps room for an acknowledgement of
 *  each (6 bytes apiece), so a broker that keeps to it never makes the client stop reading;
 *  one that does not (MQTT 3.1.1 announces nothing) meets back-pressure, never a refused ack. */
#ifndef MQTLS_DEFAULT_RECEIVE_MAXIMUM
#define MQTLS_DEFAULT_RECEIVE_MAXIMUM 1024u
#endif

#endif /* MQTLS_LIMITS_H */
