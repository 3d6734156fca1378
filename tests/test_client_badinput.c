/*
 * test_client_badinput.c - bad input on one connection never hurts another.
 *
 * Raw sockets send hand-made frames: garbage and bad magic, a bad protocol
 * version, reserved header bits and a frame over max_frame each get one
 * error frame and then the connection closes (the stream position is lost);
 * an unknown opcode, an over-long key and a body with trailing bytes get an
 * error status carrying the request id, and the same connection still
 * answers a PING.  Meanwhile a bystander thread on its own client keeps
 * writing and reading its keys, and a second client checks its data after
 * every step.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "rc_harness.h"
#include "rc_test.h"
#include "recache/rc_proto.h"

#define BYSTANDER_OPS 300

static rc_harness_server srv;
static rc_client *checker;

/* ---- raw frame helpers ---------------------------------------------------------------------- */

/* Encode msg as a request frame and send it. */
static void send_msg(int fd, rc_msg *msg)
{
    uint8_t buf[70000];
    msg->hflags = 0;
    long n = rc_encode(msg, buf, sizeof buf);
    RC_CHECK(n > 0);
    rc_harness_send_all(fd, buf, (size_t)n);
}

/* Receive one response frame; its slices point into body (cap bytes). */
static void recv_msg(int fd, rc_msg *msg, uint8_t *body, size_t cap)
{
    RC_CHECK(rc_harness_recv_frame(fd, msg, body, cap, 1u << 20) == 0);
    RC_CHECK(msg->hflags & RC_HF_RESPONSE);
}

/* After a header-level error the server must close: the next read sees EOF. */
static void expect_closed(int fd)
{
    uint8_t b;
    ssize_t n;
    while ((n = read(fd, &b, 1)) < 0 && errno == EINTR)
        ;
    RC_CHECK(n == 0 || (n < 0 && errno == ECONNRESET));
}

/* Send bytes, expect one error frame with `status`, then the close. */
static void expect_error_then_close(const void *bytes, size_t len, uint16_t status)
{
    int fd = rc_harness_raw_connect(&srv);
    RC_CHECK(fd >= 0);
    rc_harness_send_all(fd, bytes, len);
    rc_msg resp;
    uint8_t body[4096];
    recv_msg(fd, &resp, body, sizeof body);
    RC_CHECK_EQ_INT(resp.status, status);
    RC_CHECK(resp.text.len > 0); /* a clear message */
    expect_closed(fd);
    close(fd);
}

/* The checker client's own key survives every step. */
static void check_other_client(void)
{
    rc_value v;
    RC_CHECK_RC(rc_get(checker, "good", "mine", 4, NULL, &v), 0);
    RC_CHECK_MEM(v.data, v.len, "intact", 6);
    rc_value_free(&v);
    RC_CHECK_RC(rc_ping(checker), 0);
}

/* A valid PING frame header with the given request id, for patching. */
static size_t ping_frame(uint8_t *buf, size_t cap, uint32_t id)
{
    rc_msg m = {.opcode = RC_OP_PING, .request_id = id};
    long n = rc_encode(&m, buf, cap);
    RC_CHECK_EQ_INT(n, RC_HEADER_SIZE);
    return (size_t)n;
}

/* ---- tests ---------------------------------------------------------------------------------- */

static void test_garbage_and_bad_magic(void)
{
    static const char http[16] = "GET / HTTP/1.1\r\n";
    expect_error_then_close(http, sizeof http, RC_STATUS_BAD_MAGIC);
    check_other_client();

    uint8_t frame[RC_HEADER_SIZE];
    ping_frame(frame, sizeof frame, 1);
    frame[0] = 0x00;
    expect_error_then_close(frame, sizeof frame, RC_STATUS_BAD_MAGIC);
    check_other_client();
}

static void test_bad_version_and_reserved_bits(void)
{
    uint8_t frame[RC_HEADER_SIZE];
    ping_frame(frame, sizeof frame, 2);
    frame[1] = RC_PROTO_VERSION + 7;
    expect_error_then_close(frame, sizeof frame, RC_STATUS_BAD_VERSION);
    check_other_client();

    ping_frame(frame, sizeof frame, 3);
    frame[3] = 0x80; /* a flag bit no version defines */
    expect_error_then_close(frame, sizeof frame, RC_STATUS_BAD_FRAME);
    check_other_client();
}

static void test_frame_over_max_frame(void)
{
    const rc_server_info *info = rc_server_info_get(checker);
    uint8_t frame[RC_HEADER_SIZE];
    ping_frame(frame, sizeof frame, 4);
    uint32_t body = info->max_frame; /* header + this body is one past the limit and more */
    for (int i = 0; i < 4; i++)
        frame[12 + i] = (uint8_t)(body >> (8 * i)); /* body length field, little-endian */
    expect_error_then_close(frame, sizeof frame, RC_STATUS_FRAME_TOO_LARGE);
    check_other_client();
}

static void test_body_errors_keep_connection(void)
{
    int fd = rc_harness_raw_connect(&srv);
    RC_CHECK(fd >= 0);
    uint8_t body[65536];
    rc_msg resp;

    /* Unknown opcode in a well-formed header: an error status, then business as usual. */
    uint8_t frame[RC_HEADER_SIZE + 3];
    ping_frame(frame, sizeof frame, 10);
    frame[2] = 0x7E;
    rc_harness_send_all(fd, frame, RC_HEADER_SIZE);
    recv_msg(fd, &resp, body, sizeof body);
    RC_CHECK_EQ_INT(resp.status, RC_STATUS_UNKNOWN_OPCODE);
    RC_CHECK_EQ_INT(resp.request_id, 10);

    rc_msg ping = {.opcode = RC_OP_PING, .request_id = 11};
    send_msg(fd, &ping);
    recv_msg(fd, &resp, body, sizeof body);
    RC_CHECK_EQ_INT(resp.status, RC_STATUS_OK);
    RC_CHECK_EQ_INT(resp.request_id, 11);
    check_other_client();

    /* A key one byte over the server's limit. */
    const rc_server_info *info = rc_server_info_get(checker);
    static uint8_t key[RC_WIRE_MAX_KEY];
    memset(key, 'k', sizeof key);
    rc_msg get = {.opcode = RC_OP_GET, .request_id = 12};
    get.ns = rc_slice_str("good");
    get.key.ptr = key;
    get.key.len = (uint32_t)info->max_key + 1;
    send_msg(fd, &get);
    recv_msg(fd, &resp, body, sizeof body);
    RC_CHECK_EQ_INT(resp.status, RC_STATUS_KEY_TOO_LONG);
    RC_CHECK_EQ_INT(resp.request_id, 12);

    /* A PING whose body has three stray bytes: malformed body, skipped by its length. */
    ping_frame(frame, sizeof frame, 13);
    frame[12] = 3;
    memcpy(frame + RC_HEADER_SIZE, "xyz", 3);
    rc_harness_send_all(fd, frame, sizeof frame);
    recv_msg(fd, &resp, body, sizeof body);
    RC_CHECK_EQ_INT(resp.status, RC_STATUS_BAD_FRAME);
    RC_CHECK_EQ_INT(resp.request_id, 13);

    ping.request_id = 14;
    send_msg(fd, &ping);
    recv_msg(fd, &resp, body, sizeof body);
    RC_CHECK_EQ_INT(resp.status, RC_STATUS_OK);
    RC_CHECK_EQ_INT(resp.request_id, 14);
    close(fd);
    check_other_client();
}

static void test_truncated_frame_then_hangup(void)
{
    /* Half a SET, then the client vanishes: the server just drops the connection. */
    int fd = rc_harness_raw_connect(&srv);
    RC_CHECK(fd >= 0);
    uint8_t buf[256];
    rc_msg set = {.opcode = RC_OP_SET, .request_id = 20, .stale_ms = RC_STALE_DEFAULT};
    set.ns = rc_slice_str("good");
    set.key = rc_slice_str("mine");
    set.value = rc_slice_str("clobbered");
    long n = rc_encode(&set, buf, sizeof buf);
    RC_CHECK(n > 10);
    rc_harness_send_all(fd, buf, (size_t)n - 5);
    close(fd);
    check_other_client();
}

/* ---- bystander ------------------------------------------------------------------------------ */

typedef struct bystander {
    pthread_t thread;
    int done;
    int failures;
} bystander;

static void *bystander_run(void *arg)
{
    bystander *b = arg;
    rc_client *c;
    if (rc_harness_connect(&srv, &c) != 0) {
        b->failures++;
        return NULL;
    }
    for (int i = 0; i < BYSTANDER_OPS; i++) {
        char val[32];
        int vl = snprintf(val, sizeof val, "round %d", i);
        rc_value v;
        int rc = rc_set(c, "bystander", "k", 1, val, (size_t)vl, NULL, NULL);
        if (rc == 0)
            rc = rc_get(c, "bystander", "k", 1, NULL, &v);
        if (rc != 0) {
            b->failures++;
            break;
        }
        if (v.len != (size_t)vl || memcmp(v.data, val, v.len) != 0)
            b->failures++;
        rc_value_free(&v);
        b->done++;
    }
    rc_close(c);
    return NULL;
}

int main(void)
{
    RC_CHECK(rc_harness_start(&srv, NULL) == 0);
    RC_CHECK_RC(rc_harness_connect(&srv, &checker), 0);
    RC_CHECK_RC(rc_set(checker, "good", "mine", 4, "intact", 6, NULL, NULL), 0);

    bystander by = {0};
    RC_CHECK(pthread_create(&by.thread, NULL, bystander_run, &by) == 0);
    RC_TEST_RUN(test_garbage_and_bad_magic);
    RC_TEST_RUN(test_bad_version_and_reserved_bits);
    RC_TEST_RUN(test_frame_over_max_frame);
    RC_TEST_RUN(test_body_errors_keep_connection);
    RC_TEST_RUN(test_truncated_frame_then_hangup);
    pthread_join(by.thread, NULL);
    RC_CHECK_EQ_INT(by.failures, 0);
    RC_CHECK_EQ_INT(by.done, BYSTANDER_OPS);

    check_other_client();
    rc_close(checker);
    RC_CHECK_EQ_INT(rc_harness_stop(&srv), 0);
    return 0;
}
