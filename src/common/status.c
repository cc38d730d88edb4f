/* Status names and texts, generated from the one list in mqtls/status.h. */
#include "mqtls/status.h"

#include <stddef.h>

typedef struct {
    mqtls_status_t status;
    const char *name;
    const char *text;
} status_entry_t;

static const status_entry_t status_table[] = {
#define MQTLS_X_ROW(name, value, text) {name, #name, text},
    MQTLS_STATUS_MAP(MQTLS_X_ROW)
#undef MQTLS_X_ROW
};

static const status_entry_t *status_find(mqtls_status_t s)
{
    for (size_t i = 0; i < sizeof status_table / sizeof status_table[0]; i++) {
        if (status_table[i].status == s) {
            return &status_table[i];
        }
    }
    return NULL;
}

const char *mqtls_status_name(mqtls_status_t s)
{
    const status_entry_t *e = status_find(s);
    return e != NULL ? e->name : "MQTLS_ERR_UNKNOWN";
}

const char *mqtls_status_text(mqtls_status_t s)
{
    const status_entry_t *e = status_find(s);
    return e != NULL ? e->text : "unknown status";
}
