/*
 * rc_proto.h - the recache wire protocol: frame layout, opcodes and a pure
 * encoder/decoder shared by the server, the client library and the load
 * tester.
 *
 * Design.  Every frame is a fixed 16-byte header followed by a body whose
 * layout is fixed per (opcode, direction): fixed-width integers first, then
 * length-prefixed byte strings, with the value (when present) always last.
 * All integers are little-endian.  The codec is table driven: each opcode
 * lists its request and response fields once (rc_proto.c), and one small
 * loop encodes or decodes any of them, so adding an opcode is adding a row,
 * not writing a parser.
 *
 * The codec does no I/O and no allocation.  Decoded byte strings are views
 * (rc_slice) into the caller's buffer, valid as long as that buffer is.
 * Every length is checked against the bytes actually present and against
 * the caller's limits before it is trusted.
 *
 * Error recovery rule (see PROTOCOL.md): a bad header (magic, version,
 * reserved bits, frame length over the limit) leaves the stream position
 * unknowable, so the receiver answers once and closes; a bad body inside a
 * well-formed header is skipped by its length and answered with an error
 * status, and the connection carries on.
 */
#ifndef RECACHE_RC_PROTO_H
#define RECACHE_RC_PROTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "rc_errors.h"

#ifdef __cplusplus
extern "C" {
#endif

#define RC_PROTO_MAGIC   0xC5u
#define RC_PROTO_VERSION 1u
#define RC_HEADER_SIZE   16u
#define RC_TOKEN_SIZE    16u

/* Header flag bits (byte 3).  Any other bit set is a malformed header. */
#define RC_HF_RESPONSE 0x01u /* sent by the server in answer to a request */
#define RC_HF_PUSH     0x02u /* server-initiated (EVENT frames); implies RESPONSE is clear */
#define RC_HF_MASK     (RC_HF_RESPONSE | RC_HF_PUSH)

/* Absolute ceilings imposed by the field widths; configured limits sit below. */
#define RC_WIRE_MAX_NS      255u
#define RC_WIRE_MAX_KEY     65535u
#define RC_WIRE_MAX_TAGS    255u
#define RC_WIRE_MAX_TAG_LEN 255u
#define RC_WIRE_MAX_TEXT    65535u

/* "No expiry" in a response's remaining-TTL field. */
#define RC_TTL_NONE 0xFFFFFFFFu
/* "Use the namespace default" in a request's stale_ms field. */
#define RC_STALE_DEFAULT 0xFFFFFFFFu

/*
 * Opcodes: X(NAME, CODE, "wire name").  The per-opcode field layouts live in
 * rc_proto.c and are documented in protocol/PROTOCOL.md.
 */
#define RC_OPCODES(X)                                                                              \
    X(HELLO, 0x01, "hello")                                                                        \
    X(PING, 0x02, "ping")                                                                          \
    X(GET, 0x10, "get")                                                                            \
    X(SET, 0x11, "set")                                                                            \
    X(DELETE, 0x12, "delete")                                                                      \
    X(TOUCH, 0x13, "touch")                                                                        \
    X(STATS, 0x14, "stats")                                                                        \
    X(LGET, 0x15, "lget")                                                                          \
    X(BUMP, 0x20, "bump")                                                                          \
    X(NS_INFO, 0x21, "ns-info")                                                                    \
    X(NS_CONFIG, 0x22, "ns-config")                                                                \
    X(INVALIDATE_TAG, 0x23, "invalidate-tag")                                                      \
    X(INVALIDATE_KEY, 0x24, "invalidate-key")                                                      \
    X(FLUSH, 0x25, "flush")                                                                        \
    X(SUBSCRIBE, 0x30, "subscribe")                                                                \
    X(EVENT, 0x31, "event")                                                                        \
    X(PEER_SYNC, 0x40, "peer-sync")

enum rc_opcode {
#define RC__OP_ENUM(name, code, str) RC_OP_##name = (code),
    RC_OPCODES(RC__OP_ENUM)
#undef RC__OP_ENUM
};

/* SET conditions (rc_msg.cond). */
enum rc_cond {
    RC_COND_NONE = 0,      /* always store */
    RC_COND_IF_ABSENT = 1, /* store only if no live entry exists: else EXISTS */
    RC_COND_IF_NEWER = 2,  /* store only if stored entry version < entry_version: else NOT_NEWER */
    RC_COND_CAS = 3, /* store only if stored entry version == cas_version: else CAS_MISMATCH */
};

/* Invalidation modes (rc_msg.mode for INVALIDATE_TAG / INVALIDATE_KEY / key events). */
enum rc_inval_mode {
    RC_INVAL_HARD = 0, /* entries become misses */
    RC_INVAL_SOFT = 1, /* entries become stale */
};

/* Entry state in GET/LGET responses (rc_msg.state). */
enum rc_entry_state {
    RC_STATE_FRESH = 0,
    RC_STATE_STALE = 1,
};

/* Lease outcome in LGET responses (rc_msg.lease). */
enum rc_lease_state {
    RC_LEASE_NONE = 0,    /* no lease involved */
    RC_LEASE_GRANTED = 1, /* this reader holds the lease; token is valid */
    RC_LEASE_HELD = 2,    /* another reader holds it */
};

/* Pushed event kinds (rc_msg.kind in EVENT frames). */
enum rc_event_kind {
    RC_EV_KEY = 1,       /* ns, key, ns_version, mode: a key was written, deleted or invalidated */
    RC_EV_TAG = 2,       /* tag, mode */
    RC_EV_BUMP = 3,      /* ns, ns_version = new current version */
    RC_EV_FLUSH = 4,     /* everything is gone */
    RC_EV_RESYNC = 5,    /* replay impossible: drop the whole near-cache */
    RC_EV_HEARTBEAT = 6, /* seq = current node sequence */
    RC_EV_CLOSING = 7,   /* the server is about to close the channel; text = reason */
};

/* A read-only view of bytes inside a caller-owned buffer. */
typedef struct rc_slice {
    const uint8_t *ptr;
    uint32_t len;
} rc_slice;

/*
 * Limits a decoder enforces on bodies.  A receiver passes its configured
 * limits; rc_limits_wire() gives the widest values the format allows.
 */
typedef struct rc_limits {
    uint32_t max_frame;  /* header + body, bytes */
    uint32_t max_value;  /* value field, bytes */
    uint16_t max_key;    /* key bytes (>= 1) */
    uint8_t max_ns;      /* namespace name bytes (>= 1) */
    uint8_t max_tags;    /* tags (or names) in a list field */
    uint8_t max_tag_len; /* bytes per tag (>= 1) */
} rc_limits;

/*
 * One decoded or to-be-encoded frame.  Requests and responses share the
 * struct; each opcode uses the subset of fields listed in PROTOCOL.md and
 * ignores the rest (the encoder does not read them, the decoder zeroes them).
 */
typedef struct rc_msg {
    /* header */
    uint8_t opcode;      /* enum rc_opcode */
    uint8_t hflags;      /* RC_HF_* */
    uint16_t status;     /* enum rc_status; 0 in requests */
    uint32_t request_id; /* chosen by the client, echoed in the response */

    /* fixed-width fields */
    uint64_t ns_version;    /* request: 0 = current, else explicit; response: version served */
    uint64_t min_version;   /* GET/LGET: node adopts this version first if behind; 0 = none */
    uint64_t entry_version; /* writer-stamped entry version */
    uint64_t cas_version;   /* SET with RC_COND_CAS: expected stored entry version */
    uint64_t seq; /* SUBSCRIBE/EVENT/PEER_SYNC sequence; INVALIDATE_TAG response: its HLC stamp */
    uint64_t instance_id;  /* HELLO/SUBSCRIBE/EVENT/PEER_SYNC: node instance id (random per boot) */
    uint64_t cursor;       /* PEER_SYNC: snapshot position (0 = the control log) */
    uint64_t next;         /* PEER_SYNC response: where the next page starts */
    uint32_t ttl_ms;       /* request: TTL (0 = namespace default); response: remaining */
    uint32_t stale_ms;     /* SET: stale window after expiry (RC_STALE_DEFAULT = ns default) */
    uint32_t client_flags; /* opaque to the server */
    uint32_t wait_ms;      /* LGET: how long to park when another reader holds the lease */
    uint32_t max_frame;    /* HELLO response: server limits */
    uint32_t max_value;
    uint16_t max_key;
    uint8_t max_tags;
    uint8_t max_tag_len;
    uint8_t cond;                 /* enum rc_cond */
    uint8_t mode;                 /* enum rc_inval_mode */
    uint8_t state;                /* enum rc_entry_state */
    uint8_t lease;                /* enum rc_lease_state */
    uint8_t kind;                 /* enum rc_event_kind */
    uint8_t ntags;                /* number of strings in tags */
    uint8_t token[RC_TOKEN_SIZE]; /* lease token; all zero = none */

    /* variable-length fields (views) */
    rc_slice ns;  /* namespace name */
    rc_slice key; /* key bytes (binary-safe) */
    rc_slice tag; /* single tag (INVALIDATE_TAG, EVENT) */
    rc_slice
        tags; /* encoded string list: ntags x (u8 len, bytes); SET tags, SUBSCRIBE namespaces */
    rc_slice text;  /* short text: HELLO names, error messages, EVENT reasons */
    rc_slice value; /* value or long text (STATS, NS_INFO, NS_CONFIG); always last on the wire */
} rc_msg;

/* Widest limits the format allows (for clients decoding server responses). */
rc_limits rc_limits_wire(void);

/* Name of an opcode ("get", "set", ...) or NULL if unknown. */
const char *rc_opcode_name(uint8_t opcode);
/* Whether the opcode is known to this codec. */
bool rc_opcode_valid(uint8_t opcode);

/*
 * rc_decode_header - parse the 16-byte header at buf.
 * On success returns 0, fills the header fields of *msg (other fields are
 * zeroed) and sets *frame_len to header + body length.  Returns RC_EAGAIN if
 * fewer than 16 bytes are available.  Returns RC_EBAD_MAGIC, RC_EBAD_VERSION,
 * RC_EBAD_FRAME (reserved bits set) or RC_EFRAME_TOO_LARGE (frame_len over
 * max_frame); after any of these the stream cannot be resynchronised.
 * The opcode is not checked here (an unknown opcode is a body-level error).
 */
int rc_decode_header(const uint8_t *buf, size_t len, uint32_t max_frame, rc_msg *msg,
                     uint32_t *frame_len);

/*
 * rc_decode_body - decode the body of the frame whose header is in *msg.
 * body/len must be exactly the body (frame_len - 16 bytes).  Uses msg->opcode
 * and msg->hflags to choose the layout: request, response (the error layout
 * when status >= RC_STATUS_FIRST_ERROR) or push.  Returns 0, or
 * RC_EUNKNOWN_OPCODE, RC_EBAD_FRAME (truncated field, trailing bytes, bad
 * enum value), RC_EBAD_NAMESPACE, RC_EKEY_TOO_LONG, RC_EVALUE_TOO_LARGE,
 * RC_ETOO_MANY_TAGS, RC_ETAG_TOO_LONG per lim.  On error *msg's body fields
 * are unspecified but the frame can be skipped by its length.
 */
int rc_decode_body(const uint8_t *body, size_t len, const rc_limits *lim, rc_msg *msg);

/*
 * rc_decode - header and body together.  Returns 0 and sets *consumed to the
 * frame length, RC_EAGAIN when the buffer holds less than one whole frame
 * (*consumed = bytes needed in total, if the header is complete, else 0), or
 * an error as above; for body errors *consumed is still the frame length so
 * the caller can skip it.
 */
int rc_decode(const uint8_t *buf, size_t len, const rc_limits *lim, rc_msg *msg, size_t *consumed);

/*
 * rc_encoded_size - total frame size for msg (header + body), or a negative
 * error (RC_EUNKNOWN_OPCODE, RC_EINVAL when a field overflows its width).
 */
long rc_encoded_size(const rc_msg *msg);

/*
 * rc_encode - write msg as one frame into buf.  Returns the number of bytes
 * written, RC_EBUFFER if cap is too small, or the errors of rc_encoded_size.
 */
long rc_encode(const rc_msg *msg, uint8_t *buf, size_t cap);

/*
 * rc_encode_head - like rc_encode but stops before the value bytes (the body
 * length and value length still count msg->value.len).  The caller appends
 * exactly msg->value.len bytes; msg->value.ptr is not read.  This lets the
 * server copy a value straight from the store into its output buffer.
 */
long rc_encode_head(const rc_msg *msg, uint8_t *buf, size_t cap);

/* Iterate the encoded string list of a decoded msg (tags or names). */
typedef struct rc_list_iter {
    const uint8_t *pos;
    const uint8_t *end;
} rc_list_iter;

void rc_list_iter_init(rc_list_iter *it, rc_slice list);
/* Next string into *out; false at the end (or on malformed input, which a decoded msg never has).
 */
bool rc_list_next(rc_list_iter *it, rc_slice *out);

/*
 * rc_list_encode - encode n strings as a list (u8 len + bytes each) into buf.
 * Returns bytes written, RC_EBUFFER, RC_ETOO_MANY_TAGS (n > 255) or
 * RC_ETAG_TOO_LONG (a string over 255 bytes or empty).
 */
long rc_list_encode(const rc_slice *items, size_t n, uint8_t *buf, size_t cap);

/* Build a slice from a NUL-terminated string (NULL gives an empty slice). */
rc_slice rc_slice_str(const char *s);

#ifdef __cplusplus
}
#endif
#endif /* RECACHE_RC_PROTO_H */
