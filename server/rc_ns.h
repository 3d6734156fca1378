/*
 * rc_ns.h - namespaces: the registry, versions, settings and counters.
 *
 * Design.  A namespace has a small id (u16) that entries store instead of
 * the name, an atomic current version (starting at 1; a bump is one atomic
 * max, so O(1) whatever the number of entries), settings and counters.
 * Namespaces are created by writes (and lease reads, whose fill would
 * create them anyway), never by plain reads.  The registry is an
 * open-addressing table of atomic pointers with a fixed capacity (twice
 * max_namespaces), filled under a mutex and published with release stores.
 * A namespace that is empty (no entries, no leases), was never configured
 * and is still at version 1 carries no state at all, so it can be
 * reclaimed (rc_ns_reclaim) when the registry is full; one at a higher
 * version is kept, so a version never moves back.  Lookups stay lock-free
 * but for one striped reader lock that makes reclamation safe (rc_ns.c).
 *
 * Settings (the RC_NS_SETTINGS table) are atomics, so rc_ns_configure may run
 * while requests read them.  Counters (RC_NS_COUNTERS) are relaxed atomics
 * split into RC_NS_STRIPES cache-line-sized stripes; a caller passes a
 * stripe number (the store uses its shard index) so threads working on
 * different shards do not bounce one cache line.  Reading a counter sums the
 * stripes.  Gauges (entries, bytes) are counters that also go down; their
 * stripes wrap modulo 2^64 and the sum is exact.
 */
#ifndef RECACHE_RC_NS_H
#define RECACHE_RC_NS_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "rc_hash.h"

#define RC_NS_MAX_NAME 255u
#define RC_NS_STRIPES  16u /* power of two */
#define RC_NS_MAX_IDS  65536u

/*
 * The highest namespace version.  Versions saturate here instead of
 * wrapping (a wrap would make "current" 0 and pin the namespace); requests
 * naming a higher version are refused.  2^53 - 1 keeps every version exact
 * in JSON numbers and doubles, whatever reads it.
 */
#define RC_NS_VERSION_MAX ((UINT64_C(1) << 53) - 1u)

/* Settings: X(ID, "name", default, min, max, "help").  Values are u64. */
#define RC_NS_SETTINGS(X)                                                                          \
    X(DEFAULT_TTL, "default-ttl", 0, 0, UINT32_MAX,                                                \
      "TTL in ms for sets that give none (0 = no expiry)")                                         \
    X(STALE, "stale", 0, 0, UINT32_MAX - 1u,                                                       \
      "stale window in ms after expiry for sets that give none")                                   \
    X(EARLY_REFRESH, "early-refresh", 0, 0, UINT32_MAX,                                            \
      "ms before expiry during which a lease read hands out one refresh lease")                    \
    X(TTL_JITTER, "ttl-jitter", 0, 0, 50,                                                          \
      "percent: each set's TTL is reduced by a uniformly random 0..jitter percent")                \
    X(MAX_VALUE, "max-value", 0, 0, UINT32_MAX,                                                    \
      "largest value in bytes (0 = the global limit, which also caps this)")

/* Counters: X(ID, "name", "help"). */
#define RC_NS_COUNTERS(X)                                                                          \
    X(HITS, "hits", "reads served fresh")                                                          \
    X(MISSES, "misses", "reads that found nothing servable")                                       \
    X(STALE_HITS, "stale_hits", "reads served stale")                                              \
    X(SETS, "sets", "writes stored")                                                               \
    X(REJECTED_EXISTS, "rejected_exists", "only-if-absent writes rejected")                        \
    X(REJECTED_NOT_NEWER, "rejected_not_newer", "only-if-newer writes rejected")                   \
    X(REJECTED_CAS, "rejected_cas", "compare-and-swap writes rejected")                            \
    X(EVICTIONS, "evictions", "live entries evicted by the CLOCK hand")                            \
    X(EXPIRATIONS, "expirations", "expired entries reclaimed")                                     \
    X(INVALIDATIONS_HARD, "invalidations_hard", "keys deleted or hard-invalidated")                \
    X(INVALIDATIONS_SOFT, "invalidations_soft", "keys soft-invalidated")                           \
    X(BUMPS, "bumps", "version bumps that moved the current version")                              \
    X(LEASES_GRANTED, "leases_granted", "leases handed out (miss, stale or early refresh)")        \
    X(LEASE_EXPIRIES, "lease_expiries", "leases that expired before their fill")                   \
    X(LEASE_PROMOTIONS, "lease_promotions", "parked readers promoted to lease holder")             \
    X(WAITS, "waits", "lease reads parked until the value arrives")                                \
    X(WAITS_SERVED, "waits_served", "parked reads answered with a stored value")                   \
    X(WAIT_TIMEOUTS, "wait_timeouts", "parked reads whose deadline passed")                        \
    X(WAITS_ABANDONED, "waits_abandoned", "parked reads whose connection closed")                  \
    X(FILLS_ACCEPTED, "fills_accepted", "lease fills stored")                                      \
    X(FILLS_REJECTED_LEASE, "fills_rejected_lease", "fills whose lease was gone or replaced")      \
    X(FILLS_REJECTED_BUMP, "fills_rejected_bump", "fills after a namespace bump")                  \
    X(FILLS_REJECTED_TAG, "fills_rejected_tag",                                                    \
      "fills carrying a tag invalidated since the grant")                                          \
    X(ENTRIES, "entries", "entries held, tombstones included (gauge)")                             \
    X(BYTES, "bytes", "bytes charged for those entries (gauge)")                                   \
    X(LEASES, "leases", "leases outstanding (gauge)")                                              \
    X(LIST_ITEMS_REMOVED, "list_items_removed", "items removed from lists in place")               \
    X(LIST_ITEMS_HIDDEN, "list_items_hidden",                                                      \
      "items list reads left out because the namespace suppresses them")                           \
    X(SUPPRESSIONS, "suppressions", "item ids newly suppressed")                                   \
    X(UNSUPPRESSIONS, "unsuppressions", "item ids unsuppressed")

enum rc_ns_setting {
#define RC__NS_SET_ENUM(id, name, def, lo, hi, help) RC_NS_SET_##id,
    RC_NS_SETTINGS(RC__NS_SET_ENUM)
#undef RC__NS_SET_ENUM
        RC_NS_NSETTINGS
};

enum rc_ns_counter {
#define RC__NS_CTR_ENUM(id, name, help) RC_NS_CTR_##id,
    RC_NS_COUNTERS(RC__NS_CTR_ENUM)
#undef RC__NS_CTR_ENUM
        RC_NS_NCOUNTERS
};

/*
 * Served-age histogram: how old (wall-clock ms since its write, from the
 * entry's HLC stamp) each value served by a read was.  Bucket i counts ages
 * <= RC_NS_AGE_BOUNDS_MS[i] and above the previous bound (not cumulative);
 * the last bucket counts the rest.  Kept per stripe like the counters.
 */
#define RC_NS_AGE_NBOUNDS 10u
extern const uint64_t RC_NS_AGE_BOUNDS_MS[RC_NS_AGE_NBOUNDS];

/* One stripe of counters, alone on its cache line(s). */
struct rc_suppress; /* rc_suppress.h */

typedef struct rc_ns_stripe {
    _Alignas(64) _Atomic uint64_t v[RC_NS_NCOUNTERS];
    _Atomic uint64_t age[RC_NS_AGE_NBOUNDS + 1u]; /* served-age buckets (see above) */
    _Atomic uint64_t age_sum_ms;                  /* sum of the ages counted in age[] */
} rc_ns_stripe;

/* A namespace.  Immutable after creation except for the atomics. */
typedef struct rc_ns {
    rc_ns_stripe stripes[RC_NS_STRIPES];
    _Atomic uint64_t version; /* current version, only moves up */
    _Atomic uint64_t settings[RC_NS_NSETTINGS];
    _Atomic bool configured; /* set once configured: such a namespace is never reclaimed */
    /* Suppression set (rc_suppress.h), created on first use and freed with the namespace;
     * a namespace that has one is never reclaimed. */
    _Atomic(struct rc_suppress *) suppress;
    void *alloc; /* the raw allocation this struct was aligned inside */
    uint16_t id;
    uint8_t name_len;
    uint8_t name[RC_NS_MAX_NAME + 1]; /* NUL-terminated for reports */
} rc_ns;

typedef struct rc_ns_registry rc_ns_registry;

/*
 * rc_ns_registry_create - a registry for at most max namespaces (1..65536;
 * RC_EINVAL otherwise).  Aborts on OOM.
 */
int rc_ns_registry_create(uint32_t max, const rc_hash_key *seed, rc_ns_registry **out);

/* rc_ns_registry_destroy - free every namespace.  Nothing else may use the registry. */
void rc_ns_registry_destroy(rc_ns_registry *reg);

/* rc_ns_find - the namespace named name, or NULL.  Lock-free. */
rc_ns *rc_ns_find(const rc_ns_registry *reg, const uint8_t *name, size_t len);

/*
 * rc_ns_get_or_create - find or create the namespace.  Returns 0 and *out,
 * RC_EBAD_NAMESPACE (name empty or over 255 bytes) or
 * RC_ETOO_MANY_NAMESPACES.  Creation takes the registry mutex.
 */
int rc_ns_get_or_create(rc_ns_registry *reg, const uint8_t *name, size_t len, rc_ns **out);

/* rc_ns_by_id - the namespace with this id (the caller got the id from one). Lock-free. */
rc_ns *rc_ns_by_id(const rc_ns_registry *reg, uint16_t id);

/* rc_ns_registry_count - namespaces that exist now. */
uint32_t rc_ns_registry_count(const rc_ns_registry *reg);

/* rc_ns_registry_reclaimed - namespaces reclaimed so far. */
uint64_t rc_ns_registry_reclaimed(const rc_ns_registry *reg);

/*
 * rc_ns_enter / rc_ns_leave - hold the read side of this thread's stripe of
 * the registry's reader lock.  Every caller that uses a namespace pointer
 * (or an id) must hold it from lookup to last use; holds do not nest.
 */
void rc_ns_enter(rc_ns_registry *reg);
void rc_ns_leave(rc_ns_registry *reg);

/* rc_ns_reclaimable - empty (no entries, no leases, no suppression set), never configured, at
 * version 1. */
bool rc_ns_reclaimable(const rc_ns *ns);

/*
 * rc_ns_reclaim - free every reclaimable namespace (their ids are reused).
 * Takes every stripe's write side, so the caller must not hold one.
 * Returns the number freed.  O(max_namespaces); run only when the registry
 * is full.
 */
uint32_t rc_ns_reclaim(rc_ns_registry *reg);

static inline uint64_t rc_ns_version(const rc_ns *ns)
{
    return atomic_load_explicit(&ns->version, memory_order_acquire);
}

/*
 * rc_ns_advance - make `to` (0 = current + 1) the current version if it is
 * higher (atomic max).  *now_version receives the resulting current version.
 * Returns true when the version moved.  Counts a bump when it did.  The
 * version saturates at RC_NS_VERSION_MAX (callers refuse higher targets).
 */
bool rc_ns_advance(rc_ns *ns, uint64_t to, uint64_t *now_version);

static inline uint64_t rc_ns_setting(const rc_ns *ns, enum rc_ns_setting s)
{
    return atomic_load_explicit(&ns->settings[s], memory_order_relaxed);
}

/* rc_ns_count - add delta (may be a negated value for gauges) to a counter in one stripe. */
static inline void rc_ns_count(rc_ns *ns, unsigned stripe, enum rc_ns_counter c, uint64_t delta)
{
    atomic_fetch_add_explicit(&ns->stripes[stripe & (RC_NS_STRIPES - 1u)].v[c], delta,
                              memory_order_relaxed);
}

/* rc_ns_counter - the sum of a counter over all stripes. */
uint64_t rc_ns_counter(const rc_ns *ns, enum rc_ns_counter c);

/* rc_ns_observe_age - count one value served age_ms after it was written.  Lock-free. */
void rc_ns_observe_age(rc_ns *ns, unsigned stripe, uint64_t age_ms);

/*
 * rc_ns_ages - the served-age histogram summed over stripes: buckets[i] as
 * described at RC_NS_AGE_BOUNDS_MS (RC_NS_AGE_NBOUNDS + 1 of them), *sum_ms
 * the sum of the ages.  Relaxed loads: totals may be a few reads stale.
 */
void rc_ns_ages(const rc_ns *ns, uint64_t buckets[RC_NS_AGE_NBOUNDS + 1u], uint64_t *sum_ms);

/*
 * rc_ns_registry_foreach - call fn for every namespace that exists, in id
 * order.  The caller holds rc_ns_enter for the whole call (so none can be
 * reclaimed under it); fn must not enter again nor create namespaces.
 */
void rc_ns_registry_foreach(const rc_ns_registry *reg, void (*fn)(void *ctx, const rc_ns *ns),
                            void *ctx);

/*
 * rc_ns_configure - apply "name=value" items (separated by spaces, tabs or
 * newlines; names from RC_NS_SETTINGS; values decimal).  All-or-nothing: on
 * an unknown name, a malformed item, an out-of-range value or a max-value
 * above max_value_limit (the server's own limit) nothing is
 * applied, a sentence goes into err (if errlen > 0) and RC_EBAD_ARGUMENT is
 * returned.  ns NULL validates without applying (so a caller can refuse a
 * bad request before creating the namespace).  Safe to run concurrently
 * with readers.
 */
int rc_ns_configure(rc_ns *ns, const uint8_t *text, size_t len, uint64_t max_value_limit, char *err,
                    size_t errlen);

/*
 * rc_ns_info - "version N", every setting, every counter, then the
 * suppression set's "suppressed" and "suppress_bytes" (rc_suppress.h), one
 * "name value\n" line each, into buf.  Returns the length written, truncated
 * to cap (NUL-terminated when there is room).
 */
long rc_ns_info(const rc_ns *ns, char *buf, size_t cap);

/*
 * rc_ns_text_line - append "name value\n" to buf at *pos without passing
 * cap; the store's global statistics use it too, so both reports share one
 * format.  Truncation keeps as many bytes as fit.
 */
void rc_ns_text_line(char *buf, size_t cap, size_t *pos, const char *name, uint64_t value);

#endif /* RECACHE_RC_NS_H */
