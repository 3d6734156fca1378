/*
 * rc_store.h - the sharded in-memory store: entries, namespaces, tags.
 *
 * Design.  Keys are (namespace, namespace version, key bytes).  The table is
 * split into a power-of-two number of shards chosen by hash; each shard has
 * its own mutex, a chained hash index that grows incrementally (two tables,
 * a few buckets migrated per operation, never a stop-the-world rehash), a
 * CLOCK ring of its entries and a byte budget (memory_limit / nshards).  Every
 * byte held for an entry is charged to its shard: the entry allocation
 * (metadata, key, tag references, value, as malloc_usable_size reports it),
 * its ring slot, its share of the bucket arrays, and, conservatively, the
 * full size of each tag record it references.  A write evicts inside its own
 * shard until the new entry fits, so the sum over shards never passes the
 * limit.
 *
 * Namespaces (rc_ns.h) hold an atomic current version; a bump is one atomic
 * max, O(1).  Entries of older versions become unreachable through "current"
 * and obsolete for the evictor.  Tags (rc_tags.h) hold the hybrid logical
 * clock stamps of their newest invalidations; every entry carries the stamp
 * of its write and a read compares lazily, so invalidating a tag is O(1)
 * whatever the number of entries, and a peer's stamps merge by maximum.
 *
 * Entry lifecycle: fresh until expiry, then stale for its stale window, then
 * gone.  Soft invalidation (of the key or one of its tags) removes freshness
 * only; hard invalidation makes it a miss.  Obsolete entries (expired past
 * their stale window, hard-invalidated, older namespace version, tombstones
 * past their time) are never served and are reclaimed by the CLOCK hand
 * before any current entry is considered.
 *
 * Locking.  All functions are thread-safe.  Each call takes at most one shard
 * lock at a time and never holds it across I/O or a callback other than the
 * value sink below.  Time is passed in (now_ms, a monotonic millisecond
 * clock) so callers and tests control it.
 *
 * Memory policy.  The store runs inside the server: allocation goes through
 * rc_xmalloc (rc_alloc.h), which aborts on exhaustion; the memory *limit* is a
 * separate, soft-failing matter (RC_ENO_MEMORY when a value cannot fit).
 */
#ifndef RECACHE_RC_STORE_H
#define RECACHE_RC_STORE_H

#include <stddef.h>
#include <stdint.h>

#include "rc_lease.h"
#include "recache/rc_proto.h"

typedef struct rc_store rc_store;

/* Value kinds: opaque bytes, or a list of (item id, score) in rank order (rc_store_list.h). */
enum rc_value_kind {
    RC_KIND_BYTES = 0,
    RC_KIND_LIST = 1,
};
/* Eviction policies (rc_store_config.eviction). */
enum rc_eviction { RC_EVICT_CLOCK = 0, RC_EVICT_SIEVE = 1 };

typedef struct rc_store_config {
    size_t memory_limit;     /* bytes charged for entries, across all shards */
    uint32_t nshards;        /* power of two, 1..4096; 0 = choose from memory_limit */
    uint32_t max_value;      /* largest value accepted (global cap; namespaces may lower) */
    uint32_t max_namespaces; /* namespaces that may exist at once */
    uint8_t max_tags;        /* tags per entry */
    uint8_t max_tag_len;     /* bytes per tag */
    uint32_t tombstone_ms;   /* how long a delete remembers a versioned entry's version */
    uint64_t hash_seed[2];   /* SipHash key; the server fills it from getrandom() */
    uint16_t max_key;        /* longest key accepted (RC_EKEY_TOO_LONG); 0 = RC_WIRE_MAX_KEY.
                                Part of the largest possible entry, hence of the shard sizing. */
    uint32_t max_waiters;    /* parked lease readers allowed across the node (0 = none may park) */
    uint32_t max_list_items; /* items in one list value (RC_ETOO_MANY_ITEMS); 0 = 1000 */
    uint32_t max_suppressed; /* item ids one namespace may suppress at once */
    uint8_t eviction;        /* RC_EVICT_CLOCK (default) or RC_EVICT_SIEVE (rc_clock.h) */
    /*
     * Called after a namespace's current version moved (a bump, or a read's
     * min_version adopted), with the new version, on the calling thread and
     * with no store lock held.  The server publishes it to subscribers.
     * NULL = no hook.
     */
    void (*on_version)(void *ctx, rc_slice ns, uint64_t version);
    void *hook_ctx;
} rc_store_config;

/* Address of one entry.  version 0 means "the namespace's current version". */
typedef struct rc_store_key {
    rc_slice ns;
    rc_slice key;
    uint64_t version;
    uint64_t min_version; /* reads: adopt this version first if the namespace is behind; 0 = none */
    uint8_t kind;         /* reads: enum rc_value_kind expected; another kind is RC_EWRONG_KIND */
} rc_store_key;

/*
 * Value sink for reads: called at most once, under the shard lock, with the
 * value length; returns where to copy the value (len bytes).  It must not
 * block or call back into the store.  A NULL sink skips the copy.
 */
typedef uint8_t *(*rc_value_sink)(void *ctx, size_t len);

typedef struct rc_store_read {
    uint64_t ns_version;    /* version looked up (always set, also on a miss) */
    uint64_t entry_version; /* writer-stamped version of the entry served */
    uint32_t client_flags;
    uint32_t ttl_left_ms; /* until expiry (0 when stale), RC_TTL_NONE for no expiry */
    uint32_t value_len;
    uint8_t state;    /* RC_STATE_FRESH or RC_STATE_STALE */
    uint64_t written; /* HLC stamp of the write served (rc_hlc_ms: its wall-clock time) */
} rc_store_read;

typedef struct rc_store_write {
    const uint8_t *value;
    uint32_t value_len;
    uint32_t ttl_ms;   /* 0 = namespace default TTL (whose default is no expiry) */
    uint32_t stale_ms; /* RC_STALE_DEFAULT = namespace default stale window */
    uint32_t client_flags;
    uint8_t cond;           /* enum rc_cond */
    uint8_t ntags;          /* strings in tags */
    uint64_t entry_version; /* stamped on the entry; compared by RC_COND_IF_NEWER */
    uint64_t cas_version;   /* RC_COND_CAS: expected stored version */
    rc_slice tags;          /* rc_proto list encoding (u8 len + bytes) x ntags */
    const uint8_t *token; /* lease token (RC_TOKEN_SIZE bytes) for a lease fill; NULL = plain set */
    uint8_t kind;         /* enum rc_value_kind of value (a list: RC_ITEM_SIZE bytes per item) */
} rc_store_write;

typedef struct rc_store_write_result {
    uint64_t ns_version;    /* version written to */
    uint64_t entry_version; /* stored version after the call (on rejection: the one that won) */
    uint32_t ttl_ms;        /* stored: the TTL applied (namespace default, jitter), RC_TTL_NONE
                               for no expiry */
    /*
     * Parked lease readers this call detached (a list through ->next), each
     * with its ->outcome: RELEASED waiters are answered with the value just
     * stored, a PROMOTED one with a lease grant.  The caller owns answering
     * every one of them.  NULL when none.
     */
    rc_lease_waiter *woken;
} rc_store_write_result;

/*
 * rc_store_create - build an empty store.  Returns 0 and *out, or RC_EINVAL
 * for an impossible configuration (zero limit, nshards not a power of two,
 * limit too small for one maximum-size entry per shard).
 */
int rc_store_create(const rc_store_config *cfg, rc_store **out);

/* rc_store_destroy - free everything.  No other call may be running. */
void rc_store_destroy(rc_store *st);

/*
 * rc_store_get - look up key.  Returns 0 on a hit (fresh or stale; see
 * out->state) after handing the value to sink, or RC_EMISS, or
 * RC_EWRONG_KIND when the live entry is not of key->kind (nothing served).  Sets the
 * entry's CLOCK reference bit on a hit.  Expired or hard-invalidated entries
 * met on the way are unlinked and freed.  An unknown namespace is a miss at
 * version 1 and is not created (unless min_version asks for a version,
 * which creates it: RC_ETOO_MANY_NAMESPACES if that is impossible).
 */
int rc_store_get(rc_store *st, const rc_store_key *key, uint64_t now_ms, rc_value_sink sink,
                 void *sink_ctx, rc_store_read *out);

/*
 * rc_store_set - write an entry, subject to w->cond.  Returns 0, or
 * RC_EEXISTS / RC_ENOT_NEWER / RC_ECAS_MISMATCH when the condition rejects
 * it (nothing changes), RC_EVALUE_TOO_LARGE, RC_ETOO_MANY_TAGS,
 * RC_ETAG_TOO_LONG, RC_EBAD_NAMESPACE, RC_ETOO_MANY_NAMESPACES,
 * RC_ENO_MEMORY (cannot fit under the shard budget even after evicting
 * everything evictable).  All limits are checked before allocating.
 * Creates the namespace on first write.  Condition semantics:
 *   IF_ABSENT  stores unless a fresh entry exists (stale ones may be replaced);
 *   IF_NEWER   stores unless a stored entry or tombstone has version >= w->entry_version;
 *   CAS        stores only if a live entry has version == w->cas_version.
 * Lease fills (w->token != NULL) are stored only if the key's lease still
 * has that token and nothing invalidated it since it was granted (a bump of
 * the namespace, an invalidation of one of the fill's tags); otherwise
 * RC_ELEASE_REJECTED, the lease is cancelled and its oldest parked reader
 * promoted.  Any successful write releases the key's parked readers (woken,
 * RELEASED) and ends its lease, so a slower lease holder's fill is rejected.
 */
int rc_store_set(rc_store *st, const rc_store_key *key, const rc_store_write *w, uint64_t now_ms,
                 rc_store_write_result *out);

/*
 * rc_store_delete - remove key and cancel its lease (the oldest parked
 * reader is promoted through *woken).  Returns 0 or RC_EMISS.  An entry with a
 * non-zero entry version leaves a tombstone for tombstone_ms so a late
 * only-if-newer write of an older version is still rejected.
 */
int rc_store_delete(rc_store *st, const rc_store_key *key, uint64_t now_ms, uint64_t *ns_version,
                    rc_lease_waiter **woken);

/* rc_store_touch - set a new TTL on a live entry.  0 or RC_EMISS. */
int rc_store_touch(rc_store *st, const rc_store_key *key, uint32_t ttl_ms, uint64_t now_ms,
                   uint64_t *ns_version);

/*
 * rc_store_invalidate_key - cancels the key's lease like delete, then: hard (like delete, but a
 * tombstone is kept whenever the entry is versioned) or soft (the entry loses freshness and is
 * served stale until its lifetime ends).  0 or RC_EMISS.
 */
int rc_store_invalidate_key(rc_store *st, const rc_store_key *key, uint8_t mode, uint64_t now_ms,
                            uint64_t *ns_version, rc_lease_waiter **woken);

/*
 * rc_store_invalidate_tag - O(1): stamp an invalidation of the tag (hard or
 * soft) with the store's clock; entries carrying the tag written before it
 * (write stamp < the invalidation's) are judged on their next read or by
 * the hand.  *stamp receives the invalidation's stamp (never 0 on success;
 * nothing is allocated when no entry carries the tag).
 */
int rc_store_invalidate_tag(rc_store *st, rc_slice tag, uint8_t mode, uint64_t *stamp);

/*
 * rc_store_bump - make `to` (0 = current + 1) the namespace's current
 * version if it is higher; creates the namespace.  *version receives the
 * resulting current version.  O(1).
 */
int rc_store_bump(rc_store *st, rc_slice ns, uint64_t to, uint64_t *version);

/*
 * rc_store_ns_configure - apply "name=value" settings (newline or space
 * separated; names in rc_ns.h's table) to a namespace, creating it.  On
 * error nothing is applied and err receives a sentence.
 */
int rc_store_ns_configure(rc_store *st, rc_slice ns, rc_slice settings, char *err, size_t errlen);

/*
 * rc_store_ns_info - write a text report (version, settings, counters; one
 * "name value" per line) into buf.  Returns the length written (truncated to
 * cap), or RC_EMISS for an unknown namespace.
 */
long rc_store_ns_info(rc_store *st, rc_slice ns, char *buf, size_t cap, uint64_t *version);

/*
 * rc_store_ns_foreach - call fn(ctx, ns) for every namespace that exists
 * now (rc_ns.h: read its name, version, settings, counters and served-age
 * histogram), holding the namespace registry's reader stripe for the whole
 * walk so none is reclaimed under fn.  fn must not call into the store
 * and must not keep the pointer.  Thread-safe; O(max_namespaces).
 */
typedef struct rc_ns rc_ns;
void rc_store_ns_foreach(rc_store *st, void (*fn)(void *ctx, const rc_ns *ns), void *ctx);

/* rc_store_stats_text - global store statistics, same format; returns length written. */
long rc_store_stats_text(rc_store *st, char *buf, size_t cap);

/* rc_store_flush - drop every entry and lease (parked readers woken CANCELLED); namespace versions
 * stay. */
void rc_store_flush(rc_store *st, rc_lease_waiter **woken);

/*
 * rc_store_sweep - background reclamation: examine up to `budget` ring slots
 * per shard, freeing dead entries (expired past their stale window,
 * hard-invalidated, tombstones past their time) without touching reference
 * bits.  Entries of older namespace versions are left alone: they stay
 * readable by explicit version until memory pressure makes the evictor
 * reclaim them first.  Expired leases with parked readers promote their
 * oldest reader (woken, PROMOTED); expired leases nobody waits on are freed.
 * Returns the number of entries freed.  Called from a server timer.
 */
size_t rc_store_sweep(rc_store *st, uint64_t now_ms, size_t budget, rc_lease_waiter **woken);

/* ---- leases: stale-while-revalidate and server-side single flight ----------
 *
 * Calls that cancel or satisfy a lease hand back the parked readers they
 * detached through a `woken` list (rc_lease_waiter.next), each carrying its
 * outcome (rc_lease.h).  The caller answers every one of them, on the thread
 * that owns the reader's connection.  Passing woken == NULL is allowed only
 * for callers that never park readers (unit tests of plain operations): the
 * detached readers are then forgotten.
 */

/* Outcome of a lease read. */
enum rc_lget_outcome {
    RC_LGET_HIT = 0, /* value served (fresh or stale); lease says whether this reader refreshes */
    RC_LGET_MISS_GRANTED = 1, /* miss; this reader holds the new lease (token) */
    RC_LGET_MISS_HELD = 2,    /* miss; another reader holds the lease and this one may not wait */
    RC_LGET_PARKED = 3,       /* miss; the waiter was linked to the lease and will be woken */
};

typedef struct rc_store_lease_opts {
    uint32_t lease_ms;        /* lifetime of a lease granted by this call (>= 1) */
    uint32_t max_waiters_key; /* parked readers allowed per key */
    rc_lease_waiter *waiter;  /* caller-owned; parked when the read must wait; NULL = never park */
} rc_store_lease_opts;

typedef struct rc_store_lease_read {
    rc_store_read read;           /* as for rc_store_get (value through the sink on a hit) */
    uint8_t outcome;              /* enum rc_lget_outcome */
    uint8_t lease;                /* RC_LEASE_NONE / RC_LEASE_GRANTED / RC_LEASE_HELD */
    uint8_t token[RC_TOKEN_SIZE]; /* valid when lease == RC_LEASE_GRANTED */
} rc_store_lease_read;

/*
 * rc_store_lget - lease read, atomic with respect to fills of the same key:
 *   fresh   -> HIT; inside the namespace's early-refresh window, one reader
 *              (probabilistically, more likely as expiry nears) also gets a
 *              refresh lease when no live lease exists;
 *   stale   -> HIT with the stale value; the first reader without a live
 *              lease gets GRANTED, the others HELD;
 *   miss    -> MISS_GRANTED when no live lease exists (an expired one is
 *              renewed for this reader, keeping its parked readers), else
 *              PARKED when opts->waiter is given and the per-key and
 *              per-node bounds allow it, else MISS_HELD.
 * Returns 0, RC_ETOO_MANY_WAITERS (nothing parked), RC_ENO_MEMORY (no room
 * for the lease record), or the key/namespace errors of rc_store_get.
 */
int rc_store_lget(rc_store *st, const rc_store_key *key, const rc_store_lease_opts *opts,
                  uint64_t now_ms, rc_value_sink sink, void *sink_ctx, rc_store_lease_read *out);

/*
 * rc_store_unpark - detach a parked reader (its deadline passed, or its
 * connection closed; `outcome` says which, for the counters).  Returns true
 * if this call detached it, so the caller answers (or drops) it now; false
 * if another thread already detached it and is delivering it through a
 * woken list, in which case the caller must wait for that delivery.
 */
bool rc_store_unpark(rc_store *st, rc_lease_waiter *w, uint8_t outcome);

/* Parked readers across the node right now (for STATS and the per-node bound). */
uint64_t rc_store_parked(const rc_store *st);

/* Numbers for tests and STATS. */
typedef struct rc_store_totals {
    uint64_t entries;
    uint64_t bytes_used;
    uint64_t bytes_limit;
    uint64_t evictions;
    uint64_t reclaimed;        /* obsolete entries freed by the hand or sweep */
    uint64_t reclaim_scan_max; /* most ring slots one reclaim step examined (bounded) */
    uint32_t nshards;
    uint32_t tags_live;
    uint64_t suppress_bytes; /* bytes charged for suppression tables (rc_store_list.h) */
} rc_store_totals;

void rc_store_totals_get(rc_store *st, rc_store_totals *out);

/* Size of the per-entry metadata struct, printed by a test so growth is noticed. */
size_t rc_store_entry_overhead(void);

#endif /* RECACHE_RC_STORE_H */
