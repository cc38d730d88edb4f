/* Internal to src/runtime: the persistence store of a client (docs/reliability.md).
 *
 * One directory, one client: DIR/lock (flock, so two clients never share a log), DIR/mqtls.log
 * (an append-only log of checksummed records), DIR/mqtls.log.tmp while compacting. The store
 * keeps, in memory, only where each live record is in the file; the session (src/client) keeps
 * the packets themselves. It records what the session reports through its persist hook
 * (mqtls__persist_op_t in client/session.h) and, at open, replays the log into what the
 * session must be given back: the outbox entries and the inbound QoS 2 ids.
 *
 * The file: 8 bytes "MQTLSLG1", then records
 *     u32 body_len (little-endian) | u32 crc32(body_len bytes + body) | body
 * where body = u8 type + fields (persist.c lists them). Replay stops at the first record that is
 * short or whose checksum fails (a torn tail: the write a crash interrupted); that tail is cut
 * off and kept in DIR/mqtls.log.bad for inspection.
 *
 * Not thread-safe: the client's lock serialises every call. */
#ifndef MQTLS_RUNTIME_PERSIST_H
#define MQTLS_RUNTIME_PERSIST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "client/session.h"
#include "mqtls/client.h"

typedef struct mqtls__persist mqtls__persist_t;

typedef struct mqtls__persist_cfg {
    const char *dir;
    mqtls_persist_sync_t sync;
    uint32_t sync_ms;         /* MQTLS_PERSIST_SYNC_BATCH: longest wait for fdatasync */
    mqtls_version_t version;  /* the packets in the log are encoded for it */
    size_t compact_min_bytes; /* no compaction below this file size; 0 = 1 MiB */
} mqtls__persist_cfg_t;

/** An outbox entry the log holds (in publish order). */
typedef struct mqtls__persist_pub {
    uint16_t packet_id;
    uint8_t qos;
    mqtls__restore_state_t state;
    const uint8_t *packet; /* the encoded PUBLISH; valid until mqtls__persist_restored_free() */
    size_t len;
} mqtls__persist_pub_t;

/** An inbound QoS 2 id awaiting PUBREL. */
typedef struct mqtls__persist_in {
    uint16_t packet_id;
    bool delivered;          /* false: in doubt (the callback did not return before the crash) */
    mqtls_publish_t message; /* in doubt only: the message, views valid until _restored_free() */
} mqtls__persist_in_t;

/** What the log held at open, to give back to the session. */
typedef struct mqtls__persist_restored {
    mqtls__persist_pub_t *pubs;
    size_t pub_count;
    mqtls__persist_in_t *ins;
    size_t in_count;
    uint8_t *buf; /* the log as read: pubs and ins point into it */
} mqtls__persist_restored_t;

/** Open (create) the directory, take its lock, read and replay the log (cutting a torn tail).
 *  @param[out] restored  What to restore; free with mqtls__persist_restored_free().
 *  @return MQTLS_OK; MQTLS_ERR_PERSIST (errno and the path in @p err); MQTLS_ERR_PERSIST_LOCKED;
 *          MQTLS_ERR_PERSIST_MISMATCH (not an mqtls log, another MQTT version, or a newer
 *          format); MQTLS_ERR_NOMEM. */
mqtls_status_t mqtls__persist_open(const mqtls__persist_cfg_t *cfg, mqtls_error_t *err,
                                   mqtls__persist_t **out, mqtls__persist_restored_t *restored);
/** The client id the log belongs to, or NULL for a new log. Owned by the store. */
const char *mqtls__persist_client_id(const mqtls__persist_t *p);
/** Bind the log to @p client_id: a new log records it; an existing one must hold the same.
 *  @return MQTLS_OK; MQTLS_ERR_PERSIST_MISMATCH (detail in @p err); MQTLS_ERR_PERSIST. */
mqtls_status_t mqtls__persist_bind(mqtls__persist_t *p, const char *client_id, mqtls_error_t *err);
void mqtls__persist_restored_free(mqtls__persist_restored_t *r);

/** Record @p op (the session's hook), then fdatasync() as the policy says, then compact when
 *  the file has grown past twice what is live. @return MQTLS_OK; MQTLS_ERR_PERSIST (the store
 *  keeps refusing once its file could not be made whole again). */
mqtls_status_t mqtls__persist_put(mqtls__persist_t *p, const mqtls__persist_op_t *op,
                                  int64_t now_ms);
/** MQTLS_PERSIST_SYNC_BATCH: when the next fdatasync() is due; INT64_MAX if none. */
int64_t mqtls__persist_deadline(const mqtls__persist_t *p);
/** Do the fdatasync() that is due. */
void mqtls__persist_tick(mqtls__persist_t *p, int64_t now_ms);
/** Sync what is unsynced (unless the policy is none), release the lock, free. NULL is fine. */
void mqtls__persist_close(mqtls__persist_t *p);
/** errno of the last failure, 0 if none. */
int mqtls__persist_errno(const mqtls__persist_t *p);

/* --- for tests ---------------------------------------------------------------------------- */

/** The I/O steps of the store, for crash injection. */
typedef enum mqtls__pstep {
    MQTLS__PSTEP_APPEND = 0, /* pwrite of a record */
    MQTLS__PSTEP_SYNC,       /* fdatasync of the log */
    MQTLS__PSTEP_TMP_WRITE,  /* compaction: pwrite into mqtls.log.tmp */
    MQTLS__PSTEP_TMP_SYNC,   /* compaction: fdatasync of the new file */
    MQTLS__PSTEP_RENAME,     /* compaction: rename over mqtls.log */
    MQTLS__PSTEP_DIR_SYNC    /* compaction: fsync of the directory */
} mqtls__pstep_t;

/** Called before each step: return -1 to do it; n >= 0 to crash there: a write step writes
 *  only its first n bytes, another step is not done; the store then does no more I/O at all
 *  (the process "died"), every call fails, and close only frees memory; n <= -2 for an I/O
 *  error (a full disk): a write step writes its first -(n + 2) bytes and fails with ENOSPC,
 *  a sync fails with EIO, and the store goes on as it would after such an error. */
typedef long (*mqtls__persist_fault_fn)(void *ctx, mqtls__pstep_t step, size_t len);
void mqtls__persist_set_fault(mqtls__persist_t *p, mqtls__persist_fault_fn fn, void *ctx);
/** Bytes of the log known to be on the disk (fdatasync'ed); the file's size. */
uint64_t mqtls__persist_synced_size(const mqtls__persist_t *p);
uint64_t mqtls__persist_size(const mqtls__persist_t *p);
/** Compactions done since open. */
unsigned mqtls__persist_compactions(const mqtls__persist_t *p);

#endif /* MQTLS_RUNTIME_PERSIST_H */
