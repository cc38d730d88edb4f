/* Internal to src/client: a set of 16-bit packet ids, small by default and exact for any id.
 *
 * Up to MQTLS__IDSET_SMALL ids live in a sorted array inside the set (inside the session, so
 * an idle connection pays 2 x 64 bytes instead of 2 x 8 KiB). When an add would overflow it,
 * the add is refused and the set records that it wants a bitmap (wants_map); the session's
 * caller allocates one (MQTLS__IDSET_MAP_BYTES) and hands it in (mqtls__idset_give_map()),
 * then the add is retried. Once few ids are left (MQTLS__IDSET_SHRINK_AT), the ids go back to
 * the array and the bitmap is handed back (mqtls__idset_shrink()). No allocation here. */
#ifndef MQTLS_CLIENT_IDSET_H
#define MQTLS_CLIENT_IDSET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/** Ids kept without a bitmap. */
#define MQTLS__IDSET_SMALL 32u
/** Bytes of the bitmap a full set upgrades to: one bit per 16-bit id. */
#define MQTLS__IDSET_MAP_BYTES (65536u / 8u)
/** A set with a bitmap goes back to the array when it holds this many ids or fewer (a quarter
 *  of the array: an upgrade and the shrink after it are at least 24 adds/removes apart). */
#define MQTLS__IDSET_SHRINK_AT (MQTLS__IDSET_SMALL / 4u)

typedef struct mqtls__idset {
    uint8_t *map;   /* the bitmap given by the caller; NULL = the ids are in small[] */
    uint32_t count; /* ids in the set */
    bool wants_map; /* an add found small[] full: a bitmap is wanted (cleared when given) */
    uint16_t small[MQTLS__IDSET_SMALL]; /* sorted ascending, [0, count) when map == NULL */
} mqtls__idset_t;

/** An empty set with no bitmap. Cannot fail. */
void mqtls__idset_init(mqtls__idset_t *set);
/** Is @p id in the set? */
bool mqtls__idset_has(const mqtls__idset_t *set, uint16_t id);
/** Can one more id (not yet in it) be added without a bitmap being given first? */
bool mqtls__idset_can_add(const mqtls__idset_t *set);
/** Add @p id. @return true (in the set now, or already); false: the array is full and there is
 *  no bitmap: nothing changed, wants_map is set. */
bool mqtls__idset_add(mqtls__idset_t *set, uint16_t id);
/** Remove @p id (absent: nothing happens). Never gives the bitmap back by itself. */
void mqtls__idset_remove(mqtls__idset_t *set, uint16_t id);
/** Remove every id; a bitmap stays (mqtls__idset_shrink() gives it back). */
void mqtls__idset_clear(mqtls__idset_t *set);
/** Hand in a bitmap of MQTLS__IDSET_MAP_BYTES bytes (borrowed until mqtls__idset_shrink()
 *  returns it, or the owner is dropped; need not be zeroed): the ids move into it.
 *  @return false (already has one, @p map NULL): nothing changed. */
bool mqtls__idset_give_map(mqtls__idset_t *set, uint8_t *map);
/** With a bitmap and at most MQTLS__IDSET_SHRINK_AT ids: move them back to the array.
 *  @return the bitmap, for the caller to free; NULL when nothing changed. */
uint8_t *mqtls__idset_shrink(mqtls__idset_t *set);

#endif /* MQTLS_CLIENT_IDSET_H */
