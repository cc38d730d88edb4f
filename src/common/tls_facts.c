/* mqtls_tls_facts_t lifetime (tls.h): the owned DER copies and the CA names list. */
#include "mqtls/tls.h"

#include <stdlib.h>
#include <string.h>

void mqtls_tls_facts_init(mqtls_tls_facts_t *facts)
{
    if (facts == NULL) {
        return;
    }
    memset(facts, 0, sizeof *facts);
    facts->alert_received = -1;
    facts->alert_sent = -1;
}

void mqtls_tls_facts_free(mqtls_tls_facts_t *facts)
{
    if (facts == NULL) {
        return;
    }
    for (size_t i = 0; i < MQTLS_MAX_CHAIN_DEPTH; i++) {
        free(facts->chain[i].der);
        free(facts->presented[i].der);
    }
    free(facts->ca_names);
    mqtls_tls_facts_init(facts);
}
