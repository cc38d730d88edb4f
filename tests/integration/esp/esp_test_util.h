/* Shared by the esp-mqtt shim tests (compiled for both configuration layouts): an event
 * recorder with deadlines, PEM loading, and capture of the shim's stderr log. */
#ifndef MQTLS_ESP_TEST_UTIL_H
#define MQTLS_ESP_TEST_UTIL_H

#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "harness.h"
#include "mqtt_client.h"

#define REC_MAX 256
#define REC_DATA_MAX (64 * 1024)

typedef struct {
    esp_mqtt_event_id_t id;
    int msg_id;
    int qos;
    int data_len, total_data_len, current_data_offset;
    char topic[128];
    int topic_len;
    bool has_topic;
    esp_mqtt_error_codes_t err;
    bool has_err;
    void *user_context;
} rec_event_t;

typedef struct {
    pthread_mutex_t lock;
    pthread_cond_t cond;
    rec_event_t ev[REC_MAX];
    size_t count;
    uint8_t data[REC_DATA_MAX]; /* payload bytes of DATA events, reassembled by offset */
} recorder_t;

static recorder_t rec;

static inline void rec_reset(void)
{
    pthread_mutex_lock(&rec.lock);
    rec.count = 0;
    memset(rec.data, 0, sizeof rec.data);
    pthread_mutex_unlock(&rec.lock);
}

static inline void rec_add(const esp_mqtt_event_t *e)
{
    pthread_mutex_lock(&rec.lock);
    if (rec.count < REC_MAX) {
        rec_event_t *r = &rec.ev[rec.count++];
        memset(r, 0, sizeof *r);
        r->id = e->event_id;
        r->msg_id = e->msg_id;
        r->qos = e->qos;
        r->data_len = e->data_len;
        r->total_data_len = e->total_data_len;
        r->current_data_offset = e->current_data_offset;
        r->has_topic = e->topic != NULL;
        r->topic_len = e->topic_len;
        if (e->topic != NULL) {
            snprintf(r->topic, sizeof r->topic, "%.*s", e->topic_len, e->topic);
        }
        if (e->error_handle != NULL) {
            r->err = *e->error_handle;
            r->has_err = true;
        }
#ifdef MQTLS_ESP_IDF_V4_CONFIG
        r->user_context = e->user_context;
#endif
        if (e->event_id == MQTT_EVENT_DATA && e->current_data_offset >= 0 &&
            (size_t)e->current_data_offset + (size_t)e->data_len <= sizeof rec.data) {
            memcpy(rec.data + e->current_data_offset, e->data, (size_t)e->data_len);
        }
    }
    pthread_cond_broadcast(&rec.cond);
    pthread_mutex_unlock(&rec.lock);
}

/* Count events of @p id (and topic, if not NULL); rec.lock held. */
static inline size_t rec_count_locked(esp_mqtt_event_id_t id, const char *topic)
{
    size_t n = 0;
    for (size_t i = 0; i < rec.count; i++) {
        if (rec.ev[i].id == id && (topic == NULL || strcmp(rec.ev[i].topic, topic) == 0)) {
            n++;
        }
    }
    return n;
}

/* Wait until at least @p want events of @p id (with @p topic) were recorded. */
static inline bool rec_wait(esp_mqtt_event_id_t id, const char *topic, size_t want, int timeout_ms)
{
    int64_t deadline = th_now_ms() + timeout_ms;
    pthread_mutex_lock(&rec.lock);
    while (rec_count_locked(id, topic) < want) {
        int64_t left = deadline - th_now_ms();
        if (left <= 0) {
            break;
        }
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_sec += (time_t)(left / 1000);
        ts.tv_nsec += (long)(left % 1000) * 1000000L;
        if (ts.tv_nsec >= 1000000000L) {
            ts.tv_sec++;
            ts.tv_nsec -= 1000000000L;
        }
        pthread_cond_timedwait(&rec.cond, &rec.lock, &ts);
    }
    bool ok = rec_count_locked(id, topic) >= want;
    pthread_mutex_unlock(&rec.lock);
    return ok;
}

/* Count events of @p id (and topic, if not NULL). The client's thread records them: read
 * under the lock (ThreadSanitizer). */
static inline size_t rec_count(esp_mqtt_event_id_t id, const char *topic)
{
    pthread_mutex_lock(&rec.lock);
    size_t n = rec_count_locked(id, topic);
    pthread_mutex_unlock(&rec.lock);
    return n;
}

/* The first event of @p id: a slot is written once, so it may be read after the lock. */
static inline const rec_event_t *rec_first(esp_mqtt_event_id_t id)
{
    const rec_event_t *e = NULL;
    pthread_mutex_lock(&rec.lock);
    for (size_t i = 0; i < rec.count && e == NULL; i++) {
        if (rec.ev[i].id == id) {
            e = &rec.ev[i];
        }
    }
    pthread_mutex_unlock(&rec.lock);
    return e;
}

/* Whole file + NUL (as EMBED_TXTFILES makes it). Caller frees. */
static inline char *read_pem(const char *path, size_t *len_without_nul)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        return NULL;
    }
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *buf = calloc(1, (size_t)n + 1);
    if (buf != NULL && fread(buf, 1, (size_t)n, f) != (size_t)n) {
        free(buf);
        buf = NULL;
    }
    fclose(f);
    if (len_without_nul != NULL) {
        *len_without_nul = (size_t)n;
    }
    return buf;
}

/* Capture what the shim logs on stderr between log_begin() and log_end() into a buffer. */
static char log_path[64];
static int saved_stderr = -1;

static inline void log_begin(void)
{
    fflush(stderr);
    snprintf(log_path, sizeof log_path, "/tmp/mqtls-esplog-XXXXXX");
    int fd = mkstemp(log_path);
    saved_stderr = dup(STDERR_FILENO);
    dup2(fd, STDERR_FILENO);
    close(fd);
}

static inline char *log_end(void)
{
    fflush(stderr);
    dup2(saved_stderr, STDERR_FILENO);
    close(saved_stderr);
    char *text = read_pem(log_path, NULL);
    unlink(log_path);
    if (text != NULL) {
        fputs(text, stderr); /* keep it visible in the test output */
    }
    return text;
}

#endif
