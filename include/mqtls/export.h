/** @file export.h
 *  @brief Symbol export and private-field macros shared by all public headers. */
#ifndef MQTLS_EXPORT_H
#define MQTLS_EXPORT_H

#if defined(__GNUC__)
#define MQTLS_API __attribute__((visibility("default")))
#else
#define MQTLS_API
#endif

/** Fields of caller-allocated structs that are not part of the API (Mbed TLS style). */
#define MQTLS_PRIVATE(member) private_##member

#endif /* MQTLS_EXPORT_H */
