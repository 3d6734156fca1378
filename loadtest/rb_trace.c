/*
 * rb_trace.c - see rb_trace.h.  The simulator's index is an open-addressing
 * hash table (linear probing, backward-shift deletion) from key to ring
 * slot, sized to twice the capacity.
 */
#define _POSIX_C_SOURCE 200809L
#include "rb_trace.h"

#include <inttypes.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "recache/rc_errors.h"
#include "rb_sync.h"
#include "rb_value.h"
#include "rb_zipf.h"

int rb_trace_load(const char *path, rb_trace *t)
{
    memset(t, 0, sizeof(*t));
    FILE *f = fopen(path, "r");
    if (!f)
        return RC_EIO;
    size_t cap = 1 << 16;
    t->keys = malloc(cap * sizeof(*t->keys));
    char line[64];
    int rc = t->keys ? 0 : RC_ENOMEM;
    while (rc == 0 && fgets(line, sizeof(line), f)) {
        char *end;
        if (line[0] == '\n')
            continue;
        uint64_t k = strtoull(line, &end, 10);
        if (end == line || (*end != '\n' && *end != '\0')) {
            rc = RC_EINVAL;
            break;
        }
        if (t->n == cap) {
            uint64_t *nk = realloc(t->keys, 2 * cap * sizeof(*nk));
            if (!nk) {
                rc = RC_ENOMEM;
                break;
            }
            t->keys = nk;
            cap *= 2;
        }
        t->keys[t->n++] = k;
    }
    if (ferror(f))
        rc = RC_EIO;
    fclose(f);
    if (rc != 0)
        rb_trace_free(t);
    return rc;
}

void rb_trace_free(rb_trace *t)
{
    free(t->keys);
    t->keys = NULL;
    t->n = 0;
}

int rb_trace_generate(FILE *out, uint64_t keys, uint64_t count, double alpha, uint64_t seed)
{
    rb_zipf z;
    rb_rng r;
    int rc = rb_zipf_init(&z, keys, alpha);
    if (rc != 0)
        return rc;
    rb_rng_seed(&r, seed);
    for (uint64_t i = 0; i < count; i++)
        fprintf(out, "%" PRIu64 "\n", rb_zipf_draw(&z, &r));
    rb_zipf_free(&z);
    return ferror(out) ? RC_EIO : 0;
}

/* ---- CLOCK ---------------------------------------------------------------------------------- */

typedef struct rb__clock {
    uint64_t cap, used, hand;
    uint64_t *ring_key;
    uint8_t *ref;
    uint64_t *idx_key; /* hash index: key + 1 (0 = empty) */
    uint64_t *idx_slot;
    uint64_t mask;
} rb__clock;

static uint64_t rb__mix(uint64_t k)
{
    k ^= k >> 33;
    k *= 0xff51afd7ed558ccdull;
    k ^= k >> 33;
    return k;
}

/* Index position holding key, or the empty position where it would go. */
static uint64_t rb__find(const rb__clock *c, uint64_t key)
{
    uint64_t i = rb__mix(key) & c->mask;
    while (c->idx_key[i] && c->idx_key[i] != key + 1)
        i = (i + 1) & c->mask;
    return i;
}

/* Remove the index entry at position i, shifting followers back (no tombstones). */
static void rb__erase(rb__clock *c, uint64_t i)
{
    uint64_t j = i;
    c->idx_key[i] = 0;
    for (;;) {
        j = (j + 1) & c->mask;
        if (!c->idx_key[j])
            return;
        uint64_t home = rb__mix(c->idx_key[j] - 1) & c->mask;
        bool movable = (i <= j) ? (home <= i || home > j) : (home <= i && home > j);
        if (movable) {
            c->idx_key[i] = c->idx_key[j];
            c->idx_slot[i] = c->idx_slot[j];
            c->idx_key[j] = 0;
            i = j;
        }
    }
}

/* A miss: place key in a free slot or evict with the hand. */
static void rb__insert(rb__clock *c, uint64_t key, uint64_t pos)
{
    uint64_t slot;
    if (c->used < c->cap) {
        slot = c->used++;
    } else {
        while (c->ref[c->hand]) {
            c->ref[c->hand] = 0;
            c->hand = (c->hand + 1) % c->cap;
        }
        slot = c->hand;
        c->hand = (c->hand + 1) % c->cap;
        rb__erase(c, rb__find(c, c->ring_key[slot]));
        pos = rb__find(c, key);
    }
    c->ring_key[slot] = key;
    c->ref[slot] = 0;
    c->idx_key[pos] = key + 1;
    c->idx_slot[pos] = slot;
}

int rb_clock_sim(const rb_trace *t, uint64_t capacity, rb_trace_result *res)
{
    if (capacity == 0)
        return RC_EINVAL;
    rb__clock c = {.cap = capacity};
    uint64_t isize = 1;
    while (isize < 2 * capacity)
        isize <<= 1;
    c.mask = isize - 1;
    c.ring_key = malloc(capacity * sizeof(uint64_t));
    c.ref = calloc(capacity, 1);
    c.idx_key = calloc(isize, sizeof(uint64_t));
    c.idx_slot = malloc(isize * sizeof(uint64_t));
    int rc = (c.ring_key && c.ref && c.idx_key && c.idx_slot) ? 0 : RC_ENOMEM;
    memset(res, 0, sizeof(*res));
    for (size_t i = 0; rc == 0 && i < t->n; i++) {
        uint64_t pos = rb__find(&c, t->keys[i]);
        res->requests++;
        if (c.idx_key[pos]) {
            c.ref[c.idx_slot[pos]] = 1;
            continue;
        }
        res->misses++;
        rb__insert(&c, t->keys[i], pos);
    }
    res->miss_ratio = res->requests ? (double)res->misses / (double)res->requests : 0.0;
    free(c.ring_key);
    free(c.ref);
    free(c.idx_key);
    free(c.idx_slot);
    return rc;
}

/* ---- SIEVE ---------------------------------------------------------------------------------- */

/*
 * The queue is a doubly linked list over slot numbers (newer[] toward the
 * head, older[] toward the tail; RB__NIL ends); a freed slot is reused by
 * the next insertion, and the index maps keys to slots as for CLOCK.
 */
#define RB__NIL UINT64_MAX

typedef struct rb__sieve {
    rb__clock c; /* index, keys (ring_key) and visited bits (ref) */
    uint64_t *newer, *older;
    uint64_t head, tail, hand; /* head = newest, tail = oldest */
} rb__sieve;

static void rb__sieve_unlink(rb__sieve *s, uint64_t slot)
{
    uint64_t nw = s->newer[slot], od = s->older[slot];
    if (nw != RB__NIL)
        s->older[nw] = od;
    else
        s->head = od;
    if (od != RB__NIL)
        s->newer[od] = nw;
    else
        s->tail = nw;
}

/* rb__sieve_evict - run the hand; returns the slot it freed (already unlinked and unindexed). */
static uint64_t rb__sieve_evict(rb__sieve *s)
{
    uint64_t o = s->hand != RB__NIL ? s->hand : s->tail;
    while (s->c.ref[o]) {
        s->c.ref[o] = 0;
        o = s->newer[o] != RB__NIL ? s->newer[o] : s->tail;
    }
    s->hand = s->newer[o];
    rb__sieve_unlink(s, o);
    rb__erase(&s->c, rb__find(&s->c, s->c.ring_key[o]));
    return o;
}

int rb_sieve_sim(const rb_trace *t, uint64_t capacity, rb_trace_result *res)
{
    if (capacity == 0)
        return RC_EINVAL;
    rb__sieve s = {.c = {.cap = capacity}, .head = RB__NIL, .tail = RB__NIL, .hand = RB__NIL};
    uint64_t isize = 1;
    while (isize < 2 * capacity)
        isize <<= 1;
    s.c.mask = isize - 1;
    s.c.ring_key = malloc(capacity * sizeof(uint64_t));
    s.c.ref = calloc(capacity, 1);
    s.c.idx_key = calloc(isize, sizeof(uint64_t));
    s.c.idx_slot = malloc(isize * sizeof(uint64_t));
    s.newer = malloc(capacity * sizeof(uint64_t));
    s.older = malloc(capacity * sizeof(uint64_t));
    int rc = (s.c.ring_key && s.c.ref && s.c.idx_key && s.c.idx_slot && s.newer && s.older)
                 ? 0
                 : RC_ENOMEM;
    memset(res, 0, sizeof(*res));
    for (size_t i = 0; rc == 0 && i < t->n; i++) {
        uint64_t pos = rb__find(&s.c, t->keys[i]);
        res->requests++;
        if (s.c.idx_key[pos]) {
            s.c.ref[s.c.idx_slot[pos]] = 1;
            continue;
        }
        res->misses++;
        uint64_t slot;
        if (s.c.used < s.c.cap) {
            slot = s.c.used++;
        } else {
            slot = rb__sieve_evict(&s);
            pos = rb__find(&s.c, t->keys[i]);
        }
        s.c.ring_key[slot] = t->keys[i];
        s.c.ref[slot] = 0;
        s.c.idx_key[pos] = t->keys[i] + 1;
        s.c.idx_slot[pos] = slot;
        s.newer[slot] = RB__NIL;
        s.older[slot] = s.head;
        if (s.head != RB__NIL)
            s.newer[s.head] = slot;
        else
            s.tail = slot;
        s.head = slot;
    }
    res->miss_ratio = res->requests ? (double)res->misses / (double)res->requests : 0.0;
    free(s.c.ring_key);
    free(s.c.ref);
    free(s.c.idx_key);
    free(s.c.idx_slot);
    free(s.newer);
    free(s.older);
    return rc;
}

/* ---- replay --------------------------------------------------------------------------------- */

/* One GET of key; on MISS one SET.  *missed tells which happened. */
static int rb__replay_one(rb_sync *s, const char *ns, uint64_t key, uint8_t *val, uint32_t items,
                          bool *missed)
{
    char kbuf[32];
    snprintf(kbuf, sizeof(kbuf), "k:%" PRIu64, key);
    rc_msg req, resp;
    memset(&req, 0, sizeof(req));
    req.opcode = RC_OP_GET;
    req.ns = rc_slice_str(ns);
    req.key = rc_slice_str(kbuf);
    int rc = rb_sync_call(s, &req, &resp);
    if (rc != 0)
        return rc;
    if (resp.status >= RC_STATUS_FIRST_ERROR)
        return -(int)resp.status;
    *missed = resp.status == RC_STATUS_MISS;
    if (!*missed)
        return 0;
    rb_value_info vi = {
        .user = (uint32_t)key, .version = resp.ns_version, .seq = 1, .nitems = items};
    rb_value_encode(val, &vi);
    req.opcode = RC_OP_SET;
    req.stale_ms = RC_STALE_DEFAULT;
    req.value = (rc_slice){val, (uint32_t)rb_value_size(items)};
    rc = rb_sync_call(s, &req, &resp);
    if (rc == 0 && resp.status >= RC_STATUS_FIRST_ERROR)
        rc = -(int)resp.status;
    return rc;
}

int rb_replay(const rb_trace *t, const char *host, int port, const char *ns, uint32_t items,
              rb_trace_result *res, rb_replay_info *info)
{
    rb_sync s;
    int rc = rb_sync_connect(&s, host, port, 10000);
    if (rc != 0)
        return rc;
    uint8_t *val = malloc(rb_value_size(items));
    memset(res, 0, sizeof(*res));
    rc = val ? 0 : RC_ENOMEM;
    for (size_t i = 0; rc == 0 && i < t->n; i++) {
        bool missed = false;
        rc = rb__replay_one(&s, ns, t->keys[i], val, items, &missed);
        res->requests++;
        res->misses += missed;
    }
    res->miss_ratio = res->requests ? (double)res->misses / (double)res->requests : 0.0;
    if (rc == 0) {
        info->entries = rb_sync_stat(&s, "entries");
        info->bytes_used = rb_sync_stat(&s, "bytes_used");
        info->bytes_limit = rb_sync_stat(&s, "bytes_limit");
    }
    free(val);
    rb_sync_close(&s);
    return rc;
}
