/** @file version.h
 *  @brief The version of the mqtls headers, and of the library at run time.
 *
 *  This file is the one place the version is written: CMake reads it for the project version,
 *  the shared library's SONAME (libmqtls.so.<MAJOR>), the pkg-config file and the packages.
 *  MAJOR changes when the ABI changes incompatibly (docs/abi.md); MINOR when functions or
 *  struct fields are added; PATCH for fixes. */
#ifndef MQTLS_VERSION_H
#define MQTLS_VERSION_H

#include "mqtls/export.h"

#ifdef __cplusplus
extern "C" {
#endif

#define MQTLS_VERSION_MAJOR 1
#define MQTLS_VERSION_MINOR 2
#define MQTLS_VERSION_PATCH 0

/** 0xMMNNPP00, as MBEDTLS_VERSION_NUMBER: compare with >= in #if. */
#define MQTLS_VERSION_NUMBER 0x01020000
/** "MAJOR.MINOR.PATCH". */
#define MQTLS_VERSION_STRING "1.2.0"

/** @brief The version of the library actually loaded, e.g. "1.0.0" (may be newer than the
 *  headers an application was built with). Static string. Thread-safe. */
MQTLS_API const char *mqtls_version(void);

/** @brief The loaded library's MQTLS_VERSION_NUMBER. Thread-safe. */
MQTLS_API unsigned long mqtls_version_number(void);

#ifdef __cplusplus
}
#endif
#endif /* MQTLS_VERSION_H */
