/*
 * test_proto.c - tests of the wire codec (protocol/rc_proto.c, rc_errors.c).
 *
 * Design.  The codec's own layout tables could be wrong in a way a round
 * trip never notices (two fields swapped in both directions), so this test
 * carries an independent copy of the layouts written from PROTOCOL.md
 * (spec_cases) and a tiny spec writer that serialises a message byte by
 * byte from it.  Every opcode and direction is checked three ways: the
 * encoder's bytes equal the spec writer's, the decoder returns every field
 * that was set and zeroes the others, and rc_encode_head + value equals
 * rc_encode.  The malformed-input cases then mutate valid frames (or build
 * bodies by hand) so each rejection class is hit with its exact error code.
 */
#include <stdint.h>
#include <string.h>

#include "rc_test.h"
#include "recache/rc_proto.h"

/* ---- sample message -------------------------------------------------------------------------- */

static const uint8_t sample_key[] = {'u', 's', 'e', 'r', ':', '4', '2', 0x00, 0xFF, 0x7F};
static uint8_t sample_value[300];
static uint8_t sample_tags[64];
static uint8_t sample_ids[3 * RC_ID_SIZE];

/* Limits a server would use by default (PROTOCOL.md "Limits"). */
static rc_limits server_limits(void)
{
    rc_limits lim = {2u << 20, 1u << 20, 250, 64, 32, 128};
    return lim;
}

/* Every rc_msg field set to a distinctive, valid, non-zero value. */
static rc_msg sample_msg(uint8_t opcode, uint8_t hflags, uint16_t status)
{
    static const rc_slice tags[] = {{(const uint8_t *)"product:QL2000", 14},
                                    {(const uint8_t *)"segment:eu", 10},
                                    {(const uint8_t *)"x", 1}};
    for (size_t i = 0; i < sizeof sample_value; i++)
        sample_value[i] = (uint8_t)(i * 7 + 3);
    long tags_len = rc_list_encode(tags, 3, sample_tags, sizeof sample_tags);
    RC_CHECK(tags_len == 1 + 14 + 1 + 10 + 1 + 1);

    rc_msg m = {.opcode = opcode, .hflags = hflags, .status = status};
    m.request_id = (hflags & RC_HF_PUSH) ? 0 : 0xC0FFEE01u;
    m.ns_version = 0x0102030405060708u;
    m.min_version = 0x1112131415161718u;
    m.entry_version = 0x2122232425262728u;
    m.cas_version = 0x3132333435363738u;
    m.seq = 0x4142434445464748u;
    m.instance_id = 0x5152535455565758u;
    m.cursor = 0x5A5B5C5D5E5F6061u;
    m.next = 0x6A6B6C6D6E6F7071u;
    m.ttl_ms = 0x61626364u;
    m.stale_ms = 0x71727374u;
    m.client_flags = 0x81828384u;
    m.wait_ms = 0x91929394u;
    m.max_frame = 0xA1A2A3A4u;
    m.max_value = 0xB1B2B3B4u;
    m.max_key = 0xC1C2u;
    m.max_tags = 0xD1;
    m.max_tag_len = 0xE1;
    m.cond = RC_COND_CAS;
    m.mode = RC_INVAL_SOFT;
    m.state = RC_STATE_STALE;
    m.lease = RC_LEASE_HELD;
    m.kind = RC_EV_CLOSING;
    for (unsigned i = 0; i < RC_TOKEN_SIZE; i++)
        m.token[i] = (uint8_t)(0xF0 + i);
    m.ns = rc_slice_str("recs");
    m.key = (rc_slice){sample_key, sizeof sample_key};
    m.tag = rc_slice_str("product:QL2000");
    m.tags = (rc_slice){sample_tags, (uint32_t)tags_len};
    m.ntags = 3;
    m.text = rc_slice_str("a short text");
    m.value = (rc_slice){sample_value, sizeof sample_value}; /* also 25 list items */
    m.top = 0xA5A6A7A8u;
    m.count = 0xB5B6B7B8u;
    m.stamp = 0xC1C2C3C4C5C6C7C8u;
    for (unsigned i = 0; i < 3; i++)
        rc_id_put(sample_ids + i * RC_ID_SIZE, 0xD000000000000000u + i);
    m.ids = (rc_slice){sample_ids, sizeof sample_ids};
    return m;
}

/* ---- the layouts, as the spec states them ---------------------------------------------------- */

enum spec_field {
    SF_END,
    SF_NS_VERSION,
    SF_MIN_VERSION,
    SF_ENTRY_VERSION,
    SF_CAS_VERSION,
    SF_SEQ,
    SF_INSTANCE_ID,
    SF_CURSOR,
    SF_NEXT,
    SF_TTL_MS,
    SF_STALE_MS,
    SF_CLIENT_FLAGS,
    SF_WAIT_MS,
    SF_MAX_FRAME,
    SF_MAX_VALUE,
    SF_MAX_KEY,
    SF_MAX_TAGS,
    SF_MAX_TAG_LEN,
    SF_COND,
    SF_MODE,
    SF_STATE,
    SF_LEASE,
    SF_KIND,
    SF_TOKEN,
    SF_NS,
    SF_KEY,
    SF_TAG,
    SF_LIST, /* TAGS or NSLIST: u8 count + items */
    SF_TEXT,
    SF_VALUE,
    SF_TOP,
    SF_NCOUNT, /* the count member (SF_COUNT ends the enumeration) */
    SF_STAMP,
    SF_IDS,
    SF_COUNT
};

typedef struct spec_case {
    uint8_t opcode;
    uint8_t hflags;
    uint16_t status;
    uint8_t fields[16];
} spec_case;

#define RQ(op, ...)                                                                                \
    {                                                                                              \
        RC_OP_##op, 0, 0,                                                                          \
        {                                                                                          \
            __VA_ARGS__                                                                            \
        }                                                                                          \
    }
#define RS(op, ...)                                                                                \
    {                                                                                              \
        RC_OP_##op, RC_HF_RESPONSE, 0,                                                             \
        {                                                                                          \
            __VA_ARGS__                                                                            \
        }                                                                                          \
    }

static const spec_case spec_cases[] = {
    RQ(HELLO, SF_TEXT),
    RQ(PING, SF_END),
    RQ(GET, SF_NS_VERSION, SF_MIN_VERSION, SF_NS, SF_KEY),
    RQ(SET, SF_NS_VERSION, SF_ENTRY_VERSION, SF_CAS_VERSION, SF_TTL_MS, SF_STALE_MS,
       SF_CLIENT_FLAGS, SF_COND, SF_TOKEN, SF_NS, SF_KEY, SF_LIST, SF_VALUE),
    RQ(DELETE, SF_NS_VERSION, SF_NS, SF_KEY),
    RQ(TOUCH, SF_NS_VERSION, SF_TTL_MS, SF_NS, SF_KEY),
    RQ(STATS, SF_NS),
    RQ(LGET, SF_NS_VERSION, SF_MIN_VERSION, SF_WAIT_MS, SF_NS, SF_KEY),
    RQ(BUMP, SF_NS_VERSION, SF_NS),
    RQ(NS_INFO, SF_NS),
    RQ(NS_CONFIG, SF_NS, SF_VALUE),
    RQ(INVALIDATE_TAG, SF_MODE, SF_TAG),
    RQ(INVALIDATE_KEY, SF_NS_VERSION, SF_MODE, SF_NS, SF_KEY),
    RQ(FLUSH, SF_END),
    RQ(SUBSCRIBE, SF_SEQ, SF_INSTANCE_ID, SF_LIST),
    RQ(LIST_SET, SF_NS_VERSION, SF_ENTRY_VERSION, SF_CAS_VERSION, SF_TTL_MS, SF_STALE_MS,
       SF_CLIENT_FLAGS, SF_COND, SF_TOKEN, SF_NS, SF_KEY, SF_LIST, SF_VALUE),
    RQ(LIST_GET, SF_NS_VERSION, SF_MIN_VERSION, SF_TOP, SF_NS, SF_KEY, SF_IDS),
    RQ(LIST_LGET, SF_NS_VERSION, SF_MIN_VERSION, SF_WAIT_MS, SF_TOP, SF_NS, SF_KEY, SF_IDS),
    RQ(LIST_REMOVE, SF_NS_VERSION, SF_NS, SF_KEY, SF_IDS),
    RQ(SUPPRESS, SF_TTL_MS, SF_NS, SF_IDS),
    RQ(UNSUPPRESS, SF_NS, SF_IDS),
    RQ(SUPPRESSED, SF_NS),
    RQ(PEER_SYNC, SF_SEQ, SF_INSTANCE_ID, SF_CURSOR),
    RS(HELLO, SF_INSTANCE_ID, SF_MAX_FRAME, SF_MAX_VALUE, SF_MAX_KEY, SF_MAX_TAGS, SF_MAX_TAG_LEN,
       SF_TEXT),
    RS(PING, SF_END),
    RS(GET, SF_NS_VERSION, SF_ENTRY_VERSION, SF_CLIENT_FLAGS, SF_TTL_MS, SF_STATE, SF_VALUE),
    {RC_OP_GET,
     RC_HF_RESPONSE,
     RC_STATUS_MISS,
     {SF_NS_VERSION, SF_ENTRY_VERSION, SF_CLIENT_FLAGS, SF_TTL_MS, SF_STATE, SF_VALUE}},
    RS(SET, SF_NS_VERSION, SF_ENTRY_VERSION),
    {RC_OP_SET, RC_HF_RESPONSE, RC_STATUS_NOT_NEWER, {SF_NS_VERSION, SF_ENTRY_VERSION}},
    RS(DELETE, SF_NS_VERSION),
    RS(TOUCH, SF_NS_VERSION),
    RS(STATS, SF_VALUE),
    RS(LGET, SF_NS_VERSION, SF_ENTRY_VERSION, SF_CLIENT_FLAGS, SF_TTL_MS, SF_STATE, SF_LEASE,
       SF_TOKEN, SF_VALUE),
    RS(BUMP, SF_NS_VERSION),
    RS(NS_INFO, SF_NS_VERSION, SF_VALUE),
    RS(NS_CONFIG, SF_NS_VERSION, SF_VALUE),
    RS(INVALIDATE_TAG, SF_SEQ),
    RS(INVALIDATE_KEY, SF_NS_VERSION),
    RS(FLUSH, SF_END),
    RS(SUBSCRIBE, SF_SEQ, SF_INSTANCE_ID),
    RS(LIST_SET, SF_NS_VERSION, SF_ENTRY_VERSION),
    RS(LIST_GET, SF_NS_VERSION, SF_ENTRY_VERSION, SF_CLIENT_FLAGS, SF_TTL_MS, SF_STATE, SF_VALUE),
    RS(LIST_LGET, SF_NS_VERSION, SF_ENTRY_VERSION, SF_CLIENT_FLAGS, SF_TTL_MS, SF_STATE, SF_LEASE,
       SF_TOKEN, SF_VALUE),
    RS(LIST_REMOVE, SF_NS_VERSION, SF_ENTRY_VERSION, SF_NCOUNT),
    RS(SUPPRESS, SF_STAMP, SF_NCOUNT),
    RS(UNSUPPRESS, SF_STAMP, SF_NCOUNT),
    RS(SUPPRESSED, SF_VALUE),
    {RC_OP_LIST_GET, RC_HF_RESPONSE, RC_STATUS_WRONG_KIND, {SF_TEXT}},
    RS(PEER_SYNC, SF_INSTANCE_ID, SF_SEQ, SF_CURSOR, SF_NEXT, SF_VALUE),
    {RC_OP_GET, RC_HF_RESPONSE, RC_STATUS_KEY_TOO_LONG, {SF_TEXT}},
    {0x77, RC_HF_RESPONSE, RC_STATUS_UNKNOWN_OPCODE, {SF_TEXT}},
    {RC_OP_EVENT, RC_HF_RESPONSE, RC_STATUS_UNKNOWN_OPCODE, {SF_TEXT}},
    {RC_OP_EVENT,
     RC_HF_PUSH,
     0,
     {SF_SEQ, SF_INSTANCE_ID, SF_NS_VERSION, SF_KIND, SF_MODE, SF_NS, SF_KEY, SF_TAG, SF_TEXT}},
};
#define N_SPEC_CASES (sizeof spec_cases / sizeof spec_cases[0])

/* Integer value and wire width of a spec field; width 0 for non-integers. */
static uint64_t spec_uint(const rc_msg *m, int f, unsigned *width)
{
    static const uint8_t widths[SF_COUNT] = {
        [SF_NS_VERSION] = 8,  [SF_MIN_VERSION] = 8, [SF_ENTRY_VERSION] = 8, [SF_CAS_VERSION] = 8,
        [SF_SEQ] = 8,         [SF_INSTANCE_ID] = 8, [SF_TTL_MS] = 4,        [SF_STALE_MS] = 4,
        [SF_CURSOR] = 8,      [SF_NEXT] = 8,        [SF_CLIENT_FLAGS] = 4,  [SF_WAIT_MS] = 4,
        [SF_MAX_FRAME] = 4,   [SF_MAX_VALUE] = 4,   [SF_MAX_KEY] = 2,       [SF_MAX_TAGS] = 1,
        [SF_MAX_TAG_LEN] = 1, [SF_COND] = 1,        [SF_MODE] = 1,          [SF_STATE] = 1,
        [SF_LEASE] = 1,       [SF_KIND] = 1,        [SF_TOP] = 4,           [SF_NCOUNT] = 4,
        [SF_STAMP] = 8,
    };
    const uint64_t values[SF_COUNT] = {
        [SF_NS_VERSION] = m->ns_version,
        [SF_MIN_VERSION] = m->min_version,
        [SF_ENTRY_VERSION] = m->entry_version,
        [SF_CAS_VERSION] = m->cas_version,
        [SF_SEQ] = m->seq,
        [SF_INSTANCE_ID] = m->instance_id,
        [SF_CURSOR] = m->cursor,
        [SF_NEXT] = m->next,
        [SF_TTL_MS] = m->ttl_ms,
        [SF_STALE_MS] = m->stale_ms,
        [SF_CLIENT_FLAGS] = m->client_flags,
        [SF_WAIT_MS] = m->wait_ms,
        [SF_MAX_FRAME] = m->max_frame,
        [SF_MAX_VALUE] = m->max_value,
        [SF_MAX_KEY] = m->max_key,
        [SF_MAX_TAGS] = m->max_tags,
        [SF_MAX_TAG_LEN] = m->max_tag_len,
        [SF_COND] = m->cond,
        [SF_MODE] = m->mode,
        [SF_STATE] = m->state,
        [SF_LEASE] = m->lease,
        [SF_KIND] = m->kind,
        [SF_TOP] = m->top,
        [SF_NCOUNT] = m->count,
        [SF_STAMP] = m->stamp,
    };
    *width = widths[f];
    return values[f];
}

/* Slice of a string spec field and its length-prefix width; NULL for other fields. */
static const rc_slice *spec_slice(const rc_msg *m, int f, unsigned *width)
{
    switch (f) {
    case SF_NS:
        *width = 1;
        return &m->ns;
    case SF_KEY:
        *width = 2;
        return &m->key;
    case SF_TAG:
        *width = 1;
        return &m->tag;
    case SF_TEXT:
        *width = 2;
        return &m->text;
    case SF_VALUE:
        *width = 4;
        return &m->value;
    case SF_IDS:
        *width = 2;
        return &m->ids;
    default:
        return NULL;
    }
}

static uint8_t *put_le(uint8_t *p, uint64_t v, unsigned width)
{
    for (unsigned i = 0; i < width; i++)
        *p++ = (uint8_t)(v >> (8 * i));
    return p;
}

static uint8_t *put_bytes(uint8_t *p, const void *src, size_t n)
{
    if (n > 0)
        memcpy(p, src, n);
    return p + n;
}

/* One field, written straight from the spec's description. */
static uint8_t *spec_write_field(const rc_msg *m, int f, uint8_t *p)
{
    unsigned width;
    uint64_t v = spec_uint(m, f, &width);
    if (width > 0)
        return put_le(p, v, width);
    const rc_slice *s = spec_slice(m, f, &width);
    if (s != NULL)
        return put_bytes(put_le(p, s->len, width), s->ptr, s->len);
    if (f == SF_TOKEN)
        return put_bytes(p, m->token, RC_TOKEN_SIZE);
    RC_CHECK(f == SF_LIST);
    *p++ = m->ntags;
    return put_bytes(p, m->tags.ptr, m->tags.len);
}

/* The whole frame of m under spec case c; returns its length. */
static size_t spec_write(const rc_msg *m, const spec_case *c, uint8_t *out)
{
    uint8_t *p = out + RC_HEADER_SIZE;
    for (const uint8_t *f = c->fields; *f != SF_END; f++)
        p = spec_write_field(m, *f, p);
    size_t len = (size_t)(p - out);
    out[0] = RC_PROTO_MAGIC;
    out[1] = RC_PROTO_VERSION;
    out[2] = m->opcode;
    out[3] = m->hflags;
    put_le(out + 4, m->status, 2);
    put_le(out + 6, 0, 2);
    put_le(out + 8, m->request_id, 4);
    put_le(out + 12, len - RC_HEADER_SIZE, 4);
    return len;
}

static bool spec_has(const spec_case *c, int f)
{
    for (const uint8_t *p = c->fields; *p != SF_END; p++)
        if (*p == f)
            return true;
    return false;
}

static bool token_is_zero(const rc_msg *m)
{
    for (unsigned i = 0; i < RC_TOKEN_SIZE; i++)
        if (m->token[i] != 0)
            return false;
    return true;
}

/* A field the case carries must equal the sample; any other must be zero. */
static void check_field(const rc_msg *want, const rc_msg *got, const spec_case *c, int f)
{
    bool used = spec_has(c, f);
    unsigned width;
    uint64_t got_v = spec_uint(got, f, &width);
    if (width > 0) {
        RC_CHECK_EQ_U64(got_v, used ? spec_uint(want, f, &width) : 0);
        return;
    }
    const rc_slice *gs = spec_slice(got, f, &width);
    if (f == SF_LIST) {
        RC_CHECK_EQ_INT(got->ntags, used ? want->ntags : 0);
        gs = &got->tags;
    }
    if (gs != NULL) {
        const rc_slice *ws = f == SF_LIST ? &want->tags : spec_slice(want, f, &width);
        if (used)
            RC_CHECK_MEM(gs->ptr, gs->len, ws->ptr, ws->len);
        else
            RC_CHECK_EQ_INT(gs->len, 0);
        return;
    }
    if (used)
        RC_CHECK_MEM(got->token, RC_TOKEN_SIZE, want->token, RC_TOKEN_SIZE);
    else
        RC_CHECK(token_is_zero(got));
}

static void check_decoded(const rc_msg *want, const rc_msg *got, const spec_case *c)
{
    RC_CHECK_EQ_INT(got->opcode, want->opcode);
    RC_CHECK_EQ_INT(got->hflags, want->hflags);
    RC_CHECK_EQ_INT(got->status, want->status);
    RC_CHECK_EQ_U64(got->request_id, want->request_id);
    for (int f = SF_END + 1; f < SF_COUNT; f++)
        check_field(want, got, c, f);
}

/* ---- round trips ----------------------------------------------------------------------------- */

static uint8_t frame[4096], head[4096], expect[4096];

/* Encode the sample of case c into frame and check it against the spec bytes. */
static size_t encode_case(const spec_case *c, rc_msg *m)
{
    *m = sample_msg(c->opcode, c->hflags, c->status);
    long size = rc_encoded_size(m);
    RC_CHECK(size > 0);
    long n = rc_encode(m, frame, sizeof frame);
    RC_CHECK_EQ_INT(n, size);
    size_t want = spec_write(m, c, expect);
    RC_CHECK_MEM(frame, (size_t)n, expect, want);
    return (size_t)n;
}

static void check_encode_head(const rc_msg *m, const spec_case *c, size_t n)
{
    long h = rc_encode_head(m, head, sizeof head);
    size_t value_len = spec_has(c, SF_VALUE) ? m->value.len : 0;
    RC_CHECK_EQ_INT((size_t)h + value_len, n);
    RC_CHECK_MEM(head, (size_t)h, frame, (size_t)h);
    RC_CHECK_MEM(frame + h, value_len, m->value.ptr, value_len);

    /* The value pointer is never read by rc_encode_head. */
    rc_msg no_ptr = *m;
    no_ptr.value.ptr = NULL;
    RC_CHECK_EQ_INT(rc_encode_head(&no_ptr, head, sizeof head), h);
}

static void test_round_trip_every_layout(void)
{
    for (size_t i = 0; i < N_SPEC_CASES; i++) {
        const spec_case *c = &spec_cases[i];
        rc_msg m, d;
        size_t consumed;
        size_t n = encode_case(c, &m);
        check_encode_head(&m, c, n);

        rc_limits wire = rc_limits_wire();
        RC_CHECK_RC(rc_decode(frame, n, &wire, &d, &consumed), 0);
        RC_CHECK_EQ_INT(consumed, n);
        check_decoded(&m, &d, c);

        rc_limits lim = server_limits();
        RC_CHECK_RC(rc_decode(frame, n, &lim, &d, &consumed), 0);
        check_decoded(&m, &d, c);
    }
}

/* Every opcode the header names has a request and a response layout, except EVENT (push only). */
static void test_every_opcode_has_layouts(void)
{
    static const uint8_t ops[] = {
#define OP_CODE(name, code, str) code,
        RC_OPCODES(OP_CODE)
#undef OP_CODE
    };
    for (size_t i = 0; i < sizeof ops; i++) {
        rc_msg rq = sample_msg(ops[i], 0, 0), rs = sample_msg(ops[i], RC_HF_RESPONSE, 0);
        if (ops[i] == RC_OP_EVENT) {
            RC_CHECK_RC(rc_encoded_size(&rq), RC_EUNKNOWN_OPCODE);
            RC_CHECK_RC(rc_encoded_size(&rs), RC_EUNKNOWN_OPCODE);
        } else {
            RC_CHECK(rc_encoded_size(&rq) >= RC_HEADER_SIZE);
            RC_CHECK(rc_encoded_size(&rs) >= RC_HEADER_SIZE);
        }
        bool in_spec = false;
        for (size_t k = 0; k < N_SPEC_CASES; k++)
            in_spec |= spec_cases[k].opcode == ops[i];
        RC_CHECK(in_spec);
    }
}

/* ---- frame surgery helpers ------------------------------------------------------------------- */

/* Valid frame of case c in `frame`; returns its length. */
static size_t valid_frame(const spec_case *c)
{
    rc_msg m;
    return encode_case(c, &m);
}

static const spec_case *find_case(uint8_t opcode, uint8_t hflags, uint16_t status)
{
    for (size_t i = 0; i < N_SPEC_CASES; i++)
        if (spec_cases[i].opcode == opcode && spec_cases[i].hflags == hflags &&
            spec_cases[i].status == status)
            return &spec_cases[i];
    RC_CHECK(!"no such spec case");
    return NULL;
}

static void set_body_len(uint8_t *f, uint32_t body_len)
{
    put_le(f + 12, body_len, 4);
}

/* Frame = header(opcode, hflags, status, id 7) + body; returns its length. */
static size_t make_frame(uint8_t opcode, uint8_t hflags, uint16_t status, const uint8_t *body,
                         size_t body_len, uint8_t *out)
{
    rc_msg m = {.opcode = opcode, .hflags = hflags, .status = status, .request_id = 7};
    static const spec_case empty = {0, 0, 0, {SF_END}};
    spec_write(&m, &empty, out);
    put_bytes(out + RC_HEADER_SIZE, body, body_len);
    set_body_len(out, (uint32_t)body_len);
    return RC_HEADER_SIZE + body_len;
}

static int decode_with(const uint8_t *buf, size_t len, const rc_limits *lim, size_t *consumed)
{
    rc_msg m;
    return rc_decode(buf, len, lim, &m, consumed);
}

static int decode_server(const uint8_t *buf, size_t len)
{
    rc_limits lim = server_limits();
    size_t consumed;
    int rc = decode_with(buf, len, &lim, &consumed);
    if (rc != RC_EAGAIN && rc != RC_EBAD_MAGIC && rc != RC_EBAD_VERSION &&
        rc != RC_EFRAME_TOO_LARGE && !(rc == RC_EBAD_FRAME && consumed == 0))
        RC_CHECK_EQ_INT(consumed, len); /* a body-level outcome always covers the frame */
    return rc;
}

/* ---- header errors --------------------------------------------------------------------------- */

static void test_truncated_header(void)
{
    size_t n = valid_frame(find_case(RC_OP_GET, 0, 0));
    rc_limits lim = server_limits();
    for (size_t cut = 0; cut < RC_HEADER_SIZE; cut++) {
        size_t consumed = 99;
        rc_msg m;
        uint32_t flen;
        RC_CHECK_RC(decode_with(frame, cut, &lim, &consumed), RC_EAGAIN);
        RC_CHECK_EQ_INT(consumed, 0);
        RC_CHECK_RC(rc_decode_header(frame, cut, lim.max_frame, &m, &flen), RC_EAGAIN);
    }
    /* A whole header but a partial body: the caller learns the total it needs. */
    for (size_t cut = RC_HEADER_SIZE; cut < n; cut++) {
        size_t consumed = 0;
        RC_CHECK_RC(decode_with(frame, cut, &lim, &consumed), RC_EAGAIN);
        RC_CHECK_EQ_INT(consumed, n);
    }
    RC_CHECK_RC(decode_with(NULL, 0, &lim, &(size_t){0}), RC_EAGAIN);
}

static void test_bad_header_fields(void)
{
    size_t n = valid_frame(find_case(RC_OP_PING, 0, 0));
    static const struct {
        unsigned off;
        uint8_t byte;
        int want;
    } cases[] = {
        {0, 0xC4, RC_EBAD_MAGIC}, {0, 0x00, RC_EBAD_MAGIC}, {1, 0, RC_EBAD_VERSION},
        {1, 2, RC_EBAD_VERSION},  {3, 0x04, RC_EBAD_FRAME}, {3, 0x80, RC_EBAD_FRAME},
        {3, 0x03, RC_EBAD_FRAME}, {6, 0x01, RC_EBAD_FRAME}, {7, 0x80, RC_EBAD_FRAME},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        uint8_t f[RC_HEADER_SIZE];
        memcpy(f, frame, n);
        f[cases[i].off] = cases[i].byte;
        size_t consumed = 99;
        rc_limits lim = server_limits();
        RC_CHECK_RC(decode_with(f, n, &lim, &consumed), cases[i].want);
        RC_CHECK_EQ_INT(consumed, 0);
    }
}

/* After a header error with a known id, the header fields are available for the error reply. */
static void test_header_error_keeps_request_id(void)
{
    size_t n = valid_frame(find_case(RC_OP_PING, 0, 0));
    rc_msg m;
    uint32_t flen;
    frame[6] = 1;
    RC_CHECK_RC(rc_decode_header(frame, n, 1024, &m, &flen), RC_EBAD_FRAME);
    RC_CHECK_EQ_U64(m.request_id, 0xC0FFEE01u);
    RC_CHECK_EQ_INT(m.opcode, RC_OP_PING);
    frame[0] = 0;
    RC_CHECK_RC(rc_decode_header(frame, n, 1024, &m, &flen), RC_EBAD_MAGIC);
    RC_CHECK_EQ_U64(m.request_id, 0);
}

static void test_frame_size_limits(void)
{
    uint8_t f[RC_HEADER_SIZE];
    rc_msg m;
    uint32_t flen = 0;
    make_frame(RC_OP_PING, 0, 0, NULL, 0, f);

    set_body_len(f, 1000 - RC_HEADER_SIZE);
    RC_CHECK_RC(rc_decode_header(f, sizeof f, 1000, &m, &flen), 0);
    RC_CHECK_EQ_INT(flen, 1000);
    set_body_len(f, 1000 - RC_HEADER_SIZE + 1);
    RC_CHECK_RC(rc_decode_header(f, sizeof f, 1000, &m, &flen), RC_EFRAME_TOO_LARGE);

    /* 16 + body_len must not wrap: the largest body_len is over even the widest limit. */
    set_body_len(f, UINT32_MAX);
    RC_CHECK_RC(rc_decode_header(f, sizeof f, UINT32_MAX, &m, &flen), RC_EFRAME_TOO_LARGE);
    set_body_len(f, UINT32_MAX - RC_HEADER_SIZE + 1);
    RC_CHECK_RC(rc_decode_header(f, sizeof f, UINT32_MAX, &m, &flen), RC_EFRAME_TOO_LARGE);
    set_body_len(f, UINT32_MAX - RC_HEADER_SIZE);
    RC_CHECK_RC(rc_decode_header(f, sizeof f, UINT32_MAX, &m, &flen), 0);
    RC_CHECK_EQ_U64(flen, UINT32_MAX);
    rc_limits wire = rc_limits_wire();
    size_t consumed;
    RC_CHECK_RC(decode_with(f, sizeof f, &wire, &consumed), RC_EAGAIN);
    RC_CHECK_EQ_U64(consumed, UINT32_MAX);
}

/* ---- body errors ----------------------------------------------------------------------------- */

/* Cutting a body anywhere (and fixing body_len to match) is always BAD_FRAME. */
static void test_every_body_truncation(void)
{
    for (size_t i = 0; i < N_SPEC_CASES; i++) {
        size_t n = valid_frame(&spec_cases[i]);
        for (size_t cut = RC_HEADER_SIZE; cut < n; cut++) {
            set_body_len(frame, (uint32_t)(cut - RC_HEADER_SIZE));
            RC_CHECK_RC(decode_server(frame, cut), RC_EBAD_FRAME);
        }
    }
}

static void test_trailing_bytes(void)
{
    for (size_t i = 0; i < N_SPEC_CASES; i++) {
        size_t n = valid_frame(&spec_cases[i]);
        frame[n] = 0;
        set_body_len(frame, (uint32_t)(n + 1 - RC_HEADER_SIZE));
        RC_CHECK_RC(decode_server(frame, n + 1), RC_EBAD_FRAME);
    }
}

/* A value length that disagrees with the bytes left is BAD_FRAME either way. */
static void test_length_disagrees_with_body(void)
{
    size_t n = valid_frame(find_case(RC_OP_STATS, RC_HF_RESPONSE, 0));
    RC_CHECK_EQ_INT(n, RC_HEADER_SIZE + 4 + sizeof sample_value);
    put_le(frame + RC_HEADER_SIZE, sizeof sample_value + 1, 4);
    RC_CHECK_RC(decode_server(frame, n), RC_EBAD_FRAME);
    put_le(frame + RC_HEADER_SIZE, sizeof sample_value - 1, 4);
    RC_CHECK_RC(decode_server(frame, n), RC_EBAD_FRAME);

    /* DELETE: u64, ns "ab", key length 5 but 3 bytes present. */
    static const uint8_t body[] = {1, 0, 0, 0, 0, 0, 0, 0, 2, 'a', 'b', 5, 0, 'k', 'e', 'y'};
    uint8_t f[64];
    size_t len = make_frame(RC_OP_DELETE, 0, 0, body, sizeof body, f);
    RC_CHECK_RC(decode_server(f, len), RC_EBAD_FRAME);
}

static void test_opcode_and_direction_errors(void)
{
    uint8_t f[64];
    static const uint8_t event_body[] = {0};
    RC_CHECK_RC(decode_server(f, make_frame(0x77, 0, 0, NULL, 0, f)), RC_EUNKNOWN_OPCODE);
    RC_CHECK_RC(decode_server(f, make_frame(0x00, 0, 0, NULL, 0, f)), RC_EUNKNOWN_OPCODE);
    RC_CHECK_RC(decode_server(f, make_frame(RC_OP_EVENT, 0, 0, NULL, 0, f)), RC_EUNKNOWN_OPCODE);
    RC_CHECK_RC(decode_server(f, make_frame(0x77, RC_HF_RESPONSE, 0, NULL, 0, f)),
                RC_EUNKNOWN_OPCODE);
    RC_CHECK_RC(decode_server(f, make_frame(RC_OP_EVENT, RC_HF_RESPONSE, 0, NULL, 0, f)),
                RC_EUNKNOWN_OPCODE);
    RC_CHECK_RC(decode_server(f, make_frame(RC_OP_GET, RC_HF_PUSH, 0, event_body, 1, f)),
                RC_EBAD_FRAME);
    /* Requests and pushes carry status 0; pushes carry request id 0. */
    RC_CHECK_RC(decode_server(f, make_frame(RC_OP_PING, 0, 1, NULL, 0, f)), RC_EBAD_FRAME);
    size_t n = valid_frame(find_case(RC_OP_EVENT, RC_HF_PUSH, 0));
    frame[8] = 1;
    RC_CHECK_RC(decode_server(frame, n), RC_EBAD_FRAME);
    n = valid_frame(find_case(RC_OP_EVENT, RC_HF_PUSH, 0));
    frame[4] = 1;
    RC_CHECK_RC(decode_server(frame, n), RC_EBAD_FRAME);
}

/* Decode one hand-made body under the server limits. */
static int body_rc(uint8_t opcode, uint8_t hflags, const uint8_t *body, size_t len)
{
    uint8_t f[1024];
    RC_CHECK(len + RC_HEADER_SIZE <= sizeof f);
    return decode_server(f, make_frame(opcode, hflags, 0, body, len, f));
}

/* Builds bodies field by field. */
typedef struct body_builder {
    uint8_t buf[900];
    size_t len;
} body_builder;

static void bb_uint(body_builder *b, uint64_t v, unsigned width)
{
    put_le(b->buf + b->len, v, width);
    b->len += width;
}

static void bb_zero(body_builder *b, size_t n)
{
    memset(b->buf + b->len, 0, n);
    b->len += n;
}

static void bb_str(body_builder *b, unsigned prefix, size_t len, uint8_t fill)
{
    bb_uint(b, len, prefix);
    memset(b->buf + b->len, fill, len);
    b->len += len;
}

/* NS_INFO: NS only. */
static int ns_info_rc(size_t ns_len)
{
    body_builder b = {.len = 0};
    bb_str(&b, 1, ns_len, 'n');
    return body_rc(RC_OP_NS_INFO, 0, b.buf, b.len);
}

/* DELETE: u64, NS "recs", KEY. */
static int delete_rc(size_t key_len)
{
    body_builder b = {.len = 0};
    bb_uint(&b, 0, 8);
    bb_str(&b, 1, 4, 'r');
    bb_str(&b, 2, key_len, 'k');
    return body_rc(RC_OP_DELETE, 0, b.buf, b.len);
}

static void test_namespace_and_key_limits(void)
{
    RC_CHECK_RC(ns_info_rc(0), RC_EBAD_NAMESPACE);
    RC_CHECK_RC(ns_info_rc(1), 0);
    RC_CHECK_RC(ns_info_rc(64), 0);
    RC_CHECK_RC(ns_info_rc(65), RC_EBAD_NAMESPACE);
    RC_CHECK_RC(delete_rc(0), RC_EBAD_ARGUMENT);
    RC_CHECK_RC(delete_rc(250), 0);
    RC_CHECK_RC(delete_rc(251), RC_EKEY_TOO_LONG);

    /* STATS takes an optional namespace: empty means global. */
    static const uint8_t empty_ns[] = {0};
    RC_CHECK_RC(body_rc(RC_OP_STATS, 0, empty_ns, 1), 0);
    static const uint8_t long_ns[] = {65};
    RC_CHECK_RC(body_rc(RC_OP_STATS, 0, long_ns, 1), RC_EBAD_NAMESPACE);
}

static void test_value_limit(void)
{
    rc_limits lim = server_limits();
    lim.max_value = 100;
    uint8_t f[256];
    body_builder b = {.len = 0};
    bb_str(&b, 4, 101, 'v');
    size_t n = make_frame(RC_OP_STATS, RC_HF_RESPONSE, 0, b.buf, b.len, f);
    size_t consumed;
    RC_CHECK_RC(decode_with(f, n, &lim, &consumed), RC_EVALUE_TOO_LARGE);
    RC_CHECK_EQ_INT(consumed, n);
    lim.max_value = 101;
    RC_CHECK_RC(decode_with(f, n, &lim, &consumed), 0);

    /* A huge declared length is refused as too large, without trusting it. */
    uint8_t huge[] = {0xFF, 0xFF, 0xFF, 0xFF};
    n = make_frame(RC_OP_STATS, RC_HF_RESPONSE, 0, huge, sizeof huge, f);
    RC_CHECK_RC(decode_with(f, n, &lim, &consumed), RC_EVALUE_TOO_LARGE);
    rc_limits wire = rc_limits_wire();
    RC_CHECK_RC(decode_with(f, n, &wire, &consumed), RC_EBAD_FRAME);
}

/* SET request with `count` tags of `tag_len` bytes each. */
static int set_tags_rc(unsigned count, size_t tag_len)
{
    body_builder b = {.len = 0};
    bb_zero(&b, 8 * 3 + 4 * 3 + 1); /* versions, times, flags, cond */
    bb_zero(&b, RC_TOKEN_SIZE);
    bb_str(&b, 1, 4, 'r');
    bb_str(&b, 2, 3, 'k');
    bb_uint(&b, count, 1);
    for (unsigned i = 0; i < count; i++)
        bb_str(&b, 1, tag_len, 't');
    bb_str(&b, 4, 0, 0);
    return body_rc(RC_OP_SET, 0, b.buf, b.len);
}

static void test_tag_limits(void)
{
    RC_CHECK_RC(set_tags_rc(0, 1), 0);
    RC_CHECK_RC(set_tags_rc(32, 1), 0);
    RC_CHECK_RC(set_tags_rc(33, 1), RC_ETOO_MANY_TAGS);
    RC_CHECK_RC(set_tags_rc(2, 128), 0);
    RC_CHECK_RC(set_tags_rc(2, 129), RC_ETAG_TOO_LONG);
    RC_CHECK_RC(set_tags_rc(1, 0), RC_EBAD_ARGUMENT);

    /* INVALIDATE_TAG: mode, TAG. */
    uint8_t body[200] = {RC_INVAL_HARD, 0};
    RC_CHECK_RC(body_rc(RC_OP_INVALIDATE_TAG, 0, body, 2), RC_EBAD_ARGUMENT);
    body[1] = 129;
    RC_CHECK_RC(body_rc(RC_OP_INVALIDATE_TAG, 0, body, 2 + 129), RC_ETAG_TOO_LONG);
    body[1] = 128;
    RC_CHECK_RC(body_rc(RC_OP_INVALIDATE_TAG, 0, body, 2 + 128), 0);
}

/* SUBSCRIBE: names are namespaces (1..max_ns each); the count is bounded by 255, not max_tags. */
static void test_subscribe_names(void)
{
    body_builder b = {.len = 0};
    bb_zero(&b, 16); /* seq, instance id */
    bb_uint(&b, 40, 1);
    for (int i = 0; i < 40; i++)
        bb_str(&b, 1, 2, 'n');
    RC_CHECK_RC(body_rc(RC_OP_SUBSCRIBE, 0, b.buf, b.len), 0);

    body_builder e = {.len = 0};
    bb_zero(&e, 16);
    bb_uint(&e, 1, 1);
    bb_str(&e, 1, 0, 0);
    RC_CHECK_RC(body_rc(RC_OP_SUBSCRIBE, 0, e.buf, e.len), RC_EBAD_NAMESPACE);

    body_builder l = {.len = 0};
    bb_zero(&l, 16);
    bb_uint(&l, 1, 1);
    bb_str(&l, 1, 65, 'n');
    RC_CHECK_RC(body_rc(RC_OP_SUBSCRIBE, 0, l.buf, l.len), RC_EBAD_NAMESPACE);
}

/* Each enumerated byte is rejected one past its range. */
static void test_bad_enum_values(void)
{
    static const struct {
        uint8_t opcode, hflags;
        size_t off; /* of the byte inside the body */
        uint8_t bad;
    } cases[] = {
        {RC_OP_SET, 0, 8 * 3 + 4 * 3, RC_COND_CAS + 1},
        {RC_OP_INVALIDATE_TAG, 0, 0, RC_INVAL_SOFT + 1},
        {RC_OP_INVALIDATE_KEY, 0, 8, RC_INVAL_SOFT + 1},
        {RC_OP_GET, RC_HF_RESPONSE, 8 + 8 + 4 + 4, RC_STATE_STALE + 1},
        {RC_OP_LGET, RC_HF_RESPONSE, 8 + 8 + 4 + 4, RC_STATE_STALE + 1},
        {RC_OP_LGET, RC_HF_RESPONSE, 8 + 8 + 4 + 4 + 1, RC_LEASE_HELD + 1},
        {RC_OP_EVENT, RC_HF_PUSH, 8 * 3, RC_EV_UNSUPPRESS + 1},
        {RC_OP_EVENT, RC_HF_PUSH, 8 * 3, 0},
        {RC_OP_EVENT, RC_HF_PUSH, 8 * 3 + 1, RC_INVAL_SOFT + 1},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        size_t n = valid_frame(find_case(cases[i].opcode, cases[i].hflags, 0));
        RC_CHECK_RC(decode_server(frame, n), 0);
        frame[RC_HEADER_SIZE + cases[i].off] = cases[i].bad;
        RC_CHECK_RC(decode_server(frame, n), RC_EBAD_FRAME);
    }
}

/* rc_decode_body zeroes every non-header field, whatever the struct held. */
static void test_decode_body_zeroes(void)
{
    rc_msg m;
    memset(&m, 0xAB, sizeof m);
    m.opcode = RC_OP_PING;
    m.hflags = 0;
    m.status = 0;
    rc_limits lim = server_limits();
    RC_CHECK_RC(rc_decode_body(NULL, 0, &lim, &m), 0);
    RC_CHECK_EQ_U64(m.request_id, 0xABABABABu);
    RC_CHECK_EQ_U64(m.ns_version, 0);
    RC_CHECK_EQ_INT(m.value.len, 0);
    RC_CHECK(m.value.ptr == NULL && m.tags.ptr == NULL && m.ntags == 0 && token_is_zero(&m));
}

/* ---- streams --------------------------------------------------------------------------------- */

static uint8_t stream[16384];

/* Frames of every request case back to back, ids 1..n; returns the stream length. */
static size_t build_request_stream(size_t *nframes)
{
    size_t len = 0;
    *nframes = 0;
    for (size_t i = 0; i < N_SPEC_CASES; i++) {
        if (spec_cases[i].hflags != 0)
            continue;
        rc_msg m = sample_msg(spec_cases[i].opcode, 0, 0);
        m.request_id = (uint32_t)++ * nframes;
        long n = rc_encode(&m, stream + len, sizeof stream - len);
        RC_CHECK(n > 0);
        len += (size_t)n;
    }
    return len;
}

static void test_pipelined_stream(void)
{
    size_t nframes, len = build_request_stream(&nframes);
    rc_limits lim = server_limits();
    size_t off = 0, seen = 0;
    while (off < len) {
        rc_msg m;
        size_t consumed;
        RC_CHECK_RC(rc_decode(stream + off, len - off, &lim, &m, &consumed), 0);
        RC_CHECK_EQ_U64(m.request_id, ++seen);
        off += consumed;
    }
    RC_CHECK_EQ_INT(off, len);
    RC_CHECK_EQ_INT(seen, nframes);
}

/* Every prefix of the stream decodes the whole frames it holds, then asks for more. */
static void test_partial_stream(void)
{
    size_t nframes, len = build_request_stream(&nframes);
    rc_limits lim = server_limits();
    for (size_t cut = 0; cut <= len; cut++) {
        size_t off = 0, consumed = 0;
        rc_msg m;
        int rc;
        while ((rc = rc_decode(stream + off, cut - off, &lim, &m, &consumed)) == 0)
            off += consumed;
        RC_CHECK_RC(rc, RC_EAGAIN);
        if (cut - off < RC_HEADER_SIZE)
            RC_CHECK_EQ_INT(consumed, 0);
        else
            RC_CHECK(consumed > cut - off && off + consumed <= len);
    }
}

/* A body error skips exactly one frame; the next one decodes. */
static void test_body_error_is_skippable(void)
{
    uint8_t f[64];
    size_t len = 0, n;
    rc_msg m = sample_msg(RC_OP_PING, 0, 0);
    len += (size_t)rc_encode(&m, stream, sizeof stream);
    n = make_frame(0x77, 0, 0, (const uint8_t *)"junk", 4, f);
    memcpy(stream + len, f, n);
    len += n;
    m.request_id = 99;
    len += (size_t)rc_encode(&m, stream + len, sizeof stream - len);

    rc_limits lim = server_limits();
    size_t consumed, off = 0;
    RC_CHECK_RC(rc_decode(stream, len, &lim, &m, &consumed), 0);
    off += consumed;
    RC_CHECK_RC(rc_decode(stream + off, len - off, &lim, &m, &consumed), RC_EUNKNOWN_OPCODE);
    RC_CHECK_EQ_INT(consumed, n);
    RC_CHECK_EQ_U64(m.request_id, 7);
    off += consumed;
    RC_CHECK_RC(rc_decode(stream + off, len - off, &lim, &m, &consumed), 0);
    RC_CHECK_EQ_U64(m.request_id, 99);
    RC_CHECK_EQ_INT(off + consumed, len);
}

/* ---- encoder errors -------------------------------------------------------------------------- */

static void test_encode_small_buffer(void)
{
    for (size_t i = 0; i < N_SPEC_CASES; i++) {
        rc_msg m = sample_msg(spec_cases[i].opcode, spec_cases[i].hflags, spec_cases[i].status);
        long size = rc_encoded_size(&m);
        long h = rc_encode_head(&m, head, sizeof head);
        for (long cap = 0; cap < size; cap++)
            RC_CHECK_RC(rc_encode(&m, frame, (size_t)cap), RC_EBUFFER);
        for (long cap = 0; cap < h; cap++)
            RC_CHECK_RC(rc_encode_head(&m, head, (size_t)cap), RC_EBUFFER);
    }
}

static long encode_rc(const rc_msg *m)
{
    long size = rc_encoded_size(m);
    long n = rc_encode(m, frame, sizeof frame);
    RC_CHECK_EQ_INT(n, size);
    return n;
}

static uint8_t big[70000];

static void test_encode_field_widths(void)
{
    rc_msg m = sample_msg(RC_OP_SET, 0, 0);
    m.ns = (rc_slice){big, 256};
    RC_CHECK_RC(encode_rc(&m), RC_EINVAL);
    m.ns = (rc_slice){big, 0};
    RC_CHECK_RC(encode_rc(&m), RC_EINVAL);
    m = sample_msg(RC_OP_SET, 0, 0);
    m.key = (rc_slice){big, 65536};
    RC_CHECK_RC(encode_rc(&m), RC_EINVAL);
    m.key = (rc_slice){big, 0};
    RC_CHECK_RC(encode_rc(&m), RC_EINVAL);
    m.key = (rc_slice){NULL, 3};
    RC_CHECK_RC(encode_rc(&m), RC_EINVAL);
    m = sample_msg(RC_OP_HELLO, 0, 0);
    m.text = (rc_slice){big, 65536};
    RC_CHECK_RC(encode_rc(&m), RC_EINVAL);
    m.text = (rc_slice){big, 65535};
    RC_CHECK_RC(rc_encode(&m, frame, sizeof frame), RC_EBUFFER);
    RC_CHECK_EQ_INT(rc_encoded_size(&m), RC_HEADER_SIZE + 2 + 65535);
    m = sample_msg(RC_OP_INVALIDATE_TAG, 0, 0);
    m.tag = (rc_slice){big, 256};
    RC_CHECK_RC(encode_rc(&m), RC_EINVAL);
    /* Optional strings may be empty where the spec allows it. */
    m = sample_msg(RC_OP_EVENT, RC_HF_PUSH, 0);
    m.ns = m.key = m.tag = m.text = (rc_slice){NULL, 0};
    RC_CHECK(encode_rc(&m) > 0);
}

static void test_encode_frame_over_4gib(void)
{
    rc_msg m = sample_msg(RC_OP_STATS, RC_HF_RESPONSE, 0);
    m.value = (rc_slice){NULL, UINT32_MAX - RC_HEADER_SIZE - 4};
    RC_CHECK_EQ_U64(rc_encoded_size(&m), UINT32_MAX);
    RC_CHECK_RC(rc_encode(&m, frame, sizeof frame), RC_EINVAL); /* value bytes needed, ptr NULL */
    RC_CHECK_RC(rc_encode_head(&m, frame, sizeof frame), RC_HEADER_SIZE + 4);
    m.value.len++;
    RC_CHECK_RC(rc_encoded_size(&m), RC_EINVAL);
    RC_CHECK_RC(rc_encode_head(&m, frame, sizeof frame), RC_EINVAL);
}

static void test_encode_invalid_header_or_enum(void)
{
    rc_msg m = sample_msg(0x77, 0, 0);
    RC_CHECK_RC(encode_rc(&m), RC_EUNKNOWN_OPCODE);
    m = sample_msg(RC_OP_EVENT, 0, 0);
    RC_CHECK_RC(encode_rc(&m), RC_EUNKNOWN_OPCODE);
    m = sample_msg(RC_OP_GET, RC_HF_RESPONSE | RC_HF_PUSH, 0);
    RC_CHECK_RC(encode_rc(&m), RC_EINVAL);
    m = sample_msg(RC_OP_GET, 0x10, 0);
    RC_CHECK_RC(encode_rc(&m), RC_EINVAL);
    m = sample_msg(RC_OP_GET, 0, RC_STATUS_MISS);
    RC_CHECK_RC(encode_rc(&m), RC_EINVAL);
    m = sample_msg(RC_OP_EVENT, RC_HF_PUSH, 0);
    m.request_id = 5;
    RC_CHECK_RC(encode_rc(&m), RC_EINVAL);
    m = sample_msg(RC_OP_GET, RC_HF_PUSH, 0);
    RC_CHECK_RC(encode_rc(&m), RC_EINVAL);
    m = sample_msg(RC_OP_SET, 0, 0);
    m.cond = RC_COND_CAS + 1;
    RC_CHECK_RC(encode_rc(&m), RC_EINVAL);
    m = sample_msg(RC_OP_EVENT, RC_HF_PUSH, 0);
    m.kind = 0;
    RC_CHECK_RC(encode_rc(&m), RC_EINVAL);
}

/* msg.tags must hold exactly ntags well-formed items. */
static void test_encode_malformed_tag_list(void)
{
    rc_msg m = sample_msg(RC_OP_SET, 0, 0);
    m.ntags = 2;
    RC_CHECK_RC(encode_rc(&m), RC_EINVAL);
    m.ntags = 4;
    RC_CHECK_RC(encode_rc(&m), RC_EINVAL);
    m = sample_msg(RC_OP_SET, 0, 0);
    m.tags.len--;
    RC_CHECK_RC(encode_rc(&m), RC_EINVAL);
    static const uint8_t empty_item[] = {0};
    m.tags = (rc_slice){empty_item, 1};
    m.ntags = 1;
    RC_CHECK_RC(encode_rc(&m), RC_EINVAL);
    m.tags = (rc_slice){NULL, 0};
    m.ntags = 0;
    RC_CHECK(encode_rc(&m) > 0);
}

/* ---- lists, names, slices -------------------------------------------------------------------- */

static void test_list_helpers(void)
{
    rc_slice items[256];
    uint8_t buf[1024];
    for (int i = 0; i < 256; i++)
        items[i] = rc_slice_str("ab");
    RC_CHECK_RC(rc_list_encode(items, 256, buf, sizeof buf), RC_ETOO_MANY_TAGS);
    RC_CHECK_RC(rc_list_encode(items, 255, buf, sizeof buf), 255 * 3);
    RC_CHECK_RC(rc_list_encode(items, 2, buf, 5), RC_EBUFFER);
    items[1] = (rc_slice){big, 256};
    RC_CHECK_RC(rc_list_encode(items, 2, buf, sizeof buf), RC_ETAG_TOO_LONG);
    items[1] = (rc_slice){big, 0};
    RC_CHECK_RC(rc_list_encode(items, 2, buf, sizeof buf), RC_ETAG_TOO_LONG);
    items[1] = (rc_slice){NULL, 3};
    RC_CHECK_RC(rc_list_encode(items, 2, buf, sizeof buf), RC_EINVAL);
    RC_CHECK_RC(rc_list_encode(NULL, 0, NULL, 0), 0);

    /* Iterate the tags of a decoded SET. */
    size_t n = valid_frame(find_case(RC_OP_SET, 0, 0));
    rc_limits lim = server_limits();
    rc_msg m;
    size_t consumed;
    RC_CHECK_RC(rc_decode(frame, n, &lim, &m, &consumed), 0);
    rc_list_iter it;
    rc_slice s;
    static const char *const want[] = {"product:QL2000", "segment:eu", "x"};
    rc_list_iter_init(&it, m.tags);
    for (int i = 0; i < 3; i++) {
        RC_CHECK(rc_list_next(&it, &s));
        RC_CHECK_MEM(s.ptr, s.len, want[i], strlen(want[i]));
    }
    RC_CHECK(!rc_list_next(&it, &s));

    /* A malformed list stops instead of running past its end. */
    static const uint8_t bad[] = {1, 'a', 5, 'b'};
    rc_list_iter_init(&it, (rc_slice){bad, sizeof bad});
    RC_CHECK(rc_list_next(&it, &s) && s.len == 1);
    RC_CHECK(!rc_list_next(&it, &s));
    RC_CHECK(!rc_list_next(&it, &s));
    rc_list_iter_init(&it, (rc_slice){NULL, 0});
    RC_CHECK(!rc_list_next(&it, &s));
}

static void test_opcode_names_and_slices(void)
{
#define CHECK_OP_NAME(name, code, str)                                                             \
    RC_CHECK(rc_opcode_valid(code));                                                               \
    RC_CHECK(strcmp(rc_opcode_name(code), str) == 0);
    RC_OPCODES(CHECK_OP_NAME)
#undef CHECK_OP_NAME
    RC_CHECK(!rc_opcode_valid(0) && rc_opcode_name(0) == NULL);
    RC_CHECK(!rc_opcode_valid(0xFF) && rc_opcode_name(0xFF) == NULL);

    rc_slice s = rc_slice_str(NULL);
    RC_CHECK(s.ptr == NULL && s.len == 0);
    s = rc_slice_str("");
    RC_CHECK(s.ptr != NULL && s.len == 0);
    s = rc_slice_str("recs");
    RC_CHECK_MEM(s.ptr, s.len, "recs", 4);
}

static void test_error_strings(void)
{
#define CHECK_ERR(name, code, msg)                                                                 \
    RC_CHECK(strcmp(rc_strerror(-(code)), msg) == 0);                                              \
    RC_CHECK(strcmp(rc_error_name(RC_E##name), #name) == 0);                                       \
    RC_CHECK_EQ_INT(RC_E##name, -(code));
    RC_WIRE_ERRORS(CHECK_ERR)
    RC_LOCAL_ERRORS(CHECK_ERR)
#undef CHECK_ERR
#define CHECK_STATUS(name, code, msg) RC_CHECK_EQ_INT(RC_E##name, -RC_STATUS_##name);
    RC_WIRE_ERRORS(CHECK_STATUS)
#undef CHECK_STATUS
    RC_CHECK(strcmp(rc_strerror(0), "success") == 0);
    RC_CHECK(strcmp(rc_error_name(0), "OK") == 0);
    static const int unknown[] = {-9999, -9, -31, -50, -1000, -1014, 1, 32, -2147483647 - 1};
    for (size_t i = 0; i < sizeof unknown / sizeof unknown[0]; i++) {
        RC_CHECK(strcmp(rc_strerror(unknown[i]), "unknown error") == 0);
        RC_CHECK(strcmp(rc_error_name(unknown[i]), "UNKNOWN") == 0);
    }
}

/*
 * List encoding: a list value must be whole items (BAD_LIST, frame skippable),
 * an id set whole ids (BAD_FRAME); the encoder refuses both; items and ids
 * round-trip through the helpers at any alignment.
 */
static void test_list_encoding(void)
{
    rc_msg m = sample_msg(RC_OP_LIST_SET, 0, 0);
    m.value.len = 13;
    RC_CHECK_RC(rc_encoded_size(&m), RC_EINVAL);
    m.value.len = 12;
    long n = rc_encode(&m, frame, sizeof frame);
    RC_CHECK(n > 0);
    /* Grow the value length prefix (the last 4 + 12 bytes) to 13 and append a byte. */
    size_t prefix = (size_t)n - 12u - 4u;
    frame[prefix] = 13;
    frame[n] = 0;
    frame[12] = (uint8_t)(frame[12] + 1u);
    RC_CHECK_RC(decode_server(frame, (size_t)n + 1u), RC_EBAD_LIST);

    m = sample_msg(RC_OP_SUPPRESS, 0, 0);
    m.ids.len = 7;
    RC_CHECK_RC(rc_encoded_size(&m), RC_EINVAL);
    m.ids.len = 8;
    n = rc_encode(&m, frame, sizeof frame);
    RC_CHECK(n > 0);
    size_t ids_prefix = (size_t)n - 8u - 2u;
    frame[ids_prefix] = 7;
    frame[12] = (uint8_t)(frame[12] - 1u);
    RC_CHECK_RC(decode_server(frame, (size_t)n - 1u), RC_EBAD_FRAME);

    uint8_t buf[1 + RC_ITEM_SIZE];
    uint64_t id;
    float score;
    rc_item_put(buf + 1, 0x0102030405060708u, -2.5f);
    RC_CHECK_EQ_U64(rc_id_get(buf + 1), 0x0102030405060708u);
    RC_CHECK_EQ_INT(buf[1], 0x08);
    rc_item_get(buf + 1, &id, &score);
    RC_CHECK_EQ_U64(id, 0x0102030405060708u);
    RC_CHECK(score == -2.5f);
    RC_CHECK(strcmp(rc_opcode_name(RC_OP_LIST_GET), "list-get") == 0);
    RC_CHECK(strcmp(rc_error_name(RC_EWRONG_KIND), "WRONG_KIND") == 0);
}

int main(void)
{
    RC_TEST_RUN(test_round_trip_every_layout);
    RC_TEST_RUN(test_every_opcode_has_layouts);
    RC_TEST_RUN(test_truncated_header);
    RC_TEST_RUN(test_bad_header_fields);
    RC_TEST_RUN(test_header_error_keeps_request_id);
    RC_TEST_RUN(test_frame_size_limits);
    RC_TEST_RUN(test_every_body_truncation);
    RC_TEST_RUN(test_trailing_bytes);
    RC_TEST_RUN(test_length_disagrees_with_body);
    RC_TEST_RUN(test_opcode_and_direction_errors);
    RC_TEST_RUN(test_namespace_and_key_limits);
    RC_TEST_RUN(test_value_limit);
    RC_TEST_RUN(test_tag_limits);
    RC_TEST_RUN(test_subscribe_names);
    RC_TEST_RUN(test_bad_enum_values);
    RC_TEST_RUN(test_decode_body_zeroes);
    RC_TEST_RUN(test_pipelined_stream);
    RC_TEST_RUN(test_partial_stream);
    RC_TEST_RUN(test_body_error_is_skippable);
    RC_TEST_RUN(test_encode_small_buffer);
    RC_TEST_RUN(test_encode_field_widths);
    RC_TEST_RUN(test_encode_frame_over_4gib);
    RC_TEST_RUN(test_encode_invalid_header_or_enum);
    RC_TEST_RUN(test_encode_malformed_tag_list);
    RC_TEST_RUN(test_list_helpers);
    RC_TEST_RUN(test_list_encoding);
    RC_TEST_RUN(test_opcode_names_and_slices);
    RC_TEST_RUN(test_error_strings);
    fprintf(stderr, "test_proto: all passed\n");
    return 0;
}
