/*
 * rc_suppress.h - one namespace's suppression set: item ids hidden from
 * every list of the namespace.
 *
 * Design.  An open-addressing (linear probing) hash table of records keyed
 * by item id; a lookup is O(1) whatever the number of lists or suppressed
 * items, which is what makes suppression cheap to apply at read time (a
 * list read probes once per item it examines, and a top-N read stops after
 * N survivors).  A record is 24 bytes: the id, the HLC stamp of the change
 * that set it (rc_hlc.h) and the expiry (0 = none) whose top bit marks the
 * record as an unsuppression.  Every change carries a stamp and a record
 * only ever moves to a later stamp (rc_suppress_merge), so replicas that
 * exchange records converge: for one item, the later of a suppression and
 * an unsuppression wins.  Unsuppressions are kept as such records until a
 * rebuild needs their room; a rebuild also drops expired suppressions.
 *
 * Bounds and memory.  At most `max` ids are suppressed at once (a change
 * that would pass it fails with RC_ESUPPRESS_FULL and changes nothing).
 * The table's only allocation, its record array, is charged through the
 * caller's charge hook *before* it is allocated and credited after it is
 * freed, so the store can count it against the memory limit (rc_store_list.h
 * says where).  The table is rebuilt (grown, or compacted) when a change
 * would fill more than 3/4 of it, so its size stays within a small factor
 * of what it holds: at most 2 x 4/3 x max records, rounded up to a power
 * of two.
 *
 * Locking.  A striped reader-writer lock per set: a reader takes the read
 * side of its thread's stripe for a whole list (rc_suppress_read_begin/end),
 * so concurrent readers on different threads touch no shared cache line; a
 * change takes the write side of every stripe, in index order, and during
 * a rebuild calls the charge hook under them (so the set's locks are taken
 * before any shard lock, never after).  The counts are atomics, readable
 * without the lock.
 */
#ifndef RECACHE_RC_SUPPRESS_H
#define RECACHE_RC_SUPPRESS_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct rc_suppress rc_suppress;

/*
 * Charge hook: account `add` more bytes (before they are allocated) and
 * `remove` fewer (after they were freed).  Returns false, charging
 * nothing, when `add` cannot fit.  Called with the set's write lock held;
 * it must not call back into the set.
 */
typedef bool (*rc_suppress_charge_fn)(void *ctx, size_t add, size_t remove);

/* One change: ids (n of them) suppressed until expire_ms (0 = never) or unsuppressed. */
typedef struct rc_suppress_change {
    const uint64_t *ids;
    size_t n;
    uint64_t stamp;     /* HLC stamp of the change (non-zero) */
    uint64_t expire_ms; /* suppressions: absolute expiry on the caller's clock, 0 = never */
    uint64_t now_ms;
    uint32_t max; /* most ids suppressed at once */
    rc_suppress_charge_fn charge;
    void *charge_ctx;
} rc_suppress_change;

/* rc_suppress_create - an empty set (no table yet, nothing charged).  Aborts on OOM. */
rc_suppress *rc_suppress_create(void);

/* rc_suppress_destroy - free s.  Returns the bytes it had charged (for the caller to credit). */
size_t rc_suppress_destroy(rc_suppress *s);

/*
 * rc_suppress_add - suppress every id of c (duplicates allowed), each
 * with c->stamp and c->expire_ms; an id already suppressed gets the new
 * expiry.  All-or-nothing: RC_ESUPPRESS_FULL when the ids suppressed
 * afterwards would pass c->max, RC_ENO_MEMORY when the charge hook refuses
 * a larger table.  *added (may be NULL) = ids that were not suppressed
 * before.  Takes the write lock.
 */
int rc_suppress_add(rc_suppress *s, const rc_suppress_change *c, uint32_t *added);

/*
 * rc_suppress_remove - unsuppress every id of c that is suppressed (its
 * record keeps c->stamp as an unsuppression).  Never allocates.
 * *removed (may be NULL) = ids that were suppressed.  Returns 0.
 */
int rc_suppress_remove(rc_suppress *s, const rc_suppress_change *c, uint32_t *removed);

/*
 * rc_suppress_merge - apply one replicated record (id, stamp, suppressed
 * or not, expiry) if its stamp is later than the record held for id (or
 * none is held): the rule anti-entropy merges by.  Returns 1 if applied,
 * 0 if the held record is as late or later, or the errors of
 * rc_suppress_add.  c->ids/n are ignored.
 */
int rc_suppress_merge(rc_suppress *s, const rc_suppress_change *c, uint64_t id, bool suppressed);

/*
 * rc_suppress_read_begin / end - hold the read side (of the calling thread's
 * stripe, which begin returns and end takes back) around
 * rc_suppress_hidden_locked calls.
 */
unsigned rc_suppress_read_begin(rc_suppress *s);
void rc_suppress_read_end(rc_suppress *s, unsigned stripe);

/* rc_suppress_hidden_locked - id is suppressed and its suppression has not expired at now_ms. */
bool rc_suppress_hidden_locked(const rc_suppress *s, uint64_t id, uint64_t now_ms);

/* rc_suppress_active - suppressions held (expired ones included until a rebuild drops them). */
uint64_t rc_suppress_active(const rc_suppress *s);

/* rc_suppress_bytes - bytes the set has charged (its record array). */
size_t rc_suppress_bytes(const rc_suppress *s);

/*
 * rc_suppress_snapshot - the live suppressions (not expired at now_ms) as
 * RC_SUPPRESSION_SIZE-byte wire records (id, remaining TTL, stamp) into
 * buf, at most cap / RC_SUPPRESSION_SIZE of them.  Returns how many.
 * Takes the read lock.
 */
size_t rc_suppress_snapshot(rc_suppress *s, uint64_t now_ms, uint8_t *buf, size_t cap);

#endif /* RECACHE_RC_SUPPRESS_H */
