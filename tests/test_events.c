/*
 * test_events.c - unit tests of the node event log: sequence numbers,
 * encoded frames that decode back to the published event, filtering,
 * resume/replay decisions, overwrite detection, the byte bound (oldest
 * events dropped, bytes held never over it, arena wrap-around), and
 * concurrent publishing.
 */
#define _POSIX_C_SOURCE 200809L
#include <pthread.h>
#include <stdio.h>

#include "rc_events.h"
#include "rc_test.h"

#define INSTANCE 0xABCDEF0123456789ull

typedef struct collected {
    rc_msg msgs[64];
    uint8_t frames[64][512];
    size_t n;
    size_t limit; /* refuse after this many */
} collected;

static bool collect(void *ctx, const uint8_t *frame, size_t len)
{
    collected *c = ctx;
    if (c->n >= c->limit)
        return false;
    RC_CHECK(len <= sizeof(c->frames[0]));
    memcpy(c->frames[c->n], frame, len);
    size_t used;
    rc_limits lim = rc_limits_wire();
    RC_CHECK_RC(rc_decode(c->frames[c->n], len, &lim, &c->msgs[c->n], &used), 0);
    RC_CHECK_EQ_U64(used, len);
    c->n++;
    return true;
}

static bool accept_all(void *ctx, uint8_t kind, rc_slice ns)
{
    return true;
}

/* Accepts TAG/FLUSH always, KEY/BUMP only for the namespace named by ctx. */
static bool only_ns(void *ctx, uint8_t kind, rc_slice ns)
{
    const char *want = ctx;
    if (kind != RC_EV_KEY && kind != RC_EV_BUMP)
        return true;
    return ns.len == strlen(want) && memcmp(ns.ptr, want, ns.len) == 0;
}

static uint64_t publish_key(rc_events *ev, const char *ns, const char *key)
{
    rc_event e = {.kind = RC_EV_KEY, .mode = RC_INVAL_HARD, .ns_version = 3};
    e.ns = rc_slice_str(ns);
    e.key = rc_slice_str(key);
    return rc_events_publish(ev, &e);
}

static void test_publish_and_copy(void)
{
    rc_events *ev = rc_events_create(8, RC_EVENTS_MIN_BYTES, INSTANCE);
    RC_CHECK_EQ_U64(rc_events_last_seq(ev), 0);
    RC_CHECK_EQ_U64(publish_key(ev, "recs", "u1"), 1);
    rc_event tag = {.kind = RC_EV_TAG, .mode = RC_INVAL_SOFT, .tag = rc_slice_str("product:1")};
    RC_CHECK_EQ_U64(rc_events_publish(ev, &tag), 2);
    RC_CHECK_EQ_U64(publish_key(ev, "other", "u2"), 3);

    collected c = {.limit = 64};
    uint64_t next = 1;
    RC_CHECK_RC(rc_events_copy(ev, &next, accept_all, NULL, collect, &c), 0);
    RC_CHECK_EQ_U64(next, 4);
    RC_CHECK_EQ_U64(c.n, 3);
    RC_CHECK_EQ_INT(c.msgs[0].opcode, RC_OP_EVENT);
    RC_CHECK_EQ_INT(c.msgs[0].hflags, RC_HF_PUSH);
    RC_CHECK_EQ_U64(c.msgs[0].seq, 1);
    RC_CHECK_EQ_U64(c.msgs[0].instance_id, INSTANCE);
    RC_CHECK_EQ_U64(c.msgs[0].ns_version, 3);
    RC_CHECK_MEM(c.msgs[0].key.ptr, c.msgs[0].key.len, "u1", 2);
    RC_CHECK_EQ_INT(c.msgs[1].kind, RC_EV_TAG);
    RC_CHECK_EQ_INT(c.msgs[1].mode, RC_INVAL_SOFT);
    RC_CHECK_MEM(c.msgs[1].tag.ptr, c.msgs[1].tag.len, "product:1", 9);

    /* A filtered subscriber skips other namespaces' key events but still advances. */
    collected f = {.limit = 64};
    next = 1;
    RC_CHECK_RC(rc_events_copy(ev, &next, only_ns, "recs", collect, &f), 0);
    RC_CHECK_EQ_U64(next, 4);
    RC_CHECK_EQ_U64(f.n, 2);
    RC_CHECK_EQ_U64(f.msgs[1].seq, 2);

    /* A refusing sink stops without consuming the refused event. */
    collected one = {.limit = 1};
    next = 1;
    RC_CHECK_RC(rc_events_copy(ev, &next, accept_all, NULL, collect, &one), 0);
    RC_CHECK_EQ_U64(next, 2);
    rc_events_destroy(ev);
}

static void test_resume_and_overwrite(void)
{
    rc_events *ev = rc_events_create(4, RC_EVENTS_MIN_BYTES, INSTANCE);
    uint64_t next;
    /* New subscriber: from the next event. */
    RC_CHECK(rc_events_resume(ev, 0, 0, &next));
    RC_CHECK_EQ_U64(next, 1);
    for (int i = 0; i < 6; i++)
        publish_key(ev, "recs", "k");
    /* Ring holds 3..6: a subscriber that saw 2 can replay from 3... */
    RC_CHECK(rc_events_resume(ev, INSTANCE, 2, &next));
    RC_CHECK_EQ_U64(next, 3);
    /* ...one that saw 1 cannot (event 2 is gone), nor one from another boot. */
    RC_CHECK(!rc_events_resume(ev, INSTANCE, 1, &next));
    RC_CHECK_EQ_U64(next, 7);
    RC_CHECK(!rc_events_resume(ev, INSTANCE + 1, 6, &next));
    RC_CHECK(!rc_events_resume(ev, INSTANCE, 99, &next));
    RC_CHECK(rc_events_resume(ev, INSTANCE, 6, &next));
    RC_CHECK_EQ_U64(next, 7);
    /* Copying from an overwritten position reports the slow consumer. */
    collected c = {.limit = 64};
    next = 2;
    RC_CHECK_RC(rc_events_copy(ev, &next, accept_all, NULL, collect, &c), RC_ESLOW_CONSUMER);
    RC_CHECK_EQ_U64(c.n, 0);
    rc_events_totals tot;
    rc_events_totals_get(ev, &tot);
    RC_CHECK_EQ_U64(tot.published, 6);
    RC_CHECK_EQ_U64(tot.oldest_seq, 3);
    rc_events_destroy(ev);
}

static void test_signal_frames(void)
{
    rc_events *ev = rc_events_create(4, RC_EVENTS_MIN_BYTES, INSTANCE);
    publish_key(ev, "recs", "k");
    uint8_t buf[256];
    long n = rc_events_encode_signal(ev, RC_EV_CLOSING, "too slow", buf, sizeof(buf));
    RC_CHECK(n > 0);
    rc_msg m;
    size_t used;
    rc_limits lim = rc_limits_wire();
    RC_CHECK_RC(rc_decode(buf, (size_t)n, &lim, &m, &used), 0);
    RC_CHECK_EQ_INT(m.kind, RC_EV_CLOSING);
    RC_CHECK_EQ_U64(m.seq, 1);
    RC_CHECK_MEM(m.text.ptr, m.text.len, "too slow", 8);
    RC_CHECK_RC(rc_events_encode_signal(ev, RC_EV_HEARTBEAT, "", buf, 8), RC_EBUFFER);
    rc_events_destroy(ev);
}

/* Publish a KEY event whose key is `len` bytes of 'k' plus the index, so each one is distinct. */
static uint64_t publish_long_key(rc_events *ev, size_t len, int i)
{
    static char key[60000];
    memset(key, 'k', len);
    snprintf(key, 16, "%d-", i);
    key[strlen(key)] = 'k';
    rc_event e = {.kind = RC_EV_KEY, .mode = RC_INVAL_HARD, .ns_version = 1};
    e.ns = rc_slice_str("bytes");
    e.key = (rc_slice){(const uint8_t *)key, (uint32_t)len};
    return rc_events_publish(ev, &e);
}

/* Sink counting frames and checking each decodes with increasing seq. */
typedef struct counted {
    uint64_t n, last_seq;
} counted;

/* Decode one whole frame (the test fails if it is not exactly one valid frame). */
static void decode_frame(const uint8_t *frame, size_t len, rc_msg *m)
{
    size_t used;
    rc_limits lim = rc_limits_wire();
    RC_CHECK_RC(rc_decode(frame, len, &lim, m, &used), 0);
    RC_CHECK_EQ_U64(used, len);
}

static bool count_frames(void *ctx, const uint8_t *frame, size_t len)
{
    counted *c = ctx;
    rc_msg m;
    decode_frame(frame, len, &m);
    RC_CHECK(m.seq > c->last_seq);
    c->last_seq = m.seq;
    c->n++;
    return true;
}

/* The byte bound drops the oldest events long before the count bound would. */
static void test_byte_bound(void)
{
    rc_events *ev = rc_events_create(100000, RC_EVENTS_MIN_BYTES, INSTANCE);
    rc_events_totals tot;
    uint64_t max_held = 0;
    for (int i = 1; i <= 3000; i++) {
        /* Sizes vary so frames straddle the arena's end at different offsets. */
        RC_CHECK_EQ_U64(publish_long_key(ev, 1000 + (size_t)(i * 37) % 50000, i), (uint64_t)i);
        rc_events_totals_get(ev, &tot);
        RC_CHECK(tot.bytes <= RC_EVENTS_MIN_BYTES);
        RC_CHECK_EQ_U64(tot.events, tot.published - tot.oldest_seq + 1);
        if (tot.bytes > max_held)
            max_held = tot.bytes;
    }
    RC_CHECK(max_held > RC_EVENTS_MIN_BYTES / 2); /* the arena is really used, not just wiped */
    rc_events_totals_get(ev, &tot);
    RC_CHECK(tot.oldest_seq > 2000);
    RC_CHECK_EQ_U64(tot.max_bytes, RC_EVENTS_MIN_BYTES);
    /* Everything still held copies out intact; what was dropped reports the slow consumer. */
    counted c = {0};
    uint64_t next = tot.oldest_seq;
    RC_CHECK_RC(rc_events_copy(ev, &next, accept_all, NULL, count_frames, &c), 0);
    RC_CHECK_EQ_U64(c.n, tot.events);
    RC_CHECK_EQ_U64(c.last_seq, 3000);
    uint64_t resume;
    RC_CHECK(!rc_events_resume(ev, INSTANCE, tot.oldest_seq - 2, &resume));
    RC_CHECK(rc_events_resume(ev, INSTANCE, tot.oldest_seq - 1, &resume));
    next = tot.oldest_seq - 1;
    RC_CHECK_RC(rc_events_copy(ev, &next, accept_all, NULL, count_frames, &c), RC_ESLOW_CONSUMER);
    rc_events_destroy(ev);
}

/* Sink checking that each frame is the event publish_long_key made for its seq. */
static bool check_long_key(void *ctx, const uint8_t *frame, size_t len)
{
    counted *c = ctx;
    rc_msg m;
    decode_frame(frame, len, &m);
    RC_CHECK(c->n == 0 || m.seq == c->last_seq + 1);
    char prefix[24];
    int n = snprintf(prefix, sizeof(prefix), "%llu-", (unsigned long long)m.seq);
    RC_CHECK(m.key.len > (size_t)n && memcmp(m.key.ptr, prefix, (size_t)n) == 0);
    RC_CHECK(m.key.ptr[m.key.len - 1] == 'k');
    c->last_seq = m.seq;
    c->n++;
    return true;
}

/* Publish `count` events of `key_len` from seq `first`; check the ring after each one. */
static void publish_phase(rc_events *ev, int first, int count, size_t key_len, uint32_t capacity,
                          int settle, uint64_t *touched)
{
    rc_events_totals tot;
    for (int i = first; i < first + count; i++) {
        RC_CHECK_EQ_U64(publish_long_key(ev, key_len, i), (uint64_t)i);
        rc_events_totals_get(ev, &tot);
        RC_CHECK(tot.bytes <= tot.max_bytes && tot.touched <= tot.max_bytes);
        /* Past the first lap after a size change, nothing is dropped before the count bound. */
        if (i >= first + settle)
            RC_CHECK_EQ_U64(tot.events, capacity);
    }
    RC_CHECK(tot.touched <= 2 * tot.bytes + 4 * (key_len + 64));
    *touched = tot.touched;
    counted c = {0};
    uint64_t next = tot.oldest_seq;
    RC_CHECK_RC(rc_events_copy(ev, &next, accept_all, NULL, check_long_key, &c), 0);
    RC_CHECK_EQ_U64(c.n, tot.events);
    RC_CHECK_EQ_U64(c.last_seq, (uint64_t)(first + count - 1));
}

/*
 * When the event count is the tighter bound, the arena is written only to
 * about twice the bytes held (early laps), without dropping an event before
 * the count bound requires; after events grow five-fold the ring settles
 * the same way at the new size, every event held intact throughout.
 */
static void test_early_laps(void)
{
    const uint32_t capacity = 1000;
    const size_t max_bytes = 8 * RC_EVENTS_MIN_BYTES;
    rc_events *ev = rc_events_create(capacity, max_bytes, INSTANCE);
    uint64_t small, large;
    publish_phase(ev, 1, 20000, 200, capacity, (int)capacity, &small); /* ~5 MB published */
    RC_CHECK(small < max_bytes / 8);
    publish_phase(ev, 20001, 20000, 1200, capacity, 3 * (int)capacity, &large); /* ~25 MB */
    RC_CHECK(large < max_bytes / 2);
    fprintf(stderr, "  arena written: %llu bytes (small events), %llu (large), of %zu\n",
            (unsigned long long)small, (unsigned long long)large, max_bytes);
    rc_events_destroy(ev);
}

static void *publisher(void *arg)
{
    for (int i = 0; i < 5000; i++)
        publish_key(arg, "recs", "k");
    return NULL;
}

static void test_concurrent_publish(void)
{
    rc_events *ev = rc_events_create(1024, RC_EVENTS_MIN_BYTES, INSTANCE);
    pthread_t t[4];
    for (int i = 0; i < 4; i++)
        RC_CHECK_EQ_INT(pthread_create(&t[i], NULL, publisher, ev), 0);
    for (int i = 0; i < 4; i++)
        pthread_join(t[i], NULL);
    RC_CHECK_EQ_U64(rc_events_last_seq(ev), 20000);
    collected c = {.limit = 64};
    uint64_t next = 20000 - 10;
    RC_CHECK_RC(rc_events_copy(ev, &next, accept_all, NULL, collect, &c), 0);
    RC_CHECK_EQ_U64(c.n, 11);
    for (size_t i = 0; i < c.n; i++)
        RC_CHECK_EQ_U64(c.msgs[i].seq, 20000 - 10 + i);
    rc_events_destroy(ev);
}

int main(void)
{
    RC_TEST_RUN(test_publish_and_copy);
    RC_TEST_RUN(test_resume_and_overwrite);
    RC_TEST_RUN(test_signal_frames);
    RC_TEST_RUN(test_byte_bound);
    RC_TEST_RUN(test_early_laps);
    RC_TEST_RUN(test_concurrent_publish);
    return 0;
}
