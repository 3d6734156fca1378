/*
 * rc_item.c - list items and item ids in their wire encoding.
 *
 * Design.  A list value is stored and sent in one encoding (PROTOCOL.md
 * section 16): RC_ITEM_SIZE bytes per item, the u64 item id then the
 * binary32 score, both little-endian; an id set is RC_ID_SIZE bytes per
 * u64 id.  These helpers read and write one item or id at any alignment,
 * so neither side ever casts a byte buffer to a struct.  Pure: no state,
 * no allocation, no I/O.
 */
#include <string.h>

#include "recache/rc_proto.h"

#include "rc_le.h"

_Static_assert(sizeof(float) == 4, "scores are IEEE 754 binary32");

void rc_item_get(const uint8_t *p, uint64_t *id, float *score)
{
    uint32_t bits = (uint32_t)rc__le_get(p + 8, 4);
    *id = rc__le_get(p, 8);
    memcpy(score, &bits, sizeof bits);
}

void rc_item_put(uint8_t *p, uint64_t id, float score)
{
    uint32_t bits;
    memcpy(&bits, &score, sizeof bits);
    rc__le_put(p, id, 8);
    rc__le_put(p + 8, bits, 4);
}

uint64_t rc_id_get(const uint8_t *p)
{
    return rc__le_get(p, 8);
}

void rc_id_put(uint8_t *p, uint64_t id)
{
    rc__le_put(p, id, 8);
}
