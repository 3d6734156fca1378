/*
 * rc_ops.c - request handlers (see rc_ops.h for the design).
 *
 * Dispatch.  rc__handlers[] is indexed by opcode and generated from
 * RC_OPCODES, naming one rc__handle_<OPCODE> function per row, so an opcode
 * added to the protocol does not compile until it has a handler here.
 *
 * SUBSCRIBE turns the connection into a subscriber (rc_sub.h); the
 * connection keeps serving ordinary requests.  EVENT is a server-to-client
 * push and is never a valid request (the codec already refuses it; its
 * handler exists for the table's completeness).
 *
 * State changes.  Handlers never call a mutating store function, publish
 * an event or answer parked readers themselves: they call the service
 * layer (rc_service.h), which does all three in one place, and then append
 * their own response.  So no handler can forget an event.
 *
 * Lists (rc_store_list.h).  LIST_SET is SET with the list kind.  LIST_GET
 * and LIST_LGET are GET and LGET with the list kind: the store copies the
 * whole list into the reserved output under the shard lock, then, with no
 * lock held, rc_store_list_filter compacts it there (exclude set,
 * suppressions, top N) before the head is encoded in front of it.  A
 * parked LIST_LGET carries its filter in its record (rc_park_list).  Id
 * sets are decoded into a bounded array only after their count passed
 * the limit that applies (max-exclude, max-list-items, max-suppressed).
 *
 * GET and LGET write their response in place: they reserve the encoded
 * head plus the value in the connection's output from inside the store's
 * value sink, let the store copy the value there under the shard lock, then
 * encode the head in front of it (rc_encode_head).  The value is copied
 * once, from the store to the output buffer.
 *
 * Leases.  LGET with wait_ms > 0 passes the store a parked-request record
 * (rc_park.h); when the store parks it, the handler answers nothing now and
 * the record belongs to the lease until one of its endings answers it, so
 * the requests behind it on the connection are answered first.
 */
#define _POSIX_C_SOURCE 200809L

#include "rc_ops.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rc_alloc.h"
#include "rc_log.h"
#include "rc_park.h"
#include "rc_server.h"
#include "rc_service.h"
#include "rc_store.h"
#include "rc_store_list.h"
#include "rc_sub.h"
#include "rc_sync.h"

/* Room for a STATS or NS_INFO text report. */
#define RC__TEXT_CAP (64u * 1024u)

#define RC__SERVER_NAME "recache-server " RECACHE_VERSION

/* Everything a handler needs about the request it answers. */
typedef struct rc__op_ctx {
    rc_conn *conn;
    rc_server *server;
    uint64_t now_ms; /* the worker loop's monotonic clock */
    const rc_msg *req;
} rc__op_ctx;

typedef void (*rc__op_handler)(const rc__op_ctx *x);

/* A response skeleton for x's request: same opcode and request id, status 0. */
static rc_msg rc__response(const rc__op_ctx *x)
{
    rc_msg resp = {0};
    resp.opcode = x->req->opcode;
    resp.hflags = RC_HF_RESPONSE;
    resp.request_id = x->req->request_id;
    return resp;
}

/* Append an error response; message NULL means the code's own sentence. */
static void rc__reply_error(const rc__op_ctx *x, int rc, const char *message)
{
    rc_conn_send_error(x->conn, x->req->opcode, x->req->request_id, rc,
                       message != NULL ? message : rc_strerror(rc));
}

/*
 * Append resp with the status for rc.  Success and outcomes (MISS,
 * EXISTS, ...) keep the operation's layout and carry resp's fields; error
 * statuses carry only a message.
 */
static void rc__reply(const rc__op_ctx *x, rc_msg *resp, int rc)
{
    uint16_t status = rc_conn_wire_status(rc);
    if (status >= RC_STATUS_FIRST_ERROR) {
        rc__reply_error(x, rc, NULL);
        return;
    }
    resp->status = status;
    int err = rc_conn_send(x->conn, resp);
    if (err != 0) {
        rc_log_error("cannot encode a %s response: %s", rc_opcode_name(resp->opcode),
                     rc_strerror(err));
        rc__reply_error(x, RC_EINTERNAL, "the response could not be encoded");
    }
}

static rc_store_key rc__key(const rc_msg *req)
{
    rc_store_key key = {req->ns, req->key, req->ns_version, req->min_version, RC_KIND_BYTES};
    return key;
}

/* ---- connection and server ------------------------------------------------------------------ */

static void rc__handle_HELLO(const rc__op_ctx *x)
{
    const rc_config *cfg = x->server->cfg;
    rc_msg resp = rc__response(x);
    resp.instance_id = x->server->instance_id;
    resp.max_frame = (uint32_t)cfg->max_frame;
    resp.max_value = (uint32_t)cfg->max_value;
    resp.max_key = (uint16_t)cfg->max_key;
    resp.max_tags = (uint8_t)cfg->max_tags;
    resp.max_tag_len = (uint8_t)cfg->max_tag_len;
    resp.text = rc_slice_str(RC__SERVER_NAME);
    rc__reply(x, &resp, 0);
}

static void rc__handle_PING(const rc__op_ctx *x)
{
    rc_msg resp = rc__response(x);
    rc__reply(x, &resp, 0);
}

/* STATS: server-wide text, or one namespace's report when a namespace is named. */
static void rc__handle_STATS(const rc__op_ctx *x)
{
    rc_msg resp = rc__response(x);
    char *text = rc_xmalloc(RC__TEXT_CAP);
    uint64_t version = 0;
    long len = x->req->ns.len == 0
                   ? rc_server_stats_text(x->server, text, RC__TEXT_CAP)
                   : rc_store_ns_info(x->server->store, x->req->ns, text, RC__TEXT_CAP, &version);
    if (len >= 0) {
        resp.value.ptr = (const uint8_t *)text;
        resp.value.len = (uint32_t)len;
    }
    rc__reply(x, &resp, len < 0 ? (int)len : 0);
    free(text);
}

/* ---- entries -------------------------------------------------------------------------------- */

/* Where a GET or LGET response goes: reserved in the output by the value sink. */
typedef struct rc__get_region {
    rc_conn *conn;
    size_t head_len;  /* encoded response size without the value bytes */
    uint8_t *frame;   /* start of the reservation, NULL until the sink ran */
    size_t value_len; /* value bytes the store copies after the head */
} rc__get_region;

/* Value sink: reserve head + value in the output; the store copies the value after the head. */
static uint8_t *rc__get_sink(void *ctx, size_t len)
{
    rc__get_region *region = ctx;
    region->frame = rc_conn_reserve(region->conn, region->head_len + len);
    region->value_len = len;
    return region->frame + region->head_len;
}

/*
 * Prepare region for resp's response (head size without the value).
 * Returns false after answering INTERNAL if the response cannot be sized.
 */
static bool rc__region_init(const rc__op_ctx *x, const rc_msg *resp, rc__get_region *region)
{
    /* The value's length prefix is fixed-width, so the head size does not depend on the value. */
    long head_len = rc_encoded_size(resp);
    if (head_len < 0) {
        rc__reply_error(x, RC_EINTERNAL, "the response could not be sized");
        return false;
    }
    *region = (rc__get_region){x->conn, (size_t)head_len, NULL, 0};
    return true;
}

/* Copy a read's fields into a GET/LGET response. */
static void rc__read_fields(rc_msg *resp, const rc_store_read *out)
{
    resp->ns_version = out->ns_version;
    resp->entry_version = out->entry_version;
    resp->client_flags = out->client_flags;
    resp->ttl_ms = out->ttl_left_ms;
    resp->state = out->state;
    resp->value.len = out->value_len;
}

/* Encode resp's head in front of the value the store copied into region, and commit the frame. */
static void rc__commit_in_place(const rc__op_ctx *x, const rc_msg *resp, rc__get_region *region)
{
    if (region->frame == NULL && resp->value.len == 0)
        region->frame = rc_conn_reserve(x->conn, region->head_len);
    if (region->frame == NULL || region->value_len != resp->value.len ||
        rc_encode_head(resp, region->frame, region->head_len) != (long)region->head_len) {
        rc__reply_error(x, RC_EINTERNAL, "the value could not be placed in the response");
        return;
    }
    rc_conn_commit(x->conn, region->head_len + region->value_len);
}

static void rc__handle_GET(const rc__op_ctx *x)
{
    rc_msg resp = rc__response(x);
    rc__get_region region;
    if (!rc__region_init(x, &resp, &region))
        return;
    rc_store_key key = rc__key(x->req);
    rc_store_read out = {0};
    int rc = rc_store_get(x->server->store, &key, x->now_ms, rc__get_sink, &region, &out);
    resp.ns_version = out.ns_version;
    if (rc != 0) {
        rc__reply(x, &resp, rc); /* nothing was committed, so a reservation is just discarded */
        return;
    }
    rc__read_fields(&resp, &out);
    rc__commit_in_place(x, &resp, &region);
}

/* ---- leases --------------------------------------------------------------------------------- */

/*
 * Answer an LGET the store did not park (PROTOCOL.md section 6): a hit
 * carries the value written in place plus the lease state; a miss carries
 * the new lease (MISS) or says another reader holds it (LEASE_HELD).
 */
static void rc__lget_answer(const rc__op_ctx *x, rc_msg *resp, const rc_store_lease_read *out,
                            rc__get_region *region)
{
    resp->lease = out->lease;
    if (out->lease == RC_LEASE_GRANTED)
        memcpy(resp->token, out->token, RC_TOKEN_SIZE);
    if (out->outcome == RC_LGET_HIT) {
        rc__read_fields(resp, &out->read);
        rc__commit_in_place(x, resp, region);
        return;
    }
    /* Misses: nothing was committed, so a reservation the sink may have made is discarded. */
    rc__reply(x, resp, out->outcome == RC_LGET_MISS_GRANTED ? RC_EMISS : RC_ELEASE_HELD);
}

/* LGET: lease read; with wait_ms > 0 a held lease parks the request (rc_park.h). */
static void rc__handle_LGET(const rc__op_ctx *x)
{
    const rc_msg *req = x->req;
    const rc_config *cfg = x->server->cfg;
    rc_msg resp = rc__response(x);
    rc__get_region region;
    if (!rc__region_init(x, &resp, &region))
        return;
    rc_parked *p = req->wait_ms > 0 ? rc_park_new(x->conn, req->request_id) : NULL;
    rc_store_lease_opts opts = {
        .lease_ms = (uint32_t)cfg->lease_ms,
        .max_waiters_key = (uint32_t)cfg->max_waiters_key,
        .waiter = p != NULL ? &p->waiter : NULL,
    };
    rc_store_key key = rc__key(req);
    rc_store_lease_read out = {0};
    int rc = rc_store_lget(x->server->store, &key, &opts, x->now_ms, rc__get_sink, &region, &out);
    if (rc == 0 && out.outcome == RC_LGET_PARKED) {
        /* The record now belongs to the lease; no response until it is woken or times out. */
        uint32_t wait = req->wait_ms < cfg->max_wait_ms ? req->wait_ms : (uint32_t)cfg->max_wait_ms;
        rc_park_commit(p, x->now_ms, wait, out.read.ns_version);
        return;
    }
    if (p != NULL)
        rc_park_free(p);
    resp.ns_version = out.read.ns_version;
    if (rc != 0) {
        rc__reply(x, &resp, rc); /* TOO_MANY_WAITERS keeps the LGET layout; errors a message */
        return;
    }
    rc__lget_answer(x, &resp, &out, &region);
}

/* Whether a request carries a lease token (all zero means none). */
static bool rc__has_token(const uint8_t token[RC_TOKEN_SIZE])
{
    for (size_t i = 0; i < RC_TOKEN_SIZE; i++) {
        if (token[i] != 0)
            return true;
    }
    return false;
}

/* SET and LIST_SET: a write of a value of `kind` with every SET option. */
static void rc__write(const rc__op_ctx *x, uint8_t kind)
{
    const rc_msg *req = x->req;
    rc_msg resp = rc__response(x);
    rc_store_write w = {
        .value = req->value.ptr,
        .value_len = req->value.len,
        .ttl_ms = req->ttl_ms,
        .stale_ms = req->stale_ms,
        .client_flags = req->client_flags,
        .cond = req->cond,
        .ntags = req->ntags,
        .entry_version = req->entry_version,
        .cas_version = req->cas_version,
        .tags = req->tags,
        /* A lease fill: the store rejects it (LEASE_REJECTED) unless its lease is current. */
        .token = rc__has_token(req->token) ? req->token : NULL,
        .kind = kind,
    };
    rc_store_key key = rc__key(req);
    rc_store_write_result out = {0};
    int rc = rc_svc_set(x->server, x->conn->worker, &key, &w, x->now_ms, &out);
    resp.ns_version = out.ns_version;
    resp.entry_version = out.entry_version;
    rc__reply(x, &resp, rc);
}

static void rc__handle_SET(const rc__op_ctx *x)
{
    rc__write(x, RC_KIND_BYTES);
}

static void rc__handle_DELETE(const rc__op_ctx *x)
{
    rc_msg resp = rc__response(x);
    rc_store_key key = rc__key(x->req);
    int rc = rc_svc_delete(x->server, x->conn->worker, &key, x->now_ms, &resp.ns_version);
    rc__reply(x, &resp, rc);
}

static void rc__handle_TOUCH(const rc__op_ctx *x)
{
    rc_msg resp = rc__response(x);
    rc_store_key key = rc__key(x->req);
    int rc = rc_svc_touch(x->server, &key, x->req->ttl_ms, x->now_ms, &resp.ns_version);
    rc__reply(x, &resp, rc);
}

static void rc__handle_INVALIDATE_KEY(const rc__op_ctx *x)
{
    rc_msg resp = rc__response(x);
    rc_store_key key = rc__key(x->req);
    int rc = rc_svc_invalidate_key(x->server, x->conn->worker, &key, x->req->mode, x->now_ms,
                                   &resp.ns_version);
    rc__reply(x, &resp, rc);
}

static void rc__handle_INVALIDATE_TAG(const rc__op_ctx *x)
{
    rc_msg resp = rc__response(x);
    int rc = rc_svc_invalidate_tag(x->server, x->req->tag, x->req->mode, &resp.seq);
    rc__reply(x, &resp, rc);
}

/* data-port-admin-ops no: FLUSH and NS_CONFIG are reserved to the admin port. */
static bool rc__admin_op_refused(const rc__op_ctx *x)
{
    if (x->server->data_port_admin_ops)
        return false;
    rc__reply_error(x, RC_EFORBIDDEN,
                    "this server reserves FLUSH and NS_CONFIG to its admin port "
                    "(data-port-admin-ops no)");
    return true;
}

static void rc__handle_FLUSH(const rc__op_ctx *x)
{
    if (rc__admin_op_refused(x))
        return;
    rc_msg resp = rc__response(x);
    rc_svc_flush(x->server, x->conn->worker);
    rc__reply(x, &resp, 0);
}

/* ---- namespaces ----------------------------------------------------------------------------- */

static void rc__handle_BUMP(const rc__op_ctx *x)
{
    rc_msg resp = rc__response(x);
    int rc = rc_svc_bump(x->server, x->req->ns, x->req->ns_version, &resp.ns_version);
    rc__reply(x, &resp, rc);
}

/* Reply with the namespace report and version (NS_INFO, and NS_CONFIG after applying). */
static void rc__reply_ns_info(const rc__op_ctx *x)
{
    rc_msg resp = rc__response(x);
    char *text = rc_xmalloc(RC__TEXT_CAP);
    long len = rc_store_ns_info(x->server->store, x->req->ns, text, RC__TEXT_CAP, &resp.ns_version);
    if (len >= 0) {
        resp.value.ptr = (const uint8_t *)text;
        resp.value.len = (uint32_t)len;
    }
    rc__reply(x, &resp, len < 0 ? (int)len : 0);
    free(text);
}

static void rc__handle_NS_INFO(const rc__op_ctx *x)
{
    rc__reply_ns_info(x);
}

static void rc__handle_NS_CONFIG(const rc__op_ctx *x)
{
    if (rc__admin_op_refused(x))
        return;
    char err[256] = "";
    int rc = rc_svc_ns_configure(x->server, x->req->ns, x->req->value, err, sizeof(err));
    if (rc != 0) {
        rc__reply_error(x, rc, err[0] != '\0' ? err : NULL);
        return;
    }
    rc__reply_ns_info(x);
}

/* ---- lists and suppression (see the file comment) ------------------------------------------- */

/* The ids of req's id field as a malloc'ed array (NULL when empty; at most RC_WIRE_MAX_IDS). */
static uint64_t *rc__ids(const rc_msg *req, size_t *n)
{
    *n = req->ids.len / RC_ID_SIZE;
    if (*n == 0)
        return NULL;
    uint64_t *ids = rc_xmalloc(*n * sizeof(*ids));
    for (size_t i = 0; i < *n; i++)
        ids[i] = rc_id_get(req->ids.ptr + i * RC_ID_SIZE);
    return ids;
}

/* A list read's exclude set, sorted and deduplicated; RC_EEXCLUDE_TOO_LARGE over max-exclude. */
static int rc__exclude(const rc__op_ctx *x, uint64_t **ids, size_t *n)
{
    *ids = NULL;
    *n = 0;
    if (x->req->ids.len / RC_ID_SIZE > x->server->cfg->max_exclude)
        return RC_EEXCLUDE_TOO_LARGE;
    *ids = rc__ids(x->req, n);
    *n = rc_ids_sort_unique(*ids, *n);
    return 0;
}

/* Filter the list the store copied into region, in place; out->value_len follows. */
static void rc__list_filter_region(const rc__op_ctx *x, rc__get_region *region,
                                   const uint64_t *exclude, size_t nexclude, rc_store_read *out)
{
    uint32_t kept = 0;
    if (region->frame != NULL && region->value_len > 0)
        kept = rc_store_list_filter(x->server->store, x->req->ns, region->frame + region->head_len,
                                    (uint32_t)(region->value_len / RC_ITEM_SIZE), exclude, nexclude,
                                    x->req->top, x->now_ms, NULL);
    region->value_len = (size_t)kept * RC_ITEM_SIZE;
    out->value_len = (uint32_t)region->value_len;
}

/*
 * rc__list_read_begin - a list read's exclude set (sorted; *exclude owned by
 * the caller) and its response region.  false after answering the request
 * (EXCLUDE_TOO_LARGE, or INTERNAL), with nothing left to free.
 */
static bool rc__list_read_begin(const rc__op_ctx *x, rc_msg *resp, rc__get_region *region,
                                uint64_t **exclude, size_t *nexclude)
{
    int rc = rc__exclude(x, exclude, nexclude);
    if (rc == 0 && rc__region_init(x, resp, region))
        return true;
    if (rc != 0)
        rc__reply(x, resp, rc);
    free(*exclude);
    return false;
}

static void rc__handle_LIST_SET(const rc__op_ctx *x)
{
    rc__write(x, RC_KIND_LIST);
}

static void rc__handle_LIST_GET(const rc__op_ctx *x)
{
    rc_msg resp = rc__response(x);
    uint64_t *exclude;
    size_t nexclude;
    rc__get_region region;
    if (!rc__list_read_begin(x, &resp, &region, &exclude, &nexclude))
        return;
    int rc;
    rc_store_key key = rc__key(x->req);
    key.kind = RC_KIND_LIST;
    rc_store_read out = {0};
    rc = rc_store_get(x->server->store, &key, x->now_ms, rc__get_sink, &region, &out);
    resp.ns_version = out.ns_version;
    if (rc != 0) {
        rc__reply(x, &resp, rc);
    } else {
        rc__list_filter_region(x, &region, exclude, nexclude, &out);
        rc__read_fields(&resp, &out);
        rc__commit_in_place(x, &resp, &region);
    }
    free(exclude);
}

/* A parked LIST_LGET's filter: top N, the namespace, the exclude set (taken over). */
static rc_park_list *rc__park_list_new(const rc_msg *req, const uint64_t *exclude, size_t n)
{
    rc_park_list *l = rc_xcalloc(1, sizeof(*l) + n * sizeof(uint64_t));
    l->top = req->top;
    l->ns_len = (uint8_t)req->ns.len;
    memcpy(l->ns, req->ns.ptr, req->ns.len);
    l->nexclude = n;
    if (n)
        memcpy(l->exclude, exclude, n * sizeof(uint64_t));
    return l;
}

/* LIST_LGET: LGET of a list, filtered like LIST_GET (also when a fill answers it later). */
static void rc__handle_LIST_LGET(const rc__op_ctx *x)
{
    const rc_msg *req = x->req;
    const rc_config *cfg = x->server->cfg;
    rc_msg resp = rc__response(x);
    uint64_t *exclude;
    size_t nexclude;
    rc__get_region region;
    if (!rc__list_read_begin(x, &resp, &region, &exclude, &nexclude))
        return;
    int rc;
    rc_parked *p = req->wait_ms > 0 ? rc_park_new(x->conn, req->request_id) : NULL;
    if (p != NULL) {
        p->opcode = RC_OP_LIST_LGET;
        p->kind = RC_KIND_LIST;
        p->list = rc__park_list_new(req, exclude, nexclude);
    }
    rc_store_lease_opts opts = {
        .lease_ms = (uint32_t)cfg->lease_ms,
        .max_waiters_key = (uint32_t)cfg->max_waiters_key,
        .waiter = p != NULL ? &p->waiter : NULL,
    };
    rc_store_key key = rc__key(req);
    key.kind = RC_KIND_LIST;
    rc_store_lease_read out = {0};
    rc = rc_store_lget(x->server->store, &key, &opts, x->now_ms, rc__get_sink, &region, &out);
    if (rc == 0 && out.outcome == RC_LGET_PARKED) {
        uint32_t wait = req->wait_ms < cfg->max_wait_ms ? req->wait_ms : (uint32_t)cfg->max_wait_ms;
        rc_park_commit(p, x->now_ms, wait, out.read.ns_version);
    } else {
        if (p != NULL)
            rc_park_free(p);
        resp.ns_version = out.read.ns_version;
        if (rc != 0) {
            rc__reply(x, &resp, rc);
        } else {
            if (out.outcome == RC_LGET_HIT)
                rc__list_filter_region(x, &region, exclude, nexclude, &out.read);
            rc__lget_answer(x, &resp, &out, &region);
        }
    }
    free(exclude);
}

static void rc__handle_LIST_REMOVE(const rc__op_ctx *x)
{
    rc_msg resp = rc__response(x);
    size_t n = x->req->ids.len / RC_ID_SIZE;
    if (n > x->server->cfg->max_list_items) {
        rc__reply(x, &resp, RC_ETOO_MANY_ITEMS);
        return;
    }
    uint64_t *ids = rc__ids(x->req, &n);
    rc_store_key key = rc__key(x->req);
    key.kind = RC_KIND_LIST;
    rc_store_list_removal out;
    int rc = rc_svc_list_remove(x->server, x->conn->worker, &key, ids, n, x->now_ms, &out);
    resp.ns_version = out.ns_version;
    resp.entry_version = out.entry_version;
    resp.count = out.removed;
    rc__reply(x, &resp, rc);
    free(ids);
}

/* SUPPRESS and UNSUPPRESS: one change of the namespace's suppression set. */
static void rc__suppression(const rc__op_ctx *x, bool suppress)
{
    rc_msg resp = rc__response(x);
    size_t n = x->req->ids.len / RC_ID_SIZE;
    if (suppress && n > x->server->cfg->max_suppressed) {
        rc__reply(x, &resp, RC_ESUPPRESS_FULL);
        return;
    }
    uint64_t *ids = rc__ids(x->req, &n);
    rc_store_suppress_result out;
    int rc = suppress
                 ? rc_svc_suppress(x->server, x->req->ns, ids, n, x->req->ttl_ms, x->now_ms, &out)
                 : rc_svc_unsuppress(x->server, x->req->ns, ids, n, x->now_ms, &out);
    resp.stamp = out.stamp;
    resp.count = out.affected;
    rc__reply(x, &resp, rc);
    free(ids);
}

static void rc__handle_SUPPRESS(const rc__op_ctx *x)
{
    rc__suppression(x, true);
}

static void rc__handle_UNSUPPRESS(const rc__op_ctx *x)
{
    rc__suppression(x, false);
}

/* SUPPRESSED: the namespace's live suppressions (none for an unknown namespace). */
static void rc__handle_SUPPRESSED(const rc__op_ctx *x)
{
    rc_msg resp = rc__response(x);
    rc_store *st = x->server->store;
    size_t cap = (size_t)rc_store_suppressed_count(st, x->req->ns) * RC_SUPPRESSION_SIZE;
    uint8_t *buf = rc_xmalloc(cap + 1u);
    long n = rc_store_suppressed(st, x->req->ns, x->now_ms, buf, cap);
    resp.value.ptr = buf;
    resp.value.len = n > 0 ? (uint32_t)((size_t)n * RC_SUPPRESSION_SIZE) : 0;
    rc__reply(x, &resp, 0);
    free(buf);
}

/* ---- subscribe channel and pushes (see the file comment) ------------------------------------ */

/* SUBSCRIBE: answer, then RESYNC or replay, then live events (rc_sub.h). */
static void rc__handle_SUBSCRIBE(const rc__op_ctx *x)
{
    rc_sub_subscribe(x->conn, x->req);
}

static void rc__handle_EVENT(const rc__op_ctx *x)
{
    rc__reply_error(x, RC_EUNKNOWN_OPCODE, "event frames are pushed by the server, not requests");
}

/* ---- node to node --------------------------------------------------------------------------- */

/* PEER_SYNC: one page of this node's control log or snapshot (rc_sync.h). */
static void rc__handle_PEER_SYNC(const rc__op_ctx *x)
{
    rc_msg resp = rc__response(x);
    uint8_t *page = rc_xmalloc(RC_SYNC_PAGE_BYTES);
    rc_sync_serve(x->server, x->req, &resp, page, RC_SYNC_PAGE_BYTES);
    rc__reply(x, &resp, 0);
    free(page);
}

/* ---- dispatch ------------------------------------------------------------------------------- */

/* One handler per RC_OPCODES row; see the file comment for SUBSCRIBE and EVENT. */
static const rc__op_handler rc__handlers[256] = {
#define RC__HANDLER_ROW(name, code, str) [code] = rc__handle_##name,
    RC_OPCODES(RC__HANDLER_ROW)
#undef RC__HANDLER_ROW
};

void rc_ops_dispatch(rc_conn *c, const rc_msg *req)
{
    rc_worker *w = c->worker;
    rc__op_ctx x = {c, w->server, uv_now(&w->loop), req};
    rc_stat_add(&w->stats.requests_total, 1);
    rc_stat_add(&w->stats.requests[req->opcode], 1);
    rc__op_handler handler = rc__handlers[req->opcode];
    if (handler == NULL) {
        rc__reply_error(&x, RC_EUNKNOWN_OPCODE, NULL);
        return;
    }
    handler(&x);
}

/* A write completed: a subscriber may take more events now that its output shrank. */
static void rc__conn_writable(rc_conn *c)
{
    if (c->sub != NULL)
        rc_sub_conn_writable(c);
}

const rc_conn_hooks rc_ops_conn_hooks = {
    .on_frame = rc_ops_dispatch,
    .on_writable = rc__conn_writable,
    .on_input_end = rc_park_conn_abandon,
    .on_shutdown = rc_park_conn_shutdown,
    .on_closed = rc_sub_conn_closed,
};
