/*
 * rc_lease.h - per-shard lease records: who may fill a key, and who is
 * parked waiting for that fill.
 *
 * Design.  A lease exists for a key (namespace id, namespace version, key
 * bytes) while one reader is recomputing its value.  Each store shard owns
 * one rc_lease_table and calls these functions under its own shard mutex:
 * that is what makes "look up the entry, then grant a lease" and "store the
 * fill, then release the lease and its waiters" atomic with respect to each
 * other, so a herd of readers produces exactly one lease.  Nothing here
 * locks.  Every function that touches a table carries the _locked suffix.
 *
 * Tokens are 16 bytes from getrandom(): unguessable per lease, so a client
 * can only fill with a token it was handed.  A lease also remembers what it
 * was granted against (the namespace's current version and the node's tag
 * invalidation sequence) so a fill that arrives after a bump or a tag
 * invalidation is recognised as late, without walking any list at
 * invalidation time.
 *
 * Waiters are intrusive: the server embeds an rc_lease_waiter in its own
 * parked-request struct.  A waiter is either linked to a lease (w->lease !=
 * NULL) or detached; detaching hands ownership of the answer to whoever
 * detached it, which is how a timeout, a disconnect and a fill racing on the
 * same waiter are settled: the one that detaches it under the shard lock
 * answers it, the others do nothing.
 *
 * Memory: a lease record is charged to its shard like an entry
 * (rc_lease_charge) and cannot be evicted.  The store's sweep frees leases
 * that expired with nobody waiting (and promotes a waiter of the others), so
 * abandoned leases cannot accumulate.
 */
#ifndef RECACHE_RC_LEASE_H
#define RECACHE_RC_LEASE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "recache/rc_proto.h"

struct rc_lease;

/* How a detached waiter must be answered (set by whoever detached it). */
enum rc_waiter_outcome {
    RC_WAITER_PARKED = 0,    /* still linked to a lease */
    RC_WAITER_RELEASED = 1,  /* a value was stored: answer with it (the storer has it) */
    RC_WAITER_PROMOTED = 2,  /* the lease was cancelled or expired: this waiter now holds it */
    RC_WAITER_CANCELLED = 3, /* the lease vanished (flush): answer MISS so the reader retries */
    RC_WAITER_TIMED_OUT = 4, /* unparked by its deadline */
    RC_WAITER_ABANDONED = 5, /* unparked because its connection closed */
};

typedef struct rc_lease_waiter {
    struct rc_lease_waiter *next; /* FIFO order within one lease; then the woken list */
    struct rc_lease *lease;       /* the lease waited on; NULL once detached */
    uint32_t shard;               /* shard index, so the waiter can be found again to unpark */
    uint16_t ns_id;               /* namespace, for its counters */
    uint8_t outcome;              /* enum rc_waiter_outcome */
    uint64_t ns_version;          /* PROMOTED: the version the lease fills */
    uint8_t token[RC_TOKEN_SIZE]; /* PROMOTED: the new lease token */
} rc_lease_waiter;

typedef struct rc_lease {
    struct rc_lease *chain; /* hash chain within the table */
    uint64_t hash;
    uint64_t ns_version; /* version the lease fills */
    uint64_t ns_current; /* namespace's current version when granted */
    uint64_t tag_seq;    /* node's tag invalidation sequence when granted */
    uint64_t expires_ms; /* after this, the next reader may take a new lease */
    rc_lease_waiter *wait_head;
    rc_lease_waiter *wait_tail;
    uint32_t nwaiters;
    uint32_t duration_ms; /* lifetime given at grant, reused when a waiter is promoted */
    uint16_t ns_id;
    uint16_t key_len;
    uint8_t token[RC_TOKEN_SIZE];
    uint8_t key[]; /* key_len bytes */
} rc_lease;

typedef struct rc_lease_table {
    rc_lease **buckets; /* power-of-two array, NULL until the first lease */
    uint32_t nbuckets;
    uint32_t count;
} rc_lease_table;

/* What a lease of this key length is charged against the shard budget (its allocation, rounded
 * up the way malloc does, plus a bucket slot). */
size_t rc_lease_charge(size_t key_len);

/* Bytes the table's bucket array holds as allocated (charged to the shard as well). */
size_t rc_lease_table_bytes(const rc_lease_table *t);

/* Free every lease; waiters still linked are detached and returned as a list (caller answers them).
 */
rc_lease_waiter *rc_lease_table_clear_locked(rc_lease_table *t);

/* Find the lease for a key, expired or not; NULL if none. */
rc_lease *rc_lease_find_locked(rc_lease_table *t, uint64_t hash, uint16_t ns_id, uint64_t version,
                               const uint8_t *key, size_t key_len);

/*
 * rc_lease_grant_locked - create a lease with a fresh random token.  The
 * caller has checked that no lease exists for the key (or removed an expired
 * one) and that the shard budget has room for rc_lease_charge(key_len).
 * Aborts (through rc_xmalloc) only when the process is out of memory.
 */
rc_lease *rc_lease_grant_locked(rc_lease_table *t, uint64_t hash, uint16_t ns_id, uint64_t version,
                                const uint8_t *key, size_t key_len, uint64_t expires_ms,
                                uint64_t ns_current, uint64_t tag_seq);

/*
 * rc_lease_remove_locked - unlink and free a lease.  Its waiters are detached
 * and returned (FIFO order); the caller now owns answering them.
 */
rc_lease_waiter *rc_lease_remove_locked(rc_lease_table *t, rc_lease *l);

/* Constant-time comparison of a fill's token with the lease's. */
bool rc_lease_token_equal(const rc_lease *l, const uint8_t token[RC_TOKEN_SIZE]);

/* Append a waiter to the lease (caller enforces the per-key and per-node bounds). */
void rc_lease_park_locked(rc_lease *l, rc_lease_waiter *w);

/*
 * rc_lease_unpark_locked - detach w if it is still linked.  Returns true if
 * this call detached it (the caller answers it), false if someone else
 * already did (their answer is on its way).
 */
bool rc_lease_unpark_locked(rc_lease_waiter *w);

/*
 * rc_lease_pop_waiter_locked - detach and return the oldest waiter of l, or
 * NULL.  Used to promote a waiter to lease holder when a lease is cancelled.
 */
rc_lease_waiter *rc_lease_pop_waiter_locked(rc_lease *l);

/* Give l a new random token and expiry (used when a waiter is promoted). */
void rc_lease_renew_locked(rc_lease *l, uint64_t expires_ms, uint64_t ns_current, uint64_t tag_seq);

#endif /* RECACHE_RC_LEASE_H */
