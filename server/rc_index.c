/*
 * rc_index.c - the incrementally grown hash index (see rc_index.h).
 */
#define _POSIX_C_SOURCE 200809L
#include "rc_shard.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "rc_alloc.h"

static rc_entry **rc__bucket(const rc__table *t, uint64_t hash)
{
    return &t->buckets[hash & t->mask];
}

/* Whether e is t's entry (no stored hash to compare first: see rc_entry.h). */
static bool rc__entry_matches(const rc_entry *e, const rc__target *t)
{
    return e->ns_version == t->version && e->ns_id == t->ns->id && e->key_len == t->key_len &&
           memcmp(rc__entry_key_of(e), t->key, t->key_len) == 0;
}

/* rc__index_find_locked - the entry for t, consulting both tables while migrating. */
rc_entry *rc__index_find_locked(const rc__shard *sh, const rc__target *t)
{
    for (int i = 0; i < (sh->rehashing ? 2 : 1); i++)
        for (rc_entry *e = *rc__bucket(&sh->tables[i], t->hash); e; e = e->next)
            if (rc__entry_matches(e, t))
                return e;
    return NULL;
}

/* rc__index_link_locked - the pointer that points at e (it must be indexed). */
static rc_entry **rc__index_link_locked(rc__shard *sh, const rc_entry *e)
{
    uint64_t hash = rc__entry_rehash(sh->seed, e);
    for (int i = 0; i < (sh->rehashing ? 2 : 1); i++)
        for (rc_entry **link = rc__bucket(&sh->tables[i], hash); *link; link = &(*link)->next)
            if (*link == e)
                return link;
    return NULL;
}

void rc__index_insert_locked(rc__shard *sh, rc_entry *e, uint64_t hash)
{
    rc_entry **b = rc__bucket(&sh->tables[sh->rehashing ? 1 : 0], hash);
    e->next = *b;
    *b = e;
}

void rc__index_unlink_locked(rc__shard *sh, rc_entry *e)
{
    rc_entry **link = rc__index_link_locked(sh, e);
    *link = e->next;
}

/* rc__index_replace_locked - put fresh where old is in its chain (same hash). */
void rc__index_replace_locked(rc__shard *sh, rc_entry *old, rc_entry *fresh)
{
    rc_entry **link = rc__index_link_locked(sh, old);
    fresh->next = old->next;
    *link = fresh;
}

/*
 * rc__index_migrate_locked - move up to `buckets` non-empty buckets (visiting
 * at most RC__MIGRATE_VISITS) from tables[0] to tables[1], rehashing each
 * entry moved (bounded: chains average one or two entries); when the last
 * one has moved, free tables[0] and make tables[1] the main table.
 */
void rc__index_migrate_locked(rc__shard *sh, unsigned buckets)
{
    if (!sh->rehashing)
        return;
    rc__table *from = &sh->tables[0], *to = &sh->tables[1];
    for (unsigned visits = 0; buckets > 0 && visits < RC__MIGRATE_VISITS; visits++) {
        if (sh->rehash_pos > from->mask)
            break;
        rc_entry *e = from->buckets[sh->rehash_pos];
        from->buckets[sh->rehash_pos++] = NULL;
        if (e)
            buckets--;
        while (e) {
            rc_entry *next = e->next;
            rc_entry **b = rc__bucket(to, rc__entry_rehash(sh->seed, e));
            e->next = *b;
            *b = e;
            e = next;
        }
    }
    if (sh->rehash_pos > from->mask) {
        size_t bytes = (from->mask + 1u) * sizeof(rc_entry *);
        rc__structure_charge_locked(sh, 0, rc_array_usable(from->buckets, bytes));
        rc_array_free(from->buckets, bytes);
        *from = *to;
        memset(to, 0, sizeof(*to));
        sh->rehashing = false;
    }
}

/*
 * rc__index_maybe_grow_locked - once entries outnumber buckets, start
 * migrating to a table twice the size if its bytes fit the budget.  If they
 * do not, chains are allowed to reach an average of two entries; past that
 * the hand frees room for the new array (a few entries, since an entry is
 * far larger than its 16 bytes of buckets), so lookups stay short in a
 * full shard too.  The entry just inserted sits at the ring's tail, the
 * last one the hand would reach.
 */
void rc__index_maybe_grow_locked(rc_store *st, rc__shard *sh, uint64_t now)
{
    size_t nbuckets = sh->tables[0].mask + 1u;
    if (sh->rehashing || sh->entries <= nbuckets)
        return;
    size_t bytes = 2u * nbuckets * sizeof(rc_entry *);
    size_t estimate = rc_array_estimate(bytes, st->page_size);
    if (sh->used + estimate > sh->budget &&
        (sh->entries <= 2u * nbuckets || !rc__reserve_locked(st, sh, estimate, now)))
        return;
    rc_entry **buckets = rc_xcalloc_array(bytes);
    size_t charge = rc_array_usable(buckets, bytes);
    if (sh->used + charge > sh->budget) {
        rc_array_free(buckets, bytes);
        return;
    }
    rc__structure_charge_locked(sh, charge, 0);
    sh->tables[1].buckets = buckets;
    sh->tables[1].mask = 2u * nbuckets - 1u;
    sh->rehash_pos = 0;
    sh->rehashing = true;
}
