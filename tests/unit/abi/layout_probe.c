/* Prints the size of every public struct. Built twice by tests/unit/abi/CMakeLists.txt: with
 * the default build knobs and with every knob (including the retired ones) set to other
 * values. The two outputs must be identical: no public layout may depend on a -D an
 * application can set (docs/abi.md). */
#include <stddef.h>
#include <stdio.h>

#include "mqtls/mqtls.h"

#define SHOW(type) printf("%-24s %zu\n", #type, sizeof(type))

int main(void)
{
    SHOW(mqtls_bytes_t);
    SHOW(mqtls_iovec_t);
    SHOW(mqtls_error_t);
    SHOW(mqtls_uri_t);
    SHOW(mqtls_tls_cfg_t);
    SHOW(mqtls_will_t);
    SHOW(mqtls_reconnect_t);
    SHOW(mqtls_client_cfg_t);
    SHOW(mqtls_event_t);
    SHOW(mqtls_publish_opts_t);
    SHOW(mqtls_subscription_t);
    SHOW(mqtls_diag_file_t);
    SHOW(mqtls_diag_input_t);
    SHOW(mqtls_certinfo_t);
    SHOW(mqtls_keyinfo_t);
    SHOW(mqtls_pki_req_t);
    SHOW(mqtls_pki_result_t);
    SHOW(mqtls_pki_fleet_req_t);
    SHOW(mqtls_pki_fleet_result_t);
    SHOW(mqtls_property_t);
    SHOW(mqtls_properties_t);
    SHOW(mqtls_topic_filter_t);
    SHOW(mqtls_filter_list_t);
    SHOW(mqtls_connect_t);
    SHOW(mqtls_connack_t);
    SHOW(mqtls_publish_t);
    SHOW(mqtls_ack_t);
    SHOW(mqtls_subscribe_t);
    SHOW(mqtls_suback_t);
    SHOW(mqtls_disconnect_t);
    SHOW(mqtls_packet_t);
    SHOW(mqtls_codec_cfg_t);
    printf("%-24s %zu\n", "error.depth_flags", sizeof(((mqtls_error_t *)0)->depth_flags));
    printf("%-24s %zu\n", "client_cfg.tls@", offsetof(mqtls_client_cfg_t, tls));
    printf("%-24s %zu\n", "event.u@", offsetof(mqtls_event_t, u));
    return 0;
}
