/*
 * test_cluster_peers.c - anti-entropy between real nodes on loopback
 * (server/rc_peers.h, PROTOCOL.md PEER_SYNC), each case bounded in time.
 *
 *   - three nodes, full mesh: a bump on one node and a tag invalidation on
 *     another reach every node; every node's STATS shows a line per peer,
 *     up with lag 0; once converged, further rounds publish and append
 *     nothing (gossip stops); a stopped peer's line turns down; a node
 *     started late catches up from a snapshot, and the time it took is
 *     measured.
 *   - the X/Y counterexample over the wire, with a relay: A and B only know
 *     C.  C is hung (SIGSTOP); invalidation X reaches only A, a later Y of
 *     the same tag only B; after SIGCONT both converge through C, entries
 *     written before Y are dead on both nodes and one written after Y is
 *     not.  The time from SIGCONT to convergence is measured and bounded
 *     by 2 x gossip-ms plus a round trip (with slack for loaded machines).
 *   - a node reached only through gossip publishes BUMP and TAG events to
 *     its subscribers.
 *   - a peer further behind than a small control log resyncs through a
 *     snapshot of several pages plus the log, and holds every version and
 *     every invalidation afterwards.
 *
 * Ports are reserved before the nodes start (every node must know the
 * others' ports).  "Converged" is polled with a deadline (there is no
 * signal to wait on), 1 ms apart; nothing sleeps to synchronise.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "rc_harness.h"
#include "rc_test.h"

#define GOSSIP_MS   100u
#define DEADLINE_MS 10000u
/* The bound is 2 x gossip-ms + one round trip; the slack absorbs sanitizer builds on 2 cores. */
#define CONVERGE_BOUND_MS (2u * GOSSIP_MS + 1000u)

typedef struct node {
    rc_harness_server srv;
    uint16_t port;
    char port_text[8];
    char peers[128];
    rc_client *c;
} node;

/* A port nothing listens on right now (bound to 0, read back, closed). */
static uint16_t reserve_port(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    RC_CHECK(fd >= 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof(a);
    RC_CHECK(bind(fd, (struct sockaddr *)&a, sizeof(a)) == 0);
    RC_CHECK(getsockname(fd, (struct sockaddr *)&a, &len) == 0);
    close(fd);
    return ntohs(a.sin_port);
}

static void node_init(node *n)
{
    memset(n, 0, sizeof(*n));
    n->port = reserve_port();
    snprintf(n->port_text, sizeof(n->port_text), "%u", n->port);
}

/* n's peers are the listed nodes (NULL-terminated). */
static void node_peers(node *n, node *const *others)
{
    size_t len = 0;
    n->peers[0] = '\0';
    for (size_t i = 0; others[i]; i++)
        len += (size_t)snprintf(n->peers + len, sizeof(n->peers) - len, "%s127.0.0.1:%u",
                                i ? "," : "", others[i]->port);
}

static void node_start(node *n)
{
    char gossip[16];
    snprintf(gossip, sizeof(gossip), "%u", GOSSIP_MS);
    const char *const args[] = {"--port", n->port_text, "--peers", n->peers, "--gossip-ms",
                                gossip,   "--memory",   "64mb",    NULL};
    RC_CHECK_RC(rc_harness_start(&n->srv, args), 0);
    RC_CHECK_EQ_INT(n->srv.port, n->port);
    n->c = rc_harness_client(&n->srv);
}

static void node_stop(node *n)
{
    rc_close(n->c);
    n->c = NULL;
    RC_CHECK_EQ_INT(rc_harness_stop(&n->srv), 0);
}

static uint64_t ns_version(node *n, const char *ns)
{
    char *text = NULL;
    uint64_t v = 0;
    int rc = rc_ns_info(n->c, ns, &text, &v);
    free(text);
    if (rc == RC_EMISS)
        return 0;
    RC_CHECK_RC(rc, 0);
    return v;
}

static void set_tagged(node *n, const char *ns, const char *key, const char *tag)
{
    const char *const tags[] = {tag};
    rc_set_options o = {.stale_ms = 0, .tags = tags, .ntags = 1};
    RC_CHECK_RC(rc_set(n->c, ns, key, strlen(key), "v", 1, &o, NULL), 0);
}

/* 1 when key is served fresh, 2 when stale, 0 on a miss. */
static int alive(node *n, const char *ns, const char *key)
{
    rc_value v;
    int rc = rc_get(n->c, ns, key, strlen(key), NULL, &v);
    if (rc == RC_EMISS)
        return 0;
    RC_CHECK_RC(rc, 0);
    int state = v.stale ? 2 : 1;
    rc_value_free(&v);
    return state;
}

static uint64_t invalidate(node *n, const char *tag, int mode)
{
    uint64_t stamp = 0;
    RC_CHECK_RC(rc_invalidate_tag(n->c, tag, mode, &stamp), 0);
    RC_CHECK(stamp != 0);
    return stamp;
}

/*
 * pass_a_millisecond - wait (bounded) until the wall clock has moved on by
 * two milliseconds.  Not synchronisation: it establishes the guarantee's
 * precondition.  Across nodes an invalidation kills the writes acknowledged
 * more than the clock skew plus one millisecond (the stamps' resolution)
 * before it was issued; the nodes share this machine's clock (skew 0), so a
 * write made two milliseconds earlier is ordered before it on every node.
 */
static void pass_a_millisecond(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    long long start = (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000, now = start;
    uint64_t deadline = rc_harness_now_ms() + 1000;
    while (now < start + 2) {
        RC_CHECK(rc_harness_now_ms() < deadline);
        clock_gettime(CLOCK_REALTIME, &ts);
        now = (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
    }
}

/* Fields of the STATS line "peer 127.0.0.1:PORT ..." of node n about peer port. */
typedef struct peer_line {
    char state[16];
    long long last_ms, lag, exchanges, errors, snapshots;
} peer_line;

static bool read_peer_line(node *n, uint16_t port, peer_line *out)
{
    char *text = NULL;
    RC_CHECK_RC(rc_stats(n->c, NULL, &text), 0);
    char prefix[40];
    snprintf(prefix, sizeof(prefix), "\npeer 127.0.0.1:%u ", port);
    const char *p = strstr(text, prefix);
    bool found = p != NULL;
    if (found) {
        p += strlen(prefix);
        int got = sscanf(p,
                         "state=%15s last_exchange_ms=%lld lag=%lld applied_seq=%*u peer_seq=%*u "
                         "exchanges=%lld errors=%lld snapshots=%lld",
                         out->state, &out->last_ms, &out->lag, &out->exchanges, &out->errors,
                         &out->snapshots);
        RC_CHECK_EQ_INT(got, 6);
    }
    free(text);
    return found;
}

/* Poll cond(ctx) until true or DEADLINE_MS; returns the ms it took (fails the test on timeout). */
static uint64_t wait_for(bool (*cond)(void *), void *ctx, const char *what)
{
    uint64_t start = rc_harness_now_ms();
    while (!cond(ctx)) {
        if (rc_harness_now_ms() - start > DEADLINE_MS) {
            fprintf(stderr, "timed out waiting for: %s\n", what);
            RC_CHECK(!"deadline passed");
        }
        rc_harness_poll_pause();
    }
    return rc_harness_now_ms() - start;
}

/* Print a measured convergence time and check it against the bound. */
static void report_convergence(const char *what, uint64_t took)
{
    fprintf(stderr, "%s: %llu ms (gossip-ms %u, bound checked %u ms)\n", what,
            (unsigned long long)took, GOSSIP_MS, CONVERGE_BOUND_MS);
    RC_CHECK(took <= CONVERGE_BOUND_MS);
}

/* ---- three nodes, full mesh ------------------------------------------------------------------ */

static node *mesh[3];

static bool mesh_converged(void *ctx)
{
    (void)ctx;
    for (int i = 0; i < 3; i++) {
        if (ns_version(mesh[i], "recs") != 7 || alive(mesh[i], "tagged", "k") != 0)
            return false;
    }
    return true;
}

/* Whether every node's line about every other node satisfies ok(line, i, j). */
static bool every_peer_line(bool (*ok)(const peer_line *, int, int))
{
    for (int i = 0; i < 3; i++) {
        for (int j = 0; j < 3; j++) {
            peer_line pl;
            if (i != j && (!read_peer_line(mesh[i], mesh[j]->port, &pl) || !ok(&pl, i, j)))
                return false;
        }
    }
    return true;
}

static bool line_up(const peer_line *pl, int i, int j)
{
    (void)i, (void)j;
    return strcmp(pl->state, "up") == 0 && pl->lag == 0;
}

static bool mesh_peers_up(void *ctx)
{
    (void)ctx;
    return every_peer_line(line_up);
}

static long long exchanges_base[3][3];

static bool line_three_more_rounds(const peer_line *pl, int i, int j)
{
    return pl->exchanges >= exchanges_base[i][j] + 3;
}

static bool mesh_three_more_rounds(void *ctx)
{
    (void)ctx;
    return every_peer_line(line_three_more_rounds);
}

static bool a_sees_c_down(void *ctx)
{
    (void)ctx;
    peer_line pl;
    return read_peer_line(mesh[0], mesh[2]->port, &pl) && strcmp(pl.state, "down") == 0 &&
           pl.errors > 0;
}

static bool c_caught_up(void *ctx)
{
    (void)ctx;
    return ns_version(mesh[2], "recs") == 7 && ns_version(mesh[2], "other") == 4;
}

static bool c_took_snapshot(void *ctx)
{
    (void)ctx;
    peer_line pl;
    return read_peer_line(mesh[2], mesh[0]->port, &pl) && pl.snapshots >= 1;
}

static void test_three_nodes(void)
{
    node a, b, c;
    node_init(&a);
    node_init(&b);
    node_init(&c);
    mesh[0] = &a, mesh[1] = &b, mesh[2] = &c;
    node_peers(&a, (node *const[]){&b, &c, NULL});
    node_peers(&b, (node *const[]){&a, &c, NULL});
    node_peers(&c, (node *const[]){&a, &b, NULL});
    node_start(&a);
    node_start(&b);
    node_start(&c);

    set_tagged(&c, "tagged", "k", "segment:eu");
    pass_a_millisecond();
    RC_CHECK_RC(rc_bump(a.c, "recs", 7, NULL), 0);
    invalidate(&b, "segment:eu", RC_HARD);
    report_convergence("three nodes: a bump on A and a tag invalidation on B reached every node",
                       wait_for(mesh_converged, NULL, "versions and tags on every node"));
    wait_for(mesh_peers_up, NULL, "every peer line up with lag 0");

    /* Converged: more rounds publish no event and append no control record. */
    long long events[3], control[3];
    for (int i = 0; i < 3; i++) {
        events[i] = rc_harness_node_stat(mesh[i]->c, "events_published");
        control[i] = rc_harness_node_stat(mesh[i]->c, "control_log_newest");
        RC_CHECK_EQ_INT(rc_harness_node_stat(mesh[i]->c, "peers"), 2);
        for (int j = 0; j < 3; j++) {
            peer_line pl;
            if (i != j) {
                RC_CHECK(read_peer_line(mesh[i], mesh[j]->port, &pl));
                exchanges_base[i][j] = pl.exchanges;
            }
        }
    }
    wait_for(mesh_three_more_rounds, NULL, "three more rounds with every peer");
    for (int i = 0; i < 3; i++) {
        RC_CHECK_EQ_INT(rc_harness_node_stat(mesh[i]->c, "events_published"), events[i]);
        RC_CHECK_EQ_INT(rc_harness_node_stat(mesh[i]->c, "control_log_newest"), control[i]);
    }

    /* A stopped peer turns down; a node started late catches up (a new instance: a snapshot). */
    node_stop(&c);
    wait_for(a_sees_c_down, NULL, "A's line for C says down");
    RC_CHECK_RC(rc_bump(b.c, "other", 4, NULL), 0);
    uint64_t launched = rc_harness_now_ms();
    node_start(&c);
    wait_for(c_caught_up, NULL, "the restarted node holds every version");
    report_convergence("three nodes: a node started late held every peer's versions, counted "
                       "from its launch",
                       rc_harness_now_ms() - launched);
    /* Its exchange with A began from a snapshot (a new node knows no sequence of A's). */
    wait_for(c_took_snapshot, NULL, "C's line for A counts a snapshot");
    wait_for(mesh_peers_up, NULL, "every peer line up again");
    node_stop(&a);
    node_stop(&b);
    node_stop(&c);
}

/* ---- X/Y through a relay --------------------------------------------------------------------- */

static node *xa, *xb;

static bool xy_converged(void *ctx)
{
    (void)ctx;
    return alive(xa, "xy", "a-between") == 0 && alive(xb, "xy", "b-between") == 0;
}

static void test_x_y_over_the_wire(void)
{
    node a, b, c;
    node_init(&a);
    node_init(&b);
    node_init(&c);
    xa = &a, xb = &b;
    node_peers(&a, (node *const[]){&c, NULL});
    node_peers(&b, (node *const[]){&c, NULL});
    node_peers(&c, (node *const[]){&a, &b, NULL});
    node_start(&a);
    node_start(&b);
    node_start(&c);

    set_tagged(&a, "xy", "a-before-x", "product:1");
    set_tagged(&b, "xy", "b-before-x", "product:1");
    pass_a_millisecond();
    /* C hangs: A and B can no longer exchange anything. */
    RC_CHECK(kill(c.srv.pid, SIGSTOP) == 0);
    uint64_t x = invalidate(&a, "product:1", RC_HARD);
    set_tagged(&a, "xy", "a-between", "product:1");
    set_tagged(&b, "xy", "b-between", "product:1");
    pass_a_millisecond(); /* a-between was written before Y, by more than the skew */
    /* Y must be later than X in stamp order too: within one millisecond B's clock may still
     * stamp below A's, which is the skew case the guarantee leaves open, so retry until later. */
    uint64_t y;
    do {
        y = invalidate(&b, "product:1", RC_HARD);
        if (y <= x)
            rc_harness_poll_pause();
    } while (y <= x);
    set_tagged(&b, "xy", "b-after-y", "product:1");

    /* Each node saw only its own invalidation. */
    RC_CHECK_EQ_INT(alive(&a, "xy", "a-before-x"), 0);
    RC_CHECK_EQ_INT(alive(&a, "xy", "a-between"), 1);
    RC_CHECK_EQ_INT(alive(&b, "xy", "b-before-x"), 0);
    RC_CHECK_EQ_INT(alive(&b, "xy", "b-between"), 0);

    RC_CHECK(kill(c.srv.pid, SIGCONT) == 0);
    report_convergence("x/y: after SIGCONT of the relay, both nodes held both invalidations",
                       wait_for(xy_converged, NULL, "Y reaches A and X reaches B through C"));
    RC_CHECK_EQ_INT(alive(&a, "xy", "a-before-x"), 0);
    RC_CHECK_EQ_INT(alive(&b, "xy", "b-before-x"), 0);
    RC_CHECK_EQ_INT(alive(&b, "xy", "b-after-y"), 1);
    /* Written after the merge: stamped above both, fresh on both nodes. */
    set_tagged(&a, "xy", "a-after", "product:1");
    set_tagged(&b, "xy", "b-after", "product:1");
    RC_CHECK_EQ_INT(alive(&a, "xy", "a-after"), 1);
    RC_CHECK_EQ_INT(alive(&b, "xy", "b-after"), 1);
    node_stop(&a);
    node_stop(&b);
    node_stop(&c);
}

/* ---- paging, and a peer further behind than the control log -------------------------------- */

#define PAGING_NS   1000 /* 1000 x 72-byte records: more than one snapshot page */
#define PAGING_TAGS 600  /* 600 x 140-byte records: more still */

static void long_ns(char *out, size_t cap, int i)
{
    snprintf(out, cap, "namespace-with-a-long-name-to-fill-pages-quickly-%010d", i);
}

static void long_tag(char *out, size_t cap, int i)
{
    snprintf(out, cap,
             "tag-with-a-long-name-to-fill-pages-quickly-xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
             "xxxxxxxxxxxxxxxxxxxxxxxx-%08d",
             i);
}

static node *pa, *pb;
static long long pb_snapshots_before;

static bool b_resynced(void *ctx)
{
    (void)ctx;
    peer_line pl;
    return read_peer_line(pb, pa->port, &pl) && pl.snapshots > pb_snapshots_before &&
           strcmp(pl.state, "up") == 0 && pl.lag == 0;
}

/*
 * b_caught_up - B resynced AND holds the last bump A took while B hung (the
 * peer line alone can describe an exchange that finished before the hang).
 */
static bool b_caught_up(void *ctx)
{
    char last[200], tag[200];
    long_ns(last, sizeof(last), PAGING_NS - 1);
    long_tag(tag, sizeof(tag), PAGING_TAGS - 1);
    return b_resynced(ctx) && ns_version(pb, last) == 5 && alive(pb, "paging", tag) == 2;
}

/*
 * A keeps only 64 control records.  B hangs while A takes 600 tag
 * invalidations and 1000 bumps, so when B resumes the log no longer holds
 * what it needs: it takes a snapshot of several pages, then replays A's log,
 * and ends up with every version and every invalidation.
 */
static void test_paging_and_overrun(void)
{
    node a, b;
    node_init(&a);
    node_init(&b);
    pa = &a, pb = &b;
    node_peers(&a, (node *const[]){&b, NULL});
    node_peers(&b, (node *const[]){&a, NULL});
    char gossip[16];
    snprintf(gossip, sizeof(gossip), "%u", GOSSIP_MS);
    const char *const args_a[] = {"--port",        a.port_text, "--peers",  a.peers,
                                  "--gossip-ms",   gossip,      "--memory", "64mb",
                                  "--control-log", "64",        NULL};
    RC_CHECK_RC(rc_harness_start(&a.srv, args_a), 0);
    a.c = rc_harness_client(&a.srv);
    node_start(&b);

    char name[200];
    for (int i = 0; i < PAGING_TAGS; i++) {
        long_tag(name, sizeof(name), i);
        set_tagged(&a, "paging", name, name);
        set_tagged(&b, "paging", name, name);
    }
    pass_a_millisecond();
    peer_line pl;
    wait_for(b_resynced, NULL, "B up with A before the hang"); /* snapshots > -1 */
    RC_CHECK(read_peer_line(&b, a.port, &pl));
    pb_snapshots_before = pl.snapshots;

    RC_CHECK(kill(b.srv.pid, SIGSTOP) == 0);
    for (int i = 0; i < PAGING_TAGS; i++) {
        long_tag(name, sizeof(name), i);
        invalidate(&a, name, RC_SOFT);
    }
    for (int i = 0; i < PAGING_NS; i++) {
        long_ns(name, sizeof(name), i);
        RC_CHECK_RC(rc_bump(a.c, name, 5, NULL), 0);
    }
    RC_CHECK(rc_harness_node_stat(a.c, "control_log_oldest") > 1);
    RC_CHECK(kill(b.srv.pid, SIGCONT) == 0);
    report_convergence("overrun: a peer 1600 records behind a 64-record log resynced",
                       wait_for(b_caught_up, NULL, "B took a snapshot of A and caught up"));
    for (int i = 0; i < PAGING_NS; i++) {
        long_ns(name, sizeof(name), i);
        RC_CHECK_EQ_U64(ns_version(&b, name), 5);
    }
    for (int i = 0; i < PAGING_TAGS; i++) {
        long_tag(name, sizeof(name), i);
        RC_CHECK_EQ_INT(alive(&b, "paging", name), 2); /* soft: stale on B too */
    }
    node_stop(&a);
    node_stop(&b);
}

/* ---- events on a node reached through gossip --------------------------------------------------
 */

/* Wait for the next event of kind on sub, skipping heartbeats and other kinds. */
static rc_event next_of_kind(rc_client *sub, int kind)
{
    uint64_t start = rc_harness_now_ms();
    for (;;) {
        RC_CHECK(rc_harness_now_ms() - start < DEADLINE_MS);
        rc_event ev;
        int rc = rc_next_event(sub, 500, &ev);
        if (rc == RC_ETIMEDOUT)
            continue;
        RC_CHECK_RC(rc, 0);
        if (ev.kind == kind)
            return ev;
    }
}

static void test_events_through_gossip(void)
{
    node a, b;
    node_init(&a);
    node_init(&b);
    node_peers(&a, (node *const[]){&b, NULL});
    node_peers(&b, (node *const[]){&a, NULL});
    node_start(&a);
    node_start(&b);
    rc_client *sub = rc_harness_client(&b.srv);
    RC_CHECK_RC(rc_subscribe(sub, NULL, 0, 0, 0, NULL, NULL), 0);

    RC_CHECK_RC(rc_bump(a.c, "ev", 3, NULL), 0);
    rc_event ev = next_of_kind(sub, RC_EVENT_BUMP);
    RC_CHECK_MEM(ev.ns, ev.ns_len, "ev", 2);
    RC_CHECK_EQ_U64(ev.ns_version, 3);

    invalidate(&a, "ev-tag", RC_SOFT);
    ev = next_of_kind(sub, RC_EVENT_TAG);
    RC_CHECK_MEM(ev.tag, ev.tag_len, "ev-tag", 6);
    RC_CHECK_EQ_INT(ev.mode, RC_SOFT);
    invalidate(&a, "ev-tag", RC_HARD);
    ev = next_of_kind(sub, RC_EVENT_TAG);
    RC_CHECK_MEM(ev.tag, ev.tag_len, "ev-tag", 6);
    RC_CHECK_EQ_INT(ev.mode, RC_HARD);
    rc_close(sub);
    node_stop(&a);
    node_stop(&b);
}

/* list_ids - the ids of ns/key's list as node n serves it (0 on a miss). */
static size_t list_ids(node *n, const char *ns, const char *key, uint64_t *ids, size_t cap)
{
    rc_list l;
    int rc = rc_list_get(n->c, ns, key, strlen(key), NULL, &l);
    if (rc == RC_EMISS)
        return 0;
    RC_CHECK_RC(rc, 0);
    size_t k = 0;
    for (; k < l.n && k < cap; k++)
        ids[k] = l.items[k].id;
    rc_list_free(&l);
    return k;
}

static bool b_hides_7(void *ctx)
{
    node *b = ctx;
    uint64_t ids[4];
    return list_ids(b, "recs", "u1", ids, 4) == 2 && ids[0] == 8 && ids[1] == 9;
}

static bool b_shows_7(void *ctx)
{
    node *b = ctx;
    uint64_t ids[4];
    return list_ids(b, "recs", "u1", ids, 4) == 3;
}

/*
 * Suppression converges by anti-entropy, like tag invalidations: an item
 * suppressed on A only is hidden from B's lists within the bound, B's
 * subscribers are told (so their near-caches filter), and a later
 * unsuppression on A wins over it by stamp.
 */
static void test_suppression_through_gossip(void)
{
    node a, b;
    node_init(&a);
    node_init(&b);
    node_peers(&a, (node *const[]){&b, NULL});
    node_peers(&b, (node *const[]){&a, NULL});
    node_start(&a);
    node_start(&b);
    const rc_list_item items[] = {{7, 3.0f}, {8, 2.0f}, {9, 1.0f}};
    RC_CHECK_RC(rc_list_set(b.c, "recs", "u1", 2, items, 3, NULL, NULL), 0);
    rc_client *sub = rc_harness_client(&b.srv);
    RC_CHECK_RC(rc_subscribe(sub, NULL, 0, 0, 0, NULL, NULL), 0);
    const uint64_t seven = 7;
    RC_CHECK_RC(rc_suppress(a.c, "recs", &seven, 1, 0, NULL), 0);
    report_convergence("suppression: B hides the item A suppressed",
                       wait_for(b_hides_7, &b, "B hides item 7"));
    rc_event ev = next_of_kind(sub, RC_EVENT_SUPPRESS);
    RC_CHECK_MEM(ev.ns, ev.ns_len, "recs", 4);
    RC_CHECK_RC(rc_unsuppress(a.c, "recs", &seven, 1, NULL), 0);
    wait_for(b_shows_7, &b, "B shows item 7 again");
    rc_close(sub);
    node_stop(&a);
    node_stop(&b);
}

int main(void)
{
    signal(SIGPIPE, SIG_IGN);
    RC_TEST_RUN(test_three_nodes);
    RC_TEST_RUN(test_x_y_over_the_wire);
    RC_TEST_RUN(test_events_through_gossip);
    RC_TEST_RUN(test_suppression_through_gossip);
    RC_TEST_RUN(test_paging_and_overrun);
    return 0;
}
