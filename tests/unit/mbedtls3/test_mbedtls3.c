/* mbedTLS 3.6 (renamed, static) and 2.28 (Debian's shared library) in one executable: each
 * side reports its own version, parses the same certificate, judges a SHA-1 signature by its
 * own default profile, and the 3.6 side completes a TLS 1.3 handshake with openssl s_server on
 * 127.0.0.1. The PKI is generated at test time (tests/harness/make-pki.sh + openssl). */
#include <setjmp.h> /* cmocka needs these first */
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "harness.h"
#include "sides.h"

typedef struct fixture {
    th_pki_t pki;
    char sha1_crt[TH_PATH_MAX]; /* CN=sha1-leaf, signed by ca.key with sha1WithECDSA */
    char *ca_pem, *server_pem, *sha1_pem;
    size_t server_len;
} fixture_t;

static fixture_t fx;

static int run(char *const argv[])
{
    pid_t pid = fork();
    if (pid < 0) {
        return -1;
    }
    if (pid == 0) {
        int null = open("/dev/null", O_RDWR);
        if (null >= 0) {
            (void)dup2(null, STDIN_FILENO);
            (void)dup2(null, STDOUT_FILENO);
            (void)dup2(null, STDERR_FILENO); /* openssl x509 -req chats on stderr */
        }
        execvp(argv[0], argv);
        _exit(127);
    }
    int status = 0;
    while (waitpid(pid, &status, 0) < 0) {
        if (errno != EINTR) {
            return -1;
        }
    }
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

static char *read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        return NULL;
    }
    char *buf = NULL;
    if (fseek(f, 0, SEEK_END) == 0) {
        long size = ftell(f);
        if (size > 0 && fseek(f, 0, SEEK_SET) == 0) {
            buf = malloc((size_t)size + 1);
            if (buf != NULL && fread(buf, 1, (size_t)size, f) == (size_t)size) {
                buf[size] = '\0';
                if (len != NULL) {
                    *len = (size_t)size;
                }
            } else {
                free(buf);
                buf = NULL;
            }
        }
    }
    fclose(f);
    return buf;
}

static void path_in(char *out, const char *dir, const char *name)
{
    int n = snprintf(out, TH_PATH_MAX, "%s/%s", dir, name);
    if (n < 0 || n >= TH_PATH_MAX) {
        out[0] = '\0';
    }
}

static int group_setup(void **state)
{
    (void)state;
    if (th_pki_make(&fx.pki) != 0) {
        return -1;
    }
    /* A leaf signed with SHA-1 by the (good, P-256) test CA. */
    char key[TH_PATH_MAX], csr[TH_PATH_MAX];
    path_in(key, fx.pki.dir, "sha1.key");
    path_in(csr, fx.pki.dir, "sha1.csr");
    path_in(fx.sha1_crt, fx.pki.dir, "sha1.crt");
    char *genkey[] = {"openssl", "genpkey",  "-algorithm",
                      "EC",      "-pkeyopt", "ec_paramgen_curve:P-256",
                      "-out",    key,        NULL};
    char *req[] = {"openssl", "req",           "-new", "-key", key,
                   "-subj",   "/CN=sha1-leaf", "-out", csr,    NULL};
    char *sign[] = {"openssl",     "x509",   "-req",        "-in",         csr,    "-CA",
                    fx.pki.ca_crt, "-CAkey", fx.pki.ca_key, "-set_serial", "4242", "-days",
                    "30",          "-sha1",  "-out",        fx.sha1_crt,   NULL};
    if (run(genkey) != 0 || run(req) != 0 || run(sign) != 0) {
        fprintf(stderr, "openssl could not make the SHA-1 signed certificate\n");
        return -1;
    }
    fx.ca_pem = read_file(fx.pki.ca_crt, NULL);
    fx.server_pem = read_file(fx.pki.server_crt, &fx.server_len);
    fx.sha1_pem = read_file(fx.sha1_crt, NULL);
    return fx.ca_pem != NULL && fx.server_pem != NULL && fx.sha1_pem != NULL ? 0 : -1;
}

static int group_teardown(void **state)
{
    (void)state;
    free(fx.ca_pem);
    free(fx.server_pem);
    free(fx.sha1_pem);
    th_pki_remove(&fx.pki);
    return 0;
}

static void test_mbedtls3_versions_each_side_reports_its_own(void **state)
{
    (void)state;
    const char *v3 = side3_version_string();
    const char *v2 = side2_version_string();
    print_message("mbedTLS run-time versions: 3.6 side %s, 2.28 side %s\n", v3, v2);
    assert_int_equal(strncmp(v3, "3.6.", 4), 0);
    assert_int_equal(strncmp(v2, "2.28.", 5), 0);
    assert_int_equal(side3_header_version() >> 16, 0x0306);
    assert_int_equal(side2_header_version() >> 16, 0x021C);
    /* Two functions, not one resolved twice: the 3.6 one is mqtls3_mbedtls_version_get_string. */
    assert_true(side3_version_fn() != side2_version_fn());
}

static void test_mbedtls3_self_tests_pass(void **state)
{
    (void)state;
    assert_int_equal(side3_self_tests(), 0);
}

static void test_mbedtls3_same_pem_parses_on_both_sides(void **state)
{
    (void)state;
    side_cert_t c3, c2;
    assert_int_equal(side3_parse(fx.server_pem, fx.server_len, &c3), 0);
    assert_int_equal(side2_parse(fx.server_pem, fx.server_len, &c2), 0);
    assert_string_equal(c3.subject, "CN=localhost");
    assert_string_equal(c3.subject, c2.subject);
    assert_string_equal(c3.issuer, "CN=mqtls test CA");
    assert_string_equal(c3.issuer, c2.issuer);
    assert_true(c3.serial[0] != '\0');
    assert_string_equal(c3.serial, c2.serial);
}

static void test_mbedtls3_chain_verifies_on_both_sides(void **state)
{
    (void)state;
    uint32_t f3 = 0xFFFFFFFF, f2 = 0xFFFFFFFF;
    assert_int_equal(side3_verify(fx.ca_pem, fx.server_pem, "localhost", 0, &f3), 0);
    assert_int_equal(f3, 0);
    assert_int_equal(side2_verify(fx.ca_pem, fx.server_pem, "localhost", 0, &f2), 0);
    assert_int_equal(f2, 0);
}

/* The device profiles are the real libraries' defaults, each in its own version's numbers (the
 * identifiers of hashes and curves differ between 2.28 and 3.6). */
static void test_mbedtls3_device_profiles_are_each_library_default(void **state)
{
    (void)state;
    assert_int_equal(side3_profile_is_library_default("esp-idf-5"), 1);
    assert_int_equal(side3_profile_is_library_default("mbedtls3-default"), 1);
    assert_int_equal(side3_profile_is_library_default("mbedtls-default"), 1); /* the newest */
    assert_int_equal(side3_profile_is_library_default("esp-idf-4"), 0);
    assert_int_equal(side2_profile_is_library_default("esp-idf-4"), 1);
    assert_int_equal(side2_profile_is_library_default("mbedtls2-default"), 1);
    assert_int_equal(side2_profile_is_library_default("esp-idf-5"), 0);
    assert_int_equal(side3_profile_is_library_default("no-such"), -1);
}

static void test_mbedtls3_sha1_signature_rejected_by_both_default_profiles(void **state)
{
    (void)state;
    char text[512];
    uint32_t f3 = 0, f2 = 0;
    /* 3.6's default profile: SHA-2 only. */
    int rc3 = side3_verify(fx.ca_pem, fx.sha1_pem, NULL, 0, &f3);
    side3_flags_text(f3, text, sizeof text);
    print_message("3.6 default profile, SHA-1 leaf: rc -0x%04X, flags 0x%08X: %s", (unsigned)-rc3,
                  f3, text);
    assert_int_not_equal(rc3, 0);
    assert_int_equal(f3, side3_flag_bad_md());
    /* 2.28's default profile: also SHA-2 only (its config has no switch to allow SHA-1 in
     * certificates, and Debian's build keeps the profile). Same code, same flag value. */
    int rc2 = side2_verify(fx.ca_pem, fx.sha1_pem, NULL, 0, &f2);
    side2_flags_text(f2, text, sizeof text);
    print_message("2.28 default profile, SHA-1 leaf: rc -0x%04X, flags 0x%08X: %s", (unsigned)-rc2,
                  f2, text);
    assert_int_equal(rc2, rc3);
    assert_int_equal(f2, side2_flag_bad_md());
    assert_int_equal(side2_flag_bad_md(), side3_flag_bad_md());
    /* The digest is the only objection: the default profile plus SHA-1 accepts the leaf. */
    assert_int_equal(side3_verify(fx.ca_pem, fx.sha1_pem, NULL, 1, &f3), 0);
    assert_int_equal(f3, 0);
    assert_int_equal(side2_verify(fx.ca_pem, fx.sha1_pem, NULL, 1, &f2), 0);
    assert_int_equal(f2, 0);
}

/* ---- openssl s_server -tls1_3 on 127.0.0.1, started and stopped by PID ---- */

typedef struct server {
    pid_t pid;
    uint16_t port;
    char log[TH_PATH_MAX];
} server_t;

static server_t srv;

static int wait_exit(pid_t pid, int timeout_ms)
{
    int64_t deadline = th_now_ms() + timeout_ms;
    do {
        pid_t r = waitpid(pid, NULL, WNOHANG);
        if (r == pid || (r < 0 && errno == ECHILD)) {
            return 0;
        }
        struct timespec ts = {.tv_sec = 0, .tv_nsec = 20 * 1000000L};
        nanosleep(&ts, NULL);
    } while (th_now_ms() < deadline);
    return -1;
}

static void server_stop(server_t *s)
{
    if (s->pid > 0) {
        kill(s->pid, SIGTERM);
        if (wait_exit(s->pid, 5000) != 0) {
            kill(s->pid, SIGKILL);
            (void)wait_exit(s->pid, 5000);
        }
        s->pid = 0;
    }
}

static pid_t spawn_s_server(uint16_t port, const char *log)
{
    char accept[32];
    snprintf(accept, sizeof accept, "127.0.0.1:%u", (unsigned)port);
    pid_t pid = fork();
    if (pid != 0) {
        return pid;
    }
    int null = open("/dev/null", O_RDONLY);
    int out = open(log, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    if (null >= 0) {
        (void)dup2(null, STDIN_FILENO);
    }
    if (out >= 0) {
        (void)dup2(out, STDOUT_FILENO);
        (void)dup2(out, STDERR_FILENO);
    }
    /* -www: answers GET with a status page and never reads stdin. */
    char *argv[] = {"openssl",         "s_server", "-accept",         accept, "-tls1_3", "-cert",
                    fx.pki.server_crt, "-key",     fx.pki.server_key, "-www", NULL};
    execvp(argv[0], argv);
    _exit(127);
}

static int server_setup(void **state)
{
    (void)state;
    memset(&srv, 0, sizeof srv);
    path_in(srv.log, fx.pki.dir, "s_server.log");
    for (int attempt = 0; attempt < 3; attempt++) { /* a port taken meanwhile: try another */
        srv.port = th_free_port();
        srv.pid = spawn_s_server(srv.port, srv.log);
        if (srv.pid < 0) {
            return -1;
        }
        int64_t deadline = th_now_ms() + 10000;
        while (th_now_ms() < deadline) {
            if (waitpid(srv.pid, NULL, WNOHANG) == srv.pid) {
                srv.pid = 0; /* exited: bind failed */
                break;
            }
            if (th_wait_port(srv.port, 50) == 0) {
                return 0;
            }
        }
        server_stop(&srv);
    }
    fprintf(stderr, "openssl s_server did not start; log %s\n", srv.log);
    return -1;
}

static int server_teardown(void **state)
{
    (void)state;
    server_stop(&srv);
    return 0;
}

static void test_mbedtls3_tls13_handshake_with_openssl_s_server(void **state)
{
    (void)state;
    side_tls_result_t r;
    side3_tls_get(srv.port, fx.ca_pem, "localhost", 10000, &r);
    print_message("3.6 client -> s_server -tls1_3: %s, %s, %d ticket(s), step %s, rc -0x%04X, "
                  "verify 0x%08X\n",
                  r.version, r.ciphersuite, r.tickets, r.step, (unsigned)-r.rc, r.verify_flags);
    if (r.rc != 0) {
        char *log = read_file(srv.log, NULL);
        fprintf(stderr, "s_server log:\n%s\n", log != NULL ? log : "(none)");
        free(log);
    }
    assert_int_equal(r.rc, 0);
    assert_int_equal(r.verify_flags, 0);
    assert_string_equal(r.version, "TLSv1.3");
    assert_true(strncmp(r.ciphersuite, "TLS1-3-", 7) == 0);
    assert_true(r.tickets >= 1); /* OpenSSL sends NewSessionTicket after the handshake */
    assert_true(strncmp(r.reply, "HTTP/1.0 200 ok", 15) == 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_mbedtls3_versions_each_side_reports_its_own),
        cmocka_unit_test(test_mbedtls3_self_tests_pass),
        cmocka_unit_test(test_mbedtls3_same_pem_parses_on_both_sides),
        cmocka_unit_test(test_mbedtls3_chain_verifies_on_both_sides),
        cmocka_unit_test(test_mbedtls3_device_profiles_are_each_library_default),
        cmocka_unit_test(test_mbedtls3_sha1_signature_rejected_by_both_default_profiles),
        cmocka_unit_test_setup_teardown(test_mbedtls3_tls13_handshake_with_openssl_s_server,
                                        server_setup, server_teardown),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
