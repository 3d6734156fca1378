/*
 * rc_l1.c - the L1 near-cache: an in-process copy of recently read values,
 * kept coherent by the events the channel thread (rc_sub.c) applies.
 *
 * Design.  A chained hash table keyed by (namespace, key) finds entries; an
 * LRU list (most recent at the head, touched on every hit) chooses what to
 * evict when the entry or byte bound would be exceeded.  LRU rather than
 * CLOCK because the L1 is small and every operation already holds the one
 * mutex, so moving an entry to the head costs two pointer swaps.  Each entry
 * stores one allocation: namespace, key and value bytes, plus the metadata
 * a GET answer carries, its own expiry (min(server TTL, max_ttl_ms)) and its
 * tags when they are known (rc_l1_set knows them; GET answers carry none).
 *
 * Coherence (see recache.h for the rules): events drop entries, never
 * update them.  The fill race rule uses local invalidation counters (gen,
 * bucket_gen, global_gen in rc_l1_int.h): a fill notes gen before its
 * server read and is refused if an invalidation that could concern its key
 * was applied since.  A new instance id, or the very first subscription,
 * drops everything, because values read before the channel was subscribed
 * cannot be covered by a replay.
 *
 * Locking: every function taking `rc_l1 *` locks l1->mu itself (rc__ helpers
 * below named *_locked expect it held).  The lock is never held across a
 * network call.  Memory failures never abort: a fill that cannot allocate is
 * simply not cached.
 */
#define _GNU_SOURCE

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "rc_l1_int.h"

#define RC__L1_DEFAULT_ENTRIES    10000u
#define RC__L1_DEFAULT_BYTES      (64u * 1024u * 1024u)
#define RC__L1_DEFAULT_TTL_MS     30000u
#define RC__L1_DEFAULT_HEALTH_MS  3000u
#define RC__L1_DEFAULT_CONNECT_MS 1000u
#define RC__L1_ENTRY_OVERHEAD     64u /* bytes charged per entry on top of its data */

struct rc__l1_entry {
    rc__l1_entry *hnext;       /* hash chain */
    rc__l1_entry *prev, *next; /* LRU list */
    uint64_t hash;
    uint64_t ns_version;
    uint64_t entry_version;
    uint64_t expires_ms; /* monotonic */
    uint32_t flags;
    int tags_known;
    size_t ntags;
    char *tags;    /* ntags NUL-terminated strings back to back, or NULL */
    size_t charge; /* bytes counted against max_bytes */
    size_t ns_len, key_len, value_len;
    uint8_t data[]; /* ns, key, value (+ NUL) */
};

/* ---- small helpers -------------------------------------------------------------------------- */

/* rc__l1_hash - FNV-1a over the namespace, a separator, and the key. */
static uint64_t rc__l1_hash(const char *ns, size_t ns_len, const void *key, size_t key_len)
{
    uint64_t h = 1469598103934665603ull;
    const uint8_t *p = (const uint8_t *)ns;
    for (size_t i = 0; i < ns_len; i++)
        h = (h ^ p[i]) * 1099511628211ull;
    h = (h ^ 0xFFu) * 1099511628211ull;
    p = key;
    for (size_t i = 0; i < key_len; i++)
        h = (h ^ p[i]) * 1099511628211ull;
    return h;
}

static size_t rc__l1_gen_bucket(uint64_t hash)
{
    return (size_t)(hash >> 32) & (RC__L1_GEN_BUCKETS - 1);
}

/*
 * rc__l1_cacheable - whether (ns, key) may live in this L1: within the wire
 * limits of GET, and in a namespace the channel subscribes to.  The server
 * sends no events for other namespaces, so a copy of one of their entries
 * could never be invalidated: reads and writes of those bypass the L1.
 * l1->namespaces is immutable after rc_l1_open, so no lock is needed.
 */
static int rc__l1_cacheable(const rc_l1 *l1, const char *ns, const void *key, size_t key_len)
{
    if (ns == NULL || ns[0] == '\0' || strlen(ns) > RC_WIRE_MAX_NS || key == NULL || key_len == 0 ||
        key_len > RC_WIRE_MAX_KEY)
        return 0;
    if (l1->namespaces == NULL)
        return 1;
    for (size_t i = 0; i < l1->n_namespaces; i++)
        if (strcmp(l1->namespaces[i], ns) == 0)
            return 1;
    return 0;
}

static int rc__l1_same(const rc__l1_entry *e, uint64_t h, const char *ns, size_t ns_len,
                       const void *key, size_t key_len)
{
    return e->hash == h && e->ns_len == ns_len && e->key_len == key_len &&
           memcmp(e->data, ns, ns_len) == 0 && memcmp(e->data + ns_len, key, key_len) == 0;
}

/* ---- table and LRU (mu held) ---------------------------------------------------------------- */

static rc__l1_entry **rc__l1_slot(rc_l1 *l1, uint64_t h)
{
    return &l1->table[h & (l1->table_size - 1)];
}

static rc__l1_entry *rc__l1_find_locked(rc_l1 *l1, uint64_t h, const char *ns, size_t ns_len,
                                        const void *key, size_t key_len)
{
    for (rc__l1_entry *e = *rc__l1_slot(l1, h); e != NULL; e = e->hnext)
        if (rc__l1_same(e, h, ns, ns_len, key, key_len))
            return e;
    return NULL;
}

static void rc__l1_lru_unlink(rc_l1 *l1, rc__l1_entry *e)
{
    if (e->prev)
        e->prev->next = e->next;
    else
        l1->lru_head = e->next;
    if (e->next)
        e->next->prev = e->prev;
    else
        l1->lru_tail = e->prev;
    e->prev = e->next = NULL;
}

static void rc__l1_lru_push(rc_l1 *l1, rc__l1_entry *e)
{
    e->prev = NULL;
    e->next = l1->lru_head;
    if (l1->lru_head)
        l1->lru_head->prev = e;
    l1->lru_head = e;
    if (l1->lru_tail == NULL)
        l1->lru_tail = e;
}

/* rc__l1_remove_locked - unlink e from the table and the LRU list, account and free it. */
static void rc__l1_remove_locked(rc_l1 *l1, rc__l1_entry *e)
{
    rc__l1_entry **pp = rc__l1_slot(l1, e->hash);
    while (*pp != e)
        pp = &(*pp)->hnext;
    *pp = e->hnext;
    rc__l1_lru_unlink(l1, e);
    l1->entries--;
    l1->bytes -= e->charge;
    free(e->tags);
    free(e);
}

/* rc__l1_drop_all_locked - drop every entry and refuse every fill in flight. */
static void rc__l1_drop_all_locked(rc_l1 *l1)
{
    while (l1->lru_head)
        rc__l1_remove_locked(l1, l1->lru_head);
    l1->global_gen = ++l1->gen;
}

/* rc__l1_has_tag - whether e carries tag (tag_len bytes). */
static int rc__l1_has_tag(const rc__l1_entry *e, const char *tag, size_t tag_len)
{
    const char *p = e->tags;
    for (size_t i = 0; i < e->ntags; i++) {
        size_t len = strlen(p);
        if (len == tag_len && memcmp(p, tag, len) == 0)
            return 1;
        p += len + 1;
    }
    return 0;
}

/*
 * rc__l1_drop_tag_locked - a TAG event: drop the entries carrying the tag
 * and every entry whose tags are unknown (it might carry it).
 */
static void rc__l1_drop_tag_locked(rc_l1 *l1, const char *tag, size_t tag_len)
{
    rc__l1_entry *e = l1->lru_head;
    while (e) {
        rc__l1_entry *next = e->next;
        if (!e->tags_known || rc__l1_has_tag(e, tag, tag_len)) {
            rc__l1_remove_locked(l1, e);
            l1->invalidations++;
        }
        e = next;
    }
    l1->global_gen = ++l1->gen;
}

/* rc__l1_drop_bump_locked - a BUMP event: drop ns's entries older than version. */
static void rc__l1_drop_bump_locked(rc_l1 *l1, const char *ns, size_t ns_len, uint64_t version)
{
    rc__l1_entry *e = l1->lru_head;
    while (e) {
        rc__l1_entry *next = e->next;
        if (e->ns_len == ns_len && memcmp(e->data, ns, ns_len) == 0 && e->ns_version < version) {
            rc__l1_remove_locked(l1, e);
            l1->invalidations++;
        }
        e = next;
    }
    l1->global_gen = ++l1->gen;
}

/* rc__l1_drop_key_locked - drop (ns, key) if cached and block fills of its bucket. */
static void rc__l1_drop_key_locked(rc_l1 *l1, const char *ns, size_t ns_len, const void *key,
                                   size_t key_len)
{
    uint64_t h = rc__l1_hash(ns, ns_len, key, key_len);
    rc__l1_entry *e = rc__l1_find_locked(l1, h, ns, ns_len, key, key_len);
    if (e) {
        rc__l1_remove_locked(l1, e);
        l1->invalidations++;
    }
    l1->bucket_gen[rc__l1_gen_bucket(h)] = ++l1->gen;
}

/* ---- health --------------------------------------------------------------------------------- */

/* rc__l1_healthy_locked - connected, caught up, and heard from within the bound. */
static int rc__l1_healthy_locked(const rc_l1 *l1, uint64_t now)
{
    return l1->connected && l1->applied_seq >= l1->caught_up_seq &&
           now - l1->last_rx_ms <= l1->health_timeout_ms;
}

/* ---- entries -------------------------------------------------------------------------------- */

/* What a fill stores (views of the caller's memory). */
typedef struct rc__l1_fill {
    const char *ns;
    const void *key;
    size_t key_len;
    const void *value;
    size_t value_len;
    uint64_t ns_version;
    uint64_t entry_version;
    uint32_t flags;
    uint32_t ttl_ms;            /* RC_TTL_NONE = none from the server */
    const rc_set_options *tags; /* NULL = tags unknown */
} rc__l1_fill;

/* rc__l1_tags_copy - the tags of opts back to back; sets *out (NULL for none).  0 or RC_ENOMEM. */
static int rc__l1_tags_copy(const rc_set_options *opts, char **out, size_t *bytes)
{
    size_t total = 0;
    *out = NULL;
    *bytes = 0;
    for (size_t i = 0; i < opts->ntags; i++)
        total += strlen(opts->tags[i]) + 1;
    if (total == 0)
        return 0;
    char *p = malloc(total);
    if (p == NULL)
        return RC_ENOMEM;
    *out = p;
    *bytes = total;
    for (size_t i = 0; i < opts->ntags; i++) {
        size_t len = strlen(opts->tags[i]) + 1;
        memcpy(p, opts->tags[i], len);
        p += len;
    }
    return 0;
}

/* rc__l1_entry_new - a detached entry for f, or NULL (out of memory). */
static rc__l1_entry *rc__l1_entry_new(const rc_l1 *l1, const rc__l1_fill *f, uint64_t h,
                                      uint64_t now)
{
    size_t ns_len = strlen(f->ns);
    rc__l1_entry *e = malloc(sizeof *e + ns_len + f->key_len + f->value_len + 1);
    if (e == NULL)
        return NULL;
    memset(e, 0, sizeof *e);
    size_t tag_bytes = 0;
    if (f->tags && rc__l1_tags_copy(f->tags, &e->tags, &tag_bytes) != 0) {
        free(e);
        return NULL;
    }
    e->tags_known = f->tags != NULL;
    e->ntags = f->tags ? f->tags->ntags : 0;
    e->hash = h;
    e->ns_version = f->ns_version;
    e->entry_version = f->entry_version;
    e->flags = f->flags;
    uint32_t ttl = f->ttl_ms < l1->max_ttl_ms ? f->ttl_ms : l1->max_ttl_ms;
    e->expires_ms = now + ttl;
    e->ns_len = ns_len;
    e->key_len = f->key_len;
    e->value_len = f->value_len;
    memcpy(e->data, f->ns, ns_len);
    memcpy(e->data + ns_len, f->key, f->key_len);
    if (f->value_len > 0)
        memcpy(e->data + ns_len + f->key_len, f->value, f->value_len);
    e->data[ns_len + f->key_len + f->value_len] = '\0';
    e->charge = RC__L1_ENTRY_OVERHEAD + ns_len + f->key_len + f->value_len + tag_bytes;
    return e;
}

/* rc__l1_insert_locked - replace any copy of e's key with e, then evict down to the bounds. */
static void rc__l1_insert_locked(rc_l1 *l1, rc__l1_entry *e)
{
    const char *ns = (const char *)e->data;
    rc__l1_entry *old =
        rc__l1_find_locked(l1, e->hash, ns, e->ns_len, e->data + e->ns_len, e->key_len);
    if (old)
        rc__l1_remove_locked(l1, old);
    rc__l1_entry **slot = rc__l1_slot(l1, e->hash);
    e->hnext = *slot;
    *slot = e;
    rc__l1_lru_push(l1, e);
    l1->entries++;
    l1->bytes += e->charge;
    while (l1->entries > l1->max_entries || l1->bytes > l1->max_bytes)
        rc__l1_remove_locked(l1, l1->lru_tail);
}

/*
 * rc__l1_fill_entry - insert f unless an invalidation that could concern it
 * was applied since start_gen (the race rule), or it would not fit at all.
 * own_gen != 0 is rc_l1_set's case: its own local drop set the key's bucket
 * to own_gen, so the bucket must still be exactly there.  Allocates outside
 * the lock.  Never fails (an entry it cannot allocate is simply not cached).
 */
static void rc__l1_fill_entry(rc_l1 *l1, const rc__l1_fill *f, uint64_t start_gen, uint64_t own_gen)
{
    size_t ns_len = strlen(f->ns);
    if (f->ttl_ms == 0 ||
        RC__L1_ENTRY_OVERHEAD + ns_len + f->key_len + f->value_len > l1->max_bytes)
        return;
    uint64_t h = rc__l1_hash(f->ns, ns_len, f->key, f->key_len);
    rc__l1_entry *e = rc__l1_entry_new(l1, f, h, rc__now_ms());
    if (e == NULL)
        return;
    pthread_mutex_lock(&l1->mu);
    uint64_t bucket = l1->bucket_gen[rc__l1_gen_bucket(h)];
    int allowed =
        l1->global_gen <= start_gen && (own_gen ? bucket == own_gen : bucket <= start_gen);
    if (allowed)
        rc__l1_insert_locked(l1, e);
    pthread_mutex_unlock(&l1->mu);
    if (!allowed) {
        free(e->tags);
        free(e);
    }
}

/*
 * rc__l1_lookup_locked - copy a live entry of (ns, key) into *out (hit: 0),
 * or RC_EMISS (an expired entry is dropped on the way), or RC_ENOMEM.
 */
static int rc__l1_lookup_locked(rc_l1 *l1, uint64_t h, const char *ns, const void *key,
                                size_t key_len, uint64_t now, rc_value *out)
{
    size_t ns_len = strlen(ns);
    rc__l1_entry *e = rc__l1_find_locked(l1, h, ns, ns_len, key, key_len);
    if (e == NULL)
        return RC_EMISS;
    if (e->expires_ms <= now) {
        rc__l1_remove_locked(l1, e);
        return RC_EMISS;
    }
    out->data = malloc(e->value_len + 1);
    if (out->data == NULL)
        return RC_ENOMEM;
    memcpy(out->data, e->data + e->ns_len + e->key_len, e->value_len + 1);
    out->len = e->value_len;
    out->client_flags = e->flags;
    out->entry_version = e->entry_version;
    out->ns_version = e->ns_version;
    out->ttl_left_ms = (uint32_t)(e->expires_ms - now);
    out->stale = 0;
    rc__l1_lru_unlink(l1, e);
    rc__l1_lru_push(l1, e);
    return 0;
}

/* ---- public: reads and writes --------------------------------------------------------------- */

int rc_l1_get(rc_l1 *l1, rc_client *c, const char *ns, const void *key, size_t key_len,
              rc_value *out)
{
    if (l1 == NULL || out == NULL)
        return RC_EINVAL;
    memset(out, 0, sizeof *out);
    if (!rc__l1_cacheable(l1, ns, key, key_len))
        return rc_get(c, ns, key, key_len, NULL, out); /* bypass; reports any argument error */
    uint64_t h = rc__l1_hash(ns, strlen(ns), key, key_len);
    uint64_t now = rc__now_ms();

    pthread_mutex_lock(&l1->mu);
    int err = RC_EMISS;
    if (rc__l1_healthy_locked(l1, now))
        err = rc__l1_lookup_locked(l1, h, ns, key, key_len, now, out);
    if (err == 0)
        l1->hits++;
    else
        l1->misses++;
    uint64_t start_gen = l1->gen;
    pthread_mutex_unlock(&l1->mu);
    if (err == 0)
        return 0;

    err = rc_get(c, ns, key, key_len, NULL, out);
    if (err == 0 && !out->stale) {
        rc__l1_fill f = {.ns = ns,
                         .key = key,
                         .key_len = key_len,
                         .value = out->data,
                         .value_len = out->len,
                         .ns_version = out->ns_version,
                         .entry_version = out->entry_version,
                         .flags = out->client_flags,
                         .ttl_ms = out->ttl_left_ms,
                         .tags = NULL};
        rc__l1_fill_entry(l1, &f, start_gen, 0);
    }
    return err;
}

/*
 * rc__l1_drop_written - after a write through this L1: drop the old copy
 * (and block fills in flight).  Returns the gen the key's bucket now has if
 * the written value may be kept (no KEY event for the bucket arrived since
 * start_gen, taken before the write: it could be a later writer's), else 0.
 * rc__l1_fill_entry then also checks nothing touched the bucket until the
 * insert.  Takes mu.
 */
static uint64_t rc__l1_drop_written(rc_l1 *l1, const char *ns, const void *key, size_t key_len,
                                    uint64_t start_gen)
{
    size_t ns_len = strlen(ns);
    size_t bucket = rc__l1_gen_bucket(rc__l1_hash(ns, ns_len, key, key_len));
    pthread_mutex_lock(&l1->mu);
    int clean = l1->bucket_gen[bucket] <= start_gen;
    rc__l1_drop_key_locked(l1, ns, ns_len, key, key_len);
    uint64_t own_gen = clean ? l1->gen : 0;
    pthread_mutex_unlock(&l1->mu);
    return own_gen;
}

int rc_l1_set(rc_l1 *l1, rc_client *c, const char *ns, const void *key, size_t key_len,
              const void *value, size_t value_len, const rc_set_options *opts, rc_write_info *info)
{
    rc_write_info local;
    if (l1 == NULL)
        return RC_EINVAL;
    if (info == NULL)
        info = &local;
    pthread_mutex_lock(&l1->mu);
    uint64_t start_gen = l1->gen;
    pthread_mutex_unlock(&l1->mu);

    int err = rc_set(c, ns, key, key_len, value, value_len, opts, info);
    if (!rc__l1_cacheable(l1, ns, key, key_len))
        return err;
    uint64_t own_gen = rc__l1_drop_written(l1, ns, key, key_len, start_gen);
    /* Keep the written value only when its lifetime is known and it is the current version. */
    if (err != 0 || own_gen == 0 || opts == NULL || opts->ttl_ms == 0 || opts->version != 0)
        return err;
    rc__l1_fill f = {.ns = ns,
                     .key = key,
                     .key_len = key_len,
                     .value = value,
                     .value_len = value_len,
                     .ns_version = info->ns_version,
                     .entry_version = info->entry_version,
                     .flags = opts->client_flags,
                     .ttl_ms = opts->ttl_ms,
                     .tags = opts};
    rc__l1_fill_entry(l1, &f, start_gen, own_gen);
    return err;
}

void rc_l1_invalidate_local(rc_l1 *l1, const char *ns, const void *key, size_t key_len)
{
    if (l1 == NULL || !rc__l1_cacheable(l1, ns, key, key_len))
        return;
    pthread_mutex_lock(&l1->mu);
    rc__l1_drop_key_locked(l1, ns, strlen(ns), key, key_len);
    pthread_mutex_unlock(&l1->mu);
}

/* ---- events from the channel ---------------------------------------------------------------- */

/* rc__l1_note_seq_locked - an event's seq: detect a gap (unfiltered channel), advance applied. */
static void rc__l1_note_seq_locked(rc_l1 *l1, uint64_t seq)
{
    if (l1->namespaces == NULL && l1->applied_seq != 0 && seq > l1->applied_seq + 1) {
        rc__l1_drop_all_locked(l1); /* an event went missing: nothing cached can be trusted */
        l1->resyncs++;
    }
    if (seq > l1->applied_seq)
        l1->applied_seq = seq;
}

/* rc__l1_apply_change_locked - the cache side of one KEY/TAG/BUMP/FLUSH/RESYNC event. */
static void rc__l1_apply_change_locked(rc_l1 *l1, const rc_event *ev)
{
    switch (ev->kind) {
    case RC_EVENT_KEY:
        if (ev->ns_len > 0 && ev->key_len > 0)
            rc__l1_drop_key_locked(l1, ev->ns, ev->ns_len, ev->key, ev->key_len);
        else
            rc__l1_drop_all_locked(l1);
        break;
    case RC_EVENT_TAG:
        rc__l1_drop_tag_locked(l1, ev->tag, ev->tag_len);
        break;
    case RC_EVENT_BUMP:
        rc__l1_drop_bump_locked(l1, ev->ns, ev->ns_len, ev->ns_version);
        break;
    case RC_EVENT_FLUSH:
        rc__l1_drop_all_locked(l1);
        l1->flushes++;
        break;
    default: /* RESYNC */
        rc__l1_drop_all_locked(l1);
        if (!l1->expect_resync)
            l1->resyncs++;
        break;
    }
}

void rc__l1_apply_event(rc_l1 *l1, const rc_event *ev)
{
    pthread_mutex_lock(&l1->mu);
    l1->last_rx_ms = rc__now_ms();
    if (ev->kind == RC_EVENT_HEARTBEAT) {
        /*
         * A heartbeat carries the subscriber's own position: every event up
         * to it was sent (a filtered channel skips other namespaces' events,
         * so only the heartbeat says how far it has got).
         */
        if (ev->seq > l1->applied_seq)
            l1->applied_seq = ev->seq;
    } else if (ev->kind == RC_EVENT_RESYNC) {
        rc__l1_apply_change_locked(l1, ev);
        l1->expect_resync = 0;
        l1->events++;
        uint64_t seq = ev->seq > l1->caught_up_seq ? ev->seq : l1->caught_up_seq;
        l1->applied_seq = seq;
    } else if (ev->kind >= RC_EVENT_KEY && ev->kind <= RC_EVENT_FLUSH) {
        l1->expect_resync = 0;
        rc__l1_note_seq_locked(l1, ev->seq);
        rc__l1_apply_change_locked(l1, ev);
        l1->events++;
    }
    pthread_cond_broadcast(&l1->applied_cv);
    pthread_mutex_unlock(&l1->mu);
}

void rc__l1_subscribed(rc_l1 *l1, uint64_t node_seq, uint64_t node_instance)
{
    pthread_mutex_lock(&l1->mu);
    if (l1->instance_id != node_instance) {
        /*
         * First subscription (values filled before it are covered by no
         * replay) or a restarted node (sequence numbers restart): drop all.
         */
        rc__l1_drop_all_locked(l1);
        if (l1->instance_id != 0) {
            l1->resyncs++;
            l1->expect_resync = 1; /* the RESYNC event that follows is this same drop */
        }
        l1->instance_id = node_instance;
        l1->applied_seq = node_seq;
    }
    if (l1->ever_subscribed)
        l1->reconnects++;
    l1->ever_subscribed = 1;
    l1->caught_up_seq = node_seq;
    l1->connected = 1;
    l1->last_rx_ms = rc__now_ms();
    pthread_cond_broadcast(&l1->applied_cv);
    pthread_mutex_unlock(&l1->mu);
}

void rc__l1_disconnected(rc_l1 *l1)
{
    pthread_mutex_lock(&l1->mu);
    l1->connected = 0;
    pthread_mutex_unlock(&l1->mu);
}

void rc__l1_resume_point(rc_l1 *l1, uint64_t *seq, uint64_t *instance)
{
    pthread_mutex_lock(&l1->mu);
    *seq = l1->applied_seq;
    *instance = l1->instance_id;
    pthread_mutex_unlock(&l1->mu);
}

/* ---- public: lifecycle and observation ------------------------------------------------------ */

/* rc__l1_copy_options - defaults and owned copies of the strings.  0 or RC_ENOMEM/RC_EINVAL. */
static int rc__l1_copy_options(rc_l1 *l1, const rc_l1_options *o)
{
    l1->host = strdup(o->host && o->host[0] ? o->host : "127.0.0.1");
    if (l1->host == NULL)
        return RC_ENOMEM;
    l1->port = o->port ? o->port : 7400;
    l1->max_entries = o->max_entries ? o->max_entries : RC__L1_DEFAULT_ENTRIES;
    l1->max_bytes = o->max_bytes ? o->max_bytes : RC__L1_DEFAULT_BYTES;
    l1->max_ttl_ms = o->max_ttl_ms ? o->max_ttl_ms : RC__L1_DEFAULT_TTL_MS;
    l1->health_timeout_ms = o->health_timeout_ms ? o->health_timeout_ms : RC__L1_DEFAULT_HEALTH_MS;
    l1->connect_timeout_ms =
        o->connect_timeout_ms ? o->connect_timeout_ms : RC__L1_DEFAULT_CONNECT_MS;
    l1->io_timeout_ms = o->io_timeout_ms ? o->io_timeout_ms : l1->health_timeout_ms;
    if (o->namespaces == NULL || o->n_namespaces == 0)
        return 0;
    if (o->n_namespaces > 255)
        return RC_EINVAL;
    l1->namespaces = calloc(o->n_namespaces, sizeof *l1->namespaces);
    if (l1->namespaces == NULL)
        return RC_ENOMEM;
    l1->n_namespaces = o->n_namespaces;
    for (size_t i = 0; i < o->n_namespaces; i++) {
        const char *ns = o->namespaces[i];
        if (ns == NULL || ns[0] == '\0' || strlen(ns) > RC_WIRE_MAX_NS)
            return RC_EBAD_NAMESPACE;
        l1->namespaces[i] = strdup(ns);
        if (l1->namespaces[i] == NULL)
            return RC_ENOMEM;
    }
    return 0;
}

/* rc__l1_free - release everything rc_l1_open allocated (thread already stopped). */
static void rc__l1_free(rc_l1 *l1)
{
    if (l1->table) {
        while (l1->lru_head)
            rc__l1_remove_locked(l1, l1->lru_head);
        free(l1->table);
    }
    for (size_t i = 0; i < l1->n_namespaces; i++)
        free(l1->namespaces[i]);
    free(l1->namespaces);
    free(l1->host);
    pthread_cond_destroy(&l1->applied_cv);
    pthread_cond_destroy(&l1->ctl_cv);
    pthread_mutex_destroy(&l1->mu);
    free(l1);
}

/* rc__l1_init_sync - the mutex and condition variables (applied_cv on CLOCK_MONOTONIC). */
static int rc__l1_init_sync(rc_l1 *l1)
{
    pthread_condattr_t attr;
    if (pthread_condattr_init(&attr) != 0)
        return RC_ENOMEM;
    pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
    int bad = pthread_mutex_init(&l1->mu, NULL) != 0;
    bad |= pthread_cond_init(&l1->applied_cv, &attr) != 0;
    bad |= pthread_cond_init(&l1->ctl_cv, NULL) != 0;
    pthread_condattr_destroy(&attr);
    return bad ? RC_ENOMEM : 0;
}

int rc_l1_open(const rc_l1_options *opts, rc_l1 **out)
{
    static const rc_l1_options defaults = {0};
    if (out == NULL)
        return RC_EINVAL;
    *out = NULL;
    rc_l1 *l1 = calloc(1, sizeof *l1);
    if (l1 == NULL)
        return RC_ENOMEM;
    l1->wake[0] = l1->wake[1] = -1;
    if (rc__l1_init_sync(l1) != 0) {
        free(l1);
        return RC_ENOMEM;
    }
    int err = rc__l1_copy_options(l1, opts ? opts : &defaults);
    if (err == 0) {
        l1->table_size = 64;
        while (l1->table_size < l1->max_entries && l1->table_size < ((size_t)1 << 24))
            l1->table_size *= 2;
        l1->table = calloc(l1->table_size, sizeof *l1->table);
        err = l1->table ? rc__sub_start(l1) : RC_ENOMEM;
    }
    if (err) {
        rc__sub_stop(l1); /* safe whether or not the pipe and thread exist */
        rc__l1_free(l1);
        return err;
    }
    *out = l1;
    return 0;
}

void rc_l1_close(rc_l1 *l1)
{
    if (l1 == NULL)
        return;
    rc__sub_stop(l1);
    rc__l1_free(l1);
}

void rc_l1_stats_get(rc_l1 *l1, rc_l1_stats *out)
{
    memset(out, 0, sizeof *out);
    if (l1 == NULL)
        return;
    pthread_mutex_lock(&l1->mu);
    out->hits = l1->hits;
    out->misses = l1->misses;
    out->invalidations = l1->invalidations;
    out->resyncs = l1->resyncs;
    out->flushes = l1->flushes;
    out->reconnects = l1->reconnects;
    out->events = l1->events;
    out->entries = l1->entries;
    out->bytes = l1->bytes;
    out->healthy = rc__l1_healthy_locked(l1, rc__now_ms());
    out->connected = l1->connected;
    out->applied_seq = l1->applied_seq;
    out->instance_id = l1->instance_id;
    pthread_mutex_unlock(&l1->mu);
}

int rc_l1_wait_applied(rc_l1 *l1, uint64_t seq, uint32_t timeout_ms)
{
    if (l1 == NULL)
        return RC_EINVAL;
    struct timespec until;
    clock_gettime(CLOCK_MONOTONIC, &until);
    until.tv_sec += timeout_ms / 1000;
    until.tv_nsec += (long)(timeout_ms % 1000) * 1000000L;
    if (until.tv_nsec >= 1000000000L) {
        until.tv_sec++;
        until.tv_nsec -= 1000000000L;
    }
    int err = 0;
    pthread_mutex_lock(&l1->mu);
    while (l1->applied_seq < seq && err == 0)
        if (pthread_cond_timedwait(&l1->applied_cv, &l1->mu, &until) == ETIMEDOUT)
            err = l1->applied_seq >= seq ? 0 : RC_ETIMEDOUT;
    pthread_mutex_unlock(&l1->mu);
    return err;
}

void rc_l1_pause(rc_l1 *l1)
{
    if (l1 == NULL)
        return;
    pthread_mutex_lock(&l1->mu);
    l1->paused = 1;
    pthread_cond_broadcast(&l1->ctl_cv);
    pthread_mutex_unlock(&l1->mu);
    rc__sub_wake(l1);
}

void rc_l1_resume(rc_l1 *l1)
{
    if (l1 == NULL)
        return;
    pthread_mutex_lock(&l1->mu);
    l1->paused = 0;
    pthread_cond_broadcast(&l1->ctl_cv);
    pthread_mutex_unlock(&l1->mu);
    rc__sub_wake(l1);
}
