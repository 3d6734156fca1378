/*
 * test_control.c - the control log ring (rc_control.h) and the --peers
 * parser (rc_peers_parse): sequences, reading after a sequence, wrap-around
 * (a reader further behind than the ring is told to take a snapshot), a
 * sequence from the future, names copied in; peer lists with host names,
 * IPv4 and bracketed IPv6, and every refusal.
 */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <string.h>

#include "rc_control.h"
#include "rc_peers.h"
#include "rc_test.h"

static void test_append_and_read(void)
{
    rc_control *c = rc_control_create(4);
    rc_control_rec out[8];
    size_t n;
    uint64_t newest;
    /* Empty: nothing after 0, and no sequence beyond. */
    RC_CHECK_RC(rc_control_read(c, 0, out, 8, &n, &newest), 0);
    RC_CHECK_EQ_INT(n, 0);
    RC_CHECK_EQ_U64(newest, 0);
    RC_CHECK_RC(rc_control_read(c, 1, out, 8, &n, &newest), RC_EMISS);

    char name[8];
    RC_CHECK_EQ_U64(rc_control_version(c, rc_slice_str("recs"), 2), 1);
    RC_CHECK_EQ_U64(rc_control_tag(c, rc_slice_str("product:1"), 0, 77), 2);
    RC_CHECK_RC(rc_control_read(c, 0, out, 8, &n, &newest), 0);
    RC_CHECK_EQ_INT(n, 2);
    RC_CHECK_EQ_U64(newest, 2);
    RC_CHECK_EQ_INT(out[0].kind, RC_CONTROL_VERSION);
    RC_CHECK_EQ_U64(out[0].seq, 1);
    RC_CHECK_MEM(out[0].name, out[0].name_len, "recs", 4);
    RC_CHECK_EQ_U64(out[0].version, 2);
    RC_CHECK_EQ_INT(out[1].kind, RC_CONTROL_TAG);
    RC_CHECK_MEM(out[1].name, out[1].name_len, "product:1", 9);
    RC_CHECK_EQ_U64(out[1].hard, 0);
    RC_CHECK_EQ_U64(out[1].any, 77);
    /* At most max records, oldest first. */
    RC_CHECK_RC(rc_control_read(c, 0, out, 1, &n, &newest), 0);
    RC_CHECK_EQ_INT(n, 1);
    RC_CHECK_EQ_U64(out[0].seq, 1);
    RC_CHECK_RC(rc_control_read(c, 2, out, 8, &n, &newest), 0);
    RC_CHECK_EQ_INT(n, 0);

    /* Wrap: 6 records in a ring of 4 keep sequences 3..6. */
    for (int i = 0; i < 4; i++) {
        snprintf(name, sizeof(name), "ns%d", i);
        rc_control_version(c, rc_slice_str(name), (uint64_t)i + 10);
    }
    rc_control_totals t;
    rc_control_totals_get(c, &t);
    RC_CHECK_EQ_U64(t.newest, 6);
    RC_CHECK_EQ_U64(t.oldest, 3);
    RC_CHECK_EQ_INT(t.capacity, 4);
    RC_CHECK_RC(rc_control_read(c, 1, out, 8, &n, &newest), RC_EMISS); /* 2 is gone */
    RC_CHECK_RC(rc_control_read(c, 2, out, 8, &n, &newest), 0);        /* 3.. still held */
    RC_CHECK_EQ_INT(n, 4);
    RC_CHECK_EQ_U64(out[0].seq, 3);
    RC_CHECK_EQ_U64(out[3].seq, 6);
    RC_CHECK_MEM(out[3].name, out[3].name_len, "ns3", 3);
    RC_CHECK_RC(rc_control_read(c, 7, out, 8, &n, &newest), RC_EMISS); /* from the future */
    rc_control_destroy(c);
}

static void test_long_name_truncated_not_overrun(void)
{
    rc_control *c = rc_control_create(2);
    char name[300];
    memset(name, 'n', sizeof(name));
    rc_control_version(c, (rc_slice){(const uint8_t *)name, sizeof(name)}, 3);
    rc_control_rec out;
    size_t n;
    uint64_t newest;
    RC_CHECK_RC(rc_control_read(c, 0, &out, 1, &n, &newest), 0);
    RC_CHECK_EQ_INT(out.name_len, 255);
    rc_control_destroy(c);
}

static void test_parse_peers(void)
{
    char hosts[RC_PEERS_MAX][256];
    uint16_t ports[RC_PEERS_MAX];
    char err[256];
    RC_CHECK_EQ_INT(rc_peers_parse("", hosts, ports, RC_PEERS_MAX, err, sizeof(err)), 0);
    RC_CHECK_EQ_INT(rc_peers_parse(NULL, hosts, ports, RC_PEERS_MAX, err, sizeof(err)), 0);
    RC_CHECK_EQ_INT(rc_peers_parse("10.0.0.2:7400,cache-b.internal:7401,[::1]:7402", hosts, ports,
                                   RC_PEERS_MAX, err, sizeof(err)),
                    3);
    RC_CHECK(strcmp(hosts[0], "10.0.0.2") == 0 && ports[0] == 7400);
    RC_CHECK(strcmp(hosts[1], "cache-b.internal") == 0 && ports[1] == 7401);
    RC_CHECK(strcmp(hosts[2], "::1") == 0 && ports[2] == 7402);

    static const char *const bad[] = {
        "host", "host:", ":7400",    "host:0",    "host:65536", "host:12x",
        "a:1,", ",a:1",  "a:1,,b:2", "[::1]7400", "[::1",       "host:99999999999999999999",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        err[0] = '\0';
        int rc = rc_peers_parse(bad[i], hosts, ports, RC_PEERS_MAX, err, sizeof(err));
        if (rc != RC_EINVAL)
            fprintf(stderr, "accepted '%s'\n", bad[i]);
        RC_CHECK_RC(rc, RC_EINVAL);
        RC_CHECK(err[0] != '\0');
    }
    char many[RC_PEERS_MAX * 16 + 64] = "";
    size_t len = 0;
    for (int i = 0; i <= RC_PEERS_MAX; i++)
        len += (size_t)snprintf(many + len, sizeof(many) - len, "%sh:%d", i ? "," : "", i + 1);
    RC_CHECK_RC(rc_peers_parse(many, hosts, ports, RC_PEERS_MAX, err, sizeof(err)), RC_EINVAL);
    RC_CHECK(strstr(err, "more than") != NULL);
}

int main(void)
{
    RC_TEST_RUN(test_append_and_read);
    RC_TEST_RUN(test_long_name_truncated_not_overrun);
    RC_TEST_RUN(test_parse_peers);
    return 0;
}
