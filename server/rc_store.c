/*
 * rc_store.c - the sharded store's operations (contract in rc_store.h).
 *
 * Module map.  The store is one module per seam, sharing the structures
 * of rc_shard.h:
 *   rc_entry.c        entry layout and judging (fresh, stale, dead, tombstone);
 *   rc_index.c        a shard's incrementally grown hash index;
 *   rc_clock.c        a shard's CLOCK ring, the hand and the bounded reclaim pass;
 *   rc_budget.c       a shard's byte budget and making room;
 *   rc_shard.c        entry life cycle within a shard (drop, bury, settle, serve);
 *   rc_store_lease.c  leases: lease reads, fills, parked readers;
 *   rc_store.c        (this file) the public operations: resolving a key,
 *                     planning and inserting a write, key operations,
 *                     namespaces, flush, sweep and statistics.
 *
 * A write is all-or-nothing: every check that needs no lock runs first
 * (rc__plan_write), then under the shard lock the condition, the lease, the
 * tag snapshot and the allocation, and only then is the old entry replaced
 * (rc__insert_locked).
 *
 * Locking.  See rc_shard.h: one shard lock at a time, the tag table lock as
 * a leaf under it, and every public entry point inside its thread's
 * namespace reader stripe (the wrappers at the end of this file).
 */
#define _POSIX_C_SOURCE 200809L
#include "rc_store.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "rc_alloc.h"
#include "rc_shard.h"
#include "rc_store_lease.h"
#include "rc_store_list.h"

/*
 * rc__advance - rc_ns_advance plus, when the version moved, the obsolete
 * generation and the on_version hook.  Never called under a shard lock.
 */
static void rc__advance(rc_store *st, rc_ns *ns, uint64_t to, uint64_t *version)
{
    if (!rc_ns_advance(ns, to, version))
        return;
    atomic_fetch_add_explicit(&st->obsolete_gen, 1, memory_order_acq_rel);
    if (st->cfg.on_version)
        st->cfg.on_version(st->cfg.hook_ctx, (rc_slice){ns->name, ns->name_len}, *version);
}

/* ---- request preparation ---------------------------------------------------- */

static int rc__check_key(const rc_store *st, const rc_store_key *key)
{
    if (key->ns.len == 0 || key->ns.len > RC_NS_MAX_NAME)
        return RC_EBAD_NAMESPACE;
    if (key->key.len == 0)
        return RC_EBAD_ARGUMENT;
    if (key->key.len > st->max_key)
        return RC_EKEY_TOO_LONG;
    if (key->version > RC_NS_VERSION_MAX || key->min_version > RC_NS_VERSION_MAX)
        return RC_EBAD_ARGUMENT;
    return 0;
}

/*
 * rc__ns_create - rc_ns_get_or_create; when the registry is full, reclaim
 * empty namespaces and try once more.  The caller holds its reader stripe
 * and no namespace pointer: the stripe is dropped around the reclamation.
 */
int rc__ns_create(rc_store *st, rc_slice name, rc_ns **out)
{
    int rc = rc_ns_get_or_create(st->namespaces, name.ptr, name.len, out);
    if (rc != RC_ETOO_MANY_NAMESPACES)
        return rc;
    rc_ns_leave(st->namespaces);
    rc_ns_reclaim(st->namespaces);
    rc_ns_enter(st->namespaces);
    return rc_ns_get_or_create(st->namespaces, name.ptr, name.len, out);
}

/*
 * rc__resolve - validate key, find the namespace (creating it when `create`
 * asks; reads never create one), adopt min_version, and compute the
 * version, hash and shard.  *ns_version (may be NULL) is always set.
 * Returns 0, a validation or namespace error, or RC_EMISS for an unknown
 * namespace that was not created (reported at the version asked for, or
 * the minimum, or 1).
 */
int rc__resolve(rc_store *st, const rc_store_key *key, bool create, rc__target *t,
                uint64_t *ns_version)
{
    uint64_t ignored;
    if (!ns_version)
        ns_version = &ignored;
    *ns_version = key->version ? key->version : (key->min_version ? key->min_version : 1u);
    int rc = rc__check_key(st, key);
    if (rc)
        return rc;
    t->ns = rc_ns_find(st->namespaces, key->ns.ptr, key->ns.len);
    if (!t->ns && create) {
        rc = rc__ns_create(st, key->ns, &t->ns);
        if (rc)
            return rc;
    }
    if (!t->ns)
        return RC_EMISS;
    uint64_t current;
    if (key->min_version)
        rc__advance(st, t->ns, key->min_version, &current);
    t->version = key->version ? key->version : rc_ns_version(t->ns);
    *ns_version = t->version;
    t->key = key->key.ptr;
    t->key_len = (uint16_t)key->key.len;
    t->hash = rc__entry_hash(&st->seed, t->ns->id, t->version, t->key, t->key_len);
    t->shard = &st->shards[st->nshards == 1 ? 0 : (t->hash >> st->shard_shift)];
    return 0;
}

/* Everything a write needs, computed before the shard lock is taken. */
typedef struct rc__write_plan {
    rc_slice tags[RC_WIRE_MAX_TAGS];
    size_t ntags;
    size_t tag_charge; /* sum of rc_tags_charge over the tags */
    size_t alloc_size;
    uint64_t expire_ms;
    uint32_t stale_ms;
} rc__write_plan;

/*
 * rc__parse_tags - split the list encoding (u8 len + bytes, ntags times)
 * into p->tags, enforcing the configured limits.  Malformed encoding is
 * RC_EBAD_ARGUMENT.
 */
static int rc__parse_tags(const rc_store *st, const rc_store_write *w, rc__write_plan *p)
{
    if (w->ntags > st->cfg.max_tags)
        return RC_ETOO_MANY_TAGS;
    size_t off = 0, len = w->tags.len;
    for (size_t i = 0; i < w->ntags; i++) {
        if (off >= len)
            return RC_EBAD_ARGUMENT;
        size_t tag_len = w->tags.ptr[off++];
        if (tag_len == 0 || tag_len > st->cfg.max_tag_len)
            return RC_ETAG_TOO_LONG;
        if (len - off < tag_len)
            return RC_EBAD_ARGUMENT;
        p->tags[i].ptr = w->tags.ptr + off;
        p->tags[i].len = (uint32_t)tag_len;
        p->tag_charge += rc_tags_charge(tag_len);
        off += tag_len;
    }
    if (off != len)
        return RC_EBAD_ARGUMENT;
    p->ntags = w->ntags;
    return 0;
}

/* rc__expiry - absolute expiry for a TTL (0 = namespace default), optionally jittered. */
static uint64_t rc__expiry(const rc_ns *ns, uint32_t ttl_ms, uint64_t now, bool jitter)
{
    uint64_t ttl = ttl_ms ? ttl_ms : rc_ns_setting(ns, RC_NS_SET_DEFAULT_TTL);
    if (ttl == 0)
        return 0;
    uint64_t percent = jitter ? rc_ns_setting(ns, RC_NS_SET_TTL_JITTER) : 0;
    if (percent)
        ttl -= rc__random() % (ttl * percent / 100u + 1u);
    return now + ttl;
}

/*
 * rc__plan_write - every check that needs no lock, in the order: key, value
 * size (global cap), condition, list shape (a list value: rc__list_check),
 * tags, namespace (created here), value size (namespace cap); then expiry,
 * stale window and allocation size.
 */
static int rc__plan_write(rc_store *st, const rc_store_key *key, const rc_store_write *w,
                          uint64_t now, rc__write_plan *p, rc__target *t, uint64_t *ns_version)
{
    int rc = rc__check_key(st, key);
    if (rc)
        return rc;
    if (w->value_len > st->cfg.max_value)
        return RC_EVALUE_TOO_LARGE;
    if (w->cond > RC_COND_CAS)
        return RC_EBAD_ARGUMENT;
    if (w->kind == RC_KIND_LIST) {
        rc = rc__list_check(st, w->value, w->value_len);
        if (rc)
            return rc;
    } else if (w->kind != RC_KIND_BYTES) {
        return RC_EBAD_ARGUMENT;
    }
    p->tag_charge = 0;
    rc = rc__parse_tags(st, w, p);
    if (rc)
        return rc;
    rc = rc__resolve(st, key, true, t, ns_version);
    if (rc)
        return rc;
    uint64_t ns_max = rc_ns_setting(t->ns, RC_NS_SET_MAX_VALUE);
    if (ns_max && w->value_len > ns_max)
        return RC_EVALUE_TOO_LARGE;
    p->expire_ms = rc__expiry(t->ns, w->ttl_ms, now, true);
    p->stale_ms = w->stale_ms == RC_STALE_DEFAULT ? (uint32_t)rc_ns_setting(t->ns, RC_NS_SET_STALE)
                                                  : w->stale_ms;
    p->alloc_size =
        rc__entry_size(rc__entry_needs_ext(w->entry_version, w->client_flags, p->stale_ms),
                       t->key_len, p->ntags, w->value_len);
    return 0;
}

/* rc__check_condition - apply w->cond to what the lookup left; sets *winner to the stored version.
 */
static int rc__check_condition(const rc_store_write *w, enum rc__life life, const rc_entry *e,
                               uint64_t *winner)
{
    *winner = e ? rc__entry_version(e) : 0;
    switch (w->cond) {
    case RC_COND_IF_ABSENT:
        return life == RC__FRESH ? RC_EEXISTS : 0;
    case RC_COND_IF_NEWER:
        return e && rc__entry_version(e) >= w->entry_version ? RC_ENOT_NEWER : 0;
    case RC_COND_CAS:
        return rc__is_live(life) && rc__entry_version(e) == w->cas_version ? 0 : RC_ECAS_MISMATCH;
    default:
        return 0;
    }
}

/* rc__entry_fill - e's fields for write w; `written` is its HLC stamp (see rc__insert_locked). */
static void rc__entry_fill(rc_entry *e, const rc__target *t, const rc_store_write *w,
                           const rc__write_plan *p, uint64_t written)
{
    e->next = NULL;
    e->ns_version = t->version;
    e->expire_ms = p->expire_ms;
    e->value_len = w->value_len;
    e->key_len = t->key_len;
    e->ns_id = t->ns->id;
    e->ntags = (uint8_t)p->ntags;
    e->flags = w->kind == RC_KIND_LIST ? RC__LIST : 0;
    e->written = written;
    if (rc__entry_needs_ext(w->entry_version, w->client_flags, p->stale_ms)) {
        e->flags |= RC__EXT;
        rc__entry_ext x = {.entry_version = w->entry_version,
                           .client_flags = w->client_flags,
                           .stale_ms = p->stale_ms};
        memcpy(e + 1, &x, sizeof(x));
    }
    memcpy(rc__entry_key(e), t->key, t->key_len);
    if (w->value_len)
        memcpy(rc__entry_value(e), w->value, w->value_len);
}

/*
 * rc__insert_locked - store a new entry for t, replacing `old` (a live entry
 * or tombstone the condition allowed to go, or NULL).  All-or-nothing: every
 * step that can fail runs before anything changes, so a failed write leaves
 * the old value in place.
 *   1. Tag references are taken and the entry's write stamp is taken with
 *      them, under the tag table lock, so every tag invalidation stamped
 *      later is larger (rc_tags.h).  For a lease fill (tag_since !=
 *      RC_TAGS_ANY_SEQ) this is refused with RC_ELEASE_REJECTED when a fill
 *      tag was invalidated since the grant, atomically with the stamp
 *      (rc_tags_acquire_since).  An entry without tags is stamped here.
 *   2. The entry is allocated and its real charge known.  If it cannot fit
 *      beside what the hand can never free (the ring and bucket arrays, and
 *      lease records), RC_ENO_MEMORY.
 *   3. Only then is `old` dropped, the hand frees room (it always can, by
 *      step 2) and the entry is linked at the ring's tail.
 */
static int rc__insert_locked(rc_store *st, const rc__target *t, const rc_store_write *w,
                             const rc__write_plan *p, rc_entry *old, uint64_t tag_since,
                             uint64_t now)
{
    rc__shard *sh = t->shard;
    rc_tag_ref refs[RC_WIRE_MAX_TAGS];
    uint64_t written;
    if (p->ntags) {
        int rc = rc_tags_acquire_since(st->tags, p->tags, p->ntags, refs, tag_since, &written);
        if (rc)
            return rc;
    } else {
        written = rc_hlc_now(&st->clock);
    }
    rc_entry *e = rc_xmalloc(p->alloc_size);
    size_t charge = rc_alloc_usable(e) + p->tag_charge;
    bool fits = sh->structure + sh->lease_bytes + sh->suppress_bytes + charge <= sh->budget;
    if (fits) {
        if (old)
            rc__entry_drop_locked(st, sh, old);
        fits = rc__reserve_locked(st, sh, charge, now);
    }
    if (!fits) {
        free(e);
        if (p->ntags)
            rc_tags_release(st->tags, refs, p->ntags);
        return RC_ENO_MEMORY;
    }
    rc__ring_make_room_locked(st, sh, charge, now);
    rc__entry_fill(e, t, w, p, written);
    if (p->ntags)
        memcpy(rc__entry_tags(e), refs, p->ntags * sizeof(rc_tag_ref));
    rc__account_locked(st, sh, e, charge, true);
    rc__index_insert_locked(sh, e, t->hash);
    rc__ring_push_locked(&sh->ring, e);
    rc__index_maybe_grow_locked(st, sh, now);
    return 0;
}

/* ---- public API -------------------------------------------------------------- */

static size_t rc__max_entry_charge(const rc_store *st)
{
    const rc_store_config *cfg = &st->cfg;
    size_t size = rc__entry_size(true, st->max_key, cfg->max_tags, cfg->max_value);
    return rc__alloc_estimate(st, size) + cfg->max_tags * rc_tags_charge(cfg->max_tag_len) +
           RC__STRUCTURE_SHARE;
}

/*
 * rc__choose_shards - the configured count, or for 0 the largest power of
 * two <= 256 whose per-shard budget holds four maximum-size entries (min 1).
 */
static uint32_t rc__choose_shards(const rc_store *st)
{
    if (st->cfg.nshards)
        return st->cfg.nshards;
    uint32_t n = RC__AUTO_MAX_SHARDS;
    while (n > 1u && st->cfg.memory_limit / n < 4u * rc__max_entry_charge(st))
        n /= 2u;
    return n;
}

static bool rc__config_valid(const rc_store_config *cfg)
{
    return cfg->memory_limit > 0 && cfg->nshards <= RC__MAX_SHARDS &&
           (cfg->nshards & (cfg->nshards - 1u)) == 0 && cfg->max_namespaces > 0 &&
           cfg->max_namespaces <= RC_NS_MAX_IDS;
}

static void rc__shards_init(rc_store *st, size_t budget)
{
    unsigned bits = 0;
    while ((1u << bits) < st->nshards)
        bits++;
    st->shard_shift = 64u - bits;
    st->shard_alloc = rc_xcalloc(1, st->nshards * sizeof(rc__shard) + 63u);
    st->shards = (rc__shard *)(((uintptr_t)st->shard_alloc + 63u) & ~(uintptr_t)63u);
    for (uint32_t i = 0; i < st->nshards; i++) {
        rc__shard *sh = &st->shards[i];
        pthread_mutex_init(&sh->lock, NULL);
        sh->stripe = i;
        sh->seed = &st->seed;
        sh->budget = budget;
        rc__shard_init_structure(sh);
    }
}

int rc_store_create(const rc_store_config *cfg, rc_store **out)
{
    *out = NULL;
    if (!rc__config_valid(cfg))
        return RC_EINVAL;
    rc_store *st = rc_xcalloc(1, sizeof(*st));
    st->cfg = *cfg;
    st->seed.k0 = cfg->hash_seed[0];
    st->seed.k1 = cfg->hash_seed[1];
    st->max_key = cfg->max_key ? cfg->max_key : RC_WIRE_MAX_KEY;
    long page = sysconf(_SC_PAGESIZE);
    st->page_size = page > 0 ? (size_t)page : 4096u;
    st->nshards = rc__choose_shards(st);
    size_t budget = cfg->memory_limit / st->nshards;
    size_t initial = 2u * rc_array_estimate(RC__INITIAL_SLOTS * sizeof(rc_entry *), st->page_size);
    if (budget < initial + rc__max_entry_charge(st)) {
        free(st);
        return RC_EINVAL;
    }
    if (rc_ns_registry_create(cfg->max_namespaces, &st->seed, &st->namespaces) != 0) {
        free(st);
        return RC_EINVAL;
    }
    st->tags = rc_tags_create(cfg->memory_limit / rc_tags_charge(1) + 1u, &st->seed, &st->clock);
    rc_hlc_init(&st->clock);
    rc__shards_init(st, budget);
    *out = st;
    return 0;
}

void rc_store_destroy(rc_store *st)
{
    if (!st)
        return;
    for (uint32_t i = 0; i < st->nshards; i++) {
        rc__leases_clear_locked(st, &st->shards[i], NULL);
        rc__shard_clear_locked(st, &st->shards[i]);
        pthread_mutex_destroy(&st->shards[i].lock);
    }
    free(st->shard_alloc);
    rc_tags_destroy(st->tags);
    rc_ns_registry_destroy(st->namespaces);
    free(st);
}

static int rc__get(rc_store *st, const rc_store_key *key, uint64_t now_ms, rc_value_sink sink,
                   void *sink_ctx, rc_store_read *out)
{
    rc__target t;
    memset(out, 0, sizeof(*out));
    int rc = rc__resolve(st, key, false, &t, &out->ns_version);
    if (rc)
        return rc;
    rc__shard *sh = t.shard;
    rc_entry *e;
    enum rc__life life = rc__lock_and_find(st, &t, now_ms, &e);
    if (rc__is_live(life) && rc__entry_kind(e) != key->kind)
        rc = RC_EWRONG_KIND;
    else if (rc__is_live(life))
        rc__serve_locked(e, life, now_ms, sink, sink_ctx, out);
    else
        rc = RC_EMISS;
    pthread_mutex_unlock(&sh->lock);
    if (rc == RC_EWRONG_KIND)
        return rc;
    enum rc_ns_counter c =
        rc ? RC_NS_CTR_MISSES : (life == RC__FRESH ? RC_NS_CTR_HITS : RC_NS_CTR_STALE_HITS);
    rc_ns_count(t.ns, sh->stripe, c, 1);
    if (rc == 0)
        rc__count_served_age(t.ns, sh->stripe, out->written);
    return rc;
}

/* rc__write_counter - the namespace counter for a write's outcome (-1 for none). */
static int rc__write_counter(int rc)
{
    switch (rc) {
    case 0:
        return RC_NS_CTR_SETS;
    case RC_EEXISTS:
        return RC_NS_CTR_REJECTED_EXISTS;
    case RC_ENOT_NEWER:
        return RC_NS_CTR_REJECTED_NOT_NEWER;
    case RC_ECAS_MISMATCH:
        return RC_NS_CTR_REJECTED_CAS;
    default:
        return -1;
    }
}

/* rc__stored_ttl - the TTL a write applied, as GET reports it (RC_TTL_NONE for none). */
static uint32_t rc__stored_ttl(uint64_t expire_ms, uint64_t now)
{
    if (expire_ms == 0)
        return RC_TTL_NONE;
    uint64_t left = expire_ms > now ? expire_ms - now : 0;
    return left >= RC_TTL_NONE ? RC_TTL_NONE - 1u : (uint32_t)left;
}

static int rc__set(rc_store *st, const rc_store_key *key, const rc_store_write *w, uint64_t now_ms,
                   rc_store_write_result *out)
{
    rc__write_plan plan;
    rc__target t;
    memset(out, 0, sizeof(*out));
    int rc = rc__plan_write(st, key, w, now_ms, &plan, &t, &out->ns_version);
    if (rc)
        return rc;
    rc__shard *sh = t.shard;
    rc_entry *e;
    enum rc__life life = rc__lock_and_find(st, &t, now_ms, &e);
    rc_lease *l = rc__lease_find_locked(sh, &t);
    if (w->token)
        rc = rc__fill_check_locked(st, &t, l, w, now_ms, &out->woken);
    if (rc == 0)
        rc = rc__check_condition(w, life, e, &out->entry_version);
    if (rc == 0) {
        rc =
            rc__insert_locked(st, &t, w, &plan, e, w->token ? l->tag_seq : RC_TAGS_ANY_SEQ, now_ms);
        if (rc == RC_ELEASE_REJECTED)
            rc__fill_reject_tag_locked(st, &t, l, now_ms, &out->woken);
        if (rc == 0) {
            out->entry_version = w->entry_version;
            out->ttl_ms = rc__stored_ttl(plan.expire_ms, now_ms);
        }
    }
    /* Any stored write ends the key's lease: its readers get this value, and
     * a slower holder's fill is rejected instead of overwriting it. */
    if (rc == 0 && l) {
        rc__lease_free_locked(st, sh, l, RC_WAITER_RELEASED, &out->woken);
        if (w->token)
            rc_ns_count(t.ns, sh->stripe, RC_NS_CTR_FILLS_ACCEPTED, 1);
    }
    pthread_mutex_unlock(&sh->lock);
    int counter = rc__write_counter(rc);
    if (counter >= 0)
        rc_ns_count(t.ns, sh->stripe, (enum rc_ns_counter)counter, 1);
    return rc;
}

/* Per-key operations that act on a live entry under the shard lock. */
typedef enum rc__key_op { RC__OP_KILL, RC__OP_SOFTEN, RC__OP_TOUCH } rc__key_op;

/*
 * rc__key_op_run - find key's live entry and apply op: KILL buries it
 * (delete, hard invalidation), SOFTEN marks it soft-invalidated, TOUCH sets
 * a new expiry (and counts as an access).  0, or RC_EMISS when there is no
 * live entry (tombstones included).
 */
static int rc__key_op_body(rc_store *st, const rc_store_key *key, rc__key_op op, uint32_t ttl_ms,
                           uint64_t now, uint64_t *ns_version, rc_lease_waiter **woken)
{
    rc__target t;
    int rc = rc__resolve(st, key, false, &t, ns_version);
    if (rc)
        return rc;
    rc__shard *sh = t.shard;
    rc_entry *e;
    enum rc__life life = rc__lock_and_find(st, &t, now, &e);
    /* An invalidation makes any recomputation in flight untrustworthy,
     * whether or not an entry exists yet. */
    rc_lease *l = op == RC__OP_TOUCH ? NULL : rc__lease_find_locked(sh, &t);
    if (l)
        rc__lease_cancel_locked(st, sh, l, now, woken);
    if (!rc__is_live(life)) {
        rc = RC_EMISS;
    } else if (op == RC__OP_KILL) {
        rc__entry_bury_locked(st, sh, e, now);
    } else if (op == RC__OP_SOFTEN) {
        e->flags |= RC__SOFT;
    } else {
        e->expire_ms = rc__expiry(t.ns, ttl_ms, now, false);
        e->flags |= RC__REFERENCED;
    }
    pthread_mutex_unlock(&sh->lock);
    if (rc == 0 && op != RC__OP_TOUCH)
        rc_ns_count(t.ns, sh->stripe,
                    op == RC__OP_KILL ? RC_NS_CTR_INVALIDATIONS_HARD : RC_NS_CTR_INVALIDATIONS_SOFT,
                    1);
    return rc;
}

/* rc__key_op_run - rc__key_op_body inside the caller's namespace reader stripe. */
static int rc__key_op_run(rc_store *st, const rc_store_key *key, rc__key_op op, uint32_t ttl_ms,
                          uint64_t now, uint64_t *ns_version, rc_lease_waiter **woken)
{
    rc_ns_enter(st->namespaces);
    int rc = rc__key_op_body(st, key, op, ttl_ms, now, ns_version, woken);
    rc_ns_leave(st->namespaces);
    return rc;
}

int rc_store_delete(rc_store *st, const rc_store_key *key, uint64_t now_ms, uint64_t *ns_version,
                    rc_lease_waiter **woken)
{
    return rc__key_op_run(st, key, RC__OP_KILL, 0, now_ms, ns_version, woken);
}

int rc_store_touch(rc_store *st, const rc_store_key *key, uint32_t ttl_ms, uint64_t now_ms,
                   uint64_t *ns_version)
{
    return rc__key_op_run(st, key, RC__OP_TOUCH, ttl_ms, now_ms, ns_version, NULL);
}

int rc_store_invalidate_key(rc_store *st, const rc_store_key *key, uint8_t mode, uint64_t now_ms,
                            uint64_t *ns_version, rc_lease_waiter **woken)
{
    if (mode != RC_INVAL_HARD && mode != RC_INVAL_SOFT)
        return RC_EBAD_ARGUMENT;
    return rc__key_op_run(st, key, mode == RC_INVAL_HARD ? RC__OP_KILL : RC__OP_SOFTEN, 0, now_ms,
                          ns_version, woken);
}

int rc_store_invalidate_tag(rc_store *st, rc_slice tag, uint8_t mode, uint64_t *stamp)
{
    uint64_t ignored;
    bool known;
    if (!stamp)
        stamp = &ignored;
    *stamp = 0;
    if (mode != RC_INVAL_HARD && mode != RC_INVAL_SOFT)
        return RC_EBAD_ARGUMENT;
    if (tag.len == 0 || tag.len > st->cfg.max_tag_len)
        return RC_ETAG_TOO_LONG;
    *stamp = rc_tags_invalidate(st->tags, tag.ptr, tag.len, mode, &known);
    if (known) {
        atomic_fetch_add_explicit(&st->tag_invalidations[mode], 1, memory_order_relaxed);
        if (mode == RC_INVAL_HARD)
            atomic_fetch_add_explicit(&st->obsolete_gen, 1, memory_order_acq_rel);
    }
    return 0;
}

static int rc__bump(rc_store *st, rc_slice ns, uint64_t to, uint64_t *version)
{
    rc_ns *n;
    uint64_t ignored;
    if (!version)
        version = &ignored;
    *version = 0;
    if (to > RC_NS_VERSION_MAX)
        return RC_EBAD_ARGUMENT;
    int rc = rc__ns_create(st, ns, &n);
    if (rc)
        return rc;
    if (to == 0 && rc_ns_version(n) >= RC_NS_VERSION_MAX) {
        *version = rc_ns_version(n);
        return RC_EBAD_ARGUMENT; /* saturated: there is no next version */
    }
    rc__advance(st, n, to, version);
    return 0;
}

static int rc__ns_configure(rc_store *st, rc_slice ns, rc_slice settings, char *err, size_t errlen)
{
    rc_ns *n = rc_ns_find(st->namespaces, ns.ptr, ns.len);
    if (!n) {
        /* Validate before creating, so a rejected request leaves no namespace behind. */
        int rc = rc_ns_configure(NULL, settings.ptr, settings.len, st->cfg.max_value, err, errlen);
        if (rc)
            return rc;
        rc = rc__ns_create(st, ns, &n);
        if (rc) {
            if (errlen)
                snprintf(err, errlen, "%s", rc_strerror(rc));
            return rc;
        }
    }
    return rc_ns_configure(n, settings.ptr, settings.len, st->cfg.max_value, err, errlen);
}

static long rc__ns_info(rc_store *st, rc_slice ns, char *buf, size_t cap, uint64_t *version)
{
    rc_ns *n = rc_ns_find(st->namespaces, ns.ptr, ns.len);
    if (version)
        *version = n ? rc_ns_version(n) : 1u;
    if (!n)
        return RC_EMISS;
    return rc_ns_info(n, buf, cap);
}

void rc_store_totals_get(rc_store *st, rc_store_totals *out)
{
    memset(out, 0, sizeof(*out));
    for (uint32_t i = 0; i < st->nshards; i++) {
        rc__shard *sh = &st->shards[i];
        pthread_mutex_lock(&sh->lock);
        out->entries += sh->entries;
        out->bytes_used += sh->used;
        out->evictions += sh->evictions;
        out->reclaimed += sh->reclaimed;
        if (sh->reclaim_scan_max > out->reclaim_scan_max)
            out->reclaim_scan_max = sh->reclaim_scan_max;
        pthread_mutex_unlock(&sh->lock);
    }
    out->bytes_limit = st->cfg.memory_limit;
    out->nshards = st->nshards;
    out->tags_live = rc_tags_live(st->tags);
    out->suppress_bytes = atomic_load(&st->suppress_bytes);
}

/* Lines of rc_store_stats_text: X("name", value expression over tot and st). */
#define RC__STORE_STATS(X)                                                                         \
    X("bytes_limit", tot.bytes_limit)                                                              \
    X("bytes_used", tot.bytes_used)                                                                \
    X("entries", tot.entries)                                                                      \
    X("evictions", tot.evictions)                                                                  \
    X("reclaimed", tot.reclaimed)                                                                  \
    X("shards", tot.nshards)                                                                       \
    X("tags_live", tot.tags_live)                                                                  \
    X("namespaces", rc_ns_registry_count(st->namespaces))                                          \
    X("namespaces_reclaimed", rc_ns_registry_reclaimed(st->namespaces))                            \
    X("reclaim_scan_max", tot.reclaim_scan_max)                                                    \
    X("obsolete_generation", atomic_load(&st->obsolete_gen))                                       \
    X("tag_invalidations_hard", atomic_load(&st->tag_invalidations[RC_INVAL_HARD]))                \
    X("tag_invalidations_soft", atomic_load(&st->tag_invalidations[RC_INVAL_SOFT]))                \
    X("parked", atomic_load(&st->parked))                                                          \
    X("suppress_bytes", tot.suppress_bytes)                                                        \
    X("suppressed", rc_store_suppressed_total(st))

long rc_store_stats_text(rc_store *st, char *buf, size_t cap)
{
    rc_store_totals tot;
    size_t pos = 0;
    rc_store_totals_get(st, &tot);
#define RC__STAT_LINE(name, expr) rc_ns_text_line(buf, cap, &pos, name, (uint64_t)(expr));
    RC__STORE_STATS(RC__STAT_LINE)
#undef RC__STAT_LINE
    return (long)pos;
}

static void rc__flush(rc_store *st, rc_lease_waiter **woken)
{
    for (uint32_t i = 0; i < st->nshards; i++) {
        rc__shard *sh = &st->shards[i];
        pthread_mutex_lock(&sh->lock);
        rc__leases_clear_locked(st, sh, woken);
        rc__shard_clear_locked(st, sh);
        rc__shard_init_structure(sh);
        pthread_mutex_unlock(&sh->lock);
    }
    atomic_fetch_add_explicit(&st->obsolete_gen, 1, memory_order_acq_rel);
}

static size_t rc__sweep(rc_store *st, uint64_t now_ms, size_t budget, rc_lease_waiter **woken)
{
    size_t freed = 0;
    for (uint32_t i = 0; i < st->nshards; i++) {
        rc__shard *sh = &st->shards[i];
        pthread_mutex_lock(&sh->lock);
        rc__index_migrate_locked(sh, RC__MIGRATE_BUCKETS);
        rc__leases_sweep_locked(st, sh, now_ms, woken);
        freed += rc__reclaim_range_locked(st, sh, now_ms, &sh->sweep_pos, budget, false);
        pthread_mutex_unlock(&sh->lock);
    }
    return freed;
}

/* ---- public entry points: each holds its namespace reader stripe (rc_ns.h) ---------------- */

int rc_store_get(rc_store *st, const rc_store_key *key, uint64_t now_ms, rc_value_sink sink,
                 void *sink_ctx, rc_store_read *out)
{
    rc_ns_enter(st->namespaces);
    int rc = rc__get(st, key, now_ms, sink, sink_ctx, out);
    rc_ns_leave(st->namespaces);
    return rc;
}

int rc_store_lget(rc_store *st, const rc_store_key *key, const rc_store_lease_opts *opts,
                  uint64_t now_ms, rc_value_sink sink, void *sink_ctx, rc_store_lease_read *out)
{
    rc_ns_enter(st->namespaces);
    int rc = rc__lget(st, key, opts, now_ms, sink, sink_ctx, out);
    rc_ns_leave(st->namespaces);
    return rc;
}

bool rc_store_unpark(rc_store *st, rc_lease_waiter *w, uint8_t outcome)
{
    rc_ns_enter(st->namespaces);
    bool detached = rc__unpark(st, w, outcome);
    rc_ns_leave(st->namespaces);
    return detached;
}

int rc_store_set(rc_store *st, const rc_store_key *key, const rc_store_write *w, uint64_t now_ms,
                 rc_store_write_result *out)
{
    rc_ns_enter(st->namespaces);
    int rc = rc__set(st, key, w, now_ms, out);
    rc_ns_leave(st->namespaces);
    return rc;
}

int rc_store_bump(rc_store *st, rc_slice ns, uint64_t to, uint64_t *version)
{
    rc_ns_enter(st->namespaces);
    int rc = rc__bump(st, ns, to, version);
    rc_ns_leave(st->namespaces);
    return rc;
}

int rc_store_ns_configure(rc_store *st, rc_slice ns, rc_slice settings, char *err, size_t errlen)
{
    rc_ns_enter(st->namespaces);
    int rc = rc__ns_configure(st, ns, settings, err, errlen);
    rc_ns_leave(st->namespaces);
    return rc;
}

long rc_store_ns_info(rc_store *st, rc_slice ns, char *buf, size_t cap, uint64_t *version)
{
    rc_ns_enter(st->namespaces);
    long len = rc__ns_info(st, ns, buf, cap, version);
    rc_ns_leave(st->namespaces);
    return len;
}

void rc_store_flush(rc_store *st, rc_lease_waiter **woken)
{
    rc_ns_enter(st->namespaces);
    rc__flush(st, woken);
    rc_ns_leave(st->namespaces);
}

size_t rc_store_sweep(rc_store *st, uint64_t now_ms, size_t budget, rc_lease_waiter **woken)
{
    rc_ns_enter(st->namespaces);
    size_t freed = rc__sweep(st, now_ms, budget, woken);
    rc_ns_leave(st->namespaces);
    return freed;
}

void rc_store_ns_foreach(rc_store *st, void (*fn)(void *ctx, const rc_ns *ns), void *ctx)
{
    rc_ns_enter(st->namespaces);
    rc_ns_registry_foreach(st->namespaces, fn, ctx);
    rc_ns_leave(st->namespaces);
}

size_t rc_store_entry_overhead(void)
{
    return sizeof(rc_entry);
}
