/** @file mqtls.h
 *  @brief Umbrella header: include this one to use mqtls.
 *
 *  mqtls is an MQTT 3.1 / 3.1.1 / 5.0 client for (mutual) TLS brokers that explains every
 *  TLS and certificate failure. Start with mqtls/client.h (connect, publish, subscribe,
 *  events); mqtls/diag.h turns a failure into findings with fixes. */
#ifndef MQTLS_MQTLS_H
#define MQTLS_MQTLS_H

#include "mqtls/auth.h"
#include "mqtls/certinfo.h"
#include "mqtls/client.h"
#include "mqtls/diag.h"
#include "mqtls/error.h"
#include "mqtls/event.h"
#include "mqtls/explain.h"
#include "mqtls/export.h"
#include "mqtls/file.h"
#include "mqtls/limits.h"
#include "mqtls/packet.h"
#include "mqtls/pki.h"
#include "mqtls/profile.h"
#include "mqtls/status.h"
#include "mqtls/tls.h"
#include "mqtls/tls_facts.h"
#include "mqtls/types.h"
#include "mqtls/uri.h"
#include "mqtls/version.h"

#endif /* MQTLS_MQTLS_H */
