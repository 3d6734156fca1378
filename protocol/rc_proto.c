/*
 * rc_proto.c - the table-driven recache wire codec.
 *
 * Design.  Three small tables describe the whole format:
 *
 *   - wire types (rc__types): how one field type is laid out (fixed-width
 *     integer, 16-byte token, length-prefixed string, counted string list)
 *     and which limit and error codes bound it;
 *   - fields (RC__FIELDS): each named field maps a wire type onto one rc_msg
 *     member, with the accepted range for enumerated bytes;
 *   - layouts (rc__ops): per opcode, the request, response and push bodies
 *     as field lists ending in RC__F_END.
 *
 * One decode loop and one encode loop walk a layout, so no opcode has a
 * hand-written parser.  The encoder checks every field against the widest
 * limits the format allows (rc_limits_wire) using the same rules as the
 * decoder, which is what guarantees that anything it writes is decodable.
 *
 * The codec never allocates and keeps no state.  All reads go through a
 * bounds-checked cursor (base + offset, so an empty body may have a NULL
 * base without pointer arithmetic on NULL), and every length is compared
 * with the limit before it is compared with the bytes present, so an
 * oversized field is reported as oversized even when its bytes never came.
 */
#include <limits.h>
#include <stddef.h>
#include <string.h>

#include "recache/rc_proto.h"

#include "rc_le.h"

/* ---- wire types ----------------------------------------------------------------------------- */

enum rc__type {
    RC__T_U8,
    RC__T_U16,
    RC__T_U32,
    RC__T_U64,
    RC__T_TOKEN,
    RC__T_NS,
    RC__T_NS_OPT,
    RC__T_KEY,
    RC__T_KEY_OPT,
    RC__T_TAG,
    RC__T_TAG_OPT,
    RC__T_TEXT,
    RC__T_VALUE,
    RC__T_TAGS,
    RC__T_NSLIST,
    RC__T_ITEMS, /* a list value: u32 byte length, RC_ITEM_SIZE bytes per item */
    RC__T_IDS,   /* an id set: u16 byte length, RC_ID_SIZE bytes per id */
};

/* How a wire type is laid out. */
enum rc__kind {
    RC__K_INT,   /* little-endian unsigned integer of `width` bytes */
    RC__K_TOKEN, /* RC_TOKEN_SIZE raw bytes */
    RC__K_STR,   /* `width`-byte length, then that many bytes */
    RC__K_LIST,  /* u8 count, then count strings of type `item` */
};

/* Which limit bounds a string's length or a list's count. */
enum rc__limit {
    RC__L_NONE, /* only the prefix width bounds it */
    RC__L_NS,
    RC__L_KEY,
    RC__L_TAG_LEN,
    RC__L_TAGS,
    RC__L_VALUE,
};

typedef struct rc__type_rule {
    uint8_t kind;    /* enum rc__kind */
    uint8_t width;   /* integer width, or length/count prefix width */
    uint8_t min_len; /* shortest string allowed (0 or 1) */
    uint8_t limit;   /* enum rc__limit */
    uint8_t item;    /* lists: enum rc__type of each element */
    int err_empty;   /* returned for a string shorter than min_len (non-zero if min_len > 0) */
    int err_long;    /* returned for a string or list over its limit (always non-zero) */
    uint8_t unit;    /* strings: the length must be a multiple of this (0 = any length) */
    int err_unit;    /* returned for a length that is not a multiple of unit */
} rc__type_rule;

static const rc__type_rule rc__types[] = {
    [RC__T_U8] = {RC__K_INT, 1, 0, RC__L_NONE, 0, 0, 0, 0, 0},
    [RC__T_U16] = {RC__K_INT, 2, 0, RC__L_NONE, 0, 0, 0, 0, 0},
    [RC__T_U32] = {RC__K_INT, 4, 0, RC__L_NONE, 0, 0, 0, 0, 0},
    [RC__T_U64] = {RC__K_INT, 8, 0, RC__L_NONE, 0, 0, 0, 0, 0},
    [RC__T_TOKEN] = {RC__K_TOKEN, RC_TOKEN_SIZE, 0, RC__L_NONE, 0, 0, 0, 0, 0},
    [RC__T_NS] = {RC__K_STR, 1, 1, RC__L_NS, 0, RC_EBAD_NAMESPACE, RC_EBAD_NAMESPACE, 0, 0},
    [RC__T_NS_OPT] = {RC__K_STR, 1, 0, RC__L_NS, 0, 0, RC_EBAD_NAMESPACE, 0, 0},
    [RC__T_KEY] = {RC__K_STR, 2, 1, RC__L_KEY, 0, RC_EBAD_ARGUMENT, RC_EKEY_TOO_LONG, 0, 0},
    [RC__T_KEY_OPT] = {RC__K_STR, 2, 0, RC__L_KEY, 0, 0, RC_EKEY_TOO_LONG, 0, 0},
    [RC__T_TAG] = {RC__K_STR, 1, 1, RC__L_TAG_LEN, 0, RC_EBAD_ARGUMENT, RC_ETAG_TOO_LONG, 0, 0},
    [RC__T_TAG_OPT] = {RC__K_STR, 1, 0, RC__L_TAG_LEN, 0, 0, RC_ETAG_TOO_LONG, 0, 0},
    /* A u16 prefix cannot exceed the limit on input; the error serves the encoder's check. */
    [RC__T_TEXT] = {RC__K_STR, 2, 0, RC__L_NONE, 0, 0, RC_EBAD_FRAME, 0, 0},
    [RC__T_VALUE] = {RC__K_STR, 4, 0, RC__L_VALUE, 0, 0, RC_EVALUE_TOO_LARGE, 0, 0},
    [RC__T_TAGS] = {RC__K_LIST, 1, 0, RC__L_TAGS, RC__T_TAG, 0, RC_ETOO_MANY_TAGS, 0, 0},
    [RC__T_NSLIST] = {RC__K_LIST, 1, 0, RC__L_NONE, RC__T_NS, 0, RC_ETOO_MANY_TAGS, 0, 0},
    [RC__T_ITEMS] = {RC__K_STR, 4, 0, RC__L_VALUE, 0, 0, RC_EVALUE_TOO_LARGE, RC_ITEM_SIZE,
                     RC_EBAD_LIST},
    [RC__T_IDS] = {RC__K_STR, 2, 0, RC__L_NONE, 0, 0, RC_EBAD_FRAME, RC_ID_SIZE, RC_EBAD_FRAME},
};

/* The rc_msg member size each wire type maps onto (checked at compile time below). */
#define RC__MEMBER_SIZE_U8      1
#define RC__MEMBER_SIZE_U16     2
#define RC__MEMBER_SIZE_U32     4
#define RC__MEMBER_SIZE_U64     8
#define RC__MEMBER_SIZE_TOKEN   RC_TOKEN_SIZE
#define RC__MEMBER_SIZE_NS      sizeof(rc_slice)
#define RC__MEMBER_SIZE_NS_OPT  sizeof(rc_slice)
#define RC__MEMBER_SIZE_KEY     sizeof(rc_slice)
#define RC__MEMBER_SIZE_KEY_OPT sizeof(rc_slice)
#define RC__MEMBER_SIZE_TAG     sizeof(rc_slice)
#define RC__MEMBER_SIZE_TAG_OPT sizeof(rc_slice)
#define RC__MEMBER_SIZE_TEXT    sizeof(rc_slice)
#define RC__MEMBER_SIZE_VALUE   sizeof(rc_slice)
#define RC__MEMBER_SIZE_TAGS    sizeof(rc_slice)
#define RC__MEMBER_SIZE_NSLIST  sizeof(rc_slice)
#define RC__MEMBER_SIZE_ITEMS   sizeof(rc_slice)
#define RC__MEMBER_SIZE_IDS     sizeof(rc_slice)

/* ---- fields --------------------------------------------------------------------------------- */

/*
 * Every field that appears in some layout: X(NAME, TYPE, MEMBER, LO, HI).
 * LO..HI is the accepted range of integer fields (enumerations are
 * validated here; other integers take their whole width).
 */
#define RC__ANY UINT64_MAX
#define RC__FIELDS(X)                                                                              \
    X(NS_VERSION, U64, ns_version, 0, RC__ANY)                                                     \
    X(MIN_VERSION, U64, min_version, 0, RC__ANY)                                                   \
    X(ENTRY_VERSION, U64, entry_version, 0, RC__ANY)                                               \
    X(CAS_VERSION, U64, cas_version, 0, RC__ANY)                                                   \
    X(SEQ, U64, seq, 0, RC__ANY)                                                                   \
    X(INSTANCE_ID, U64, instance_id, 0, RC__ANY)                                                   \
    X(CURSOR, U64, cursor, 0, RC__ANY)                                                             \
    X(NEXT, U64, next, 0, RC__ANY)                                                                 \
    X(TTL_MS, U32, ttl_ms, 0, RC__ANY)                                                             \
    X(STALE_MS, U32, stale_ms, 0, RC__ANY)                                                         \
    X(CLIENT_FLAGS, U32, client_flags, 0, RC__ANY)                                                 \
    X(WAIT_MS, U32, wait_ms, 0, RC__ANY)                                                           \
    X(MAX_FRAME, U32, max_frame, 0, RC__ANY)                                                       \
    X(MAX_VALUE, U32, max_value, 0, RC__ANY)                                                       \
    X(MAX_KEY, U16, max_key, 0, RC__ANY)                                                           \
    X(MAX_TAGS, U8, max_tags, 0, RC__ANY)                                                          \
    X(MAX_TAG_LEN, U8, max_tag_len, 0, RC__ANY)                                                    \
    X(COND, U8, cond, RC_COND_NONE, RC_COND_CAS)                                                   \
    X(MODE, U8, mode, RC_INVAL_HARD, RC_INVAL_SOFT)                                                \
    X(STATE, U8, state, RC_STATE_FRESH, RC_STATE_STALE)                                            \
    X(LEASE, U8, lease, RC_LEASE_NONE, RC_LEASE_HELD)                                              \
    X(KIND, U8, kind, RC_EV_KEY, RC_EV_UNSUPPRESS)                                                 \
    X(TOKEN, TOKEN, token, 0, 0)                                                                   \
    X(NS, NS, ns, 0, 0)                                                                            \
    X(NS_OPT, NS_OPT, ns, 0, 0)                                                                    \
    X(KEY, KEY, key, 0, 0)                                                                         \
    X(KEY_OPT, KEY_OPT, key, 0, 0)                                                                 \
    X(TAG, TAG, tag, 0, 0)                                                                         \
    X(TAG_OPT, TAG_OPT, tag, 0, 0)                                                                 \
    X(TAGS, TAGS, tags, 0, 0)                                                                      \
    X(NSLIST, NSLIST, tags, 0, 0)                                                                  \
    X(TEXT, TEXT, text, 0, 0)                                                                      \
    X(VALUE, VALUE, value, 0, 0)                                                                   \
    X(TOP, U32, top, 0, RC__ANY)                                                                   \
    X(COUNT, U32, count, 0, RC__ANY)                                                               \
    X(STAMP, U64, stamp, 0, RC__ANY)                                                               \
    X(IDS, IDS, ids, 0, 0)                                                                         \
    X(ITEMS, ITEMS, value, 0, 0)

enum rc__field_id {
#define RC__FIELD_ENUM(name, type, member, lo, hi) RC__F_##name,
    RC__FIELDS(RC__FIELD_ENUM)
#undef RC__FIELD_ENUM
        RC__F_END /* terminates a layout */
};

typedef struct rc__field {
    uint8_t type;    /* enum rc__type */
    uint16_t offset; /* of the rc_msg member */
    uint64_t lo, hi; /* accepted range of an integer field */
} rc__field;

static const rc__field rc__fields[] = {
#define RC__FIELD_ROW(name, type, member, lo, hi)                                                  \
    [RC__F_##name] = {RC__T_##type, offsetof(rc_msg, member), (lo), (hi)},
    RC__FIELDS(RC__FIELD_ROW)
#undef RC__FIELD_ROW
};

/* A field's wire type must match the size of the member it is stored in. */
#define RC__FIELD_SIZE_CHECK(name, type, member, lo, hi)                                           \
    _Static_assert(sizeof(((rc_msg *)0)->member) == RC__MEMBER_SIZE_##type,                        \
                   "field " #name " does not fit rc_msg." #member);
RC__FIELDS(RC__FIELD_SIZE_CHECK)
#undef RC__FIELD_SIZE_CHECK

/* ---- layouts -------------------------------------------------------------------------------- */

#define F(name) RC__F_##name
#define END     RC__F_END

/* Hand-aligned: one layout per line reads like the table in PROTOCOL.md. */
/* clang-format off */
static const uint8_t rq_hello[]     = {F(TEXT), END};
static const uint8_t rq_empty[]     = {END};
static const uint8_t rq_get[]       = {F(NS_VERSION), F(MIN_VERSION), F(NS), F(KEY), END};
static const uint8_t rq_set[]       = {F(NS_VERSION), F(ENTRY_VERSION), F(CAS_VERSION), F(TTL_MS),
                                       F(STALE_MS), F(CLIENT_FLAGS), F(COND), F(TOKEN), F(NS),
                                       F(KEY), F(TAGS), F(VALUE), END};
static const uint8_t rq_delete[]    = {F(NS_VERSION), F(NS), F(KEY), END};
static const uint8_t rq_touch[]     = {F(NS_VERSION), F(TTL_MS), F(NS), F(KEY), END};
static const uint8_t rq_stats[]     = {F(NS_OPT), END};
static const uint8_t rq_lget[]      = {F(NS_VERSION), F(MIN_VERSION), F(WAIT_MS), F(NS), F(KEY),
                                       END};
static const uint8_t rq_bump[]      = {F(NS_VERSION), F(NS), END};
static const uint8_t rq_ns_info[]   = {F(NS), END};
static const uint8_t rq_ns_config[] = {F(NS), F(VALUE), END};
static const uint8_t rq_inval_tag[] = {F(MODE), F(TAG), END};
static const uint8_t rq_inval_key[] = {F(NS_VERSION), F(MODE), F(NS), F(KEY), END};
static const uint8_t rq_subscribe[] = {F(SEQ), F(INSTANCE_ID), F(NSLIST), END};
static const uint8_t rq_list_set[]  = {F(NS_VERSION), F(ENTRY_VERSION), F(CAS_VERSION), F(TTL_MS),
                                       F(STALE_MS), F(CLIENT_FLAGS), F(COND), F(TOKEN), F(NS),
                                       F(KEY), F(TAGS), F(ITEMS), END};
static const uint8_t rq_list_get[]  = {F(NS_VERSION), F(MIN_VERSION), F(TOP), F(NS), F(KEY),
                                       F(IDS), END};
static const uint8_t rq_list_lget[] = {F(NS_VERSION), F(MIN_VERSION), F(WAIT_MS), F(TOP), F(NS),
                                       F(KEY), F(IDS), END};
static const uint8_t rq_list_rm[]   = {F(NS_VERSION), F(NS), F(KEY), F(IDS), END};
static const uint8_t rq_suppress[]  = {F(TTL_MS), F(NS), F(IDS), END};
static const uint8_t rq_unsuppress[] = {F(NS), F(IDS), END};
static const uint8_t rq_peer_sync[] = {F(SEQ), F(INSTANCE_ID), F(CURSOR), END};

static const uint8_t rs_hello[]      = {F(INSTANCE_ID), F(MAX_FRAME), F(MAX_VALUE), F(MAX_KEY),
                                        F(MAX_TAGS), F(MAX_TAG_LEN), F(TEXT), END};
static const uint8_t rs_empty[]      = {END};
static const uint8_t rs_get[]        = {F(NS_VERSION), F(ENTRY_VERSION), F(CLIENT_FLAGS),
                                        F(TTL_MS), F(STATE), F(VALUE), END};
static const uint8_t rs_set[]        = {F(NS_VERSION), F(ENTRY_VERSION), END};
static const uint8_t rs_ns_version[] = {F(NS_VERSION), END};
static const uint8_t rs_text[]       = {F(VALUE), END};
static const uint8_t rs_lget[]       = {F(NS_VERSION), F(ENTRY_VERSION), F(CLIENT_FLAGS),
                                        F(TTL_MS), F(STATE), F(LEASE), F(TOKEN), F(VALUE), END};
static const uint8_t rs_ns_text[]    = {F(NS_VERSION), F(VALUE), END};
static const uint8_t rs_inval_tag[]  = {F(SEQ), END};
static const uint8_t rs_subscribe[]  = {F(SEQ), F(INSTANCE_ID), END};
static const uint8_t rs_list_get[]   = {F(NS_VERSION), F(ENTRY_VERSION), F(CLIENT_FLAGS),
                                        F(TTL_MS), F(STATE), F(ITEMS), END};
static const uint8_t rs_list_lget[]  = {F(NS_VERSION), F(ENTRY_VERSION), F(CLIENT_FLAGS),
                                        F(TTL_MS), F(STATE), F(LEASE), F(TOKEN), F(ITEMS), END};
static const uint8_t rs_list_rm[]    = {F(NS_VERSION), F(ENTRY_VERSION), F(COUNT), END};
static const uint8_t rs_suppress[]   = {F(STAMP), F(COUNT), END};
static const uint8_t rs_peer_sync[]  = {F(INSTANCE_ID), F(SEQ), F(CURSOR), F(NEXT), F(VALUE), END};

/* Any opcode, status >= RC_STATUS_FIRST_ERROR. */
static const uint8_t rs_error[]      = {F(TEXT), END};

static const uint8_t push_event[]    = {F(SEQ), F(INSTANCE_ID), F(NS_VERSION), F(KIND), F(MODE),
                                        F(NS_OPT), F(KEY_OPT), F(TAG_OPT), F(TEXT), END};
/* clang-format on */

#undef END
#undef F

typedef struct rc__op_layout {
    const uint8_t *request;  /* NULL: not valid as a request */
    const uint8_t *response; /* NULL: no non-error response */
} rc__op_layout;

/* Indexed by opcode; EVENT only travels as a push (push_event). */
static const rc__op_layout rc__ops[256] = {
    [RC_OP_HELLO] = {rq_hello, rs_hello},
    [RC_OP_PING] = {rq_empty, rs_empty},
    [RC_OP_GET] = {rq_get, rs_get},
    [RC_OP_SET] = {rq_set, rs_set},
    [RC_OP_DELETE] = {rq_delete, rs_ns_version},
    [RC_OP_TOUCH] = {rq_touch, rs_ns_version},
    [RC_OP_STATS] = {rq_stats, rs_text},
    [RC_OP_LGET] = {rq_lget, rs_lget},
    [RC_OP_BUMP] = {rq_bump, rs_ns_version},
    [RC_OP_NS_INFO] = {rq_ns_info, rs_ns_text},
    [RC_OP_NS_CONFIG] = {rq_ns_config, rs_ns_text},
    [RC_OP_INVALIDATE_TAG] = {rq_inval_tag, rs_inval_tag},
    [RC_OP_INVALIDATE_KEY] = {rq_inval_key, rs_ns_version},
    [RC_OP_FLUSH] = {rq_empty, rs_empty},
    [RC_OP_SUBSCRIBE] = {rq_subscribe, rs_subscribe},
    [RC_OP_LIST_SET] = {rq_list_set, rs_set},
    [RC_OP_LIST_GET] = {rq_list_get, rs_list_get},
    [RC_OP_LIST_LGET] = {rq_list_lget, rs_list_lget},
    [RC_OP_LIST_REMOVE] = {rq_list_rm, rs_list_rm},
    [RC_OP_SUPPRESS] = {rq_suppress, rs_suppress},
    [RC_OP_UNSUPPRESS] = {rq_unsuppress, rs_suppress},
    [RC_OP_SUPPRESSED] = {rq_ns_info, rs_text},
    [RC_OP_PEER_SYNC] = {rq_peer_sync, rs_peer_sync},
};

static const char *const rc__op_names[256] = {
#define RC__OP_NAME(name, code, str) [code] = str,
    RC_OPCODES(RC__OP_NAME)
#undef RC__OP_NAME
};

/*
 * rc__select_layout - the body layout for msg's header fields, shared by
 * both directions so the encoder cannot write what the decoder refuses.
 * Returns 0 and *out, RC_EUNKNOWN_OPCODE (no such operation in that
 * direction), or RC_EBAD_FRAME (flags, status or request id inconsistent
 * with the direction).  Error responses decode for any opcode, because a
 * server answers an unknown opcode with an error carrying that opcode.
 */
static int rc__select_layout(const rc_msg *msg, const uint8_t **out)
{
    if ((msg->hflags & ~RC_HF_MASK) != 0 || msg->hflags == RC_HF_MASK)
        return RC_EBAD_FRAME;
    if (msg->hflags & RC_HF_PUSH) {
        if (msg->opcode != RC_OP_EVENT || msg->status != 0 || msg->request_id != 0)
            return RC_EBAD_FRAME;
        *out = push_event;
        return 0;
    }
    if (msg->hflags & RC_HF_RESPONSE) {
        *out = msg->status >= RC_STATUS_FIRST_ERROR ? rs_error : rc__ops[msg->opcode].response;
        return *out ? 0 : RC_EUNKNOWN_OPCODE;
    }
    *out = rc__ops[msg->opcode].request;
    if (*out == NULL)
        return RC_EUNKNOWN_OPCODE;
    return msg->status == 0 ? 0 : RC_EBAD_FRAME;
}

/* ---- little helpers ------------------------------------------------------------------------- */

/* The limit that bounds a string length or list count under lim. */
static uint64_t rc__limit_of(const rc__type_rule *t, const rc_limits *lim)
{
    switch (t->limit) {
    case RC__L_NS:
        return lim->max_ns;
    case RC__L_KEY:
        return lim->max_key;
    case RC__L_TAG_LEN:
        return lim->max_tag_len;
    case RC__L_TAGS:
        return lim->max_tags;
    case RC__L_VALUE:
        return lim->max_value;
    default:
        return (UINT64_C(1) << (8 * t->width)) - 1; /* whatever the prefix can express */
    }
}

/* 0 if len is allowed for a string of rule t, else the rule's error. */
static int rc__check_len(const rc__type_rule *t, uint64_t len, const rc_limits *lim)
{
    if (len < t->min_len)
        return t->err_empty;
    if (len > rc__limit_of(t, lim))
        return t->err_long;
    if (t->unit > 1 && len % t->unit != 0)
        return t->err_unit;
    return 0;
}

/* Whether a wire type is the frame's trailing value (rc_encode_head leaves its bytes out). */
static bool rc__is_value(uint8_t type)
{
    return type == RC__T_VALUE || type == RC__T_ITEMS;
}

static void *rc__member(rc_msg *msg, const rc__field *f)
{
    return (uint8_t *)msg + f->offset;
}

static const void *rc__cmember(const rc_msg *msg, const rc__field *f)
{
    return (const uint8_t *)msg + f->offset;
}

static uint64_t rc__load_uint(const void *p, unsigned width)
{
    switch (width) {
    case 1:
        return *(const uint8_t *)p;
    case 2:
        return *(const uint16_t *)p;
    case 4:
        return *(const uint32_t *)p;
    default:
        return *(const uint64_t *)p;
    }
}

/* Stores v into a member of `width` bytes; callers have range-checked v. */
static void rc__store_uint(void *p, unsigned width, uint64_t v)
{
    switch (width) {
    case 1:
        *(uint8_t *)p = (uint8_t)v;
        break;
    case 2:
        *(uint16_t *)p = (uint16_t)v;
        break;
    case 4:
        *(uint32_t *)p = (uint32_t)v;
        break;
    default:
        *(uint64_t *)p = v;
        break;
    }
}

/* ---- decoding ------------------------------------------------------------------------------- */

/* A bounds-checked read cursor over [base, base + len). */
typedef struct rc__reader {
    const uint8_t *base;
    size_t len;
    size_t off;
} rc__reader;

/* Take n bytes: false (nothing consumed) if fewer remain. */
static bool rc__take(rc__reader *r, uint64_t n, const uint8_t **out)
{
    if (n > r->len - r->off)
        return false;
    *out = r->base ? r->base + r->off : NULL;
    r->off += (size_t)n;
    return true;
}

/* One length-prefixed string of rule t into *out. */
static int rc__read_str(rc__reader *r, const rc__type_rule *t, const rc_limits *lim, rc_slice *out)
{
    const uint8_t *prefix;
    if (!rc__take(r, t->width, &prefix))
        return RC_EBAD_FRAME;
    uint64_t len = rc__le_get(prefix, t->width);
    int err = rc__check_len(t, len, lim);
    if (err)
        return err;
    if (!rc__take(r, len, &out->ptr))
        return RC_EBAD_FRAME;
    out->len = (uint32_t)len;
    return 0;
}

/*
 * A counted list: the count is checked against the list's limit before any
 * item is read, each item against the item rule.  *out spans the items
 * (without the count byte), the form rc_list_iter walks.
 */
static int rc__read_list(rc__reader *r, const rc__type_rule *t, const rc_limits *lim, rc_slice *out,
                         uint8_t *count)
{
    const uint8_t *prefix;
    if (!rc__take(r, 1, &prefix))
        return RC_EBAD_FRAME;
    if (*prefix > rc__limit_of(t, lim))
        return t->err_long;
    size_t start = r->off;
    for (unsigned i = 0; i < *prefix; i++) {
        rc_slice item;
        int err = rc__read_str(r, &rc__types[t->item], lim, &item);
        if (err)
            return err;
    }
    *count = *prefix;
    out->ptr = r->base ? r->base + start : NULL;
    out->len = (uint32_t)(r->off - start);
    return 0;
}

static int rc__read_uint(rc__reader *r, const rc__field *f, unsigned width, rc_msg *msg)
{
    const uint8_t *p;
    if (!rc__take(r, width, &p))
        return RC_EBAD_FRAME;
    uint64_t v = rc__le_get(p, width);
    if (v < f->lo || v > f->hi)
        return RC_EBAD_FRAME;
    rc__store_uint(rc__member(msg, f), width, v);
    return 0;
}

/* Decode one field of the layout into its rc_msg member. */
static int rc__read_field(rc__reader *r, uint8_t fid, const rc_limits *lim, rc_msg *msg)
{
    const rc__field *f = &rc__fields[fid];
    const rc__type_rule *t = &rc__types[f->type];
    const uint8_t *p;

    switch (t->kind) {
    case RC__K_INT:
        return rc__read_uint(r, f, t->width, msg);
    case RC__K_TOKEN:
        if (!rc__take(r, RC_TOKEN_SIZE, &p))
            return RC_EBAD_FRAME;
        memcpy(msg->token, p, RC_TOKEN_SIZE);
        return 0;
    case RC__K_STR:
        return rc__read_str(r, t, lim, rc__member(msg, f));
    default:
        return rc__read_list(r, t, lim, rc__member(msg, f), &msg->ntags);
    }
}

/* Zero everything but the four header fields. */
static void rc__clear_body(rc_msg *msg)
{
    rc_msg head = {0};
    head.opcode = msg->opcode;
    head.hflags = msg->hflags;
    head.status = msg->status;
    head.request_id = msg->request_id;
    *msg = head;
}

int rc_decode_body(const uint8_t *body, size_t len, const rc_limits *lim, rc_msg *msg)
{
    const uint8_t *layout;
    rc__clear_body(msg);
    int err = rc__select_layout(msg, &layout);
    if (err)
        return err;

    rc__reader r = {body, len, 0};
    for (const uint8_t *fid = layout; *fid != RC__F_END; fid++) {
        err = rc__read_field(&r, *fid, lim, msg);
        if (err)
            return err;
    }
    return r.off == r.len ? 0 : RC_EBAD_FRAME;
}

int rc_decode_header(const uint8_t *buf, size_t len, uint32_t max_frame, rc_msg *msg,
                     uint32_t *frame_len)
{
    memset(msg, 0, sizeof *msg);
    if (len < RC_HEADER_SIZE)
        return RC_EAGAIN;
    if (buf[0] != RC_PROTO_MAGIC)
        return RC_EBAD_MAGIC;
    if (buf[1] != RC_PROTO_VERSION)
        return RC_EBAD_VERSION;

    /* Filled before the remaining checks so an error response can echo the id. */
    msg->opcode = buf[2];
    msg->hflags = buf[3];
    msg->status = (uint16_t)rc__le_get(buf + 4, 2);
    msg->request_id = (uint32_t)rc__le_get(buf + 8, 4);

    if ((msg->hflags & ~RC_HF_MASK) != 0 || msg->hflags == RC_HF_MASK ||
        rc__le_get(buf + 6, 2) != 0)
        return RC_EBAD_FRAME;
    uint64_t total = RC_HEADER_SIZE + rc__le_get(buf + 12, 4); /* 64-bit: cannot wrap */
    if (total > max_frame)
        return RC_EFRAME_TOO_LARGE;
    *frame_len = (uint32_t)total;
    return 0;
}

int rc_decode(const uint8_t *buf, size_t len, const rc_limits *lim, rc_msg *msg, size_t *consumed)
{
    uint32_t frame_len;
    *consumed = 0;
    int err = rc_decode_header(buf, len, lim->max_frame, msg, &frame_len);
    if (err)
        return err;
    *consumed = frame_len;
    if (len < frame_len)
        return RC_EAGAIN;
    return rc_decode_body(buf + RC_HEADER_SIZE, frame_len - RC_HEADER_SIZE, lim, msg);
}

/* ---- encoding ------------------------------------------------------------------------------- */

rc_limits rc_limits_wire(void)
{
    rc_limits lim = {
        .max_frame = UINT32_MAX,
        .max_value = UINT32_MAX,
        .max_key = RC_WIRE_MAX_KEY,
        .max_ns = RC_WIRE_MAX_NS,
        .max_tags = RC_WIRE_MAX_TAGS,
        .max_tag_len = RC_WIRE_MAX_TAG_LEN,
    };
    return lim;
}

/*
 * Check an encoded list (msg->tags/ntags) by decoding it exactly as a
 * receiver would under the wire limits: it must hold exactly `count` valid
 * items and nothing else.
 */
static bool rc__list_valid(const rc__type_rule *t, rc_slice list, uint8_t count)
{
    rc_limits wire = rc_limits_wire();
    rc__reader r = {list.ptr, list.len, 0};
    if (list.len > 0 && list.ptr == NULL)
        return false;
    for (unsigned i = 0; i < count; i++) {
        rc_slice item;
        if (rc__read_str(&r, &rc__types[t->item], &wire, &item) != 0)
            return false;
    }
    return r.off == r.len;
}

/*
 * Wire bytes of one field of msg, after checking it is encodable: integers
 * in range, strings within the wire limits and with a readable pointer
 * (except the value when need_value is false: rc_encode_head never reads
 * it), lists well formed.  Returns false for anything the decoder would
 * refuse under rc_limits_wire().
 */
static bool rc__field_size(const rc_msg *msg, uint8_t fid, bool need_value, uint64_t *size)
{
    const rc_limits wire = rc_limits_wire();
    const rc__field *f = &rc__fields[fid];
    const rc__type_rule *t = &rc__types[f->type];
    const void *member = rc__cmember(msg, f);

    if (t->kind == RC__K_INT) {
        uint64_t v = rc__load_uint(member, t->width);
        *size = t->width;
        return v >= f->lo && v <= f->hi;
    }
    if (t->kind == RC__K_TOKEN) {
        *size = RC_TOKEN_SIZE;
        return true;
    }
    const rc_slice *s = member;
    *size = (uint64_t)t->width + s->len;
    if (t->kind == RC__K_LIST)
        return rc__list_valid(t, *s, msg->ntags);
    bool readable = s->len == 0 || s->ptr != NULL || (rc__is_value(f->type) && !need_value);
    return readable && rc__check_len(t, s->len, &wire) == 0;
}

/*
 * rc__measure - validate msg and size its frame.  Sets *layout, *total
 * (header + body) and *value_len (the value bytes inside *total, 0 when the
 * layout has no value).  Returns 0, RC_EUNKNOWN_OPCODE or RC_EINVAL.
 */
static int rc__measure(const rc_msg *msg, bool need_value, const uint8_t **layout, uint64_t *total,
                       uint64_t *value_len)
{
    int err = rc__select_layout(msg, layout);
    if (err)
        return err == RC_EUNKNOWN_OPCODE ? err : RC_EINVAL;

    *total = RC_HEADER_SIZE;
    *value_len = 0;
    for (const uint8_t *fid = *layout; *fid != RC__F_END; fid++) {
        uint64_t size;
        if (!rc__field_size(msg, *fid, need_value, &size))
            return RC_EINVAL;
        *total += size;
        if (rc__is_value(rc__fields[*fid].type))
            *value_len = msg->value.len;
    }
    if (*total > UINT32_MAX || *total > LONG_MAX)
        return RC_EINVAL;
    return 0;
}

/* Append one field of msg at *pos (space already checked); the value bytes only if with_value. */
static void rc__write_field(const rc_msg *msg, uint8_t fid, bool with_value, uint8_t **pos)
{
    const rc__field *f = &rc__fields[fid];
    const rc__type_rule *t = &rc__types[f->type];
    const void *member = rc__cmember(msg, f);

    if (t->kind == RC__K_INT) {
        rc__le_put(*pos, rc__load_uint(member, t->width), t->width);
        *pos += t->width;
        return;
    }
    if (t->kind == RC__K_TOKEN) {
        memcpy(*pos, msg->token, RC_TOKEN_SIZE);
        *pos += RC_TOKEN_SIZE;
        return;
    }
    const rc_slice *s = member;
    rc__le_put(*pos, t->kind == RC__K_LIST ? msg->ntags : s->len, t->width);
    *pos += t->width;
    if (s->len > 0 && (with_value || !rc__is_value(f->type))) {
        memcpy(*pos, s->ptr, s->len);
        *pos += s->len;
    }
}

static void rc__write_header(const rc_msg *msg, uint32_t body_len, uint8_t *p)
{
    p[0] = RC_PROTO_MAGIC;
    p[1] = RC_PROTO_VERSION;
    p[2] = msg->opcode;
    p[3] = msg->hflags;
    rc__le_put(p + 4, msg->status, 2);
    rc__le_put(p + 6, 0, 2);
    rc__le_put(p + 8, msg->request_id, 4);
    rc__le_put(p + 12, body_len, 4);
}

/* Shared body of rc_encode and rc_encode_head. */
static long rc__encode(const rc_msg *msg, bool with_value, uint8_t *buf, size_t cap)
{
    const uint8_t *layout;
    uint64_t total, value_len;
    int err = rc__measure(msg, with_value, &layout, &total, &value_len);
    if (err)
        return err;
    uint64_t need = with_value ? total : total - value_len;
    if (need > cap)
        return RC_EBUFFER;

    rc__write_header(msg, (uint32_t)(total - RC_HEADER_SIZE), buf);
    uint8_t *pos = buf + RC_HEADER_SIZE;
    for (const uint8_t *fid = layout; *fid != RC__F_END; fid++)
        rc__write_field(msg, *fid, with_value, &pos);
    return (long)need;
}

long rc_encoded_size(const rc_msg *msg)
{
    const uint8_t *layout;
    uint64_t total, value_len;
    int err = rc__measure(msg, false, &layout, &total, &value_len);
    return err ? err : (long)total;
}

long rc_encode(const rc_msg *msg, uint8_t *buf, size_t cap)
{
    return rc__encode(msg, true, buf, cap);
}

long rc_encode_head(const rc_msg *msg, uint8_t *buf, size_t cap)
{
    return rc__encode(msg, false, buf, cap);
}

/* ---- opcodes, lists, slices ----------------------------------------------------------------- */

const char *rc_opcode_name(uint8_t opcode)
{
    return rc__op_names[opcode];
}

bool rc_opcode_valid(uint8_t opcode)
{
    return rc__op_names[opcode] != NULL;
}

void rc_list_iter_init(rc_list_iter *it, rc_slice list)
{
    it->pos = list.ptr;
    it->end = list.ptr ? list.ptr + list.len : NULL;
}

/*
 * rc_list_next - the next string of the list.  An item whose length runs
 * past the end stops the walk (and every later call) rather than reading
 * out of bounds.
 */
bool rc_list_next(rc_list_iter *it, rc_slice *out)
{
    if (it->pos == it->end)
        return false;
    size_t left = (size_t)(it->end - it->pos);
    size_t len = it->pos[0];
    if (len >= left) {
        it->pos = it->end;
        return false;
    }
    out->ptr = it->pos + 1;
    out->len = (uint32_t)len;
    it->pos += 1 + len;
    return true;
}

/*
 * rc_list_encode - see rc_proto.h.  Everything is validated before the first
 * byte is written, so on error buf is untouched.  An item with a non-zero
 * length and a NULL pointer is RC_EINVAL.
 */
long rc_list_encode(const rc_slice *items, size_t n, uint8_t *buf, size_t cap)
{
    if (n > RC_WIRE_MAX_TAGS)
        return RC_ETOO_MANY_TAGS;
    size_t need = 0;
    for (size_t i = 0; i < n; i++) {
        if (items[i].len == 0 || items[i].len > RC_WIRE_MAX_TAG_LEN)
            return RC_ETAG_TOO_LONG;
        if (items[i].ptr == NULL)
            return RC_EINVAL;
        need += 1 + items[i].len;
    }
    if (need > cap)
        return RC_EBUFFER;
    for (size_t i = 0; i < n; i++) {
        *buf++ = (uint8_t)items[i].len;
        memcpy(buf, items[i].ptr, items[i].len);
        buf += items[i].len;
    }
    return (long)need;
}

/* Strings longer than a slice can describe (4 GiB) are clamped; no field could carry them. */
rc_slice rc_slice_str(const char *s)
{
    rc_slice out = {NULL, 0};
    if (s != NULL) {
        size_t len = strlen(s);
        out.ptr = (const uint8_t *)s;
        out.len = len > UINT32_MAX ? UINT32_MAX : (uint32_t)len;
    }
    return out;
}
