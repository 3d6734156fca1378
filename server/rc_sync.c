/*
 * rc_sync.c - serving and applying PEER_SYNC pages (see rc_sync.h).
 *
 * Pages are built from copies: log records are copied out RC__BATCH at a
 * time, namespaces and tags one at a time, then encoded, so the log's and
 * the store's locks are never held while encoding.  A record that does not
 * fit ends the page; the next page starts with it.
 */
#define _POSIX_C_SOURCE 200809L
#include "rc_sync.h"

#include <stdlib.h>

#include "rc_alloc.h"
#include "rc_control.h"
#include "rc_hlc.h"
#include "rc_service.h"
#include "rc_store_sync.h"
#include "recache/rc_peerwire.h"

#define RC__BATCH 32u

/* A page under construction. */
typedef struct rc__page {
    uint8_t *buf;
    size_t cap;
    size_t len;
} rc__page;

/* rc__put - encode r into the page; false when it does not fit (nothing written). */
static bool rc__put(rc__page *pg, const rc_peerwire_rec *r)
{
    long n = rc_peerwire_encode(r, pg->buf + pg->len, pg->cap - pg->len);
    if (n < 0)
        return false;
    pg->len += (size_t)n;
    return true;
}

/* rc__control_wire - the wire form of a control record. */
static rc_peerwire_rec rc__control_wire(const rc_control_rec *c)
{
    rc_peerwire_rec r = {.name = {c->name, c->name_len}};
    r.kind = c->kind == RC_CONTROL_VERSION ? RC_PEERWIRE_VERSION
             : c->kind == RC_CONTROL_TAG   ? RC_PEERWIRE_TAG
                                           : RC_PEERWIRE_SUPPRESS;
    r.version = c->version;
    r.hard = c->hard;
    r.any = c->any;
    r.item = c->item;
    r.stamp = c->stamp;
    r.ttl_ms = c->ttl_ms;
    r.suppressed = c->suppressed;
    return r;
}

/* rc__log_page - records after `after` into pg; returns false if the log cannot serve them. */
static bool rc__log_page(rc_server *srv, uint64_t after, rc__page *pg, rc_msg *resp)
{
    rc_control_rec *batch = rc_xmalloc(RC__BATCH * sizeof(*batch));
    uint64_t newest;
    size_t n;
    bool ok = true;
    resp->cursor = 0;
    resp->next = after;
    for (;;) {
        if (rc_control_read(srv->control, resp->next, batch, RC__BATCH, &n, &newest) != 0) {
            ok = resp->next != after; /* a later batch overrun: send what we have */
            break;
        }
        size_t i = 0;
        for (; i < n; i++) {
            rc_peerwire_rec r = rc__control_wire(&batch[i]);
            if (!rc__put(pg, &r))
                break;
            resp->next = batch[i].seq;
        }
        if (i < n || n == 0)
            break;
    }
    free(batch);
    return ok;
}

/*
 * rc__ns_part - namespaces from id *pos on, one listing call each (so a
 * namespace that does not fit is where the next page resumes); false when
 * the page filled up first.
 */
static bool rc__ns_part(rc_server *srv, uint32_t *pos, rc__page *pg)
{
    rc_ns_state ns;
    while (*pos < rc_store_ns_id_limit(srv->store)) {
        uint32_t start = *pos;
        if (rc_store_list_versions(srv->store, pos, &ns, 1) == 0)
            continue;
        rc_peerwire_rec r = {
            .kind = RC_PEERWIRE_VERSION, .name = {ns.name, ns.name_len}, .version = ns.version};
        if (!rc__put(pg, &r)) {
            *pos = start;
            return false;
        }
    }
    return true;
}

/* rc__tag_part - invalidated tags from record id *pos on, as rc__ns_part. */
static bool rc__tag_part(rc_server *srv, uint32_t *pos, rc__page *pg)
{
    rc_tag_state tag;
    while (*pos < rc_store_tag_id_limit(srv->store)) {
        uint32_t start = *pos;
        if (rc_store_list_tags(srv->store, pos, &tag, 1) == 0)
            continue;
        rc_peerwire_rec r = {.kind = RC_PEERWIRE_TAG,
                             .name = {tag.name, tag.name_len},
                             .hard = tag.hard,
                             .any = tag.any};
        if (!rc__put(pg, &r)) {
            *pos = start;
            return false;
        }
    }
    return true;
}

/* rc__snapshot_page - one snapshot page from cursor (>= 1) into pg. */
static void rc__snapshot_page(rc_server *srv, uint64_t cursor, rc__page *pg, rc_msg *resp)
{
    resp->cursor = cursor;
    if (cursor < RC_SYNC_TAG_CURSOR) {
        uint32_t pos = (uint32_t)(cursor - 1u);
        if (!rc__ns_part(srv, &pos, pg)) {
            resp->next = 1u + pos;
            return;
        }
        cursor = RC_SYNC_TAG_CURSOR;
    }
    uint64_t tag_pos = cursor - RC_SYNC_TAG_CURSOR;
    uint32_t pos = tag_pos > UINT32_MAX ? UINT32_MAX : (uint32_t)tag_pos;
    resp->next = rc__tag_part(srv, &pos, pg) ? 0 : RC_SYNC_TAG_CURSOR + pos;
}

void rc_sync_serve(rc_server *srv, const rc_msg *req, rc_msg *resp, uint8_t *buf, size_t cap)
{
    rc__page pg = {buf, cap < RC_SYNC_PAGE_BYTES ? cap : RC_SYNC_PAGE_BYTES, 0};
    bool ours = req->instance_id == srv->instance_id;
    rc_control_totals ct; /* before the page: see rc_sync.h */
    rc_control_totals_get(srv->control, &ct);
    resp->instance_id = srv->instance_id;
    resp->seq = ct.newest;
    if (ours && req->cursor == 0 && rc__log_page(srv, req->seq, &pg, resp)) {
        resp->value = (rc_slice){buf, (uint32_t)pg.len};
        return;
    }
    resp->seq = ct.oldest ? ct.oldest - 1u : ct.newest;
    rc__snapshot_page(srv, ours && req->cursor != 0 ? req->cursor : 1u, &pg, resp);
    resp->value = (rc_slice){buf, (uint32_t)pg.len};
}

int rc_sync_apply(rc_server *srv, rc_slice value, rc_sync_applied *out)
{
    rc_peerwire_rec r;
    int got;
    while ((got = rc_peerwire_next(&value, &r)) == 1) {
        int rc = 0;
        unsigned raised = 0;
        if (r.kind == RC_PEERWIRE_VERSION) {
            rc = rc_svc_merge_version(srv, r.name, r.version);
        } else if (r.kind == RC_PEERWIRE_SUPPRESS) {
            rc = rc_svc_merge_suppress(srv, r.name, r.item, r.stamp, r.suppressed != 0, r.ttl_ms,
                                       &raised);
        } else if (r.kind == RC_PEERWIRE_TAG) {
            rc = rc_svc_merge_tag(srv, r.name, r.hard, r.any, &raised);
            uint64_t ms = rc_hlc_ms(r.any > r.hard ? r.any : r.hard), wall = rc_hlc_wall_ms();
            if (ms > wall && ms - wall > out->ahead_ms)
                out->ahead_ms = ms - wall;
        } else {
            out->skipped++;
            continue;
        }
        out->records++;
        out->raised += raised != 0;
        out->failed += rc != 0;
    }
    return got == 0 ? 0 : RC_EPROTOCOL;
}
