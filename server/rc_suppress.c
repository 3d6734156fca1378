/*
 * rc_suppress.c - a namespace's suppression set (see rc_suppress.h).
 *
 * Table.  cap is 0 (no array yet) or a power of two >= RC__MIN_CAP.  A slot
 * is empty when its stamp is 0 (HLC stamps never are).  Records are never
 * removed in place, so probe chains stay intact: an unsuppression flags its
 * record (RC__UNSUPPRESSED in the top bit of expire, which no millisecond
 * clock reaches), an expired suppression just stays until a rebuild.
 * `used` counts non-empty slots, `active` the records that suppress
 * (expired or not).  A rebuild copies the live suppressions into a fresh
 * array and drops everything else.
 */
#define _POSIX_C_SOURCE 200809L
#include "rc_suppress.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "rc_alloc.h"
#include "recache/rc_errors.h"
#include "recache/rc_proto.h"

#define RC__MIN_CAP      16u
#define RC__STRIPES      8u /* reader stripes, a power of two */
#define RC__UNSUPPRESSED (UINT64_C(1) << 63)
#define RC__EXPIRE_MASK  (RC__UNSUPPRESSED - 1u)

typedef struct rc__srec {
    uint64_t id;
    uint64_t stamp;  /* 0 = empty slot */
    uint64_t expire; /* absolute ms, 0 = never; top bit: an unsuppression */
} rc__srec;

/* One reader stripe on its own cache line, so readers on different threads share nothing. */
typedef struct rc__stripe {
    _Alignas(64) pthread_rwlock_t lock;
} rc__stripe;

struct rc_suppress {
    /* Readers hold their thread's stripe, writers every stripe (in index order): together they
     * protect recs, cap and used; writers also update the atomics. */
    rc__stripe stripes[RC__STRIPES];
    rc__srec *recs;
    size_t cap;
    size_t used;
    _Atomic uint64_t active;
    _Atomic size_t bytes;
};

static uint64_t rc__mix(uint64_t x)
{
    x ^= x >> 33;
    x *= UINT64_C(0xff51afd7ed558ccd);
    x ^= x >> 33;
    x *= UINT64_C(0xc4ceb9fe1a85ec53);
    x ^= x >> 33;
    return x;
}

/* The slot holding id, or the empty slot where it would go (cap > 0, never full). */
static rc__srec *rc__slot(rc__srec *recs, size_t cap, uint64_t id)
{
    size_t i = (size_t)rc__mix(id) & (cap - 1u);
    while (recs[i].stamp != 0 && recs[i].id != id)
        i = (i + 1u) & (cap - 1u);
    return &recs[i];
}

static rc__srec *rc__find(const rc_suppress *s, uint64_t id)
{
    if (s->cap == 0)
        return NULL;
    rc__srec *r = rc__slot(s->recs, s->cap, id);
    return r->stamp != 0 ? r : NULL;
}

static bool rc__suppressing(const rc__srec *r)
{
    return r != NULL && !(r->expire & RC__UNSUPPRESSED);
}

static bool rc__live(const rc__srec *r, uint64_t now)
{
    return rc__suppressing(r) && (r->expire == 0 || now < r->expire);
}

rc_suppress *rc_suppress_create(void)
{
    rc_suppress *s = rc_xcalloc_aligned(_Alignof(rc_suppress), sizeof(*s));
    for (unsigned i = 0; i < RC__STRIPES; i++)
        pthread_rwlock_init(&s->stripes[i].lock, NULL);
    return s;
}

size_t rc_suppress_destroy(rc_suppress *s)
{
    if (s == NULL)
        return 0;
    size_t bytes = atomic_load(&s->bytes);
    free(s->recs);
    for (unsigned i = 0; i < RC__STRIPES; i++)
        pthread_rwlock_destroy(&s->stripes[i].lock);
    free(s);
    return bytes;
}

/* The reader stripe of the calling thread: assigned round robin on its first read. */
static unsigned rc__my_stripe(void)
{
    static _Atomic unsigned next;
    static _Thread_local unsigned mine = UINT32_MAX;
    if (mine == UINT32_MAX)
        mine = atomic_fetch_add_explicit(&next, 1, memory_order_relaxed) & (RC__STRIPES - 1u);
    return mine;
}

static void rc__write_lock(rc_suppress *s)
{
    for (unsigned i = 0; i < RC__STRIPES; i++)
        pthread_rwlock_wrlock(&s->stripes[i].lock);
}

static void rc__write_unlock(rc_suppress *s)
{
    for (unsigned i = RC__STRIPES; i-- > 0;)
        pthread_rwlock_unlock(&s->stripes[i].lock);
}

/* Live suppressions right now (an O(cap) count; rebuilds and bound checks only). */
static size_t rc__count_live_locked(const rc_suppress *s, uint64_t now)
{
    size_t n = 0;
    for (size_t i = 0; i < s->cap; i++)
        n += s->recs[i].stamp != 0 && rc__live(&s->recs[i], now);
    return n;
}

/*
 * rc__rebuild_locked - a fresh array for `want` records (at most 3/4 full),
 * holding the live suppressions only.  The new array is charged before it
 * is allocated and the old one credited after it is freed.  RC_ENO_MEMORY
 * (nothing changed) when the hook refuses.
 */
static int rc__rebuild_locked(rc_suppress *s, size_t want, const rc_suppress_change *c)
{
    size_t cap = RC__MIN_CAP;
    while (cap / 4u * 3u < want)
        cap *= 2u;
    size_t bytes = cap * sizeof(rc__srec);
    if (!c->charge(c->charge_ctx, bytes, 0))
        return RC_ENO_MEMORY;
    rc__srec *recs = rc_xcalloc(cap, sizeof(rc__srec));
    size_t used = 0;
    for (size_t i = 0; i < s->cap; i++) {
        const rc__srec *r = &s->recs[i];
        if (r->stamp == 0 || !rc__live(r, c->now_ms))
            continue;
        *rc__slot(recs, cap, r->id) = *r;
        used++;
    }
    size_t old_bytes = s->cap * sizeof(rc__srec);
    free(s->recs);
    c->charge(c->charge_ctx, 0, old_bytes);
    s->recs = recs;
    s->cap = cap;
    s->used = used;
    atomic_store(&s->active, used);
    atomic_store(&s->bytes, bytes);
    return 0;
}

/*
 * rc__make_room_locked - make sure `fresh` more live suppressions fit the
 * bound and `slots` new records fit the table.  Expired and unsuppressed
 * records are dropped by a rebuild before the bound is judged full.
 */
static int rc__make_room_locked(rc_suppress *s, const rc_suppress_change *c, size_t fresh,
                                size_t slots)
{
    size_t active = (size_t)atomic_load(&s->active);
    if (active + fresh > c->max) {
        active = rc__count_live_locked(s, c->now_ms);
        if (active + fresh > c->max)
            return RC_ESUPPRESS_FULL;
    }
    if (s->cap != 0 && s->used + slots <= s->cap / 4u * 3u)
        return 0;
    return rc__rebuild_locked(s, 2u * (active + fresh), c);
}

/* Write r's new state, keeping `used` and `active` right; r may be an empty slot. */
static void rc__put_locked(rc_suppress *s, rc__srec *r, uint64_t id, uint64_t stamp,
                           uint64_t expire)
{
    bool was_active = r->stamp != 0 && rc__suppressing(r);
    bool now_active = !(expire & RC__UNSUPPRESSED);
    if (r->stamp == 0)
        s->used++;
    r->id = id;
    r->stamp = stamp;
    r->expire = expire;
    if (was_active != now_active) {
        if (now_active)
            atomic_fetch_add(&s->active, 1);
        else
            atomic_fetch_sub(&s->active, 1);
    }
}

int rc_suppress_add(rc_suppress *s, const rc_suppress_change *c, uint32_t *added)
{
    uint32_t ignored;
    if (!added)
        added = &ignored;
    *added = 0;
    rc__write_lock(s);
    size_t fresh = 0, slots = 0;
    for (size_t i = 0; i < c->n; i++) {
        const rc__srec *r = rc__find(s, c->ids[i]);
        fresh += !rc__live(r, c->now_ms);
        slots += r == NULL;
    }
    int rc = rc__make_room_locked(s, c, fresh, slots);
    if (rc == 0) {
        for (size_t i = 0; i < c->n; i++) {
            rc__srec *r = rc__slot(s->recs, s->cap, c->ids[i]);
            *added += !(r->stamp != 0 && rc__live(r, c->now_ms));
            rc__put_locked(s, r, c->ids[i], c->stamp, c->expire_ms & RC__EXPIRE_MASK);
        }
    }
    rc__write_unlock(s);
    return rc;
}

int rc_suppress_remove(rc_suppress *s, const rc_suppress_change *c, uint32_t *removed)
{
    uint32_t ignored;
    if (!removed)
        removed = &ignored;
    *removed = 0;
    rc__write_lock(s);
    for (size_t i = 0; i < c->n; i++) {
        rc__srec *r = rc__find(s, c->ids[i]);
        if (!rc__suppressing(r))
            continue;
        *removed += rc__live(r, c->now_ms);
        rc__put_locked(s, r, r->id, c->stamp, RC__UNSUPPRESSED);
    }
    rc__write_unlock(s);
    return 0;
}

int rc_suppress_merge(rc_suppress *s, const rc_suppress_change *c, uint64_t id, bool suppressed)
{
    rc__write_lock(s);
    const rc__srec *held = rc__find(s, id);
    int rc = 0;
    if (held == NULL || held->stamp < c->stamp) {
        bool fresh = suppressed && !rc__live(held, c->now_ms);
        rc = rc__make_room_locked(s, c, fresh, held == NULL);
        if (rc == 0) {
            uint64_t expire = suppressed ? c->expire_ms & RC__EXPIRE_MASK : RC__UNSUPPRESSED;
            rc__put_locked(s, rc__slot(s->recs, s->cap, id), id, c->stamp, expire);
            rc = 1;
        }
    }
    rc__write_unlock(s);
    return rc;
}

unsigned rc_suppress_read_begin(rc_suppress *s)
{
    unsigned stripe = rc__my_stripe();
    pthread_rwlock_rdlock(&s->stripes[stripe].lock);
    return stripe;
}

void rc_suppress_read_end(rc_suppress *s, unsigned stripe)
{
    pthread_rwlock_unlock(&s->stripes[stripe].lock);
}

bool rc_suppress_hidden_locked(const rc_suppress *s, uint64_t id, uint64_t now_ms)
{
    return rc__live(rc__find(s, id), now_ms);
}

uint64_t rc_suppress_active(const rc_suppress *s)
{
    return atomic_load_explicit(&((rc_suppress *)s)->active, memory_order_relaxed);
}

size_t rc_suppress_bytes(const rc_suppress *s)
{
    return atomic_load_explicit(&((rc_suppress *)s)->bytes, memory_order_relaxed);
}

size_t rc_suppress_snapshot(rc_suppress *s, uint64_t now_ms, uint8_t *buf, size_t cap)
{
    size_t n = 0, max = cap / RC_SUPPRESSION_SIZE;
    unsigned stripe = rc_suppress_read_begin(s);
    for (size_t i = 0; i < s->cap && n < max; i++) {
        const rc__srec *r = &s->recs[i];
        if (r->stamp == 0 || !rc__live(r, now_ms))
            continue;
        uint8_t *p = buf + n * RC_SUPPRESSION_SIZE;
        uint64_t left = r->expire == 0 ? RC_TTL_NONE : r->expire - now_ms;
        uint32_t ttl = left >= RC_TTL_NONE ? (r->expire == 0 ? RC_TTL_NONE : RC_TTL_NONE - 1u)
                                           : (uint32_t)left;
        rc_id_put(p, r->id);
        for (unsigned b = 0; b < 4; b++)
            p[8 + b] = (uint8_t)(ttl >> (8 * b));
        rc_id_put(p + 12, r->stamp);
        n++;
    }
    rc_suppress_read_end(s, stripe);
    return n;
}
