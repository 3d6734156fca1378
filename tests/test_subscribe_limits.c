/*
 * test_subscribe_limits.c - the event ring's byte bound and the subscriber
 * cut-off rules, over raw sockets with the codec against a real server
 * (rc_harness).
 *
 * Cases:
 *   - event-ring-bytes: after publishing far more long-key events than fit,
 *     STATS shows the ring's bytes within the bound and its oldest events
 *     dropped; a subscriber resuming from before them gets RESYNC, one
 *     resuming from just before the oldest kept gets every later event;
 *   - paced replay: a subscriber resuming with a backlog many times
 *     max-subscriber-output that reads fast receives every event in order
 *     and is not cut off;
 *   - stalled output: a subscriber that never reads is cut off with a
 *     CLOSING naming max-subscriber-output (the ring is made too large to
 *     be the reason);
 *   - fell behind the ring: a subscriber that never reads, with heartbeats
 *     too rare for the stall rule, is cut off with a CLOSING naming the
 *     event ring once its next event is dropped by the byte bound.
 *
 * Synchronisation is always a frame the server sends, read with the
 * harness's 5 s socket timeout as the bound, or a STATS counter polled
 * between bounded batches of requests; nothing sleeps.
 */
#define _GNU_SOURCE /* memmem */

#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "rc_harness.h"
#include "rc_rawconn.h"
#include "rc_test.h"
#include "recache/rc_proto.h"

#define BODY_CAP  RC_RAW_BODY_CAP
#define MAX_FRAME RC_RAW_MAX_FRAME
#define BATCH_BUF (4u << 20)

static rc_harness_server srv;

static int connect_raw(void)
{
    int fd = rc_harness_raw_connect(&srv);
    RC_CHECK(fd >= 0);
    return fd;
}

/* SUBSCRIBE (all namespaces) on fd from seq/instance; returns the response's seq. */
static uint64_t subscribe_on(int fd, uint64_t seq, uint64_t inst, uint64_t *inst_out)
{
    rc_msg m = {.opcode = RC_OP_SUBSCRIBE, .seq = seq, .instance_id = inst};
    rc_raw_call(fd, &m, RC_STATUS_OK);
    if (inst_out != NULL)
        *inst_out = m.instance_id;
    return m.seq;
}

/*
 * Pipeline n SETs in namespace "lim" with keys of key_len bytes (distinct
 * per index, starting at `first`) in one write and read every response.
 */
static void write_batch(int w, int first, int n, size_t key_len)
{
    static uint8_t buf[BATCH_BUF];
    static uint8_t body[BODY_CAP];
    static char key[4096];
    RC_CHECK(key_len < sizeof key && key_len >= 12);
    size_t len = 0;
    for (int i = 0; i < n; i++) {
        memset(key, 'k', key_len);
        snprintf(key, 12, "%010d", first + i);
        key[10] = 'k';
        rc_msg m = {.opcode = RC_OP_SET,
                    .ns = rc_slice_str("lim"),
                    .key = (rc_slice){(const uint8_t *)key, (uint32_t)key_len},
                    .value = rc_slice_str("v"),
                    .stale_ms = RC_STALE_DEFAULT};
        rc_raw_encode_req(&m, buf, sizeof buf, &len);
    }
    rc_harness_send_all(w, buf, len);
    for (int i = 0; i < n; i++) {
        rc_msg resp;
        RC_CHECK(rc_harness_recv_frame(w, &resp, body, BODY_CAP, MAX_FRAME) == 0);
        RC_CHECK_EQ_INT(resp.status, RC_STATUS_OK);
    }
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

/*
 * Read a cut-off subscriber to its end: KEY events with consecutive seqs
 * from `first`, then CLOSING, then EOF.  Returns the CLOSING reason in
 * reason (NUL-terminated) and the number of events before it.
 */
static uint64_t read_until_closing(int fd, uint64_t first, char *reason, size_t cap)
{
    static uint8_t body[BODY_CAP];
    rc_msg ev;
    uint64_t expect = first;
    for (;;) {
        next_event(fd, &ev, body);
        if (ev.kind == RC_EV_CLOSING)
            break;
        RC_CHECK_EQ_INT(ev.kind, RC_EV_KEY);
        RC_CHECK_EQ_U64(ev.seq, expect);
        expect++;
    }
    RC_CHECK(ev.text.len > 0 && ev.text.len < cap);
    memcpy(reason, ev.text.ptr, ev.text.len);
    reason[ev.text.len] = '\0';
    uint8_t b;
    RC_CHECK(read(fd, &b, 1) == 0);
    return expect - first;
}

/*
 * Start a server with args, learn its instance id and newest seq (*s0)
 * through a subscriber that leaves again, then publish n events with
 * key_len-byte keys.  Returns the writer's connection.
 */
static int start_with_backlog(const char *const args[], int n, size_t key_len, uint64_t *inst,
                              uint64_t *s0)
{
    RC_CHECK(rc_harness_start(&srv, args) == 0);
    int w = connect_raw();
    int probe = connect_raw();
    *s0 = subscribe_on(probe, 0, 0, inst);
    close(probe);
    for (int i = 0; i < n; i += 500)
        write_batch(w, i, 500, key_len);
    return w;
}

/* ---- cases ---------------------------------------------------------------------------------- */

#define RING_BYTES  (1u << 20)
#define LONG_KEY    1500
#define RING_EVENTS 3000 /* about 4.6 MB of events: the 1 MiB bound drops most of them */

static void test_ring_byte_bound(void)
{
    const char *args[] = {"--event-ring-bytes", "1mb", "--max-key", "2000", NULL};
    uint64_t inst, s0;
    int w = start_with_backlog(args, RING_EVENTS, LONG_KEY, &inst, &s0);

    RC_CHECK_EQ_INT(rc_raw_stat(w, "event_ring_max_bytes"), RING_BYTES);
    long long bytes = rc_raw_stat(w, "event_ring_bytes");
    long long held = rc_raw_stat(w, "event_ring_events");
    long long oldest = rc_raw_stat(w, "event_ring_oldest");
    uint64_t newest = s0 + RING_EVENTS;
    RC_CHECK_EQ_INT(rc_raw_stat(w, "events_published"), (long long)newest);
    fprintf(stderr, "  ring holds %lld events, %lld bytes, oldest %lld of %llu\n", held, bytes,
            oldest, (unsigned long long)newest);
    RC_CHECK(bytes <= RING_BYTES);
    RC_CHECK(bytes > RING_BYTES / 2); /* it is really used up to about the bound */
    RC_CHECK(held > 0 && held < RING_EVENTS / 2);
    RC_CHECK_EQ_INT(oldest, (long long)newest - held + 1);
    RC_CHECK(rc_raw_stat(w, "event_ring_memory") >= RING_BYTES);
    /* Bytes are the tighter bound here: the ring is written up to about all of it. */
    long long touched = rc_raw_stat(w, "event_ring_touched");
    RC_CHECK(touched >= bytes && touched <= RING_BYTES);

    /* Resuming from before the dropped events: RESYNC, then live events. */
    long long resyncs = rc_raw_stat(w, "resyncs");
    int sub = connect_raw();
    RC_CHECK_EQ_U64(subscribe_on(sub, s0 + 1, inst, NULL), newest);
    static uint8_t body[BODY_CAP];
    rc_msg ev;
    next_event(sub, &ev, body);
    RC_CHECK_EQ_INT(ev.kind, RC_EV_RESYNC);
    RC_CHECK_EQ_U64(ev.seq, newest);
    RC_CHECK_EQ_INT(rc_raw_stat(w, "resyncs"), resyncs + 1);
    close(sub);

    /* Resuming from just before the oldest kept: every later event is replayed. */
    sub = connect_raw();
    subscribe_on(sub, (uint64_t)oldest - 1, inst, NULL);
    for (uint64_t seq = (uint64_t)oldest; seq <= newest; seq++) {
        next_event(sub, &ev, body);
        RC_CHECK_EQ_INT(ev.kind, RC_EV_KEY);
        RC_CHECK_EQ_U64(ev.seq, seq);
        RC_CHECK_EQ_INT(ev.key.len, LONG_KEY);
    }
    RC_CHECK_EQ_INT(rc_raw_stat(w, "resyncs"), resyncs + 1);
    close(sub);
    close(w);
    RC_CHECK_EQ_INT(rc_harness_stop(&srv), 0);
}

#define COUNT_BOUND  "200"
#define COUNT_EVENTS 5000 /* 100-byte keys: about 0.8 MB published, 35 kB held */

/*
 * When the event count is the tighter bound, the ring is written only to
 * about twice the bytes it holds (not up to event-ring-bytes), keeps exactly
 * event-ring events, and replays them intact.
 */
static void test_ring_count_bound(void)
{
    const char *args[] = {"--event-ring", COUNT_BOUND, NULL};
    uint64_t inst, s0;
    int w = start_with_backlog(args, COUNT_EVENTS, 100, &inst, &s0);
    long long bytes = rc_raw_stat(w, "event_ring_bytes");
    long long touched = rc_raw_stat(w, "event_ring_touched");
    long long oldest = rc_raw_stat(w, "event_ring_oldest");
    uint64_t newest = s0 + COUNT_EVENTS;
    fprintf(stderr, "  ring holds %lld bytes, written %lld of %lld\n", bytes, touched,
            rc_raw_stat(w, "event_ring_max_bytes"));
    RC_CHECK_EQ_INT(rc_raw_stat(w, "event_ring_events"), atoi(COUNT_BOUND));
    RC_CHECK(touched >= bytes && touched <= 2 * bytes + 1024);
    int sub = connect_raw();
    subscribe_on(sub, (uint64_t)oldest - 1, inst, NULL);
    static uint8_t body[BODY_CAP];
    rc_msg ev;
    for (uint64_t seq = (uint64_t)oldest; seq <= newest; seq++) {
        next_event(sub, &ev, body);
        RC_CHECK_EQ_INT(ev.kind, RC_EV_KEY);
        RC_CHECK_EQ_U64(ev.seq, seq);
        RC_CHECK_EQ_INT(ev.key.len, 100);
    }
    close(sub);
    close(w);
    RC_CHECK_EQ_INT(rc_harness_stop(&srv), 0);
}

#define REPLAY_EVENTS 8000 /* with 200-byte keys about 2.3 MB: 35 times max-subscriber-output */

static void test_replay_paced_for_fast_reader(void)
{
    const char *args[] = {"--max-subscriber-output", "64kb", NULL};
    uint64_t inst, s0;
    int w = start_with_backlog(args, REPLAY_EVENTS, 200, &inst, &s0);

    int sub = connect_raw();
    RC_CHECK_EQ_U64(subscribe_on(sub, s0, inst, NULL), s0 + REPLAY_EVENTS);
    write_batch(w, REPLAY_EVENTS, 100, 200); /* live events while the replay is under way */
    static uint8_t body[BODY_CAP];
    rc_msg ev;
    for (uint64_t seq = s0 + 1; seq <= s0 + REPLAY_EVENTS + 100; seq++) {
        next_event(sub, &ev, body);
        RC_CHECK_EQ_INT(ev.kind, RC_EV_KEY);
        RC_CHECK_EQ_U64(ev.seq, seq);
    }
    RC_CHECK_EQ_INT(rc_raw_stat(w, "slow_subscriber_disconnects"), 0);
    RC_CHECK_EQ_INT(rc_raw_stat(w, "events_replayed"), REPLAY_EVENTS);
    /* Still subscribed and answering. */
    rc_msg ping = {.opcode = RC_OP_PING};
    rc_raw_call(sub, &ping, RC_STATUS_OK);
    close(sub);
    close(w);
    RC_CHECK_EQ_INT(rc_harness_stop(&srv), 0);
}

/* Write batches until the STATS counter `name` reaches 1; returns the events written. */
static int write_until(int w, const char *name, size_t key_len, int max_events)
{
    int written = 0;
    while (rc_raw_stat(w, name) < 1) {
        RC_CHECK(written < max_events);
        write_batch(w, written, 500, key_len);
        written += 500;
    }
    return written;
}

/*
 * Start a server with args, subscribe a socket that never reads, write
 * events with key_len-byte keys until STATS counter `rule` reaches 1, then
 * read the subscriber to its CLOSING: it must name the rule through
 * `text`, and `other_rule` must not have fired.  Stops the server.
 */
static void expect_cut_off(const char *const args[], const char *rule, const char *other_rule,
                           size_t key_len, int max_events, const char *text)
{
    RC_CHECK(rc_harness_start(&srv, args) == 0);
    int sub = rc_raw_connect_small(&srv);
    uint64_t s = subscribe_on(sub, 0, 0, NULL);
    int w = connect_raw();
    int written = write_until(w, rule, key_len, max_events);
    char reason[512];
    uint64_t got = read_until_closing(sub, s + 1, reason, sizeof reason);
    fprintf(stderr, "  cut off after %llu of %d events: %s\n", (unsigned long long)got, written,
            reason);
    RC_CHECK(strstr(reason, text) != NULL);
    RC_CHECK(got < (uint64_t)written);
    RC_CHECK_EQ_INT(rc_raw_stat(w, other_rule), 0);
    RC_CHECK_EQ_INT(rc_raw_stat(w, "slow_subscriber_disconnects"), 1);
    close(sub);
    close(w);
    RC_CHECK_EQ_INT(rc_harness_stop(&srv), 0);
}

static void test_stalled_subscriber_cut_off(void)
{
    /* A ring far larger than anything written here, so only the stall rule can fire. */
    const char *args[] = {"--max-subscriber-output",
                          "64kb",
                          "--heartbeat-ms",
                          "100",
                          "--event-ring",
                          "16777216",
                          "--event-ring-bytes",
                          "1gb",
                          NULL};
    expect_cut_off(args, "subscriber_stall_disconnects", "subscriber_ring_disconnects", 200,
                   2000000, "(max-subscriber-output 65536) and none written");
}

static void test_behind_ring_cut_off(void)
{
    /* Heartbeats every 10 minutes: the stall rule cannot fire during this test. */
    const char *args[] = {"--max-subscriber-output",
                          "64kb",
                          "--heartbeat-ms",
                          "600000",
                          "--event-ring-bytes",
                          "1mb",
                          "--max-key",
                          "2000",
                          NULL};
    expect_cut_off(args, "subscriber_ring_disconnects", "subscriber_stall_disconnects", LONG_KEY,
                   200000, "fell behind the event ring");
}

int main(void)
{
    RC_TEST_RUN(test_ring_byte_bound);
    RC_TEST_RUN(test_ring_count_bound);
    RC_TEST_RUN(test_replay_paced_for_fast_reader);
    RC_TEST_RUN(test_stalled_subscriber_cut_off);
    RC_TEST_RUN(test_behind_ring_cut_off);
    return 0;
}
