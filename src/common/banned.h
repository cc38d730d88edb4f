/* Banned functions (../shared/STYLE.md): force-included into every project C file. */
#ifndef MQTLS_BANNED_H
#define MQTLS_BANNED_H
#if defined(__GNUC__) && !defined(MQTLS_ALLOW_BANNED)
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#pragma GCC poison sprintf strcpy strcat strtok atoi gets
#ifndef alloca /* GNU C's <stdlib.h> defines it as a macro: poisoning that only warns */
#pragma GCC poison alloca
#endif
#endif
#endif
