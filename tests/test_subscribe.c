/*
 * test_subscribe.c - the server side of the subscribe channel, over raw
 * sockets with the codec against a real server (rc_harness).
 *
 * Cases: every state change publishes the matching event with sequence
 * numbers increasing by one; the namespace filter; fan-out from writers on
 * several workers to subscribers on several workers; requests interleaved
 * with pushes on a subscribed connection; resume with replay, RESYNC after
 * falling out of a tiny ring or with a wrong instance id; heartbeats; a
 * subscriber that never reads is cut off with CLOSING at its output limit
 * while the server keeps answering; CLOSING on shutdown.
 *
 * Synchronisation is always a frame the server sends (a response, an
 * event, a heartbeat), read with the harness's 5 s socket timeout as the
 * bound; nothing sleeps.
 */
#define _GNU_SOURCE /* memmem */

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "rc_harness.h"
#include "rc_test.h"
#include "recache/rc_proto.h"

#define BODY_CAP  (256u * 1024u)
#define MAX_FRAME (1u << 24) /* the header limit frames are read with */

static rc_harness_server srv;
static uint32_t next_id = 1;

/* ---- raw frames ----------------------------------------------------------------------------- */

/* Encode msg as a request with a fresh id, append it to buf; returns the id. */
static uint32_t encode_req(rc_msg *msg, uint8_t *buf, size_t cap, size_t *len)
{
    msg->hflags = 0;
    msg->request_id = next_id++;
    long n = rc_encode(msg, buf + *len, cap - *len);
    if (n <= 0)
        fprintf(stderr, "cannot encode %s: %s\n", rc_opcode_name(msg->opcode), rc_strerror((int)n));
    RC_CHECK(n > 0);
    *len += (size_t)n;
    return msg->request_id;
}

static uint32_t send_req(int fd, rc_msg *msg)
{
    uint8_t buf[4096];
    size_t len = 0;
    uint32_t id = encode_req(msg, buf, sizeof buf, &len);
    rc_harness_send_all(fd, buf, len);
    return id;
}

/* The response to request `id`, skipping pushes. */
static void recv_resp(int fd, uint32_t id, rc_msg *msg, uint8_t *body)
{
    for (;;) {
        RC_CHECK(rc_harness_recv_frame(fd, msg, body, BODY_CAP, MAX_FRAME) == 0);
        if (msg->hflags & RC_HF_PUSH)
            continue;
        RC_CHECK(msg->hflags & RC_HF_RESPONSE);
        RC_CHECK_EQ_INT(msg->request_id, id);
        return;
    }
}

/* Send msg, expect status; the response is left in msg. */
static void call(int fd, rc_msg *msg, uint16_t status)
{
    static uint8_t body[BODY_CAP];
    uint32_t id = send_req(fd, msg);
    recv_resp(fd, id, msg, body);
    RC_CHECK_EQ_INT(msg->status, status);
}

/* The next pushed event other than a heartbeat. */
static void next_event(int fd, rc_msg *ev, uint8_t *body)
{
    do {
        RC_CHECK(rc_harness_recv_frame(fd, ev, body, BODY_CAP, MAX_FRAME) == 0);
        RC_CHECK(ev->hflags & RC_HF_PUSH);
        RC_CHECK_EQ_INT(ev->opcode, RC_OP_EVENT);
    } while (ev->kind == RC_EV_HEARTBEAT);
}

/* ---- operations ----------------------------------------------------------------------------- */

static int writer(void)
{
    int fd = rc_harness_raw_connect(&srv);
    RC_CHECK(fd >= 0);
    return fd;
}

/*
 * set_one_item_list - encode the one-element list {item} into buf (cap
 * bytes, owned by the caller; it must outlive m's use) and attach it as
 * m's list (the tags field, which SUBSCRIBE uses for namespaces).  Fails
 * the test if it does not encode.
 */
static void set_one_item_list(rc_msg *m, const char *item, uint8_t *buf, size_t cap)
{
    rc_slice s = rc_slice_str(item);
    long n = rc_list_encode(&s, 1, buf, cap);
    RC_CHECK(n > 0);
    m->tags = (rc_slice){buf, (uint32_t)n};
    m->ntags = 1;
}

static void w_set(int fd, const char *ns, const char *key, const char *tag)
{
    uint8_t tags[300];
    rc_msg m = {.opcode = RC_OP_SET,
                .ns = rc_slice_str(ns),
                .key = rc_slice_str(key),
                .value = rc_slice_str("v"),
                .stale_ms = RC_STALE_DEFAULT};
    if (tag != NULL)
        set_one_item_list(&m, tag, tags, sizeof tags);
    call(fd, &m, RC_STATUS_OK);
}

static void w_key_op(int fd, uint8_t opcode, const char *ns, const char *key, uint8_t mode,
                     uint16_t status)
{
    rc_msg m = {.opcode = opcode, .ns = rc_slice_str(ns), .key = rc_slice_str(key), .mode = mode};
    call(fd, &m, status);
}

static void w_tag(int fd, const char *tag, uint8_t mode)
{
    rc_msg m = {.opcode = RC_OP_INVALIDATE_TAG, .tag = rc_slice_str(tag), .mode = mode};
    call(fd, &m, RC_STATUS_OK);
}

static void w_bump(int fd, const char *ns)
{
    rc_msg m = {.opcode = RC_OP_BUMP, .ns = rc_slice_str(ns)};
    call(fd, &m, RC_STATUS_OK);
}

/* STATS value `name`. */
static long long w_stat(int fd, const char *name)
{
    rc_msg m = {.opcode = RC_OP_STATS};
    call(fd, &m, RC_STATUS_OK);
    char text[65536];
    RC_CHECK(m.value.len < sizeof text);
    memcpy(text, m.value.ptr, m.value.len);
    text[m.value.len] = '\0';
    return rc_harness_stat(text, name);
}

/* Subscribe on fd; returns the response's seq and sets *inst. */
static uint64_t subscribe_on(int fd, uint64_t seq, uint64_t inst, const char *ns,
                             uint64_t *inst_out)
{
    uint8_t names[300];
    rc_msg m = {.opcode = RC_OP_SUBSCRIBE, .seq = seq, .instance_id = inst};
    if (ns != NULL)
        set_one_item_list(&m, ns, names, sizeof names);
    call(fd, &m, RC_STATUS_OK);
    RC_CHECK(m.instance_id != 0);
    if (inst_out != NULL)
        *inst_out = m.instance_id;
    return m.seq;
}

static int subscriber(uint64_t seq, uint64_t inst, const char *ns, uint64_t *resp_seq,
                      uint64_t *inst_out)
{
    int fd = rc_harness_raw_connect(&srv);
    RC_CHECK(fd >= 0);
    *resp_seq = subscribe_on(fd, seq, inst, ns, inst_out);
    return fd;
}

static void expect_key(int fd, uint64_t seq, const char *ns, const char *key, uint8_t mode,
                       uint64_t version)
{
    static uint8_t body[BODY_CAP];
    rc_msg ev;
    next_event(fd, &ev, body);
    RC_CHECK_EQ_INT(ev.kind, RC_EV_KEY);
    RC_CHECK_EQ_U64(ev.seq, seq);
    RC_CHECK_MEM(ev.ns.ptr, ev.ns.len, ns, strlen(ns));
    RC_CHECK_MEM(ev.key.ptr, ev.key.len, key, strlen(key));
    RC_CHECK_EQ_INT(ev.mode, mode);
    RC_CHECK_EQ_U64(ev.ns_version, version);
}

/* The next event must be of `kind` with `seq`; returns it (slices valid until the next call). */
static rc_msg expect_kind(int fd, uint8_t kind, uint64_t seq)
{
    static uint8_t body[BODY_CAP];
    rc_msg ev;
    next_event(fd, &ev, body);
    RC_CHECK_EQ_INT(ev.kind, kind);
    RC_CHECK_EQ_U64(ev.seq, seq);
    return ev;
}

/* ---- cases ---------------------------------------------------------------------------------- */

static void test_every_change_publishes(void)
{
    uint64_t inst, s;
    int sub = subscriber(0, 0, NULL, &s, &inst);
    int w = writer();
    w_set(w, "a", "k1", "t1");
    expect_key(sub, s + 1, "a", "k1", RC_INVAL_HARD, 1);
    w_key_op(w, RC_OP_DELETE, "a", "k1", 0, RC_STATUS_OK);
    expect_key(sub, s + 2, "a", "k1", RC_INVAL_HARD, 1);
    w_set(w, "a", "k2", NULL);
    expect_key(sub, s + 3, "a", "k2", RC_INVAL_HARD, 1);
    w_key_op(w, RC_OP_INVALIDATE_KEY, "a", "k2", RC_INVAL_SOFT, RC_STATUS_OK);
    expect_key(sub, s + 4, "a", "k2", RC_INVAL_SOFT, 1);
    w_tag(w, "t1", RC_INVAL_HARD);
    rc_msg ev = expect_kind(sub, RC_EV_TAG, s + 5);
    RC_CHECK_MEM(ev.tag.ptr, ev.tag.len, "t1", 2);
    RC_CHECK_EQ_INT(ev.mode, RC_INVAL_HARD);
    w_tag(w, "never-used", RC_INVAL_SOFT); /* published even though nothing carries it */
    ev = expect_kind(sub, RC_EV_TAG, s + 6);
    RC_CHECK_EQ_INT(ev.mode, RC_INVAL_SOFT);
    w_bump(w, "a");
    ev = expect_kind(sub, RC_EV_BUMP, s + 7);
    RC_CHECK_MEM(ev.ns.ptr, ev.ns.len, "a", 1);
    RC_CHECK_EQ_U64(ev.ns_version, 2);
    rc_msg get = {
        .opcode = RC_OP_GET, .ns = rc_slice_str("a"), .key = rc_slice_str("x"), .min_version = 5};
    call(w, &get, RC_STATUS_MISS);
    ev = expect_kind(sub, RC_EV_BUMP, s + 8);
    RC_CHECK_EQ_U64(ev.ns_version, 5);
    RC_CHECK_EQ_U64(ev.instance_id, inst);
    rc_msg flush = {.opcode = RC_OP_FLUSH};
    call(w, &flush, RC_STATUS_OK);
    expect_kind(sub, RC_EV_FLUSH, s + 9);

    /* The subscribed connection still answers requests, interleaved with pushes. */
    rc_msg ping = {.opcode = RC_OP_PING};
    call(sub, &ping, RC_STATUS_OK);
    RC_CHECK_EQ_INT(w_stat(w, "subscribers"), 1);
    RC_CHECK(w_stat(w, "events_published") >= 9);
    close(sub);
    close(w);
}

/* The next event must be KEY for ns/key with this mode and cause (the event's text). */
static void expect_cause(int fd, uint64_t seq, const char *ns, const char *key, uint8_t mode,
                         const char *cause)
{
    static uint8_t body[BODY_CAP];
    rc_msg ev;
    next_event(fd, &ev, body);
    RC_CHECK_EQ_INT(ev.kind, RC_EV_KEY);
    RC_CHECK_EQ_U64(ev.seq, seq);
    RC_CHECK_MEM(ev.ns.ptr, ev.ns.len, ns, strlen(ns));
    RC_CHECK_MEM(ev.key.ptr, ev.key.len, key, strlen(key));
    RC_CHECK_EQ_INT(ev.mode, mode);
    RC_CHECK_MEM(ev.text.ptr, ev.text.len, cause, strlen(cause));
}

/*
 * Invalidations publish whether or not the node still holds the key: a
 * near-cache may hold a copy of an entry the node evicted or expired (or of
 * a namespace the node no longer has).  TOUCH publishes too, so no copy
 * outlives a shortened TTL.  Every KEY event names its cause.
 */
static void test_invalidations_publish_on_miss(void)
{
    uint64_t s;
    int sub = subscriber(0, 0, NULL, &s, NULL);
    int w = writer();
    w_set(w, "m", "held", NULL);
    expect_cause(sub, s + 1, "m", "held", RC_INVAL_HARD, "set");
    w_key_op(w, RC_OP_DELETE, "m", "gone", 0, RC_STATUS_MISS);
    expect_cause(sub, s + 2, "m", "gone", RC_INVAL_HARD, "delete");
    w_key_op(w, RC_OP_INVALIDATE_KEY, "m", "gone", RC_INVAL_HARD, RC_STATUS_MISS);
    expect_cause(sub, s + 3, "m", "gone", RC_INVAL_HARD, "invalidate");
    w_key_op(w, RC_OP_INVALIDATE_KEY, "m", "gone", RC_INVAL_SOFT, RC_STATUS_MISS);
    expect_cause(sub, s + 4, "m", "gone", RC_INVAL_SOFT, "invalidate");
    w_key_op(w, RC_OP_DELETE, "never-written-ns", "k", 0, RC_STATUS_MISS);
    expect_cause(sub, s + 5, "never-written-ns", "k", RC_INVAL_HARD, "delete");
    rc_msg touch = {.opcode = RC_OP_TOUCH,
                    .ns = rc_slice_str("m"),
                    .key = rc_slice_str("held"),
                    .ttl_ms = 1000};
    call(w, &touch, RC_STATUS_OK);
    expect_cause(sub, s + 6, "m", "held", RC_INVAL_HARD, "touch");
    touch = (rc_msg){.opcode = RC_OP_TOUCH,
                     .ns = rc_slice_str("m"),
                     .key = rc_slice_str("gone"),
                     .ttl_ms = 1000}; /* call() left the response in it */
    call(w, &touch, RC_STATUS_MISS);
    expect_cause(sub, s + 7, "m", "gone", RC_INVAL_HARD, "touch");
    w_key_op(w, RC_OP_DELETE, "m", "held", 0, RC_STATUS_OK);
    expect_cause(sub, s + 8, "m", "held", RC_INVAL_HARD, "delete");
    /* Bad requests change nothing and publish nothing. */
    char long_ns[101];
    memset(long_ns, 'n', 100);
    long_ns[100] = '\0'; /* valid on the wire, over the server's max-namespace */
    w_key_op(w, RC_OP_DELETE, long_ns, "k", 0, RC_STATUS_BAD_NAMESPACE);
    w_tag(w, "marker", RC_INVAL_HARD);
    expect_kind(sub, RC_EV_TAG, s + 9);
    close(sub);
    close(w);
}

static void test_namespace_filter(void)
{
    uint64_t s;
    int sub = subscriber(0, 0, "a", &s, NULL);
    int w = writer();
    w_set(w, "b", "kb", NULL); /* s+1: not for this subscriber */
    w_set(w, "a", "ka", NULL); /* s+2 */
    expect_key(sub, s + 2, "a", "ka", RC_INVAL_HARD, 5);
    w_bump(w, "b");               /* s+3: not delivered */
    w_tag(w, "t", RC_INVAL_HARD); /* s+4: tags concern every namespace */
    expect_kind(sub, RC_EV_TAG, s + 4);
    rc_msg flush = {.opcode = RC_OP_FLUSH};
    call(w, &flush, RC_STATUS_OK); /* s+5 */
    expect_kind(sub, RC_EV_FLUSH, s + 5);

    /* A second SUBSCRIBE replaces the filter: now "b" only, from now on. */
    uint64_t s2 = subscribe_on(sub, 0, 0, "b", NULL);
    RC_CHECK_EQ_U64(s2, s + 5);
    w_set(w, "a", "ka", NULL);
    w_set(w, "b", "kb", NULL);
    expect_key(sub, s + 7, "b", "kb", RC_INVAL_HARD, 2);
    close(sub);
    close(w);
}

static void test_resume_replays(void)
{
    uint64_t inst, s;
    int sub = subscriber(0, 0, NULL, &s, &inst);
    int w = writer();
    long long replayed = w_stat(w, "events_replayed");
    w_set(w, "r", "r0", NULL);
    expect_key(sub, s + 1, "r", "r0", RC_INVAL_HARD, 1);
    close(sub);
    w_set(w, "r", "r1", NULL);
    w_set(w, "r", "r2", NULL);
    w_key_op(w, RC_OP_DELETE, "r", "r1", 0, RC_STATUS_OK);

    uint64_t now;
    sub = subscriber(s + 1, inst, NULL, &now, NULL);
    RC_CHECK_EQ_U64(now, s + 4);
    expect_key(sub, s + 2, "r", "r1", RC_INVAL_HARD, 1);
    expect_key(sub, s + 3, "r", "r2", RC_INVAL_HARD, 1);
    expect_key(sub, s + 4, "r", "r1", RC_INVAL_HARD, 1);
    w_set(w, "r", "r3", NULL); /* live again, nothing in between */
    expect_key(sub, s + 5, "r", "r3", RC_INVAL_HARD, 1);
    RC_CHECK_EQ_INT(w_stat(w, "events_replayed") - replayed, 3);
    close(sub);

    /* Another instance's numbers mean nothing here: RESYNC first, then live. */
    long long resyncs = w_stat(w, "resyncs");
    sub = subscriber(s + 5, inst + 1, NULL, &now, NULL);
    RC_CHECK_EQ_U64(now, s + 5);
    expect_kind(sub, RC_EV_RESYNC, s + 5);
    w_set(w, "r", "r4", NULL);
    expect_key(sub, s + 6, "r", "r4", RC_INVAL_HARD, 1);
    RC_CHECK_EQ_INT(w_stat(w, "resyncs") - resyncs, 1);
    close(sub);
    close(w);
}

/* Subscribe, then shut the server down: CLOSING "server shutting down", then EOF. */
static void check_closing_on_shutdown(void)
{
    uint64_t s;
    int sub = subscriber(0, 0, NULL, &s, NULL);
    RC_CHECK_EQ_INT(rc_harness_stop(&srv), 0);
    rc_msg ev = expect_kind(sub, RC_EV_CLOSING, s);
    RC_CHECK_MEM(ev.text.ptr, ev.text.len, "server shutting down", 20);
    uint8_t b;
    RC_CHECK(read(sub, &b, 1) == 0);
    close(sub);
}

static void test_tiny_ring_resyncs(void)
{
    const char *args[] = {"--event-ring", "16", NULL};
    RC_CHECK(rc_harness_start(&srv, args) == 0);
    uint64_t inst, s;
    int sub = subscriber(0, 0, NULL, &s, &inst);
    int w = writer();
    w_set(w, "t", "first", NULL);
    expect_key(sub, s + 1, "t", "first", RC_INVAL_HARD, 1);
    close(sub);
    char key[32];
    for (int i = 0; i < 100; i++) {
        snprintf(key, sizeof key, "k%d", i);
        w_set(w, "t", key, NULL);
    }
    uint64_t now;
    sub = subscriber(s + 1, inst, NULL, &now, NULL);
    RC_CHECK_EQ_U64(now, s + 101);
    expect_kind(sub, RC_EV_RESYNC, s + 101);
    w_set(w, "t", "after", NULL);
    expect_key(sub, s + 102, "t", "after", RC_INVAL_HARD, 1);
    RC_CHECK_EQ_INT(w_stat(w, "resyncs"), 1);
    RC_CHECK_EQ_INT(w_stat(w, "event_ring_oldest"), (long long)(s + 102 - 15));
    close(sub);
    close(w);
    check_closing_on_shutdown();
}

static void test_heartbeats(void)
{
    const char *args[] = {"--heartbeat-ms", "50", NULL};
    RC_CHECK(rc_harness_start(&srv, args) == 0);
    uint64_t s;
    int sub = subscriber(0, 0, NULL, &s, NULL);
    static uint8_t body[BODY_CAP];
    rc_msg ev;
    RC_CHECK(rc_harness_recv_frame(sub, &ev, body, BODY_CAP, MAX_FRAME) ==
             0); /* bounded by the 5 s socket timeout */
    RC_CHECK_EQ_INT(ev.kind, RC_EV_HEARTBEAT);
    RC_CHECK_EQ_U64(ev.seq, s);
    int w = writer();
    w_set(w, "h", "k", NULL);
    /* Events before the heartbeat that claims them. */
    do {
        RC_CHECK(rc_harness_recv_frame(sub, &ev, body, BODY_CAP, MAX_FRAME) == 0);
    } while (ev.kind == RC_EV_HEARTBEAT && ev.seq == s);
    RC_CHECK_EQ_INT(ev.kind, RC_EV_KEY);
    RC_CHECK_EQ_U64(ev.seq, s + 1);
    RC_CHECK(rc_harness_recv_frame(sub, &ev, body, BODY_CAP, MAX_FRAME) == 0);
    RC_CHECK_EQ_INT(ev.kind, RC_EV_HEARTBEAT);
    RC_CHECK_EQ_U64(ev.seq, s + 1);
    RC_CHECK(w_stat(w, "heartbeats_sent") >= 2);
    close(sub);
    close(w);
    RC_CHECK_EQ_INT(rc_harness_stop(&srv), 0);
}

/* Writer thread for the fan-out case: its own connection, pipelined SETs in namespace "f". */
#define FAN_WRITERS   3
#define FAN_SUBS      4
#define FAN_PER_WRITE 2000

static void *fan_writer(void *arg)
{
    static _Thread_local uint8_t buf[256u * 1024u];
    static _Thread_local uint8_t body[4096];
    int idx = (int)(intptr_t)arg;
    int w = writer();
    for (int batch = 0; batch < FAN_PER_WRITE; batch += 500) {
        size_t len = 0;
        for (int i = batch; i < batch + 500; i++) {
            char key[32];
            snprintf(key, sizeof key, "w%d-%d", idx, i);
            rc_msg m = {.opcode = RC_OP_SET,
                        .ns = rc_slice_str("f"),
                        .key = rc_slice_str(key),
                        .value = rc_slice_str("v"),
                        .stale_ms = RC_STALE_DEFAULT};
            m.hflags = 0;
            m.request_id = (uint32_t)i + 1u;
            long n = rc_encode(&m, buf + len, sizeof buf - len);
            RC_CHECK(n > 0);
            len += (size_t)n;
        }
        rc_harness_send_all(w, buf, len);
        for (int i = 0; i < 500; i++) {
            rc_msg resp;
            RC_CHECK(rc_harness_recv_frame(w, &resp, body, BODY_CAP, MAX_FRAME) == 0);
            RC_CHECK_EQ_INT(resp.status, RC_STATUS_OK);
        }
    }
    close(w);
    return NULL;
}

/* Writers on several connections (so several workers) and subscribers on several more:
 * every subscriber gets every event exactly once, in sequence order. */
static void test_fan_out_across_workers(void)
{
    RC_CHECK(rc_harness_start(&srv, NULL) == 0);
    int subs[FAN_SUBS];
    uint64_t starts[FAN_SUBS];
    for (int i = 0; i < FAN_SUBS; i++)
        subs[i] = subscriber(0, 0, i % 2 ? "f" : NULL, &starts[i], NULL);
    pthread_t threads[FAN_WRITERS];
    for (int i = 0; i < FAN_WRITERS; i++)
        RC_CHECK(pthread_create(&threads[i], NULL, fan_writer, (void *)(intptr_t)i) == 0);
    for (int i = 0; i < FAN_WRITERS; i++)
        RC_CHECK(pthread_join(threads[i], NULL) == 0);
    static uint8_t body[BODY_CAP];
    for (int i = 0; i < FAN_SUBS; i++) {
        RC_CHECK_EQ_U64(starts[i], 0);
        for (uint64_t seq = 1; seq <= FAN_WRITERS * FAN_PER_WRITE; seq++) {
            rc_msg ev;
            next_event(subs[i], &ev, body);
            RC_CHECK_EQ_INT(ev.kind, RC_EV_KEY);
            RC_CHECK_EQ_U64(ev.seq, seq);
            RC_CHECK_MEM(ev.ns.ptr, ev.ns.len, "f", 1);
        }
        close(subs[i]);
    }
    int w = writer();
    RC_CHECK_EQ_INT(w_stat(w, "events_sent"), FAN_SUBS * FAN_WRITERS * FAN_PER_WRITE);
    close(w);
    RC_CHECK_EQ_INT(rc_harness_stop(&srv), 0);
}

/* A subscriber socket with a small receive buffer, so the kernel absorbs little. */
static int small_subscriber(uint64_t *resp_seq)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    RC_CHECK(fd >= 0);
    int small = 4096;
    RC_CHECK(setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &small, sizeof small) == 0);
    struct timeval tv = {.tv_sec = 5};
    RC_CHECK(setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv) == 0);
    struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = htons(srv.port)};
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    RC_CHECK(connect(fd, (struct sockaddr *)&addr, sizeof addr) == 0);
    *resp_seq = subscribe_on(fd, 0, 0, NULL, NULL);
    return fd;
}

/*
 * Pipeline `n` SETs with keys of key_width digits (at most 200) starting at
 * index `first`, in one write, then read their responses.
 */
static void write_batch(int w, int first, int n, int key_width)
{
    static uint8_t buf[1u << 20];
    static uint8_t body[BODY_CAP];
    char key[201];
    size_t len = 0;
    uint32_t last = 0;
    for (int i = 0; i < n; i++) {
        snprintf(key, sizeof key, "%0*d", key_width, first + i);
        rc_msg m = {.opcode = RC_OP_SET,
                    .ns = rc_slice_str("slow"),
                    .key = rc_slice_str(key),
                    .value = rc_slice_str("v"),
                    .stale_ms = RC_STALE_DEFAULT};
        last = encode_req(&m, buf, sizeof buf, &len);
    }
    rc_harness_send_all(w, buf, len);
    rc_msg resp;
    for (int i = 0; i < n; i++) {
        RC_CHECK(rc_harness_recv_frame(w, &resp, body, BODY_CAP, MAX_FRAME) == 0);
        RC_CHECK_EQ_INT(resp.status, RC_STATUS_OK);
    }
    RC_CHECK_EQ_INT(resp.request_id, last);
}

static void test_slow_subscriber_cut_off(void)
{
    const char *args[] = {"--max-subscriber-output", "64kb", NULL};
    RC_CHECK(rc_harness_start(&srv, args) == 0);
    uint64_t s;
    int sub = small_subscriber(&s);
    int w = writer();
    int written = 0;
    while (w_stat(w, "slow_subscriber_disconnects") < 1) {
        RC_CHECK(written < 400000); /* 64 KiB plus socket buffers is far less than this */
        write_batch(w, written, 1000, 200);
        written += 1000;
    }
    /* Drain the subscriber: events in order, then CLOSING with the reason, then EOF. */
    static uint8_t body[BODY_CAP];
    rc_msg ev;
    uint64_t expect = s + 1;
    for (;;) {
        RC_CHECK(rc_harness_recv_frame(sub, &ev, body, BODY_CAP, MAX_FRAME) == 0);
        if (ev.kind == RC_EV_HEARTBEAT)
            continue;
        if (ev.kind == RC_EV_CLOSING)
            break;
        RC_CHECK_EQ_INT(ev.kind, RC_EV_KEY);
        RC_CHECK_EQ_U64(ev.seq, expect);
        expect++;
    }
    RC_CHECK(ev.text.len > 0 && memmem(ev.text.ptr, ev.text.len, "too slow", 8) != NULL);
    RC_CHECK(expect - s - 1 < (uint64_t)written); /* it really was cut short */
    uint8_t b;
    RC_CHECK(read(sub, &b, 1) == 0);
    close(sub);
    fprintf(stderr, "  cut off after %llu of %d events (%.*s)\n",
            (unsigned long long)(expect - s - 1), written, (int)ev.text.len,
            (const char *)ev.text.ptr);

    /* The server is fine: it answers, and counted exactly one cut-off. */
    rc_msg ping = {.opcode = RC_OP_PING};
    call(w, &ping, RC_STATUS_OK);
    RC_CHECK_EQ_INT(w_stat(w, "slow_subscriber_disconnects"), 1);
    RC_CHECK(w_stat(w, "events_published") >= written);
    close(w);
    RC_CHECK_EQ_INT(rc_harness_stop(&srv), 0);
}

/*
 * A subscriber whose position the ring overwrote before its worker could
 * copy anything is cut off with "fell behind the event ring".  Connections
 * are dealt to the two workers in turn, so the subscriber (1st connection)
 * and the writer (3rd) share worker 0: while that worker handles the
 * writer's pipelined burst, hundreds of events are published with a ring
 * of 16 before it can run its fan-out, deterministically.
 */
static void test_fell_behind_ring_cut_off(void)
{
    const char *args[] = {"--event-ring", "16", NULL};
    RC_CHECK(rc_harness_start(&srv, args) == 0);
    uint64_t s;
    int sub = subscriber(0, 0, NULL, &s, NULL); /* worker 0 */
    int other = writer();                       /* worker 1 */
    int w = writer();                           /* worker 0 */
    write_batch(w, 0, 1000, 8);
    static uint8_t body[BODY_CAP];
    rc_msg ev;
    do {
        RC_CHECK(rc_harness_recv_frame(sub, &ev, body, BODY_CAP, MAX_FRAME) == 0);
    } while (ev.kind == RC_EV_HEARTBEAT || ev.kind == RC_EV_KEY);
    RC_CHECK_EQ_INT(ev.kind, RC_EV_CLOSING);
    RC_CHECK(memmem(ev.text.ptr, ev.text.len, "fell behind", 11) != NULL);
    uint8_t b;
    RC_CHECK(read(sub, &b, 1) == 0);
    RC_CHECK_EQ_INT(w_stat(w, "slow_subscriber_disconnects"), 1);
    close(sub);
    close(other);
    close(w);
    RC_CHECK_EQ_INT(rc_harness_stop(&srv), 0);
}

int main(void)
{
    RC_CHECK(rc_harness_start(&srv, NULL) == 0);
    RC_TEST_RUN(test_every_change_publishes);
    RC_TEST_RUN(test_invalidations_publish_on_miss);
    RC_TEST_RUN(test_namespace_filter);
    RC_TEST_RUN(test_resume_replays);
    RC_CHECK_EQ_INT(rc_harness_stop(&srv), 0);
    RC_TEST_RUN(test_tiny_ring_resyncs);
    RC_TEST_RUN(test_heartbeats);
    RC_TEST_RUN(test_fan_out_across_workers);
    RC_TEST_RUN(test_slow_subscriber_cut_off);
    RC_TEST_RUN(test_fell_behind_ring_cut_off);
    return 0;
}
