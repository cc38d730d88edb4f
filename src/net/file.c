/* The one reader of credential and payload files (mqtls/file.h): non-blocking open, the type
 * checked on the open descriptor (no FIFO hangs us, no directory is "read"), a size limit
 * before and while reading. creds.c, the runtime's diagnosis cache, src/pki, the tool and the
 * esp-mqtt shim all read files through it. */
#include "mqtls/file.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "net/net.h"

/* First buffer for a stream (its size is unknown); it doubles up to the limit. */
#define STREAM_FIRST_CAP 16384u

static const char *kind_name(mode_t m)
{
    if (S_ISDIR(m)) {
        return "a directory";
    }
    if (S_ISFIFO(m)) {
        return "a FIFO (named pipe)";
    }
    if (S_ISSOCK(m)) {
        return "a socket";
    }
    if (S_ISCHR(m)) {
        return "a character device";
    }
    if (S_ISBLK(m)) {
        return "a block device";
    }
    return "not a regular file";
}

static bool kind_allowed(mode_t m, unsigned flags)
{
    return S_ISREG(m) || (S_ISCHR(m) && (flags & MQTLS_FILE_CHAR_DEVICE) != 0) ||
           ((S_ISFIFO(m) || S_ISSOCK(m)) && (flags & MQTLS_FILE_STREAM) != 0);
}

static mqtls_status_t too_large(mqtls_error_t *err, const char *name, size_t max_len)
{
    return mqtls__net_fail(err, MQTLS_LAYER_CONFIG, MQTLS_ERR_FILE_TOO_LARGE, EFBIG,
                           "%s: larger than the limit of %zu bytes", name, max_len);
}

/* Read @p fd to its end, at most max_len bytes (one more tells "longer"). */
static mqtls_status_t read_all(int fd, const char *name, size_t max_len, size_t first_cap,
                               uint8_t **out, size_t *len, mqtls_error_t *err)
{
    size_t cap = first_cap > 256u ? first_cap : 256u; /* st_size 0: /proc files have content */
    cap = cap < max_len ? cap : max_len;
    uint8_t *buf = malloc(cap + 2u); /* +1: the byte past the limit, +1: the NUL */
    if (buf == NULL) {
        return mqtls__net_fail(err, MQTLS_LAYER_CONFIG, MQTLS_ERR_NOMEM, ENOMEM, "%s", name);
    }
    size_t used = 0;
    mqtls_status_t st = MQTLS_OK;
    for (;;) {
        if (used > max_len) {
            st = too_large(err, name, max_len);
            break;
        }
        if (used == cap + 1u) {
            /* Full: grow (doubling) while under the limit. */
            size_t bigger = cap * 2u < max_len ? cap * 2u : max_len;
            uint8_t *p = realloc(buf, bigger + 2u);
            if (p == NULL) {
                st = mqtls__net_fail(err, MQTLS_LAYER_CONFIG, MQTLS_ERR_NOMEM, ENOMEM, "%s", name);
                break;
            }
            buf = p;
            cap = bigger;
        }
        ssize_t n = read(fd, buf + used, cap + 1u - used);
        if (n > 0) {
            used += (size_t)n;
            continue;
        }
        if (n == 0) {
            break; /* end of file */
        }
        if (errno == EINTR) {
            continue;
        }
        if (errno == EAGAIN || errno == EWOULDBLOCK) {
            /* A stream the caller left non-blocking: wait for it, as a blocking read would. */
            struct pollfd pf = {.fd = fd, .events = POLLIN, .revents = 0};
            (void)poll(&pf, 1, -1);
            continue;
        }
        int e = errno;
        st = mqtls__net_fail(err, MQTLS_LAYER_CONFIG, MQTLS_ERR_FILE_UNREADABLE, e, "%s: %s", name,
                             strerror(e));
        break;
    }
    if (st != MQTLS_OK) {
        mqtls_file_free(buf, used);
        return st;
    }
    buf[used] = '\0';
    *out = buf;
    *len = used;
    return MQTLS_OK;
}

/* The type and size checks, then the read. */
static mqtls_status_t read_open_fd(int fd, const char *name, size_t max_len, unsigned flags,
                                   uint8_t **out, size_t *len, mqtls_error_t *err)
{
    struct stat sb;
    if (fstat(fd, &sb) != 0) {
        int e = errno;
        return mqtls__net_fail(err, MQTLS_LAYER_CONFIG, MQTLS_ERR_FILE_UNREADABLE, e, "%s: %s",
                               name, strerror(e));
    }
    if (!kind_allowed(sb.st_mode, flags)) {
        return mqtls__net_fail(err, MQTLS_LAYER_CONFIG, MQTLS_ERR_FILE_NOT_REGULAR,
                               S_ISDIR(sb.st_mode) ? EISDIR : EINVAL, "%s: %s, not a file", name,
                               kind_name(sb.st_mode));
    }
    size_t first = STREAM_FIRST_CAP;
    if (S_ISREG(sb.st_mode)) {
        if (sb.st_size < 0 || (uint64_t)sb.st_size > (uint64_t)max_len) {
            return too_large(err, name, max_len); /* refused before reading a byte */
        }
        first = (size_t)sb.st_size; /* it may still grow: read_all() keeps counting */
    }
    return read_all(fd, name, max_len, first, out, len, err);
}

mqtls_status_t mqtls_file_read_fd(int fd, const char *name, size_t max_len, unsigned flags,
                                  uint8_t **out, size_t *len, mqtls_error_t *err)
{
    if (out != NULL) {
        *out = NULL;
    }
    if (len != NULL) {
        *len = 0;
    }
    if (fd < 0 || out == NULL || len == NULL) {
        return mqtls__net_fail(err, MQTLS_LAYER_CONFIG, MQTLS_ERR_INVALID_ARG, 0,
                               "file read: bad argument");
    }
    return read_open_fd(fd, name != NULL ? name : "input", max_len, flags, out, len, err);
}

mqtls_status_t mqtls_file_read(const char *path, size_t max_len, unsigned flags, uint8_t **out,
                               size_t *len, mqtls_error_t *err)
{
    if (out != NULL) {
        *out = NULL;
    }
    if (len != NULL) {
        *len = 0;
    }
    if (path == NULL || out == NULL || len == NULL) {
        return mqtls__net_fail(err, MQTLS_LAYER_CONFIG, MQTLS_ERR_INVALID_ARG, 0,
                               "file read: bad argument");
    }
    /* O_NONBLOCK: opening a FIFO for reading waits for a writer otherwise. O_NOCTTY: a
     * terminal given as a file does not become our controlling terminal. */
    int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
    if (fd < 0) {
        int e = errno;
        return mqtls__net_fail(err, MQTLS_LAYER_CONFIG, MQTLS_ERR_FILE_UNREADABLE, e, "%s: %s",
                               path, strerror(e));
    }
    struct stat sb;
    if (fstat(fd, &sb) == 0 && kind_allowed(sb.st_mode, flags) && !S_ISREG(sb.st_mode)) {
        /* A device or stream that is meant: read it as a blocking read would. */
        int fl = fcntl(fd, F_GETFL);
        if (fl >= 0) {
            (void)fcntl(fd, F_SETFL, fl & ~O_NONBLOCK);
        }
    }
    mqtls_status_t st = read_open_fd(fd, path, max_len, flags, out, len, err);
    (void)close(fd);
    return st;
}

void mqtls_file_free(uint8_t *data, size_t len)
{
    if (data == NULL) {
        return;
    }
    volatile uint8_t *v = data; /* volatile: the wipe is not optimised away */
    for (size_t i = 0; i <= len; i++) {
        v[i] = 0;
    }
    free(data);
}
