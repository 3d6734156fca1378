/*
 * rc_lease.c - per-shard lease table (see rc_lease.h for the design).
 *
 * The table is a small chained hash map keyed by the entry hash the store
 * already computed, grown by doubling when it holds more leases than
 * buckets.  Leases are few (one per key being recomputed), so a
 * stop-the-world doubling here is bounded by the number of in-flight
 * recomputations, not by the number of entries.
 */
#define _GNU_SOURCE
#include "rc_lease.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "rc_alloc.h"

#define LEASE_MIN_BUCKETS 16u

size_t rc_lease_charge(size_t key_len)
{
    /* glibc rounds a request plus its size word up to 16 bytes; one bucket slot on top. */
    size_t chunk = (sizeof(rc_lease) + key_len + sizeof(size_t) + 15u) & ~(size_t)15u;
    return chunk + sizeof(rc_lease *);
}

size_t rc_lease_table_bytes(const rc_lease_table *t)
{
    return rc_alloc_usable(t->buckets);
}

/* Fill token with unguessable bytes.  getrandom() on Linux does not fail for
 * 16 bytes once the pool is initialised; a failure is treated as fatal
 * because a predictable token would silently weaken every lease. */
static void rc__fill_token(uint8_t token[RC_TOKEN_SIZE])
{
    size_t got = 0;
    while (got < RC_TOKEN_SIZE) {
        ssize_t n = getrandom(token + got, RC_TOKEN_SIZE - got, 0);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            fputs("recache: getrandom() failed; refusing to issue guessable lease tokens\n",
                  stderr);
            abort();
        }
        got += (size_t)n;
    }
}

static void rc__grow_locked(rc_lease_table *t)
{
    uint32_t n = t->nbuckets ? t->nbuckets * 2 : LEASE_MIN_BUCKETS;
    rc_lease **nb = rc_xcalloc(n, sizeof(*nb));
    for (uint32_t i = 0; i < t->nbuckets; i++) {
        rc_lease *l = t->buckets[i];
        while (l) {
            rc_lease *next = l->chain;
            uint32_t b = (uint32_t)(l->hash & (n - 1));
            l->chain = nb[b];
            nb[b] = l;
            l = next;
        }
    }
    free(t->buckets);
    t->buckets = nb;
    t->nbuckets = n;
}

rc_lease *rc_lease_find_locked(rc_lease_table *t, uint64_t hash, uint16_t ns_id, uint64_t version,
                               const uint8_t *key, size_t key_len)
{
    if (t->nbuckets == 0) {
        return NULL;
    }
    for (rc_lease *l = t->buckets[hash & (t->nbuckets - 1)]; l; l = l->chain) {
        if (l->hash == hash && l->ns_id == ns_id && l->ns_version == version &&
            l->key_len == key_len && memcmp(l->key, key, key_len) == 0) {
            return l;
        }
    }
    return NULL;
}

rc_lease *rc_lease_grant_locked(rc_lease_table *t, uint64_t hash, uint16_t ns_id, uint64_t version,
                                const uint8_t *key, size_t key_len, uint64_t expires_ms,
                                uint64_t ns_current, uint64_t tag_seq)
{
    if (t->count >= t->nbuckets) {
        rc__grow_locked(t);
    }
    rc_lease *l = rc_xmalloc(sizeof(*l) + key_len);
    memset(l, 0, sizeof(*l));
    l->hash = hash;
    l->ns_id = ns_id;
    l->ns_version = version;
    l->key_len = (uint16_t)key_len;
    memcpy(l->key, key, key_len);
    rc_lease_renew_locked(l, expires_ms, ns_current, tag_seq);
    uint32_t b = (uint32_t)(hash & (t->nbuckets - 1));
    l->chain = t->buckets[b];
    t->buckets[b] = l;
    t->count++;
    return l;
}

void rc_lease_renew_locked(rc_lease *l, uint64_t expires_ms, uint64_t ns_current, uint64_t tag_seq)
{
    rc__fill_token(l->token);
    l->expires_ms = expires_ms;
    l->ns_current = ns_current;
    l->tag_seq = tag_seq;
}

/* Detach every waiter of l, returning them as a NULL-terminated FIFO list. */
static rc_lease_waiter *rc__detach_all(rc_lease *l)
{
    rc_lease_waiter *list = l->wait_head;
    for (rc_lease_waiter *w = list; w; w = w->next) {
        w->lease = NULL;
    }
    l->wait_head = l->wait_tail = NULL;
    l->nwaiters = 0;
    return list;
}

rc_lease_waiter *rc_lease_remove_locked(rc_lease_table *t, rc_lease *l)
{
    rc_lease **pp = &t->buckets[l->hash & (t->nbuckets - 1)];
    while (*pp != l) {
        pp = &(*pp)->chain;
    }
    *pp = l->chain;
    t->count--;
    rc_lease_waiter *list = rc__detach_all(l);
    free(l);
    return list;
}

rc_lease_waiter *rc_lease_table_clear_locked(rc_lease_table *t)
{
    rc_lease_waiter *all = NULL, *tail = NULL;
    for (uint32_t i = 0; i < t->nbuckets; i++) {
        while (t->buckets[i]) {
            rc_lease_waiter *list = rc_lease_remove_locked(t, t->buckets[i]);
            if (!list) {
                continue;
            }
            if (tail) {
                tail->next = list;
            } else {
                all = list;
            }
            for (tail = list; tail->next; tail = tail->next) {
            }
        }
    }
    free(t->buckets);
    t->buckets = NULL;
    t->nbuckets = 0;
    return all;
}

bool rc_lease_token_equal(const rc_lease *l, const uint8_t token[RC_TOKEN_SIZE])
{
    /* Constant time, so response timing does not leak how much of a guess matched. */
    uint8_t diff = 0;
    for (size_t i = 0; i < RC_TOKEN_SIZE; i++) {
        diff |= (uint8_t)(l->token[i] ^ token[i]);
    }
    return diff == 0;
}

void rc_lease_park_locked(rc_lease *l, rc_lease_waiter *w)
{
    w->next = NULL;
    w->lease = l;
    if (l->wait_tail) {
        l->wait_tail->next = w;
    } else {
        l->wait_head = w;
    }
    l->wait_tail = w;
    l->nwaiters++;
}

bool rc_lease_unpark_locked(rc_lease_waiter *w)
{
    rc_lease *l = w->lease;
    if (!l) {
        return false;
    }
    rc_lease_waiter *prev = NULL;
    for (rc_lease_waiter *it = l->wait_head; it; prev = it, it = it->next) {
        if (it != w) {
            continue;
        }
        if (prev) {
            prev->next = w->next;
        } else {
            l->wait_head = w->next;
        }
        if (l->wait_tail == w) {
            l->wait_tail = prev;
        }
        l->nwaiters--;
        w->next = NULL;
        w->lease = NULL;
        return true;
    }
    return false;
}

rc_lease_waiter *rc_lease_pop_waiter_locked(rc_lease *l)
{
    rc_lease_waiter *w = l->wait_head;
    if (w) {
        rc_lease_unpark_locked(w);
    }
    return w;
}
