/*
 * fuzz_proto.c - libFuzzer target for the wire codec.
 *
 * Design.  The input is treated as a byte stream arriving on a connection.
 * Frames are taken off it with rc_decode exactly as the server does
 * (stopping at the first header error or incomplete frame), under two limit
 * sets: modest server-like limits and the widest wire limits.  Each frame
 * whose header is good is decoded three ways (as sent, forced to be a
 * response, forced to be an EVENT push) so every body layout sees every
 * input.  Each body that decodes must satisfy the codec's promises, checked
 * with abort() so libFuzzer reports a violation as a crash:
 *
 *   - re-encoding reproduces the body byte for byte (the format has exactly
 *     one encoding per message), and the header too unless it was forced;
 *   - the re-encoded frame decodes to an equal message;
 *   - rc_encode_head writes a prefix of rc_encode, short of the value bytes;
 *   - a decoded tag or name list walks to exactly ntags non-empty items;
 *   - a PEER_SYNC response's value walks as control records (rc_peerwire.h)
 *     until its end or an error, each known record re-encoding to its bytes.
 *
 * Body errors must be one of the codes rc_decode_body documents.  The same
 * file is linked into fuzz_proto_replay (any compiler) to replay the corpus.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "recache/rc_peerwire.h"
#include "recache/rc_proto.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Scratch space for re-encoding; a re-encoded frame is never longer than the input. */
typedef struct fuzz_buf {
    uint8_t *full;
    uint8_t *head;
    size_t cap;
} fuzz_buf;

static void require(bool ok)
{
    if (!ok)
        abort();
}

static bool slice_eq(rc_slice a, rc_slice b)
{
    return a.len == b.len && (a.len == 0 || memcmp(a.ptr, b.ptr, a.len) == 0);
}

static bool msg_eq(const rc_msg *a, const rc_msg *b)
{
    return a->opcode == b->opcode && a->hflags == b->hflags && a->status == b->status &&
           a->request_id == b->request_id && a->ns_version == b->ns_version &&
           a->min_version == b->min_version && a->entry_version == b->entry_version &&
           a->cas_version == b->cas_version && a->seq == b->seq &&
           a->instance_id == b->instance_id && a->cursor == b->cursor && a->next == b->next &&
           a->ttl_ms == b->ttl_ms && a->stale_ms == b->stale_ms &&
           a->client_flags == b->client_flags && a->wait_ms == b->wait_ms &&
           a->max_frame == b->max_frame && a->max_value == b->max_value &&
           a->max_key == b->max_key && a->max_tags == b->max_tags &&
           a->max_tag_len == b->max_tag_len && a->cond == b->cond && a->mode == b->mode &&
           a->state == b->state && a->lease == b->lease && a->kind == b->kind &&
           a->ntags == b->ntags && memcmp(a->token, b->token, RC_TOKEN_SIZE) == 0 &&
           slice_eq(a->ns, b->ns) && slice_eq(a->key, b->key) && slice_eq(a->tag, b->tag) &&
           slice_eq(a->tags, b->tags) && slice_eq(a->text, b->text) && slice_eq(a->value, b->value);
}

static bool is_body_error(int rc)
{
    return rc == RC_EUNKNOWN_OPCODE || rc == RC_EBAD_FRAME || rc == RC_EBAD_NAMESPACE ||
           rc == RC_EKEY_TOO_LONG || rc == RC_EVALUE_TOO_LARGE || rc == RC_ETOO_MANY_TAGS ||
           rc == RC_ETAG_TOO_LONG || rc == RC_EBAD_ARGUMENT;
}

static void check_list(const rc_msg *m)
{
    rc_list_iter it;
    rc_slice item;
    unsigned n = 0;
    rc_list_iter_init(&it, m->tags);
    while (rc_list_next(&it, &item)) {
        require(item.len > 0);
        n++;
    }
    require(n == m->ntags);
}

/* The value of a PEER_SYNC response as control records: each known one re-encodes exactly. */
static void check_peer_records(const rc_msg *m, fuzz_buf *buf)
{
    if (m->opcode != RC_OP_PEER_SYNC || !(m->hflags & RC_HF_RESPONSE))
        return;
    rc_slice rest = m->value;
    rc_peerwire_rec r;
    for (;;) {
        const uint8_t *at = rest.ptr;
        uint32_t left = rest.len;
        int rc = rc_peerwire_next(&rest, &r);
        if (rc != 1) {
            require(rc == 0 || (rc == RC_EBAD_FRAME && rest.ptr == at && rest.len == left));
            return;
        }
        size_t used = left - rest.len;
        require(used >= 3 && used <= left);
        if (r.kind == RC_PEERWIRE_VERSION || r.kind == RC_PEERWIRE_TAG) {
            long n = rc_peerwire_encode(&r, buf->head, buf->cap);
            require(n >= 0 && (size_t)n == used && memcmp(buf->head, at, used) == 0);
        }
    }
}

/*
 * m decoded from `body` (blen bytes); `header` is the original header when
 * the flags were not forced, else NULL.  Re-encode and compare.
 */
static void check_round_trip(const rc_msg *m, const uint8_t *header, const uint8_t *body,
                             size_t blen, const rc_limits *lim, fuzz_buf *buf)
{
    long n = rc_encode(m, buf->full, buf->cap);
    require(n >= 0 && (size_t)n == RC_HEADER_SIZE + blen);
    require(memcmp(buf->full + RC_HEADER_SIZE, body, blen) == 0);
    require(header == NULL || memcmp(buf->full, header, RC_HEADER_SIZE) == 0);

    long h = rc_encode_head(m, buf->head, buf->cap);
    require(h >= RC_HEADER_SIZE && h <= n && (size_t)(n - h) <= m->value.len);
    require(memcmp(buf->head, buf->full, (size_t)h) == 0);
    require(rc_encoded_size(m) == n);

    rc_msg again;
    size_t consumed;
    require(rc_decode(buf->full, (size_t)n, lim, &again, &consumed) == 0);
    require(consumed == (size_t)n && msg_eq(m, &again));
    check_list(m);
    check_peer_records(m, buf);
}

/* Decode body under the header in *hdr; on success check the round trip. */
static void check_body(const rc_msg *hdr, const uint8_t *header, const uint8_t *body, size_t blen,
                       const rc_limits *lim, fuzz_buf *buf)
{
    rc_msg m = *hdr;
    int rc = rc_decode_body(body, blen, lim, &m);
    if (rc != 0) {
        require(is_body_error(rc));
        return;
    }
    check_round_trip(&m, header, body, blen, lim, buf);
}

/* One frame with a good header: as sent, as a response, as a push. */
static void check_frame(const rc_msg *hdr, const uint8_t *frame, size_t flen, const rc_limits *lim,
                        fuzz_buf *buf)
{
    const uint8_t *body = frame + RC_HEADER_SIZE;
    size_t blen = flen - RC_HEADER_SIZE;
    check_body(hdr, frame, body, blen, lim, buf);

    rc_msg forced = {.opcode = hdr->opcode, .status = hdr->status, .request_id = hdr->request_id};
    forced.hflags = RC_HF_RESPONSE;
    check_body(&forced, NULL, body, blen, lim, buf);

    rc_msg push = {.opcode = RC_OP_EVENT, .hflags = RC_HF_PUSH};
    check_body(&push, NULL, body, blen, lim, buf);
}

/* Take frames off the stream as a server would until it must wait or close. */
static void fuzz_stream(const uint8_t *data, size_t size, const rc_limits *lim, fuzz_buf *buf)
{
    size_t off = 0;
    while (off < size) {
        rc_msg m;
        size_t consumed;
        int rc = rc_decode(data + off, size - off, lim, &m, &consumed);
        if (rc == RC_EAGAIN) {
            require(consumed == 0 || consumed > size - off);
            return;
        }
        if (consumed == 0) {
            require(rc == RC_EBAD_MAGIC || rc == RC_EBAD_VERSION || rc == RC_EBAD_FRAME ||
                    rc == RC_EFRAME_TOO_LARGE);
            return; /* header error: the connection would be closed */
        }
        require(consumed >= RC_HEADER_SIZE && consumed <= size - off);
        require(rc == 0 || is_body_error(rc));
        check_frame(&m, data + off, consumed, lim, buf);
        off += consumed;
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const rc_limits modest = {64u << 10, 16u << 10, 250, 64, 8, 32};
    rc_limits wire = rc_limits_wire();
    fuzz_buf buf = {malloc(size + 1), malloc(size + 1), size + 1};
    require(buf.full != NULL && buf.head != NULL);

    fuzz_stream(data, size, &modest, &buf);
    fuzz_stream(data, size, &wire, &buf);

    free(buf.full);
    free(buf.head);
    return 0;
}
