/*
 * test_client_limits.c - configured limits seen through the client, on a
 * server started with --max-value 65536 --max-connections 6:
 *   - six connections are served, a seventh (client or raw socket) gets
 *     SERVER_BUSY and is closed;
 *   - a value of exactly max-value is stored and read back byte-exact, one
 *     byte more is refused with VALUE_TOO_LARGE and nothing is stored (also
 *     inside a batch);
 *   - a frame over max_frame closes the connection and the client reports
 *     itself unusable.
 * The connections opened first are kept for the later tests, so nothing
 * depends on when the server notices a closed connection.
 */
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "rc_harness.h"
#include "rc_test.h"
#include "recache/rc_proto.h"

#define MAX_VALUE 65536
#define MAX_CONNS 6

static rc_harness_server srv;
static rc_client *conns[MAX_CONNS];

static void test_connection_limit(void)
{
    for (int i = 0; i < MAX_CONNS; i++)
        RC_CHECK_RC(rc_harness_connect(&srv, &conns[i]), 0);

    rc_client *extra = NULL;
    RC_CHECK_RC(rc_harness_connect(&srv, &extra), RC_ESERVER_BUSY);
    RC_CHECK(extra == NULL);

    /* A raw socket that sends nothing is told the same, then closed. */
    int fd = rc_harness_raw_connect(&srv);
    RC_CHECK(fd >= 0);
    uint8_t buf[512];
    size_t got = 0;
    ssize_t n;
    while ((n = read(fd, buf + got, sizeof buf - got)) > 0 || (n < 0 && errno == EINTR))
        got += n > 0 ? (size_t)n : 0;
    close(fd);
    rc_msg msg;
    size_t consumed;
    rc_limits lim = rc_limits_wire();
    RC_CHECK_RC(rc_decode(buf, got, &lim, &msg, &consumed), 0);
    RC_CHECK_EQ_INT(msg.status, RC_STATUS_SERVER_BUSY);
    RC_CHECK(msg.text.len > 0);

    /* The connections that got in are unaffected. */
    for (int i = 0; i < MAX_CONNS; i++)
        RC_CHECK_RC(rc_ping(conns[i]), 0);
}

static void fill_pattern(uint8_t *p, size_t len, uint32_t seed)
{
    for (size_t i = 0; i < len; i++) {
        seed = seed * 1103515245u + 12345u;
        p[i] = (uint8_t)(seed >> 16);
    }
}

static void test_value_size_limit(void)
{
    rc_client *c = conns[0];
    RC_CHECK_EQ_INT(rc_server_info_get(c)->max_value, MAX_VALUE);
    static uint8_t big[MAX_VALUE + 1];
    fill_pattern(big, sizeof big, 42);

    RC_CHECK_RC(rc_set(c, "lim", "exact", 5, big, MAX_VALUE, NULL, NULL), 0);
    rc_value v;
    RC_CHECK_RC(rc_get(c, "lim", "exact", 5, NULL, &v), 0);
    RC_CHECK_MEM(v.data, v.len, big, (size_t)MAX_VALUE);
    rc_value_free(&v);

    RC_CHECK_RC(rc_set(c, "lim", "over", 4, big, MAX_VALUE + 1, NULL, NULL), RC_EVALUE_TOO_LARGE);
    RC_CHECK(rc_client_error_message(c)[0] != '\0');
    RC_CHECK(rc_client_ok(c));
    RC_CHECK_RC(rc_get(c, "lim", "over", 4, NULL, &v), RC_EMISS);

    /* Replacing an existing value with an oversized one leaves the old one. */
    RC_CHECK_RC(rc_set(c, "lim", "exact", 5, big, MAX_VALUE + 1, NULL, NULL), RC_EVALUE_TOO_LARGE);
    RC_CHECK_RC(rc_get(c, "lim", "exact", 5, NULL, &v), 0);
    RC_CHECK_MEM(v.data, v.len, big, (size_t)MAX_VALUE);
    rc_value_free(&v);

    /* Inside a batch the refusal is that operation's status only. */
    rc_batch *b = rc_batch_new(c);
    RC_CHECK(b != NULL);
    RC_CHECK_EQ_INT(rc_batch_set(b, "lim", "b1", 2, big, MAX_VALUE + 1, NULL), 0);
    RC_CHECK_EQ_INT(rc_batch_set(b, "lim", "b2", 2, big, MAX_VALUE, NULL), 1);
    RC_CHECK_EQ_INT(rc_batch_get(b, "lim", "b1", 2, NULL), 2);
    RC_CHECK_EQ_INT(rc_batch_get(b, "lim", "b2", 2, NULL), 3);
    RC_CHECK_RC(rc_batch_exec(b), 0);
    RC_CHECK_RC(rc_batch_get_result(b, 0)->status, RC_EVALUE_TOO_LARGE);
    RC_CHECK_RC(rc_batch_get_result(b, 1)->status, 0);
    RC_CHECK_RC(rc_batch_get_result(b, 2)->status, RC_EMISS);
    const rc_batch_result *r = rc_batch_get_result(b, 3);
    RC_CHECK_RC(r->status, 0);
    RC_CHECK_MEM(r->value.data, r->value.len, big, (size_t)MAX_VALUE);
    rc_batch_free(b);
    RC_CHECK_RC(rc_ping(c), 0);
}

static void test_frame_limit_closes(void)
{
    rc_client *c = conns[1];
    size_t len = rc_server_info_get(c)->max_frame; /* value alone fills a whole frame */
    uint8_t *huge = calloc(1, len);
    RC_CHECK(huge != NULL);
    int rc = rc_set(c, "lim", "huge", 4, huge, len, NULL, NULL);
    free(huge);
    /* The server answers FRAME_TOO_LARGE and closes; depending on timing the
     * client sees that answer or only the closed socket. */
    RC_CHECK(rc == RC_EFRAME_TOO_LARGE || rc == RC_ECLOSED || rc == RC_EIO);
    RC_CHECK_EQ_INT(rc_client_ok(c), 0);
    RC_CHECK_RC(rc_ping(c), RC_ECLOSED);

    /* Others are fine, and nothing was stored. */
    rc_value v;
    RC_CHECK_RC(rc_get(conns[0], "lim", "huge", 4, NULL, &v), RC_EMISS);
}

int main(void)
{
    static const char *const args[] = {"--max-value", "65536", "--max-connections", "6", NULL};
    RC_CHECK(rc_harness_start(&srv, args) == 0);
    RC_TEST_RUN(test_connection_limit);
    RC_TEST_RUN(test_value_size_limit);
    RC_TEST_RUN(test_frame_limit_closes);
    for (int i = 0; i < MAX_CONNS; i++)
        rc_close(conns[i]);
    RC_CHECK_EQ_INT(rc_harness_stop(&srv), 0);
    return 0;
}
