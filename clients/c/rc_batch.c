/*
 * rc_batch.c - pipelined batches of GET / SET / DELETE / LGET over one client.
 *
 * Design.  Queuing copies the caller's namespace, key, encoded tags and value
 * into one growable byte arena owned by the batch and records each request
 * as an rc_msg whose slices hold offsets into that arena (pointers would
 * not survive the arena growing); rc_batch_exec turns the offsets back into
 * pointers, encodes every request into one buffer with consecutive request
 * ids, and runs a single rc__exchange() over it.  Each answer is stored by
 * index (request id - first id); values are copied into a second arena, and
 * their pointers are fixed up once every answer is in.  Because answers are
 * matched by id, a parked LGET (answered only when its key is filled) does
 * not hold back the answers queued behind it; exec waits for all of them,
 * with the I/O deadline extended by the longest LGET wait in the batch.
 *
 * Ownership: everything a result points at belongs to the batch and lives
 * until rc_batch_reset / rc_batch_free.  A batch is used by one thread at a
 * time, like its client.  Failure: allocation failures return RC_ENOMEM and
 * leave the batch and client usable; connection failures are the client's.
 */
#include <stdlib.h>
#include <string.h>

#include "rc_client_int.h"

#define RC__BATCH_MAX_OPS 1000000u
/* Offset meaning "no bytes" (an absent field or a result without a value). */
#define RC__NO_OFFSET SIZE_MAX

/* One queued request; slice pointers are filled from the offsets at exec. */
typedef struct rc__batch_op {
    rc_msg req;
    size_t ns_off;
    size_t key_off;
    size_t tags_off;
    size_t value_off;
} rc__batch_op;

/* A growable byte arena addressed by offsets. */
typedef struct rc__arena {
    uint8_t *data;
    size_t len;
    size_t cap;
} rc__arena;

struct rc_batch {
    rc_client *client;
    rc__batch_op *ops;
    size_t nops;
    size_t ops_cap;
    rc__arena req_bytes; /* copied request fields */
    rc__arena wire;      /* encoded frames of the last exec */
    rc__arena values;    /* response values of the last exec */
    rc_batch_result *results;
    size_t *value_offs; /* per result: offset of its value in `values`, or RC__NO_OFFSET */
    uint8_t *answered;  /* per result: 1 once its response arrived */
    size_t results_cap;
    int executed;
};

/* ---- arena ---------------------------------------------------------------------------------- */

/* rc__arena_reserve - room for `extra` more bytes.  0 or RC_ENOMEM (also on size overflow). */
static int rc__arena_reserve(rc__arena *a, size_t extra)
{
    if (extra > SIZE_MAX / 2 - a->len)
        return RC_ENOMEM;
    if (a->len + extra <= a->cap)
        return 0;
    size_t cap = a->cap ? a->cap : 4096;
    while (cap < a->len + extra)
        cap *= 2;
    uint8_t *p = realloc(a->data, cap);
    if (p == NULL)
        return RC_ENOMEM;
    a->data = p;
    a->cap = cap;
    return 0;
}

/*
 * rc__arena_copy - append len bytes (plus a NUL when nul is set) and return
 * their offset in *off.  Empty copies store nothing (RC__NO_OFFSET).
 */
static int rc__arena_copy(rc__arena *a, const void *src, size_t len, int nul, size_t *off)
{
    *off = RC__NO_OFFSET;
    if (len == 0 && !nul)
        return 0;
    int err = rc__arena_reserve(a, len + (nul ? 1 : 0));
    if (err)
        return err;
    *off = a->len;
    if (len > 0)
        memcpy(a->data + a->len, src, len);
    a->len += len;
    if (nul)
        a->data[a->len++] = '\0';
    return 0;
}

static void rc__arena_free(rc__arena *a)
{
    free(a->data);
    memset(a, 0, sizeof *a);
}

/* ---- lifecycle ------------------------------------------------------------------------------ */

rc_batch *rc_batch_new(rc_client *c)
{
    if (c == NULL)
        return NULL;
    rc_batch *b = calloc(1, sizeof *b);
    if (b != NULL)
        b->client = c;
    return b;
}

void rc_batch_free(rc_batch *b)
{
    if (b == NULL)
        return;
    free(b->ops);
    rc__arena_free(&b->req_bytes);
    rc__arena_free(&b->wire);
    rc__arena_free(&b->values);
    free(b->results);
    free(b->value_offs);
    free(b->answered);
    free(b);
}

/* rc_batch_reset - forget queued operations and results; keeps the memory for reuse. */
void rc_batch_reset(rc_batch *b)
{
    if (b == NULL)
        return;
    b->nops = 0;
    b->req_bytes.len = 0;
    b->wire.len = 0;
    b->values.len = 0;
    b->executed = 0;
}

size_t rc_batch_count(const rc_batch *b)
{
    return b ? b->nops : 0;
}

/* ---- queuing -------------------------------------------------------------------------------- */

/*
 * rc__batch_push - copy the variable fields of a prepared request (views of
 * caller memory) into the batch and append it.  The arena length is rolled
 * back on failure so a refused operation leaves no trace.  Returns the
 * index or RC_ENOMEM / RC_EINVAL (batch full, or already executed), or the
 * limit of the server's the request exceeds (rc__check_request: refused
 * here, at queue time, so an executed batch never carries it).
 */
static long rc__batch_push(rc_batch *b, const rc_msg *req)
{
    if (b->executed || b->nops >= RC__BATCH_MAX_OPS)
        return RC_EINVAL;
    long size = rc_encoded_size(req);
    if (size < 0)
        return size;
    int err = rc__check_request(b->client, req, (size_t)size);
    if (err)
        return err;
    if (b->nops == b->ops_cap) {
        size_t cap = b->ops_cap ? b->ops_cap * 2 : 64;
        rc__batch_op *ops = realloc(b->ops, cap * sizeof *ops);
        if (ops == NULL)
            return RC_ENOMEM;
        b->ops = ops;
        b->ops_cap = cap;
    }
    rc__batch_op *op = &b->ops[b->nops];
    size_t mark = b->req_bytes.len;
    op->req = *req;
    err = rc__arena_copy(&b->req_bytes, req->ns.ptr, req->ns.len, 0, &op->ns_off);
    if (err == 0)
        err = rc__arena_copy(&b->req_bytes, req->key.ptr, req->key.len, 0, &op->key_off);
    if (err == 0)
        err = rc__arena_copy(&b->req_bytes, req->tags.ptr, req->tags.len, 0, &op->tags_off);
    if (err == 0)
        err = rc__arena_copy(&b->req_bytes, req->value.ptr, req->value.len, 0, &op->value_off);
    if (err) {
        b->req_bytes.len = mark;
        return err;
    }
    op->req.ns.ptr = op->req.key.ptr = op->req.tags.ptr = op->req.value.ptr = NULL;
    return (long)b->nops++;
}

long rc_batch_get(rc_batch *b, const char *ns, const void *key, size_t key_len,
                  const rc_get_options *opts)
{
    rc_msg req;
    if (b == NULL)
        return RC_EINVAL;
    int err = rc__prepare_keyed(&req, RC_OP_GET, ns, key, key_len, opts ? opts->version : 0);
    if (err)
        return err;
    req.min_version = opts ? opts->min_version : 0;
    return rc__batch_push(b, &req);
}

long rc_batch_set(rc_batch *b, const char *ns, const void *key, size_t key_len, const void *value,
                  size_t value_len, const rc_set_options *opts)
{
    rc_msg req;
    if (b == NULL)
        return RC_EINVAL;
    int err = rc__prepare_set(&req, ns, key, key_len, value, value_len, opts);
    if (err)
        return err;
    long tags_len = rc__tags_size(opts);
    if (tags_len <= 0)
        return tags_len < 0 ? tags_len : rc__batch_push(b, &req);

    /* Encoded once into a temporary, then copied with the other fields. */
    uint8_t *tags = malloc((size_t)tags_len);
    if (tags == NULL)
        return RC_ENOMEM;
    long n = rc__tags_encode(opts, tags, (size_t)tags_len);
    long index = n;
    if (n >= 0) {
        req.tags.ptr = tags;
        req.tags.len = (uint32_t)n;
        req.ntags = (uint8_t)opts->ntags;
        index = rc__batch_push(b, &req);
    }
    free(tags);
    return index;
}

long rc_batch_delete(rc_batch *b, const char *ns, const void *key, size_t key_len, uint64_t version)
{
    rc_msg req;
    if (b == NULL)
        return RC_EINVAL;
    int err = rc__prepare_keyed(&req, RC_OP_DELETE, ns, key, key_len, version);
    return err ? err : rc__batch_push(b, &req);
}

long rc_batch_lget(rc_batch *b, const char *ns, const void *key, size_t key_len,
                   const rc_lget_options *opts)
{
    rc_msg req;
    if (b == NULL)
        return RC_EINVAL;
    int err = rc__prepare_lget(&req, ns, key, key_len, opts);
    return err ? err : rc__batch_push(b, &req);
}

/* ---- execution ------------------------------------------------------------------------------ */

/* rc__batch_max_wait - the longest wait_ms of the queued LGETs (how long answers may lag). */
static uint32_t rc__batch_max_wait(const rc_batch *b)
{
    uint32_t max = 0;
    for (size_t i = 0; i < b->nops; i++)
        if (b->ops[i].req.opcode == RC_OP_LGET && b->ops[i].req.wait_ms > max)
            max = b->ops[i].req.wait_ms;
    return max;
}

/* rc__batch_results_reserve - per-result arrays for nops results.  0 or RC_ENOMEM. */
static int rc__batch_results_reserve(rc_batch *b)
{
    if (b->nops <= b->results_cap)
        return 0;
    rc_batch_result *r = realloc(b->results, b->nops * sizeof *r);
    if (r == NULL)
        return RC_ENOMEM;
    b->results = r;
    size_t *offs = realloc(b->value_offs, b->nops * sizeof *offs);
    if (offs == NULL)
        return RC_ENOMEM;
    b->value_offs = offs;
    uint8_t *ans = realloc(b->answered, b->nops);
    if (ans == NULL)
        return RC_ENOMEM;
    b->answered = ans;
    b->results_cap = b->nops;
    return 0;
}

/* rc__slice_at - a view of len bytes at off in the request arena. */
static rc_slice rc__slice_at(const rc_batch *b, size_t off, uint32_t len)
{
    rc_slice s = {off == RC__NO_OFFSET ? NULL : b->req_bytes.data + off, len};
    return s;
}

/*
 * rc__batch_encode - encode every queued request, ids first_id + i, into
 * the wire arena.  Returns 0 or an encoding error / RC_ENOMEM.
 */
static int rc__batch_encode(rc_batch *b, uint32_t first_id)
{
    b->wire.len = 0;
    for (size_t i = 0; i < b->nops; i++) {
        rc__batch_op *op = &b->ops[i];
        rc_msg req = op->req;
        req.ns = rc__slice_at(b, op->ns_off, op->req.ns.len);
        req.key = rc__slice_at(b, op->key_off, op->req.key.len);
        req.tags = rc__slice_at(b, op->tags_off, op->req.tags.len);
        req.value = rc__slice_at(b, op->value_off, op->req.value.len);
        req.request_id = first_id + (uint32_t)i;
        long size = rc_encoded_size(&req);
        if (size < 0)
            return (int)size;
        int err = rc__arena_reserve(&b->wire, (size_t)size);
        if (err)
            return err;
        long n = rc_encode(&req, b->wire.data + b->wire.len, b->wire.cap - b->wire.len);
        if (n < 0)
            return (int)n;
        b->wire.len += (size_t)n;
    }
    return 0;
}

/*
 * rc__batch_on_response - store one answer at its index.  A second answer
 * for the same index, or one for another operation, is a protocol error.
 * A GET or LGET hit's value is copied into the values arena (an LGET's
 * lease and token are kept for every outcome); RC_ENOMEM there marks
 * that result RC_ENOMEM and is reported after the exchange completes.
 */
static int rc__batch_on_response(void *ctx, size_t index, const rc_msg *resp)
{
    rc_batch *b = ctx;
    const rc_msg *req = &b->ops[index].req;
    rc_batch_result *r = &b->results[index];
    if (b->answered[index] || (resp->status < RC_STATUS_FIRST_ERROR && resp->opcode != req->opcode))
        return RC_EPROTOCOL;
    b->answered[index] = 1;
    r->status = resp->status == RC_STATUS_OK ? 0 : -(int)resp->status;
    if (resp->status >= RC_STATUS_FIRST_ERROR)
        return 0;
    if (req->opcode == RC_OP_SET) {
        r->write.ns_version = resp->ns_version;
        r->write.entry_version = resp->entry_version;
    } else if (req->opcode == RC_OP_GET || req->opcode == RC_OP_LGET) {
        r->value.ns_version = resp->ns_version;
        if (req->opcode == RC_OP_LGET) {
            r->lease = resp->lease;
            memcpy(r->token.bytes, resp->token, RC_TOKEN_SIZE);
        }
        if (resp->status != RC_STATUS_OK)
            return 0;
        rc__value_meta(&r->value, resp);
        r->value.len = resp->value.len;
        int err =
            rc__arena_copy(&b->values, resp->value.ptr, resp->value.len, 1, &b->value_offs[index]);
        if (err)
            r->status = err;
        return err;
    }
    return 0;
}

/* rc__batch_finish - point hit results at their bytes and mark unanswered ones with err. */
static void rc__batch_finish(rc_batch *b, int err)
{
    for (size_t i = 0; i < b->nops; i++) {
        rc_batch_result *r = &b->results[i];
        if (!b->answered[i])
            r->status = err ? err : RC_EPROTOCOL;
        if (b->value_offs[i] != RC__NO_OFFSET)
            r->value.data = b->values.data + b->value_offs[i];
    }
}

int rc_batch_exec(rc_batch *b)
{
    if (b == NULL || b->executed)
        return RC_EINVAL;
    int err = rc__check_usable(b->client);
    if (err)
        return err;
    err = rc__batch_results_reserve(b);
    if (err)
        return err;
    memset(b->results, 0, b->nops * sizeof *b->results);
    memset(b->answered, 0, b->nops);
    for (size_t i = 0; i < b->nops; i++)
        b->value_offs[i] = RC__NO_OFFSET;
    b->values.len = 0;

    uint32_t first_id = rc__reserve_ids(b->client, b->nops);
    err = rc__batch_encode(b, first_id);
    if (err)
        return err;
    b->executed = 1;
    if (b->nops == 0)
        return 0;
    struct iovec iov = {b->wire.data, b->wire.len};
    err = rc__exchange(b->client, &iov, 1, first_id, b->nops, rc__batch_max_wait(b),
                       rc__batch_on_response, b);
    rc__batch_finish(b, err);
    /* Every answer arrived; results that could not be stored carry RC_ENOMEM themselves. */
    if (err == RC_ENOMEM && rc_client_ok(b->client))
        return 0;
    return err;
}

const rc_batch_result *rc_batch_get_result(const rc_batch *b, size_t i)
{
    if (b == NULL || !b->executed || i >= b->nops)
        return NULL;
    return &b->results[i];
}
