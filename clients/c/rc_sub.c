/*
 * rc_sub.c - the subscribe channel: the raw calls (rc_subscribe,
 * rc_next_event, rc_node_seq) and the L1's background channel thread.
 *
 * Design.  The L1 owns one thread and one connection (a normal rc_client
 * turned into an event stream by SUBSCRIBE), so the application never has
 * to drive an event loop.  The thread's life is a loop of sessions:
 *
 *   wait while paused -> connect + HELLO + SUBSCRIBE(last applied seq,
 *   instance id) -> read events, applying each to the L1 -> on any failure
 *   or silence longer than health_timeout_ms: close, back off, again.
 *
 * Backoff doubles from 50 ms to 2 s and resets after a session that
 * subscribed.  Every wait of the thread (connect, handshake, reading,
 * backoff) also polls the read end of a self-pipe, so pause, resume and
 * close take effect at once; the pipe is drained *before* paused/stopping
 * are examined, so a wake-up can never be consumed without being seen.
 * Reading uses poll() with a deadline, so a silent socket is noticed even
 * when nothing arrives (health itself is computed from the time of the last
 * frame, rc_l1.c).
 *
 * Threading: the thread touches the L1 only through rc__l1_* (which take
 * the L1 mutex) and reads paused/stopping under that mutex; its rc_client
 * is its own.  Failures are never fatal: they end the session and the
 * thread reconnects.
 */
#define _GNU_SOURCE

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "rc_l1_int.h"

#define RC__SUB_BACKOFF_MIN_MS 50u
#define RC__SUB_BACKOFF_MAX_MS 2000u

/* ---- raw channel ---------------------------------------------------------------------------- */

const char *rc_event_kind_name(int kind)
{
    static const char *const names[] = {"unknown",  "key",       "tag",       "bump",
                                        "flush",    "resync",    "heartbeat", "closing",
                                        "suppress", "unsuppress"};
    return kind >= RC_EVENT_KEY && kind <= RC_EVENT_UNSUPPRESS ? names[kind] : names[0];
}

size_t rc_event_id_count(const rc_event *ev)
{
    if (ev == NULL || (ev->kind != RC_EVENT_SUPPRESS && ev->kind != RC_EVENT_UNSUPPRESS))
        return 0;
    return ev->text_len / RC_ID_SIZE;
}

uint64_t rc_event_id(const rc_event *ev, size_t i)
{
    return i < rc_event_id_count(ev) ? rc_id_get((const uint8_t *)ev->text + i * RC_ID_SIZE) : 0;
}

int rc_subscribe(rc_client *c, const char *const *namespaces, size_t n, uint64_t from_seq,
                 uint64_t instance_id, uint64_t *node_seq, uint64_t *node_instance)
{
    rc_slice items[RC_WIRE_MAX_TAGS];
    size_t size = 1;
    rc_msg req = {0}, resp;
    if (n > RC_WIRE_MAX_TAGS || (n > 0 && namespaces == NULL))
        return RC_EINVAL;
    for (size_t i = 0; i < n; i++) {
        if (namespaces[i] == NULL || namespaces[i][0] == '\0' ||
            strlen(namespaces[i]) > RC_WIRE_MAX_NS)
            return RC_EBAD_NAMESPACE;
        items[i] = rc_slice_str(namespaces[i]);
        size += 1 + items[i].len;
    }
    uint8_t *list = malloc(size); /* up to 64 KiB: not on the (possibly small) thread stack */
    if (list == NULL)
        return RC_ENOMEM;
    long len = rc_list_encode(items, n, list, size);
    int err = len < 0 ? (int)len : 0;
    if (err == 0) {
        req.opcode = RC_OP_SUBSCRIBE;
        req.seq = from_seq;
        req.instance_id = instance_id;
        req.tags.ptr = list;
        req.tags.len = (uint32_t)len;
        req.ntags = (uint8_t)n;
        err = rc__call(c, &req, &resp);
    }
    free(list);
    if (err)
        return err;
    c->subscribed = 1;
    if (node_seq)
        *node_seq = resp.seq;
    if (node_instance)
        *node_instance = resp.instance_id;
    return 0;
}

/* rc__event_from_msg - the public view of a decoded EVENT push (slices, not copies). */
static void rc__event_from_msg(rc_event *ev, const rc_msg *m)
{
    memset(ev, 0, sizeof *ev);
    ev->kind = m->kind;
    ev->mode = m->mode;
    ev->seq = m->seq;
    ev->instance_id = m->instance_id;
    ev->ns_version = m->ns_version;
    ev->ns = (const char *)m->ns.ptr;
    ev->ns_len = m->ns.len;
    ev->key = m->key.ptr;
    ev->key_len = m->key.len;
    ev->tag = (const char *)m->tag.ptr;
    ev->tag_len = m->tag.len;
    ev->text = (const char *)m->text.ptr;
    ev->text_len = m->text.len;
}

/*
 * rc__next_event - the next push of a subscribed client, waiting until the
 * deadline.  An error frame (e.g. SLOW_CONSUMER sent before a close) is
 * returned as -status and ends the stream; any other non-push frame breaks
 * the protocol.  Returns 0, RC_ETIMEDOUT, RC_ESTATE (woken), or an error.
 */
static int rc__next_event(rc_client *c, uint64_t deadline, rc_event *ev)
{
    rc_msg m;
    if (c == NULL || ev == NULL)
        return RC_EINVAL;
    if (!c->subscribed)
        return RC_ESTATE;
    int err = rc__read_frame(c, &m, deadline);
    if (err)
        return err;
    if ((m.hflags & RC_HF_PUSH) && m.opcode == RC_OP_EVENT) {
        rc__event_from_msg(ev, &m);
        return 0;
    }
    c->usable = 0;
    if (m.status >= RC_STATUS_FIRST_ERROR) {
        rc__note_error(c, &m);
        return -(int)m.status;
    }
    return RC_EPROTOCOL;
}

int rc_next_event(rc_client *c, uint32_t timeout_ms, rc_event *ev)
{
    return rc__next_event(c, rc__now_ms() + timeout_ms, ev);
}

/* rc__stat_u64 - the number on line `name` of a STATS text.  0 or RC_EPROTOCOL. */
static int rc__stat_u64(const char *text, const char *name, uint64_t *out)
{
    size_t nlen = strlen(name);
    for (const char *line = text; line && *line;
         line = strchr(line, '\n'), line = line ? line + 1 : NULL) {
        if (strncmp(line, name, nlen) == 0 && line[nlen] == ' ') {
            char *end;
            unsigned long long v = strtoull(line + nlen + 1, &end, 10);
            if (end == line + nlen + 1)
                return RC_EPROTOCOL;
            *out = v;
            return 0;
        }
    }
    return RC_EPROTOCOL;
}

int rc_node_seq(rc_client *c, uint64_t *seq, uint64_t *instance_id)
{
    char *text = NULL;
    uint64_t s = 0, i = 0;
    int err = rc_stats(c, NULL, &text);
    if (err == 0)
        err = rc__stat_u64(text, "events_published", &s);
    if (err == 0)
        err = rc__stat_u64(text, "instance_id", &i);
    free(text);
    if (err)
        return err;
    if (seq)
        *seq = s;
    if (instance_id)
        *instance_id = i;
    return 0;
}

/* ---- the L1's channel thread ---------------------------------------------------------------- */

/* rc__sub_drain - empty the self-pipe (before looking at paused/stopping). */
static void rc__sub_drain(rc_l1 *l1)
{
    char buf[64];
    while (read(l1->wake[0], buf, sizeof buf) > 0)
        ;
}

/* rc__sub_should_leave - whether the session must end now: paused or stopping.  Takes mu. */
static int rc__sub_should_leave(rc_l1 *l1)
{
    pthread_mutex_lock(&l1->mu);
    int leave = l1->paused || l1->stopping;
    pthread_mutex_unlock(&l1->mu);
    return leave;
}

/* rc__sub_wait_control - block while paused; 1 when the thread must exit.  Takes mu. */
static int rc__sub_wait_control(rc_l1 *l1)
{
    pthread_mutex_lock(&l1->mu);
    while (l1->paused && !l1->stopping)
        pthread_cond_wait(&l1->ctl_cv, &l1->mu);
    int stop = l1->stopping;
    pthread_mutex_unlock(&l1->mu);
    return stop;
}

/* rc__sub_backoff - wait ms, or less if woken.  Not synchronisation: a reconnect delay. */
static void rc__sub_backoff(rc_l1 *l1, uint32_t ms)
{
    struct pollfd pfd = {.fd = l1->wake[0], .events = POLLIN, .revents = 0};
    while (poll(&pfd, 1, (int)ms) < 0 && errno == EINTR)
        ;
}

/*
 * rc__sub_read_loop - apply events until the connection fails, stays
 * silent for health_timeout_ms, or the thread is told to leave.
 */
static void rc__sub_read_loop(rc_l1 *l1, rc_client *c)
{
    for (;;) {
        rc_event ev;
        int err = rc__next_event(c, rc__now_ms() + l1->health_timeout_ms, &ev);
        if (err == 0) {
            rc__l1_apply_event(l1, &ev);
            continue;
        }
        if (err != RC_ESTATE)
            return; /* closed, broken or silent: reconnect and resume */
        rc__sub_drain(l1);
        if (rc__sub_should_leave(l1))
            return;
    }
}

/*
 * rc__sub_session - one connection: connect, subscribe from the last
 * applied event, read.  Returns 1 if it subscribed (resets the backoff).
 */
static int rc__sub_session(rc_l1 *l1)
{
    rc_client_options o = {.host = l1->host,
                           .port = l1->port,
                           .connect_timeout_ms = l1->connect_timeout_ms,
                           .io_timeout_ms = l1->io_timeout_ms};
    rc_client *c = NULL;
    if (rc__connect_wake(&o, l1->wake[0], &c) != 0)
        return 0;
    uint64_t seq, instance, node_seq, node_instance;
    rc__l1_resume_point(l1, &seq, &instance);
    int err = rc_subscribe(c, (const char *const *)l1->namespaces, l1->n_namespaces, seq, instance,
                           &node_seq, &node_instance);
    if (err == 0) {
        rc__l1_subscribed(l1, node_seq, node_instance);
        rc__sub_read_loop(l1, c);
        rc__l1_disconnected(l1);
    }
    rc_close(c);
    return err == 0;
}

/* rc__sub_main - the channel thread: sessions with backoff until stopped. */
static void *rc__sub_main(void *arg)
{
    rc_l1 *l1 = arg;
    uint32_t backoff = RC__SUB_BACKOFF_MIN_MS;
    for (;;) {
        rc__sub_drain(l1);
        if (rc__sub_wait_control(l1))
            break;
        if (rc__sub_session(l1))
            backoff = RC__SUB_BACKOFF_MIN_MS;
        rc__sub_drain(l1);
        if (rc__sub_should_leave(l1))
            continue; /* paused or stopping: no backoff, go straight to the control wait */
        rc__sub_backoff(l1, backoff);
        backoff = backoff * 2 > RC__SUB_BACKOFF_MAX_MS ? RC__SUB_BACKOFF_MAX_MS : backoff * 2;
    }
    return NULL;
}

void rc__sub_wake(rc_l1 *l1)
{
    if (l1->wake[1] < 0)
        return;
    ssize_t n;
    do
        n = write(l1->wake[1], "w", 1);
    while (n < 0 && errno == EINTR); /* EAGAIN: the pipe is full, the thread is awake anyway */
}

int rc__sub_start(rc_l1 *l1)
{
    if (pipe2(l1->wake, O_CLOEXEC | O_NONBLOCK) != 0) {
        l1->wake[0] = l1->wake[1] = -1;
        return RC_ENOMEM;
    }
    if (pthread_create(&l1->thread, NULL, rc__sub_main, l1) != 0)
        return RC_ENOMEM;
    l1->thread_started = 1;
    return 0;
}

void rc__sub_stop(rc_l1 *l1)
{
    pthread_mutex_lock(&l1->mu);
    l1->stopping = 1;
    pthread_cond_broadcast(&l1->ctl_cv);
    pthread_cond_broadcast(&l1->applied_cv);
    pthread_mutex_unlock(&l1->mu);
    rc__sub_wake(l1);
    if (l1->thread_started)
        pthread_join(l1->thread, NULL);
    l1->thread_started = 0;
    for (int i = 0; i < 2; i++)
        if (l1->wake[i] >= 0)
            close(l1->wake[i]);
    l1->wake[0] = l1->wake[1] = -1;
}
