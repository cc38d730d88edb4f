/* Internal: the reason-code table of names.c for modules above src/packet (mqtls explain reads
 * MQTT 5 reason codes from it instead of keeping a copy). Never installed. */
#ifndef MQTLS_PACKET_NAMES_H
#define MQTLS_PACKET_NAMES_H

#include <stdint.h>

/** The packet types in which MQTT 5 reason code @p code is defined (MQTT 5.0 section 2.4,
 *  table 2-6): bit (1 << mqtls_packet_type_t) per type; 0 if @p code is not a reason code. */
uint16_t mqtls__reason_packets(uint8_t code);

#endif /* MQTLS_PACKET_NAMES_H */
