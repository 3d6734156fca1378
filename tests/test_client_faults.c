/*
 * test_client_faults.c - librecache against a scripted fake server, for the
 * failures a real server does not produce on demand: a server that never
 * answers (I/O timeout), hangs up, speaks another protocol, answers with
 * the wrong request id, answers twice, sends a frame over the client's
 * limit, refuses the connection; and for behaviour the client must get
 * right without a real server's help: pushed EVENT frames are skipped and
 * batch answers arriving in any order land at their own index.
 *
 * Each case runs one fake server thread that accepts one connection on a
 * loopback port and plays a script; the test thread joins it, so every
 * case is bounded by the client's timeouts.
 */
#define _GNU_SOURCE

#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "rc_harness.h"
#include "rc_test.h"
#include "recache/rc_proto.h"

typedef struct fake_server fake_server;
typedef void (*fake_script)(fake_server *fs, int fd);

struct fake_server {
    int listen_fd;
    uint16_t port;
    pthread_t thread;
    fake_script script;
    int failures; /* checks inside the script that failed (read after join) */
};

/* ---- fake server plumbing ------------------------------------------------------------------- */

static void write_exact(int fd, const void *buf, size_t len)
{
    const uint8_t *p = buf;
    while (len > 0) {
        ssize_t n = send(fd, p, len, MSG_NOSIGNAL);
        if (n <= 0)
            return;
        p += n;
        len -= (size_t)n;
    }
}

/* Read one request frame; slices point into body.  0 or -1 at EOF / bad frame. */
static int fake_read(int fd, rc_msg *msg, uint8_t *body, size_t cap)
{
    uint8_t head[RC_HEADER_SIZE];
    uint32_t frame_len;
    if (rc_harness_recv_all(fd, head, sizeof head) != 0 ||
        rc_decode_header(head, sizeof head, UINT32_MAX, msg, &frame_len) != 0 ||
        frame_len - RC_HEADER_SIZE > cap ||
        rc_harness_recv_all(fd, body, frame_len - RC_HEADER_SIZE) != 0)
        return -1;
    rc_limits lim = rc_limits_wire();
    return rc_decode_body(body, frame_len - RC_HEADER_SIZE, &lim, msg) == 0 ? 0 : -1;
}

/* Send msg as a response (or as a push when push is set). */
static void fake_send(int fd, rc_msg *msg, int push)
{
    uint8_t buf[4096];
    msg->hflags = push ? RC_HF_PUSH : RC_HF_RESPONSE;
    long n = rc_encode(msg, buf, sizeof buf);
    if (n > 0)
        write_exact(fd, buf, (size_t)n);
}

/* The HELLO answer a real server would give. */
static void fake_hello_reply(int fd, uint32_t request_id)
{
    rc_msg r = {.opcode = RC_OP_HELLO, .request_id = request_id};
    r.instance_id = 0x1234;
    r.max_frame = 1u << 20;
    r.max_value = 1u << 19;
    r.max_key = 250;
    r.max_tags = 32;
    r.max_tag_len = 128;
    r.text = rc_slice_str("fake 0.0");
    fake_send(fd, &r, 0);
}

/* Read the client's HELLO and answer it.  0 or -1. */
static int fake_handshake(int fd)
{
    rc_msg m;
    uint8_t body[1024];
    if (fake_read(fd, &m, body, sizeof body) != 0 || m.opcode != RC_OP_HELLO)
        return -1;
    fake_hello_reply(fd, m.request_id);
    return 0;
}

/* Wait for the client to hang up, so the script never closes first by accident. */
static void fake_drain(int fd)
{
    uint8_t buf[4096];
    while (read(fd, buf, sizeof buf) > 0)
        ;
}

static void *fake_run(void *arg)
{
    fake_server *fs = arg;
    int fd = accept(fs->listen_fd, NULL, NULL);
    if (fd < 0) {
        fs->failures++;
        return NULL;
    }
    fs->script(fs, fd);
    close(fd);
    return NULL;
}

static void fake_start(fake_server *fs, fake_script script)
{
    *fs = (fake_server){.script = script};
    fs->listen_fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    RC_CHECK(fs->listen_fd >= 0);
    struct sockaddr_in sa = {.sin_family = AF_INET};
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof sa;
    RC_CHECK(bind(fs->listen_fd, (struct sockaddr *)&sa, sizeof sa) == 0);
    RC_CHECK(listen(fs->listen_fd, 4) == 0);
    RC_CHECK(getsockname(fs->listen_fd, (struct sockaddr *)&sa, &len) == 0);
    fs->port = ntohs(sa.sin_port);
    RC_CHECK(pthread_create(&fs->thread, NULL, fake_run, fs) == 0);
}

static void fake_finish(fake_server *fs)
{
    pthread_join(fs->thread, NULL);
    close(fs->listen_fd);
    RC_CHECK_EQ_INT(fs->failures, 0);
}

static int fake_connect(const fake_server *fs, uint32_t io_timeout_ms, rc_client **out)
{
    rc_client_options o = {.host = "127.0.0.1",
                           .port = fs->port,
                           .connect_timeout_ms = 2000,
                           .io_timeout_ms = io_timeout_ms};
    return rc_connect(&o, out);
}

/* ---- scripts and cases ---------------------------------------------------------------------- */

static void script_silent(fake_server *fs, int fd)
{
    (void)fs;
    fake_drain(fd);
}

static void test_io_timeout(void)
{
    fake_server fs;
    fake_start(&fs, script_silent);
    rc_client *c = NULL;
    uint64_t t0 = rc_harness_now_ms();
    RC_CHECK_RC(fake_connect(&fs, 200, &c), RC_ETIMEDOUT);
    uint64_t took = rc_harness_now_ms() - t0;
    RC_CHECK(took >= 190 && took < 5000);
    RC_CHECK(c == NULL);
    fake_finish(&fs);
}

static void script_hang_up(fake_server *fs, int fd)
{
    rc_msg m;
    uint8_t body[1024];
    if (fake_read(fd, &m, body, sizeof body) != 0)
        fs->failures++;
}

static void test_server_hangs_up(void)
{
    fake_server fs;
    fake_start(&fs, script_hang_up);
    rc_client *c = NULL;
    RC_CHECK_RC(fake_connect(&fs, 2000, &c), RC_ECLOSED);
    fake_finish(&fs);
}

static void script_http(fake_server *fs, int fd)
{
    static const char reply[] = "HTTP/1.1 400 Bad Request\r\n\r\n";
    rc_msg m;
    uint8_t body[1024];
    if (fake_read(fd, &m, body, sizeof body) != 0)
        fs->failures++;
    write_exact(fd, reply, sizeof reply - 1);
    fake_drain(fd);
}

static void test_not_recache(void)
{
    fake_server fs;
    fake_start(&fs, script_http);
    rc_client *c = NULL;
    RC_CHECK_RC(fake_connect(&fs, 2000, &c), RC_EPROTOCOL);
    fake_finish(&fs);
}

static void script_wrong_id(fake_server *fs, int fd)
{
    rc_msg m;
    uint8_t body[1024];
    if (fake_read(fd, &m, body, sizeof body) != 0)
        fs->failures++;
    fake_hello_reply(fd, m.request_id + 5);
    fake_drain(fd);
}

static void test_wrong_request_id(void)
{
    fake_server fs;
    fake_start(&fs, script_wrong_id);
    rc_client *c = NULL;
    RC_CHECK_RC(fake_connect(&fs, 2000, &c), RC_EPROTOCOL);
    fake_finish(&fs);
}

static void script_busy(fake_server *fs, int fd)
{
    (void)fs;
    rc_msg r = {.opcode = 0, .request_id = 0, .status = RC_STATUS_SERVER_BUSY};
    r.text = rc_slice_str("too many connections");
    fake_send(fd, &r, 0);
    fake_drain(fd);
}

static void test_busy_on_connect(void)
{
    fake_server fs;
    fake_start(&fs, script_busy);
    rc_client *c = NULL;
    RC_CHECK_RC(fake_connect(&fs, 2000, &c), RC_ESERVER_BUSY);
    fake_finish(&fs);
}

/* Pushed events before each answer; then a PING answered the same way. */
static void script_events(fake_server *fs, int fd)
{
    rc_msg ev = {.opcode = RC_OP_EVENT, .kind = RC_EV_HEARTBEAT, .seq = 77};
    rc_msg m;
    uint8_t body[1024];
    if (fake_read(fd, &m, body, sizeof body) != 0) {
        fs->failures++;
        return;
    }
    fake_send(fd, &ev, 1);
    fake_hello_reply(fd, m.request_id);
    if (fake_read(fd, &m, body, sizeof body) != 0 || m.opcode != RC_OP_PING) {
        fs->failures++;
        return;
    }
    fake_send(fd, &ev, 1);
    fake_send(fd, &ev, 1);
    rc_msg pong = {.opcode = RC_OP_PING, .request_id = m.request_id};
    fake_send(fd, &pong, 0);
    fake_drain(fd);
}

static void test_push_frames_skipped(void)
{
    fake_server fs;
    fake_start(&fs, script_events);
    rc_client *c = NULL;
    RC_CHECK_RC(fake_connect(&fs, 2000, &c), 0);
    const rc_server_info *info = rc_server_info_get(c);
    RC_CHECK_EQ_U64(info->instance_id, 0x1234);
    RC_CHECK(strcmp(info->server_version, "fake 0.0") == 0);
    RC_CHECK_EQ_INT(info->max_key, 250);
    RC_CHECK_RC(rc_ping(c), 0);
    rc_close(c);
    fake_finish(&fs);
}

#define OOO_OPS 8

/* Answer a batch of GETs in reverse order, each value naming its key. */
static void script_reverse(fake_server *fs, int fd)
{
    if (fake_handshake(fd) != 0) {
        fs->failures++;
        return;
    }
    static uint8_t bodies[OOO_OPS][512];
    rc_msg reqs[OOO_OPS];
    for (int i = 0; i < OOO_OPS; i++) {
        if (fake_read(fd, &reqs[i], bodies[i], sizeof bodies[i]) != 0) {
            fs->failures++;
            return;
        }
    }
    for (int i = OOO_OPS - 1; i >= 0; i--) {
        rc_msg r = {.opcode = reqs[i].opcode, .request_id = reqs[i].request_id};
        r.ns_version = 3;
        r.ttl_ms = RC_TTL_NONE;
        if (i % 2 == 0)
            r.value = reqs[i].key; /* echo the key as the value */
        else
            r.status = RC_STATUS_MISS;
        fake_send(fd, &r, 0);
    }
    fake_drain(fd);
}

static void test_batch_answers_out_of_order(void)
{
    fake_server fs;
    fake_start(&fs, script_reverse);
    rc_client *c = NULL;
    RC_CHECK_RC(fake_connect(&fs, 2000, &c), 0);
    rc_batch *b = rc_batch_new(c);
    RC_CHECK(b != NULL);
    char key[16];
    for (int i = 0; i < OOO_OPS; i++) {
        snprintf(key, sizeof key, "key-%d", i);
        RC_CHECK_EQ_INT(rc_batch_get(b, "ns", key, strlen(key), NULL), i);
    }
    RC_CHECK_RC(rc_batch_exec(b), 0);
    for (int i = 0; i < OOO_OPS; i++) {
        const rc_batch_result *r = rc_batch_get_result(b, (size_t)i);
        snprintf(key, sizeof key, "key-%d", i);
        if (i % 2 == 0) {
            RC_CHECK_RC(r->status, 0);
            RC_CHECK_MEM(r->value.data, r->value.len, key, strlen(key));
            RC_CHECK_EQ_U64(r->value.ns_version, 3);
        } else {
            RC_CHECK_RC(r->status, RC_EMISS);
        }
    }
    rc_batch_free(b);
    rc_close(c);
    fake_finish(&fs);
}

/* Answer the first of two GETs twice. */
static void script_duplicate(fake_server *fs, int fd)
{
    uint8_t body[2][512];
    rc_msg reqs[2];
    if (fake_handshake(fd) != 0 || fake_read(fd, &reqs[0], body[0], sizeof body[0]) != 0 ||
        fake_read(fd, &reqs[1], body[1], sizeof body[1]) != 0) {
        fs->failures++;
        return;
    }
    rc_msg r = {.opcode = RC_OP_GET, .request_id = reqs[0].request_id, .status = RC_STATUS_MISS};
    fake_send(fd, &r, 0);
    fake_send(fd, &r, 0);
    fake_drain(fd);
}

static void test_duplicate_answer(void)
{
    fake_server fs;
    fake_start(&fs, script_duplicate);
    rc_client *c = NULL;
    RC_CHECK_RC(fake_connect(&fs, 2000, &c), 0);
    rc_batch *b = rc_batch_new(c);
    RC_CHECK(b != NULL);
    RC_CHECK_EQ_INT(rc_batch_get(b, "ns", "a", 1, NULL), 0);
    RC_CHECK_EQ_INT(rc_batch_get(b, "ns", "b", 1, NULL), 1);
    RC_CHECK_RC(rc_batch_exec(b), RC_EPROTOCOL);
    RC_CHECK_RC(rc_batch_get_result(b, 0)->status, RC_EMISS);
    RC_CHECK_RC(rc_batch_get_result(b, 1)->status, RC_EPROTOCOL);
    RC_CHECK_EQ_INT(rc_client_ok(c), 0);
    RC_CHECK_RC(rc_ping(c), RC_ECLOSED);
    rc_batch_free(b);
    rc_close(c);
    fake_finish(&fs);
}

/* Announce a 100 MiB answer: over the client's 64 MiB floor and the server's limit. */
static void script_huge_frame(fake_server *fs, int fd)
{
    rc_msg m;
    uint8_t body[1024];
    if (fake_handshake(fd) != 0 || fake_read(fd, &m, body, sizeof body) != 0) {
        fs->failures++;
        return;
    }
    uint8_t head[RC_HEADER_SIZE];
    rc_msg pong = {.opcode = RC_OP_PING, .request_id = m.request_id, .hflags = RC_HF_RESPONSE};
    if (rc_encode(&pong, head, sizeof head) != RC_HEADER_SIZE) {
        fs->failures++;
        return;
    }
    uint32_t len = 100u << 20;
    for (int i = 0; i < 4; i++)
        head[12 + i] = (uint8_t)(len >> (8 * i));
    write_exact(fd, head, sizeof head);
    fake_drain(fd);
}

static void test_frame_over_client_limit(void)
{
    fake_server fs;
    fake_start(&fs, script_huge_frame);
    rc_client *c = NULL;
    RC_CHECK_RC(fake_connect(&fs, 2000, &c), 0);
    RC_CHECK_RC(rc_ping(c), RC_EPROTOCOL);
    RC_CHECK_EQ_INT(rc_client_ok(c), 0);
    rc_close(c);
    fake_finish(&fs);
}

static void test_connection_refused(void)
{
    /* A port that was just free: bind, note it, close. */
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    RC_CHECK(fd >= 0);
    struct sockaddr_in sa = {.sin_family = AF_INET};
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof sa;
    RC_CHECK(bind(fd, (struct sockaddr *)&sa, sizeof sa) == 0);
    RC_CHECK(getsockname(fd, (struct sockaddr *)&sa, &len) == 0);
    close(fd);
    rc_client_options o = {.host = "127.0.0.1", .port = ntohs(sa.sin_port)};
    rc_client *c = NULL;
    RC_CHECK_RC(rc_connect(&o, &c), RC_ECONNECT);
    RC_CHECK(c == NULL);
    RC_CHECK_RC(rc_connect(NULL, NULL), RC_EINVAL);
}

int main(void)
{
    RC_TEST_RUN(test_io_timeout);
    RC_TEST_RUN(test_server_hangs_up);
    RC_TEST_RUN(test_not_recache);
    RC_TEST_RUN(test_wrong_request_id);
    RC_TEST_RUN(test_busy_on_connect);
    RC_TEST_RUN(test_push_frames_skipped);
    RC_TEST_RUN(test_batch_answers_out_of_order);
    RC_TEST_RUN(test_duplicate_answer);
    RC_TEST_RUN(test_frame_over_client_limit);
    RC_TEST_RUN(test_connection_refused);
    return 0;
}
