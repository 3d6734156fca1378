/*
 * test_admin.c - the admin port's endpoints through real clients (issue 11):
 *   - curl with the client certificate gets 200 from /metrics and
 *     `promtool check metrics` finds the exposition clean; the families the
 *     issue names are there, per namespace, with a served-age histogram;
 *   - /health, /ready, /stats, /config, /namespaces, /namespaces/{ns},
 *     /cluster answer JSON;
 *   - PUT /namespaces/{ns}/config, POST bump (with and without `to`), tag
 *     and key invalidation (hard and soft) and flush change what a
 *     data-port client reads, and a subscriber on the data port hears the
 *     same events the data-port operations publish;
 *   - error paths change nothing and answer JSON: bad JSON, unknown
 *     setting, unknown path (404), wrong method (405 with Allow), an
 *     oversized body (413) and oversized headers (431), an unknown
 *     namespace (404); keep-alive serves several requests on one connection.
 */
#define _GNU_SOURCE

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "admin_util.h"
#include "rc_harness.h"
#include "rc_test.h"

#define WAIT_MS 5000

static admin_env env;

static bool has(const char *text, const char *needle)
{
    return text != NULL && strstr(text, needle) != NULL;
}

#define CHECK_HAS(text, needle)                                                                    \
    do {                                                                                           \
        if (!has((text), (needle))) {                                                              \
            fprintf(stderr, "%s:%d: '%s' not found in:\n%s\n", __FILE__, __LINE__, (needle),       \
                    (text));                                                                       \
            exit(1);                                                                               \
        }                                                                                          \
    } while (0)

/* The next event on subscriber s that is not a heartbeat. */
static rc_event next_event(rc_client *s)
{
    rc_event ev;
    do {
        RC_CHECK_RC(rc_next_event(s, WAIT_MS, &ev), 0);
    } while (ev.kind == RC_EVENT_HEARTBEAT);
    return ev;
}

static rc_client *subscriber(void)
{
    rc_client *s = rc_harness_client(&env.srv);
    RC_CHECK_RC(rc_subscribe(s, NULL, 0, 0, 0, NULL, NULL), 0);
    return s;
}

static void set_tagged(rc_client *c, const char *ns, const char *key, const char *tag)
{
    const char *tags[] = {tag};
    rc_set_options o = {.stale_ms = 60000, .tags = tags, .ntags = tag != NULL ? 1 : 0};
    RC_CHECK_RC(rc_set(c, ns, key, strlen(key), "v", 1, &o, NULL), 0);
}

/* ---- metrics ------------------------------------------------------------------------------- */

static void test_metrics_promtool(void)
{
    rc_client *c = rc_harness_client(&env.srv);
    set_tagged(c, "users", "u1", NULL);
    set_tagged(c, "odd \"name\"\\", "k", NULL); /* label escaping */
    rc_value v;
    RC_CHECK_RC(rc_get(c, "users", "u1", 2, NULL, &v), 0);
    rc_value_free(&v);
    RC_CHECK_RC(rc_get(c, "users", "none", 4, NULL, &v), RC_EMISS);
    rc_close(c);

    char *body = admin_http(&env, NULL, "/metrics", NULL, 200);
    const char *argv[] = {admin_tool("RECACHE_PROMTOOL"), "check", "metrics", NULL};
    rc_cli_result r;
    int st = rc_harness_run(argv, body, strlen(body), &r);
    if (st != 0)
        fprintf(stderr, "promtool check metrics failed (%d):\n%s%s\n", st, r.out, r.err);
    RC_CHECK_EQ_INT(st, 0);
    rc_cli_result_free(&r);
    /* Node-wide, per operation, per status, per namespace, subscribers, histogram, peers. */
    const char *families[] = {
        "recache_memory_used_bytes ",
        "recache_memory_limit_bytes ",
        "recache_entries 2",
        "recache_evictions_total ",
        "recache_connections_current ",
        "recache_requests_by_op_total{op=\"get\"} 2",
        "recache_responses_by_status_total{status=\"MISS\",code=\"1\"} 1",
        "recache_namespace_hits_total{namespace=\"users\"} 1",
        "recache_namespace_misses_total{namespace=\"users\"} 1",
        "recache_namespace_stale_hits_total{namespace=\"users\"} 0",
        "recache_namespace_leases_granted_total{namespace=\"users\"} 0",
        "recache_namespace_waits_total{namespace=\"users\"} 0",
        "recache_namespace_fills_rejected_bump_total{namespace=\"users\"} 0",
        "recache_namespace_evictions_total{namespace=\"users\"} 0",
        "recache_namespace_invalidations_hard_total{namespace=\"users\"} 0",
        "recache_namespace_version{namespace=\"users\"} 1",
        "recache_namespace_version{namespace=\"odd \\\"name\\\"\\\\\"} 1",
        "recache_subscribers ",
        "recache_subscriber_lag_events_max ",
        "recache_namespace_served_age_seconds_bucket{namespace=\"users\",le=\"+Inf\"} 1",
        "recache_namespace_served_age_seconds_count{namespace=\"users\"} 1",
        "# TYPE recache_peer_lag_seconds gauge",
    };
    for (size_t i = 0; i < sizeof(families) / sizeof(families[0]); i++)
        CHECK_HAS(body, families[i]);
    free(body);
}

/* ---- read-only endpoints ------------------------------------------------------------------- */

static void test_reads(void)
{
    char *b = admin_http(&env, NULL, "/health", NULL, 200);
    CHECK_HAS(b, "\"status\":\"ok\"");
    free(b);
    b = admin_http(&env, NULL, "/ready", NULL, 200);
    CHECK_HAS(b, "\"ready\":true");
    free(b);
    b = admin_http(&env, NULL, "/stats", NULL, 200);
    CHECK_HAS(b, "\"requests_total\":");
    CHECK_HAS(b, "\"threads\":2");
    free(b);
    b = admin_http(&env, NULL, "/config", NULL, 200);
    char port[48];
    snprintf(port, sizeof(port), "\"admin-port\":%u", env.admin_port);
    CHECK_HAS(b, port);
    CHECK_HAS(b, "\"protected-mode\":\"yes\"");
    free(b);
    b = admin_http(&env, NULL, "/namespaces", NULL, 200);
    CHECK_HAS(b, "{\"name\":\"users\",\"version\":1,\"entries\":1,");
    free(b);
    b = admin_http(&env, NULL, "/namespaces/users", NULL, 200);
    CHECK_HAS(b, "\"settings\":{\"default-ttl\":0,");
    CHECK_HAS(b, "\"hits\":1");
    CHECK_HAS(b, "\"served_age_ms\":{");
    free(b);
    b = admin_http(&env, NULL, "/namespaces/nosuch", NULL, 404);
    CHECK_HAS(b, "{\"error\":\"Not Found\",\"message\":\"no such namespace\"}");
    free(b);
    b = admin_http(&env, NULL, "/cluster", NULL, 200);
    CHECK_HAS(b, "\"peers\":[]");
    free(b);
}

/* ---- mutations: seen by a data-port client and a subscriber ------------------------------- */

static void test_bump_seen(void)
{
    rc_client *c = rc_harness_client(&env.srv);
    rc_client *s = subscriber();
    set_tagged(c, "models", "m1", NULL);
    rc_event ev = next_event(s); /* the set's KEY event */
    RC_CHECK_EQ_INT(ev.kind, RC_EVENT_KEY);

    char *b = admin_http(&env, "POST", "/namespaces/models/bump", NULL, 200);
    CHECK_HAS(b, "\"previous_version\":1,\"version\":2,\"moved\":true");
    free(b);
    ev = next_event(s);
    RC_CHECK_EQ_INT(ev.kind, RC_EVENT_BUMP);
    RC_CHECK_EQ_U64(ev.ns_version, 2);
    rc_value v;
    RC_CHECK_RC(rc_get(c, "models", "m1", 2, NULL, &v), RC_EMISS);
    RC_CHECK_EQ_U64(v.ns_version, 2);

    /* An explicit target, in the query and in the body; a lower one moves nothing. */
    b = admin_http(&env, "POST", "/namespaces/models/bump?to=10", NULL, 200);
    CHECK_HAS(b, "\"version\":10,\"moved\":true");
    free(b);
    RC_CHECK_EQ_U64(next_event(s).ns_version, 10);
    b = admin_http(&env, "POST", "/namespaces/models/bump", "{\"to\": 5}", 200);
    CHECK_HAS(b, "\"previous_version\":10,\"version\":10,\"moved\":false");
    free(b);
    /* Bad targets: refused, nothing moves. */
    b = admin_http(&env, "POST", "/namespaces/models/bump?to=abc", NULL, 400);
    free(b);
    b = admin_http(&env, "POST", "/namespaces/models/bump", "{\"to\": -1}", 400);
    free(b);
    b = admin_http(&env, "POST", "/namespaces/models/bump", "{\"too\": 3}", 400);
    CHECK_HAS(b, "unknown field");
    free(b);
    b = admin_http(&env, "POST", "/namespaces/models/bump?to=20", "{\"to\": 20}", 400);
    free(b);
    uint64_t version = 0;
    RC_CHECK_RC(rc_bump(c, "models", 0, &version), 0);
    RC_CHECK_EQ_U64(version, 11); /* 10, as the admin port left it, plus one */
    RC_CHECK_EQ_INT(next_event(s).kind, RC_EVENT_BUMP);
    rc_close(s);
    rc_close(c);
}

static void test_tag_and_key_invalidation_seen(void)
{
    rc_client *c = rc_harness_client(&env.srv);
    rc_client *s = subscriber();
    set_tagged(c, "items", "a", "sku-1");
    set_tagged(c, "items", "b", "sku-2");
    set_tagged(c, "items", "k", NULL);
    for (int i = 0; i < 3; i++)
        RC_CHECK_EQ_INT(next_event(s).kind, RC_EVENT_KEY);

    char *b = admin_http(&env, "POST", "/tags/sku-1/invalidate", NULL, 200);
    CHECK_HAS(b, "\"tag\":\"sku-1\",\"mode\":\"hard\"");
    free(b);
    rc_event ev = next_event(s);
    RC_CHECK_EQ_INT(ev.kind, RC_EVENT_TAG);
    RC_CHECK_MEM(ev.tag, ev.tag_len, "sku-1", 5);
    RC_CHECK_EQ_INT(ev.mode, RC_HARD);
    rc_value v;
    RC_CHECK_RC(rc_get(c, "items", "a", 1, NULL, &v), RC_EMISS);

    b = admin_http(&env, "POST", "/tags/sku-2/invalidate", "{\"mode\": \"soft\"}", 200);
    CHECK_HAS(b, "\"mode\":\"soft\"");
    free(b);
    ev = next_event(s);
    RC_CHECK_EQ_INT(ev.kind, RC_EVENT_TAG);
    RC_CHECK_EQ_INT(ev.mode, RC_SOFT);
    RC_CHECK_RC(rc_get(c, "items", "b", 1, NULL, &v), 0);
    RC_CHECK_EQ_INT(v.stale, 1);
    rc_value_free(&v);
    b = admin_http(&env, "POST", "/tags/sku-2/invalidate?mode=medium", NULL, 400);
    free(b);

    /* Key invalidation: a key with '/' and ' ' travels percent-encoded. */
    set_tagged(c, "items", "a/b c", NULL);
    RC_CHECK_EQ_INT(next_event(s).kind, RC_EVENT_KEY);
    b = admin_http(&env, "POST", "/namespaces/items/keys/a%2Fb%20c/invalidate", NULL, 200);
    CHECK_HAS(b, "\"key\":\"a/b c\",\"mode\":\"hard\",\"found\":true");
    free(b);
    ev = next_event(s);
    RC_CHECK_EQ_INT(ev.kind, RC_EVENT_KEY);
    RC_CHECK_MEM(ev.key, ev.key_len, "a/b c", 5);
    RC_CHECK_RC(rc_get(c, "items", "a/b c", 5, NULL, &v), RC_EMISS);
    b = admin_http(&env, "POST", "/namespaces/items/keys/k/invalidate?mode=soft", NULL, 200);
    CHECK_HAS(b, "\"found\":true");
    free(b);
    RC_CHECK_EQ_INT(next_event(s).kind, RC_EVENT_KEY);
    RC_CHECK_RC(rc_get(c, "items", "k", 1, NULL, &v), 0);
    RC_CHECK_EQ_INT(v.stale, 1);
    rc_value_free(&v);
    /* A missing key still publishes (a near-cache may hold it) and says it was not found. */
    b = admin_http(&env, "POST", "/namespaces/items/keys/gone/invalidate", NULL, 200);
    CHECK_HAS(b, "\"found\":false");
    free(b);
    RC_CHECK_EQ_INT(next_event(s).kind, RC_EVENT_KEY);
    b = admin_http(&env, "POST", "/namespaces/items/keys/%ZZ/invalidate", NULL, 400);
    free(b);
    rc_close(s);
    rc_close(c);
}

static void test_ns_config_and_flush(void)
{
    rc_client *c = rc_harness_client(&env.srv);
    char *b = admin_http(&env, "PUT", "/namespaces/cfg/config", "{\"default-ttl\": 60000}", 200);
    CHECK_HAS(b, "\"default-ttl\":60000");
    CHECK_HAS(b, "\"applied\":\"default-ttl=60000\"");
    free(b);
    set_tagged(c, "cfg", "x", NULL);
    rc_value v;
    RC_CHECK_RC(rc_get(c, "cfg", "x", 1, NULL, &v), 0);
    RC_CHECK(v.ttl_left_ms <= 60000 && v.ttl_left_ms > 50000); /* the new default applies */
    rc_value_free(&v);

    /* Refused bodies change nothing. */
    const char *bad[] = {"{\"default-ttl\": 1, \"bogus\": 2}",
                         "{bad json",
                         "[1, 2]",
                         "{}",
                         "{\"default-ttl\": \"10\"}",
                         "{\"default-ttl\": 1.5}",
                         "{\"ttl-jitter\": 99}"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        b = admin_http(&env, "PUT", "/namespaces/cfg/config", bad[i], 400);
        CHECK_HAS(b, "{\"error\":\"Bad Request\",\"message\":");
        free(b);
    }
    b = admin_http(&env, NULL, "/namespaces/cfg", NULL, 200);
    CHECK_HAS(b, "\"default-ttl\":60000,\"stale\":0,\"early-refresh\":0,\"ttl-jitter\":0");
    free(b);

    rc_client *s = subscriber();
    b = admin_http(&env, "POST", "/flush", NULL, 200);
    CHECK_HAS(b, "\"flushed\":true");
    free(b);
    RC_CHECK_EQ_INT(next_event(s).kind, RC_EVENT_FLUSH);
    RC_CHECK_RC(rc_get(c, "cfg", "x", 1, NULL, &v), RC_EMISS);
    b = admin_http(&env, "POST", "/flush", "{\"all\": true}", 400); /* takes no body */
    free(b);
    rc_close(s);
    rc_close(c);
}

/* ---- HTTP error paths --------------------------------------------------------------------- */

static void test_http_errors(void)
{
    char *b = admin_http(&env, NULL, "/nope", NULL, 404);
    CHECK_HAS(b, "{\"error\":\"Not Found\",\"message\":\"no such endpoint\"}");
    free(b);
    b = admin_http(&env, NULL, "/metrics/", NULL, 404);
    free(b);
    b = admin_http(&env, "POST", "/metrics", NULL, 405);
    CHECK_HAS(b, "\"error\":\"Method Not Allowed\"");
    free(b);
    rc_cli_result r;
    RC_CHECK_EQ_INT(admin_curl(&env, "good", "DELETE", "/flush", NULL, &r), 0);
    RC_CHECK_EQ_INT(admin_status(r.out), 405);
    CHECK_HAS(r.out, "\r\nAllow: POST\r\n");
    rc_cli_result_free(&r);
    b = admin_http(&env, "GET", "/health", "{}", 400); /* GETs take no body */
    free(b);

    /* A body over admin-max-request (4 KiB here) is refused before it is stored. */
    size_t big = 8192;
    char *body = malloc(big + 1);
    memset(body, ' ', big);
    body[0] = '{';
    body[big - 1] = '}';
    body[big] = '\0';
    RC_CHECK_EQ_INT(admin_curl(&env, "good", "PUT", "/namespaces/cfg/config", body, &r), 0);
    RC_CHECK_EQ_INT(admin_status(r.out), 413);
    CHECK_HAS(r.out, "admin-max-request");
    rc_cli_result_free(&r);
    free(body);

    /* Headers over the limit: 431. */
    char header[6000];
    memset(header, 'a', sizeof(header));
    memcpy(header, "X-Big: ", 7);
    header[sizeof(header) - 1] = '\0';
    char url[128];
    snprintf(url, sizeof(url), "%s/health", env.base);
    const char *opts[] = {"-i", "-H", header, url, NULL};
    RC_CHECK_EQ_INT(admin_curl_args(&env, "good", opts, NULL, &r), 0);
    RC_CHECK_EQ_INT(admin_status(r.out), 431);
    rc_cli_result_free(&r);
}

/* Keep-alive: curl reuses one connection for several requests. */
static void test_keep_alive(void)
{
    char u1[128], u2[128], u3[128];
    snprintf(u1, sizeof(u1), "%s/health", env.base);
    snprintf(u2, sizeof(u2), "%s/ready", env.base);
    snprintf(u3, sizeof(u3), "%s/cluster", env.base);
    const char *opts[] = {"-v", u1, u2, u3, NULL};
    rc_cli_result r;
    RC_CHECK_EQ_INT(admin_curl_args(&env, "good", opts, NULL, &r), 0);
    CHECK_HAS(r.out, "\"status\":\"ok\"");
    CHECK_HAS(r.out, "\"ready\":true");
    CHECK_HAS(r.out, "\"peers\":[]");
    CHECK_HAS(r.err, "Re-using existing connection");
    rc_cli_result_free(&r);
}

/*
 * A node started with --peers reports them on the admin port: /cluster
 * lists each peer with its state, last exchange and lag, and /metrics has a
 * lag sample per peer.
 */
static void test_cluster_peers_reported(void)
{
    rc_harness_server peer;
    char peer_spec[64], want[128];
    RC_CHECK_EQ_INT(rc_harness_start(&peer, NULL), 0);
    snprintf(peer_spec, sizeof(peer_spec), "127.0.0.1:%u", peer.port);
    admin_stop(&env);
    const char *extra[] = {"--peers", peer_spec, "--gossip-ms", "100", NULL};
    admin_start(&env, extra);
    snprintf(want, sizeof(want), "{\"peer\":\"%s\",\"state\":\"up\"", peer_spec);
    uint64_t deadline = rc_harness_now_ms() + 10000;
    for (;;) { /* the first exchange has no signal of its own: poll, bounded */
        char *b = admin_http(&env, NULL, "/cluster", NULL, 200);
        int up = strstr(b, want) != NULL;
        free(b);
        if (up)
            break;
        RC_CHECK(rc_harness_now_ms() < deadline);
        rc_harness_poll_pause();
    }
    char *b = admin_http(&env, NULL, "/cluster", NULL, 200);
    CHECK_HAS(b, "\"lag_ms\":0");
    CHECK_HAS(b, "\"lag_records\":0");
    free(b);
    b = admin_http(&env, NULL, "/metrics", NULL, 200);
    snprintf(want, sizeof(want), "recache_peer_lag_records{peer=\"%s\"} 0", peer_spec);
    CHECK_HAS(b, want);
    snprintf(want, sizeof(want), "recache_peer_lag_seconds{peer=\"%s\"} 0.000", peer_spec);
    CHECK_HAS(b, want);
    free(b);
    RC_CHECK_EQ_INT(rc_harness_stop(&peer), 0);
}

int main(void)
{
    admin_env_init(&env);
    const char *extra[] = {"--admin-max-request", "4kb", NULL};
    admin_start(&env, extra);
    RC_TEST_RUN(test_metrics_promtool);
    RC_TEST_RUN(test_reads);
    RC_TEST_RUN(test_bump_seen);
    RC_TEST_RUN(test_tag_and_key_invalidation_seen);
    RC_TEST_RUN(test_ns_config_and_flush);
    RC_TEST_RUN(test_http_errors);
    RC_TEST_RUN(test_keep_alive);
    RC_TEST_RUN(test_cluster_peers_reported);
    admin_env_free(&env);
    return 0;
}
