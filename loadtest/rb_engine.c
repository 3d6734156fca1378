/*
 * rb_engine.c - see rb_engine.h for the design.
 *
 * Threading: rb__shared is written by the main thread before the load
 * threads start, except for its atomics (budget, flags) and the oracle.
 * Everything in an rb__thread, its connections and its origin jobs is
 * touched only by that thread's loop; the main thread reads the thread's
 * progress atomics and, after pthread_join, its stats.
 */
#define _GNU_SOURCE
#include "rb_engine.h"

#include <netdb.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/timerfd.h>
#include <unistd.h>
#include <uv.h>

#include "rb_l1.h"
#include "rb_oracle.h"
#include "rb_sync.h"
#include "rb_value.h"
#include "rb_zipf.h"

#define RB__SLOT_BITS  11u
#define RB__MAX_DEPTH  (1u << RB__SLOT_BITS)
#define RB__CTL_DEPTH  32u
#define RB__TICK_MS    50u
#define RB__GRACE_NS   (5ull * 1000000000ull)
#define RB__READ_CHUNK (64u * 1024u)

int rb_mode_parse(const char *s, rb_mode *m)
{
    static const char *const names[] = {"plain", "cache-aside", "lease"};
    for (int i = 0; i < 3; i++)
        if (strcmp(s, names[i]) == 0) {
            *m = (rb_mode)i;
            return 0;
        }
    return RC_EINVAL;
}

const char *rb_mode_name(rb_mode m)
{
    return m == RB_MODE_LEASE ? "lease" : m == RB_MODE_CACHE_ASIDE ? "cache-aside" : "plain";
}

typedef struct rb__thread rb__thread;
typedef struct rb__conn rb__conn;

/* An origin recompute and the fill that follows it. */
typedef struct rb__job {
    uv_timer_t timer;
    rb__thread *t;
    rb__conn *c;
    struct rb__job *next;                /* origin queue or the connection's fill queue */
    struct rb__job *all_prev, *all_next; /* every live job of the thread */
    uint32_t user;
    uint64_t version;
    uint64_t t_app; /* when the read that caused it was sent */
    uint64_t grant; /* the oracle's stamp of the answer that granted the lease (has_token) */
    uint8_t token[RC_TOKEN_SIZE];
    bool has_token, measured;
    bool read_pending; /* the reader has no value yet: it holds a pipeline slot until origin returns
                        */
} rb__job;

/* One request in flight. */
typedef struct rb__slot {
    uint32_t id;
    uint32_t user;
    uint8_t op;
    bool busy, measured, work; /* work: a workload request (counts against the pipeline depth) */
    bool soft;                 /* a soft tag or key invalidation */
    uint32_t tag;              /* INVTAG: the oracle's tag index */
    uint64_t t_send, t_app;
    uint64_t wid;      /* writes: the write id the value carries */
    rb_read_snap snap; /* the oracle's snapshot; snap.sent is the send stamp of every request */
} rb__slot;

struct rb__conn {
    uv_tcp_t tcp;
    uv_connect_t creq;
    uv_write_t wreq;
    rb__thread *t;
    rb_buf out, wbuf, in;
    bool writing, connected, closed, control;
    rb__slot *slots;
    uint32_t nslots, depth, inflight, work_inflight, gen, reads_sent;
    uint32_t *free_slots, nfree;
    uint32_t *fifo, fifo_head, fifo_len; /* peers: slots in send order */
    rb__job *fill_head, *fill_tail;
    uint32_t pace_index; /* open loop: position in the round robin over all connections */
    uint64_t paced;      /* open loop: scheduled requests issued so far */
};

typedef struct rb__shared {
    const rb_engine_cfg *cfg;
    const rb_opts *o;
    struct sockaddr_storage addr;
    rb_zipf zipf;
    rb_oracle oracle;
    uint32_t users, items, depth;
    uint32_t big_items;        /* items of a big value (--big-permille), 0 = none */
    uint64_t t_measure, t_end; /* ns (uv_hrtime); t_end = UINT64_MAX with --requests */
    uint64_t t_start;          /* ns; the open-loop schedule starts here (warm-up included) */
    double pace_step;          /* open loop: ns between consecutive requests overall; 0 = closed */
    uint32_t pace_conns;       /* open loop: connections in the round robin */
    _Atomic uint64_t budget_used;
    _Atomic uint64_t fill_next;
    _Atomic int over; /* workload finished (budget spent or fill done) */
    _Atomic int connect_failed;
    _Atomic int finished; /* threads whose loop has ended */
    pthread_barrier_t barrier;
    rb_l1_cfg l1cfg; /* --l1: the L1 readers' settings (l1 NULL when off) */
    rb_l1_run *l1;
    _Atomic int l1_stop;
} rb__shared;

struct rb__thread {
    rb__shared *sh;
    int index;
    pthread_t tid;
    uv_loop_t loop;
    uv_timer_t tick, ev_bump, ev_tag, ev_key, ev_del;
    uv_poll_t pace;      /* open loop: readable when pace_fd expires */
    int pace_fd;         /* open loop: timerfd on CLOCK_MONOTONIC (uv_hrtime's clock) */
    bool pacing;         /* pace_fd and pace exist */
    uint64_t pace_armed; /* absolute ns pace_fd is set to expire at; UINT64_MAX = disarmed */
    rb__conn *conns;
    uint32_t nconns, pending_connects;
    rb__conn *ctl;
    rb_rng rng;
    uint32_t tag_events; /* tag invalidations sent (alternates product and segment tags) */
    uint32_t key_events; /* key invalidations and deletes sent (alternates Zipf and uniform) */
    uint8_t *scratch;    /* one value being encoded (room for a big value) */
    uint32_t origin_limit, origin_inflight;
    rb__job *oq_head, *oq_tail, *jobs;
    uint32_t jobs_live;
    uint64_t over_at, last_recv;
    unsigned ticks;
    bool stopping;
    rb_stats st;
    rb_hist interval; /* latencies since the last progress sample */
    _Atomic uint64_t p_ops, p_reads, p_hits, p_errors, p_p99;
};

static uint64_t rb__now(void)
{
    return uv_hrtime();
}

static bool rb__is_recache(const rb__thread *t)
{
    return t->sh->cfg->target == RB_TARGET_RECACHE;
}

static void rb__conn_pump(rb__conn *c);
static void rb__conn_close(rb__conn *c, bool failed);

static void rb__conn_fail(rb__conn *c)
{
    rb__conn_close(c, true);
}

/* ---- origin jobs ---------------------------------------------------------------------------- */

static void rb__job_closed(uv_handle_t *h)
{
    rb__job *j = h->data;
    rb__thread *t = j->t;
    if (j->all_prev)
        j->all_prev->all_next = j->all_next;
    else
        t->jobs = j->all_next;
    if (j->all_next)
        j->all_next->all_prev = j->all_prev;
    t->jobs_live--;
    free(j);
}

/* Release a job; the memory goes once its timer handle is closed. */
static void rb__job_free(rb__job *j)
{
    if (!uv_is_closing((uv_handle_t *)&j->timer))
        uv_close((uv_handle_t *)&j->timer, rb__job_closed);
}

static void rb__origin_done(uv_timer_t *h);

static void rb__origin_start(rb__job *j)
{
    rb__thread *t = j->t;
    t->origin_inflight++;
    if (j->measured)
        t->st.origin_calls++;
    uint64_t now = rb__now();
    if (now >= t->sh->t_measure) {
        uint64_t sec = (now - t->sh->t_measure) / 1000000000ull;
        if (sec < RB_ORIGIN_SECONDS)
            t->st.origin_per_sec[sec]++;
    }
    uv_timer_start(&j->timer, rb__origin_done, (uint64_t)t->sh->o->origin_ms, 0);
}

/* The recompute finished: free the origin slot, queue the fill on its connection. */
static void rb__origin_done(uv_timer_t *h)
{
    rb__job *j = h->data;
    rb__thread *t = j->t;
    t->origin_inflight--;
    if (t->oq_head) {
        rb__job *n = t->oq_head;
        t->oq_head = n->next;
        if (!t->oq_head)
            t->oq_tail = NULL;
        n->next = NULL;
        rb__origin_start(n);
    }
    rb__conn *c = j->c;
    if (j->read_pending) {
        c->work_inflight--;
        if (j->measured)
            rb_hist_record(&t->st.read, rb__now() - j->t_app);
    }
    if (c->closed) {
        rb__job_free(j);
        return;
    }
    j->next = NULL;
    if (c->fill_tail)
        c->fill_tail->next = j;
    else
        c->fill_head = j;
    c->fill_tail = j;
    rb__conn_pump(c);
}

/* A read needs a recompute: make a job and start it or queue it for an origin slot. */
static void rb__origin_submit(rb__conn *c, const rb__slot *s, uint64_t version,
                              const uint8_t *token, uint64_t grant, bool read_pending)
{
    rb__thread *t = c->t;
    rb__job *j = calloc(1, sizeof(*j));
    if (!j) {
        t->st.errors++;
        return;
    }
    j->t = t;
    j->c = c;
    j->user = s->user;
    j->version = version;
    j->t_app = s->t_app;
    j->measured = s->measured;
    j->read_pending = read_pending;
    c->work_inflight += read_pending;
    if (token) {
        memcpy(j->token, token, RC_TOKEN_SIZE);
        j->has_token = true;
        j->grant = grant;
    }
    uv_timer_init(&t->loop, &j->timer);
    j->timer.data = j;
    j->all_next = t->jobs;
    if (t->jobs)
        t->jobs->all_prev = j;
    t->jobs = j;
    t->jobs_live++;
    if (t->origin_inflight < t->origin_limit) {
        rb__origin_start(j);
        return;
    }
    if (j->measured)
        t->st.origin_queued++;
    if (t->oq_tail)
        t->oq_tail->next = j;
    else
        t->oq_head = j;
    t->oq_tail = j;
}

/* ---- sending -------------------------------------------------------------------------------- */

static void rb__write_done(uv_write_t *w, int status)
{
    rb__conn *c = w->data;
    c->writing = false;
    c->wbuf.len = 0;
    if (status < 0) {
        rb__conn_fail(c);
        return;
    }
    rb__conn_pump(c);
}

/* Start writing whatever is buffered, unless a write is already in flight. */
static void rb__conn_flush(rb__conn *c)
{
    if (c->writing || c->closed || c->out.len == 0)
        return;
    rb_buf tmp = c->wbuf;
    c->wbuf = c->out;
    c->out = tmp;
    c->out.len = 0;
    uv_buf_t b = uv_buf_init((char *)c->wbuf.p, (unsigned)c->wbuf.len);
    c->wreq.data = c;
    if (uv_write(&c->wreq, (uv_stream_t *)&c->tcp, &b, 1, rb__write_done) != 0) {
        rb__conn_fail(c);
        return;
    }
    c->writing = true;
}

/* Take a free slot and stamp it; NULL when the pipeline is full. */
static rb__slot *rb__slot_take(rb__conn *c, rb_op op, uint32_t user)
{
    if (c->nfree == 0)
        return NULL;
    uint32_t idx = c->free_slots[--c->nfree];
    rb__slot *s = &c->slots[idx];
    rb__shared *sh = c->t->sh;
    s->id = (++c->gen << RB__SLOT_BITS) | idx;
    s->op = (uint8_t)op;
    s->user = user;
    s->busy = true;
    s->t_send = rb__now();
    s->t_app = s->t_send;
    s->measured = !sh->cfg->fill_only && s->t_send >= sh->t_measure && s->t_send < sh->t_end;
    rb_oracle_snap(&sh->oracle, user, &s->snap); /* stamped now, before the bytes leave */
    s->wid = 0;
    s->soft = false;
    s->tag = 0;
    s->work = op != RB_OP_FILL && !c->control;
    c->work_inflight += s->work;
    if (c->fifo)
        c->fifo[(c->fifo_head + c->fifo_len++) % c->nslots] = idx;
    c->inflight++;
    return s;
}

static void rb__slot_release(rb__conn *c, rb__slot *s)
{
    s->busy = false;
    c->work_inflight -= s->work;
    c->free_slots[c->nfree++] = (uint32_t)(s - c->slots);
    c->inflight--;
}

/*
 * --calm-ms: whether now is in a calm period (every other calm-ms period
 * from the start of the run), when no bump, tag invalidation or chase is
 * sent.  Those events drop an L1's read-through entries wholesale; in calm
 * periods L1 entries live long enough for a lost KEY event to show.
 */
static bool rb__calm(const rb__shared *sh)
{
    uint64_t period = (uint64_t)sh->o->calm_ms * 1000000ull;
    return period && ((rb__now() - sh->t_start) / period) % 2 == 1;
}

/* Encode a request; on failure the slot is released and the error counted. */
static void rb__send(rb__conn *c, rb__slot *s, rb_req *req)
{
    rb__thread *t = c->t;
    req->id = s->id;
    req->ns = t->sh->o->ns;
    req->user = s->user;
    if (rb_wire_encode(t->sh->cfg->target, req, &c->out) != 0) {
        t->st.errors++;
        if (c->fifo)
            c->fifo_len--; /* it was the newest entry */
        rb__slot_release(c, s);
    }
}

/*
 * --chase: a big lease fill was just queued on c; send a hard invalidation
 * of one of its tags (`tag`, an oracle tag index) on another connection of
 * the same thread at once, so it reaches the server while the fill's bytes
 * are still arriving: the fill-versus-invalidation race (issue 9, defect 1).
 * The invalidation is sent after the lease was granted, so the fill must be
 * rejected or killed.  Skipped when no other connection has a free slot.
 */
static void rb__chase(rb__conn *c, uint32_t user, uint32_t tag)
{
    rb__thread *t = c->t;
    const rb_tag_cfg *tc = &t->sh->oracle.tagcfg;
    rb__conn *c2 = NULL;
    for (uint32_t i = 1; i < t->nconns && !c2; i++) {
        rb__conn *x = &t->conns[((uint32_t)(c - t->conns) + i) % t->nconns];
        if (!x->closed && x->connected && x->nfree > 0)
            c2 = x;
    }
    if (!c2)
        return;
    rb_req req = {.op = RB_OP_INVTAG};
    if (tag >= tc->products) {
        req.tag_segment = 1;
        req.segment = tag - tc->products;
    } else {
        req.product = tag;
    }
    rb__slot *s = rb__slot_take(c2, RB_OP_INVTAG, user);
    c2->work_inflight -= s->work; /* not a workload request: no pipeline depth */
    s->work = false;
    s->measured = false;
    s->tag = tag;
    rb__send(c2, s, &req);
    rb__conn_flush(c2);
    t->st.chases++;
}

/*
 * A write of a fresh value for user (workload SET, or a fill from job j).
 * The value carries a new write id; its tags follow from it (rb_oracle_tags):
 * product tags first, then the segment tag when --segments is on.
 */
static void rb__send_write(rb__conn *c, rb__slot *s, const rb__job *j)
{
    rb__thread *t = c->t;
    rb__shared *sh = t->sh;
    bool big = sh->big_items && rb_rng_below(&t->rng, 1000) < (uint64_t)sh->o->big_permille;
    rb_value_info vi = {.user = s->user, .nitems = big ? sh->big_items : sh->items};
    vi.version = j ? j->version
                   : (rb__is_recache(t)
                          ? atomic_load_explicit(&sh->oracle.version_seen, memory_order_relaxed)
                          : 0);
    vi.seq = s->wid = rb_oracle_new_write(&sh->oracle, s->user, j && j->has_token ? j->grant : 0);
    rb_value_encode(t->scratch, &vi);
    if (big && s->measured)
        t->st.big_writes++;
    rb_req req = {.op = j ? RB_OP_FILL : RB_OP_SET,
                  .ns_version = vi.version,
                  .ttl_ms = (uint32_t)sh->o->ttl_ms,
                  .value = t->scratch,
                  .vlen = (uint32_t)rb_value_size(vi.nitems)};
    uint32_t tags[RB_ORACLE_MAX_TAGS];
    uint32_t ntags = rb_oracle_tags(&sh->oracle.tagcfg, s->user, s->wid, tags);
    if (ntags && tags[ntags - 1] >= sh->oracle.tagcfg.products) {
        req.has_segment = 1;
        req.segment = tags[--ntags] - sh->oracle.tagcfg.products;
    }
    req.nproducts = ntags;
    req.products = tags;
    uint32_t chase = (req.nproducts || req.has_segment) ? tags[0] : UINT32_MAX;
    if (j && j->has_token) {
        req.has_token = 1;
        memcpy(req.token, j->token, RC_TOKEN_SIZE);
    }
    rb__send(c, s, &req);
    if (big && j && j->has_token && sh->o->chase && chase != UINT32_MAX && !rb__calm(sh)) {
        rb__conn_flush(c); /* the fill's bytes start first */
        rb__chase(c, s->user, chase);
    }
}

/* ---- open-loop pacing (--rate) -------------------------------------------------------------- */

/*
 * Scheduled send time (uv_hrtime ns) of connection c's next paced request.
 * The run's schedule is one request every pace_step ns dealt round robin over
 * all connections, so connection i owns requests i, i + N, i + 2N, ...; the
 * time is computed from the count rather than by adding steps, so it cannot
 * drift.
 */
static uint64_t rb__due(const rb__conn *c)
{
    const rb__shared *sh = c->t->sh;
    double k = (double)c->pace_index + (double)c->paced * (double)sh->pace_conns;
    return sh->t_start + (uint64_t)(k * sh->pace_step);
}

/*
 * Make sure the thread's pace timer expires no later than `when` (absolute
 * uv_hrtime ns).  A timerfd rather than a uv timer: uv timers tick in whole
 * milliseconds, and since latency counts from the scheduled time, up to a
 * millisecond of wake-up slack would swamp the sub-millisecond latencies the
 * open loop exists to compare.
 */
static void rb__pace_arm(rb__thread *t, uint64_t when)
{
    if (!t->pacing || when >= t->pace_armed)
        return;
    struct itimerspec its = {.it_value = {.tv_sec = (time_t)(when / 1000000000ull),
                                          .tv_nsec = (long)(when % 1000000000ull)}};
    if (timerfd_settime(t->pace_fd, TFD_TIMER_ABSTIME, &its, NULL) != 0) {
        t->st.errors++; /* cannot happen with a valid fd; the 50 ms tick still pumps */
        return;
    }
    t->pace_armed = when;
}

/* The pace timer expired: every connection sends what has come due and re-arms the timer. */
static void rb__pace_fire(uv_poll_t *h, int status, int events)
{
    rb__thread *t = h->data;
    (void)status;
    (void)events;
    uint64_t expirations;
    /* Only clears the readable state; how often it expired does not matter, the schedule is
     * recomputed from the clock.  EAGAIN (a spurious wake-up) is harmless for the same reason. */
    ssize_t n = read(t->pace_fd, &expirations, sizeof(expirations));
    (void)n;
    t->pace_armed = UINT64_MAX;
    for (uint32_t i = 0; i < t->nconns; i++)
        rb__conn_pump(&t->conns[i]);
}

/*
 * Whether connection c still owes paced requests that are due: scheduled
 * inside the run and not sent because its pipeline was full.  The drain
 * waits for them, so a stall at the end of the window is measured too.
 */
static bool rb__backlog(const rb__conn *c)
{
    const rb__shared *sh = c->t->sh;
    if (sh->pace_step <= 0 || c->closed || atomic_load(&sh->over))
        return false;
    uint64_t due = rb__due(c);
    return due < sh->t_end && due <= rb__now();
}

/*
 * Whether connection c may start another workload request now.  On true,
 * *when is the request's nominal send time: its scheduled time in the open
 * loop (latency counts from there, so time spent queued behind a full
 * pipeline is not omitted), else now.  A paced request not yet due arms the
 * pace timer for it instead.
 */
static bool rb__may_issue(rb__conn *c, uint64_t *when)
{
    rb__thread *t = c->t;
    rb__shared *sh = t->sh;
    if (t->stopping || atomic_load_explicit(&sh->over, memory_order_relaxed))
        return false;
    if (sh->cfg->per_conn_reads && c->reads_sent >= sh->cfg->per_conn_reads)
        return false;
    uint64_t now = rb__now();
    *when = sh->pace_step > 0 ? rb__due(c) : now;
    if (*when >= sh->t_end)
        return false;
    if (*when > now) {
        rb__pace_arm(t, *when);
        return false;
    }
    if (sh->o->requests > 0 && *when >= sh->t_measure &&
        atomic_fetch_add_explicit(&sh->budget_used, 1, memory_order_relaxed) >=
            (uint64_t)sh->o->requests) {
        atomic_store(&sh->over, 1);
        return false;
    }
    return true;
}

/* Take a slot for a workload request nominally sent at `when` (see rb__may_issue). */
static rb__slot *rb__take_work(rb__conn *c, rb_op op, uint32_t user, uint64_t when)
{
    rb__shared *sh = c->t->sh;
    rb__slot *s = rb__slot_take(c, op, user);
    if (sh->pace_step > 0) {
        s->t_send = s->t_app = when;
        s->measured = when >= sh->t_measure && when < sh->t_end;
        c->paced++;
    }
    return s;
}

/* Issue one workload request (read or write) on a free slot. */
static bool rb__issue_workload(rb__conn *c)
{
    rb__thread *t = c->t;
    rb__shared *sh = t->sh;
    if (sh->cfg->fill_only) {
        uint64_t u = atomic_fetch_add_explicit(&sh->fill_next, 1, memory_order_relaxed);
        if (u >= sh->users) {
            atomic_store(&sh->over, 1);
            return false;
        }
        rb__send_write(c, rb__slot_take(c, RB_OP_SET, (uint32_t)u), NULL);
        return true;
    }
    uint64_t when;
    if (!rb__may_issue(c, &when))
        return false;
    uint32_t user = sh->cfg->fixed_user ? 0 : (uint32_t)rb_zipf_draw(&sh->zipf, &t->rng);
    bool read = sh->cfg->per_conn_reads || rb_rng_below(&t->rng, 100) < (uint64_t)sh->o->read_pct;
    if (!read) {
        rb__send_write(c, rb__take_work(c, RB_OP_SET, user, when), NULL);
        return true;
    }
    rb_op op = sh->cfg->mode == RB_MODE_LEASE ? RB_OP_LGET : RB_OP_GET;
    rb_req req = {.op = op, .wait_ms = (uint32_t)sh->o->lease_wait_ms};
    c->reads_sent++;
    rb__send(c, rb__take_work(c, op, user, when), &req);
    return true;
}

/* Fill the pipeline: queued fills first, then new workload requests. */
static void rb__conn_pump(rb__conn *c)
{
    if (c->closed || !c->connected)
        return;
    while (!c->control && c->nfree > 0) {
        rb__job *j = c->fill_head;
        if (j) {
            c->fill_head = j->next;
            if (!c->fill_head)
                c->fill_tail = NULL;
            rb__slot *s = rb__slot_take(c, RB_OP_FILL, j->user);
            s->t_app = j->t_app;
            s->measured = j->measured;
            rb__send_write(c, s, j);
            rb__job_free(j);
            continue;
        }
        if (c->work_inflight >= c->depth || !rb__issue_workload(c))
            break;
    }
    rb__conn_flush(c);
}

/* ---- responses ------------------------------------------------------------------------------ */

/* Judge a returned value with the oracle and count the verdict. */
static void rb__check_value(rb__thread *t, const rb__slot *s, const rc_msg *m)
{
    rb_value_info vi;
    rb_read_facts f;
    uint64_t staleness;
    rb_oracle *o = &t->sh->oracle;
    bool stale = rb__is_recache(t) && m->state == RC_STATE_STALE;
    rb_verdict v = rb_oracle_check_read(o, &s->snap, rb__is_recache(t), stale, m->value.ptr,
                                        m->value.len, &vi, &staleness, &f);
    if (rb_stats_verdict(&t->st, (int)v, staleness))
        rb_oracle_report(o, RB_PATH_SERVER, rb_op_name((rb_op)s->op), v, &f, &vi);
}

/* A GET or LGET answer; `stamp` is the oracle's ack stamp of the answer (a lease's grant). */
static void rb__on_read(rb__conn *c, const rb__slot *s, const rc_msg *m, uint64_t stamp)
{
    rb__thread *t = c->t;
    bool meas = s->measured;
    uint64_t lat = rb__now() - s->t_send;
    if (meas)
        t->st.reads++;
    if (m->status >= RC_STATUS_FIRST_ERROR) {
        t->st.errors++;
        return;
    }
    bool granted = s->op == RB_OP_LGET && m->lease == RC_LEASE_GRANTED;
    if (granted && meas)
        t->st.leases_won++;
    if (m->status == RC_STATUS_OK) {
        if (meas) {
            if (m->state == RC_STATE_STALE)
                t->st.stale_hits++;
            else
                t->st.hits++;
            rb_hist_record(&t->st.read, lat);
        }
        rb__check_value(t, s, m);
        if (granted)
            rb__origin_submit(c, s, m->ns_version, m->token, stamp, false);
        return;
    }
    if (m->status == RC_STATUS_MISS) {
        if (meas)
            t->st.misses++;
        if (granted)
            rb__origin_submit(c, s, m->ns_version, m->token, stamp, true);
        else if (t->sh->cfg->mode == RB_MODE_CACHE_ASIDE)
            rb__origin_submit(c, s, m->ns_version, NULL, 0, true);
        else if (meas)
            rb_hist_record(&t->st.read, lat);
        return;
    }
    if (!meas)
        return;
    if (m->status == RC_STATUS_LEASE_HELD)
        t->st.lease_held++;
    else if (m->status == RC_STATUS_WAIT_TIMEOUT)
        t->st.wait_timeouts++;
    else if (m->status == RC_STATUS_TOO_MANY_WAITERS)
        t->st.too_many_waiters++;
    else
        t->st.errors++;
}

/* A SET (workload or fill) answer; `stamp` is the oracle's ack stamp of the answer. */
static void rb__on_write(rb__thread *t, const rb__slot *s, const rc_msg *m, uint64_t stamp)
{
    bool meas = s->measured;
    if (m->status == RC_STATUS_OK) {
        rb_oracle_ack_write(&t->sh->oracle, s->user, s->wid, stamp);
        if (meas)
            s->op == RB_OP_FILL ? t->st.fills++ : t->st.writes++;
        return;
    }
    if (!meas)
        return;
    if (m->status >= RC_STATUS_FIRST_ERROR)
        t->st.errors++;
    else if (s->op == RB_OP_FILL)
        t->st.fills_rejected++;
    else
        t->st.writes++;
}

/*
 * A control answer (bump, tag or key invalidation, delete); `stamp` is the
 * oracle's ack stamp of the answer.  A key invalidation or delete answered
 * MISS is acknowledged all the same: the key must be gone either way.
 */
static void rb__on_control(rb__thread *t, const rb__slot *s, const rc_msg *m, uint64_t stamp)
{
    rb_oracle *o = &t->sh->oracle;
    if (m->status >= RC_STATUS_FIRST_ERROR) {
        t->st.errors++;
        return;
    }
    if (s->op == RB_OP_BUMP) {
        rb_oracle_ack_bump(o, m->ns_version);
        t->st.bumps++;
        return;
    }
    if (s->op == RB_OP_INVTAG) {
        rb_oracle_ack_tag(o, s->tag, s->soft, s->snap.sent, stamp);
        t->st.tag_invalidations++;
    } else {
        rb_oracle_ack_key(o, s->user, s->soft, s->snap.sent);
        s->op == RB_OP_DEL ? t->st.deletes++ : t->st.key_invalidations++;
    }
    t->st.soft_invalidations += s->soft;
}

/* Find the slot a response answers; NULL if it matches none. */
static rb__slot *rb__match(rb__conn *c, const rc_msg *m)
{
    if (c->fifo) {
        if (c->fifo_len == 0)
            return NULL;
        uint32_t idx = c->fifo[c->fifo_head];
        c->fifo_head = (c->fifo_head + 1) % c->nslots;
        c->fifo_len--;
        return &c->slots[idx];
    }
    uint32_t idx = m->request_id & (RB__MAX_DEPTH - 1u);
    if (idx >= c->nslots || !c->slots[idx].busy || c->slots[idx].id != m->request_id)
        return NULL;
    return &c->slots[idx];
}

/* Dispatch one parsed response; false when it matched no request (protocol violation). */
static bool rb__on_response(rb__conn *c, const rc_msg *m)
{
    rb__thread *t = c->t;
    rb__slot *s = rb__match(c, m);
    if (!s)
        return false;
    uint64_t stamp = rb_oracle_tick(&t->sh->oracle); /* acknowledged: after the answer arrived */
    uint64_t now = rb__now();
    t->st.answered++;
    if (s->measured) {
        rb_hist_record(&t->st.op[s->op], now - s->t_send);
        rb_hist_record(&t->interval, now - s->t_send);
        t->last_recv = now;
        uint64_t sec = now > t->sh->t_measure ? (now - t->sh->t_measure) / 1000000000ull : 0;
        if (sec < RB_ORIGIN_SECONDS)
            t->st.ops_per_sec[sec]++;
    }
    if (rb__is_recache(t) && m->status < RC_STATUS_FIRST_ERROR && m->ns_version)
        rb_oracle_see_version(&t->sh->oracle, m->ns_version);
    rb__slot slot = *s;
    rb__slot_release(c, s);
    switch (slot.op) {
    case RB_OP_GET:
    case RB_OP_LGET:
        rb__on_read(c, &slot, m, stamp);
        break;
    case RB_OP_SET:
    case RB_OP_FILL:
        rb__on_write(t, &slot, m, stamp);
        break;
    default:
        rb__on_control(t, &slot, m, stamp);
        break;
    }
    return true;
}

static void rb__alloc(uv_handle_t *h, size_t hint, uv_buf_t *buf)
{
    rb__conn *c = h->data;
    if (rb_buf_reserve(&c->in, RB__READ_CHUNK) != 0) {
        *buf = uv_buf_init(NULL, 0);
        return;
    }
    *buf = uv_buf_init((char *)c->in.p + c->in.len, (unsigned)(c->in.cap - c->in.len));
}

static void rb__read(uv_stream_t *st, ssize_t nread, const uv_buf_t *buf)
{
    rb__conn *c = st->data;
    if (nread < 0) {
        rb__conn_fail(c);
        return;
    }
    c->in.len += (size_t)nread;
    size_t off = 0;
    rb_target target = c->t->sh->cfg->target;
    while (off < c->in.len) {
        rc_msg m;
        long n = rb_wire_parse(target, c->in.p + off, c->in.len - off, &m);
        if (n == 0)
            break;
        if (n < 0 || !rb__on_response(c, &m)) {
            fprintf(stderr, "recache-bench: malformed or unmatched response; closing connection\n");
            rb__conn_fail(c);
            return;
        }
        off += (size_t)n;
    }
    memmove(c->in.p, c->in.p + off, c->in.len - off);
    c->in.len -= off;
    rb__conn_pump(c);
}

/* ---- connections ---------------------------------------------------------------------------- */

/* Close a connection; `failed` counts it as an error (a broken connection, not the end of a run).
 */
static void rb__conn_close(rb__conn *c, bool failed)
{
    if (c->closed)
        return;
    c->closed = true;
    if (failed)
        c->t->st.errors++;
    while (c->fill_head) {
        rb__job *j = c->fill_head;
        c->fill_head = j->next;
        rb__job_free(j);
    }
    c->fill_tail = NULL;
    if (!uv_is_closing((uv_handle_t *)&c->tcp))
        uv_close((uv_handle_t *)&c->tcp, NULL);
}

static void rb__connected(uv_connect_t *req, int status)
{
    rb__conn *c = req->data;
    c->t->pending_connects--;
    if (status < 0) {
        atomic_fetch_add(&c->t->sh->connect_failed, 1);
        c->closed = true;
        uv_close((uv_handle_t *)&c->tcp, NULL);
        return;
    }
    c->connected = true;
    uv_tcp_nodelay(&c->tcp, 1);
    uv_read_start((uv_stream_t *)&c->tcp, rb__alloc, rb__read);
}

static int rb__conn_init(rb__thread *t, rb__conn *c, uint32_t depth, bool control)
{
    memset(c, 0, sizeof(*c));
    c->t = t;
    c->control = control;
    /* Twice the pipeline depth: workload requests use at most `depth` slots, so a fill always
     * finds one even when every workload slot holds a parked lease read (which may be waiting
     * for exactly that fill). */
    c->depth = depth;
    c->nslots = control ? depth : 2 * depth;
    c->slots = calloc(c->nslots, sizeof(*c->slots));
    c->free_slots = calloc(c->nslots, sizeof(*c->free_slots));
    if (t->sh->cfg->target != RB_TARGET_RECACHE)
        c->fifo = calloc(c->nslots, sizeof(*c->fifo));
    if (!c->slots || !c->free_slots || (t->sh->cfg->target != RB_TARGET_RECACHE && !c->fifo))
        return RC_ENOMEM;
    for (uint32_t i = 0; i < c->nslots; i++)
        c->free_slots[c->nfree++] = c->nslots - 1 - i;
    uv_tcp_init(&t->loop, &c->tcp);
    c->tcp.data = c;
    c->creq.data = c;
    t->pending_connects++;
    if (uv_tcp_connect(&c->creq, &c->tcp, (const struct sockaddr *)&t->sh->addr, rb__connected)) {
        t->pending_connects--;
        c->closed = true;
        atomic_fetch_add(&t->sh->connect_failed, 1);
        uv_close((uv_handle_t *)&c->tcp, NULL);
    }
    return 0;
}

static void rb__conn_free(rb__conn *c)
{
    free(c->slots);
    free(c->free_slots);
    free(c->fifo);
    rb_buf_free(&c->out);
    rb_buf_free(&c->wbuf);
    rb_buf_free(&c->in);
}

/* ---- events (thread 0) ---------------------------------------------------------------------- */

static void rb__event(uv_timer_t *h)
{
    rb__thread *t = h->data;
    rb__conn *c = t->ctl;
    rb__shared *sh = t->sh;
    if (!c || c->closed || !c->connected || c->nfree == 0 || rb__now() >= sh->t_end ||
        atomic_load(&sh->over))
        return;
    if ((h == &t->ev_bump || h == &t->ev_tag) && rb__calm(sh))
        return;
    const rb_tag_cfg *tc = &sh->oracle.tagcfg;
    rb_req req = {0};
    uint32_t user = 0, tag = 0;
    if (h == &t->ev_bump) {
        req.op = RB_OP_BUMP;
    } else if (h == &t->ev_tag) {
        req.op = RB_OP_INVTAG;
        if (tc->segments && (t->tag_events++ & 1u)) {
            req.tag_segment = 1;
            req.segment = (uint32_t)rb_rng_below(&t->rng, tc->segments);
            tag = tc->products + req.segment;
        } else {
            tag = req.product = (uint32_t)rb_rng_below(&t->rng, tc->products);
        }
    } else {
        /* Every other key invalidation or delete targets a uniformly drawn user: mostly a cold
         * key, which the server may have evicted while an L1 still holds it (an invalidation
         * must publish its event even then). */
        req.op = h == &t->ev_del ? RB_OP_DEL : RB_OP_INVKEY;
        user = (t->key_events++ & 1u) ? (uint32_t)rb_rng_below(&t->rng, sh->users)
                                      : (uint32_t)rb_zipf_draw(&sh->zipf, &t->rng);
    }
    if (req.op != RB_OP_BUMP && req.op != RB_OP_DEL)
        req.soft = sh->o->soft != 0 || rb_rng_below(&t->rng, 100) < (uint64_t)sh->o->soft_pct;
    rb__slot *s = rb__slot_take(c, req.op, user);
    s->measured = false; /* control latencies are not part of the workload's numbers */
    s->soft = req.soft != 0;
    s->tag = tag;
    rb__send(c, s, &req);
    rb__conn_flush(c);
}

static void rb__start_event(rb__thread *t, uv_timer_t *tm, long long every)
{
    uv_timer_init(&t->loop, tm);
    tm->data = t;
    if (every > 0)
        uv_timer_start(tm, rb__event, (uint64_t)every, (uint64_t)every);
}

/* ---- thread lifecycle ----------------------------------------------------------------------- */

static bool rb__drained(const rb__thread *t)
{
    if (t->jobs_live)
        return false;
    for (uint32_t i = 0; i < t->nconns; i++)
        if (!t->conns[i].closed &&
            (t->conns[i].inflight || t->conns[i].writing || rb__backlog(&t->conns[i])))
            return false;
    return !t->ctl || t->ctl->closed || t->ctl->inflight == 0;
}

static void rb__close_all(rb__thread *t)
{
    t->stopping = true;
    uv_handle_t *timers[] = {(uv_handle_t *)&t->tick, (uv_handle_t *)&t->ev_bump,
                             (uv_handle_t *)&t->ev_tag, (uv_handle_t *)&t->ev_key,
                             (uv_handle_t *)&t->ev_del};
    for (size_t i = 0; i < sizeof(timers) / sizeof(timers[0]); i++)
        if (!uv_is_closing(timers[i]))
            uv_close(timers[i], NULL);
    if (t->pacing && !uv_is_closing((uv_handle_t *)&t->pace))
        uv_close((uv_handle_t *)&t->pace, NULL);
    for (uint32_t i = 0; i < t->nconns; i++)
        rb__conn_close(&t->conns[i], false);
    if (t->ctl)
        rb__conn_close(t->ctl, false);
    for (rb__job *j = t->jobs; j; j = j->all_next)
        rb__job_free(j);
}

/* Publish progress numbers for the main thread (once a second). */
static void rb__publish(rb__thread *t)
{
    atomic_store(&t->p_ops, t->st.reads + t->st.writes + t->st.fills);
    atomic_store(&t->p_reads, t->st.reads);
    atomic_store(&t->p_hits, t->st.hits + t->st.stale_hits);
    atomic_store(&t->p_errors, t->st.errors);
    atomic_store(&t->p_p99, rb_hist_percentile(&t->interval, 99.0));
    rb_hist_reset(&t->interval);
}

/* With a per-connection read quota (herd), whether every connection has used it up. */
static bool rb__quota_spent(const rb__thread *t)
{
    uint32_t quota = t->sh->cfg->per_conn_reads;
    if (!quota)
        return false;
    for (uint32_t i = 0; i < t->nconns; i++)
        if (!t->conns[i].closed && t->conns[i].reads_sent < quota)
            return false;
    return true;
}

static void rb__tick(uv_timer_t *h)
{
    rb__thread *t = h->data;
    rb__shared *sh = t->sh;
    uint64_t now = rb__now();
    if (++t->ticks % (1000u / RB__TICK_MS) == 0)
        rb__publish(t);
    bool over = atomic_load(&sh->over) || now >= sh->t_end || rb__quota_spent(t);
    for (uint32_t i = 0; i < t->nconns && !over; i++)
        rb__conn_pump(&t->conns[i]); /* a connection idle on a quota or budget resumes here */
    if (!over)
        return;
    if (!t->over_at)
        t->over_at = now;
    if (rb__drained(t) || now - t->over_at > RB__GRACE_NS + (uint64_t)sh->o->origin_ms * 4000000ull)
        rb__close_all(t);
}

static void *rb__thread_main(void *arg)
{
    rb__thread *t = arg;
    rb__shared *sh = t->sh;
    while (t->pending_connects > 0 && uv_run(&t->loop, UV_RUN_ONCE))
        ;
    /* Everyone connected (or failed: the run carries on with what connected, and the
     * failures are reported); the second barrier is the main thread setting the clock. */
    pthread_barrier_wait(&sh->barrier);
    pthread_barrier_wait(&sh->barrier);
    uv_timer_init(&t->loop, &t->tick);
    t->tick.data = t;
    uv_timer_start(&t->tick, rb__tick, RB__TICK_MS, RB__TICK_MS);
    const rb_opts *o = sh->o;
    bool events = t->index == 0 && !sh->cfg->fill_only;
    rb__start_event(t, &t->ev_bump, events ? o->bump_every : 0);
    rb__start_event(t, &t->ev_tag, events ? o->tag_every : 0);
    rb__start_event(t, &t->ev_key, events ? o->key_every : 0);
    rb__start_event(t, &t->ev_del, events ? o->delete_every : 0);
    if (t->pacing)
        uv_poll_start(&t->pace, UV_READABLE, rb__pace_fire);
    for (uint32_t i = 0; i < t->nconns; i++)
        rb__conn_pump(&t->conns[i]);
    uv_run(&t->loop, UV_RUN_DEFAULT);
    rb__publish(t);
    atomic_fetch_add(&sh->finished, 1);
    return NULL;
}

/* ---- setup ---------------------------------------------------------------------------------- */

static int rb__resolve(const char *host, int port, struct sockaddr_storage *out)
{
    char ps[16];
    snprintf(ps, sizeof(ps), "%d", port);
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM}, *res;
    if (getaddrinfo(host, ps, &hints, &res) != 0)
        return RC_ERESOLVE;
    memcpy(out, res->ai_addr, res->ai_addrlen);
    freeaddrinfo(res);
    return 0;
}

/* Ask the server for the namespace's current version (a GET of a probe key). */
static int rb__probe_version(const rb_engine_cfg *cfg, uint64_t *version)
{
    rb_sync s;
    int rc = rb_sync_connect(&s, cfg->o->host, cfg->port, 5000);
    if (rc != 0)
        return rc;
    rc_msg req, resp;
    memset(&req, 0, sizeof(req));
    req.opcode = RC_OP_GET;
    req.ns = rc_slice_str(cfg->o->ns);
    req.key = rc_slice_str("rb:probe");
    rc = rb_sync_call(&s, &req, &resp);
    if (rc == 0 && resp.status >= RC_STATUS_FIRST_ERROR)
        rc = -(int)resp.status;
    if (rc == 0)
        *version = resp.ns_version;
    rb_sync_close(&s);
    return rc;
}

/*
 * Open loop: create the thread's pace timer (a timerfd watched by a uv_poll,
 * so the loop sleeps until the next request is due and never blocks).
 * 0 or RC_EIO.
 */
static int rb__pace_init(rb__thread *t)
{
    t->pace_armed = UINT64_MAX;
    t->pace_fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
    if (t->pace_fd < 0)
        return RC_EIO;
    if (uv_poll_init(&t->loop, &t->pace, t->pace_fd) != 0) {
        close(t->pace_fd);
        return RC_EIO;
    }
    t->pace.data = t;
    t->pacing = true;
    return 0;
}

/*
 * Split connections over threads and open them (they connect once the
 * threads run).  Connection i of thread `index` takes round-robin position
 * i * threads + index, so each thread's share of an open-loop schedule is
 * spread evenly over time rather than bunched.
 */
static int rb__thread_init(rb__shared *sh, rb__thread *t, int index, uint32_t nconns)
{
    const rb_opts *o = sh->o;
    t->sh = sh;
    t->index = index;
    rb_rng_seed(&t->rng, (uint64_t)o->seed * 1000003u + (uint64_t)index);
    uint32_t nthreads = (uint32_t)o->threads;
    t->origin_limit = (uint32_t)(o->origin_concurrency / nthreads);
    if (t->origin_limit == 0)
        t->origin_limit = 1;
    t->scratch = malloc(rb_value_size(sh->big_items > sh->items ? sh->big_items : sh->items));
    t->conns = calloc(nconns ? nconns : 1, sizeof(*t->conns));
    if (!t->scratch || !t->conns || uv_loop_init(&t->loop) != 0)
        return RC_ENOMEM;
    t->nconns = nconns;
    for (uint32_t i = 0; i < nconns; i++) {
        if (rb__conn_init(t, &t->conns[i], sh->depth, false) != 0)
            return RC_ENOMEM;
        t->conns[i].pace_index = i * nthreads + (uint32_t)index;
    }
    if (sh->pace_step > 0 && rb__pace_init(t) != 0)
        return RC_EIO;
    bool events = o->bump_every > 0 || o->tag_every > 0 || o->key_every > 0 || o->delete_every > 0;
    if (index == 0 && events && !sh->cfg->fill_only) {
        t->ctl = calloc(1, sizeof(*t->ctl));
        if (!t->ctl || rb__conn_init(t, t->ctl, RB__CTL_DEPTH, true) != 0)
            return RC_ENOMEM;
    }
    return 0;
}

static void rb__thread_free(rb__thread *t)
{
    if (t->conns) {
        for (uint32_t i = 0; i < t->nconns; i++)
            rb__conn_free(&t->conns[i]);
        if (t->ctl)
            rb__conn_free(t->ctl);
        uv_loop_close(&t->loop);
    }
    if (t->pacing)
        close(t->pace_fd); /* after the loop: its poll handle was closed with the others */
    free(t->ctl);
    free(t->conns);
    free(t->scratch);
}

/* The main thread: print a progress line each second on a TTY until the threads finish. */
static void rb__progress(rb__shared *sh, rb__thread *th, int n)
{
    bool tty = !sh->cfg->quiet && isatty(STDERR_FILENO);
    uint64_t last_ops = 0, sec = 1000000000ull, next = 0;
    while (atomic_load(&sh->finished) < n) {
        usleep(100000);
        uint64_t now = rb__now();
        if (!next)
            next = sh->t_measure + sec;
        if (!tty || now < next)
            continue;
        next += sec;
        uint64_t ops = 0, reads = 0, hits = 0, errors = 0, p99 = 0;
        for (int i = 0; i < n; i++) {
            ops += atomic_load(&th[i].p_ops);
            reads += atomic_load(&th[i].p_reads);
            hits += atomic_load(&th[i].p_hits);
            errors += atomic_load(&th[i].p_errors);
            uint64_t p = atomic_load(&th[i].p_p99);
            p99 = p > p99 ? p : p99;
        }
        fprintf(stderr, "\r[%3llus] %10llu ops/s  p99 %8.1f us  hit %5.1f%%  errors %llu   ",
                (unsigned long long)((now - sh->t_measure) / sec),
                (unsigned long long)(ops - last_ops), (double)p99 / 1000.0,
                reads ? 100.0 * (double)hits / (double)reads : 0.0, (unsigned long long)errors);
        last_ops = ops;
    }
    if (tty)
        fputc('\n', stderr);
}

typedef struct rb__run {
    rb__shared sh;
    rb__thread *th;
    int nthreads;
} rb__run;

static int rb__setup(const rb_engine_cfg *cfg, rb__run *r, rb_result *res)
{
    const rb_opts *o = cfg->o;
    rb__shared *sh = &r->sh;
    sh->cfg = cfg;
    sh->o = o;
    sh->users = (uint32_t)o->users;
    sh->items = (uint32_t)o->items;
    sh->depth = (uint32_t)o->pipeline;
    sh->t_measure = sh->t_end = UINT64_MAX;
    /* The fill phase and herds are closed loop by nature: they run until a task is done. */
    if (o->rate > 0 && !cfg->fill_only && !cfg->per_conn_reads) {
        sh->pace_step = 1e9 / o->rate;
        sh->pace_conns = (uint32_t)o->connections;
    }
    int rc = rb__resolve(o->host, cfg->port, &sh->addr);
    if (rc == 0 && cfg->target == RB_TARGET_RECACHE)
        rc = rb__probe_version(cfg, &res->start_version);
    if (rc != 0)
        return rc;
    if (o->big_permille > 0)
        sh->big_items = (uint32_t)(((uint64_t)o->big_bytes - RB_VALUE_HDR) / 8u);
    rb_tag_cfg tc = {.products = (uint32_t)o->products,
                     .per_value = (uint32_t)o->tags,
                     .segments = (uint32_t)o->segments};
    if (rb_zipf_init(&sh->zipf, sh->users, o->alpha) != 0)
        return RC_ENOMEM;
    if ((rc = rb_oracle_init(&sh->oracle, sh->users, &tc)) != 0)
        return rc;
    rb_oracle_see_version(&sh->oracle, res->start_version);
    if (o->l1 > 0 && cfg->target == RB_TARGET_RECACHE && !cfg->fill_only && !cfg->per_conn_reads) {
        sh->l1cfg = (rb_l1_cfg){.host = o->host,
                                .port = cfg->port,
                                .ns = o->ns,
                                .readers = (uint32_t)o->l1,
                                .filter = o->l1_filter,
                                .zipf = &sh->zipf,
                                .oracle = &sh->oracle,
                                .seed = (uint64_t)o->seed,
                                .stop = &sh->l1_stop};
        if ((rc = rb_l1_open(&sh->l1cfg, &sh->l1)) != 0) {
            fprintf(stderr, "recache-bench: cannot open the L1: %s\n", rc_strerror(rc));
            return rc;
        }
    }
    r->nthreads = (int)o->threads;
    r->th = calloc((size_t)r->nthreads, sizeof(*r->th));
    if (!r->th)
        return RC_ENOMEM;
    uint32_t conns = (uint32_t)o->connections;
    for (int i = 0; i < r->nthreads; i++) {
        uint32_t share =
            conns / (uint32_t)r->nthreads + ((uint32_t)i < conns % (uint32_t)r->nthreads);
        if ((rc = rb__thread_init(sh, &r->th[i], i, share)) != 0)
            return rc;
    }
    return 0;
}

static void rb__teardown(rb__run *r)
{
    rb_l1_finish(r->sh.l1, NULL, NULL); /* only left open when the run failed */
    if (r->th)
        for (int i = 0; i < r->nthreads; i++)
            rb__thread_free(&r->th[i]);
    free(r->th);
    rb_zipf_free(&r->sh.zipf);
    rb_oracle_free(&r->sh.oracle);
}

/* Start the threads, set the clock once all are connected, wait for them. */
static int rb__execute(rb__run *r, rb_result *res)
{
    rb__shared *sh = &r->sh;
    const rb_opts *o = sh->o;
    pthread_barrier_init(&sh->barrier, NULL, (unsigned)r->nthreads + 1u);
    int started = 0;
    for (; started < r->nthreads; started++)
        if (pthread_create(&r->th[started].tid, NULL, rb__thread_main, &r->th[started]) != 0)
            break;
    if (started < r->nthreads) {
        fprintf(stderr, "recache-bench: cannot start threads\n");
        abort(); /* the started threads wait on a barrier that can never complete */
    }
    pthread_barrier_wait(&sh->barrier);
    uint64_t t0 = rb__now();
    sh->t_start = t0;
    double warm = sh->cfg->fill_only ? 0.0 : o->warmup;
    sh->t_measure = t0 + (uint64_t)(warm * 1e9);
    sh->t_end = (sh->cfg->fill_only || o->requests > 0)
                    ? UINT64_MAX
                    : sh->t_measure + (uint64_t)(o->duration * 1e9);
    pthread_barrier_wait(&sh->barrier);
    if (sh->l1 && rb_l1_start(sh->l1, sh->t_measure, sh->t_end) != 0)
        fprintf(stderr, "recache-bench: cannot start every L1 reader\n");
    res->connect_failures = atomic_load(&sh->connect_failed);
    if (res->connect_failures)
        fprintf(stderr, "recache-bench: %d connection(s) failed to connect\n",
                res->connect_failures);
    /* With no workload connection at all nothing can ever end a fill or a --requests run: stop
     * now rather than wait forever (the caller reports the failure). */
    if (res->connect_failures >= o->connections)
        atomic_store(&sh->over, 1);
    rb__progress(sh, r->th, r->nthreads);
    for (int i = 0; i < r->nthreads; i++)
        pthread_join(r->th[i].tid, NULL);
    if (sh->l1) {
        rb_l1_finish(sh->l1, res->stats, &res->l1);
        sh->l1 = NULL;
        res->l1_readers = (int)o->l1;
    }
    uint64_t last = 0;
    for (int i = 0; i < r->nthreads; i++) {
        rb_stats_add(res->stats, &r->th[i].st);
        last = r->th[i].last_recv > last ? r->th[i].last_recv : last;
    }
    uint64_t end = rb__now();
    res->wall_s = (double)(end - t0) / 1e9;
    if (o->requests > 0 || sh->cfg->fill_only)
        res->measured_s = last > sh->t_measure ? (double)(last - sh->t_measure) / 1e9 : 0.0;
    else if (sh->pace_step > 0 && last > sh->t_end)
        /* An open loop that fell behind answers its backlog after the window; counting those
         * answers over the nominal window would report the configured rate as achieved. */
        res->measured_s = (double)(last - sh->t_measure) / 1e9;
    else
        res->measured_s = o->duration;
    res->final_bump = atomic_load(&sh->oracle.bump_acked);
    pthread_barrier_destroy(&sh->barrier);
    return 0;
}

int rb_engine_run(const rb_engine_cfg *cfg, rb_result *res)
{
    memset(res, 0, sizeof(*res));
    res->stats = calloc(1, sizeof(*res->stats));
    rb__run *r = calloc(1, sizeof(*r));
    int rc = (res->stats && r) ? rb__setup(cfg, r, res) : RC_ENOMEM;
    if (rc == 0)
        rc = rb__execute(r, res);
    if (r)
        rb__teardown(r);
    free(r);
    if (rc != 0)
        rb_result_free(res);
    return rc;
}

void rb_result_free(rb_result *res)
{
    free(res->stats);
    res->stats = NULL;
}
