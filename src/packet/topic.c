/* UTF-8 strings, topic names, topic filters and matching ([MQTT-1.5.4], [MQTT-4.7]). */
#include <string.h>

#include "packet_internal.h"

/* Word-at-a-time scanning (SWAR): 8 bytes per step for the common pure-ASCII strings. */
#define ONES 0x0101010101010101ull
#define HIGHS 0x8080808080808080ull

static inline uint64_t load64(const uint8_t *p)
{
    uint64_t v;
    memcpy(&v, p, sizeof v); /* unaligned-safe; compiles to one load */
    return v;
}

/* Non-zero iff some byte of v is 0 (exact for "any", the classic haszero()). */
static inline uint64_t zero_byte(uint64_t v)
{
    return (v - ONES) & ~v & HIGHS;
}

/* Non-zero if the 8 bytes hold anything but plain ASCII 0x01..0x7F. */
static inline uint64_t not_plain_ascii(uint64_t v)
{
    return (v & HIGHS) | zero_byte(v);
}

/* [MQTT-1.5.4-1] well-formed UTF-8 (RFC 3629: minimal, no surrogates, <= U+10FFFF);
 * [MQTT-1.5.4-2] no U+0000. */
mqtls_status_t mqtls_utf8_check(const uint8_t *s, size_t len)
{
    if (s == NULL && len != 0u) {
        return MQTLS_ERR_INVALID_ARG;
    }
    size_t i = 0;
    while (len - i >= 8u && not_plain_ascii(load64(s + i)) == 0u) {
        i += 8u;
    }
    while (i < len) {
        uint8_t c = s[i];
        if (c < 0x80u) {
            if (c == 0u) {
                return MQTLS_ERR_UTF8_NUL;
            }
            i++;
            continue;
        }
        size_t need;
        uint32_t cp;
        uint32_t min;
        if (c >= 0xC0u && c <= 0xDFu) {
            need = 1;
            cp = c & 0x1Fu;
            min = 0x80u;
        } else if (c >= 0xE0u && c <= 0xEFu) {
            need = 2;
            cp = c & 0x0Fu;
            min = 0x800u;
        } else if (c >= 0xF0u && c <= 0xF7u) {
            need = 3;
            cp = c & 0x07u;
            min = 0x10000u;
        } else {
            return MQTLS_ERR_UTF8_INVALID; /* stray continuation byte or 0xF8..0xFF */
        }
        if (len - i - 1u < need) {
            return MQTLS_ERR_UTF8_INVALID; /* sequence cut short by the end of the string */
        }
        for (size_t k = 1; k <= need; k++) {
            uint8_t cc = s[i + k];
            if ((cc & 0xC0u) != 0x80u) {
                return MQTLS_ERR_UTF8_INVALID;
            }
            cp = (cp << 6) | (cc & 0x3Fu);
        }
        if (cp < min) {
            return MQTLS_ERR_UTF8_NONMINIMAL; /* e.g. C0 80 for U+0000 */
        }
        if (cp >= 0xD800u && cp <= 0xDFFFu) {
            return MQTLS_ERR_UTF8_SURROGATE;
        }
        if (cp > 0x10FFFFu) {
            return MQTLS_ERR_UTF8_INVALID;
        }
        i += need + 1u;
    }
    return MQTLS_OK;
}

mqtls_status_t mqtls_topic_name_check(const uint8_t *s, size_t len)
{
    if (s == NULL && len != 0u) {
        return MQTLS_ERR_INVALID_ARG;
    }
    if (len == 0u) {
        return MQTLS_ERR_TOPIC_EMPTY; /* [MQTT-4.7.3-1] */
    }
    if (mqtls__topic_plain(s, len)) {
        return MQTLS_OK; /* the common case, 8 bytes a step */
    }
    /* UTF-8 errors take precedence over wildcards, so a wildcard is only reported after the
     * whole scan. */
    bool wild = false;
    for (size_t i = 0; i < len; i++) {
        uint8_t c = s[i];
        if (c >= 0x80u) {
            mqtls_status_t st = mqtls_utf8_check(s, len);
            if (st != MQTLS_OK) {
                return st;
            }
            /* '+' and '#' are ASCII and never occur inside a multi-byte sequence. */
            return (wild || memchr(s + i, '+', len - i) != NULL ||
                    memchr(s + i, '#', len - i) != NULL)
                       ? MQTLS_ERR_TOPIC_WILDCARD
                       : MQTLS_OK;
        }
        if (c == 0u) {
            return MQTLS_ERR_UTF8_NUL;
        }
        if (c == '+' || c == '#') {
            wild = true;
        }
    }
    return wild ? MQTLS_ERR_TOPIC_WILDCARD : MQTLS_OK; /* [MQTT-3.3.2-2] */
}

mqtls_status_t mqtls_topic_filter_check(const uint8_t *s, size_t len)
{
    if (s == NULL && len != 0u) {
        return MQTLS_ERR_INVALID_ARG;
    }
    if (len == 0u) {
        return MQTLS_ERR_TOPIC_EMPTY; /* [MQTT-4.7.3-1] */
    }
    if (mqtls__topic_plain(s, len)) {
        return MQTLS_OK; /* ASCII without wildcards or NUL: nothing to place */
    }
    mqtls_status_t st = mqtls_utf8_check(s, len);
    if (st != MQTLS_OK) {
        return st;
    }
    for (size_t i = 0; i < len; i++) {
        if (s[i] == '+') {
            /* [MQTT-4.7.1-2] '+' must occupy an entire level. */
            if ((i > 0u && s[i - 1u] != '/') || (i + 1u < len && s[i + 1u] != '/')) {
                return MQTLS_ERR_FILTER_INVALID;
            }
        } else if (s[i] == '#') {
            /* [MQTT-4.7.1-1] '#' must be last and alone in its level. */
            if (i + 1u != len || (i > 0u && s[i - 1u] != '/')) {
                return MQTLS_ERR_FILTER_INVALID;
            }
        }
    }
    return MQTLS_OK;
}

/* MQTT 5 4.8.2: "$share/{ShareName}/{filter}": ShareName at least one character, no '/', '+'
 * or '#'; the filter after it must be present. The whole string already passed the generic
 * filter check, so only the share name and the presence of a filter remain. */
mqtls_status_t mqtls__shared_filter_check(const uint8_t *s, size_t len, bool *is_shared)
{
    static const char prefix[] = "$share/";
    const size_t plen = sizeof prefix - 1u;
    *is_shared = false;
    if (len < plen || memcmp(s, prefix, plen) != 0) {
        return MQTLS_OK;
    }
    *is_shared = true;
    size_t i = plen;
    size_t name_start = i;
    while (i < len && s[i] != '/') {
        if (s[i] == '+' || s[i] == '#') {
            return MQTLS_ERR_FILTER_INVALID;
        }
        i++;
    }
    if (i == name_start || i >= len || i + 1u >= len) {
        return MQTLS_ERR_FILTER_INVALID;
    }
    return MQTLS_OK;
}

bool mqtls_topic_matches(const uint8_t *filter, size_t filter_len, const uint8_t *topic,
                         size_t topic_len)
{
    if (filter == NULL || topic == NULL || filter_len == 0u || topic_len == 0u) {
        return false;
    }
    /* [MQTT-4.7.2-1] a filter starting with a wildcard does not match topics starting '$'. */
    if (topic[0] == '$' && (filter[0] == '+' || filter[0] == '#')) {
        return false;
    }
    size_t fi = 0;
    size_t ti = 0;
    while (fi < filter_len) {
        uint8_t f = filter[fi];
        if (f == '#') {
            return true; /* matches this level and everything below */
        }
        if (f == '+') {
            while (ti < topic_len && topic[ti] != '/') {
                ti++;
            }
            fi++;
            continue;
        }
        if (ti >= topic_len || topic[ti] != f) {
            /* "sport/#" also matches "sport" ([MQTT-4.7.1.2]: # includes the parent). */
            return ti == topic_len && filter_len - fi == 2u && filter[fi] == '/' &&
                   filter[fi + 1u] == '#';
        }
        fi++;
        ti++;
    }
    return ti == topic_len;
}
