/*
 * test_client_limits.c - configured limits seen through the client, on a
 * server started with --max-value 65536 --max-connections 6:
 *   - six connections are served, a seventh (client or raw socket) gets
 *     SERVER_BUSY and is closed;
 *   - a value of exactly max-value is stored and read back byte-exact, one
 *     byte more is refused with VALUE_TOO_LARGE and nothing is stored (also
 *     inside a batch, where it is refused at queue time);
 *   - the client refuses, before sending, a value over max-value, a key over
 *     max-key and a request over max-frame (which the server would answer by
 *     closing the connection): the server receives none of those bytes, the
 *     connection stays usable and the message names the limit.
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

    /* Inside a batch the oversized operation is refused when queued; the rest runs. */
    rc_batch *b = rc_batch_new(c);
    RC_CHECK(b != NULL);
    RC_CHECK_EQ_INT(rc_batch_set(b, "lim", "b1", 2, big, MAX_VALUE + 1, NULL), RC_EVALUE_TOO_LARGE);
    RC_CHECK_EQ_INT(rc_batch_set(b, "lim", "b2", 2, big, MAX_VALUE, NULL), 0);
    RC_CHECK_EQ_INT(rc_batch_get(b, "lim", "b1", 2, NULL), 1);
    RC_CHECK_EQ_INT(rc_batch_get(b, "lim", "b2", 2, NULL), 2);
    RC_CHECK_EQ_INT(rc_batch_count(b), 3);
    RC_CHECK_RC(rc_batch_exec(b), 0);
    RC_CHECK_RC(rc_batch_get_result(b, 0)->status, 0);
    RC_CHECK_RC(rc_batch_get_result(b, 1)->status, RC_EMISS);
    const rc_batch_result *r = rc_batch_get_result(b, 2);
    RC_CHECK_RC(r->status, 0);
    RC_CHECK_MEM(r->value.data, r->value.len, big, (size_t)MAX_VALUE);
    rc_batch_free(b);
    RC_CHECK_RC(rc_ping(c), 0);
}

/* bytes_in - what the server has read from all clients so far (STATS through c). */
static long long bytes_in(rc_client *c)
{
    long long n = rc_harness_node_stat(c, "bytes_in");
    RC_CHECK(n >= 0);
    return n;
}

/*
 * refused - check that the last call on c was refused locally with a message
 * naming `limit`, that the server read less than `size` bytes meanwhile
 * (so the request was not sent), and that c still works.
 */
static void refused(rc_client *c, long long before, size_t size, const char *limit)
{
    RC_CHECK(strstr(rc_client_error_message(c), limit) != NULL);
    RC_CHECK(strstr(rc_client_error_message(c), "nothing was sent") != NULL);
    RC_CHECK_EQ_INT(rc_client_ok(c), 1);
    RC_CHECK_RC(rc_ping(c), 0);
    RC_CHECK(bytes_in(conns[0]) - before < (long long)size);
}

static void test_oversized_refused_before_sending(void)
{
    rc_client *c = conns[1];
    const rc_server_info *info = rc_server_info_get(c);
    size_t len = info->max_frame; /* the value alone fills a whole frame */
    uint8_t *huge = calloc(1, len + 1);
    RC_CHECK(huge != NULL);
    memset(huge, 'k', len);

    long long before = bytes_in(conns[0]);
    RC_CHECK_RC(rc_set(c, "lim", "huge", 4, huge, len, NULL, NULL), RC_EVALUE_TOO_LARGE);
    refused(c, before, len, "max-value");

    before = bytes_in(conns[0]);
    RC_CHECK_RC(rc_set(c, "lim", huge, (size_t)info->max_key + 1, "v", 1, NULL, NULL),
                RC_EKEY_TOO_LONG);
    refused(c, before, (size_t)info->max_key + 1, "max-key");

    /* A request that is not a value: namespace settings text over max-frame. */
    huge[len] = '\0';
    before = bytes_in(conns[0]);
    RC_CHECK_RC(rc_ns_config(c, "lim", (const char *)huge, NULL), RC_EFRAME_TOO_LARGE);
    refused(c, before, len, "max-frame");
    free(huge);

    /* Nothing was stored, and the connection goes on serving. */
    rc_value v;
    RC_CHECK_RC(rc_get(c, "lim", "huge", 4, NULL, &v), RC_EMISS);
    RC_CHECK_RC(rc_set(c, "lim", "after", 5, "ok", 2, NULL, NULL), 0);
}

int main(void)
{
    static const char *const args[] = {"--max-value", "65536", "--max-connections", "6", NULL};
    RC_CHECK(rc_harness_start(&srv, args) == 0);
    RC_TEST_RUN(test_connection_limit);
    RC_TEST_RUN(test_value_size_limit);
    RC_TEST_RUN(test_oversized_refused_before_sending);
    for (int i = 0; i < MAX_CONNS; i++)
        rc_close(conns[i]);
    RC_CHECK_EQ_INT(rc_harness_stop(&srv), 0);
    return 0;
}
