/* sdkconfig.h for Linux: what menuconfig provides on the device. The broker URI comes from
 * the MQTT_BROKER_URI environment variable (default: a local mosquitto on 8883). */
#ifndef MQTLS_EXAMPLE_SDKCONFIG_H
#define MQTLS_EXAMPLE_SDKCONFIG_H
#include <stdlib.h>
static inline const char *example_broker_uri(void)
{
    const char *uri = getenv("MQTT_BROKER_URI");
    return uri != NULL ? uri : "mqtts://localhost:8883";
}
#define CONFIG_BROKER_URI example_broker_uri()
#endif
