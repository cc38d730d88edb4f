/* src/pki's errors and files: failures as mqtls_error_t, bounded reads, and writes that never
 * expose a key (O_EXCL, exact mode, no symlink followed). */
#include "mqtls/pki.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <mbedtls/error.h>

#include "mqtls/file.h"
#include "pki/pki_internal.h"

/* ---- errors ------------------------------------------------------------------------------ */

mqtls_status_t mqtls__pki_fail(mqtls_error_t *err, mqtls_status_t st, int mbed_ret, int sys_errno,
                               const char *fmt, ...)
{
    if (err == NULL) {
        return st;
    }
    memset(err, 0, sizeof *err);
    err->layer = MQTLS_LAYER_CONFIG;
    err->status = st;
    err->mbedtls_ret = mbed_ret;
    err->sys_errno = sys_errno;
    err->tls_alert = -1;
    err->connack_reason = -1;
    err->disconnect_reason = -1;
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(err->detail, sizeof err->detail, fmt, ap);
    va_end(ap);
    size_t used = n < 0 ? 0 : (size_t)n;
    if (used < sizeof err->detail && mbed_ret != 0) {
        char text[96];
        mbedtls_strerror(mbed_ret, text, sizeof text);
        (void)snprintf(err->detail + used, sizeof err->detail - used, ": mbedTLS -0x%04X %s",
                       (unsigned)-mbed_ret, text);
    } else if (used < sizeof err->detail && sys_errno != 0) {
        (void)snprintf(err->detail + used, sizeof err->detail - used, ": %s", strerror(sys_errno));
    }
    return st;
}

/* ---- files ------------------------------------------------------------------------------- */

mqtls_status_t mqtls__pki_read_file(const char *path, unsigned char **buf, size_t *len,
                                    mqtls_error_t *err)
{
    *buf = NULL;
    *len = 0;
    uint8_t *data = NULL;
    size_t used = 0;
    /* The library's one file reader (mqtls/file.h): regular files only, 1 MiB at most. */
    mqtls_status_t st = mqtls_file_read(path, MQTLS_FILE_CREDENTIAL_MAX, 0, &data, &used, err);
    if (st != MQTLS_OK) {
        return st;
    }
    if (used == 0) {
        mqtls_file_free(data, 0);
        return mqtls__pki_fail(err, MQTLS_ERR_FILE_EMPTY, 0, 0, "%s", path);
    }
    *buf = data; /* NUL-terminated by mqtls_file_read(); the callers free with free() */
    *len = used + 1;
    return MQTLS_OK;
}

/* Create @p path with O_EXCL so a key is never readable by others even for an instant and a
 * symlink planted at the path is not followed. With @p force the old file is unlinked first
 * (re-using it would keep its old, possibly wider, mode). */
mqtls_status_t mqtls__pki_write_new_file(const char *path, const unsigned char *data, size_t len,
                                         mode_t mode, int force, mqtls_error_t *err)
{
    if (force && unlink(path) != 0 && errno != ENOENT) {
        return mqtls__pki_fail(err, MQTLS_ERR_FILE_WRITE, 0, errno, "%s", path);
    }
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode);
    if (fd < 0) {
        int e = errno;
        return mqtls__pki_fail(err, e == EEXIST ? MQTLS_ERR_FILE_EXISTS : MQTLS_ERR_FILE_WRITE, 0,
                               e, "%s", path);
    }
    mqtls_status_t st = MQTLS_OK;
    /* umask can only remove bits; fchmod makes the mode exact (e.g. 0644 under umask 077). */
    if (fchmod(fd, mode) != 0) {
        st = mqtls__pki_fail(err, MQTLS_ERR_FILE_WRITE, 0, errno, "%s", path);
    }
    size_t off = 0;
    for (int tries = 0; st == MQTLS_OK && off < len && tries < 1000; tries++) {
        ssize_t n = write(fd, data + off, len - off);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            st = mqtls__pki_fail(err, MQTLS_ERR_FILE_WRITE, 0, errno, "%s", path);
            break;
        }
        off += (size_t)n;
    }
    if (st == MQTLS_OK && off < len) {
        st = mqtls__pki_fail(err, MQTLS_ERR_FILE_WRITE, 0, EIO, "%s", path);
    }
    if (close(fd) != 0 && st == MQTLS_OK) {
        st = mqtls__pki_fail(err, MQTLS_ERR_FILE_WRITE, 0, errno, "%s", path);
    }
    if (st != MQTLS_OK) {
        (void)unlink(path);
    }
    return st;
}

mqtls_status_t mqtls__pki_join_path(char *out, size_t cap, const char *dir, const char *base,
                                    const char *ext, mqtls_error_t *err)
{
    size_t dlen = strlen(dir);
    const char *sep = (dlen > 0 && dir[dlen - 1] == '/') ? "" : "/";
    int n = snprintf(out, cap, "%s%s%s%s", dir, sep, base, ext);
    if (n < 0 || (size_t)n >= cap) {
        return mqtls__pki_fail(err, MQTLS_ERR_INVALID_ARG, 0, 0, "path too long: %s", dir);
    }
    return MQTLS_OK;
}

/* A missing directory is the likeliest mistake: say so, with the fix. */
mqtls_status_t mqtls__pki_check_dir(const char *dir, mqtls_error_t *err)
{
    struct stat sb;
    if (stat(dir, &sb) != 0 || !S_ISDIR(sb.st_mode)) {
        return mqtls__pki_fail(err, MQTLS_ERR_FILE_WRITE, 0, 0,
                               "%s is not a directory (create it: mkdir -p %s)", dir, dir);
    }
    return MQTLS_OK;
}

/* Refuse before generating anything, so a refused run leaves no half-written set. */
mqtls_status_t mqtls__pki_check_outputs(const mqtls_pki_result_t *r, bool force, mqtls_error_t *err)
{
    const char *paths[] = {r->key_path, r->cert_path};
    for (size_t i = 0; i < 2; i++) {
        struct stat sb;
        if (lstat(paths[i], &sb) == 0) {
            if (!force) {
                return mqtls__pki_fail(err, MQTLS_ERR_FILE_EXISTS, 0, 0,
                                       "%s exists (use --force to overwrite)", paths[i]);
            }
            if (S_ISDIR(sb.st_mode)) {
                return mqtls__pki_fail(err, MQTLS_ERR_FILE_WRITE, 0, EISDIR, "%s", paths[i]);
            }
        }
    }
    return MQTLS_OK;
}
