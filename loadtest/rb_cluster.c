/*
 * rb_cluster.c - recache-bench --cluster (design in rb_cluster.h).
 *
 * Threads: cfg->threads load threads and one control thread, each with its
 * own rc_cluster handle.  They share only the oracle (thread-safe), the
 * `stop` flag, and per-thread counters published through atomics for the
 * timeline; each thread's histograms are merged after it is joined.
 */
#define _GNU_SOURCE
#include "rb_cluster.h"

#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "rb_value.h"
#include "rb_zipf.h"
#include "recache/recache.h"

#define RB__MAX_THREADS 256u

typedef struct rb__shared rb__shared;

typedef struct rb__load {
    rb__shared *sh;
    int index;
    pthread_t tid;
    rc_cluster *cl;
    rb_rng rng;
    uint8_t *buf; /* value scratch */
    _Atomic uint64_t answered, failed;
    _Atomic int state[RB_CLUSTER_MAX_NODES]; /* this handle's view of each node */
    rb_cluster_result r;                     /* this thread's own counts and histograms */
} rb__load;

struct rb__shared {
    const rb_cluster_cfg *cfg;
    const char *names[RB_CLUSTER_MAX_NODES];
    size_t nnodes;
    char *spec; /* owns the strings names[] point into */
    rb_oracle oracle;
    rb_zipf zipf;
    _Atomic bool stop;
    uint64_t start_ns;
    rb__load *loads;
    rb_cluster_result control; /* the control thread's broadcast counts */
};

static uint64_t rb__ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* rb__open - an rc_cluster over the configured nodes; NULL (message printed) on error. */
static rc_cluster *rb__open(rb__shared *sh)
{
    const rb_cluster_cfg *c = sh->cfg;
    rc_cluster_options o = {.nodes = sh->names,
                            .n_nodes = sh->nnodes,
                            .io_timeout_ms = c->io_timeout_ms,
                            .connect_timeout_ms = c->io_timeout_ms < 500 ? c->io_timeout_ms : 500,
                            .tko_threshold = c->tko,
                            .probe_min_ms = 50,
                            .probe_max_ms = 500,
                            .failover_ttl_ms = c->failover_ttl_ms};
    rc_cluster *cl = NULL;
    int err = rc_cluster_open(&o, &cl);
    if (err != 0)
        fprintf(stderr, "recache-bench: --cluster: %s\n", rc_strerror(err));
    return cl;
}

/* rb__tag_name - the oracle's tag index as the tag string the values carry. */
static void rb__tag_name(const rb_tag_cfg *tc, uint32_t idx, char *out, size_t cap)
{
    if (idx < tc->products)
        snprintf(out, cap, "product:%u", idx);
    else
        snprintf(out, cap, "segment:%u", idx - tc->products);
}

static void rb__publish_states(rb__load *l)
{
    for (size_t i = 0; i < l->sh->nnodes; i++) {
        rc_cluster_node_info info;
        if (rc_cluster_node_get(l->cl, i, &info) == 0)
            atomic_store_explicit(&l->state[i], info.state, memory_order_relaxed);
    }
}

/* rb__account - one routed request's outcome: availability, per-node answer and latency. */
static void rb__account(rb__load *l, int err, uint64_t t0)
{
    rb_cluster_result *r = &l->r;
    r->attempted++;
    bool answered = err == 0 || err == RC_EMISS || err == RC_ENOT_NEWER || err == RC_EEXISTS;
    size_t node;
    if (answered && rc_cluster_last_node(l->cl, &node) == 0 && node < RB_CLUSTER_MAX_NODES) {
        r->answered++;
        r->node[node].answered++;
        rb_hist_record(&r->node[node].latency_us, (rb__ns() - t0) / 1000u);
        atomic_fetch_add_explicit(&l->answered, 1, memory_order_relaxed);
    } else {
        r->failed++;
        atomic_fetch_add_explicit(&l->failed, 1, memory_order_relaxed);
    }
}

static void rb__read(rb__load *l, uint32_t user, const char *key)
{
    rb_oracle *o = &l->sh->oracle;
    rb_read_snap snap;
    rb_oracle_snap(o, user, &snap);
    rc_value v;
    uint64_t t0 = rb__ns();
    int err = rc_cluster_get(l->cl, l->sh->cfg->ns, key, strlen(key), NULL, &v);
    rb__account(l, err, t0);
    l->r.reads++;
    if (err == RC_EMISS) {
        l->r.misses++;
        rb_oracle_see_version(o, v.ns_version);
        return;
    }
    if (err != 0)
        return;
    l->r.hits++;
    rb_oracle_see_version(o, v.ns_version);
    rb_value_info vi;
    rb_read_facts facts;
    uint64_t staleness;
    rb_verdict verdict =
        rb_oracle_check_read(o, &snap, true, v.stale, v.data, v.len, &vi, &staleness, &facts);
    l->r.verdicts[verdict]++;
    if (verdict != RB_VERDICT_OK)
        rb_oracle_report(o, RB_PATH_SERVER, "cluster-get", verdict, &facts, &vi);
    rc_value_free(&v);
}

static void rb__write(rb__load *l, uint32_t user, const char *key)
{
    rb__shared *sh = l->sh;
    rb_oracle *o = &sh->oracle;
    rb_value_info vi = {.user = user, .nitems = sh->cfg->items};
    vi.version = atomic_load_explicit(&o->version_seen, memory_order_relaxed);
    vi.seq = rb_oracle_new_write(o, user, 0);
    rb_value_encode(l->buf, &vi);
    uint32_t idx[RB_ORACLE_MAX_TAGS];
    uint32_t n = rb_oracle_tags(&o->tagcfg, user, vi.seq, idx);
    char names[RB_ORACLE_MAX_TAGS][32];
    const char *tags[RB_ORACLE_MAX_TAGS];
    for (uint32_t i = 0; i < n; i++) {
        rb__tag_name(&o->tagcfg, idx[i], names[i], sizeof names[i]);
        tags[i] = names[i];
    }
    rc_set_options so = {.version = vi.version,
                         .ttl_ms = sh->cfg->ttl_ms,
                         .stale_ms = RC_STALE_DEFAULT,
                         .tags = tags,
                         .ntags = n};
    rc_write_info info;
    uint64_t t0 = rb__ns();
    int err = rc_cluster_set(l->cl, sh->cfg->ns, key, strlen(key), l->buf, rb_value_size(vi.nitems),
                             &so, &info);
    rb__account(l, err, t0);
    l->r.writes++;
    if (err == 0)
        rb_oracle_ack_write(o, user, vi.seq, rb_oracle_tick(o));
}

static void rb__delete(rb__load *l, uint32_t user, const char *key, bool soft)
{
    rb_oracle *o = &l->sh->oracle;
    uint64_t sent = rb_oracle_tick(o);
    uint64_t t0 = rb__ns();
    const char *ns = l->sh->cfg->ns;
    int err = soft ? rc_cluster_invalidate_key(l->cl, ns, key, strlen(key), RC_SOFT, 0)
                   : rc_cluster_delete(l->cl, ns, key, strlen(key), 0);
    rb__account(l, err, t0);
    l->r.deletes++;
    if (err == 0 || err == RC_EMISS) {
        rb_oracle_tick(o); /* the acknowledgement comes after the send */
        rb_oracle_ack_key(o, user, soft, sent);
    }
}

static void *rb__load_main(void *arg)
{
    rb__load *l = arg;
    const rb_cluster_cfg *c = l->sh->cfg;
    char key[32];
    while (!atomic_load_explicit(&l->sh->stop, memory_order_relaxed)) {
        uint32_t user = (uint32_t)rb_zipf_draw(&l->sh->zipf, &l->rng);
        snprintf(key, sizeof key, "user:%u", user);
        if (rb_rng_below(&l->rng, 100) < c->read_pct)
            rb__read(l, user, key);
        else if (rb_rng_below(&l->rng, 1000) < c->del_permille)
            rb__delete(l, user, key, rb_rng_below(&l->rng, 1000) < c->soft_permille);
        else
            rb__write(l, user, key);
        rb__publish_states(l);
    }
    for (size_t i = 0; i < l->sh->nnodes; i++) {
        rc_cluster_node_info info;
        if (rc_cluster_node_get(l->cl, i, &info) == 0)
            l->r.node[i].failovers = info.failovers;
    }
    return NULL;
}

/* ---- control thread: bumps, tag invalidations, the timeline ------------------------------ */

static void rb__bump(rb__shared *sh, rc_cluster *cl)
{
    rc_node_result res[RB_CLUSTER_MAX_NODES];
    uint64_t v = 0;
    int err = rc_cluster_bump(cl, sh->cfg->ns, 0, &v, res);
    sh->control.bumps++;
    if (err == 0) {
        rb_oracle_ack_bump(&sh->oracle, v);
        rb_oracle_see_version(&sh->oracle, v);
    } else {
        sh->control.bumps_partial++;
    }
}

static void rb__invalidate_tag(rb__shared *sh, rc_cluster *cl, rb_rng *rng)
{
    rb_oracle *o = &sh->oracle;
    uint32_t idx = (uint32_t)rb_rng_below(rng, o->ntags);
    bool soft = rb_rng_below(rng, 1000) < sh->cfg->soft_permille;
    char tag[32];
    rb__tag_name(&o->tagcfg, idx, tag, sizeof tag);
    rc_node_result res[RB_CLUSTER_MAX_NODES];
    uint64_t sent = rb_oracle_tick(o);
    int err = rc_cluster_invalidate_tag(cl, tag, soft ? RC_SOFT : RC_HARD, res);
    sh->control.tag_invalidations++;
    if (err == 0)
        rb_oracle_ack_tag(o, idx, soft, sent, rb_oracle_tick(o));
    else
        sh->control.tags_partial++;
}

static void rb__timeline(rb__shared *sh, FILE *f)
{
    uint64_t answered = 0, failed = 0;
    for (uint32_t t = 0; t < sh->cfg->threads; t++) {
        answered += atomic_load_explicit(&sh->loads[t].answered, memory_order_relaxed);
        failed += atomic_load_explicit(&sh->loads[t].failed, memory_order_relaxed);
    }
    uint64_t bad = 0;
    for (int p = 0; p < RB_PATHS; p++)
        for (int v = 1; v < RB_VERDICTS; v++)
            bad += atomic_load_explicit(&sh->oracle.reported[p][v], memory_order_relaxed);
    struct timespec wall;
    clock_gettime(CLOCK_REALTIME, &wall);
    uint64_t wall_ms = (uint64_t)wall.tv_sec * 1000u + (uint64_t)wall.tv_nsec / 1000000u;
    fprintf(f,
            "{\"t_ms\":%" PRIu64 ",\"wall_ms\":%" PRIu64 ",\"answered\":%" PRIu64
            ",\"failed\":%" PRIu64 ",\"violations\":%" PRIu64 ",\"states\":\"",
            (rb__ns() - sh->start_ns) / 1000000u, wall_ms, answered, failed, bad);
    for (size_t i = 0; i < sh->nnodes; i++)
        fputc("udpr"[atomic_load_explicit(&sh->loads[0].state[i], memory_order_relaxed) & 3], f);
    fputs("\"}\n", f);
    fflush(f);
}

/* rb__control - runs on the caller's thread until the duration is over. */
static void rb__control(rb__shared *sh, rc_cluster *cl)
{
    const rb_cluster_cfg *c = sh->cfg;
    FILE *tl = c->timeline ? fopen(c->timeline, "w") : NULL;
    if (c->timeline && tl == NULL)
        perror(c->timeline);
    rb_rng rng;
    rb_rng_seed(&rng, 0xC0FFEEu);
    uint64_t end = sh->start_ns + c->duration_ms * 1000000u;
    uint64_t next_bump = c->bump_every_ms ? sh->start_ns + c->bump_every_ms * 1000000ull : 0;
    uint64_t next_tag = c->tag_every_ms ? sh->start_ns + c->tag_every_ms * 1000000ull : 0;
    uint64_t next_tl = sh->start_ns;
    for (uint64_t now = rb__ns(); now < end; now = rb__ns()) {
        if (next_bump && now >= next_bump) {
            rb__bump(sh, cl);
            next_bump += c->bump_every_ms * 1000000ull;
        }
        if (next_tag && now >= next_tag) {
            rb__invalidate_tag(sh, cl, &rng);
            next_tag += c->tag_every_ms * 1000000ull;
        }
        if (tl && now >= next_tl) {
            rb__timeline(sh, tl);
            next_tl += c->timeline_ms * 1000000ull;
        }
        struct timespec pause = {0, 2000000}; /* the control loop's tick, not a synchronisation */
        nanosleep(&pause, NULL);
    }
    atomic_store(&sh->stop, true);
    if (tl) {
        rb__timeline(sh, tl);
        fclose(tl);
    }
}

/* ---- setup and results ----------------------------------------------------------------------- */

static int rb__split(rb__shared *sh)
{
    sh->spec = strdup(sh->cfg->nodes);
    if (sh->spec == NULL)
        return RC_ENOMEM;
    for (char *save = NULL, *tok = strtok_r(sh->spec, ",", &save); tok;
         tok = strtok_r(NULL, ",", &save)) {
        if (sh->nnodes == RB_CLUSTER_MAX_NODES)
            return RC_EINVAL;
        sh->names[sh->nnodes++] = tok;
    }
    return sh->nnodes ? 0 : RC_EINVAL;
}

static void rb__merge(rb__shared *sh, rb_cluster_result *res)
{
    memset(res, 0, sizeof *res);
    for (size_t i = 0; i < sh->nnodes; i++)
        snprintf(res->node[i].name, sizeof res->node[i].name, "%s", sh->names[i]);
    res->nnodes = (uint32_t)sh->nnodes;
    for (uint32_t t = 0; t < sh->cfg->threads; t++) {
        const rb_cluster_result *r = &sh->loads[t].r;
        res->attempted += r->attempted;
        res->answered += r->answered;
        res->failed += r->failed;
        res->reads += r->reads;
        res->hits += r->hits;
        res->misses += r->misses;
        res->writes += r->writes;
        res->deletes += r->deletes;
        for (int v = 0; v < RB_VERDICTS; v++)
            res->verdicts[v] += r->verdicts[v];
        for (size_t i = 0; i < sh->nnodes; i++) {
            res->node[i].answered += r->node[i].answered;
            res->node[i].failovers += r->node[i].failovers;
            rb_hist_add(&res->node[i].latency_us, &r->node[i].latency_us);
        }
    }
    res->bumps = sh->control.bumps;
    res->bumps_partial = sh->control.bumps_partial;
    res->tag_invalidations = sh->control.tag_invalidations;
    res->tags_partial = sh->control.tags_partial;
    for (int v = 1; v < RB_VERDICTS; v++)
        res->violations += res->verdicts[v];
}

int rb_cluster_run(const rb_cluster_cfg *cfg, rb_cluster_result *res)
{
    rb__shared sh = {.cfg = cfg};
    memset(res, 0, sizeof *res);
    if (cfg->threads == 0 || cfg->threads > RB__MAX_THREADS || rb__split(&sh) != 0) {
        fprintf(stderr,
                "recache-bench: --cluster needs 1..%u nodes HOST:PORT,... and 1..%u "
                "threads\n",
                RB_CLUSTER_MAX_NODES, RB__MAX_THREADS);
        free(sh.spec);
        return RC_EINVAL;
    }
    int err = rb_oracle_init(&sh.oracle, cfg->users, &cfg->tags);
    if (err == 0 && rb_zipf_init(&sh.zipf, cfg->users, cfg->zipf) != 0)
        err = RC_ENOMEM;
    sh.loads = err ? NULL : calloc(cfg->threads, sizeof *sh.loads);
    rc_cluster *control = sh.loads ? rb__open(&sh) : NULL;
    if (control == NULL) {
        free(sh.loads);
        free(sh.spec);
        return err ? err : RC_ECONNECT;
    }
    rb__bump(&sh, control); /* a known model version to start from */
    sh.control = (rb_cluster_result){0};
    sh.start_ns = rb__ns();
    uint32_t started = 0;
    for (; started < cfg->threads; started++) {
        rb__load *l = &sh.loads[started];
        l->sh = &sh;
        l->index = (int)started;
        rb_rng_seed(&l->rng, 0x5EEDu + started);
        l->buf = malloc(rb_value_size(cfg->items));
        l->cl = l->buf ? rb__open(&sh) : NULL;
        if (l->cl == NULL || pthread_create(&l->tid, NULL, rb__load_main, l) != 0) {
            rc_cluster_close(l->cl);
            free(l->buf);
            break;
        }
    }
    if (started < cfg->threads)
        atomic_store(&sh.stop, true);
    else
        rb__control(&sh, control);
    for (uint32_t t = 0; t < started; t++) {
        pthread_join(sh.loads[t].tid, NULL);
        rc_cluster_close(sh.loads[t].cl);
        free(sh.loads[t].buf);
    }
    rb__merge(&sh, res);
    res->seconds = (double)(rb__ns() - sh.start_ns) / 1e9;
    rc_cluster_close(control);
    rb_zipf_free(&sh.zipf);
    rb_oracle_free(&sh.oracle);
    free(sh.loads);
    free(sh.spec);
    return started < cfg->threads ? RC_ECONNECT : 0;
}

void rb_cluster_print(const rb_cluster_cfg *cfg, const rb_cluster_result *r)
{
    double avail = r->attempted ? 100.0 * (double)r->answered / (double)r->attempted : 0.0;
    printf("cluster run: %u nodes, %u threads, %.1f s, namespace %s\n", r->nnodes, cfg->threads,
           r->seconds, cfg->ns);
    printf("  requests %" PRIu64 " answered %" PRIu64 " failed %" PRIu64
           " (availability %.3f%%), %.0f ops/s\n",
           r->attempted, r->answered, r->failed, avail,
           r->seconds > 0 ? (double)r->answered / r->seconds : 0.0);
    printf("  reads %" PRIu64 " (hits %" PRIu64 ", misses %" PRIu64 "), writes %" PRIu64
           ", deletes %" PRIu64 "\n",
           r->reads, r->hits, r->misses, r->writes, r->deletes);
    printf("  bumps %" PRIu64 " (not acknowledged by every node: %" PRIu64
           "), tag invalidations %" PRIu64 " (not acknowledged: %" PRIu64 ")\n",
           r->bumps, r->bumps_partial, r->tag_invalidations, r->tags_partial);
    printf("  oracle:");
    for (int v = 0; v < RB_VERDICTS; v++)
        printf(" %s=%" PRIu64, rb_verdict_name((rb_verdict)v), r->verdicts[v]);
    printf("\n  violations %" PRIu64 "\n", r->violations);
    for (uint32_t i = 0; i < r->nnodes; i++) {
        const rb_cluster_node_result *n = &r->node[i];
        printf("  node %s: answered %" PRIu64 " (%.0f/s), failover requests %" PRIu64
               ", latency p50 %" PRIu64 " us p99 %" PRIu64 " us\n",
               n->name, n->answered, r->seconds > 0 ? (double)n->answered / r->seconds : 0.0,
               n->failovers, rb_hist_percentile(&n->latency_us, 50.0),
               rb_hist_percentile(&n->latency_us, 99.0));
    }
}

void rb_cluster_json(const rb_cluster_cfg *cfg, const rb_cluster_result *r)
{
    printf("{\"mode\":\"cluster\",\"nodes\":%u,\"threads\":%u,\"seconds\":%.3f,"
           "\"attempted\":%" PRIu64 ",\"answered\":%" PRIu64 ",\"failed\":%" PRIu64
           ",\"reads\":%" PRIu64 ",\"hits\":%" PRIu64 ",\"misses\":%" PRIu64 ",\"writes\":%" PRIu64
           ",\"deletes\":%" PRIu64 ",\"bumps\":%" PRIu64 ",\"bumps_partial\":%" PRIu64
           ",\"tag_invalidations\":%" PRIu64 ",\"tags_partial\":%" PRIu64 ",\"violations\":%" PRIu64
           ",\"oracle\":{",
           r->nnodes, cfg->threads, r->seconds, r->attempted, r->answered, r->failed, r->reads,
           r->hits, r->misses, r->writes, r->deletes, r->bumps, r->bumps_partial,
           r->tag_invalidations, r->tags_partial, r->violations);
    for (int v = 0; v < RB_VERDICTS; v++)
        printf("%s\"%s\":%" PRIu64, v ? "," : "", rb_verdict_name((rb_verdict)v), r->verdicts[v]);
    printf("},\"per_node\":[");
    for (uint32_t i = 0; i < r->nnodes; i++) {
        const rb_cluster_node_result *n = &r->node[i];
        printf("%s{\"node\":\"%s\",\"answered\":%" PRIu64 ",\"failovers\":%" PRIu64
               ",\"p50_us\":%" PRIu64 ",\"p99_us\":%" PRIu64 "}",
               i ? "," : "", n->name, n->answered, n->failovers,
               rb_hist_percentile(&n->latency_us, 50.0), rb_hist_percentile(&n->latency_us, 99.0));
    }
    printf("]}\n");
}
