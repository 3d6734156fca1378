/*
 * rc_store_list.c - list operations and suppression sets in the store (see
 * rc_store_list.h).
 */
#define _POSIX_C_SOURCE 200809L
#include "rc_store_list.h"

#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "rc_alloc.h"
#include "rc_shard.h"
#include "rc_store_lease.h"
#include "rc_suppress.h"

/* ---- ids ------------------------------------------------------------------------------------ */

static int rc__id_cmp(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

size_t rc_ids_sort_unique(uint64_t *ids, size_t n)
{
    if (n < 2)
        return n;
    qsort(ids, n, sizeof(*ids), rc__id_cmp);
    size_t out = 1;
    for (size_t i = 1; i < n; i++)
        if (ids[i] != ids[out - 1])
            ids[out++] = ids[i];
    return out;
}

bool rc_ids_contains(const uint64_t *ids, size_t n, uint64_t id)
{
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2u;
        if (ids[mid] == id)
            return true;
        if (ids[mid] < id)
            lo = mid + 1u;
        else
            hi = mid;
    }
    return false;
}

static uint32_t rc__max_items(const rc_store *st)
{
    return st->cfg.max_list_items ? st->cfg.max_list_items : RC_STORE_DEFAULT_LIST_ITEMS;
}

int rc__list_check(const rc_store *st, const uint8_t *value, uint32_t len)
{
    if (len % RC_ITEM_SIZE != 0)
        return RC_EBAD_LIST;
    size_t n = len / RC_ITEM_SIZE;
    if (n > rc__max_items(st))
        return RC_ETOO_MANY_ITEMS;
    if (n == 0)
        return 0;
    if (value == NULL)
        return RC_EBAD_ARGUMENT;
    uint64_t *ids = rc_xmalloc(n * sizeof(*ids));
    int rc = 0;
    for (size_t i = 0; i < n && rc == 0; i++) {
        float score;
        rc_item_get(value + i * RC_ITEM_SIZE, &ids[i], &score);
        if (!isfinite(score))
            rc = RC_EBAD_LIST;
    }
    if (rc == 0 && rc_ids_sort_unique(ids, n) != n)
        rc = RC_EBAD_LIST;
    free(ids);
    return rc;
}

/* ---- in-place removal ------------------------------------------------------------------------ */

/* Drop the items whose ids are in ids (sorted) from e's list; returns how many went. */
static uint32_t rc__remove_items_locked(rc_entry *e, const uint64_t *ids, size_t n)
{
    uint8_t *items = rc__entry_value(e);
    uint32_t count = e->value_len / RC_ITEM_SIZE, kept = 0;
    for (uint32_t i = 0; i < count; i++) {
        uint8_t *item = items + (size_t)i * RC_ITEM_SIZE;
        if (rc_ids_contains(ids, n, rc_id_get(item)))
            continue;
        if (kept != i)
            memmove(items + (size_t)kept * RC_ITEM_SIZE, item, RC_ITEM_SIZE);
        kept++;
    }
    e->value_len = kept * RC_ITEM_SIZE;
    return count - kept;
}

static int rc__list_remove(rc_store *st, const rc_store_key *key, const uint64_t *ids, size_t n,
                           uint64_t now, rc_store_list_removal *out, rc_lease_waiter **woken)
{
    rc__target t;
    int rc = rc__resolve(st, key, false, &t, &out->ns_version);
    if (rc)
        return rc;
    rc__shard *sh = t.shard;
    rc_entry *e;
    enum rc__life life = rc__lock_and_find(st, &t, now, &e);
    if (rc__is_live(life) && rc__entry_kind(e) != RC_KIND_LIST) {
        pthread_mutex_unlock(&sh->lock);
        return RC_EWRONG_KIND;
    }
    /* A recomputation in flight may still carry a removed item: its fill must not land. */
    rc_lease *l = rc__lease_find_locked(sh, &t);
    if (l)
        rc__lease_cancel_locked(st, sh, l, now, woken);
    if (rc__is_live(life)) {
        out->entry_version = rc__entry_version(e);
        out->removed = rc__remove_items_locked(e, ids, n);
        if (out->removed)
            e->written = rc_hlc_now(&st->clock);
    } else {
        rc = RC_EMISS;
    }
    pthread_mutex_unlock(&sh->lock);
    if (out->removed)
        rc_ns_count(t.ns, sh->stripe, RC_NS_CTR_LIST_ITEMS_REMOVED, out->removed);
    return rc;
}

int rc_store_list_remove(rc_store *st, const rc_store_key *key, uint64_t *ids, size_t n,
                         uint64_t now_ms, rc_store_list_removal *out, rc_lease_waiter **woken)
{
    memset(out, 0, sizeof(*out));
    out->ns_version = key->version ? key->version : 1u;
    if (n == 0)
        return RC_EBAD_ARGUMENT;
    if (n > rc__max_items(st))
        return RC_ETOO_MANY_ITEMS;
    n = rc_ids_sort_unique(ids, n);
    rc_ns_enter(st->namespaces);
    int rc = rc__list_remove(st, key, ids, n, now_ms, out, woken);
    rc_ns_leave(st->namespaces);
    return rc;
}

/* ---- read-time filtering --------------------------------------------------------------------- */

/* The namespace's suppression set if it suppresses anything, else NULL.  Inside the stripe. */
static rc_suppress *rc__active_set(rc_store *st, rc_slice ns_name, rc_ns **ns)
{
    *ns = rc_ns_find(st->namespaces, ns_name.ptr, ns_name.len);
    rc_suppress *s = *ns ? atomic_load_explicit(&(*ns)->suppress, memory_order_acquire) : NULL;
    return s && rc_suppress_active(s) > 0 ? s : NULL;
}

uint32_t rc_store_list_filter(rc_store *st, rc_slice ns_name, uint8_t *items, uint32_t n,
                              const uint64_t *exclude, size_t nexclude, uint32_t top,
                              uint64_t now_ms, uint32_t *hidden)
{
    uint32_t kept = 0, dropped = 0;
    rc_ns *ns;
    rc_ns_enter(st->namespaces);
    rc_suppress *s = rc__active_set(st, ns_name, &ns);
    unsigned stripe = s ? rc_suppress_read_begin(s) : 0;
    for (uint32_t i = 0; i < n && (top == 0 || kept < top); i++) {
        uint8_t *item = items + (size_t)i * RC_ITEM_SIZE;
        uint64_t id = rc_id_get(item);
        if (nexclude && rc_ids_contains(exclude, nexclude, id))
            continue;
        if (s && rc_suppress_hidden_locked(s, id, now_ms)) {
            dropped++;
            continue;
        }
        if (kept != i)
            memmove(items + (size_t)kept * RC_ITEM_SIZE, item, RC_ITEM_SIZE);
        kept++;
    }
    if (s)
        rc_suppress_read_end(s, stripe);
    if (dropped)
        rc_ns_count(ns, 0, RC_NS_CTR_LIST_ITEMS_HIDDEN, dropped);
    rc_ns_leave(st->namespaces);
    if (hidden)
        *hidden = dropped;
    return kept;
}

/* ---- suppression sets ------------------------------------------------------------------------ */

/* Charge hook context: the shard a namespace's set is charged to. */
typedef struct rc__charge_ctx {
    rc_store *st;
    rc__shard *sh;
    uint64_t now;
} rc__charge_ctx;

/*
 * rc__suppress_charge - rc_suppress_charge_fn: account the set's array in
 * its shard (see the file comment of rc_store_list.h).  Called under the
 * set's write lock; takes the shard lock.
 */
static bool rc__suppress_charge(void *ctx, size_t add, size_t remove)
{
    rc__charge_ctx *c = ctx;
    rc__shard *sh = c->sh;
    bool ok = true;
    pthread_mutex_lock(&sh->lock);
    if (add) {
        size_t bytes = rc__alloc_estimate(c->st, add);
        ok = sh->suppress_bytes + bytes <= sh->budget / 2u &&
             rc__reserve_locked(c->st, sh, bytes, c->now);
        if (ok) {
            sh->used += bytes;
            sh->suppress_bytes += bytes;
            atomic_fetch_add(&c->st->suppress_bytes, bytes);
        }
    }
    if (remove) {
        size_t bytes = rc__alloc_estimate(c->st, remove);
        sh->used -= bytes;
        sh->suppress_bytes -= bytes;
        atomic_fetch_sub(&c->st->suppress_bytes, bytes);
    }
    pthread_mutex_unlock(&sh->lock);
    return ok;
}

/* The namespace's set, created on first use (lock-free publication).  Inside the stripe. */
static rc_suppress *rc__set_of(rc_ns *ns)
{
    rc_suppress *s = atomic_load_explicit(&ns->suppress, memory_order_acquire);
    if (s)
        return s;
    rc_suppress *fresh = rc_suppress_create();
    if (atomic_compare_exchange_strong_explicit(&ns->suppress, &s, fresh, memory_order_acq_rel,
                                                memory_order_acquire))
        return fresh;
    rc_suppress_destroy(fresh); /* another thread won: s holds its set */
    return s;
}

/* A change of ns's set stamped `stamp`, expiring after ttl_ms (0 = never); no ids yet. */
static rc_suppress_change rc__change(rc_store *st, const rc_ns *ns, uint64_t now, uint64_t stamp,
                                     uint32_t ttl_ms, rc__charge_ctx *ctx)
{
    *ctx = (rc__charge_ctx){st, &st->shards[ns->id & (st->nshards - 1u)], now};
    rc_suppress_change c = {
        .stamp = stamp,
        .expire_ms = ttl_ms ? now + ttl_ms : 0,
        .now_ms = now,
        .max = st->cfg.max_suppressed,
        .charge = rc__suppress_charge,
        .charge_ctx = ctx,
    };
    return c;
}

static int rc__check_ids(const rc_store *st, rc_slice ns, size_t n)
{
    if (ns.len == 0 || ns.len > RC_NS_MAX_NAME)
        return RC_EBAD_NAMESPACE;
    if (n == 0)
        return RC_EBAD_ARGUMENT;
    return n > st->cfg.max_suppressed ? RC_ESUPPRESS_FULL : 0;
}

int rc_store_suppress(rc_store *st, rc_slice ns, uint64_t *ids, size_t n, uint32_t ttl_ms,
                      uint64_t now_ms, rc_store_suppress_result *out)
{
    memset(out, 0, sizeof(*out));
    int rc = rc__check_ids(st, ns, n);
    if (rc)
        return rc;
    n = rc_ids_sort_unique(ids, n);
    rc_ns_enter(st->namespaces);
    rc_ns *nsp;
    rc = rc__ns_create(st, ns, &nsp);
    if (rc == 0) {
        rc__charge_ctx ctx;
        rc_suppress_change c = rc__change(st, nsp, now_ms, rc_hlc_now(&st->clock), ttl_ms, &ctx);
        c.ids = ids;
        c.n = n;
        rc = rc_suppress_add(rc__set_of(nsp), &c, &out->affected);
        if (rc == 0) {
            out->stamp = c.stamp;
            rc_ns_count(nsp, 0, RC_NS_CTR_SUPPRESSIONS, out->affected);
        }
    }
    rc_ns_leave(st->namespaces);
    return rc;
}

int rc_store_unsuppress(rc_store *st, rc_slice ns, uint64_t *ids, size_t n, uint64_t now_ms,
                        rc_store_suppress_result *out)
{
    memset(out, 0, sizeof(*out));
    if (ns.len == 0 || ns.len > RC_NS_MAX_NAME)
        return RC_EBAD_NAMESPACE;
    if (n == 0)
        return RC_EBAD_ARGUMENT;
    n = rc_ids_sort_unique(ids, n);
    out->stamp = rc_hlc_now(&st->clock);
    rc_ns_enter(st->namespaces);
    rc_ns *nsp = rc_ns_find(st->namespaces, ns.ptr, ns.len);
    rc_suppress *s = nsp ? atomic_load_explicit(&nsp->suppress, memory_order_acquire) : NULL;
    if (s) {
        rc__charge_ctx ctx;
        rc_suppress_change c = rc__change(st, nsp, now_ms, out->stamp, 0, &ctx);
        c.ids = ids;
        c.n = n;
        rc_suppress_remove(s, &c, &out->affected);
        rc_ns_count(nsp, 0, RC_NS_CTR_UNSUPPRESSIONS, out->affected);
    }
    rc_ns_leave(st->namespaces);
    return 0;
}

int rc_store_suppress_merge(rc_store *st, rc_slice ns, uint64_t id, uint64_t stamp, bool suppressed,
                            uint32_t ttl_ms, uint64_t now_ms)
{
    int rc = rc__check_ids(st, ns, 1);
    if (rc)
        return rc;
    if (stamp == 0)
        return RC_EBAD_ARGUMENT;
    rc_hlc_observe(&st->clock, stamp);
    rc_ns_enter(st->namespaces);
    rc_ns *nsp;
    rc = rc__ns_create(st, ns, &nsp);
    if (rc == 0) {
        rc__charge_ctx ctx;
        rc_suppress_change c = rc__change(st, nsp, now_ms, stamp, ttl_ms, &ctx);
        rc = rc_suppress_merge(rc__set_of(nsp), &c, id, suppressed);
    }
    rc_ns_leave(st->namespaces);
    return rc;
}

long rc_store_suppressed(rc_store *st, rc_slice ns, uint64_t now_ms, uint8_t *buf, size_t cap)
{
    rc_ns_enter(st->namespaces);
    rc_ns *nsp = rc_ns_find(st->namespaces, ns.ptr, ns.len);
    rc_suppress *s = nsp ? atomic_load_explicit(&nsp->suppress, memory_order_acquire) : NULL;
    long n = nsp == NULL ? RC_EMISS : s ? (long)rc_suppress_snapshot(s, now_ms, buf, cap) : 0;
    rc_ns_leave(st->namespaces);
    return n;
}

uint64_t rc_store_suppressed_count(rc_store *st, rc_slice ns)
{
    rc_ns_enter(st->namespaces);
    rc_ns *nsp = rc_ns_find(st->namespaces, ns.ptr, ns.len);
    rc_suppress *s = nsp ? atomic_load_explicit(&nsp->suppress, memory_order_acquire) : NULL;
    uint64_t n = s ? rc_suppress_active(s) : 0;
    rc_ns_leave(st->namespaces);
    return n;
}

uint64_t rc_store_suppressed_total(rc_store *st)
{
    uint64_t total = 0;
    rc_ns_enter(st->namespaces);
    for (uint32_t id = 0; id < st->cfg.max_namespaces; id++) {
        rc_ns *ns = rc_ns_by_id(st->namespaces, (uint16_t)id);
        rc_suppress *s = ns ? atomic_load_explicit(&ns->suppress, memory_order_acquire) : NULL;
        if (s)
            total += rc_suppress_active(s);
    }
    rc_ns_leave(st->namespaces);
    return total;
}
