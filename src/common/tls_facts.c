/* mqtls_tls_facts_t: lifetime of the owned copies, and the public accessors (tls_facts.h). */
#include "common/tls_facts.h"

#include <stdlib.h>
#include <string.h>

void mqtls__tls_facts_init(mqtls_tls_facts_t *facts)
{
    if (facts == NULL) {
        return;
    }
    memset(facts, 0, sizeof *facts);
    facts->alert_received = -1;
    facts->alert_sent = -1;
}

void mqtls__tls_facts_free(mqtls_tls_facts_t *facts)
{
    if (facts == NULL) {
        return;
    }
    for (size_t i = 0; i < MQTLS__MAX_CHAIN_DEPTH; i++) {
        free(facts->chain[i].der);
        free(facts->presented[i].der);
    }
    free(facts->ca_names);
    mqtls__tls_facts_init(facts);
}

mqtls_status_t mqtls__tls_facts_create(mqtls_tls_facts_t **out)
{
    mqtls_tls_facts_t *f = malloc(sizeof *f);
    if (f == NULL) {
        return MQTLS_ERR_NOMEM;
    }
    mqtls__tls_facts_init(f);
    *out = f;
    return MQTLS_OK;
}

void mqtls__tls_facts_destroy(mqtls_tls_facts_t *facts)
{
    mqtls__tls_facts_free(facts);
    free(facts);
}

unsigned mqtls_tls_facts_flags(const mqtls_tls_facts_t *f)
{
    if (f == NULL) {
        return 0;
    }
    const struct {
        bool on;
        unsigned bit;
    } bits[] = {
        {f->cert_requested, MQTLS_FACT_CERT_REQUESTED},
        {f->client_cert_sent, MQTLS_FACT_CLIENT_CERT_SENT},
        {f->server_hello_seen, MQTLS_FACT_SERVER_HELLO_SEEN},
        {f->peer_not_tls, MQTLS_FACT_PEER_NOT_TLS},
        {f->peer_silent_close, MQTLS_FACT_PEER_SILENT_CLOSE},
        {f->session_offered, MQTLS_FACT_SESSION_OFFERED},
        {f->session_resumed, MQTLS_FACT_SESSION_RESUMED},
        {f->hostname_checked, MQTLS_FACT_HOSTNAME_CHECKED},
        {f->ip_san_matched_by_us, MQTLS_FACT_IP_SAN_BY_MQTLS},
        {f->insecure, MQTLS_FACT_INSECURE},
        {f->records_truncated, MQTLS_FACT_RECORDS_TRUNCATED},
    };
    unsigned out = 0;
    for (size_t i = 0; i < sizeof bits / sizeof bits[0]; i++) {
        out |= bits[i].on ? bits[i].bit : 0u;
    }
    return out;
}

int mqtls_tls_facts_handshake_ret(const mqtls_tls_facts_t *f)
{
    return f != NULL ? f->handshake_ret : 0;
}

uint32_t mqtls_tls_facts_verify_flags(const mqtls_tls_facts_t *f)
{
    return f != NULL ? f->verify_flags : 0;
}

size_t mqtls_tls_facts_chain_len(const mqtls_tls_facts_t *f)
{
    return f != NULL ? f->chain_len : 0;
}

static const uint8_t *cert_at(const mqtls_cert_fact_t *arr, size_t n, size_t i, size_t *len,
                              uint32_t *flags)
{
    if (len != NULL) {
        *len = 0;
    }
    if (flags != NULL) {
        *flags = 0;
    }
    if (i >= n || i >= MQTLS__MAX_CHAIN_DEPTH) {
        return NULL;
    }
    if (len != NULL) {
        *len = arr[i].der_len;
    }
    if (flags != NULL) {
        *flags = arr[i].flags;
    }
    return arr[i].der;
}

const uint8_t *mqtls_tls_facts_chain_cert(const mqtls_tls_facts_t *f, size_t depth, size_t *len,
                                          uint32_t *flags)
{
    return f != NULL ? cert_at(f->chain, f->chain_len, depth, len, flags)
                     : cert_at(NULL, 0, 0, len, flags);
}

size_t mqtls_tls_facts_presented_len(const mqtls_tls_facts_t *f)
{
    return f != NULL ? f->presented_len : 0;
}

const uint8_t *mqtls_tls_facts_presented_cert(const mqtls_tls_facts_t *f, size_t i, size_t *len)
{
    return f != NULL ? cert_at(f->presented, f->presented_len, i, len, NULL)
                     : cert_at(NULL, 0, 0, len, NULL);
}

int mqtls_tls_facts_alert_received(const mqtls_tls_facts_t *f)
{
    return f != NULL ? f->alert_received : -1;
}

int mqtls_tls_facts_alert_sent(const mqtls_tls_facts_t *f)
{
    return f != NULL ? f->alert_sent : -1;
}

static const uint8_t *bytes_or_null(const uint8_t *p, size_t n, size_t *len)
{
    if (len != NULL) {
        *len = p != NULL ? n : 0;
    }
    return n > 0 ? p : NULL;
}

const uint8_t *mqtls_tls_facts_ca_names(const mqtls_tls_facts_t *f, size_t *len)
{
    return f != NULL ? bytes_or_null(f->ca_names, f->ca_names_len, len)
                     : bytes_or_null(NULL, 0, len);
}

const uint8_t *mqtls_tls_facts_first_bytes(const mqtls_tls_facts_t *f, size_t *len)
{
    return f != NULL ? bytes_or_null(f->first_bytes, f->first_bytes_len, len)
                     : bytes_or_null(NULL, 0, len);
}

uint16_t mqtls_tls_facts_version(const mqtls_tls_facts_t *f)
{
    return f != NULL ? f->tls_version : 0;
}

const char *mqtls_tls_facts_ciphersuite(const mqtls_tls_facts_t *f)
{
    return f != NULL ? f->ciphersuite : "";
}

const char *mqtls_tls_facts_server_name(const mqtls_tls_facts_t *f)
{
    return f != NULL ? f->server_name : "";
}

uint32_t mqtls_tls_facts_handshake_ms(const mqtls_tls_facts_t *f)
{
    return f != NULL ? f->handshake_ms : 0;
}

const char *mqtls_tls_facts_engine(const mqtls_tls_facts_t *f)
{
    return f != NULL && f->engine != NULL ? f->engine : "";
}

const char *mqtls_tls_facts_judge(const mqtls_tls_facts_t *f)
{
    return f != NULL && f->judge != NULL ? f->judge : "";
}

uint16_t mqtls_tls_facts_max_fragment_len(const mqtls_tls_facts_t *f)
{
    return f != NULL ? f->max_fragment_len : 0;
}
