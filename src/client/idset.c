/* A set of packet ids: a sorted array of MQTLS__IDSET_SMALL ids, or a caller's bitmap once
 * that overflows (idset.h). Sans I/O, no allocation. */
#include "client/idset.h"

#include <string.h>

static bool map_get(const uint8_t *map, uint16_t id)
{
    return (map[id >> 3] & (uint8_t)(1u << (id & 7u))) != 0;
}

/* Index of the first id >= @p id in the sorted array. */
static uint32_t lower_bound(const mqtls__idset_t *set, uint16_t id)
{
    uint32_t lo = 0;
    uint32_t hi = set->count;
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2u;
        if (set->small[mid] < id) {
            lo = mid + 1u;
        } else {
            hi = mid;
        }
    }
    return lo;
}

void mqtls__idset_init(mqtls__idset_t *set)
{
    memset(set, 0, sizeof *set);
}

bool mqtls__idset_has(const mqtls__idset_t *set, uint16_t id)
{
    if (set->map != NULL) {
        return map_get(set->map, id);
    }
    uint32_t i = lower_bound(set, id);
    return i < set->count && set->small[i] == id;
}

bool mqtls__idset_can_add(const mqtls__idset_t *set)
{
    return set->map != NULL || set->count < MQTLS__IDSET_SMALL;
}

bool mqtls__idset_add(mqtls__idset_t *set, uint16_t id)
{
    if (set->map != NULL) {
        if (!map_get(set->map, id)) {
            set->map[id >> 3] = (uint8_t)(set->map[id >> 3] | (1u << (id & 7u)));
            set->count++;
        }
        return true;
    }
    uint32_t i = lower_bound(set, id);
    if (i < set->count && set->small[i] == id) {
        return true;
    }
    if (set->count >= MQTLS__IDSET_SMALL) {
        set->wants_map = true;
        return false;
    }
    memmove(&set->small[i + 1u], &set->small[i], (set->count - i) * sizeof set->small[0]);
    set->small[i] = id;
    set->count++;
    return true;
}

void mqtls__idset_remove(mqtls__idset_t *set, uint16_t id)
{
    if (set->map != NULL) {
        if (map_get(set->map, id)) {
            set->map[id >> 3] = (uint8_t)(set->map[id >> 3] & ~(1u << (id & 7u)));
            set->count--;
        }
        return;
    }
    uint32_t i = lower_bound(set, id);
    if (i < set->count && set->small[i] == id) {
        memmove(&set->small[i], &set->small[i + 1u], (set->count - i - 1u) * sizeof set->small[0]);
        set->count--;
    }
}

void mqtls__idset_clear(mqtls__idset_t *set)
{
    if (set->map != NULL && set->count > 0) {
        memset(set->map, 0, MQTLS__IDSET_MAP_BYTES);
    }
    set->count = 0;
}

bool mqtls__idset_give_map(mqtls__idset_t *set, uint8_t *map)
{
    if (set->map != NULL || map == NULL) {
        return false;
    }
    memset(map, 0, MQTLS__IDSET_MAP_BYTES);
    for (uint32_t i = 0; i < set->count; i++) {
        uint16_t id = set->small[i];
        map[id >> 3] = (uint8_t)(map[id >> 3] | (1u << (id & 7u)));
    }
    set->map = map;
    set->wants_map = false;
    return true;
}

uint8_t *mqtls__idset_shrink(mqtls__idset_t *set)
{
    if (set->map == NULL || set->count > MQTLS__IDSET_SHRINK_AT) {
        return NULL;
    }
    uint32_t n = 0;
    /* Ascending scan: the array comes out sorted. Stops at the last id. */
    for (uint32_t byte = 0; byte < MQTLS__IDSET_MAP_BYTES && n < set->count; byte++) {
        uint8_t b = set->map[byte];
        for (uint32_t bit = 0; b != 0 && bit < 8u; bit++) {
            if ((b & (1u << bit)) != 0) {
                set->small[n++] = (uint16_t)(byte * 8u + bit);
                b = (uint8_t)(b & ~(1u << bit));
            }
        }
    }
    uint8_t *map = set->map;
    set->map = NULL;
    set->count = n; /* == count: the bitmap held exactly count ids */
    return map;
}
