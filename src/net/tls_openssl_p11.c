/* The openssl engine's keys on a PKCS#11 token: OpenSSL 3 on Debian 12 reaches tokens through
 * libp11's "pkcs11" ENGINE (libengine-pkcs11-openssl; the pkcs11-provider is not in Debian 12),
 * which gives an EVP_PKEY whose private operations the token does: RSA (PKCS#1 v1.5 and PSS,
 * so TLS 1.2 and 1.3) and EC. The ENGINE API is deprecated in OpenSSL 3 but is the one
 * Debian 12 ships for this; it is used here and nowhere else.
 *
 * Before libp11 sees the key, mqtls__p11_key_open() finds it with mqtls's own PKCS#11 code
 * (pkcs11.c): the module, the token, the PIN and the object then fail with the same statuses
 * and messages as on the mbedTLS engines (libp11's errors do not tell a wrong PIN from a
 * missing key). */
#define OPENSSL_SUPPRESS_DEPRECATED /* ENGINE_*: see above */

#include "net/tls_openssl.h"

#include <errno.h>
#include <string.h>

#include <openssl/engine.h>
#include <openssl/err.h>

#include "net/pkcs11.h"
#include "net/tls_io.h"

#define P11_ENGINE_ID "pkcs11"

void mqtls__ossl_p11_release(mqtls__tls_ectx_t *c)
{
    if (c->p11_engine != NULL) {
        (void)ENGINE_finish(c->p11_engine);
        (void)ENGINE_free(c->p11_engine);
        c->p11_engine = NULL;
    }
}

mqtls_status_t mqtls__ossl_p11_load(mqtls__tls_ectx_t *c, const mqtls__tls_key_t *key,
                                    EVP_PKEY **out, mqtls_error_t *err)
{
    *out = NULL;
    /* The precise checks first (module, token, PIN, object), with mqtls's PKCS#11 code. */
    mqtls__p11_key_t *probe = NULL;
    mqtls_status_t st = mqtls__p11_key_open(key->uri, key->module, key->password, err, &probe);
    if (st != MQTLS_OK) {
        return st;
    }
    mqtls__p11_key_close(probe);
    char path[1024];
    char pin[256];
    bool has_pin = false;
    st = mqtls__p11_uri_split(key->uri, key->password, path, sizeof path, pin, sizeof pin,
                              &has_pin, err);
    if (st != MQTLS_OK) {
        mqtls__tls_wipe(pin, sizeof pin);
        return st;
    }
    const char *module = key->module;
    char module_buf[256] = "";
    if (module == NULL || module[0] == '\0') {
        mqtls__p11_uri_info_t info;
        if (mqtls__p11_uri_parse(key->uri, &info, err) == MQTLS_OK) {
            (void)snprintf(module_buf, sizeof module_buf, "%s", info.module_path);
        }
        mqtls__tls_wipe(info.pin_value, sizeof info.pin_value);
        module = module_buf;
    }
    ENGINE *e = ENGINE_by_id(P11_ENGINE_ID);
    if (e == NULL) {
        mqtls__tls_wipe(pin, sizeof pin);
        ERR_clear_error();
        return mqtls__net_fail(err, MQTLS_LAYER_CONFIG, MQTLS_ERR_NOT_SUPPORTED, 0,
                               "%s: the openssl engine reaches PKCS#11 tokens through OpenSSL's "
                               "pkcs11 ENGINE, which is not installed (apt-get install "
                               "libengine-pkcs11-openssl)",
                               key->name);
    }
    EVP_PKEY *pk = NULL;
    bool ok = ENGINE_ctrl_cmd_string(e, "MODULE_PATH", module, 0) == 1 && ENGINE_init(e) == 1;
    if (ok) {
        if (has_pin) {
            ok = ENGINE_ctrl_cmd_string(e, "PIN", pin, 0) == 1;
        }
        if (ok) {
            pk = ENGINE_load_private_key(e, path, NULL, NULL);
        }
        if (pk != NULL && c->p11_engine == NULL) {
            c->p11_engine = e; /* kept initialised while the key signs: released in ctx_free */
            e = NULL;
        } else {
            (void)ENGINE_finish(e);
        }
    }
    if (e != NULL) {
        (void)ENGINE_free(e);
    }
    mqtls__tls_wipe(pin, sizeof pin);
    if (pk == NULL) {
        char text[160];
        mqtls__ossl_take_error(text, sizeof text, NULL);
        return mqtls__net_fail(err, MQTLS_LAYER_CONFIG, MQTLS_ERR_PKCS11, 0,
                               "%s: OpenSSL's pkcs11 ENGINE could not load the key (%s)",
                               key->name, text);
    }
    *out = pk;
    return MQTLS_OK;
}
