/* One process, one token, the engines in turn: connect with the token key on each engine named
 * on the command line, destroying each client before the next. Checks what a CLI run cannot:
 * that a module initialised once per process keeps working when another user of it in the
 * process (OpenSSL's pkcs11 ENGINE, released with its client) finalised it in between.
 * usage: p11_engines URI CAFILE CERT KEY-URI MODULE ENGINE... ; exit 0 when every one connects.
 * Driven by test_pkcs11.sh (its token and broker). Public API only. */
#include <stdio.h>
#include <string.h>

#include "mqtls/mqtls.h"

static int connect_once(const char *uri, const char *ca, const char *cert, const char *key,
                        const char *module, const char *engine)
{
    mqtls_tls_cfg_t tls;
    mqtls_tls_cfg_init(&tls);
    tls.enabled = true;
    tls.ca_file = ca;
    tls.cert_file = cert;
    tls.key_file = key;
    tls.pkcs11_module = module;
    tls.engine = engine;
    mqtls_client_cfg_t cfg;
    mqtls_client_cfg_init(&cfg);
    cfg.uri = uri;
    cfg.tls = &tls;
    cfg.reconnect.enabled = false;
    mqtls_error_t err;
    mqtls_error_init(&err);
    mqtls_client_t *c = NULL;
    mqtls_status_t st = mqtls_client_create(&cfg, &err, &c);
    if (st == MQTLS_OK) {
        st = mqtls_client_connect(c);
    }
    for (int i = 0; st == MQTLS_OK && i < 1000 && mqtls_client_state(c) != MQTLS_STATE_CONNECTED;
         i++) {
        st = mqtls_client_step(c, 20);
        if (st == MQTLS_OK && mqtls_client_state(c) == MQTLS_STATE_IDLE) {
            st = MQTLS_ERR_CLOSED;
        }
    }
    bool ok = st == MQTLS_OK && c != NULL && mqtls_client_state(c) == MQTLS_STATE_CONNECTED;
    if (!ok) {
        if (c != NULL) {
            (void)mqtls_client_last_error(c, &err);
        }
        fprintf(stderr, "%s: %s (%s): %s\n", engine, mqtls_status_name(st),
                mqtls_status_name(err.status), err.detail);
    } else {
        printf("%s: connected\n", engine);
    }
    mqtls_client_destroy(c);
    return ok ? 0 : 1;
}

int main(int argc, char **argv)
{
    if (argc < 7) {
        fprintf(stderr, "usage: p11_engines URI CAFILE CERT KEY-URI MODULE ENGINE...\n");
        return 2;
    }
    int failed = 0;
    for (int i = 6; i < argc; i++) {
        failed += connect_once(argv[1], argv[2], argv[3], argv[4], argv[5], argv[i]);
    }
    return failed == 0 ? 0 : 1;
}
