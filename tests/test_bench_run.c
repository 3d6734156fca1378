/*
 * test_bench_run.c - recache-bench end to end against a real server.
 *
 * Runs a short load (about 2.5 s: warm-up plus measured window) with
 * pipelining, reads and writes, and bumps, tag and key invalidations on a
 * schedule, with the oracle on; the run must exit 0 and its JSON report
 * must show completed requests and no violation.  Then a small herd: in
 * lease mode, concurrent readers of one missing key must cause exactly one
 * origin call.  Then an open-loop run (--rate): the achieved rate must be
 * within 15% of the configured one, again with no violation.  Last, a few
 * seconds of churn (--churn 1: lease mode with waiters, bumps, hard and soft
 * tag and key invalidations, deletes, concurrent writers, 1 MiB values with
 * fills chased by tag invalidations, and two L1 readers, one of them through
 * an L1 whose subscription leaves the namespace out): its report must
 * carry every violation counter, show that each kind of event happened,
 * and pass.  On a server with the races of issue 9 the churn finds ghosts
 * and that last check fails, by design.  The binary comes from
 * $RECACHE_BENCH.
 */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include <signal.h>
#include <time.h>

#include "rc_harness.h"
#include "rc_test.h"

/* Run recache-bench with args (NULL-terminated) against srv; returns its exit status. */
static int run_bench(const rc_harness_server *srv, const char *const args[]);

/* run_bench_out - run_bench with stdout written to the file `out`. */
static int run_bench_out(const rc_harness_server *srv, const char *const args[], const char *out)
{
    fflush(stdout);
    int saved = dup(STDOUT_FILENO);
    FILE *f = fopen(out, "w");
    RC_CHECK(saved >= 0 && f != NULL);
    RC_CHECK(dup2(fileno(f), STDOUT_FILENO) >= 0);
    int status = run_bench(srv, args);
    fflush(stdout);
    RC_CHECK(dup2(saved, STDOUT_FILENO) >= 0);
    close(saved);
    fclose(f);
    return status;
}

static int run_bench(const rc_harness_server *srv, const char *const args[])
{
    const char *bench = getenv("RECACHE_BENCH");
    RC_CHECK(bench != NULL);
    char port[16];
    snprintf(port, sizeof(port), "%u", srv->port);
    const char *argv[40];
    int n = 0;
    argv[n++] = bench;
    for (int i = 0; args[i] && n < 36; i++)
        argv[n++] = args[i];
    argv[n++] = "--port";
    argv[n++] = port;
    argv[n] = NULL;
    pid_t pid = fork();
    RC_CHECK(pid >= 0);
    if (pid == 0) {
        execv(bench, (char *const *)argv);
        _exit(127);
    }
    int st;
    RC_CHECK(waitpid(pid, &st, 0) == pid);
    return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

/* Read a whole file (NUL-terminated, malloc'ed). */
static char *slurp(const char *path)
{
    FILE *f = fopen(path, "r");
    RC_CHECK(f != NULL);
    static char buf[1 << 20];
    size_t n = fread(buf, 1, sizeof(buf) - 1, f);
    fclose(f);
    buf[n] = '\0';
    char *out = strdup(buf);
    RC_CHECK(out != NULL);
    return out;
}

/* The number after "key": at or after `from` in json, or -1. */
static long long json_num(const char *from, const char *key)
{
    char pat[80];
    snprintf(pat, sizeof(pat), "\"%s\":", key);
    const char *p = strstr(from, pat);
    return p ? strtoll(p + strlen(pat), NULL, 10) : -1;
}

static void temp_path(char *buf, size_t cap, const char *tag)
{
    snprintf(buf, cap, "/tmp/test_bench_%s_%ld.json", tag, (long)getpid());
}

/* Every violation counter the oracle reports, by its JSON name. */
static const char *const violation_kinds[] = {"ghost_version", "ghost_key",  "ghost_tag",
                                              "ghost_soft",    "wrong_user", "corrupt"};
#define NKINDS (sizeof(violation_kinds) / sizeof(violation_kinds[0]))

/* The run passed and its oracle checked responses and found no violation of any kind. */
static void check_oracle_clean(const char *text)
{
    RC_CHECK(strstr(text, "\"pass\":true") != NULL);
    const char *oracle = strstr(text, "\"oracle\":");
    RC_CHECK(oracle != NULL);
    RC_CHECK(json_num(oracle, "checked") > 0);
    for (size_t i = 0; i < NKINDS; i++)
        RC_CHECK_EQ_INT(json_num(oracle, violation_kinds[i]), 0);
    RC_CHECK_EQ_INT(json_num(oracle, "ghosts"), 0);
    RC_CHECK_EQ_INT(json_num(oracle, "violations"), 0);
}

static void test_short_run(const rc_harness_server *srv)
{
    char json[128];
    temp_path(json, sizeof(json), "run");
    const char *args[] = {"--duration",
                          "2",
                          "--warmup",
                          "0.5",
                          "--users",
                          "5000",
                          "--items",
                          "20",
                          "--connections",
                          "4",
                          "--threads",
                          "2",
                          "--pipeline",
                          "8",
                          "--mode",
                          "cache-aside",
                          "--origin-ms",
                          "2",
                          "--bump-every",
                          "300",
                          "--tag-every",
                          "200",
                          "--key-every",
                          "100",
                          "--json",
                          json,
                          NULL};
    RC_CHECK_EQ_INT(run_bench(srv, args), 0);
    char *text = slurp(json);
    RC_CHECK(json_num(text, "ops") > 0);
    /* `answered` counts the warm-up's answers too (the scripts divide server CPU by it). */
    RC_CHECK(json_num(text, "answered") > json_num(text, "ops"));
    check_oracle_clean(text);
    RC_CHECK(json_num(text, "bumps") > 0);
    RC_CHECK(strstr(text, "\"p99\":") != NULL);
    free(text);
    unlink(json);
}

/* An open-loop run at a rate far below the server's capacity must achieve that rate. */
static void test_paced_run(const rc_harness_server *srv)
{
    char json[128];
    temp_path(json, sizeof(json), "rate");
    const char *args[] = {"--rate",    "2000", "--duration", "2",  "--warmup",      "0.5",
                          "--users",   "5000", "--items",    "20", "--connections", "4",
                          "--threads", "2",    "--pipeline", "2",  "--key-every",   "100",
                          "--json",    json,   NULL};
    RC_CHECK_EQ_INT(run_bench(srv, args), 0);
    char *text = slurp(json);
    const char *pacing = strstr(text, "\"pacing\":");
    RC_CHECK(pacing != NULL);
    RC_CHECK(strstr(pacing, "\"open_loop\":true") != NULL);
    RC_CHECK_EQ_INT(json_num(pacing, "configured_per_sec"), 2000);
    long long achieved = json_num(pacing, "achieved_per_sec");
    fprintf(stderr, "   achieved %lld requests/s of 2000\n", achieved);
    RC_CHECK(achieved >= 1700 && achieved <= 2300);
    RC_CHECK(strstr(text, "\"rate\":2000") != NULL); /* the configuration records it too */
    check_oracle_clean(text);
    free(text);
    unlink(json);
}

static void test_herd(const rc_harness_server *srv)
{
    char json[128];
    temp_path(json, sizeof(json), "herd");
    const char *args[] = {"herd", "--readers", "50", "--origin-ms", "50", "--json", json, NULL};
    RC_CHECK_EQ_INT(run_bench(srv, args), 0);
    char *text = slurp(json);
    const char *ca = strstr(text, "\"mode\":\"cache-aside\"");
    const char *lease = strstr(text, "\"mode\":\"lease\"");
    RC_CHECK(ca != NULL && lease != NULL);
    RC_CHECK_EQ_INT(json_num(ca, "readers"), 50);
    RC_CHECK(json_num(ca, "origin_calls") >= 1);
    RC_CHECK_EQ_INT(json_num(lease, "readers"), 50);
    RC_CHECK_EQ_INT(json_num(lease, "origin_calls"), 1);
    RC_CHECK_EQ_INT(json_num(lease, "oracle_violations"), 0);
    free(text);
    unlink(json);
}

/*
 * A few seconds of churn with its L1 readers.  The structure of the report is
 * checked first (every counter present, every kind of event exercised), so
 * it is verified even while the server still has the races of issue 9;
 * then the run must pass (exit 0, every counter 0).
 */
static void test_churn(const rc_harness_server *srv)
{
    char json[128];
    temp_path(json, sizeof(json), "churn");
    const char *args[] = {"--churn", "1",    "--duration", "3",  "--warmup", "0.5",
                          "--users", "5000", "--json",     json, NULL};
    int status = run_bench(srv, args);
    char *text = slurp(json);
    const char *oracle = strstr(text, "\"oracle\":");
    RC_CHECK(oracle != NULL);
    RC_CHECK(json_num(oracle, "checked") > 0);
    long long total = 0;
    for (size_t i = 0; i < NKINDS; i++) {
        long long n = json_num(oracle, violation_kinds[i]);
        RC_CHECK(n >= 0); /* present */
        fprintf(stderr, "   %s %lld\n", violation_kinds[i], n);
        total += n;
    }
    RC_CHECK_EQ_INT(json_num(oracle, "violations"), total);
    const char *counters = strstr(text, "\"counters\":");
    RC_CHECK(counters != NULL);
    const char *happened[] = {"leases_won",        "fills",   "bumps",  "tag_invalidations",
                              "key_invalidations", "deletes", "writes", "soft_invalidations",
                              "big_writes",        "l1_reads"};
    for (size_t i = 0; i < sizeof(happened) / sizeof(happened[0]); i++) {
        long long n = json_num(counters, happened[i]);
        fprintf(stderr, "   %s %lld\n", happened[i], n);
        RC_CHECK(n > 0);
    }
    const char *l1 = strstr(text, "\"l1\":");
    RC_CHECK(l1 != NULL);
    RC_CHECK(json_num(l1, "reads") > 0);
    RC_CHECK(json_num(l1, "answered_by_l1") > 0);
    RC_CHECK(json_num(l1, "violations") >= 0);
    RC_CHECK(json_num(l1, "outside_violations") >= 0);
    /* The verdict: exit 0 and no violation of any kind (fails while issue 9's races remain). */
    RC_CHECK_EQ_INT(status, 0);
    check_oracle_clean(text);
    free(text);
    unlink(json);
}

/*
 * recache-bench discontinue, scaled down: exit 0 (the list oracle saw no
 * ghost-list), suppression caused no recompute and no read showed the
 * item after its acknowledgement, a hard tag invalidation recomputed and
 * showed nothing either, and every strategy ran reads afterwards.
 */
static void test_discontinue(const rc_harness_server *srv)
{
    char json[128];
    temp_path(json, sizeof(json), "discontinue");
    const char *args[] = {"discontinue", "--users", "2000", "--connections", "8", "--warmup",
                          "0.5",         "--after", "1",    "--origin-ms",   "5", "--json",
                          json,          NULL};
    RC_CHECK_EQ_INT(run_bench(srv, args), 0);
    char *text = slurp(json);
    static const char *const strategies[] = {"\"hard-tag\":", "\"soft-tag\":", "\"suppress\":"};
    for (size_t i = 0; i < 3; i++) {
        const char *s = strstr(text, strategies[i]);
        RC_CHECK(s != NULL);
        RC_CHECK(json_num(s, "reads_after") > 0);
        RC_CHECK_EQ_INT(json_num(s, "ghost_list"), 0);
        RC_CHECK_EQ_INT(json_num(s, "errors"), 0);
        if (i != 1)
            RC_CHECK_EQ_INT(json_num(s, "reads_showed_item"), 0);
        if (i == 0)
            RC_CHECK(json_num(s, "origin_recomputes") > 0);
        if (i == 2)
            RC_CHECK_EQ_INT(json_num(s, "origin_recomputes"), 0);
    }
    free(text);
    unlink(json);
}

/*
 * A short cluster run: three nodes, the workload through rc_cluster with
 * bumps, tag and key invalidations, judged by the oracle; node 2 is killed
 * halfway (its keys fail over) and the run must stay clean.
 */
static void test_cluster_run(void)
{
    rc_harness_server node[3];
    char spec[96] = "";
    for (int i = 0; i < 3; i++) {
        RC_CHECK_EQ_INT(rc_harness_start(&node[i], NULL), 0);
        char one[32];
        snprintf(one, sizeof(one), "%s127.0.0.1:%u", i ? "," : "", node[i].port);
        strcat(spec, one);
    }
    char json[128];
    temp_path(json, sizeof(json), "cluster");
    const char *args[] = {"--cluster",       spec,   "--duration",   "2",   "--users",     "2000",
                          "--items",         "10",   "--bump-every", "200", "--tag-every", "20",
                          "--delete-every",  "1",    "--soft-pct",   "30",  "--segments",  "4",
                          "--io-timeout-ms", "1000", "--json",       json,  NULL};
    pid_t pid = fork();
    RC_CHECK(pid >= 0);
    if (pid == 0)
        _exit(run_bench(&node[0], args));
    /* Halfway through, a node dies: the run goes on on the others. */
    struct timespec half = {1, 0};
    nanosleep(&half, NULL); /* a point in the run's schedule, not a synchronisation */
    kill(node[2].pid, SIGKILL);
    int st;
    RC_CHECK(waitpid(pid, &st, 0) == pid);
    RC_CHECK(WIFEXITED(st));
    RC_CHECK_EQ_INT(WEXITSTATUS(st), 0);
    char *text = slurp(json);
    RC_CHECK_EQ_INT(json_num(text, "violations"), 0);
    RC_CHECK(json_num(text, "answered") > 0 && json_num(text, "bumps") > 0);
    RC_CHECK(json_num(text, "tag_invalidations") > 0);
    free(text);
    unlink(json);
    rc_harness_stop(&node[2]);
    RC_CHECK_EQ_INT(rc_harness_stop(&node[1]), 0);
    RC_CHECK_EQ_INT(rc_harness_stop(&node[0]), 0);
}

/*
 * Eviction policies against their reference simulations: a Zipf trace
 * replayed single-threaded into a server whose memory holds a fraction of
 * the keys misses within 0.005 of the same policy simulated at the
 * capacity the server ended with, for CLOCK and for SIEVE.
 */
static void test_replay_policies(void)
{
    char trace[128], out[128];
    temp_path(trace, sizeof(trace), "trace");
    temp_path(out, sizeof(out), "replay");
    const char *gen[] = {"gentrace", "--keys", "100000", "--count", "150000",
                         "--alpha",  "1.0",    "--seed", "7",       NULL};
    rc_harness_server none = {.port = 1};
    RC_CHECK_EQ_INT(run_bench_out(&none, gen, trace), 0);
    const char *policies[] = {"clock", "sieve"};
    for (int i = 0; i < 2; i++) {
        const char *server_args[] = {"--memory", "8mb", "--eviction", policies[i], NULL};
        rc_harness_server srv;
        RC_CHECK_EQ_INT(rc_harness_start(&srv, server_args), 0);
        const char *args[] = {"replay", trace, "--items", "40", "--policy", policies[i], NULL};
        RC_CHECK_EQ_INT(run_bench_out(&srv, args, out), 0);
        char *text = slurp(out);
        const char *diff = strstr(text, "difference ");
        RC_CHECK(diff != NULL);
        double d = atof(diff + strlen("difference "));
        fprintf(stderr, "   %s: replay vs reference difference %+.4f\n", policies[i], d);
        RC_CHECK(d <= 0.005 && d >= -0.005);
        RC_CHECK(strstr(text, "not reached") == NULL); /* the server did evict */
        free(text);
        RC_CHECK_EQ_INT(rc_harness_stop(&srv), 0);
    }
    unlink(trace);
    unlink(out);
}

/*
 * Worker turns (worker-yield-us) through the real server: under one second
 * of closed-loop load, workers whose turns may last 1 us yield, and none
 * of their yields is counted costly more often than it happened; with
 * worker-yield-us 0 no worker ever yields.
 */
static void test_worker_turns(void)
{
    const char *const yield_args[] = {"--worker-yield-us", "1", NULL};
    const char *const never_args[] = {"--worker-yield-us", "0", NULL};
    const char *const load[] = {
        "--duration",    "1", "--warmup",   "0", "--users", "2000",  "--items", "8",
        "--connections", "8", "--pipeline", "4", "--mode",  "plain", NULL};
    long long yields[2], costly[2];
    for (int i = 0; i < 2; i++) {
        rc_harness_server srv;
        RC_CHECK_EQ_INT(rc_harness_start(&srv, i == 0 ? yield_args : never_args), 0);
        RC_CHECK_EQ_INT(run_bench(&srv, load), 0);
        rc_client *c = rc_harness_client(&srv);
        yields[i] = rc_harness_node_stat(c, "worker_yields");
        costly[i] = rc_harness_node_stat(c, "worker_yields_costly");
        rc_close(c);
        RC_CHECK_EQ_INT(rc_harness_stop(&srv), 0);
        fprintf(stderr, "   worker-yield-us %s: %lld yields, %lld costly\n", i == 0 ? "1" : "0",
                yields[i], costly[i]);
    }
    RC_CHECK(yields[0] > 0);
    RC_CHECK(costly[0] >= 0 && costly[0] <= yields[0]);
    RC_CHECK_EQ_INT(yields[1], 0);
    RC_CHECK_EQ_INT(costly[1], 0);
}

int main(void)
{
    fprintf(stderr, "-- test_worker_turns\n");
    test_worker_turns();
    fprintf(stderr, "-- test_replay_policies\n");
    test_replay_policies();
    fprintf(stderr, "-- test_cluster_run\n");
    test_cluster_run();
    rc_harness_server srv;
    RC_CHECK_EQ_INT(rc_harness_start(&srv, NULL), 0);
    fprintf(stderr, "-- test_short_run\n");
    test_short_run(&srv);
    fprintf(stderr, "-- test_paced_run\n");
    test_paced_run(&srv);
    fprintf(stderr, "-- test_herd\n");
    test_herd(&srv);
    fprintf(stderr, "-- test_churn\n");
    test_churn(&srv);
    fprintf(stderr, "-- test_discontinue\n");
    test_discontinue(&srv);
    RC_CHECK_EQ_INT(rc_harness_stop(&srv), 0);
    return 0;
}
