/*
 * rb_l1.c - see rb_l1.h.
 *
 * Threading: rb_l1_run is written by the opening thread before the readers
 * start and only read by them afterwards, except the stop flag (atomic) and
 * each reader's own rb__l1_reader (its stats and rng), which the engine's
 * thread reads only after pthread_join.  The rc_l1 is thread-safe.
 */
#define _POSIX_C_SOURCE 200809L
#include "rb_l1.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <uv.h>

#include "rb_wire.h"

#define RB__L1_WAIT_MS 5000u
#define RB__L1_SYNC_MS 2000u
#define RB__L1_BATCH   16u

typedef struct rb__l1_reader {
    rb_l1_run *run;
    int which; /* the L1 it reads through: run->l1[which] */
    pthread_t tid;
    bool started;
    rb_rng rng;
    rb_stats st;
} rb__l1_reader;

struct rb_l1_run {
    const rb_l1_cfg *cfg;
    rc_l1 *l1[2];
    const char *source[2]; /* names for violation reports: "l1" or "l1-outside" */
    bool outside[2];       /* the bench's namespace is outside this L1's filter */
    int nl1;
    char outside_ns[96]; /* the namespace an "outside" L1 subscribes to */
    uint64_t t_measure, t_end;
    rb__l1_reader *readers;
};

int rb_l1_filter_ok(const char *filter)
{
    return strcmp(filter, "ns") == 0 || strcmp(filter, "all") == 0 ||
           strcmp(filter, "outside") == 0 || strcmp(filter, "mixed") == 0;
}

/* Close every L1 opened so far and free the run. */
static void rb__l1_free(rb_l1_run *r)
{
    for (int i = 0; i < r->nl1; i++)
        rc_l1_close(r->l1[i]);
    free(r->readers);
    free(r);
}

/*
 * Open one L1 subscribed to nss (n names, 0 = all) and wait until it has
 * applied the node's current sequence number.  0 or an error (closed then).
 */
static int rb__l1_open_one(const rb_l1_cfg *cfg, const char *const *nss, size_t n, rc_l1 **out)
{
    rc_l1_options lo = {
        .host = cfg->host, .port = (uint16_t)cfg->port, .namespaces = nss, .n_namespaces = n};
    int rc = rc_l1_open(&lo, out);
    if (rc != 0)
        return rc;
    rc_client *c = NULL;
    rc_client_options co = {.host = cfg->host, .port = (uint16_t)cfg->port};
    uint64_t seq = 0;
    rc = rc_connect(&co, &c);
    if (rc == 0)
        rc = rc_node_seq(c, &seq, NULL);
    rc_close(c);
    /* The library's condition variable signals when the channel has applied the node's
     * current sequence number, i.e. subscribed and caught up. */
    if (rc == 0)
        rc = rc_l1_wait_applied(*out, seq, RB__L1_WAIT_MS);
    if (rc != 0) {
        rc_l1_close(*out);
        *out = NULL;
    }
    return rc;
}

int rb_l1_open(const rb_l1_cfg *cfg, rb_l1_run **out)
{
    *out = NULL;
    rb_l1_run *r = calloc(1, sizeof(*r));
    if (r)
        r->readers = calloc(cfg->readers, sizeof(*r->readers));
    if (!r || !r->readers) {
        free(r);
        return RC_ENOMEM;
    }
    r->cfg = cfg;
    if (!rb_l1_filter_ok(cfg->filter)) {
        rb__l1_free(r);
        return RC_EINVAL;
    }
    snprintf(r->outside_ns, sizeof(r->outside_ns), "%.60s-outside", cfg->ns);
    const char *const in[1] = {cfg->ns}, *const outside[1] = {r->outside_ns};
    bool mixed = strcmp(cfg->filter, "mixed") == 0;
    int rc = 0;
    if (mixed || strcmp(cfg->filter, "ns") == 0 || strcmp(cfg->filter, "all") == 0) {
        bool all = strcmp(cfg->filter, "all") == 0;
        r->source[r->nl1] = "l1";
        rc = rb__l1_open_one(cfg, in, all ? 0 : 1, &r->l1[r->nl1]);
        r->nl1 += rc == 0;
    }
    if (rc == 0 && (mixed || strcmp(cfg->filter, "outside") == 0)) {
        r->source[r->nl1] = "l1-outside";
        r->outside[r->nl1] = true;
        rc = rb__l1_open_one(cfg, outside, 1, &r->l1[r->nl1]);
        r->nl1 += rc == 0;
    }
    if (rc != 0) {
        rb__l1_free(r);
        return rc;
    }
    *out = r;
    return 0;
}

/*
 * One read through the L1 for the snapshot *snap (taken before the batch's
 * sync), judged and counted.  Returns false when the client must be dropped.
 */
static bool rb__l1_read(rb__l1_reader *rd, rc_client *c, const rb_read_snap *snap, bool measured)
{
    const rb_l1_cfg *cfg = rd->run->cfg;
    char key[48];
    size_t klen = rb_wire_key(RB_TARGET_RECACHE, cfg->ns, snap->user, key, sizeof(key));
    rc_value v;
    int rc = rc_l1_get(rd->run->l1[rd->which], c, cfg->ns, key, klen, &v);
    if (measured)
        rd->st.l1_reads++;
    if (rc == RC_EMISS) {
        if (measured)
            rd->st.l1_misses++;
        return true;
    }
    if (rc != 0) {
        rd->st.l1_errors++;
        return rc_client_ok(c) != 0;
    }
    rb_oracle_see_version(cfg->oracle, v.ns_version);
    rb_value_info vi;
    rb_read_facts f;
    uint64_t staleness;
    rb_verdict verdict = rb_oracle_check_read(cfg->oracle, snap, true, v.stale != 0, v.data, v.len,
                                              &vi, &staleness, &f);
    if (rb_stats_verdict(&rd->st, (int)verdict, staleness)) {
        if (rd->run->outside[rd->which])
            rd->st.l1_outside_violations++;
        else
            rd->st.l1_violations++;
        rb_oracle_report(cfg->oracle, rd->run->outside[rd->which] ? RB_PATH_L1_OUTSIDE : RB_PATH_L1,
                         rd->run->source[rd->which], verdict, &f, &vi);
    }
    if (measured) {
        if (v.stale)
            rd->st.l1_stale++;
        else
            rd->st.l1_hits++;
    }
    rc_value_free(&v);
    return true;
}

/*
 * One batch: snapshot RB__L1_BATCH reads (each is "sent" now), then make the
 * L1 catch up with every event the node has published so far (rc_node_seq,
 * then rc_l1_wait_applied: the library's documented way to know that other
 * clients' changes reached this L1), then do the reads.  Every invalidation
 * a snapshot counts was acknowledged before the snapshot, so its event was
 * published before the sync and the L1 has applied it before the reads: a
 * ghost is then the L1's (or the events') fault, not propagation delay.
 * An L1 whose filter leaves the bench's namespace out gets none of its
 * events, so there is nothing to wait for: its reads must bypass it
 * (issue 9 defect 3), and they are judged without the sync.
 * Returns false when the client must be dropped.
 */
static bool rb__l1_batch(rb__l1_reader *rd, rc_client *c)
{
    const rb_l1_cfg *cfg = rd->run->cfg;
    rb_read_snap snaps[RB__L1_BATCH];
    bool measured = uv_hrtime() >= rd->run->t_measure;
    for (uint32_t i = 0; i < RB__L1_BATCH; i++)
        rb_oracle_snap(cfg->oracle, (uint32_t)rb_zipf_draw(cfg->zipf, &rd->rng), &snaps[i]);
    if (!rd->run->outside[rd->which]) {
        uint64_t seq;
        int rc = rc_node_seq(c, &seq, NULL);
        if (rc != 0) {
            rd->st.l1_errors++;
            return rc_client_ok(c) != 0;
        }
        if (rc_l1_wait_applied(rd->run->l1[rd->which], seq, RB__L1_SYNC_MS) != 0) {
            rd->st.l1_sync_timeouts++; /* not judged: the L1 is behind, not wrong (yet) */
            return true;
        }
    }
    for (uint32_t i = 0; i < RB__L1_BATCH; i++)
        if (!rb__l1_read(rd, c, &snaps[i], measured))
            return false;
    return true;
}

static void *rb__l1_main(void *arg)
{
    rb__l1_reader *rd = arg;
    rb_l1_run *r = rd->run;
    const rb_l1_cfg *cfg = r->cfg;
    rc_client_options co = {.host = cfg->host, .port = (uint16_t)cfg->port};
    rc_client *c = NULL;
    while (!atomic_load(cfg->stop) && uv_hrtime() < r->t_end) {
        if (!c && rc_connect(&co, &c) != 0) {
            rd->st.l1_errors++;
            break; /* the server is gone: the load threads will report it too */
        }
        if (!rb__l1_batch(rd, c)) {
            rc_close(c);
            c = NULL;
        }
    }
    rc_close(c);
    return NULL;
}

int rb_l1_start(rb_l1_run *r, uint64_t t_measure, uint64_t t_end)
{
    r->t_measure = t_measure;
    r->t_end = t_end;
    for (uint32_t i = 0; i < r->cfg->readers; i++) {
        rb__l1_reader *rd = &r->readers[i];
        rd->run = r;
        rd->which = (int)(i % (uint32_t)r->nl1);
        rb_rng_seed(&rd->rng, r->cfg->seed * 7919u + 0x11u + i);
        if (pthread_create(&rd->tid, NULL, rb__l1_main, rd) != 0)
            return RC_ENOMEM;
        rd->started = true;
    }
    return 0;
}

void rb_l1_finish(rb_l1_run *r, rb_stats *into, rc_l1_stats *l1)
{
    if (!r)
        return;
    atomic_store(r->cfg->stop, 1);
    for (uint32_t i = 0; i < r->cfg->readers; i++)
        if (r->readers[i].started) {
            pthread_join(r->readers[i].tid, NULL);
            if (into)
                rb_stats_add(into, &r->readers[i].st);
        }
    if (l1) {
        memset(l1, 0, sizeof(*l1));
        for (int i = 0; i < r->nl1; i++) {
            rc_l1_stats one;
            rc_l1_stats_get(r->l1[i], &one);
            l1->hits += one.hits;
            l1->misses += one.misses;
            l1->invalidations += one.invalidations;
            l1->resyncs += one.resyncs;
            l1->events += one.events;
            l1->entries += one.entries;
        }
    }
    rb__l1_free(r);
}
