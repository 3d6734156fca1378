/*
 * rb_lists.c - recache-bench discontinue and list-read (see rb_lists.h).
 *
 * Threads.  Every worker thread owns one blocking rc_client.  The shared
 * state of a discontinue phase (rb__phase) is atomics, the per-user
 * purchase records (each under one of RB__LOCKS striped mutexes) and
 * read-only tables; every thread keeps its own counters and histogram,
 * merged after it is joined.  Nothing here sleeps to synchronise: the only
 * sleeps are the simulated origin's latency and the main thread's timed
 * phases.
 */
#define _POSIX_C_SOURCE 200809L
#include "rb_lists.h"

#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "rb_hist.h"
#include "rb_json.h"
#include "recache/recache.h"

#define RB__LOCKS        256u
#define RB__HOT_USERS    65536u /* users that make purchases (the Zipf head) */
#define RB__MAX_ITEMS    1000u
#define RB__LOAD_BATCH   256u
#define RB__MAX_READERS  512u
#define RB__PRINT_GHOSTS 3u

enum { RB__HARD, RB__SOFT, RB__SUPPRESS, RB__STRATEGIES };
static const char *const rb__strategy_names[] = {"hard-tag", "soft-tag", "suppress"};

/* ---- the list oracle and list generation (pure) -----------------------------------------------
 */

rb_verdict rb_lists_judge(const rb_list_facts *f, const uint64_t *ids, size_t n, uint64_t *culprit)
{
    for (size_t i = 0; i < n; i++) {
        bool gone = f->gone_item != 0 && ids[i] == f->gone_item && f->gone_ack != 0 &&
                    f->gone_ack < f->sent;
        for (unsigned k = 0; !gone && k < RB_LISTS_PURCHASES; k++)
            gone = f->removed[k] != 0 && ids[i] == f->removed[k] && f->removed_ack[k] != 0 &&
                   f->removed_ack[k] < f->sent;
        if (gone) {
            *culprit = ids[i];
            return RB_VERDICT_GHOST_LIST;
        }
    }
    return RB_VERDICT_OK;
}

void rb_lists_gen(const rb_zipf *catalog, uint64_t seed, uint32_t user, const uint64_t *skip,
                  size_t nskip, uint8_t *seen, uint64_t *out, size_t n)
{
    rb_rng r;
    rb_rng_seed(&r, seed * 0x9E3779B97F4A7C15u + user + 1u);
    for (size_t i = 0; i < nskip; i++)
        if (skip[i] <= catalog->n)
            seen[skip[i] >> 3] |= (uint8_t)(1u << (skip[i] & 7u));
    for (size_t i = 0; i < n;) {
        uint64_t id = rb_zipf_draw(catalog, &r) + 1u;
        if (seen[id >> 3] & (1u << (id & 7u)))
            continue;
        seen[id >> 3] |= (uint8_t)(1u << (id & 7u));
        out[i++] = id;
    }
    for (size_t i = 0; i < n; i++)
        seen[out[i] >> 3] = 0;
    for (size_t i = 0; i < nskip; i++)
        if (skip[i] <= catalog->n)
            seen[skip[i] >> 3] = 0;
}

/* ---- shared helpers ---------------------------------------------------------------------------
 */

static uint64_t rb__now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

static void rb__sleep_ms(double ms)
{
    struct timespec ts = {(time_t)(ms / 1000.0),
                          (long)((ms - (double)(long)(ms / 1000.0) * 1000.0) * 1e6)};
    while (nanosleep(&ts, &ts) != 0)
        ;
}

static rc_client *rb__connect(const rb_opts *o)
{
    rc_client_options co = {
        .host = o->host, .port = (uint16_t)(o->port ? o->port : 7400), .io_timeout_ms = 30000};
    rc_client *c = NULL;
    int rc = rc_connect(&co, &c);
    if (rc != 0) {
        fprintf(stderr, "recache-bench: cannot connect to %s:%d: %s\n", o->host,
                o->port ? (int)o->port : 7400, rc_strerror(rc));
        return NULL;
    }
    return c;
}

static void rb__key(char *buf, size_t cap, uint32_t user)
{
    snprintf(buf, cap, "user:%" PRIu32, user);
}

/* rb__tag - the tag of a namespace's lists holding item: tags are node-wide, so it names ns. */
static void rb__tag(char *buf, size_t cap, const char *ns, uint64_t item)
{
    snprintf(buf, cap, "%s:item:%" PRIu64, ns, item);
}

static bool rb__has(const uint64_t *ids, size_t n, uint64_t id)
{
    for (size_t i = 0; i < n; i++)
        if (ids[i] == id)
            return true;
    return false;
}

/* ---- discontinue: one phase per strategy ------------------------------------------------------
 */

/* Per-user purchase records of hot users: (item, ack stamp), never forgotten within a phase. */
typedef struct rb__purchases {
    pthread_mutex_t locks[RB__LOCKS];
    uint64_t (*ring)[RB_LISTS_PURCHASES][2];
    uint8_t *next;
} rb__purchases;

typedef struct rb__phase {
    const rb_opts *o;
    int strategy;
    char ns[32];
    char tag[48];
    uint64_t gone; /* the discontinued item */
    uint32_t users;
    uint32_t items;
    const rb_zipf *users_z;
    const rb_zipf *catalog_z;
    rb__purchases *purch;
    _Atomic uint64_t clock;
    _Atomic bool discontinued; /* the origin leaves the item out from now on */
    _Atomic uint64_t gone_ack; /* stamp of the discontinuation's acknowledgement */
    _Atomic bool stop;
    _Atomic uint64_t origin_inflight, origin_peak_after, origin_after;
} rb__phase;

typedef struct rb__reader {
    rb__phase *p;
    rc_client *c;
    rb_rng rng;
    uint8_t *seen;
    rb_hist lat_after;
    uint64_t reads, reads_after, showed_after, ghosts, errors, purchases;
    pthread_t thread;
} rb__reader;

static uint64_t rb__tick(rb__phase *p)
{
    return atomic_fetch_add(&p->clock, 1) + 1u;
}

/* rb__snap - the read's send stamp and the user's purchases, atomically w.r.t. purchases. */
static void rb__snap(rb__phase *p, uint32_t user, rb_list_facts *f)
{
    memset(f, 0, sizeof(*f));
    if (user >= RB__HOT_USERS) {
        f->sent = rb__tick(p);
    } else {
        pthread_mutex_t *mu = &p->purch->locks[user % RB__LOCKS];
        pthread_mutex_lock(mu);
        f->sent = rb__tick(p);
        for (unsigned k = 0; k < RB_LISTS_PURCHASES; k++) {
            f->removed[k] = p->purch->ring[user][k][0];
            f->removed_ack[k] = p->purch->ring[user][k][1];
        }
        pthread_mutex_unlock(mu);
    }
    if (p->strategy == RB__SUPPRESS) {
        f->gone_item = p->gone;
        f->gone_ack = atomic_load(&p->gone_ack);
    }
}

/*
 * rb__origin - recompute user's list at the simulated origin from its
 * state now (as a real origin reads its database): without the
 * discontinued item once discontinued, without the user's purchases
 * (recorded before their removal is sent).  Counts the origin's load.
 */
static size_t rb__origin(rb__reader *r, uint32_t user, rc_list_item *out)
{
    rb__phase *p = r->p;
    uint64_t skip[RB_LISTS_PURCHASES + 1], ids[RB__MAX_ITEMS];
    size_t nskip = 0;
    if (user < RB__HOT_USERS) {
        pthread_mutex_t *mu = &p->purch->locks[user % RB__LOCKS];
        pthread_mutex_lock(mu);
        for (unsigned k = 0; k < RB_LISTS_PURCHASES; k++)
            if (p->purch->ring[user][k][0])
                skip[nskip++] = p->purch->ring[user][k][0];
        pthread_mutex_unlock(mu);
    }
    if (atomic_load(&p->discontinued))
        skip[nskip++] = p->gone;
    bool after = atomic_load(&p->gone_ack) != 0;
    uint64_t inflight = atomic_fetch_add(&p->origin_inflight, 1) + 1u;
    if (after) {
        atomic_fetch_add(&p->origin_after, 1);
        uint64_t peak = atomic_load(&p->origin_peak_after);
        while (inflight > peak &&
               !atomic_compare_exchange_weak(&p->origin_peak_after, &peak, inflight))
            ;
    }
    rb_lists_gen(p->catalog_z, (uint64_t)p->o->seed, user, skip, nskip, r->seen, ids, p->items);
    rb__sleep_ms((double)p->o->origin_ms);
    atomic_fetch_sub(&p->origin_inflight, 1);
    for (size_t i = 0; i < p->items; i++)
        out[i] = (rc_list_item){ids[i], 1.0f / (float)(i + 1)};
    return p->items;
}

/* rb__set_opts - the write options of a list: the discontinued item's tag when it holds it. */
static rc_set_options rb__set_opts(const rb__phase *p, const rc_list_item *items, size_t n,
                                   const char *const *tagv)
{
    rc_set_options so = {.stale_ms = RC_STALE_DEFAULT};
    for (size_t i = 0; i < n; i++)
        if (items[i].id == p->gone) {
            so.tags = tagv;
            so.ntags = 1;
        }
    return so;
}

/*
 * rb__read - one read through the lease protocol; the list served (or
 * computed for this reader) into ids.  Returns its length, or -1 after an
 * error (counted).
 */
static long rb__read(rb__reader *r, uint32_t user, uint64_t *ids)
{
    rb__phase *p = r->p;
    char key[32];
    rb__key(key, sizeof key, user);
    const char *tagv[] = {p->tag};
    for (int attempt = 0; attempt < 5; attempt++) {
        rc_list_lease_result lr;
        int rc =
            rc_list_lget(r->c, p->ns, key, strlen(key), NULL, (uint32_t)p->o->lease_wait_ms, &lr);
        bool compute = lr.lease == RC_LGET_LEASE_GRANTED && (rc == RC_EMISS || lr.list.stale);
        if (rc == 0 && !compute) {
            size_t n = lr.list.n;
            for (size_t i = 0; i < n; i++)
                ids[i] = lr.list.items[i].id;
            rc_list_lease_result_free(&lr);
            return (long)n;
        }
        if (compute) {
            rc_list_item items[RB__MAX_ITEMS];
            rc_lease_token token = lr.token;
            rc_list_lease_result_free(&lr);
            size_t n = rb__origin(r, user, items);
            rc_set_options so = rb__set_opts(p, items, n, tagv);
            (void)rc_list_fill(r->c, p->ns, key, strlen(key), &token, items, n, &so, NULL);
            for (size_t i = 0; i < n; i++)
                ids[i] = items[i].id;
            return (long)n;
        }
        rc_list_lease_result_free(&lr);
        if (rc != RC_EMISS && rc != RC_EWAIT_TIMEOUT && rc != RC_ELEASE_HELD)
            break;
    }
    r->errors++;
    return -1;
}

/*
 * rb__purchase - user buys one item of the list just read: the purchase is
 * recorded first (the origin's database: recomputes leave it out from
 * now on), then removed from the cached list; its acknowledgement stamp is
 * taken inside the user's lock once the removal is answered.
 */
static void rb__purchase(rb__reader *r, uint32_t user, const uint64_t *ids, size_t n)
{
    rb__phase *p = r->p;
    uint64_t item = ids[rb_rng_below(&r->rng, n)];
    if (item == p->gone)
        return;
    pthread_mutex_t *mu = &p->purch->locks[user % RB__LOCKS];
    pthread_mutex_lock(mu);
    if (p->purch->next[user] == RB_LISTS_PURCHASES) {
        pthread_mutex_unlock(mu); /* this user has bought enough */
        return;
    }
    uint8_t slot = p->purch->next[user]++;
    p->purch->ring[user][slot][0] = item;
    p->purch->ring[user][slot][1] = 0; /* not acknowledged yet */
    pthread_mutex_unlock(mu);
    char key[32];
    rb__key(key, sizeof key, user);
    int rc = rc_list_remove(r->c, p->ns, key, strlen(key), &item, 1, 0, NULL);
    if (rc != 0 && rc != RC_EMISS) {
        r->errors++;
        return;
    }
    pthread_mutex_lock(mu);
    if (p->purch->ring[user][slot][0] == item)
        p->purch->ring[user][slot][1] = rb__tick(p);
    pthread_mutex_unlock(mu);
    r->purchases++;
}

static void *rb__reader_main(void *arg)
{
    rb__reader *r = arg;
    rb__phase *p = r->p;
    uint64_t ids[RB__MAX_ITEMS];
    while (!atomic_load(&p->stop)) {
        uint32_t user = (uint32_t)rb_zipf_draw(p->users_z, &r->rng);
        rb_list_facts f;
        rb__snap(p, user, &f);
        uint64_t t0 = rb__now_us();
        long n = rb__read(r, user, ids);
        if (n < 0)
            continue;
        r->reads++;
        uint64_t culprit;
        if (rb_lists_judge(&f, ids, (size_t)n, &culprit) != RB_VERDICT_OK) {
            if (r->ghosts++ < RB__PRINT_GHOSTS)
                fprintf(stderr,
                        "violation ghost-list: %s user %" PRIu32 " item %" PRIu64
                        " served to a read sent at %" PRIu64 "\n",
                        p->ns, user, culprit, f.sent);
        }
        uint64_t gone_ack = atomic_load(&p->gone_ack);
        if (gone_ack != 0 && f.sent > gone_ack) {
            rb_hist_record(&r->lat_after, rb__now_us() - t0);
            r->reads_after++;
            r->showed_after += rb__has(ids, (size_t)n, p->gone);
        }
        if (user < RB__HOT_USERS && n > 0 && rb_rng_below(&r->rng, 100) == 0)
            rb__purchase(r, user, ids, (size_t)n);
    }
    return NULL;
}

/* ---- loading ----------------------------------------------------------------------------------
 */

typedef struct rb__loader {
    const rb_opts *o;
    const rb_zipf *catalog_z;
    uint32_t items, from, to;
    uint64_t gone;
    int failed;
    pthread_t thread;
} rb__loader;

/* Every user of [from, to) gets its list in the three namespaces, pipelined. */
static void *rb__loader_main(void *arg)
{
    rb__loader *l = arg;
    rc_client *c = rb__connect(l->o);
    rc_batch *b = c ? rc_batch_new(c) : NULL;
    uint8_t *seen = calloc(l->catalog_z->n / 8u + 2u, 1);
    if (b == NULL || seen == NULL) {
        l->failed = 1;
        goto out;
    }
    char tag[RB__STRATEGIES][48], key[32];
    static const char *const ns[RB__STRATEGIES] = {"disc-hard", "disc-soft", "disc-suppress"};
    for (int s = 0; s < RB__STRATEGIES; s++)
        rb__tag(tag[s], sizeof tag[s], ns[s], l->gone);
    uint64_t ids[RB__MAX_ITEMS];
    rc_list_item items[RB__MAX_ITEMS];
    for (uint32_t u = l->from; u < l->to && !l->failed; u++) {
        rb_lists_gen(l->catalog_z, (uint64_t)l->o->seed, u, NULL, 0, seen, ids, l->items);
        bool tagged = false;
        for (size_t i = 0; i < l->items; i++) {
            items[i] = (rc_list_item){ids[i], 1.0f / (float)(i + 1)};
            tagged |= ids[i] == l->gone;
        }
        rb__key(key, sizeof key, u);
        for (int s = 0; s < RB__STRATEGIES; s++) {
            const char *tagv[] = {tag[s]};
            rc_set_options so = {.stale_ms = RC_STALE_DEFAULT, .tags = tagv, .ntags = tagged};
            if (rc_batch_list_set(b, ns[s], key, strlen(key), items, l->items, &so) < 0)
                l->failed = 1;
        }
        if (rc_batch_count(b) >= RB__LOAD_BATCH * RB__STRATEGIES || u + 1u == l->to) {
            if (rc_batch_exec(b) != 0)
                l->failed = 1;
            for (size_t i = 0; i < rc_batch_count(b); i++)
                l->failed |= rc_batch_get_result(b, i)->status != 0;
            rc_batch_reset(b);
        }
    }
out:
    free(seen);
    rc_batch_free(b);
    rc_close(c);
    return NULL;
}

/* ---- discontinue: driver ----------------------------------------------------------------------
 */

typedef struct rb__phase_result {
    uint64_t reads, reads_after, showed_after, recomputes, origin_peak, ghosts, errors;
    uint64_t purchases, p99_us;
} rb__phase_result;

/* rb__discontinue_now - send the strategy's operation; the item is gone from the ack on. */
static int rb__discontinue_now(rb__phase *p, rc_client *c)
{
    atomic_store(&p->discontinued, true);
    int rc = p->strategy == RB__SUPPRESS
                 ? rc_suppress(c, p->ns, &p->gone, 1, 0, NULL)
                 : rc_invalidate_tag(c, p->tag, p->strategy == RB__SOFT ? RC_SOFT : RC_HARD, NULL);
    atomic_store(&p->gone_ack, rb__tick(p));
    return rc;
}

static int rb__run_phase(rb__phase *p, rb__phase_result *res)
{
    const rb_opts *o = p->o;
    int nreaders =
        o->connections < 1
            ? 1
            : (o->connections > (int)RB__MAX_READERS ? (int)RB__MAX_READERS : (int)o->connections);
    rb__reader *rs = calloc((size_t)nreaders, sizeof(*rs));
    rc_client *ctl = rb__connect(o);
    if (rs == NULL || ctl == NULL) {
        free(rs);
        rc_close(ctl);
        return -1;
    }
    int started = 0, rc = 0;
    for (; started < nreaders; started++) {
        rb__reader *r = &rs[started];
        r->p = p;
        r->c = rb__connect(o);
        r->seen = calloc(p->catalog_z->n / 8u + 2u, 1);
        rb_rng_seed(&r->rng, (uint64_t)o->seed * 7919u + (uint64_t)started * 104729u + 1u);
        rb_hist_reset(&r->lat_after);
        if (r->c == NULL || r->seen == NULL ||
            pthread_create(&r->thread, NULL, rb__reader_main, r) != 0) {
            rc_close(r->c);
            free(r->seen);
            rc = -1;
            break;
        }
    }
    if (rc == 0) {
        rb__sleep_ms(o->warmup * 1000.0);
        if (rb__discontinue_now(p, ctl) != 0)
            rc = -1;
        rb__sleep_ms(o->after * 1000.0);
    }
    atomic_store(&p->stop, true);
    rb_hist lat;
    rb_hist_reset(&lat);
    memset(res, 0, sizeof(*res));
    for (int i = 0; i < started; i++) {
        rb__reader *r = &rs[i];
        pthread_join(r->thread, NULL);
        rb_hist_add(&lat, &r->lat_after);
        res->reads += r->reads;
        res->reads_after += r->reads_after;
        res->showed_after += r->showed_after;
        res->ghosts += r->ghosts;
        res->errors += r->errors;
        res->purchases += r->purchases;
        rc_close(r->c);
        free(r->seen);
    }
    res->recomputes = atomic_load(&p->origin_after);
    res->origin_peak = atomic_load(&p->origin_peak_after);
    res->p99_us = rb_hist_percentile(&lat, 99.0);
    free(rs);
    rc_close(ctl);
    return rc;
}

static int rb__load(const rb_opts *o, const rb_zipf *catalog_z, uint32_t users, uint32_t items,
                    uint64_t gone)
{
    int n = o->threads < 1 ? 1 : (o->threads > 16 ? 16 : (int)o->threads);
    rb__loader ls[16];
    uint64_t t0 = rb__now_us();
    int failed = 0;
    rc_client *c = rb__connect(o); /* a previous run may have left the item suppressed */
    if (c == NULL || rc_unsuppress(c, "disc-suppress", &gone, 1, NULL) != 0)
        failed = 1;
    rc_close(c);
    for (int i = 0; i < n; i++) {
        ls[i] = (rb__loader){.o = o,
                             .catalog_z = catalog_z,
                             .items = items,
                             .gone = gone,
                             .from = (uint32_t)((uint64_t)users * (uint64_t)i / (uint64_t)n),
                             .to = (uint32_t)((uint64_t)users * (uint64_t)(i + 1) / (uint64_t)n)};
        if (pthread_create(&ls[i].thread, NULL, rb__loader_main, &ls[i]) != 0)
            return -1;
    }
    for (int i = 0; i < n; i++) {
        pthread_join(ls[i].thread, NULL);
        failed |= ls[i].failed;
    }
    fprintf(stderr, "loaded %" PRIu32 " users x 3 namespaces in %.1f s\n", users,
            (double)(rb__now_us() - t0) / 1e6);
    return failed ? -1 : 0;
}

static void rb__phase_json(rb_json *j, const char *name, const rb__phase_result *r)
{
    rb_json_open(j, name, '{');
    rb_json_u64(j, "origin_recomputes", r->recomputes);
    rb_json_u64(j, "origin_peak", r->origin_peak);
    rb_json_u64(j, "p99_us", r->p99_us);
    rb_json_u64(j, "reads_after", r->reads_after);
    rb_json_u64(j, "reads_showed_item", r->showed_after);
    rb_json_u64(j, "ghost_list", r->ghosts);
    rb_json_u64(j, "purchases", r->purchases);
    rb_json_u64(j, "errors", r->errors);
    rb_json_close(j, '}');
}

int rb_lists_discontinue(const rb_opts *o)
{
    uint32_t users = (uint32_t)(o->users > 0 ? o->users : 1);
    uint32_t items = (uint32_t)(o->items > 0 ? o->items : 1);
    if (items > RB__MAX_ITEMS || o->catalog < 2 * (int64_t)items) {
        fprintf(stderr, "recache-bench: --items must be 1..%u and --catalog at least twice it\n",
                RB__MAX_ITEMS);
        return 2;
    }
    rb_zipf users_z, catalog_z;
    rb__purchases *purch = calloc(1, sizeof(*purch));
    if (purch == NULL || rb_zipf_init(&users_z, users, o->alpha) != 0)
        return 2;
    if (rb_zipf_init(&catalog_z, (uint64_t)o->catalog, o->alpha) != 0)
        return 2;
    uint64_t gone = 1; /* rank 1: the most popular item */
    int status = 0;
    if (rb__load(o, &catalog_z, users, items, gone) != 0) {
        fprintf(stderr, "recache-bench: loading the lists failed (is --memory large enough?)\n");
        status = 2;
    }
    rb__phase_result res[RB__STRATEGIES];
    for (int s = 0; s < RB__STRATEGIES && status == 0; s++) {
        purch->ring = calloc(RB__HOT_USERS, sizeof(*purch->ring));
        purch->next = calloc(RB__HOT_USERS, 1);
        for (unsigned i = 0; i < RB__LOCKS; i++)
            pthread_mutex_init(&purch->locks[i], NULL);
        rb__phase p = {.o = o,
                       .strategy = s,
                       .gone = gone,
                       .users = users,
                       .items = items,
                       .users_z = &users_z,
                       .catalog_z = &catalog_z,
                       .purch = purch};
        snprintf(p.ns, sizeof p.ns, "disc-%s",
                 s == RB__HARD   ? "hard"
                 : s == RB__SOFT ? "soft"
                                 : "suppress");
        rb__tag(p.tag, sizeof p.tag, p.ns, gone);
        if (purch->ring == NULL || purch->next == NULL || rb__run_phase(&p, &res[s]) != 0)
            status = 2;
        for (unsigned i = 0; i < RB__LOCKS; i++)
            pthread_mutex_destroy(&purch->locks[i]);
        free(purch->ring);
        free(purch->next);
    }
    if (status == 0) {
        printf("discontinue: %" PRIu32 " users, lists of %" PRIu32 " items from a %d-item catalog "
               "(Zipf %.2f), %d readers, origin %d ms; item %" PRIu64 " discontinued after %.0f s, "
               "measured for %.0f s after the acknowledgement\n",
               users, items, (int)o->catalog, o->alpha, (int)o->connections, (int)o->origin_ms,
               gone, o->warmup, o->after);
        printf("%-10s %12s %12s %10s %12s %14s %10s\n", "strategy", "recomputes", "origin_peak",
               "p99_ms", "reads", "showed_item", "ghosts");
        for (int s = 0; s < RB__STRATEGIES; s++)
            printf("%-10s %12" PRIu64 " %12" PRIu64 " %10.2f %12" PRIu64 " %14" PRIu64 " %10" PRIu64
                   "\n",
                   rb__strategy_names[s], res[s].recomputes, res[s].origin_peak,
                   (double)res[s].p99_us / 1000.0, res[s].reads_after, res[s].showed_after,
                   res[s].ghosts);
        if (o->json[0]) {
            FILE *f = strcmp(o->json, "-") == 0 ? stdout : fopen(o->json, "w");
            if (f != NULL) {
                rb_json j;
                rb_json_init(&j, f);
                rb_json_open(&j, NULL, '{');
                rb_opts_json(o, &j, "options");
                for (int s = 0; s < RB__STRATEGIES; s++)
                    rb__phase_json(&j, rb__strategy_names[s], &res[s]);
                rb_json_close(&j, '}');
                fputc('\n', f);
                if (f != stdout)
                    fclose(f);
            }
        }
        for (int s = 0; s < RB__STRATEGIES; s++)
            if (res[s].ghosts)
                status = 1;
    }
    rb_zipf_free(&users_z);
    rb_zipf_free(&catalog_z);
    free(purch);
    return status;
}

/* ---- list-read: top-10 list reads against plain GETs ------------------------------------------
 */

#define RB__PERF_KEYS 1000u

/* What list-read compares: a top-10 list read, a GET of the list's stored size, of its answer's. */
enum { RB__READ_LIST, RB__READ_GET_STORED, RB__READ_GET_ANSWER, RB__READ_KINDS };
static const char *const rb__read_ns[RB__READ_KINDS] = {"perf-lists", "perf-bytes", "perf-small"};

typedef struct rb__perf_worker {
    const rb_opts *o;
    int kind; /* RB__READ_* */
    double seconds;
    uint64_t ops;
    int failed;
    pthread_t thread;
} rb__perf_worker;

static void *rb__perf_main(void *arg)
{
    rb__perf_worker *w = arg;
    rc_client *c = rb__connect(w->o);
    rc_batch *b = c ? rc_batch_new(c) : NULL;
    if (b == NULL) {
        w->failed = 1;
        rc_close(c);
        return NULL;
    }
    int depth = w->o->pipeline < 1 ? 1 : (int)w->o->pipeline;
    rb_rng rng;
    rb_rng_seed(&rng, (uint64_t)(uintptr_t)w);
    rc_list_get_options top10 = {.top = 10};
    uint64_t end = rb__now_us() + (uint64_t)(w->seconds * 1e6);
    char key[32];
    while (rb__now_us() < end && !w->failed) {
        for (int i = 0; i < depth; i++) {
            rb__key(key, sizeof key, (uint32_t)rb_rng_below(&rng, RB__PERF_KEYS));
            long rc = w->kind == RB__READ_LIST
                          ? rc_batch_list_get(b, rb__read_ns[w->kind], key, strlen(key), &top10)
                          : rc_batch_get(b, rb__read_ns[w->kind], key, strlen(key), NULL);
            w->failed |= rc < 0;
        }
        if (rc_batch_exec(b) != 0)
            w->failed = 1;
        for (size_t i = 0; i < rc_batch_count(b); i++) {
            const rc_batch_result *r = rc_batch_get_result(b, i);
            w->failed |= r->status != 0 || (w->kind == RB__READ_LIST && r->value.len != 10 * 12);
        }
        w->ops += rc_batch_count(b);
        rc_batch_reset(b);
    }
    rc_batch_free(b);
    rc_close(c);
    return NULL;
}

/* One timed run of one read kind over --connections connections: ops/s, or -1. */
static double rb__perf_run(const rb_opts *o, int kind)
{
    int n = o->connections < 1 ? 1 : (o->connections > 64 ? 64 : (int)o->connections);
    rb__perf_worker ws[64];
    int failed = 0;
    for (int i = 0; i < n; i++) {
        ws[i] = (rb__perf_worker){.o = o, .kind = kind, .seconds = o->duration};
        if (pthread_create(&ws[i].thread, NULL, rb__perf_main, &ws[i]) != 0)
            return -1;
    }
    uint64_t ops = 0;
    for (int i = 0; i < n; i++) {
        pthread_join(ws[i].thread, NULL);
        ops += ws[i].ops;
        failed |= ws[i].failed;
    }
    return failed ? -1 : (double)ops / o->duration;
}

static int rb__cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* rb__perf_setup - the lists, values of the same stored size, and the suppressions. */
static int rb__perf_setup(const rb_opts *o, uint32_t items)
{
    rc_client *c = rb__connect(o);
    if (c == NULL)
        return -1;
    size_t nsup = (size_t)(o->suppressed > 0 ? o->suppressed : 0);
    uint64_t *sup = calloc(nsup + 1u, sizeof(*sup));
    rc_list_item list[RB__MAX_ITEMS];
    uint8_t value[RB__MAX_ITEMS * 12];
    int rc = sup == NULL ? RC_ENOMEM : 0;
    /* Suppressed: 5 of each list's items past its top 10, the rest elsewhere in the catalog. */
    for (size_t i = 0; i < nsup; i++)
        sup[i] = i < 5 ? 20u + i : 1000000u + i;
    for (uint32_t i = 0; i < items; i++)
        list[i] = (rc_list_item){i + 1u, 1.0f / (float)(i + 1)};
    memset(value, 'v', sizeof value);
    char key[32];
    for (uint32_t k = 0; k < RB__PERF_KEYS && rc == 0; k++) {
        rb__key(key, sizeof key, k);
        rc = rc_list_set(c, "perf-lists", key, strlen(key), list, items, NULL, NULL);
        if (rc == 0)
            rc = rc_set(c, "perf-bytes", key, strlen(key), value, items * 12u, NULL, NULL);
        if (rc == 0)
            rc = rc_set(c, "perf-small", key, strlen(key), value, 10u * 12u, NULL, NULL);
    }
    for (size_t done = 0; done < nsup && rc == 0; done += 1000)
        rc = rc_suppress(c, "perf-lists", sup + done, nsup - done < 1000 ? nsup - done : 1000, 0,
                         NULL);
    if (rc != 0)
        fprintf(stderr, "recache-bench: list-read setup failed: %s\n", rc_strerror(rc));
    free(sup);
    rc_close(c);
    return rc == 0 ? 0 : -1;
}

int rb_lists_read_perf(const rb_opts *o)
{
    uint32_t items = (uint32_t)(o->items > 0 ? o->items : 1);
    int runs = o->runs < 1 ? 1 : (o->runs > 99 ? 99 : (int)o->runs);
    if (items < 10 || items > RB__MAX_ITEMS || rb__perf_setup(o, items) != 0)
        return 2;
    static const char *const what[RB__READ_KINDS] = {"list top-10", "get stored-size",
                                                     "get answer-size"};
    double ops[RB__READ_KINDS][99], median[RB__READ_KINDS];
    for (int i = 0; i < runs; i++) {
        printf("run %d:", i + 1);
        for (int k = 0; k < RB__READ_KINDS; k++) {
            ops[k][i] = rb__perf_run(o, k);
            if (ops[k][i] < 0) {
                fprintf(stderr, "recache-bench: a list-read run failed\n");
                return 2;
            }
            printf(" %s %.0f ops/s%s", what[k], ops[k][i], k + 1 < RB__READ_KINDS ? "," : "\n");
        }
    }
    for (int k = 0; k < RB__READ_KINDS; k++) {
        qsort(ops[k], (size_t)runs, sizeof(double), rb__cmp_double);
        median[k] = ops[k][runs / 2];
    }
    printf("list-read: %" PRIu32 "-item lists, %d suppressed ids; medians of %d runs: "
           "list top-10 %.0f ops/s; get of %" PRIu32 " bytes (the list's stored size) %.0f ops/s, "
           "ratio %.3f; get of 120 bytes (the answer's size) %.0f ops/s, ratio %.3f\n",
           items, (int)o->suppressed, runs, median[RB__READ_LIST], items * 12u,
           median[RB__READ_GET_STORED], median[RB__READ_LIST] / median[RB__READ_GET_STORED],
           median[RB__READ_GET_ANSWER], median[RB__READ_LIST] / median[RB__READ_GET_ANSWER]);
    return 0;
}
