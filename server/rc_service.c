/*
 * rc_service.c - store call, event, woken readers: in one place (see rc_service.h).
 *
 * Each function is the same three steps in the same order: call the store,
 * publish (before the caller can acknowledge, so an acknowledged change is
 * already in the event log), then hand the woken list to rc_park_deliver,
 * which takes ownership of every waiter on it.  Publishing and delivering
 * happen with no store lock held, as both require.
 */
#define _POSIX_C_SOURCE 200809L
#include "rc_service.h"

#include <stdlib.h>

#include "rc_alloc.h"
#include "rc_control.h"
#include "rc_park.h"
#include "rc_store_sync.h"
#include "rc_sub.h"

/* Causes carried by KEY events in their text field (PROTOCOL.md, EVENT). */
#define RC__CAUSE_SET        "set"
#define RC__CAUSE_DELETE     "delete"
#define RC__CAUSE_INVALIDATE "invalidate"
#define RC__CAUSE_TOUCH      "touch"
#define RC__CAUSE_LIST_RM    "list-remove"

/* rc__publish_key - a KEY event for key at ns_version with mode and cause. */
static void rc__publish_key(rc_server *srv, const rc_store_key *key, uint8_t mode,
                            uint64_t ns_version, const char *cause)
{
    rc_event e = {
        .kind = RC_EV_KEY,
        .mode = mode,
        .ns_version = ns_version,
        .ns = key->ns,
        .key = key->key,
        .text = rc_slice_str(cause),
    };
    rc_sub_publish(srv, &e);
}

/*
 * rc__published_outcome - whether a key operation's result means the request
 * was valid, so its invalidation must be published: OK, and MISS (the node
 * held nothing, but a near-cache may).  Validation errors change nothing.
 */
static bool rc__published_outcome(int rc)
{
    return rc == 0 || rc == RC_EMISS;
}

int rc_svc_set(rc_server *srv, rc_worker *self, const rc_store_key *key, const rc_store_write *w,
               uint64_t now_ms, rc_store_write_result *out)
{
    int rc = rc_store_set(srv->store, key, w, now_ms, out);
    if (rc == 0)
        rc__publish_key(srv, key, RC_INVAL_HARD, out->ns_version, RC__CAUSE_SET);
    rc_park_fill fill = {
        .value = w->value,
        .value_len = w->value_len,
        .ns_version = out->ns_version,
        .entry_version = out->entry_version,
        .client_flags = w->client_flags,
        .ttl_ms = out->ttl_ms,
        .kind = w->kind,
    };
    rc_park_deliver(self, out->woken, &fill);
    out->woken = NULL;
    return rc;
}

int rc_svc_delete(rc_server *srv, rc_worker *self, const rc_store_key *key, uint64_t now_ms,
                  uint64_t *ns_version)
{
    rc_lease_waiter *woken = NULL;
    int rc = rc_store_delete(srv->store, key, now_ms, ns_version, &woken);
    if (rc__published_outcome(rc))
        rc__publish_key(srv, key, RC_INVAL_HARD, *ns_version, RC__CAUSE_DELETE);
    rc_park_deliver(self, woken, NULL);
    return rc;
}

int rc_svc_touch(rc_server *srv, const rc_store_key *key, uint32_t ttl_ms, uint64_t now_ms,
                 uint64_t *ns_version)
{
    int rc = rc_store_touch(srv->store, key, ttl_ms, now_ms, ns_version);
    /* A near-cache copy must not outlive a shortened TTL: it drops the key and refetches. */
    if (rc__published_outcome(rc))
        rc__publish_key(srv, key, RC_INVAL_HARD, *ns_version, RC__CAUSE_TOUCH);
    return rc;
}

int rc_svc_invalidate_key(rc_server *srv, rc_worker *self, const rc_store_key *key, uint8_t mode,
                          uint64_t now_ms, uint64_t *ns_version)
{
    rc_lease_waiter *woken = NULL;
    int rc = rc_store_invalidate_key(srv->store, key, mode, now_ms, ns_version, &woken);
    if (rc__published_outcome(rc))
        rc__publish_key(srv, key, mode, *ns_version, RC__CAUSE_INVALIDATE);
    rc_park_deliver(self, woken, NULL);
    return rc;
}

/* rc__publish_tag - a TAG event (published even when no entry here carries the tag). */
static void rc__publish_tag(rc_server *srv, rc_slice tag, uint8_t mode)
{
    rc_event e = {.kind = RC_EV_TAG, .mode = mode, .tag = tag};
    rc_sub_publish(srv, &e);
}

int rc_svc_invalidate_tag(rc_server *srv, rc_slice tag, uint8_t mode, uint64_t *stamp)
{
    uint64_t local;
    if (!stamp)
        stamp = &local;
    int rc = rc_store_invalidate_tag(srv->store, tag, mode, stamp);
    if (rc != 0)
        return rc;
    rc__publish_tag(srv, tag, mode);
    /* Peers learn it even when no entry here carries the tag: theirs may. */
    rc_control_tag(srv->control, tag, mode == RC_INVAL_HARD ? *stamp : 0, *stamp);
    return 0;
}

int rc_svc_merge_tag(rc_server *srv, rc_slice tag, uint64_t hard, uint64_t any, unsigned *raised)
{
    unsigned local;
    if (!raised)
        raised = &local;
    int rc = rc_store_merge_tag(srv->store, tag, hard, any, raised);
    if (rc != 0 || *raised == 0)
        return rc;
    rc__publish_tag(srv, tag, (*raised & RC_TAGS_RAISED_HARD) ? RC_INVAL_HARD : RC_INVAL_SOFT);
    rc_control_tag(srv->control, tag, hard, any > hard ? any : hard);
    return 0;
}

int rc_svc_merge_version(rc_server *srv, rc_slice ns, uint64_t version)
{
    if (version == 0)
        return RC_EBAD_ARGUMENT; /* would mean "current + 1" to rc_store_bump */
    return rc_store_bump(srv->store, ns, version, NULL);
}

int rc_svc_bump(rc_server *srv, rc_slice ns, uint64_t to, uint64_t *version)
{
    return rc_store_bump(srv->store, ns, to, version);
}

int rc_svc_ns_configure(rc_server *srv, rc_slice ns, rc_slice settings, char *err, size_t errlen)
{
    return rc_store_ns_configure(srv->store, ns, settings, err, errlen);
}

void rc_svc_flush(rc_server *srv, rc_worker *self)
{
    rc_lease_waiter *woken = NULL;
    rc_store_flush(srv->store, &woken);
    rc_event e = {.kind = RC_EV_FLUSH};
    rc_sub_publish(srv, &e);
    rc_park_deliver(self, woken, NULL);
}

size_t rc_svc_sweep(rc_server *srv, rc_worker *self, uint64_t now_ms, size_t budget)
{
    rc_lease_waiter *woken = NULL;
    size_t freed = rc_store_sweep(srv->store, now_ms, budget, &woken);
    rc_park_deliver(self, woken, NULL);
    return freed;
}

int rc_svc_list_remove(rc_server *srv, rc_worker *self, const rc_store_key *key, uint64_t *ids,
                       size_t n, uint64_t now_ms, rc_store_list_removal *out)
{
    rc_lease_waiter *woken = NULL;
    int rc = rc_store_list_remove(srv->store, key, ids, n, now_ms, out, &woken);
    if (rc__published_outcome(rc))
        rc__publish_key(srv, key, RC_INVAL_HARD, out->ns_version, RC__CAUSE_LIST_RM);
    rc_park_deliver(self, woken, NULL);
    return rc;
}

/*
 * rc__publish_ids - events of `kind` for ns carrying ids (u64 LE each in
 * the text field), RC_WIRE_MAX_IDS per event.
 */
static void rc__publish_ids(rc_server *srv, uint8_t kind, rc_slice ns, const uint64_t *ids,
                            size_t n)
{
    uint8_t *buf = rc_xmalloc((n < RC_WIRE_MAX_IDS ? n : RC_WIRE_MAX_IDS) * RC_ID_SIZE + 1u);
    for (size_t done = 0; done < n;) {
        size_t chunk = n - done < RC_WIRE_MAX_IDS ? n - done : RC_WIRE_MAX_IDS;
        for (size_t i = 0; i < chunk; i++)
            rc_id_put(buf + i * RC_ID_SIZE, ids[done + i]);
        rc_event e = {.kind = kind, .ns = ns, .text = {buf, (uint32_t)(chunk * RC_ID_SIZE)}};
        rc_sub_publish(srv, &e);
        done += chunk;
    }
    free(buf);
}

/* rc__log_ids - one SUPPRESS control record per id, so peers merge the change by its stamp. */
static void rc__log_ids(rc_server *srv, rc_slice ns, const uint64_t *ids, size_t n, uint64_t stamp,
                        bool suppressed, uint32_t ttl_ms)
{
    for (size_t i = 0; i < n; i++)
        rc_control_suppress(srv->control, ns, ids[i], stamp, suppressed, ttl_ms);
}

int rc_svc_suppress(rc_server *srv, rc_slice ns, uint64_t *ids, size_t n, uint32_t ttl_ms,
                    uint64_t now_ms, rc_store_suppress_result *out)
{
    n = rc_ids_sort_unique(ids, n);
    int rc = rc_store_suppress(srv->store, ns, ids, n, ttl_ms, now_ms, out);
    if (rc == 0) {
        rc__publish_ids(srv, RC_EV_SUPPRESS, ns, ids, n);
        rc__log_ids(srv, ns, ids, n, out->stamp, true, ttl_ms);
    }
    return rc;
}

int rc_svc_unsuppress(rc_server *srv, rc_slice ns, uint64_t *ids, size_t n, uint64_t now_ms,
                      rc_store_suppress_result *out)
{
    n = rc_ids_sort_unique(ids, n);
    int rc = rc_store_unsuppress(srv->store, ns, ids, n, now_ms, out);
    if (rc == 0) {
        rc__publish_ids(srv, RC_EV_UNSUPPRESS, ns, ids, n);
        rc__log_ids(srv, ns, ids, n, out->stamp, false, 0);
    }
    return rc;
}

int rc_svc_merge_suppress(rc_server *srv, rc_slice ns, uint64_t item, uint64_t stamp,
                          bool suppressed, uint32_t ttl_ms, unsigned *raised)
{
    *raised = 0;
    /* The store's suppression TTLs run on the monotonic millisecond clock the workers use. */
    int rc = rc_store_suppress_merge(srv->store, ns, item, stamp, suppressed, ttl_ms,
                                     uv_hrtime() / 1000000u);
    if (rc < 0)
        return rc;
    if (rc == 1) {
        *raised = 1;
        rc__publish_ids(srv, suppressed ? RC_EV_SUPPRESS : RC_EV_UNSUPPRESS, ns, &item, 1);
        rc__log_ids(srv, ns, &item, 1, stamp, suppressed, ttl_ms);
    }
    return 0;
}

void rc_svc_on_version(void *ctx, rc_slice ns, uint64_t version)
{
    rc_server *srv = ctx;
    rc_event e = {.kind = RC_EV_BUMP, .ns_version = version, .ns = ns};
    rc_sub_publish(srv, &e);
    rc_control_version(srv->control, ns, version);
}
