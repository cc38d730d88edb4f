/* mqtls pki: make a correct CA / server / client certificate set (docs/cli/pki.md). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cli_util.h"
#include "commands.h"
#include "mqtls/pki.h"

#define PKI_MAX_NAMES 32

static const char usage_main[] =
    "usage: mqtls pki <command> [options]\n"
    "\n"
    "commands:\n"
    "  init DIR      create a CA: DIR/ca.crt, DIR/ca.key\n"
    "  server DIR    issue the broker certificate: DIR/server.crt, DIR/server.key\n"
    "  client DIR    issue a device certificate: DIR/<name>.crt, DIR/<name>.key\n"
    "  fleet DIR     issue N device certificates (dev-000001 ...) and a manifest\n"
    "  show FILE...  summarise certificates (every one in a chain) and keys\n"
    "\n"
    "'mqtls pki <command> --help' describes each. Keys are written with mode 0600;\n"
    "existing files are never overwritten without --force (exit code 4).\n";

static const char usage_init[] =
    "usage: mqtls pki init DIR [--name CN] [--ec | --rsa 2048|3072|4096] [--days N] [--force]\n"
    "\n"
    "Create a certificate authority in DIR (created if missing, as mkdir -p): DIR/ca.crt and\n"
    "DIR/ca.key.\n"
    "  --name CN     subject common name (default \"mqtls CA\")\n"
    "  --ec          ECDSA P-256 key (default)\n"
    "  --rsa BITS    RSA key of 2048, 3072 or 4096 bits\n"
    "  --days N      validity in days (default 3650 = 10 years)\n"
    "  --force       overwrite DIR/ca.crt and DIR/ca.key\n"
    "The CA has basicConstraints CA:TRUE and keyUsage keyCertSign, cRLSign (both critical).\n";

static const char usage_server[] =
    "usage: mqtls pki server DIR --name HOST [--ip ADDR]... [--dns NAME]... [--days N]\n"
    "                        [--ec | --rsa 2048|3072|4096] [--force]\n"
    "\n"
    "Issue the broker certificate, signed by DIR's CA: DIR/server.crt and DIR/server.key.\n"
    "  --name HOST   the host name clients connect to: CN and first subjectAltName\n"
    "                (an IP address here becomes an IP subjectAltName)\n"
    "  --dns NAME    another DNS subjectAltName (repeatable; \"*.example.com\" allowed)\n"
    "  --ip ADDR     an IPv4/IPv6 subjectAltName (repeatable), e.g. --ip 127.0.0.1\n"
    "  --days N      validity in days (default 825, never beyond the CA)\n"
    "  --ec / --rsa  key type; default: the same as the CA key\n"
    "  --force       overwrite DIR/server.crt and DIR/server.key\n"
    "Extended key usage serverAuth; keyUsage digitalSignature (+keyEncipherment for RSA).\n";

static const char usage_client[] =
    "usage: mqtls pki client DIR --name CLIENT_ID [--days N] [--ec | --rsa 2048|3072|4096]\n"
    "                        [--force]\n"
    "\n"
    "Issue a device certificate, signed by DIR's CA: DIR/<CLIENT_ID>.crt, DIR/<CLIENT_ID>.key.\n"
    "  --name ID     subject CN: the MQTT client id, and the user name with mosquitto's\n"
    "                use_identity_as_username; [A-Za-z0-9._-] only (it names the files)\n"
    "  --days N      validity in days (default 825, never beyond the CA)\n"
    "  --ec / --rsa  key type; default: the same as the CA key\n"
    "  --force       overwrite the two files\n"
    "Extended key usage clientAuth; keyUsage digitalSignature.\n";

static const char usage_fleet[] =
    "usage: mqtls pki fleet DIR --count N [--prefix P] [--first K] [--days N]\n"
    "                       [--backdate DAYS] [--threads T] [--force]\n"
    "\n"
    "Issue N device certificates signed by DIR's CA, on several threads: DIR/<P><number>.crt and\n"
    ".key (EC P-256, CN = the name, clientAuth), and the manifest of the directory's fleet,\n"
    "DIR/fleet.csv and DIR/fleet.json (id, cert, key, validity; `mqtls bench --fleet DIR`).\n"
    "  --count N       devices to issue (1 to 1000000)\n"
    "  --prefix P      name prefix (default \"dev-\"): dev-000001, dev-000002, ...\n"
    "  --first K       number of the first device (default 1)\n"
    "  --days N        validity in days (default 825, never beyond the CA)\n"
    "  --backdate D    start the validity D days in the past (with --days below D: expired\n"
    "                  certificates, to test how a broker and mqtls bench report them)\n"
    "  --threads T     signing threads (default: one per CPU)\n"
    "  --force         overwrite existing device files\n"
    "Manifest rows of other names are kept: several calls (prefixes) make one fleet.\n";

static const char usage_show[] =
    "usage: mqtls pki show FILE...\n"
    "\n"
    "Summarise each certificate (all of a chain file) and key: subject, issuer, SAN, key type\n"
    "and size, signature hash, validity and days left, CA flag, key usages, SHA-256\n"
    "fingerprint; for keys the type, size and whether encrypted. Key material is never shown.\n";

typedef struct {
    const char *dir;
    mqtls_pki_req_t req;
    const char *dns[PKI_MAX_NAMES];
    const char *ips[PKI_MAX_NAMES];
} pki_args_t;

/* Parse DIR and the options of init/server/client. Returns MQTLS_EXIT_OK to go on, or the exit
 * code to return (after printing help or a usage error). */
static int parse_args(const char *cmd, int argc, char **argv, pki_args_t *a, const char *usage)
{
    char object[32];
    (void)snprintf(object, sizeof object, "pki %s", cmd);
    const int is_server = strcmp(cmd, "server") == 0;
    const int is_ca = strcmp(cmd, "init") == 0;
    for (int i = 1; i < argc; i++) {
        const char *arg = argv[i];
        const char *val = NULL;
        int m;
        if (mqtls_cli_is_help(arg)) {
            fputs(usage, stdout);
            return -1;
        }
        if (strcmp(arg, "--force") == 0) {
            a->req.force = true;
        } else if (strcmp(arg, "--ec") == 0) {
            a->req.key_type = MQTLS_PKI_KEY_EC;
            a->req.rsa_bits = 0;
        } else if ((m = mqtls_cli_opt_value(argc, argv, &i, "--rsa", &val)) != 0) {
            unsigned long bits = 0;
            if (m < 0 || !mqtls_cli_parse_ulong(val, 2048, 4096, &bits) ||
                (bits != 2048 && bits != 3072 && bits != 4096)) {
                mqtls_cli_error("parse", object, "--rsa takes 2048, 3072 or 4096");
                return MQTLS_EXIT_USAGE;
            }
            a->req.key_type = MQTLS_PKI_KEY_RSA;
            a->req.rsa_bits = (unsigned)bits;
        } else if ((m = mqtls_cli_opt_value(argc, argv, &i, "--days", &val)) != 0) {
            unsigned long days = 0;
            if (m < 0 || !mqtls_cli_parse_ulong(val, 1, MQTLS_PKI_DAYS_MAX, &days)) {
                mqtls_cli_error("parse", object, "--days takes a number from 1 to %u",
                                MQTLS_PKI_DAYS_MAX);
                return MQTLS_EXIT_USAGE;
            }
            a->req.days = (unsigned)days;
        } else if ((m = mqtls_cli_opt_value(argc, argv, &i, "--name", &val)) != 0) {
            if (m < 0 || val[0] == '\0') {
                mqtls_cli_error("parse", object, "--name needs a value");
                return MQTLS_EXIT_USAGE;
            }
            a->req.name = val;
        } else if (is_server && ((m = mqtls_cli_opt_value(argc, argv, &i, "--dns", &val)) != 0 ||
                                 (m = mqtls_cli_opt_value(argc, argv, &i, "--ip", &val)) != 0)) {
            const int is_ip = strncmp(arg, "--ip", 4) == 0;
            size_t *count = is_ip ? &a->req.ip_count : &a->req.dns_count;
            if (m < 0) {
                mqtls_cli_error("parse", object, "%s needs a value", is_ip ? "--ip" : "--dns");
                return MQTLS_EXIT_USAGE;
            }
            if (*count >= PKI_MAX_NAMES) {
                mqtls_cli_error("parse", object, "at most %d --dns and %d --ip", PKI_MAX_NAMES,
                                PKI_MAX_NAMES);
                return MQTLS_EXIT_USAGE;
            }
            (is_ip ? a->ips : a->dns)[(*count)++] = val;
        } else if (arg[0] == '-' && arg[1] != '\0') {
            mqtls_cli_error("parse", object, "unknown option '%s' (see 'mqtls pki %s --help')", arg,
                            cmd);
            return MQTLS_EXIT_USAGE;
        } else if (a->dir == NULL) {
            a->dir = arg;
        } else {
            mqtls_cli_error("parse", object, "unexpected argument '%s' (one DIR only)", arg);
            return MQTLS_EXIT_USAGE;
        }
    }
    if (a->dir == NULL) {
        mqtls_cli_error("parse", object, "the PKI directory is missing (see 'mqtls pki %s --help')",
                        cmd);
        return MQTLS_EXIT_USAGE;
    }
    if (!is_ca && a->req.name == NULL) {
        mqtls_cli_error("parse", object, "--name is required (see 'mqtls pki %s --help')", cmd);
        return MQTLS_EXIT_USAGE;
    }
    a->req.dir = a->dir;
    a->req.dns = a->dns;
    a->req.ips = a->ips;
    return MQTLS_EXIT_OK;
}

/* Absolute directory for printed configuration (mosquitto resolves relative paths against its
 * own working directory, not ours). Caller frees. */
static char *absolute_dir(const char *dir)
{
    char cwd[1024];
    const int relative = dir[0] != '/' && getcwd(cwd, sizeof cwd) != NULL;
    size_t n = (relative ? strlen(cwd) + 1 : 0) + strlen(dir) + 1;
    char *abs = malloc(n);
    if (abs == NULL) {
        return NULL;
    }
    /* "./pki" -> "<cwd>/pki"; other ".." components are kept (still correct, just longer). */
    const char *d = (dir[0] == '.' && dir[1] == '/') ? dir + 2 : dir;
    if (relative && strcmp(dir, ".") == 0) {
        d = "";
    }
    (void)snprintf(abs, n, "%s%s%s", relative ? cwd : "", relative && d[0] != '\0' ? "/" : "", d);
    size_t len = strlen(abs);
    while (len > 1 && abs[len - 1] == '/') {
        abs[--len] = '\0';
    }
    return abs;
}

static void print_written(const mqtls_pki_result_t *res)
{
    printf("wrote %s\n", res->cert_path);
    printf("wrote %s (mode 0600, unencrypted: keep it private)\n", res->key_path);
}

static void print_mosquitto_conf(const char *dir)
{
    char *abs = absolute_dir(dir);
    const char *d = abs != NULL ? abs : dir;
    printf("\nmosquitto.conf, a mutual-TLS listener (clients must present a certificate from "
           "this CA):\n"
           "  listener 8883\n"
           "  cafile %s/ca.crt\n"
           "  certfile %s/server.crt\n"
           "  keyfile %s/server.key\n"
           "  require_certificate true\n"
           "  use_identity_as_username true\n"
           "  tls_version tlsv1.2\n"
           "(mosquitto must be able to read server.key: it is mode 0600, owned by you.)\n",
           d, d, d);
    free(abs);
}

/* ESP-IDF names an embedded file's symbols after its file name with every character that is
 * not a letter or digit replaced by '_': certs/device-001.crt -> _binary_device_001_crt_start. */
static void esp_symbol(const char *file, char *out, size_t cap)
{
    size_t o = 0;
    for (size_t i = 0; file[i] != '\0' && o + 1 < cap; i++) {
        char c = file[i];
        int alnum = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
        out[o++] = alnum ? c : '_';
    }
    out[o] = '\0';
}

static void print_client_usage(const char *dir, const char *name)
{
    char host[256];
    if (mqtls_pki_server_host(dir, host, sizeof host) != MQTLS_OK) {
        (void)snprintf(host, sizeof host, "%s", "broker.local");
    }
    char crt[160];
    char key[160];
    char sym_crt[160];
    char sym_key[160];
    (void)snprintf(crt, sizeof crt, "%s.crt", name);
    (void)snprintf(key, sizeof key, "%s.key", name);
    esp_symbol(crt, sym_crt, sizeof sym_crt);
    esp_symbol(key, sym_key, sizeof sym_key);
    printf("\nESP-IDF: copy ca.crt, %s and %s into main/certs/, then in main/CMakeLists.txt:\n"
           "  idf_component_register(SRCS \"main.c\" INCLUDE_DIRS \".\"\n"
           "      EMBED_TXTFILES \"certs/ca.crt\" \"certs/%s\" \"certs/%s\")\n"
           "(EMBED_TXTFILES, not EMBED_FILES: it appends the NUL byte mbedTLS needs to parse "
           "PEM.)\n"
           "In main.c:\n"
           "  extern const uint8_t ca_crt_start[] asm(\"_binary_ca_crt_start\");\n"
           "  extern const uint8_t client_crt_start[] asm(\"_binary_%s_start\");\n"
           "  extern const uint8_t client_key_start[] asm(\"_binary_%s_start\");\n"
           "  const esp_mqtt_client_config_t cfg = {\n"
           "      .broker.address.uri = \"mqtts://%s:8883\",\n"
           "      .broker.verification.certificate = (const char *)ca_crt_start,\n"
           "      .credentials.client_id = \"%s\",\n"
           "      .credentials.authentication.certificate = (const char *)client_crt_start,\n"
           "      .credentials.authentication.key = (const char *)client_key_start,\n"
           "  };\n",
           crt, key, crt, key, sym_crt, sym_key, host, name);
    char *abs = absolute_dir(dir);
    const char *d = abs != NULL ? abs : dir;
    printf("\nTry it from this machine:\n"
           "  mqtls pub --cafile %s/ca.crt --cert %s/%s --key %s/%s -h %s -p 8883 -i %s "
           "-t devices/%s/hello -m hello\n",
           d, d, crt, d, key, host, name, name);
    free(abs);
}

/* `mqtls pki init` makes its directory as mkdir -p would: each missing parent and DIR itself,
 * with the umask's permissions (the keys inside are 0600 whatever they are). */
static int mkdir_p(const char *dir)
{
    char path[4096];
    int n = snprintf(path, sizeof path, "%s", dir);
    if (n <= 0 || (size_t)n >= sizeof path) {
        errno = ENAMETOOLONG;
        return -1;
    }
    for (char *p = path + 1; *p != '\0'; p++) {
        if (*p == '/') {
            *p = '\0';
            if (mkdir(path, 0777) != 0 && errno != EEXIST) {
                return -1;
            }
            *p = '/';
        }
    }
    struct stat st;
    if (mkdir(path, 0777) != 0 && (errno != EEXIST || stat(path, &st) != 0)) {
        return -1;
    }
    return 0;
}

static int run_init(int argc, char **argv)
{
    pki_args_t a;
    memset(&a, 0, sizeof a);
    mqtls_pki_req_init(&a.req);
    int rc = parse_args("init", argc, argv, &a, usage_init);
    if (rc != MQTLS_EXIT_OK) {
        return rc < 0 ? MQTLS_EXIT_OK : rc;
    }
    if (mkdir_p(a.dir) != 0) {
        mqtls_cli_error("create", a.dir, "%s", strerror(errno));
        return MQTLS_EXIT_FILE;
    }
    mqtls_pki_result_t res;
    mqtls_error_t err;
    memset(&err, 0, sizeof err);
    mqtls_status_t st = mqtls_pki_create_ca(&a.req, &res, &err);
    if (st != MQTLS_OK) {
        mqtls_cli_status_error("create", "ca", st, &err);
        return mqtls_cli_exit_code(st);
    }
    print_written(&res);
    printf("\nnext: mqtls pki server %s --name broker.local --ip 127.0.0.1\n"
           "      mqtls pki client %s --name device-001\n",
           a.dir, a.dir);
    print_mosquitto_conf(a.dir);
    return MQTLS_EXIT_OK;
}

static int run_issue(const char *cmd, mqtls_pki_kind_t kind, int argc, char **argv,
                     const char *usage)
{
    pki_args_t a;
    memset(&a, 0, sizeof a);
    mqtls_pki_req_init(&a.req);
    int rc = parse_args(cmd, argc, argv, &a, usage);
    if (rc != MQTLS_EXIT_OK) {
        return rc < 0 ? MQTLS_EXIT_OK : rc;
    }
    mqtls_pki_result_t res;
    mqtls_error_t err;
    memset(&err, 0, sizeof err);
    mqtls_status_t st = mqtls_pki_issue(kind, &a.req, &res, &err);
    if (st != MQTLS_OK) {
        mqtls_cli_status_error(
            "issue", kind == MQTLS_PKI_SERVER ? "server certificate" : "client certificate", st,
            &err);
        return mqtls_cli_exit_code(st);
    }
    print_written(&res);
    if (kind == MQTLS_PKI_SERVER) {
        print_mosquitto_conf(a.dir);
    } else {
        print_client_usage(a.dir, a.req.name);
    }
    return MQTLS_EXIT_OK;
}

/* The numeric options of `pki fleet`, in the order of numbers[] in run_fleet(). */
enum { FLEET_COUNT, FLEET_FIRST, FLEET_DAYS, FLEET_BACKDATE, FLEET_THREADS, FLEET_NUMBERS };
static const struct {
    const char *name;
    unsigned long max;
} fleet_numbers[FLEET_NUMBERS] = {
    [FLEET_COUNT] = {"--count", MQTLS_PKI_FLEET_MAX},
    [FLEET_FIRST] = {"--first", 4000000000ul},
    [FLEET_DAYS] = {"--days", MQTLS_PKI_DAYS_MAX},
    [FLEET_BACKDATE] = {"--backdate", MQTLS_PKI_DAYS_MAX},
    [FLEET_THREADS] = {"--threads", 64ul},
};

/* Which numeric option argv[*i] is (its value in *val, *m as mqtls_cli_opt_value()), or -1. */
static int fleet_number_option(int argc, char **argv, int *i, const char **val, int *m)
{
    for (int k = 0; k < FLEET_NUMBERS; k++) {
        *m = mqtls_cli_opt_value(argc, argv, i, fleet_numbers[k].name, val);
        if (*m != 0) {
            return k;
        }
    }
    return -1;
}

/* `pki fleet DIR --count N ...`: parsed here (its options are not those of init/client). */
static int run_fleet(int argc, char **argv)
{
    mqtls_pki_fleet_req_t req;
    mqtls_pki_fleet_req_init(&req);
    unsigned long numbers[FLEET_NUMBERS] = {0};
    for (int i = 1; i < argc; i++) {
        const char *arg = argv[i];
        const char *val = NULL;
        unsigned long v = 0;
        int m = 0;
        int k;
        if (mqtls_cli_is_help(arg)) {
            fputs(usage_fleet, stdout);
            return MQTLS_EXIT_OK;
        }
        if (strcmp(arg, "--force") == 0) {
            req.force = true;
        } else if ((m = mqtls_cli_opt_value(argc, argv, &i, "--prefix", &val)) != 0) {
            if (m < 0 || val[0] == '\0') {
                mqtls_cli_error("parse", "pki fleet", "--prefix needs a value");
                return MQTLS_EXIT_USAGE;
            }
            req.prefix = val;
        } else if ((k = fleet_number_option(argc, argv, &i, &val, &m)) >= 0) {
            if (m < 0 || !mqtls_cli_parse_ulong(val, 1, fleet_numbers[k].max, &v)) {
                mqtls_cli_error("parse", "pki fleet", "%s takes a number from 1 to %lu",
                                fleet_numbers[k].name, fleet_numbers[k].max);
                return MQTLS_EXIT_USAGE;
            }
            numbers[k] = v;
        } else if (arg[0] == '-' && arg[1] != '\0') {
            mqtls_cli_error("parse", "pki fleet",
                            "unknown option '%s' (see 'mqtls pki fleet --help')", arg);
            return MQTLS_EXIT_USAGE;
        } else if (req.dir == NULL) {
            req.dir = arg;
        } else {
            mqtls_cli_error("parse", "pki fleet", "unexpected argument '%s' (one DIR only)", arg);
            return MQTLS_EXIT_USAGE;
        }
    }
    req.count = (uint32_t)numbers[FLEET_COUNT];
    req.first = (uint32_t)numbers[FLEET_FIRST];
    req.days = (unsigned)numbers[FLEET_DAYS];
    req.threads = (unsigned)numbers[FLEET_THREADS];
    unsigned long backdate = numbers[FLEET_BACKDATE];
    if (req.dir == NULL || req.count == 0) {
        mqtls_cli_error("parse", "pki fleet", "%s is required (see 'mqtls pki fleet --help')",
                        req.dir == NULL ? "DIR" : "--count N");
        return MQTLS_EXIT_USAGE;
    }
    if (backdate > 0) {
        req.now_s = (int64_t)time(NULL) - (int64_t)backdate * 86400;
    }
    mqtls_pki_fleet_result_t res;
    mqtls_error_t err;
    mqtls_error_init(&err);
    int64_t t0 = cli_now_ms();
    mqtls_status_t st = mqtls_pki_issue_fleet(&req, &res, &err);
    if (st != MQTLS_OK) {
        mqtls_cli_status_error("issue", "fleet", st, &err);
        return mqtls_cli_exit_code(st);
    }
    double s = (double)(cli_now_ms() - t0) / 1000.0;
    const char *prefix = req.prefix != NULL ? req.prefix : MQTLS_PKI_FLEET_PREFIX_DEFAULT;
    unsigned long first = req.first != 0 ? req.first : 1ul;
    printf("wrote %lu device certificates and keys (%s%06lu .. %s%06lu) in %.1f s on %u "
           "thread%s (%.0f/s)\n",
           (unsigned long)res.issued, prefix, first, prefix, first + res.issued - 1ul, s,
           res.threads, res.threads == 1 ? "" : "s", s > 0 ? (double)res.issued / s : 0.0);
    printf("manifest: %s, %s\n", res.manifest_csv, res.manifest_json);
    if (backdate > 0) {
        printf("validity starts %lu days ago%s\n", backdate,
               req.days != 0 && req.days < backdate ? ": these certificates have EXPIRED" : "");
    }
    return MQTLS_EXIT_OK;
}

static void print_line(void *ctx, const char *line)
{
    fprintf((FILE *)ctx, "%s\n", line);
}

static int run_show(int argc, char **argv)
{
    int files = 0;
    int rc = MQTLS_EXIT_OK;
    for (int i = 1; i < argc; i++) {
        if (mqtls_cli_is_help(argv[i])) {
            fputs(usage_show, stdout);
            return MQTLS_EXIT_OK;
        }
        if (argv[i][0] == '-' && argv[i][1] != '\0') {
            mqtls_cli_error("parse", "pki show", "unknown option '%s'", argv[i]);
            return MQTLS_EXIT_USAGE;
        }
    }
    for (int i = 1; i < argc; i++) {
        if (files++ > 0) {
            printf("\n");
        }
        mqtls_error_t err;
        memset(&err, 0, sizeof err);
        mqtls_status_t st = mqtls_pki_show(argv[i], 0, print_line, stdout, &err);
        if (st != MQTLS_OK) {
            fflush(stdout);
            mqtls_cli_status_error("show", argv[i], st, &err);
            rc = mqtls_cli_exit_code(st);
        }
    }
    if (files == 0) {
        mqtls_cli_error("parse", "pki show", "no FILE given (see 'mqtls pki show --help')");
        return MQTLS_EXIT_USAGE;
    }
    return rc;
}

int mqtls_cmd_pki(int argc, char **argv)
{
    if (argc < 2) {
        fputs(usage_main, stderr);
        return MQTLS_EXIT_USAGE;
    }
    const char *cmd = argv[1];
    if (mqtls_cli_is_help(cmd) || strcmp(cmd, "help") == 0) {
        fputs(usage_main, stdout);
        return MQTLS_EXIT_OK;
    }
    if (strcmp(cmd, "init") == 0) {
        return run_init(argc - 1, argv + 1);
    }
    if (strcmp(cmd, "server") == 0) {
        return run_issue("server", MQTLS_PKI_SERVER, argc - 1, argv + 1, usage_server);
    }
    if (strcmp(cmd, "client") == 0) {
        return run_issue("client", MQTLS_PKI_CLIENT, argc - 1, argv + 1, usage_client);
    }
    if (strcmp(cmd, "fleet") == 0) {
        return run_fleet(argc - 1, argv + 1);
    }
    if (strcmp(cmd, "show") == 0) {
        return run_show(argc - 1, argv + 1);
    }
    mqtls_cli_error("parse", "pki", "unknown command '%s' (init, server, client, fleet, show)",
                    cmd);
    return MQTLS_EXIT_USAGE;
}
