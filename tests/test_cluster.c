/*
 * test_cluster.c - rc_cluster and recache-cli --cluster against three real
 * nodes on loopback.
 *
 * Cases:
 *   - placement: adding or removing one node moves only that node's keys,
 *     and weights shift shares (no server needed);
 *   - routing: every key lives on its owner node and nowhere else;
 *   - failover and recovery: a killed node is marked down at once (refused),
 *     its keys fail over with a capped TTL, and the node, restarted on the
 *     same port, takes them back after catching up;
 *   - loud broadcasts: a dead node makes bump and tag invalidation fail
 *     with RC_EPARTIAL (and the CLI exit with 4), with a line per node;
 *   - replay: a hung node (SIGSTOP) misses a tag invalidation and a key
 *     delete; after SIGCONT it replays both before it serves, so the
 *     entries it held are gone; it also adopts the newest version seen;
 *   - L1 over the cluster: entries from a hung node's L1 are not served
 *     once its channel is unhealthy.
 *
 * Waiting for "a node came back" polls rc_cluster_poll with a deadline:
 * the probe is the only way the client learns it, by design.
 */
#define _GNU_SOURCE

#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>

#include "rc_harness.h"
#include "rc_test.h"

#define NODES       3
#define DEADLINE_MS 10000

static rc_harness_server srv[NODES];
static char names[NODES][32];
static const char *name_ptrs[NODES];

static void start_node(int i, uint16_t port, const char *const *extra)
{
    char p[16];
    snprintf(p, sizeof p, "%u", (unsigned)port);
    const char *args[16] = {"--port", p, "--heartbeat-ms", "100"};
    size_t n = 4;
    for (size_t k = 0; extra && extra[k]; k++)
        args[n++] = extra[k];
    args[n] = NULL;
    RC_CHECK_RC(rc_harness_start(&srv[i], args), 0);
    snprintf(names[i], sizeof names[i], "127.0.0.1:%u", (unsigned)srv[i].port);
    name_ptrs[i] = names[i];
}

/* hang_node - SIGSTOP node i and wait (waitid) until it is really stopped. */
static void hang_node(int i)
{
    siginfo_t info;
    RC_CHECK(kill(srv[i].pid, SIGSTOP) == 0);
    RC_CHECK(waitid(P_PID, (id_t)srv[i].pid, &info, WSTOPPED) == 0);
}

/* resume_node - SIGCONT node i and wait until it runs again. */
static void resume_node(int i)
{
    siginfo_t info;
    RC_CHECK(kill(srv[i].pid, SIGCONT) == 0);
    RC_CHECK(waitid(P_PID, (id_t)srv[i].pid, &info, WCONTINUED) == 0);
}

static void start_all(void)
{
    for (int i = 0; i < NODES; i++)
        start_node(i, 0, NULL);
}

static void stop_all(void)
{
    for (int i = 0; i < NODES; i++)
        if (srv[i].pid > 0)
            rc_harness_stop(&srv[i]);
}

static rc_cluster *open_cluster(uint32_t io_ms, uint32_t tko)
{
    rc_cluster_options o = {.nodes = name_ptrs,
                            .n_nodes = NODES,
                            .io_timeout_ms = io_ms,
                            .connect_timeout_ms = 2000, /* generous: a slow start is not a fault */
                            .tko_threshold = tko,
                            .probe_min_ms = 20,
                            .probe_max_ms = 100,
                            .failover_ttl_ms = 5000};
    rc_cluster *cl = NULL;
    RC_CHECK_RC(rc_cluster_open(&o, &cl), 0);
    return cl;
}

static int node_state(rc_cluster *cl, size_t i)
{
    rc_cluster_node_info info;
    RC_CHECK_RC(rc_cluster_node_get(cl, i, &info), 0);
    return info.state;
}

/* wait_up - poll the cluster (probes) until node i is up again; bounded. */
static void wait_up(rc_cluster *cl, size_t i)
{
    uint64_t deadline = rc_harness_now_ms() + DEADLINE_MS;
    while (node_state(cl, i) != RC_NODE_UP) {
        RC_CHECK(rc_harness_now_ms() < deadline);
        rc_cluster_poll(cl);
        rc_harness_poll_pause();
    }
}

/* key_owned_by - a key of ns whose owner is node i (searching key<n>). */
static void key_owned_by(rc_cluster *cl, const char *ns, size_t i, char *key, size_t cap, int skip)
{
    for (int n = 0;; n++) {
        snprintf(key, cap, "key%d", n);
        size_t owner;
        RC_CHECK_RC(rc_cluster_owner(cl, ns, key, strlen(key), &owner), 0);
        if (owner == i && skip-- == 0)
            return;
    }
}

static void cset(rc_cluster *cl, const char *ns, const char *key, const char *value,
                 const char *tag)
{
    const char *tags[] = {tag};
    rc_set_options o = {.stale_ms = RC_STALE_DEFAULT, .tags = tags, .ntags = tag ? 1u : 0u};
    RC_CHECK_RC(rc_cluster_set(cl, ns, key, strlen(key), value, strlen(value), &o, NULL), 0);
}

/* direct_get - GET ns/key straight from node i: 0 (value compared when want) or RC_EMISS. */
static int direct_get(int i, const char *ns, const char *key, const char *want)
{
    rc_client *c = rc_harness_client(&srv[i]);
    rc_value v;
    int err = rc_get(c, ns, key, strlen(key), NULL, &v);
    if (err == 0) {
        if (want)
            RC_CHECK_MEM(v.data, v.len, want, strlen(want));
        rc_value_free(&v);
    }
    rc_close(c);
    return err;
}

/* ---- cases ----------------------------------------------------------------------------------- */

static void test_placement_stability(void)
{
    const char *four[] = {"10.0.0.1:7400", "10.0.0.2:7400", "10.0.0.3:7400", "10.0.0.4:7400"};
    const int keys = 30000;
    int moved_add = 0, share[4] = {0}, wshare[3] = {0};
    for (int k = 0; k < keys; k++) {
        char key[32];
        snprintf(key, sizeof key, "user:%d", k);
        size_t o3[3], o4[4], o2[2], ow[3];
        RC_CHECK_RC(rc_hrw_rank(four, NULL, 3, "recs", 4, key, strlen(key), o3), 0);
        RC_CHECK_RC(rc_hrw_rank(four, NULL, 4, "recs", 4, key, strlen(key), o4), 0);
        /* Adding node 3: a key moves only if node 3 takes it. */
        if (o4[0] != o3[0]) {
            RC_CHECK_EQ_U64(o4[0], 3);
            moved_add++;
        }
        share[o4[0]]++;
        /* Removing node 1 from the three: only its keys move. */
        const char *without[] = {four[0], four[2]};
        RC_CHECK_RC(rc_hrw_rank(without, NULL, 2, "recs", 4, key, strlen(key), o2), 0);
        size_t before = o3[0], after = o2[0] == 0 ? 0 : 2;
        if (before != 1)
            RC_CHECK_EQ_U64(after, before);
        else
            RC_CHECK_EQ_U64(after, o3[1]); /* to the runner-up, as failover does */
        const double w[] = {2.0, 1.0, 1.0};
        RC_CHECK_RC(rc_hrw_rank(four, w, 3, "recs", 4, key, strlen(key), ow), 0);
        wshare[ow[0]]++;
    }
    printf("adding a 4th node moved %d of %d keys; shares %d %d %d %d; weighted 2:1:1 -> %d %d "
           "%d\n",
           moved_add, keys, share[0], share[1], share[2], share[3], wshare[0], wshare[1],
           wshare[2]);
    RC_CHECK(moved_add > keys / 5 && moved_add < keys / 3); /* about a quarter */
    for (int i = 0; i < 4; i++)
        RC_CHECK(share[i] > keys / 5 && share[i] < keys / 3);
    RC_CHECK(wshare[0] > keys * 45 / 100 && wshare[0] < keys * 55 / 100);
    size_t order[2];
    RC_CHECK_RC(rc_hrw_rank(four, (const double[]){1.0, 0.0}, 2, "n", 1, "k", 1, order), RC_EINVAL);
}

static void test_routing(void)
{
    start_all();
    rc_cluster *cl = open_cluster(2000, 3);
    int on_owner = 0;
    for (int k = 0; k < 150; k++) {
        char key[32], value[32];
        snprintf(key, sizeof key, "route:%d", k);
        snprintf(value, sizeof value, "v%d", k);
        cset(cl, "recs", key, value, NULL);
        size_t owner;
        RC_CHECK_RC(rc_cluster_owner(cl, "recs", key, strlen(key), &owner), 0);
        for (int i = 0; i < NODES; i++) {
            int err = direct_get(i, "recs", key, value);
            RC_CHECK_RC(err, (size_t)i == owner ? 0 : RC_EMISS);
        }
        on_owner++;
        rc_value v;
        RC_CHECK_RC(rc_cluster_get(cl, "recs", key, strlen(key), NULL, &v), 0);
        RC_CHECK_MEM(v.data, v.len, value, strlen(value));
        rc_value_free(&v);
    }
    RC_CHECK_EQ_INT(on_owner, 150);
    rc_cluster_close(cl);
    stop_all();
}

static void test_failover_and_recovery(void)
{
    start_all();
    rc_cluster *cl = open_cluster(2000, 3);
    char key[32];
    key_owned_by(cl, "recs", 1, key, sizeof key, 0);
    cset(cl, "recs", key, "before", NULL);
    uint16_t port = srv[1].port;
    kill(srv[1].pid, SIGKILL);
    RC_CHECK(rc_harness_stop(&srv[1]) == 128 + SIGKILL);
    /* Refused: marked down at once, the key fails over to its runner-up. */
    rc_value v;
    RC_CHECK_RC(rc_cluster_get(cl, "recs", key, strlen(key), NULL, &v), RC_EMISS);
    RC_CHECK(node_state(cl, 1) != RC_NODE_UP);
    rc_set_options o = {.stale_ms = RC_STALE_DEFAULT, .ttl_ms = 600000};
    RC_CHECK_RC(rc_cluster_set(cl, "recs", key, strlen(key), "during", 6, &o, NULL), 0);
    RC_CHECK_RC(rc_cluster_get(cl, "recs", key, strlen(key), NULL, &v), 0);
    RC_CHECK_MEM(v.data, v.len, "during", 6);
    RC_CHECK(v.ttl_left_ms <= 5000); /* capped on the failover node */
    rc_value_free(&v);
    rc_cluster_node_info info;
    rc_cluster_node_get(cl, 1, &info);
    RC_CHECK(info.failures >= 1 && info.queue_len >= 1); /* the owner is owed an invalidation */
    /* The node comes back on its port: it catches up, then owns the key again. */
    start_node(1, port, NULL);
    wait_up(cl, 1);
    rc_cluster_node_get(cl, 1, &info);
    RC_CHECK_EQ_U64(info.queue_len, 0);
    RC_CHECK(info.replayed >= 1);
    cset(cl, "recs", key, "after", NULL);
    RC_CHECK_RC(direct_get(1, "recs", key, "after"), 0);
    RC_CHECK_RC(rc_cluster_get(cl, "recs", key, strlen(key), NULL, &v), 0);
    RC_CHECK_MEM(v.data, v.len, "after", 5);
    rc_value_free(&v);
    rc_cluster_close(cl);
    stop_all();
}

static void test_broadcast_fails_loudly(void)
{
    start_all();
    rc_cluster *cl = open_cluster(2000, 3);
    rc_node_result r[NODES];
    uint64_t version;
    RC_CHECK_RC(rc_cluster_bump(cl, "recs", 0, &version, r), 0);
    for (int i = 0; i < NODES; i++)
        RC_CHECK(r[i].status == 0 && r[i].value == 2);
    kill(srv[2].pid, SIGKILL);
    RC_CHECK(rc_harness_stop(&srv[2]) == 128 + SIGKILL);
    RC_CHECK_RC(rc_cluster_bump(cl, "recs", 0, &version, r), RC_EPARTIAL);
    RC_CHECK(r[0].status == 0 && r[0].value == 3 && r[1].status == 0);
    RC_CHECK(r[2].status != 0 && r[2].error[0] != '\0');
    RC_CHECK_RC(rc_cluster_invalidate_tag(cl, "sku:1", RC_HARD, r), RC_EPARTIAL);
    RC_CHECK_RC(rc_cluster_flush(cl, r), RC_EPARTIAL);
    RC_CHECK_RC(rc_cluster_ns_config(cl, "recs", "stale=10", r), RC_EPARTIAL);
    /* A request every node refuses is that refusal, not a partial success. */
    rc_harness_server *live = &srv[0];
    char spec[128];
    snprintf(spec, sizeof spec, "%s,%s,%s", names[0], names[1], names[2]);
    rc_cli_result res = rc_harness_cli_expect(live, 4, "--cluster", spec, "bump", "recs", NULL);
    RC_CHECK(strstr(res.out, "status=ok version=4") != NULL);
    RC_CHECK(strstr(res.out, names[2]) != NULL && strstr(res.out, "status=error") != NULL);
    rc_cli_result_free(&res);
    res = rc_harness_cli_expect(live, 4, "--cluster", spec, "invalidate-tag", "sku:2", NULL);
    rc_cli_result_free(&res);
    res = rc_harness_cli_expect(live, 0, "--cluster", spec, "cluster-info", "recs", NULL);
    RC_CHECK(strstr(res.out, "state=down") != NULL);
    rc_cli_result_free(&res);
    rc_cluster_close(cl);
    stop_all();
}

static void test_replay_before_serving(void)
{
    start_all();
    rc_cluster *cl = open_cluster(600, 1);
    char tagged[32], deleted[32], kept[32];
    key_owned_by(cl, "recs", 0, tagged, sizeof tagged, 0);
    key_owned_by(cl, "recs", 0, deleted, sizeof deleted, 1);
    key_owned_by(cl, "recs", 0, kept, sizeof kept, 2);
    cset(cl, "recs", tagged, "old-list", "sku:9");
    cset(cl, "recs", deleted, "old-list", NULL);
    cset(cl, "recs", kept, "kept", NULL);
    hang_node(0); /* hung: timeouts, not refusals */
    rc_node_result r[NODES];
    RC_CHECK_RC(rc_cluster_invalidate_tag(cl, "sku:9", RC_HARD, r), RC_EPARTIAL);
    RC_CHECK(r[0].status != 0 && r[1].status == 0 && r[2].status == 0);
    RC_CHECK(node_state(cl, 0) != RC_NODE_UP);
    RC_CHECK_RC(rc_cluster_delete(cl, "recs", deleted, strlen(deleted), 0), RC_EMISS);
    uint64_t version;
    RC_CHECK_RC(rc_cluster_bump(cl, "recs", 0, &version, r), RC_EPARTIAL);
    rc_cluster_node_info info;
    rc_cluster_node_get(cl, 0, &info);
    RC_CHECK(info.queue_len >= 2);
    resume_node(0);
    wait_up(cl, 0);
    rc_cluster_node_get(cl, 0, &info);
    RC_CHECK_EQ_U64(info.queue_len, 0);
    /* Caught up before serving: the invalidated entries are gone, the version adopted. */
    rc_value v;
    RC_CHECK_RC(
        rc_cluster_get(cl, "recs", tagged, strlen(tagged), &(rc_get_options){.version = 1}, &v),
        RC_EMISS);
    RC_CHECK_RC(
        rc_cluster_get(cl, "recs", deleted, strlen(deleted), &(rc_get_options){.version = 1}, &v),
        RC_EMISS);
    RC_CHECK_RC(rc_cluster_get(cl, "recs", kept, strlen(kept), &(rc_get_options){.version = 1}, &v),
                0);
    rc_value_free(&v);
    rc_client *c = rc_harness_client(&srv[0]);
    char *text = NULL;
    RC_CHECK_RC(rc_ns_info(c, "recs", &text, &version), 0);
    RC_CHECK_EQ_U64(version, 2);
    free(text);
    rc_close(c);
    rc_cluster_close(cl);
    stop_all();
}

/*
 * More missed invalidations than the queue holds: the node is marked for a
 * resync, and it is flushed before it serves again (a key nobody
 * invalidated is gone too: the flush is what stands for the dropped queue).
 */
static void test_queue_overflow_flushes(void)
{
    start_all();
    rc_cluster_options o = {.nodes = name_ptrs,
                            .n_nodes = NODES,
                            .io_timeout_ms = 600,
                            .connect_timeout_ms = 2000,
                            .tko_threshold = 1,
                            .probe_min_ms = 20,
                            .probe_max_ms = 100,
                            .max_queue = 4};
    rc_cluster *cl = NULL;
    RC_CHECK_RC(rc_cluster_open(&o, &cl), 0);
    char untouched[32];
    key_owned_by(cl, "recs", 2, untouched, sizeof untouched, 0);
    cset(cl, "recs", untouched, "stale-if-kept", NULL);
    hang_node(2);
    for (int k = 1; k <= 8; k++) {
        char key[32];
        key_owned_by(cl, "recs", 2, key, sizeof key, k);
        int err = rc_cluster_delete(cl, "recs", key, strlen(key), 0);
        RC_CHECK(err == 0 || err == RC_EMISS || err == RC_ETIMEDOUT);
    }
    rc_cluster_node_info info;
    rc_cluster_node_get(cl, 2, &info);
    RC_CHECK(info.state == RC_NODE_RESYNCING);
    RC_CHECK(info.dropped > 0);
    resume_node(2);
    wait_up(cl, 2);
    RC_CHECK_RC(direct_get(2, "recs", untouched, NULL), RC_EMISS);
    rc_cluster_close(cl);
    stop_all();
}

/*
 * Lists over the cluster: routed like values; suppression is a loud
 * broadcast (a dead node makes it RC_EPARTIAL and the CLI exit 4) that is
 * replayed to the node when it comes back, before it serves.
 */
static void test_lists_and_suppression(void)
{
    start_all();
    rc_cluster *cl = open_cluster(2000, 3);
    const rc_list_item items[] = {{7, 3.0f}, {8, 2.0f}, {9, 1.0f}};
    char key[32];
    key_owned_by(cl, "recs", 1, key, sizeof key, 0);
    RC_CHECK_RC(rc_cluster_list_set(cl, "recs", key, strlen(key), items, 3, NULL, NULL), 0);
    rc_list l;
    RC_CHECK_RC(rc_cluster_list_get(cl, "recs", key, strlen(key), NULL, &l), 0);
    RC_CHECK_EQ_U64(l.n, 3);
    rc_list_free(&l);
    const uint64_t eight = 8;
    size_t removed = 0;
    RC_CHECK_RC(rc_cluster_list_remove(cl, "recs", key, strlen(key), &eight, 1, 0, &removed), 0);
    RC_CHECK_EQ_U64(removed, 1);
    uint16_t port = srv[1].port;
    kill(srv[1].pid, SIGKILL);
    RC_CHECK(rc_harness_stop(&srv[1]) == 128 + SIGKILL);
    rc_node_result r[NODES];
    const uint64_t seven = 7;
    RC_CHECK_RC(rc_cluster_suppress(cl, "recs", &seven, 1, 0, r), RC_EPARTIAL);
    RC_CHECK(r[0].status == 0 && r[0].value != 0 && r[2].status == 0 && r[1].status != 0);
    char spec[128];
    snprintf(spec, sizeof spec, "%s,%s,%s", names[0], names[1], names[2]);
    rc_cli_result res =
        rc_harness_cli_expect(&srv[0], 4, "--cluster", spec, "suppress", "recs", "5", NULL);
    RC_CHECK(strstr(res.out, "status=ok stamp=") != NULL);
    rc_cli_result_free(&res);
    /* Back on its port and caught up: the suppression it missed was replayed first. */
    start_node(1, port, NULL);
    wait_up(cl, 1);
    RC_CHECK_RC(rc_cluster_list_set(cl, "recs", key, strlen(key), items, 3, NULL, NULL), 0);
    RC_CHECK_RC(rc_cluster_list_get(cl, "recs", key, strlen(key), NULL, &l), 0);
    RC_CHECK_EQ_U64(l.n, 2);
    RC_CHECK(l.items[0].id == 8 && l.items[1].id == 9);
    rc_list_free(&l);
    rc_cluster_close(cl);
    stop_all();
}

static void test_l1_skips_unhealthy_node(void)
{
    start_all();
    rc_cluster *cl = open_cluster(600, 1);
    rc_l1_options base = {.health_timeout_ms = 1000};
    rc_cluster_l1 *l1 = NULL;
    RC_CHECK_RC(rc_cluster_l1_open(cl, &base, &l1), 0);
    char key[32];
    key_owned_by(cl, "recs", 1, key, sizeof key, 0);
    cset(cl, "recs", key, "cached", NULL);
    rc_l1 *node_l1 = rc_cluster_l1_node(l1, 1);
    uint64_t deadline = rc_harness_now_ms() + DEADLINE_MS;
    while (!rc_harness_l1_stats(node_l1).healthy) { /* no signal for "subscribed" */
        RC_CHECK(rc_harness_now_ms() < deadline);
        rc_harness_poll_pause();
    }
    /* The write's own event must be applied first, or it would (rightly) refuse the fill. */
    uint64_t seq = 0;
    RC_CHECK_RC(rc_node_seq(rc_cluster_node_client(cl, 1), &seq, NULL), 0);
    RC_CHECK_RC(rc_l1_wait_applied(node_l1, seq, 5000), 0);
    rc_value v;
    RC_CHECK_RC(rc_cluster_l1_get(l1, "recs", key, strlen(key), &v), 0);
    rc_value_free(&v);
    RC_CHECK_RC(rc_cluster_l1_get(l1, "recs", key, strlen(key), &v), 0);
    rc_value_free(&v);
    uint64_t hits = rc_harness_l1_stats(node_l1).hits;
    RC_CHECK_EQ_U64(hits, 1);
    hang_node(1);
    while (rc_harness_l1_stats(node_l1).healthy) { /* heartbeats stop: the channel goes stale */
        RC_CHECK(rc_harness_now_ms() < deadline);
        rc_harness_poll_pause();
    }
    int err = rc_cluster_l1_get(l1, "recs", key, strlen(key), &v);
    if (err == 0)
        rc_value_free(&v);
    RC_CHECK_EQ_U64(rc_harness_l1_stats(node_l1).hits, hits); /* never served from that L1 */
    resume_node(1);
    rc_cluster_l1_close(l1);
    rc_cluster_close(cl);
    stop_all();
}

int main(void)
{
    RC_TEST_RUN(test_placement_stability);
    RC_TEST_RUN(test_routing);
    RC_TEST_RUN(test_failover_and_recovery);
    RC_TEST_RUN(test_broadcast_fails_loudly);
    RC_TEST_RUN(test_replay_before_serving);
    RC_TEST_RUN(test_queue_overflow_flushes);
    RC_TEST_RUN(test_lists_and_suppression);
    RC_TEST_RUN(test_l1_skips_unhealthy_node);
    return 0;
}
