/*
 * test_client_l1_faults.c - the L1 near-cache when things go wrong.
 *
 * Cases (each on its own server): the node restarts on the same port (new
 * instance id: the L1 drops everything and resubscribes); heartbeats stop
 * because the server is frozen with SIGSTOP (the L1 turns unhealthy within
 * its bound and reads go to the server, which then times out; after
 * SIGCONT it is healthy again); a raw subscriber that never reads is cut
 * off at the server's output limit while the server keeps answering.
 *
 * "Time passed without a heartbeat" and "the channel resubscribed" have no
 * signal a test can wait on, so those waits poll rc_l1 stats (or the
 * server's STATS) with a deadline and a 1 ms polling interval.
 * Everything else waits on sequence numbers (rc_l1_wait_applied).
 */
#define _GNU_SOURCE

#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "rc_harness.h"
#include "rc_test.h"
#include "recache/rc_proto.h"

#define DEADLINE_MS 10000
#define WAIT_MS     5000

static rc_client *connect_port(uint16_t port, uint32_t io_ms)
{
    rc_client_options o = {.port = port, .connect_timeout_ms = 5000, .io_timeout_ms = io_ms};
    rc_client *c = NULL;
    RC_CHECK_RC(rc_connect(&o, &c), 0);
    return c;
}

/* wait_healthy - poll until stats.healthy == want; returns the ms it took, or -1. */
static long wait_healthy(rc_l1 *l1, int want)
{
    uint64_t start = rc_harness_now_ms();
    while (rc_harness_l1_stats(l1).healthy != want) {
        if (rc_harness_now_ms() > start + DEADLINE_MS)
            return -1;
        rc_harness_poll_pause();
    }
    return (long)(rc_harness_now_ms() - start);
}

static void put(rc_client *c, const char *key, const char *value)
{
    RC_CHECK_RC(rc_set(c, "recs", key, strlen(key), value, strlen(value), NULL, NULL), 0);
}

/* read_twice - the first rc_l1_get fills, the second hits. */
static void read_twice(rc_l1 *l1, rc_client *c, const char *key, const char *want)
{
    for (int i = 0; i < 2; i++) {
        rc_value v;
        uint64_t hits = rc_harness_l1_stats(l1).hits;
        RC_CHECK_RC(rc_l1_get(l1, c, "recs", key, strlen(key), &v), 0);
        RC_CHECK_MEM(v.data, v.len, want, strlen(want));
        rc_value_free(&v);
        RC_CHECK_EQ_U64(rc_harness_l1_stats(l1).hits - hits, (uint64_t)i);
    }
}

static void test_server_restart(void)
{
    rc_harness_server srv;
    RC_CHECK(rc_harness_start(&srv, NULL) == 0);
    rc_client *c = connect_port(srv.port, 5000);
    rc_l1_options o = {.port = srv.port};
    rc_l1 *l1 = NULL;
    RC_CHECK_RC(rc_l1_open(&o, &l1), 0);
    RC_CHECK(wait_healthy(l1, 1) >= 0);
    put(c, "k", "before");
    rc_harness_sync_l1(l1, c, WAIT_MS);
    read_twice(l1, c, "k", "before");
    uint64_t old_instance = rc_harness_l1_stats(l1).instance_id;
    RC_CHECK(old_instance != 0);
    rc_close(c);

    /* Same port: the later --port wins over the harness's --port 0. */
    uint16_t port = srv.port;
    char port_arg[8];
    snprintf(port_arg, sizeof port_arg, "%u", (unsigned)port);
    RC_CHECK_EQ_INT(rc_harness_stop(&srv), 0);
    const char *const args[] = {"--port", port_arg, NULL};
    RC_CHECK(rc_harness_start(&srv, args) == 0);
    RC_CHECK_EQ_INT(srv.port, port);

    uint64_t deadline = rc_harness_now_ms() + DEADLINE_MS;
    while (rc_harness_l1_stats(l1).instance_id == old_instance ||
           !rc_harness_l1_stats(l1).healthy) {
        RC_CHECK(rc_harness_now_ms() < deadline);
        rc_harness_poll_pause();
    }
    rc_l1_stats st = rc_harness_l1_stats(l1);
    RC_CHECK_EQ_U64(st.entries, 0);
    RC_CHECK_EQ_U64(st.resyncs, 1);
    RC_CHECK(st.reconnects >= 1);
    c = connect_port(port, 5000);
    rc_value v;
    RC_CHECK_RC(rc_l1_get(l1, c, "recs", "k", 1, &v), RC_EMISS); /* the new node is empty */
    put(c, "k", "after");
    rc_harness_sync_l1(l1, c, WAIT_MS);
    read_twice(l1, c, "k", "after");
    rc_l1_close(l1);
    rc_close(c);
    RC_CHECK_EQ_INT(rc_harness_stop(&srv), 0);
}

static void test_heartbeat_loss(void)
{
    rc_harness_server srv;
    const char *const args[] = {"--heartbeat-ms", "50", NULL};
    RC_CHECK(rc_harness_start(&srv, args) == 0);
    rc_client *c = connect_port(srv.port, 300);
    rc_l1_options o = {.port = srv.port, .health_timeout_ms = 300};
    rc_l1 *l1 = NULL;
    RC_CHECK_RC(rc_l1_open(&o, &l1), 0);
    RC_CHECK(wait_healthy(l1, 1) >= 0);
    put(c, "k", "v");
    rc_harness_sync_l1(l1, c, WAIT_MS);
    read_twice(l1, c, "k", "v");

    RC_CHECK(kill(srv.pid, SIGSTOP) == 0);
    long took = wait_healthy(l1, 0);
    RC_CHECK(took >= 0 && took < 2000); /* 300 ms bound, generous margin for loaded machines */
    /* Unhealthy: the L1 no longer answers; the read goes to the frozen server and times out. */
    rc_value v;
    uint64_t hits = rc_harness_l1_stats(l1).hits;
    RC_CHECK_RC(rc_l1_get(l1, c, "recs", "k", 1, &v), RC_ETIMEDOUT);
    RC_CHECK_EQ_U64(rc_harness_l1_stats(l1).hits, hits);
    rc_close(c);

    RC_CHECK(kill(srv.pid, SIGCONT) == 0);
    RC_CHECK(wait_healthy(l1, 1) >= 0);
    c = connect_port(srv.port, 5000);
    rc_harness_sync_l1(l1, c, WAIT_MS);
    RC_CHECK(rc_harness_l1_stats(l1).reconnects >= 1);
    RC_CHECK_EQ_U64(rc_harness_l1_stats(l1).resyncs, 0);
    /* Nothing changed while frozen (no resync): the copy kept is served again. */
    hits = rc_harness_l1_stats(l1).hits;
    RC_CHECK_RC(rc_l1_get(l1, c, "recs", "k", 1, &v), 0);
    RC_CHECK_MEM(v.data, v.len, "v", 1);
    rc_value_free(&v);
    RC_CHECK_EQ_U64(rc_harness_l1_stats(l1).hits - hits, 1);
    rc_l1_close(l1);
    rc_close(c);
    RC_CHECK_EQ_INT(rc_harness_stop(&srv), 0);
}

/* raw_subscribe - a SUBSCRIBE frame on a plain socket that will never be read. */
static int raw_subscribe(const rc_harness_server *srv)
{
    int fd = rc_harness_raw_connect(srv);
    RC_CHECK(fd >= 0);
    int small = 4096;
    setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &small, sizeof small);
    rc_msg m = {0};
    m.opcode = RC_OP_SUBSCRIBE;
    m.request_id = 1;
    uint8_t buf[64];
    long n = rc_encode(&m, buf, sizeof buf);
    RC_CHECK(n > 0);
    RC_CHECK(write(fd, buf, (size_t)n) == n);
    return fd;
}

static void test_slow_subscriber_cut_off(void)
{
    rc_harness_server srv;
    const char *const args[] = {"--max-subscriber-output", "64kb", NULL};
    RC_CHECK(rc_harness_start(&srv, args) == 0);
    rc_client *c = connect_port(srv.port, 5000);
    int fd = raw_subscribe(&srv);
    uint64_t deadline = rc_harness_now_ms() + DEADLINE_MS;
    while (rc_harness_node_stat(c, "subscribers") != 1) {
        RC_CHECK(rc_harness_now_ms() < deadline);
        rc_harness_poll_pause();
    }
    /* Long keys make big events; write in pipelined batches until the server cuts it off. */
    char key[240];
    memset(key, 'k', sizeof key);
    rc_batch *b = rc_batch_new(c);
    RC_CHECK(b != NULL);
    for (int round = 0; rc_harness_node_stat(c, "slow_subscriber_disconnects") < 1; round++) {
        RC_CHECK(rc_harness_now_ms() < deadline);
        rc_batch_reset(b);
        for (int i = 0; i < 1000; i++) {
            char head[32];
            int n = snprintf(head, sizeof head, "%d-%d-", round, i);
            memcpy(key, head, (size_t)n); /* the rest stays 'k': unique, long keys */
            RC_CHECK(rc_batch_set(b, "recs", key, sizeof key, "v", 1, NULL) >= 0);
        }
        RC_CHECK_RC(rc_batch_exec(b), 0);
    }
    rc_batch_free(b);
    RC_CHECK_EQ_INT(rc_harness_node_stat(c, "slow_subscriber_disconnects"), 1);
    RC_CHECK_RC(rc_ping(c), 0);
    close(fd);
    rc_close(c);
    RC_CHECK_EQ_INT(rc_harness_stop(&srv), 0);
}

int main(void)
{
    RC_TEST_RUN(test_server_restart);
    RC_TEST_RUN(test_heartbeat_loss);
    RC_TEST_RUN(test_slow_subscriber_cut_off);
    return 0;
}
