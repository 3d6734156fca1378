/*
 * rc_tags.c - the node-wide tag table (see rc_tags.h for the model).
 *
 * Layout.  Records sit in chunks of RC__CHUNK records; a directory of chunk
 * pointers, sized at creation from max_records, is never reallocated, so a
 * record's address is fixed for the table's lifetime and a lock-free reader
 * only needs an acquire load of the chunk pointer.  Names are found through
 * a chained hash index of ids (u32 bucket heads, u32 next links inside the
 * records), keyed SipHash so clients cannot flood one chain.  Freed ids go on
 * a free list threaded through the same next link and are reused first, so
 * the chunks in use stay dense.
 *
 * Locking.  t->lock protects the index, the free list, reference counts,
 * names, the live count and the per-bucket memory of forgotten names.
 * Stamps are atomics written under the lock and read without it; chunk
 * pointers are published with a release store under the lock.  The lock is
 * a leaf: nothing here calls out while holding it (the clock is a lock-free
 * atomic).  Stamps handed out under the lock (invalidations, write stamps)
 * are therefore ordered like the lock holds that took them.
 */
#include "rc_tags.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "rc_alloc.h"

#define RC__CHUNK_BITS      10u
#define RC__CHUNK           (1u << RC__CHUNK_BITS)
#define RC__NO_ID           UINT32_MAX
#define RC__INITIAL_BUCKETS 64u
#define RC__FORGOTTEN       256u
/*
 * Allowance per reference on top of the record and the name bytes: the
 * allocator's header and rounding for the separately allocated name (at most
 * 8 + 15 bytes with glibc, 32 with a minimum-size chunk) and the record's
 * share of the bucket array (at most two u32 heads per record).
 */
#define RC__NAME_OVERHEAD 48u

typedef struct rc__tag_record {
    _Atomic uint64_t any;  /* stamp of the newest invalidation of any mode */
    _Atomic uint64_t hard; /* stamp of the newest hard invalidation */
    uint32_t refcount;     /* entries carrying the tag; under the lock */
    uint32_t next;         /* next id in the bucket chain or the free list */
    uint64_t last_seq;     /* node sequence of the latest invalidation; under the lock */
    uint64_t hash;         /* of the name, for the index */
    uint8_t *name;         /* NULL while the record is free */
    uint8_t name_len;
} rc__tag_record;

struct rc_tags {
    pthread_mutex_t lock; /* protects everything below but the stamps (see file comment) */
    rc_hash_key seed;
    rc_hlc *clock;                     /* the store's; stamps taken under the lock */
    _Atomic(rc__tag_record *) *chunks; /* [nchunks], each set once */
    uint32_t nchunks;
    uint32_t max_records;
    uint32_t high_water; /* ids below this were handed out at least once */
    uint32_t free_head;  /* free list of ids, RC__NO_ID terminated */
    uint32_t live;
    uint32_t *buckets;    /* chain heads (ids), RC__NO_ID when empty */
    _Atomic uint64_t seq; /* invalidations so far (written under the lock, read lock-free) */
    /* Newest invalidation not remembered by a live record, per name-hash
     * bucket, so forgetting one name rarely taints the judgement of another. */
    uint64_t forgotten_seq[RC__FORGOTTEN];
    /* Newest stamps (hard, any) of invalidations of names without a record,
     * per bucket: a merge that does not raise them brings no news to relay. */
    uint64_t forgotten_hard[RC__FORGOTTEN];
    uint64_t forgotten_any[RC__FORGOTTEN];
    uint32_t bucket_mask;
};

static rc__tag_record *rc__record(const rc_tags *t, uint32_t id)
{
    rc__tag_record *chunk =
        atomic_load_explicit(&t->chunks[id >> RC__CHUNK_BITS], memory_order_acquire);
    return &chunk[id & (RC__CHUNK - 1u)];
}

rc_tags *rc_tags_create(uint64_t max_records, const rc_hash_key *seed, rc_hlc *clock)
{
    rc_tags *t = rc_xcalloc(1, sizeof(*t));
    t->clock = clock;
    if (max_records < RC__CHUNK)
        max_records = RC__CHUNK;
    if (max_records > UINT32_MAX - 1u)
        max_records = UINT32_MAX - 1u;
    pthread_mutex_init(&t->lock, NULL);
    t->seed = *seed;
    t->max_records = (uint32_t)max_records;
    t->nchunks = (uint32_t)((max_records + RC__CHUNK - 1u) >> RC__CHUNK_BITS);
    t->chunks = rc_xcalloc(t->nchunks, sizeof(*t->chunks));
    t->free_head = RC__NO_ID;
    t->buckets = rc_xmalloc(RC__INITIAL_BUCKETS * sizeof(uint32_t));
    memset(t->buckets, 0xff, RC__INITIAL_BUCKETS * sizeof(uint32_t));
    t->bucket_mask = RC__INITIAL_BUCKETS - 1u;
    return t;
}

void rc_tags_destroy(rc_tags *t)
{
    if (!t)
        return;
    for (uint32_t id = 0; id < t->high_water; id++)
        free(rc__record(t, id)->name);
    for (uint32_t c = 0; c < t->nchunks; c++)
        free(atomic_load_explicit(&t->chunks[c], memory_order_relaxed));
    free(t->chunks);
    free(t->buckets);
    pthread_mutex_destroy(&t->lock);
    free(t);
}

size_t rc_tags_charge(size_t name_len)
{
    return sizeof(rc__tag_record) + name_len + RC__NAME_OVERHEAD;
}

/* rc__find_locked - id of the live record named name, or RC__NO_ID. */
static uint32_t rc__find_locked(const rc_tags *t, uint64_t hash, const uint8_t *name, size_t len)
{
    for (uint32_t id = t->buckets[hash & t->bucket_mask]; id != RC__NO_ID;) {
        const rc__tag_record *r = rc__record(t, id);
        if (r->hash == hash && r->name_len == len && memcmp(r->name, name, len) == 0)
            return id;
        id = r->next;
    }
    return RC__NO_ID;
}

/*
 * rc__grow_index_locked - double the bucket array once records outnumber
 * buckets.  A full rehash under the lock is acceptable here: it only runs
 * when a new name is added (never on invalidation) and its cost is amortised
 * over the doubling.
 */
static void rc__grow_index_locked(rc_tags *t)
{
    uint32_t nbuckets = (t->bucket_mask + 1u) * 2u;
    uint32_t *buckets = rc_xmalloc(nbuckets * sizeof(uint32_t));
    memset(buckets, 0xff, nbuckets * sizeof(uint32_t));
    for (uint32_t id = 0; id < t->high_water; id++) {
        rc__tag_record *r = rc__record(t, id);
        if (!r->name)
            continue;
        uint32_t b = (uint32_t)(r->hash & (nbuckets - 1u));
        r->next = buckets[b];
        buckets[b] = id;
    }
    free(t->buckets);
    t->buckets = buckets;
    t->bucket_mask = nbuckets - 1u;
}

/* rc__alloc_id_locked - a free id with its chunk allocated, or RC__NO_ID when exhausted. */
static uint32_t rc__alloc_id_locked(rc_tags *t)
{
    if (t->free_head != RC__NO_ID) {
        uint32_t id = t->free_head;
        t->free_head = rc__record(t, id)->next;
        return id;
    }
    if (t->high_water >= t->max_records)
        return RC__NO_ID;
    uint32_t id = t->high_water++;
    uint32_t c = id >> RC__CHUNK_BITS;
    if (!atomic_load_explicit(&t->chunks[c], memory_order_relaxed))
        atomic_store_explicit(&t->chunks[c], rc_xcalloc(RC__CHUNK, sizeof(rc__tag_record)),
                              memory_order_release);
    return id;
}

/* rc__create_locked - a fresh record (stamps 0, no references) for name; RC__NO_ID if full. */
static uint32_t rc__create_locked(rc_tags *t, uint64_t hash, const uint8_t *name, size_t len)
{
    uint32_t id = rc__alloc_id_locked(t);
    if (id == RC__NO_ID)
        return RC__NO_ID;
    rc__tag_record *r = rc__record(t, id);
    atomic_store_explicit(&r->any, 0, memory_order_relaxed);
    atomic_store_explicit(&r->hard, 0, memory_order_relaxed);
    r->refcount = 0;
    /* A new record inherits what the table forgot: the name may be one whose
     * invalidation was remembered only by a record since freed. */
    r->last_seq = t->forgotten_seq[hash % RC__FORGOTTEN];
    r->hash = hash;
    r->name = rc_xmalloc(len);
    memcpy(r->name, name, len);
    r->name_len = (uint8_t)len;
    uint32_t b = (uint32_t)(hash & t->bucket_mask);
    r->next = t->buckets[b];
    t->buckets[b] = id;
    if (++t->live > t->bucket_mask + 1u)
        rc__grow_index_locked(t);
    return id;
}

/* rc__free_locked - unlink a record whose last reference went and put its id on the free list. */
static void rc__free_locked(rc_tags *t, uint32_t id)
{
    rc__tag_record *r = rc__record(t, id);
    uint32_t *link = &t->buckets[r->hash & t->bucket_mask];
    while (*link != id)
        link = &rc__record(t, *link)->next;
    *link = r->next;
    uint32_t b = (uint32_t)(r->hash % RC__FORGOTTEN);
    if (r->last_seq > t->forgotten_seq[b])
        t->forgotten_seq[b] = r->last_seq;
    uint64_t hard = atomic_load_explicit(&r->hard, memory_order_relaxed);
    uint64_t any = atomic_load_explicit(&r->any, memory_order_relaxed);
    if (hard > t->forgotten_hard[b])
        t->forgotten_hard[b] = hard;
    if (any > t->forgotten_any[b])
        t->forgotten_any[b] = any;
    free(r->name);
    r->name = NULL;
    r->next = t->free_head;
    t->free_head = id;
    t->live--;
}

/* rc__release_locked - drop one reference; returns the charge it stood for. */
static size_t rc__release_locked(rc_tags *t, uint32_t id)
{
    rc__tag_record *r = rc__record(t, id);
    size_t charge = rc_tags_charge(r->name_len);
    if (--r->refcount == 0)
        rc__free_locked(t, id);
    return charge;
}

/* rc__invalidated_since_locked - whether name was invalidated after sequence seq (see header). */
static bool rc__invalidated_since_locked(const rc_tags *t, rc_slice name, uint64_t seq)
{
    uint64_t hash = rc_hash_bytes(&t->seed, name.ptr, name.len);
    uint32_t id = rc__find_locked(t, hash, name.ptr, name.len);
    uint64_t last =
        id == RC__NO_ID ? t->forgotten_seq[hash % RC__FORGOTTEN] : rc__record(t, id)->last_seq;
    return last > seq;
}

int rc_tags_acquire_since(rc_tags *t, const rc_slice *names, size_t n, rc_tag_ref *refs,
                          uint64_t since, uint64_t *stamp)
{
    pthread_mutex_lock(&t->lock);
    for (size_t i = 0; since != RC_TAGS_ANY_SEQ && i < n; i++) {
        if (rc__invalidated_since_locked(t, names[i], since)) {
            pthread_mutex_unlock(&t->lock);
            return RC_ELEASE_REJECTED;
        }
    }
    for (size_t i = 0; i < n; i++) {
        uint64_t hash = rc_hash_bytes(&t->seed, names[i].ptr, names[i].len);
        uint32_t id = rc__find_locked(t, hash, names[i].ptr, names[i].len);
        if (id == RC__NO_ID)
            id = rc__create_locked(t, hash, names[i].ptr, names[i].len);
        if (id == RC__NO_ID) {
            while (i-- > 0)
                rc__release_locked(t, refs[i].id);
            pthread_mutex_unlock(&t->lock);
            return RC_ENO_MEMORY;
        }
        rc__record(t, id)->refcount++;
        refs[i].id = id;
    }
    /* Under the lock, after the references: see rc_tags.h (why stamps). */
    *stamp = rc_hlc_now(t->clock);
    pthread_mutex_unlock(&t->lock);
    return 0;
}

int rc_tags_acquire(rc_tags *t, const rc_slice *names, size_t n, rc_tag_ref *refs, uint64_t *stamp)
{
    return rc_tags_acquire_since(t, names, n, refs, RC_TAGS_ANY_SEQ, stamp);
}

size_t rc_tags_release(rc_tags *t, const rc_tag_ref *refs, size_t n)
{
    size_t charge = 0;
    pthread_mutex_lock(&t->lock);
    for (size_t i = 0; i < n; i++)
        charge += rc__release_locked(t, refs[i].id);
    pthread_mutex_unlock(&t->lock);
    return charge;
}

enum rc_tag_verdict rc_tags_judge(const rc_tags *t, const rc_tag_ref *refs, size_t n,
                                  uint64_t written)
{
    enum rc_tag_verdict verdict = RC_TAG_VALID;
    for (size_t i = 0; i < n; i++) {
        rc__tag_record *r = rc__record(t, refs[i].id);
        if (atomic_load_explicit(&r->hard, memory_order_acquire) > written)
            return RC_TAG_HARD;
        if (atomic_load_explicit(&r->any, memory_order_acquire) > written)
            verdict = RC_TAG_SOFT;
    }
    return verdict;
}

/* rc__raise_locked - store v into *a if it is larger; returns whether it did.  Under the lock. */
static bool rc__raise_locked(_Atomic uint64_t *a, uint64_t v)
{
    if (atomic_load_explicit(a, memory_order_relaxed) >= v)
        return false;
    atomic_store_explicit(a, v, memory_order_release);
    return true;
}

/* rc__raise_plain_locked - the same for a plain field under the lock. */
static bool rc__raise_plain_locked(uint64_t *a, uint64_t v)
{
    if (*a >= v)
        return false;
    *a = v;
    return true;
}

/*
 * rc__apply_locked - raise name's stamps to (hard, any) (hard 0 = soft) and
 * move the sequence when anything went up.  The hard stamp is stored before
 * `any` so that a concurrent reader never judges a hard invalidation as
 * merely soft.  Returns the RC_TAGS_RAISED_* bits; *known tells whether a
 * record existed.
 */
static unsigned rc__apply_locked(rc_tags *t, const uint8_t *name, size_t len, uint64_t hard,
                                 uint64_t any, bool *known)
{
    uint64_t hash = rc_hash_bytes(&t->seed, name, len);
    uint32_t id = rc__find_locked(t, hash, name, len);
    uint32_t b = (uint32_t)(hash % RC__FORGOTTEN);
    unsigned raised = 0;
    *known = id != RC__NO_ID;
    if (id == RC__NO_ID) {
        raised |=
            hard && rc__raise_plain_locked(&t->forgotten_hard[b], hard) ? RC_TAGS_RAISED_HARD : 0u;
        raised |= rc__raise_plain_locked(&t->forgotten_any[b], any) ? RC_TAGS_RAISED_ANY : 0u;
    } else {
        rc__tag_record *r = rc__record(t, id);
        raised |= hard && rc__raise_locked(&r->hard, hard) ? RC_TAGS_RAISED_HARD : 0u;
        raised |= rc__raise_locked(&r->any, any) ? RC_TAGS_RAISED_ANY : 0u;
    }
    if (raised == 0)
        return 0;
    uint64_t seq = atomic_fetch_add_explicit(&t->seq, 1, memory_order_acq_rel) + 1u;
    if (id == RC__NO_ID)
        t->forgotten_seq[b] = seq;
    else
        rc__record(t, id)->last_seq = seq;
    return raised;
}

uint64_t rc_tags_invalidate(rc_tags *t, const uint8_t *name, size_t len, uint8_t mode, bool *known)
{
    bool ignored;
    pthread_mutex_lock(&t->lock);
    uint64_t stamp = rc_hlc_now(t->clock);
    rc__apply_locked(t, name, len, mode == RC_INVAL_HARD ? stamp : 0, stamp,
                     known ? known : &ignored);
    pthread_mutex_unlock(&t->lock);
    return stamp;
}

unsigned rc_tags_merge(rc_tags *t, const uint8_t *name, size_t len, uint64_t hard, uint64_t any)
{
    bool known;
    if (any < hard)
        any = hard;
    pthread_mutex_lock(&t->lock);
    rc_hlc_observe(t->clock, any);
    unsigned raised = any ? rc__apply_locked(t, name, len, hard, any, &known) : 0u;
    pthread_mutex_unlock(&t->lock);
    return raised;
}

size_t rc_tags_list(rc_tags *t, uint32_t *cursor, rc_tag_state *out, size_t max)
{
    size_t n = 0;
    pthread_mutex_lock(&t->lock);
    uint32_t id = *cursor, budget = (uint32_t)(max * 64u);
    for (; id < t->high_water && n < max && budget > 0; id++, budget--) {
        const rc__tag_record *r = rc__record(t, id);
        uint64_t any = atomic_load_explicit(&r->any, memory_order_relaxed);
        if (!r->name || any == 0)
            continue;
        out[n].hard = atomic_load_explicit(&r->hard, memory_order_relaxed);
        out[n].any = any;
        out[n].name_len = r->name_len;
        memcpy(out[n].name, r->name, r->name_len);
        n++;
    }
    *cursor = id;
    pthread_mutex_unlock(&t->lock);
    return n;
}

uint32_t rc_tags_id_limit(rc_tags *t)
{
    pthread_mutex_lock(&t->lock);
    uint32_t limit = t->high_water;
    pthread_mutex_unlock(&t->lock);
    return limit;
}

uint64_t rc_tags_seq(const rc_tags *t)
{
    return atomic_load_explicit(&t->seq, memory_order_acquire);
}

bool rc_tags_invalidated_since(rc_tags *t, const rc_slice *names, size_t n, uint64_t seq)
{
    bool invalidated = false;
    pthread_mutex_lock(&t->lock);
    for (size_t i = 0; i < n && !invalidated; i++)
        invalidated = rc__invalidated_since_locked(t, names[i], seq);
    pthread_mutex_unlock(&t->lock);
    return invalidated;
}

uint32_t rc_tags_live(rc_tags *t)
{
    pthread_mutex_lock(&t->lock);
    uint32_t live = t->live;
    pthread_mutex_unlock(&t->lock);
    return live;
}
