/* A private key on a PKCS#11 token (pkcs11.h). PKCS#11 v2.40 (OASIS), RFC 7512 for the URI.
 * p11-kit parses the URI and loads the module; what is left is the search, the login and the
 * signature, with one status per failure so that a user knows which of module, token, PIN or
 * object is wrong. */
#include "net/pkcs11.h"

#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <p11-kit/p11-kit.h>
#include <p11-kit/pkcs11.h>
#include <p11-kit/uri.h>

#include "mqtls/file.h"
#include "net/net.h"
#include "net/tls_io.h"

/* The longest URI taken (RFC 7512 sets none; a label is at most 32 bytes, 3 per %XX). */
#define P11_URI_MAX 2048
/* The longest PIN taken (pin-value, pin-source file, or the password). */
#define P11_PIN_MAX 256

struct mqtls__p11_key {
    CK_FUNCTION_LIST *mod;
    CK_SESSION_HANDLE session;
    bool has_session;
    bool logged_in;
    CK_OBJECT_HANDLE key;
    mqtls__p11_key_type_t type;
    size_t len; /* RSA modulus bytes */
    pthread_mutex_t lock;
};

bool mqtls__p11_is_uri(const char *s)
{
    return s != NULL && strncasecmp(s, "pkcs11:", 7) == 0;
}

/* Is the attribute @p a (name=value, up to @p len) one that RFC 7512 puts in the query? */
static bool is_query_attr(const char *a, size_t len)
{
    static const char *const names[] = {"pin-value=", "pin-source=", "module-path=",
                                        "module-name="};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        size_t n = strlen(names[i]);
        if (len >= n && strncmp(a, names[i], n) == 0) {
            return true;
        }
    }
    return false;
}

void mqtls__p11_uri_redact(const char *uri, char *out, size_t cap)
{
    if (cap == 0) {
        return;
    }
    out[0] = '\0';
    if (uri == NULL) {
        return;
    }
    size_t o = 0;
    const char *p = uri;
    while (*p != '\0' && o + 1 < cap) {
        if ((p == uri || p[-1] == ';' || p[-1] == '?' || p[-1] == '&' || p[-1] == ':') &&
            strncmp(p, "pin-value=", 10) == 0) {
            int n = snprintf(out + o, cap - o, "pin-value=***");
            o += n > 0 ? (size_t)n : 0;
            p += 10;
            while (*p != '\0' && *p != ';' && *p != '&' && *p != '?') {
                p++;
            }
            continue;
        }
        out[o++] = *p++;
    }
    out[o < cap ? o : cap - 1] = '\0';
}

/* @p uri with the query attributes written in its path moved to the query, as p11-kit wants
 * them: "pkcs11:token=a;pin-value=1" -> "pkcs11:token=a?pin-value=1". */
static mqtls_status_t normalise(const char *uri, char *out, size_t cap, mqtls_error_t *err)
{
    size_t len = strlen(uri);
    if (len >= P11_URI_MAX || len + 2 > cap) {
        return mqtls__net_fail(err, MQTLS_LAYER_CONFIG, MQTLS_ERR_INVALID_ARG, 0,
                               "pkcs11: URI longer than %d bytes", P11_URI_MAX);
    }
    char path[P11_URI_MAX + 1] = "";
    char query[P11_URI_MAX + 1] = "";
    size_t pl = 0;
    size_t ql = 0;
    const char *q = strchr(uri, '?');
    const char *path_end = q != NULL ? q : uri + len;
    const char *a = uri + 7; /* after "pkcs11:" */
    while (a < path_end) {
        const char *e = memchr(a, ';', (size_t)(path_end - a));
        if (e == NULL) {
            e = path_end;
        }
        size_t n = (size_t)(e - a);
        if (n > 0 && is_query_attr(a, n)) {
            if (ql > 0) {
                query[ql++] = '&';
            }
            memcpy(query + ql, a, n);
            ql += n;
        } else if (n > 0) {
            if (pl > 0) {
                path[pl++] = ';';
            }
            memcpy(path + pl, a, n);
            pl += n;
        }
        a = e + 1;
    }
    if (q != NULL && q[1] != '\0') {
        if (ql > 0) {
            query[ql++] = '&';
        }
        size_t n = strlen(q + 1);
        memcpy(query + ql, q + 1, n);
        ql += n;
    }
    path[pl] = '\0';
    query[ql] = '\0';
    int n = snprintf(out, cap, "pkcs11:%s%s%s", path, ql > 0 ? "?" : "", query);
    mqtls__tls_wipe(query, sizeof query); /* may hold the PIN */
    if (n < 0 || (size_t)n >= cap) {
        return mqtls__net_fail(err, MQTLS_LAYER_CONFIG, MQTLS_ERR_INVALID_ARG, 0,
                               "pkcs11: URI too long");
    }
    return MQTLS_OK;
}

/* The URI parsed by p11-kit: *out to p11_kit_uri_free(). */
static mqtls_status_t parse(const char *uri, P11KitUri **out, mqtls_error_t *err)
{
    *out = NULL;
    if (!mqtls__p11_is_uri(uri)) {
        return mqtls__net_fail(err, MQTLS_LAYER_CONFIG, MQTLS_ERR_INVALID_ARG, 0,
                               "not a pkcs11: URI");
    }
    char norm[P11_URI_MAX + 16];
    mqtls_status_t st = normalise(uri, norm, sizeof norm, err);
    if (st != MQTLS_OK) {
        return st;
    }
    P11KitUri *u = p11_kit_uri_new();
    if (u == NULL) {
        mqtls__tls_wipe(norm, sizeof norm);
        return mqtls__net_fail(err, MQTLS_LAYER_CONFIG, MQTLS_ERR_NOMEM, ENOMEM, "pkcs11 URI");
    }
    int r = p11_kit_uri_parse(norm, P11_KIT_URI_FOR_ANY, u);
    mqtls__tls_wipe(norm, sizeof norm);
    char shown[P11_URI_MAX];
    mqtls__p11_uri_redact(uri, shown, sizeof shown);
    if (r != P11_KIT_URI_OK) {
        p11_kit_uri_free(u);
        return mqtls__net_fail(err, MQTLS_LAYER_CONFIG, MQTLS_ERR_INVALID_ARG, 0,
                               "%.200s: not a valid RFC 7512 URI: %s", shown,
                               p11_kit_uri_message(r));
    }
    if (p11_kit_uri_any_unrecognized(u)) {
        p11_kit_uri_free(u);
        return mqtls__net_fail(err, MQTLS_LAYER_CONFIG, MQTLS_ERR_INVALID_ARG, 0,
                               "%.200s: an attribute is not one RFC 7512 defines (known: token, "
                               "object, id, type, manufacturer, serial, model, slot-id, "
                               "pin-value, pin-source, module-path, ...)",
                               shown);
    }
    *out = u;
    return MQTLS_OK;
}

/* A CK_UTF8CHAR field (space-padded, not terminated) as a C string. */
static void padded(char *dst, size_t cap, const CK_UTF8CHAR *src, size_t len)
{
    while (len > 0 && src[len - 1] == ' ') {
        len--;
    }
    len = len < cap - 1 ? len : cap - 1;
    memcpy(dst, src, len);
    dst[len] = '\0';
}

mqtls_status_t mqtls__p11_uri_parse(const char *uri, mqtls__p11_uri_info_t *out,
                                    mqtls_error_t *err)
{
    memset(out, 0, sizeof *out);
    P11KitUri *u = NULL;
    mqtls_status_t st = parse(uri, &u, err);
    if (st != MQTLS_OK) {
        return st;
    }
    CK_TOKEN_INFO *ti = p11_kit_uri_get_token_info(u);
    if (ti != NULL) {
        padded(out->token, sizeof out->token, ti->label, sizeof ti->label);
    }
    CK_ATTRIBUTE *label = p11_kit_uri_get_attribute(u, CKA_LABEL);
    if (label != NULL && label->pValue != NULL) {
        size_t n = label->ulValueLen < sizeof out->object - 1 ? label->ulValueLen
                                                               : sizeof out->object - 1;
        memcpy(out->object, label->pValue, n);
    }
    CK_ATTRIBUTE *id = p11_kit_uri_get_attribute(u, CKA_ID);
    if (id != NULL && id->pValue != NULL) {
        out->has_id = true;
        out->id_len = id->ulValueLen < sizeof out->id ? id->ulValueLen : sizeof out->id;
        memcpy(out->id, id->pValue, out->id_len);
    }
    const char *pin = p11_kit_uri_get_pin_value(u);
    if (pin != NULL) {
        (void)snprintf(out->pin_value, sizeof out->pin_value, "%s", pin);
    }
    const char *mp = p11_kit_uri_get_module_path(u);
    if (mp != NULL) {
        (void)snprintf(out->module_path, sizeof out->module_path, "%s", mp);
    }
    p11_kit_uri_free(u);
    return MQTLS_OK;
}

static mqtls_status_t fail_rv(mqtls_error_t *err, mqtls_status_t st, CK_RV rv, const char *fmt,
                              ...) __attribute__((format(printf, 4, 5)));

/* "<what>: <p11-kit's text of rv> (CKR 0x..)" */
static mqtls_status_t fail_rv(mqtls_error_t *err, mqtls_status_t st, CK_RV rv, const char *fmt,
                              ...)
{
    char what[256];
    va_list ap;
    va_start(ap, fmt);
    (void)vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    return mqtls__net_fail(err, MQTLS_LAYER_CONFIG, st, 0, "%s: %s (CKR 0x%lX)", what,
                           p11_kit_strerror(rv), (unsigned long)rv);
}

/* The PIN: pin-value, else pin-source=file:PATH (or a bare path), else @p given. */
static mqtls_status_t find_pin(P11KitUri *u, const char *given, char *pin, size_t cap,
                               bool *has, mqtls_error_t *err)
{
    *has = false;
    const char *v = p11_kit_uri_get_pin_value(u);
    if (v != NULL) {
        (void)snprintf(pin, cap, "%s", v);
        *has = true;
        return MQTLS_OK;
    }
    const char *src = p11_kit_uri_get_pin_source(u);
    if (src != NULL) {
        const char *path = strncmp(src, "file:", 5) == 0 ? src + 5 : src;
        /* The one file reader (mqtls/file.h): a regular file of a few KiB, never a FIFO that
         * could block; its first line is the PIN. */
        uint8_t *data = NULL;
        size_t len = 0;
        mqtls_status_t st = mqtls_file_read(path, 4096, 0, &data, &len, err);
        if (st != MQTLS_OK) {
            if (err != NULL) {
                char detail[sizeof err->detail];
                (void)snprintf(detail, sizeof detail, "%s", err->detail);
                static const char prefix[] = "pin-source ";
                (void)snprintf(err->detail, sizeof err->detail, "%s%.*s", prefix,
                               (int)(sizeof err->detail - sizeof prefix), detail);
            }
            return st;
        }
        size_t n = strcspn((const char *)data, "\r\n");
        (void)snprintf(pin, cap, "%.*s", (int)n, (const char *)data);
        mqtls_file_free(data, len);
        *has = true;
        return MQTLS_OK;
    }
    if (given != NULL) {
        (void)snprintf(pin, cap, "%s", given);
        *has = true;
    }
    return MQTLS_OK;
}

/* The private key objects of @p session that the URI names: 0, 1 or 2 (= several) in *count. */
static CK_RV find_key(CK_FUNCTION_LIST *m, CK_SESSION_HANDLE session, P11KitUri *u,
                      CK_OBJECT_HANDLE *key, CK_ULONG *count)
{
    CK_OBJECT_CLASS cls = CKO_PRIVATE_KEY;
    CK_ATTRIBUTE tmpl[4];
    CK_ULONG n = 0;
    tmpl[n++] = (CK_ATTRIBUTE){CKA_CLASS, &cls, sizeof cls};
    CK_ATTRIBUTE *label = p11_kit_uri_get_attribute(u, CKA_LABEL);
    if (label != NULL) {
        tmpl[n++] = *label;
    }
    CK_ATTRIBUTE *id = p11_kit_uri_get_attribute(u, CKA_ID);
    if (id != NULL) {
        tmpl[n++] = *id;
    }
    CK_RV rv = m->C_FindObjectsInit(session, tmpl, n);
    if (rv != CKR_OK) {
        return rv;
    }
    CK_OBJECT_HANDLE found[2];
    *count = 0;
    rv = m->C_FindObjects(session, found, 2, count);
    (void)m->C_FindObjectsFinal(session);
    if (rv == CKR_OK && *count > 0) {
        *key = found[0];
    }
    return rv;
}

/* Key type and, for RSA, the modulus length. */
static CK_RV key_facts(mqtls__p11_key_t *k)
{
    CK_KEY_TYPE kt = 0;
    CK_ATTRIBUTE a = {CKA_KEY_TYPE, &kt, sizeof kt};
    CK_RV rv = k->mod->C_GetAttributeValue(k->session, k->key, &a, 1);
    if (rv != CKR_OK) {
        return rv;
    }
    k->type = kt == CKK_RSA  ? MQTLS__P11_KEY_RSA
              : kt == CKK_EC ? MQTLS__P11_KEY_EC
                             : MQTLS__P11_KEY_OTHER;
    if (k->type == MQTLS__P11_KEY_RSA) {
        CK_ATTRIBUTE m = {CKA_MODULUS, NULL, 0};
        rv = k->mod->C_GetAttributeValue(k->session, k->key, &m, 1);
        if (rv != CKR_OK) {
            return rv;
        }
        k->len = m.ulValueLen;
    }
    return CKR_OK;
}

/* Log in to the open session of @p k (when the token wants it) and find the key. */
static mqtls_status_t login_and_find(mqtls__p11_key_t *k, P11KitUri *u, const CK_TOKEN_INFO *ti,
                                     const char *given, const char *shown, bool *missing,
                                     mqtls_error_t *err)
{
    *missing = false;
    char pin[P11_PIN_MAX];
    bool has_pin = false;
    mqtls_status_t st = find_pin(u, given, pin, sizeof pin, &has_pin, err);
    if (st != MQTLS_OK) {
        return st;
    }
    if ((ti->flags & CKF_LOGIN_REQUIRED) != 0 || has_pin) {
        if (!has_pin) {
            return mqtls__net_fail(err, MQTLS_LAYER_CONFIG, MQTLS_ERR_KEY_PASSWORD_REQUIRED, 0,
                                   "%.200s: the token needs a PIN (pin-value= in the URI, or the "
                                   "key password: --keypass / --keypass-file)",
                                   shown);
        }
        CK_RV rv = k->mod->C_Login(k->session, CKU_USER, (CK_UTF8CHAR *)pin, strlen(pin));
        mqtls__tls_wipe(pin, sizeof pin);
        if (rv == CKR_PIN_INCORRECT || rv == CKR_PIN_INVALID || rv == CKR_PIN_LEN_RANGE) {
            return fail_rv(err, MQTLS_ERR_KEY_PASSWORD_WRONG, rv, "%.200s: the token's PIN is wrong",
                           shown);
        }
        if (rv != CKR_OK && rv != CKR_USER_ALREADY_LOGGED_IN) {
            return fail_rv(err, MQTLS_ERR_PKCS11, rv, "%.200s: login to the token failed", shown);
        }
        k->logged_in = rv == CKR_OK;
    }
    CK_ULONG count = 0;
    CK_RV rv = find_key(k->mod, k->session, u, &k->key, &count);
    if (rv != CKR_OK) {
        return fail_rv(err, MQTLS_ERR_PKCS11, rv, "%.200s: searching the token failed", shown);
    }
    if (count == 0) {
        *missing = true; /* the caller tries the next token */
        return MQTLS_OK;
    }
    if (count > 1) {
        return mqtls__net_fail(err, MQTLS_LAYER_CONFIG, MQTLS_ERR_PKCS11, 0,
                               "%.200s: several private keys match; name one with object= or "
                               "id=",
                               shown);
    }
    rv = key_facts(k);
    if (rv != CKR_OK) {
        return fail_rv(err, MQTLS_ERR_PKCS11, rv, "%.200s: reading the key's type failed", shown);
    }
    return MQTLS_OK;
}

/* Close the session of @p k (not the module). */
static void end_session(mqtls__p11_key_t *k)
{
    if (k->has_session) {
        if (k->logged_in) {
            (void)k->mod->C_Logout(k->session);
        }
        (void)k->mod->C_CloseSession(k->session);
    }
    k->has_session = false;
    k->logged_in = false;
}

/* Every token of the module that the URI matches, until one holds the key. */
static mqtls_status_t search_tokens(mqtls__p11_key_t *k, P11KitUri *u, const char *given,
                                    const char *shown, mqtls_error_t *err)
{
    CK_ULONG n = 0;
    CK_RV rv = k->mod->C_GetSlotList(CK_TRUE, NULL, &n);
    if (rv == CKR_CRYPTOKI_NOT_INITIALIZED) {
        /* Another user of the module in this process finalised it (libp11 does when OpenSSL's
         * pkcs11 ENGINE is released): initialise it again. */
        CK_C_INITIALIZE_ARGS args;
        memset(&args, 0, sizeof args);
        args.flags = CKF_OS_LOCKING_OK;
        rv = k->mod->C_Initialize(&args);
        if (rv == CKR_OK || rv == CKR_CRYPTOKI_ALREADY_INITIALIZED) {
            rv = k->mod->C_GetSlotList(CK_TRUE, NULL, &n);
        }
    }
    if (rv != CKR_OK) {
        return fail_rv(err, MQTLS_ERR_PKCS11, rv, "%s: listing the slots failed", shown);
    }
    CK_SLOT_ID *slots = calloc(n > 0 ? n : 1, sizeof *slots);
    if (slots == NULL) {
        return mqtls__net_fail(err, MQTLS_LAYER_CONFIG, MQTLS_ERR_NOMEM, ENOMEM, "slots");
    }
    rv = k->mod->C_GetSlotList(CK_TRUE, slots, &n);
    mqtls_status_t st = MQTLS_OK;
    bool missing = true;
    size_t tokens = 0;
    CK_SLOT_ID want_slot = p11_kit_uri_get_slot_id(u);
    for (CK_ULONG i = 0; rv == CKR_OK && i < n && st == MQTLS_OK && missing; i++) {
        CK_TOKEN_INFO ti;
        if (k->mod->C_GetTokenInfo(slots[i], &ti) != CKR_OK ||
            !p11_kit_uri_match_token_info(u, &ti) ||
            (want_slot != (CK_SLOT_ID)-1 && want_slot != slots[i])) {
            continue;
        }
        tokens++;
        CK_RV orv = k->mod->C_OpenSession(slots[i], CKF_SERIAL_SESSION, NULL, NULL, &k->session);
        if (orv != CKR_OK) {
            st = fail_rv(err, MQTLS_ERR_PKCS11, orv, "%.200s: opening a session failed", shown);
            break;
        }
        k->has_session = true;
        st = login_and_find(k, u, &ti, given, shown, &missing, err);
        if (st != MQTLS_OK || missing) {
            end_session(k);
        }
    }
    free(slots);
    if (rv != CKR_OK) {
        return fail_rv(err, MQTLS_ERR_PKCS11, rv, "%s: listing the slots failed", shown);
    }
    if (st == MQTLS_OK && missing) {
        return mqtls__net_fail(err, MQTLS_LAYER_CONFIG, MQTLS_ERR_PKCS11, 0,
                               tokens == 0 ? "%.200s: no token of the module matches the URI "
                                             "(p11tool --list-tokens, or softhsm2-util "
                                             "--show-slots)"
                                           : "%.200s: no private key on the token matches the "
                                             "URI (p11tool --list-privkeys --login URI)",
                               shown);
    }
    return st;
}

/* The modules loaded, by path. A module is initialised once per process and never finalised:
 * C_Finalize ends every session of the process, including those of another user of the same
 * module in it (OpenSSL's pkcs11 engine, a second mqtls context, the application), and a
 * module initialised by someone else answers CKR_CRYPTOKI_ALREADY_INITIALIZED, which is fine.
 * The process's exit releases them. */
#define P11_MODULES_MAX 8
static struct {
    char path[512];
    CK_FUNCTION_LIST *mod;
} modules[P11_MODULES_MAX];
static pthread_mutex_t modules_lock = PTHREAD_MUTEX_INITIALIZER;

static mqtls_status_t module_get(const char *path, CK_FUNCTION_LIST **out, mqtls_error_t *err)
{
    *out = NULL;
    if (strlen(path) >= sizeof modules[0].path) {
        return mqtls__net_fail(err, MQTLS_LAYER_CONFIG, MQTLS_ERR_INVALID_ARG, 0,
                               "PKCS#11 module path too long");
    }
    (void)pthread_mutex_lock(&modules_lock);
    mqtls_status_t st = MQTLS_OK;
    size_t i = 0;
    while (i < P11_MODULES_MAX && modules[i].mod != NULL && strcmp(modules[i].path, path) != 0) {
        i++;
    }
    if (i == P11_MODULES_MAX) {
        st = mqtls__net_fail(err, MQTLS_LAYER_CONFIG, MQTLS_ERR_PKCS11, 0,
                             "more than %d PKCS#11 modules in one process", P11_MODULES_MAX);
    } else if (modules[i].mod == NULL) {
        /* Unmanaged: the module's own functions, as any other user of it in this process
         * sees them (dlopen gives one copy). */
        CK_FUNCTION_LIST *m = p11_kit_module_load(path, P11_KIT_MODULE_UNMANAGED);
        if (m == NULL) {
            st = mqtls__net_fail(err, MQTLS_LAYER_CONFIG, MQTLS_ERR_PKCS11, 0,
                                 "PKCS#11 module %.200s cannot be loaded (not a PKCS#11 module, "
                                 "or a library it needs is missing: ldd %.200s)",
                                 path, path);
        } else {
            CK_C_INITIALIZE_ARGS args;
            memset(&args, 0, sizeof args);
            args.flags = CKF_OS_LOCKING_OK; /* several threads may sign */
            CK_RV rv = m->C_Initialize(&args);
            if (rv != CKR_OK && rv != CKR_CRYPTOKI_ALREADY_INITIALIZED) {
                p11_kit_module_release(m);
                st = fail_rv(err, MQTLS_ERR_PKCS11, rv,
                             "PKCS#11 module %.200s: C_Initialize failed", path);
            } else {
                (void)snprintf(modules[i].path, sizeof modules[i].path, "%s", path);
                modules[i].mod = m;
            }
        }
    }
    if (st == MQTLS_OK) {
        *out = modules[i].mod;
    }
    (void)pthread_mutex_unlock(&modules_lock);
    return st;
}

mqtls_status_t mqtls__p11_key_open(const char *uri, const char *module, const char *pin,
                                   mqtls_error_t *err, mqtls__p11_key_t **out)
{
    *out = NULL;
    P11KitUri *u = NULL;
    mqtls_status_t st = parse(uri, &u, err);
    if (st != MQTLS_OK) {
        return st;
    }
    char shown[512];
    mqtls__p11_uri_redact(uri, shown, sizeof shown);
    const char *path = module != NULL && module[0] != '\0' ? module : p11_kit_uri_get_module_path(u);
    if (path == NULL) {
        p11_kit_uri_free(u);
        return mqtls__net_fail(err, MQTLS_LAYER_CONFIG, MQTLS_ERR_INVALID_ARG, 0,
                               "%.200s: no PKCS#11 module given (--pkcs11-module PATH, "
                               "cfg.tls.pkcs11_module, or module-path= in the URI)",
                               shown);
    }
    if (access(path, R_OK) != 0) {
        int e = errno;
        p11_kit_uri_free(u);
        return mqtls__net_fail(err, MQTLS_LAYER_CONFIG, MQTLS_ERR_PKCS11, e,
                               "PKCS#11 module %.200s: %s", path, strerror(e));
    }
    mqtls__p11_key_t *k = calloc(1, sizeof *k);
    if (k == NULL) {
        p11_kit_uri_free(u);
        return mqtls__net_fail(err, MQTLS_LAYER_CONFIG, MQTLS_ERR_NOMEM, ENOMEM, "pkcs11");
    }
    (void)pthread_mutex_init(&k->lock, NULL);
    st = module_get(path, &k->mod, err);
    if (st != MQTLS_OK) {
        mqtls__p11_key_close(k);
        p11_kit_uri_free(u);
        return st;
    }
    st = search_tokens(k, u, pin, shown, err);
    p11_kit_uri_free(u);
    if (st != MQTLS_OK) {
        mqtls__p11_key_close(k);
        return st;
    }
    *out = k;
    return MQTLS_OK;
}

mqtls_status_t mqtls__p11_uri_split(const char *uri, const char *given, char *path,
                                    size_t path_cap, char *pin, size_t pin_cap, bool *has_pin,
                                    mqtls_error_t *err)
{
    *has_pin = false;
    P11KitUri *u = NULL;
    mqtls_status_t st = parse(uri, &u, err);
    if (st != MQTLS_OK) {
        return st;
    }
    char norm[P11_URI_MAX + 16];
    st = normalise(uri, norm, sizeof norm, err);
    if (st == MQTLS_OK) {
        norm[strcspn(norm, "?")] = '\0'; /* the query: pin-value, pin-source, module-path */
        if (snprintf(path, path_cap, "%s", norm) >= (int)path_cap) {
            st = mqtls__net_fail(err, MQTLS_LAYER_CONFIG, MQTLS_ERR_INVALID_ARG, 0,
                                 "pkcs11: URI too long");
        }
    }
    if (st == MQTLS_OK) {
        st = find_pin(u, given, pin, pin_cap, has_pin, err);
    }
    mqtls__tls_wipe(norm, sizeof norm);
    p11_kit_uri_free(u);
    return st;
}

mqtls__p11_key_type_t mqtls__p11_key_type(const mqtls__p11_key_t *k)
{
    return k->type;
}

size_t mqtls__p11_key_len(const mqtls__p11_key_t *k)
{
    return k->type == MQTLS__P11_KEY_RSA ? k->len : 0;
}

int mqtls__p11_sign_rsa_pkcs1(mqtls__p11_key_t *k, const uint8_t *in, size_t in_len,
                              uint8_t *sig, size_t sig_cap, size_t *sig_len)
{
    CK_MECHANISM mech = {CKM_RSA_PKCS, NULL, 0};
    CK_ULONG len = sig_cap;
    (void)pthread_mutex_lock(&k->lock); /* a session is used by one thread at a time */
    CK_RV rv = k->mod->C_SignInit(k->session, &mech, k->key);
    if (rv == CKR_OK) {
        rv = k->mod->C_Sign(k->session, (CK_BYTE *)(uintptr_t)in, in_len, sig, &len);
    }
    (void)pthread_mutex_unlock(&k->lock);
    *sig_len = rv == CKR_OK ? len : 0;
    return rv == CKR_OK ? 0 : -1;
}

void mqtls__p11_key_close(mqtls__p11_key_t *k)
{
    if (k == NULL) {
        return;
    }
    end_session(k); /* the module stays initialised: see module_get() */
    (void)pthread_mutex_destroy(&k->lock);
    free(k);
}
