/*
 * rc_lists.c - librecache: list values, in-place removal and suppression
 * (PROTOCOL.md section 16).
 *
 * Design.  Like every operation of the library these build an rc_msg and go
 * through rc__call (rc_client.c), the one request path.  Lists travel in
 * their wire encoding (12 bytes per item, rc_item_put/rc_item_get), which
 * this file converts to and from rc_list_item arrays; id sets are encoded
 * into a small malloc'ed buffer checked against the wire limit
 * (RC_WIRE_MAX_IDS) before anything is allocated.  List writes reuse the
 * SET path (rc__write_call with LIST_SET) and list lease reads the lease
 * machinery of rc_lease_client.c (rc__get_or_fill_kind), so conditions,
 * tags, tokens and single flight behave exactly as for byte values.
 *
 * Failure model: 0 or a negative RC_E* code; allocation failures are
 * RC_ENOMEM, never an abort; argument errors are refused before sending,
 * leaving the client usable.  Threading: one thread per client.
 */
#include <stdlib.h>
#include <string.h>

#include "rc_client_int.h"

/* ---- encoding ------------------------------------------------------------------------------- */

/* rc__items_encode - n items as wire bytes (malloc'ed, *out NULL for n = 0).  0 or an error. */
int rc__items_encode(const rc_list_item *items, size_t n, uint8_t **out)
{
    *out = NULL;
    if (n == 0)
        return 0;
    if (items == NULL)
        return RC_EINVAL;
    if (n > UINT32_MAX / RC_ITEM_SIZE)
        return RC_EVALUE_TOO_LARGE;
    uint8_t *buf = malloc(n * RC_ITEM_SIZE);
    if (buf == NULL)
        return RC_ENOMEM;
    for (size_t i = 0; i < n; i++)
        rc_item_put(buf + i * RC_ITEM_SIZE, items[i].id, items[i].score);
    *out = buf;
    return 0;
}

/* rc__items_decode - wire items into l->items (malloc'ed; NULL for none).  0 or RC_ENOMEM. */
static int rc__items_decode(const uint8_t *p, size_t len, rc_list *l)
{
    l->n = len / RC_ITEM_SIZE;
    l->items = NULL;
    if (l->n == 0)
        return 0;
    l->items = malloc(l->n * sizeof(*l->items));
    if (l->items == NULL) {
        l->n = 0;
        return RC_ENOMEM;
    }
    for (size_t i = 0; i < l->n; i++)
        rc_item_get(p + i * RC_ITEM_SIZE, &l->items[i].id, &l->items[i].score);
    return 0;
}

/* rc__ids_encode - n ids as wire bytes into *out (malloc'ed, NULL for none); RC_EINVAL over the
 * wire's RC_WIRE_MAX_IDS or for NULL ids. */
static int rc__ids_encode(const uint64_t *ids, size_t n, uint8_t **out)
{
    *out = NULL;
    if (n == 0)
        return 0;
    if (ids == NULL || n > RC_WIRE_MAX_IDS)
        return RC_EINVAL;
    uint8_t *buf = malloc(n * RC_ID_SIZE);
    if (buf == NULL)
        return RC_ENOMEM;
    for (size_t i = 0; i < n; i++)
        rc_id_put(buf + i * RC_ID_SIZE, ids[i]);
    *out = buf;
    return 0;
}

void rc_list_free(rc_list *l)
{
    if (l == NULL)
        return;
    free(l->items);
    memset(l, 0, sizeof *l);
}

/*
 * rc__list_apply - the exclude set and top N of opts on l, in place (the
 * server's filter, for copies the client holds: the L1 and computed lists).
 */
static void rc__list_apply(rc_list *l, const rc_list_get_options *opts)
{
    if (opts == NULL)
        return;
    size_t kept = 0;
    for (size_t i = 0; i < l->n && (opts->top == 0 || kept < opts->top); i++) {
        int excluded = 0;
        for (size_t k = 0; k < opts->nexclude && !excluded; k++)
            excluded = opts->exclude[k] == l->items[i].id;
        if (!excluded)
            l->items[kept++] = l->items[i];
    }
    l->n = kept;
}

/* ---- writes and reads ----------------------------------------------------------------------- */

int rc_list_set(rc_client *c, const char *ns, const void *key, size_t key_len,
                const rc_list_item *items, size_t n, const rc_set_options *opts,
                rc_write_info *info)
{
    uint8_t *buf;
    int err = rc__items_encode(items, n, &buf);
    if (err)
        return err;
    err = rc__write_call(c, RC_OP_LIST_SET, ns, key, key_len, buf, n * RC_ITEM_SIZE, opts, NULL,
                         info);
    free(buf);
    return err;
}

int rc_list_fill(rc_client *c, const char *ns, const void *key, size_t key_len,
                 const rc_lease_token *token, const rc_list_item *items, size_t n,
                 const rc_set_options *opts, rc_write_info *info)
{
    static const rc_lease_token zero;
    if (token == NULL || memcmp(token, &zero, sizeof zero) == 0)
        return RC_EINVAL; /* a zero token would silently turn the fill into a plain set */
    uint8_t *buf;
    int err = rc__items_encode(items, n, &buf);
    if (err)
        return err;
    err = rc__write_call(c, RC_OP_LIST_SET, ns, key, key_len, buf, n * RC_ITEM_SIZE, opts,
                         token->bytes, info);
    free(buf);
    return err;
}

int rc__prepare_list_read(rc_msg *req, uint8_t opcode, const char *ns, const void *key,
                          size_t key_len, const rc_list_get_options *opts, uint8_t **ids)
{
    *ids = NULL;
    int err = rc__prepare_keyed(req, opcode, ns, key, key_len, opts ? opts->version : 0);
    if (err)
        return err;
    if (opts == NULL)
        return 0;
    req->min_version = opts->min_version;
    req->top = opts->top;
    err = rc__ids_encode(opts->exclude, opts->nexclude, ids);
    if (err)
        return err == RC_EINVAL && opts->nexclude > RC_WIRE_MAX_IDS ? RC_EEXCLUDE_TOO_LARGE : err;
    req->ids = (rc_slice){*ids, (uint32_t)(opts->nexclude * RC_ID_SIZE)};
    return 0;
}

int rc_list_get(rc_client *c, const char *ns, const void *key, size_t key_len,
                const rc_list_get_options *opts, rc_list *out)
{
    rc_msg req;
    uint8_t *ids;
    rc_value v = {0};
    if (out == NULL)
        return RC_EINVAL;
    memset(out, 0, sizeof *out);
    int err = rc__prepare_list_read(&req, RC_OP_LIST_GET, ns, key, key_len, opts, &ids);
    if (err == 0)
        err = rc__value_call(c, &req, &v);
    free(ids);
    if (err == 0)
        err = rc__list_from_value(&v, NULL, out);
    out->ns_version = v.ns_version; /* also on a miss: the version looked up */
    rc_value_free(&v);
    return err;
}

int rc_list_remove(rc_client *c, const char *ns, const void *key, size_t key_len,
                   const uint64_t *ids, size_t n, uint64_t version, size_t *removed)
{
    rc_msg req, resp;
    uint8_t *buf;
    if (removed != NULL)
        *removed = 0;
    if (n == 0)
        return RC_EINVAL;
    int err = rc__prepare_keyed(&req, RC_OP_LIST_REMOVE, ns, key, key_len, version);
    if (err == 0)
        err = rc__ids_encode(ids, n, &buf);
    if (err)
        return err;
    req.ids = (rc_slice){buf, (uint32_t)(n * RC_ID_SIZE)};
    err = rc__call(c, &req, &resp);
    free(buf);
    if (err == 0 && removed != NULL)
        *removed = resp.count;
    return err;
}

/* ---- suppression ---------------------------------------------------------------------------- */

/* SUPPRESS or UNSUPPRESS of n ids in ns. */
static int rc__suppression(rc_client *c, uint8_t opcode, const char *ns, const uint64_t *ids,
                           size_t n, uint32_t ttl_ms, uint64_t *stamp)
{
    rc_msg req = {0}, resp;
    uint8_t *buf;
    if (stamp != NULL)
        *stamp = 0;
    if (ns == NULL || ns[0] == '\0' || strlen(ns) > RC_WIRE_MAX_NS)
        return RC_EBAD_NAMESPACE;
    if (n == 0)
        return RC_EINVAL;
    int err = rc__ids_encode(ids, n, &buf);
    if (err)
        return err;
    req.opcode = opcode;
    req.ns = rc_slice_str(ns);
    req.ttl_ms = ttl_ms;
    req.ids = (rc_slice){buf, (uint32_t)(n * RC_ID_SIZE)};
    err = rc__call(c, &req, &resp);
    free(buf);
    if (err == 0 && stamp != NULL)
        *stamp = resp.stamp;
    return err;
}

int rc_suppress(rc_client *c, const char *ns, const uint64_t *ids, size_t n, uint32_t ttl_ms,
                uint64_t *stamp)
{
    return rc__suppression(c, RC_OP_SUPPRESS, ns, ids, n, ttl_ms, stamp);
}

int rc_unsuppress(rc_client *c, const char *ns, const uint64_t *ids, size_t n, uint64_t *stamp)
{
    return rc__suppression(c, RC_OP_UNSUPPRESS, ns, ids, n, 0, stamp);
}

int rc_suppressed(rc_client *c, const char *ns, rc_suppression **out, size_t *n)
{
    rc_msg req = {0}, resp;
    if (out == NULL || n == NULL)
        return RC_EINVAL;
    *out = NULL;
    *n = 0;
    if (ns == NULL || ns[0] == '\0' || strlen(ns) > RC_WIRE_MAX_NS)
        return RC_EBAD_NAMESPACE;
    req.opcode = RC_OP_SUPPRESSED;
    req.ns = rc_slice_str(ns);
    int err = rc__call(c, &req, &resp);
    if (err)
        return err;
    size_t count = resp.value.len / RC_SUPPRESSION_SIZE;
    if (count == 0)
        return 0;
    rc_suppression *s = malloc(count * sizeof(*s));
    if (s == NULL)
        return RC_ENOMEM;
    for (size_t i = 0; i < count; i++) {
        const uint8_t *p = resp.value.ptr + i * RC_SUPPRESSION_SIZE;
        s[i].id = rc_id_get(p);
        s[i].ttl_left_ms =
            (uint32_t)p[8] | (uint32_t)p[9] << 8 | (uint32_t)p[10] << 16 | (uint32_t)p[11] << 24;
        s[i].stamp = rc_id_get(p + 12);
    }
    *out = s;
    *n = count;
    return 0;
}

/* ---- leases --------------------------------------------------------------------------------- */

void rc_list_lease_result_free(rc_list_lease_result *r)
{
    if (r == NULL)
        return;
    rc_list_free(&r->list);
    memset(r, 0, sizeof *r);
}

/* One LIST_LGET into *out (rc_lget's contract, the value holding wire items). */
static int rc__list_lget_call(rc_client *c, const char *ns, const void *key, size_t key_len,
                              const rc_list_get_options *opts, uint32_t wait_ms,
                              rc_lease_result *out)
{
    rc_msg req;
    uint8_t *ids;
    memset(out, 0, sizeof *out);
    int err = rc__prepare_list_read(&req, RC_OP_LIST_LGET, ns, key, key_len, opts, &ids);
    req.wait_ms = wait_ms;
    if (err == 0)
        err = rc__lease_call(c, &req, out);
    free(ids);
    return err;
}

int rc_list_lget(rc_client *c, const char *ns, const void *key, size_t key_len,
                 const rc_list_get_options *opts, uint32_t wait_ms, rc_list_lease_result *out)
{
    rc_lease_result lr;
    if (out == NULL)
        return RC_EINVAL;
    memset(out, 0, sizeof *out);
    int err = rc__list_lget_call(c, ns, key, key_len, opts, wait_ms, &lr);
    out->hit = lr.hit;
    out->lease = lr.lease;
    out->token = lr.token;
    out->list.ns_version = lr.value.ns_version;
    if (lr.hit) {
        int copy_err = rc__list_from_value(&lr.value, NULL, &out->list);
        if (copy_err) {
            memset(out, 0, sizeof *out);
            err = copy_err;
        }
    }
    rc_lease_result_free(&lr);
    return err;
}

int rc__list_lget_raw(rc_client *c, const char *ns, const void *key, size_t key_len,
                      const rc_lget_options *opts, rc_lease_result *out)
{
    rc_list_get_options lo = {.version = opts->version, .min_version = opts->min_version};
    return rc__list_lget_call(c, ns, key, key_len, &lo, opts->wait_ms, out);
}

/* The caller's list callback behind the byte-level rc_fill_fn of rc__get_or_fill_kind. */
typedef struct rc__list_gof {
    rc_list_fill_fn fill;
    void *ctx;
} rc__list_gof;

/* rc_fill_fn adapter: run the list callback and encode its items. */
static int rc__list_gof_fill(void *ctx, const char *ns, const void *key, size_t key_len,
                             rc_fill_output *out)
{
    const rc__list_gof *g = ctx;
    rc_list_fill_output lo;
    memset(&lo, 0, sizeof lo);
    lo.set = out->set;
    int err = g->fill(g->ctx, ns, key, key_len, &lo);
    uint8_t *buf = NULL;
    if (err == 0)
        err = rc__items_encode(lo.items, lo.n, &buf);
    free(lo.items);
    if (err)
        return err;
    out->data = buf;
    out->len = lo.n * RC_ITEM_SIZE;
    out->set = lo.set;
    return 0;
}

int rc_list_get_or_fill(rc_client *c, const char *ns, const void *key, size_t key_len,
                        const rc_get_or_fill_options *opts, const rc_list_get_options *filter,
                        rc_list_fill_fn fill, void *ctx, rc_list *out)
{
    rc_get_or_fill_report local;
    if (out == NULL)
        return RC_EINVAL;
    memset(out, 0, sizeof *out);
    if (fill == NULL)
        return RC_EINVAL;
    rc_get_or_fill_options o = opts ? *opts : (rc_get_or_fill_options){0};
    if (o.report == NULL)
        o.report = &local;
    rc__list_gof g = {fill, ctx};
    rc_value v;
    int err = rc__get_or_fill_kind(c, 1, ns, key, key_len, &o, rc__list_gof_fill, &g, &v);
    if (err)
        return err;
    /* A list this call computed was not filtered by the server: read the stored one back. */
    if (o.report->filled && !o.report->refresh && o.report->fill_status == 0) {
        rc_list_get_options back = {.version = o.version, .min_version = o.min_version};
        if (filter) {
            back.top = filter->top;
            back.exclude = filter->exclude;
            back.nexclude = filter->nexclude;
        }
        int rb = rc_list_get(c, ns, key, key_len, &back, out);
        if (rb == 0 || (rb != RC_EMISS && rb != RC_EWRONG_KIND)) {
            rc_value_free(&v);
            return rb;
        }
        o.report->fill_rejected = 1; /* gone already: the computed list is all there is */
    }
    out->client_flags = v.client_flags;
    out->entry_version = v.entry_version;
    out->ns_version = v.ns_version;
    out->ttl_left_ms = v.ttl_left_ms;
    out->stale = v.stale;
    err = rc__items_decode(v.data, v.len, out);
    rc_value_free(&v);
    if (err)
        return err;
    rc__list_apply(out, filter);
    return 0;
}

/* ---- helpers shared with the L1 ------------------------------------------------------------- */

/* rc__list_from_value - an rc_list from a value holding wire items, with opts applied. */
int rc__list_from_value(const rc_value *v, const rc_list_get_options *opts, rc_list *out)
{
    memset(out, 0, sizeof *out);
    out->client_flags = v->client_flags;
    out->entry_version = v->entry_version;
    out->ns_version = v->ns_version;
    out->ttl_left_ms = v->ttl_left_ms;
    out->stale = v->stale;
    int err = rc__items_decode(v->data, v->len, out);
    if (err == 0)
        rc__list_apply(out, opts);
    return err;
}

/* rc__list_get_value - LIST_GET of the whole list into an rc_value (wire items), for the L1. */
int rc__list_get_value(rc_client *c, const char *ns, const void *key, size_t key_len, rc_value *out)
{
    rc_msg req;
    memset(out, 0, sizeof *out);
    int err = rc__prepare_keyed(&req, RC_OP_LIST_GET, ns, key, key_len, 0);
    return err ? err : rc__value_call(c, &req, out);
}
