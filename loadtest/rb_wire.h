/*
 * rb_wire.h - one request/response vocabulary over three wire protocols.
 *
 * Design.  The load engine speaks in abstract operations (get, set, lease
 * get, bump, tag and key invalidation, delete).  rb_wire_encode appends one
 * operation to an output buffer in the target's protocol: recache through
 * the shared codec (rc_proto.h), memcached in its text protocol (get, set,
 * delete; noreply is never used, so every request gets a reply) and Redis
 * in RESP (GET, SET, DEL; a key invalidation is a delete there).  rb_wire_parse decodes one reply
 * into an rc_msg, mapping the peers' replies onto recache statuses (a hit is OK with a value, "END"
 * or a nil bulk is MISS, a server error is INTERNAL), so the engine has a single response path.
 * Pure functions: no I/O, no globals.
 */
#ifndef RB_WIRE_H
#define RB_WIRE_H

#include <stddef.h>
#include <stdint.h>

#include "recache/rc_proto.h"

typedef enum rb_target {
    RB_TARGET_RECACHE = 0,
    RB_TARGET_MEMCACHED,
    RB_TARGET_REDIS,
} rb_target;

/* Operations; the names index the per-operation report tables. */
#define RB_OPS(X)                                                                                  \
    X(GET, "get")                                                                                  \
    X(SET, "set")                                                                                  \
    X(LGET, "lget")                                                                                \
    X(FILL, "fill")                                                                                \
    X(BUMP, "bump")                                                                                \
    X(INVTAG, "invalidate-tag")                                                                    \
    X(INVKEY, "invalidate-key")                                                                    \
    X(DEL, "delete")

typedef enum rb_op {
#define RB__OP_ENUM(name, str) RB_OP_##name,
    RB_OPS(RB__OP_ENUM)
#undef RB__OP_ENUM
        RB_OP_COUNT
} rb_op;

const char *rb_op_name(rb_op op);

/* A growable byte buffer. */
typedef struct rb_buf {
    uint8_t *p;
    size_t len, cap;
} rb_buf;

/* rb_buf_reserve - room for `extra` more bytes; 0 or RC_ENOMEM. */
int rb_buf_reserve(rb_buf *b, size_t extra);
void rb_buf_free(rb_buf *b);

/* One request.  FILL is a SET that carries `token` when has_token. */
typedef struct rb_req {
    rb_op op;
    uint32_t id; /* recache request id; ignored by the peers (they answer in order) */
    const char *ns;
    uint32_t user;
    uint64_t ns_version;
    uint32_t wait_ms;
    uint32_t ttl_ms;
    uint8_t soft;
    uint8_t has_token;
    uint8_t token[RC_TOKEN_SIZE];
    const uint32_t *products; /* tags product:<id> on SET/FILL (recache) */
    uint32_t nproducts;
    uint8_t has_segment; /* SET/FILL (recache): also tag segment:<segment> */
    uint32_t segment;    /* SET/FILL with has_segment; INVTAG with tag_segment */
    uint8_t tag_segment; /* INVTAG: invalidate segment:<segment> instead of product:<product> */
    uint32_t product;    /* INVTAG */
    const uint8_t *value;
    uint32_t vlen;
} rb_req;

/* rb_target_parse - "recache", "memcached", "redis"; 0 or RC_EINVAL. */
int rb_target_parse(const char *s, rb_target *t);
const char *rb_target_name(rb_target t);

/* rb_wire_key - the key of a user for the target into buf (NUL-terminated); its length. */
size_t rb_wire_key(rb_target t, const char *ns, uint32_t user, char *buf, size_t cap);

/*
 * rb_wire_encode - append req to out.  Returns 0, RC_ENOMEM, RC_EINVAL (an
 * operation the target does not have: BUMP, INVTAG, LGET on peers) or a
 * codec error.
 */
int rb_wire_encode(rb_target t, const rb_req *req, rb_buf *out);

/*
 * rb_wire_parse - decode one reply from buf.  Returns the bytes consumed
 * (> 0) with *msg filled (slices point into buf), 0 when more bytes are
 * needed, or RC_EPROTOCOL when the stream is malformed (close the
 * connection).  For peers msg->status is OK / MISS / EXISTS / INTERNAL and
 * msg->value is the value of a hit.
 */
long rb_wire_parse(rb_target t, const uint8_t *buf, size_t len, rc_msg *msg);

#endif
