/* CHECK(cond) for libFuzzer targets: abort() so libFuzzer records the input; never compiled out
 * like assert(). */
#ifndef MQTLS_FUZZ_CHECK_H
#define MQTLS_FUZZ_CHECK_H

#include <stdlib.h>

#define CHECK(cond)                                                                                \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

#endif /* MQTLS_FUZZ_CHECK_H */
