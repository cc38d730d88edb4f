/** @file file.h
 *  @brief The one reader of credential and payload files: never blocks on a FIFO, never reads
 *  without a limit, says precisely what is wrong with a file. The library reads CA files,
 *  certificates and keys with it (1 MiB each at most), and so do the mqtls tool and the
 *  esp-mqtt shim (payloads, key password files, stdin). */
#ifndef MQTLS_FILE_H
#define MQTLS_FILE_H

#include <stddef.h>
#include <stdint.h>

#include "mqtls/error.h"
#include "mqtls/export.h"
#include "mqtls/status.h"

#ifdef __cplusplus
extern "C" {
#endif

/** Largest credential file (CA bundle, certificate, key) the library reads, in bytes. A
 *  system CA bundle is about 0.2 MiB. */
#define MQTLS_FILE_CREDENTIAL_MAX (1024u * 1024u)

/** mqtls_file_read() flags. 0 = a regular file only (what a credential must be). */
#define MQTLS_FILE_CHAR_DEVICE 0x1u /**< also a character device (/dev/urandom, a terminal) */
#define MQTLS_FILE_STREAM 0x2u      /**< also a FIFO or a socket, read to its end (stdin) */

/** @brief Read the whole of @p path, at most @p max_len bytes.
 *  The file is opened non-blocking (a FIFO with no writer cannot hang the caller) and
 *  close-on-exec, its type checked with fstat() before any byte is read, and a regular file
 *  larger than @p max_len is refused without reading it. Reading stops one byte after
 *  @p max_len, so /dev/zero or an endless stream fail in bounded time and memory.
 *  @param[in]  path     Borrowed for the call.
 *  @param[in]  max_len  The limit in bytes (e.g. MQTLS_FILE_CREDENTIAL_MAX).
 *  @param[in]  flags    0, or MQTLS_FILE_CHAR_DEVICE | MQTLS_FILE_STREAM as meant.
 *  @param[out] out      On MQTLS_OK: a buffer the caller frees with mqtls_file_free(); one NUL
 *                       byte follows the data (not counted). NULL otherwise.
 *  @param[out] len      Bytes read (0 for an empty file: that is not an error here).
 *  @param[out] err      Details on failure (layer CONFIG, the path in @c detail, errno); may
 *                       be NULL.
 *  @return MQTLS_OK; MQTLS_ERR_INVALID_ARG; MQTLS_ERR_FILE_UNREADABLE (open or read failed:
 *          err->sys_errno); MQTLS_ERR_FILE_NOT_REGULAR (a directory, FIFO, socket or device
 *          that @p flags do not allow); MQTLS_ERR_FILE_TOO_LARGE (more than @p max_len
 *          bytes); MQTLS_ERR_NOMEM. Thread-safe. */
MQTLS_API mqtls_status_t mqtls_file_read(const char *path, size_t max_len, unsigned flags,
                                         uint8_t **out, size_t *len, mqtls_error_t *err);

/** @brief mqtls_file_read() on a descriptor the caller opened (standard input: pass
 *  MQTLS_FILE_STREAM | MQTLS_FILE_CHAR_DEVICE). @p name is what errors call it ("stdin").
 *  The descriptor is read from where it is and not closed. Same statuses. */
MQTLS_API mqtls_status_t mqtls_file_read_fd(int fd, const char *name, size_t max_len,
                                            unsigned flags, uint8_t **out, size_t *len,
                                            mqtls_error_t *err);

/** @brief Wipe (it may hold a private key) and free a buffer of mqtls_file_read(). Accepts
 *  NULL. @p len is the length it returned. */
MQTLS_API void mqtls_file_free(uint8_t *data, size_t len);

#ifdef __cplusplus
}
#endif
#endif /* MQTLS_FILE_H */
