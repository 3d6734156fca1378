/*
 * rb_oracle.c - see rb_oracle.h.
 *
 * Memory ordering.  The clock is sequentially consistent: its stamps give
 * one total order that agrees with real time on every thread.  A floor or
 * record is published after its stamp was taken, with release; a reader
 * loads it with acquire before taking its own stamp.  So a floor a read
 * saw belongs to an acknowledgement stamped before the read's send stamp.
 * A write whose basis a judge does not see yet is treated as "not
 * acknowledged": its stamp is almost always later than everything the
 * judge compares it with, and in the rare case that it was taken but not
 * yet stored, a ghost can be missed, never invented.  Every shortcut in
 * this file errs the same way.
 *
 * Write records live in 65,536-entry chunks behind a directory of 65,536
 * pointers (up to 2^32 writes); a chunk is allocated by the first write
 * that needs it and installed with a compare-exchange (the loser frees
 * its copy), so no lock is ever taken for writes.
 *
 * A write id carries a random 24-bit run nonce in its top bits, so a value
 * left in the server by an earlier run (whose ids restart from 1 too) is
 * never mistaken for one of this run's writes: it finds no record, and is
 * judged without write facts (it can still be corrupt, for another user or
 * of an old model version).
 */
#define _POSIX_C_SOURCE 200809L
#include "rb_oracle.h"

#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "recache/rc_errors.h"

#define RB__CHUNK_BITS 16u
#define RB__CHUNK      (1u << RB__CHUNK_BITS)
#define RB__DIR        (1u << 16)
#define RB__RUN_SHIFT  40u /* write id = run nonce << 40 | index of the write in the run */

_Static_assert(RB_VERDICT_GHOST_SOFT + 1 == RB_VERDICTS, "RB_VERDICTS counts rb_verdict");

/* A 64-bit mix (splitmix64's finaliser): the per-write product draw. */
static uint64_t rb__mix(uint64_t x)
{
    x ^= x >> 30;
    x *= 0xBF58476D1CE4E5B9ull;
    x ^= x >> 27;
    x *= 0x94D049BB133111EBull;
    return x ^ (x >> 31);
}

int rb_oracle_init(rb_oracle *o, uint32_t users, const rb_tag_cfg *tc)
{
    if (users == 0 || tc->products == 0 || tc->per_value > 16)
        return RC_EINVAL;
    o->users = users;
    o->tagcfg = *tc;
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    uint64_t seed = (uint64_t)ts.tv_nsec ^ ((uint64_t)ts.tv_sec << 20) ^ ((uint64_t)getpid() << 40);
    o->nonce = 1u + (uint32_t)(rb__mix(seed) % 0xFFFFFEu); /* 1 .. 2^24 - 2 */
    o->ntags = tc->products + tc->segments;
    atomic_init(&o->clock, 0);
    atomic_init(&o->next_wid, 0);
    atomic_init(&o->bump_acked, 0);
    atomic_init(&o->version_seen, 0);
    for (int p = 0; p < RB_PATHS; p++)
        for (int v = 0; v < RB_VERDICTS; v++)
            atomic_init(&o->reported[p][v], 0);
    o->next_seq = calloc(users, sizeof(*o->next_seq));
    o->acked_seq = calloc(users, sizeof(*o->acked_seq));
    o->key_floor = calloc(2 * (size_t)users, sizeof(*o->key_floor));
    o->dir = calloc(RB__DIR, sizeof(*o->dir));
    o->tags = calloc(o->ntags, sizeof(*o->tags));
    if (!o->next_seq || !o->acked_seq || !o->key_floor || !o->dir || !o->tags) {
        free(o->tags);
        o->tags = NULL;
        o->ntags = 0;
        rb_oracle_free(o);
        return RC_ENOMEM;
    }
    for (uint32_t i = 0; i < o->ntags; i++)
        pthread_mutex_init(&o->tags[i].mu, NULL);
    return 0;
}

void rb_oracle_free(rb_oracle *o)
{
    if (o->dir)
        for (uint32_t i = 0; i < RB__DIR; i++)
            free(atomic_load_explicit(&o->dir[i], memory_order_relaxed));
    for (uint32_t i = 0; o->tags && i < o->ntags; i++)
        pthread_mutex_destroy(&o->tags[i].mu);
    free(o->tags);
    free(o->dir);
    free(o->next_seq);
    free(o->acked_seq);
    free(o->key_floor);
    o->tags = NULL;
    o->dir = NULL;
    o->next_seq = o->acked_seq = o->key_floor = NULL;
}

/* Raise *a to at least v. */
static void rb__atomic_max(_Atomic uint64_t *a, uint64_t v, memory_order mo)
{
    uint64_t cur = atomic_load_explicit(a, memory_order_relaxed);
    while (cur < v && !atomic_compare_exchange_weak_explicit(a, &cur, v, mo, memory_order_relaxed))
        ;
}

uint64_t rb_oracle_tick(rb_oracle *o)
{
    return atomic_fetch_add(&o->clock, 1) + 1;
}

/*
 * The record of write wid; NULL if wid is not one of this run's (another
 * nonce, index 0 or out of range) or, with create false, not allocated.
 */
static rb_write_rec *rb__rec(rb_oracle *o, uint64_t wid, bool create)
{
    uint64_t idx = wid & ((1ull << RB__RUN_SHIFT) - 1u);
    if ((wid >> RB__RUN_SHIFT) != o->nonce || idx == 0 || idx >= (uint64_t)RB__DIR * RB__CHUNK)
        return NULL;
    wid = idx;
    _Atomic(rb_write_rec *) *slot = &o->dir[wid >> RB__CHUNK_BITS];
    rb_write_rec *chunk = atomic_load_explicit(slot, memory_order_acquire);
    if (!chunk && create) {
        rb_write_rec *fresh = calloc(RB__CHUNK, sizeof(*fresh));
        if (!fresh)
            return NULL;
        if (atomic_compare_exchange_strong_explicit(slot, &chunk, fresh, memory_order_acq_rel,
                                                    memory_order_acquire))
            chunk = fresh;
        else
            free(fresh); /* another thread installed it; chunk now holds theirs */
    }
    return chunk ? &chunk[wid & (RB__CHUNK - 1u)] : NULL;
}

uint64_t rb_oracle_new_write(rb_oracle *o, uint32_t user, uint64_t grant)
{
    uint64_t idx = atomic_fetch_add_explicit(&o->next_wid, 1, memory_order_relaxed) + 1;
    uint64_t wid = (uint64_t)o->nonce << RB__RUN_SHIFT | idx;
    rb_write_rec *r = rb__rec(o, wid, true);
    if (!r)
        return 0;
    uint64_t seq = atomic_fetch_add_explicit(&o->next_seq[user], 1, memory_order_relaxed) + 1;
    atomic_store_explicit(&r->useq, seq, memory_order_release);
    atomic_store_explicit(&r->basis, grant, memory_order_release);
    return wid;
}

void rb_oracle_ack_write(rb_oracle *o, uint32_t user, uint64_t wid, uint64_t stamp)
{
    rb_write_rec *r = rb__rec(o, wid, false);
    if (!r)
        return;
    uint64_t none = 0;
    atomic_compare_exchange_strong_explicit(&r->basis, &none, stamp, memory_order_release,
                                            memory_order_relaxed);
    rb__atomic_max(&o->acked_seq[user], atomic_load_explicit(&r->useq, memory_order_acquire),
                   memory_order_release);
}

uint64_t rb_oracle_write_seq(rb_oracle *o, uint64_t wid)
{
    rb_write_rec *r = rb__rec(o, wid, false);
    return r ? atomic_load_explicit(&r->useq, memory_order_acquire) : 0;
}

uint64_t rb_oracle_acked(rb_oracle *o, uint32_t user)
{
    return atomic_load_explicit(&o->acked_seq[user], memory_order_acquire);
}

void rb_oracle_ack_bump(rb_oracle *o, uint64_t v)
{
    rb__atomic_max(&o->bump_acked, v, memory_order_release);
    rb_oracle_see_version(o, v);
}

void rb_oracle_see_version(rb_oracle *o, uint64_t v)
{
    rb__atomic_max(&o->version_seen, v, memory_order_relaxed);
}

void rb_oracle_ack_key(rb_oracle *o, uint32_t user, bool soft, uint64_t sent)
{
    rb__atomic_max(&o->key_floor[2 * (size_t)user + soft], sent, memory_order_release);
}

void rb_oracle_ack_tag(rb_oracle *o, uint32_t tag, bool soft, uint64_t sent, uint64_t acked)
{
    if (tag >= o->ntags)
        return;
    rb_tag_state *t = &o->tags[tag];
    int m = soft ? 1 : 0;
    pthread_mutex_lock(&t->mu);
    uint32_t i = t->n[m] % RB_ORACLE_RING;
    if (t->n[m] >= RB_ORACLE_RING) {
        /* The ring drops its oldest entry; remember its stamps as a bound (see rb__tag_floor). */
        t->gone_sent[m] = t->sent[m][i] > t->gone_sent[m] ? t->sent[m][i] : t->gone_sent[m];
        t->gone_ack[m] = t->acked[m][i] > t->gone_ack[m] ? t->acked[m][i] : t->gone_ack[m];
    }
    t->sent[m][i] = sent;
    t->acked[m][i] = acked;
    t->n[m]++;
    pthread_mutex_unlock(&t->mu);
}

void rb_oracle_snap(rb_oracle *o, uint32_t user, rb_read_snap *s)
{
    s->user = user;
    s->floor = atomic_load_explicit(&o->bump_acked, memory_order_acquire);
    s->acked = rb_oracle_acked(o, user);
    s->key_hard = atomic_load_explicit(&o->key_floor[2 * (size_t)user], memory_order_acquire);
    s->key_soft = atomic_load_explicit(&o->key_floor[2 * (size_t)user + 1], memory_order_acquire);
    s->sent = rb_oracle_tick(o);
}

/*
 * The largest send stamp among the tag's invalidations of mode m that were
 * acknowledged before `before`.  Entries the ring dropped count only when
 * all of them were acknowledged before `before` (then their largest send
 * stamp is exact); otherwise they are ignored, which can only miss a ghost
 * for a read older than RB_ORACLE_RING invalidations of one tag, never
 * invent one.
 */
static uint64_t rb__tag_floor(rb_tag_state *t, int m, uint64_t before)
{
    uint64_t best = 0;
    pthread_mutex_lock(&t->mu);
    uint32_t n = t->n[m] < RB_ORACLE_RING ? t->n[m] : RB_ORACLE_RING;
    for (uint32_t i = 0; i < n; i++)
        if (t->acked[m][i] < before && t->sent[m][i] > best)
            best = t->sent[m][i];
    if (t->n[m] > RB_ORACLE_RING && t->gone_ack[m] < before && t->gone_sent[m] > best)
        best = t->gone_sent[m];
    pthread_mutex_unlock(&t->mu);
    return best;
}

rb_verdict rb_oracle_check_read(rb_oracle *o, const rb_read_snap *s, bool check_version,
                                bool served_stale, const uint8_t *value, size_t len,
                                rb_value_info *info, uint64_t *staleness, rb_read_facts *facts)
{
    rb_read_facts f = {.snap = *s, .check_version = check_version, .served_stale = served_stale};
    *staleness = 0;
    *info = (rb_value_info){0};
    if (facts)
        *facts = f;
    if (rb_value_decode(value, len, info) != 0)
        return RB_VERDICT_CORRUPT;
    rb_write_rec *r = rb__rec(o, info->seq, false);
    if (r) {
        f.write_basis = atomic_load_explicit(&r->basis, memory_order_acquire);
        f.write_useq = atomic_load_explicit(&r->useq, memory_order_acquire);
    }
    if (info->user == s->user && info->user < o->users) {
        uint32_t tags[RB_ORACLE_MAX_TAGS];
        uint32_t n = rb_oracle_tags(&o->tagcfg, info->user, info->seq, tags);
        for (uint32_t i = 0; i < n; i++) {
            uint64_t h = rb__tag_floor(&o->tags[tags[i]], 0, s->sent);
            uint64_t sf = rb__tag_floor(&o->tags[tags[i]], 1, s->sent);
            f.tag_hard = h > f.tag_hard ? h : f.tag_hard;
            f.tag_soft = sf > f.tag_soft ? sf : f.tag_soft;
        }
    }
    if (facts)
        *facts = f;
    return rb_oracle_judge(&f, info, staleness);
}

/* Whether a write with basis stamp `basis` precedes an invalidation sent at floor `sent`. */
static bool rb__before(uint64_t basis, uint64_t sent)
{
    return basis != 0 && sent != 0 && basis < sent;
}

rb_verdict rb_oracle_judge(const rb_read_facts *f, const rb_value_info *vi, uint64_t *staleness)
{
    *staleness = 0;
    if (vi->user != f->snap.user)
        return RB_VERDICT_WRONG_USER;
    if (f->check_version && vi->version < f->snap.floor)
        return RB_VERDICT_GHOST_VERSION;
    if (rb__before(f->write_basis, f->snap.key_hard))
        return RB_VERDICT_GHOST_KEY;
    if (rb__before(f->write_basis, f->tag_hard))
        return RB_VERDICT_GHOST_TAG;
    if (!f->served_stale &&
        (rb__before(f->write_basis, f->snap.key_soft) || rb__before(f->write_basis, f->tag_soft)))
        return RB_VERDICT_GHOST_SOFT;
    if (f->write_useq && f->snap.acked > f->write_useq)
        *staleness = f->snap.acked - f->write_useq;
    return RB_VERDICT_OK;
}

uint32_t rb_oracle_tags(const rb_tag_cfg *tc, uint32_t user, uint64_t wid, uint32_t *out)
{
    uint32_t n = 0, per = tc->per_value < 16 ? tc->per_value : 16;
    uint64_t h = rb__mix(wid ^ ((uint64_t)user << 32));
    for (uint32_t i = 0; i < per; i++)
        out[n++] = (uint32_t)((h + (uint64_t)i * 40503u) % tc->products);
    if (tc->segments)
        out[n++] = tc->products + user % tc->segments;
    return n;
}

void rb_oracle_report(rb_oracle *o, rb_path path, const char *source, rb_verdict v,
                      const rb_read_facts *f, const rb_value_info *vi)
{
    if ((unsigned)path >= RB_PATHS || (unsigned)v >= RB_VERDICTS ||
        atomic_fetch_add_explicit(&o->reported[path][v], 1, memory_order_relaxed) >= 3)
        return;
    const rb_read_snap *s = &f->snap;
    fprintf(stderr,
            "recache-bench: oracle: %s (%s read of user %u sent @%llu, served %s): value user %u "
            "version %llu write %u:%llu basis @%llu; bump floor %llu; acknowledged invalidations "
            "sent @ key hard %llu soft %llu, tag hard %llu soft %llu\n",
            rb_verdict_name(v), source, s->user, (unsigned long long)s->sent,
            f->served_stale ? "stale" : "fresh", vi->user, (unsigned long long)vi->version,
            (unsigned)(vi->seq >> RB__RUN_SHIFT),
            (unsigned long long)(vi->seq & ((1ull << RB__RUN_SHIFT) - 1u)),
            (unsigned long long)f->write_basis, (unsigned long long)s->floor,
            (unsigned long long)s->key_hard, (unsigned long long)s->key_soft,
            (unsigned long long)f->tag_hard, (unsigned long long)f->tag_soft);
}

const char *rb_verdict_name(rb_verdict v)
{
    static const char *const names[] = {"ok",        "corrupt",   "wrong-user", "ghost-version",
                                        "ghost-key", "ghost-tag", "ghost-soft"};
    return (unsigned)v < sizeof(names) / sizeof(names[0]) ? names[v] : "unknown";
}
