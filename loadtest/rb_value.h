/*
 * rb_value.h - the self-describing recommendation list every write carries.
 *
 * Design.  A value is a 32-byte header followed by `nitems` items (u32 item
 * id, f32 score), all little-endian:
 *
 *   0 u32 magic "RBV1"   4 u32 user id    8 u64 model version
 *  16 u64 write id      24 u32 nitems    28 u32 check
 *
 * The header lets the oracle judge any response on its own: whose list it
 * is, which model version it was computed for and which write produced it.
 * The write id (`seq` below) is unique over the whole run (rb_oracle.h):
 * the oracle keeps per write id the user's write sequence and when the
 * write was acknowledged, and derives the value's tags from it.
 * `check` is a hash of the rest of the value (header fields and items), so
 * a torn or corrupted value is detected rather than misread.  Items are a
 * deterministic function of (user, version), like a model's output.
 */
#ifndef RB_VALUE_H
#define RB_VALUE_H

#include <stddef.h>
#include <stdint.h>

#define RB_VALUE_HDR   32u
#define RB_VALUE_MAGIC 0x31564252u /* "RBV1" little-endian */

typedef struct rb_value_info {
    uint32_t user;
    uint64_t version;
    uint64_t seq; /* write id */
    uint32_t nitems;
} rb_value_info;

/* rb_value_size - bytes of a value with n items. */
size_t rb_value_size(uint32_t nitems);

/* rb_value_encode - write the value described by *vi into buf (rb_value_size bytes). */
void rb_value_encode(uint8_t *buf, const rb_value_info *vi);

/*
 * rb_value_decode - parse and verify a value.  Returns 0 and fills *vi, or
 * RC_EPROTOCOL when the bytes are not an intact value (short, bad magic,
 * length disagreeing with nitems, or a check mismatch).
 */
int rb_value_decode(const uint8_t *buf, size_t len, rb_value_info *vi);

#endif
