/* Tests that run once per TLS engine (ctest gives each instance MQTLS_TLS_ENGINE; see
 * mqtls_add_engine_test() in tests/CMakeLists.txt): which engine this run exercises, through
 * the public API only. docs/tls-engines.md "Test matrix". */
#ifndef MQTLS_TESTS_ENGINE_H
#define MQTLS_TESTS_ENGINE_H

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "mqtls/tls.h"

/* "mbedtls3", "mbedtls2" or "openssl": the engine a context made now connects with. */
static inline const char *test_engine(void)
{
    const char *e = getenv("MQTLS_TLS_ENGINE");
    if (e == NULL || e[0] == '\0') {
        return mqtls_tls_engine_default();
    }
    if (strcmp(e, "mbedtls") == 0) { /* the newest mbedTLS built in */
        for (size_t i = 0; i < mqtls_tls_engine_count(); i++) {
            if (strcmp(mqtls_tls_engine_name(i), "mbedtls3") == 0) {
                return "mbedtls3";
            }
        }
        return "mbedtls2";
    }
    return e;
}

static inline bool test_engine_is(const char *name)
{
    return strcmp(test_engine(), name) == 0;
}

/* mbedTLS engines report their library's own codes in mqtls_error_t::mbedtls_ret for
 * credentials; OpenSSL's reasons are in the detail text only. */
static inline bool test_engine_is_mbedtls(void)
{
    return !test_engine_is("openssl");
}

/* The highest TLS version the engine speaks. */
static inline unsigned test_engine_max_tls(void)
{
    return test_engine_is("mbedtls2") ? 0x0303u : 0x0304u;
}

#endif /* MQTLS_TESTS_ENGINE_H */
