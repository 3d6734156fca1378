/*
 * rc_store_lease.c - leases glued to the shards (see rc_store_lease.h).
 */
#define _POSIX_C_SOURCE 200809L
#include "rc_store_lease.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "rc_alloc.h"

static rc__shard *rc__waiter_shard(rc_store *st, const rc_lease_waiter *w)
{
    return &st->shards[w->shard];
}

static void rc__ns_count_id(rc_store *st, uint16_t ns_id, unsigned stripe, enum rc_ns_counter c)
{
    rc_ns_count(rc_ns_by_id(st->namespaces, ns_id), stripe, c, 1);
}

/*
 * rc__wake_locked - hand a list of just-detached waiters to the caller's
 * woken list with `outcome`, keeping the node's parked count and the
 * namespace counters right.  With woken == NULL they are simply forgotten
 * (allowed only for callers that never park readers).
 */
static void rc__wake_locked(rc_store *st, rc__shard *sh, rc_lease_waiter *list, uint8_t outcome,
                            rc_lease_waiter **woken)
{
    while (list) {
        rc_lease_waiter *w = list;
        list = w->next;
        w->outcome = outcome;
        atomic_fetch_sub_explicit(&st->parked, 1, memory_order_relaxed);
        if (outcome == RC_WAITER_RELEASED)
            rc__ns_count_id(st, w->ns_id, sh->stripe, RC_NS_CTR_WAITS_SERVED);
        if (woken) {
            w->next = *woken;
            *woken = w;
        }
    }
}

/* rc__lease_free_locked - unlink l, give back its charge, wake its readers with outcome. */
void rc__lease_free_locked(rc_store *st, rc__shard *sh, rc_lease *l, uint8_t outcome,
                           rc_lease_waiter **woken)
{
    sh->used -= rc_lease_charge(l->key_len);
    sh->lease_bytes -= rc_lease_charge(l->key_len);
    rc_ns_count(rc_ns_by_id(st->namespaces, l->ns_id), sh->stripe, RC_NS_CTR_LEASES, (uint64_t)-1);
    rc__wake_locked(st, sh, rc_lease_remove_locked(&sh->leases, l), outcome, woken);
}

/*
 * rc__lease_cancel_locked - the lease can no longer be filled.  If readers
 * are parked on it, the oldest is promoted: the lease is renewed with a new
 * token for it (woken, PROMOTED) and the others keep waiting for its fill.
 * Otherwise the lease is freed.
 */
void rc__lease_cancel_locked(rc_store *st, rc__shard *sh, rc_lease *l, uint64_t now,
                             rc_lease_waiter **woken)
{
    rc_lease_waiter *w = rc_lease_pop_waiter_locked(l);
    if (!w) {
        rc__lease_free_locked(st, sh, l, RC_WAITER_CANCELLED, woken);
        return;
    }
    rc_ns *ns = rc_ns_by_id(st->namespaces, l->ns_id);
    rc_lease_renew_locked(l, now + l->duration_ms, rc_ns_version(ns), rc_tags_seq(st->tags));
    memcpy(w->token, l->token, RC_TOKEN_SIZE);
    w->ns_version = l->ns_version;
    w->next = NULL;
    rc_ns_count(ns, sh->stripe, RC_NS_CTR_LEASE_PROMOTIONS, 1);
    rc_ns_count(ns, sh->stripe, RC_NS_CTR_LEASES_GRANTED, 1);
    rc__wake_locked(st, sh, w, RC_WAITER_PROMOTED, woken);
}

rc_lease *rc__lease_find_locked(rc__shard *sh, const rc__target *t)
{
    return rc_lease_find_locked(&sh->leases, t->hash, t->ns->id, t->version, t->key, t->key_len);
}

/*
 * rc__lease_take_locked - give the caller the key's lease: renew `l` if it
 * exists (it has expired: its parked readers stay parked on the renewed
 * lease) or grant a new one, making room in the shard first.  Copies the
 * token to token_out.  Returns false when the record cannot fit.
 */
static bool rc__lease_take_locked(rc_store *st, rc__shard *sh, const rc__target *t, rc_lease *l,
                                  uint32_t lease_ms, uint64_t now, uint8_t *token_out)
{
    uint64_t ns_current = rc_ns_version(t->ns);
    uint64_t tag_seq = rc_tags_seq(st->tags);
    if (l) {
        rc_lease_renew_locked(l, now + lease_ms, ns_current, tag_seq);
        rc_ns_count(t->ns, sh->stripe, RC_NS_CTR_LEASE_EXPIRIES, 1);
    } else {
        size_t charge = rc_lease_charge(t->key_len);
        size_t table_before = rc_lease_table_bytes(&sh->leases);
        /* The table may double: reserve for the larger array too. */
        size_t growth =
            (size_t)(sh->leases.nbuckets ? sh->leases.nbuckets : 8u) * 2u * sizeof(rc_lease *);
        if (!rc__reserve_locked(st, sh, charge + growth + 16u, now))
            return false;
        l = rc_lease_grant_locked(&sh->leases, t->hash, t->ns->id, t->version, t->key, t->key_len,
                                  now + lease_ms, ns_current, tag_seq);
        sh->used += charge;
        sh->lease_bytes += charge;
        rc_ns_count(t->ns, sh->stripe, RC_NS_CTR_LEASES, 1);
        rc__structure_charge_locked(sh, rc_lease_table_bytes(&sh->leases), table_before);
    }
    l->duration_ms = lease_ms;
    memcpy(token_out, l->token, RC_TOKEN_SIZE);
    rc_ns_count(t->ns, sh->stripe, RC_NS_CTR_LEASES_GRANTED, 1);
    return true;
}

static bool rc__lease_expired(const rc_lease *l, uint64_t now)
{
    return now >= l->expires_ms;
}

/*
 * rc__early_refresh_due - whether a fresh hit should also refresh: inside
 * the namespace's early-refresh window, with a probability that grows from
 * 0 at the window's start to 1 at expiry (probabilistic early expiration),
 * so keys written together do not all refresh on the same read.
 */
static bool rc__early_refresh_due(const rc_ns *ns, const rc_entry *e, uint64_t now)
{
    uint64_t window = rc_ns_setting(ns, RC_NS_SET_EARLY_REFRESH);
    if (window == 0 || e->expire_ms == 0 || now >= e->expire_ms)
        return false;
    uint64_t left = e->expire_ms - now;
    if (left >= window)
        return false;
    /* P(refresh) = 1 - left / window, drawn with 20 bits of precision. */
    uint64_t draw = rc__random() & 0xFFFFFu;
    return draw * window >= (uint64_t)left << 20;
}

/* rc__lget_hit_locked - lease part of a hit: stale or early-refresh reads may take the lease. */
static int rc__lget_hit_locked(rc_store *st, const rc__target *t, rc_entry *e, enum rc__life life,
                               rc_lease *l, const rc_store_lease_opts *opts, uint64_t now,
                               rc_store_lease_read *out)
{
    out->outcome = RC_LGET_HIT;
    bool lease_free = !l || rc__lease_expired(l, now);
    bool wants = life == RC__STALE || rc__early_refresh_due(t->ns, e, now);
    if (!wants)
        return 0;
    if (!lease_free) {
        out->lease = life == RC__STALE ? RC_LEASE_HELD : RC_LEASE_NONE;
        return 0;
    }
    if (rc__lease_take_locked(st, t->shard, t, l, opts->lease_ms, now, out->token))
        out->lease = RC_LEASE_GRANTED;
    return 0;
}

/* rc__lget_miss_locked - lease part of a miss: grant, park or report the lease held. */
static int rc__lget_miss_locked(rc_store *st, const rc__target *t, rc_lease *l,
                                const rc_store_lease_opts *opts, uint64_t now,
                                rc_store_lease_read *out)
{
    rc__shard *sh = t->shard;
    if (!l || rc__lease_expired(l, now)) {
        if (!rc__lease_take_locked(st, sh, t, l, opts->lease_ms, now, out->token))
            return RC_ENO_MEMORY;
        out->outcome = RC_LGET_MISS_GRANTED;
        out->lease = RC_LEASE_GRANTED;
        return 0;
    }
    out->lease = RC_LEASE_HELD;
    if (!opts->waiter) {
        out->outcome = RC_LGET_MISS_HELD;
        return 0;
    }
    if (l->nwaiters >= opts->max_waiters_key ||
        atomic_load_explicit(&st->parked, memory_order_relaxed) >= st->cfg.max_waiters)
        return RC_ETOO_MANY_WAITERS;
    rc_lease_waiter *w = opts->waiter;
    w->shard = (uint32_t)(sh - st->shards);
    w->ns_id = t->ns->id;
    w->outcome = RC_WAITER_PARKED;
    rc_lease_park_locked(l, w);
    atomic_fetch_add_explicit(&st->parked, 1, memory_order_relaxed);
    rc_ns_count(t->ns, sh->stripe, RC_NS_CTR_WAITS, 1);
    out->outcome = RC_LGET_PARKED;
    return 0;
}

/*
 * rc__fill_check_locked - may a write carrying a lease token be stored?  The
 * key's lease must exist with that token and the namespace must not have
 * been bumped since the grant (in that case the lease is cancelled as well,
 * its oldest reader promoted, since no fill can be trusted any more).  The
 * fill's tags are checked later, atomically with the write stamp
 * (rc__insert_locked); rc__fill_reject_locked handles that refusal.
 */
int rc__fill_check_locked(rc_store *st, const rc__target *t, rc_lease *l, const rc_store_write *w,
                          uint64_t now, rc_lease_waiter **woken)
{
    rc__shard *sh = t->shard;
    enum rc_ns_counter reason;
    if (!l || !rc_lease_token_equal(l, w->token)) {
        reason = RC_NS_CTR_FILLS_REJECTED_LEASE;
    } else if (rc_ns_version(t->ns) != l->ns_current) {
        reason = RC_NS_CTR_FILLS_REJECTED_BUMP;
    } else {
        return 0;
    }
    if (reason != RC_NS_CTR_FILLS_REJECTED_LEASE)
        rc__lease_cancel_locked(st, sh, l, now, woken);
    rc_ns_count(t->ns, sh->stripe, reason, 1);
    return RC_ELEASE_REJECTED;
}

/* rc__fill_reject_tag_locked - a fill tag was invalidated since the grant: cancel the lease. */
void rc__fill_reject_tag_locked(rc_store *st, const rc__target *t, rc_lease *l, uint64_t now,
                                rc_lease_waiter **woken)
{
    rc__lease_cancel_locked(st, t->shard, l, now, woken);
    rc_ns_count(t->ns, t->shard->stripe, RC_NS_CTR_FILLS_REJECTED_TAG, 1);
}

/* rc__leases_clear_locked - free every lease of the shard and its bucket array (flush, destroy). */
void rc__leases_clear_locked(rc_store *st, rc__shard *sh, rc_lease_waiter **woken)
{
    rc_lease_table *lt = &sh->leases;
    for (uint32_t i = 0; i < lt->nbuckets; i++)
        while (lt->buckets[i])
            rc__lease_free_locked(st, sh, lt->buckets[i], RC_WAITER_CANCELLED, woken);
    rc__structure_charge_locked(sh, 0, rc_lease_table_bytes(lt));
    rc_lease_table_clear_locked(lt);
}

/*
 * rc__leases_sweep_locked - expired leases: with parked readers, the oldest
 * is promoted (a holder that died must not keep them waiting until their
 * deadlines); without, the record is freed.
 */
void rc__leases_sweep_locked(rc_store *st, rc__shard *sh, uint64_t now, rc_lease_waiter **woken)
{
    rc_lease_table *lt = &sh->leases;
    for (uint32_t i = 0; i < lt->nbuckets; i++) {
        rc_lease *l = lt->buckets[i];
        while (l) {
            rc_lease *next = l->chain;
            if (rc__lease_expired(l, now)) {
                rc__ns_count_id(st, l->ns_id, sh->stripe, RC_NS_CTR_LEASE_EXPIRIES);
                rc__lease_cancel_locked(st, sh, l, now, woken);
            }
            l = next;
        }
    }
}

int rc__lget(rc_store *st, const rc_store_key *key, const rc_store_lease_opts *opts,
             uint64_t now_ms, rc_value_sink sink, void *sink_ctx, rc_store_lease_read *out)
{
    rc__target t;
    memset(out, 0, sizeof(*out));
    if (opts->lease_ms == 0)
        return RC_EINVAL;
    /* A lease read may create the namespace: its fill would anyway. */
    int rc = rc__resolve(st, key, true, &t, &out->read.ns_version);
    if (rc)
        return rc;
    rc__shard *sh = t.shard;
    rc_entry *e;
    enum rc__life life = rc__lock_and_find(st, &t, now_ms, &e);
    rc_lease *l = rc__lease_find_locked(sh, &t);
    if (rc__is_live(life) && rc__entry_kind(e) != key->kind) {
        pthread_mutex_unlock(&sh->lock);
        return RC_EWRONG_KIND; /* nothing served, no lease taken */
    }
    if (rc__is_live(life)) {
        rc__serve_locked(e, life, now_ms, sink, sink_ctx, &out->read);
        /* Taking a lease may evict entries to make room: e is not used after this. */
        rc = rc__lget_hit_locked(st, &t, e, life, l, opts, now_ms, out);
    } else {
        rc = rc__lget_miss_locked(st, &t, l, opts, now_ms, out);
    }
    pthread_mutex_unlock(&sh->lock);
    enum rc_ns_counter c = out->outcome != RC_LGET_HIT
                               ? RC_NS_CTR_MISSES
                               : (life == RC__FRESH ? RC_NS_CTR_HITS : RC_NS_CTR_STALE_HITS);
    rc_ns_count(t.ns, sh->stripe, c, 1);
    if (out->outcome == RC_LGET_HIT)
        rc__count_served_age(t.ns, sh->stripe, out->read.written);
    return rc;
}

bool rc__unpark(rc_store *st, rc_lease_waiter *w, uint8_t outcome)
{
    rc__shard *sh = rc__waiter_shard(st, w);
    pthread_mutex_lock(&sh->lock);
    bool detached = rc_lease_unpark_locked(w);
    if (detached) {
        w->outcome = outcome;
        atomic_fetch_sub_explicit(&st->parked, 1, memory_order_relaxed);
        rc__ns_count_id(st, w->ns_id, sh->stripe,
                        outcome == RC_WAITER_TIMED_OUT ? RC_NS_CTR_WAIT_TIMEOUTS
                                                       : RC_NS_CTR_WAITS_ABANDONED);
    }
    pthread_mutex_unlock(&sh->lock);
    return detached;
}

uint64_t rc_store_parked(const rc_store *st)
{
    return atomic_load_explicit(&((rc_store *)st)->parked, memory_order_relaxed);
}
