/*
 * rb_main.c - recache-bench: command line, subcommands and exit status.
 *
 * Subcommands: run (the default load test), herd (K simultaneous readers
 * of one missing key, cache-aside against lease), replay (a key trace
 * against a server, compared with the reference CLOCK simulation at the
 * server's own capacity), clocksim, gentrace, and the list experiments
 * discontinue and list-read (rb_lists.h).  Exit status: 0 on
 * success, 1 when the oracle found a violation (or a run completed no
 * request at all), 2 for usage or setup errors.
 */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "recache/rc_errors.h"
#include "rb_cluster.h"
#include "rb_engine.h"
#include "rb_invalcost.h"
#include "rb_l1.h"
#include "rb_lists.h"
#include "rb_report.h"
#include "rb_sync.h"
#include "rb_trace.h"

#define RB_EXIT_OK       0
#define RB_EXIT_VIOLATED 1
#define RB_EXIT_USAGE    2

static int rb__usage_error(const char *what)
{
    fprintf(stderr, "recache-bench: %s (see --help)\n", what);
    return RB_EXIT_USAGE;
}

/* Check and normalise the options shared by run and herd; 0 or an exit status. */
static int rb__validate(rb_opts *o, rb_engine_cfg *cfg)
{
    if (rb_target_parse(o->target, &cfg->target) != 0)
        return rb__usage_error("--target must be recache, memcached or redis");
    if (rb_mode_parse(o->mode, &cfg->mode) != 0)
        return rb__usage_error("--mode must be plain, cache-aside or lease");
    static const int ports[] = {7400, 11211, 6379};
    cfg->port = o->port ? (int)o->port : ports[cfg->target];
    if (o->threads < 1 || o->connections < 1 || o->connections > 100000)
        return rb__usage_error("--threads and --connections must be at least 1");
    if (o->threads > o->connections)
        o->threads = o->connections;
    if (o->pipeline < 1 || o->pipeline > 1024)
        return rb__usage_error("--pipeline must be 1..1024");
    if (!(o->rate >= 0) || o->rate > 1e8)
        return rb__usage_error("--rate must be 0 (closed loop) .. 1e8 requests/s");
    if (o->users < 1 || o->users > 0xFFFFFFFFll || o->items < 0 || o->items > 100000)
        return rb__usage_error("--users must be 1..2^32-1 and --items 0..100000");
    if (o->read_pct < 0 || o->read_pct > 100 || !(o->alpha >= 0))
        return rb__usage_error("--read-pct must be 0..100 and --alpha >= 0");
    if (o->origin_ms < 0 || o->origin_concurrency < 1 || o->lease_wait_ms < 0 ||
        o->lease_wait_ms > 0xFFFFFFFFll || o->ttl_ms < 0 || o->ttl_ms > 0xFFFFFFFFll)
        return rb__usage_error("origin and lease settings must be non-negative");
    if (o->products < 1 || o->products > 1000000 || o->tags < 0 || o->tags > 16 ||
        o->segments < 0 || o->segments > 1000000)
        return rb__usage_error("--products must be 1..1e6, --tags 0..16 and --segments 0..1e6");
    if (o->soft_pct < 0 || o->soft_pct > 100 || o->delete_every < 0 || o->l1 < 0 || o->l1 > 64)
        return rb__usage_error("--soft-pct must be 0..100, --delete-every >= 0, --l1 0..64");
    if (o->calm_ms < 0)
        return rb__usage_error("--calm-ms must be >= 0");
    if (!rb_l1_filter_ok(o->l1_filter))
        return rb__usage_error("--l1-filter must be ns, all, outside or mixed");
    if (o->l1 == 1 && strcmp(o->l1_filter, "mixed") == 0)
        return rb__usage_error("--l1-filter mixed needs --l1 2 or more (a reader per L1)");
    if (o->big_permille < 0 || o->big_permille > 1000 || o->big_bytes < 40 ||
        o->big_bytes > (16ll << 20) || o->big_bytes % 8 != 0)
        return rb__usage_error(
            "--big-permille must be 0..1000 and --big-bytes a multiple of 8 in 40..16 MiB");
    if (o->requests < 0 || (o->requests == 0 && !(o->duration > 0)) || !(o->warmup >= 0))
        return rb__usage_error("give --duration > 0 or --requests > 0, and --warmup >= 0");
    if (o->duration + o->warmup > 3000)
        return rb__usage_error("--duration plus --warmup must stay under 3000 s");
    if (cfg->target != RB_TARGET_RECACHE &&
        (cfg->mode == RB_MODE_LEASE || o->bump_every > 0 || o->tag_every > 0 || o->l1 > 0))
        return rb__usage_error(
            "lease mode, bumps, tag invalidations and --l1 need --target recache");
    if (strlen(o->ns) == 0 || strlen(o->ns) > 64)
        return rb__usage_error("--namespace must be 1..64 bytes");
    return 0;
}

/* Selected server statistics after a run (recache only), as "name value" lines; malloc'ed. */
static char *rb__server_stats(const rb_opts *o, int port)
{
    rb_sync s;
    if (rb_sync_connect(&s, o->host, port, 5000) != 0)
        return NULL;
    rc_msg req, resp;
    memset(&req, 0, sizeof(req));
    req.opcode = RC_OP_STATS;
    char *out = NULL;
    if (rb_sync_call(&s, &req, &resp) == 0 && resp.status == RC_STATUS_OK &&
        (out = calloc(1, resp.value.len + 1))) {
        const char *p = (const char *)resp.value.ptr, *end = p + resp.value.len;
        size_t n = 0;
        while (p < end) {
            const char *nl = memchr(p, '\n', (size_t)(end - p));
            size_t len = (size_t)((nl ? nl : end) - p);
            char line[128];
            if (len < sizeof(line)) {
                memcpy(line, p, len);
                line[len] = '\0';
                if (strstr(line, "lease") || strstr(line, "wait") ||
                    strncmp(line, "entries ", 8) == 0 || strncmp(line, "bytes_used ", 11) == 0) {
                    memcpy(out + n, line, len);
                    n += len;
                    out[n++] = '\n';
                }
            }
            p += len + 1;
        }
    }
    rb_sync_close(&s);
    return out;
}

static int rb__cmd_run(rb_opts *o)
{
    rb_engine_cfg cfg = {.o = o};
    int rc = rb__validate(o, &cfg);
    if (rc != 0)
        return rc;
    rb_result res;
    double fill_s = 0;
    if (o->fill) {
        rb_engine_cfg fcfg = cfg;
        fcfg.fill_only = 1;
        if ((rc = rb_engine_run(&fcfg, &res)) != 0) {
            fprintf(stderr, "recache-bench: fill failed: %s\n", rc_strerror(rc));
            return RB_EXIT_USAGE;
        }
        fill_s = res.wall_s;
        int failed = res.connect_failures;
        rb_result_free(&res);
        if (failed >= o->connections) {
            fprintf(stderr, "recache-bench: cannot fill %s:%d: no connection succeeded\n", o->host,
                    cfg.port);
            return RB_EXIT_USAGE;
        }
    }
    if ((rc = rb_engine_run(&cfg, &res)) != 0) {
        fprintf(stderr, "recache-bench: cannot run against %s:%d: %s\n", o->host, cfg.port,
                rc_strerror(rc));
        return RB_EXIT_USAGE;
    }
    char *server = cfg.target == RB_TARGET_RECACHE ? rb__server_stats(o, cfg.port) : NULL;
    rb_report rep = {.o = o,
                     .target = cfg.target,
                     .mode = cfg.mode,
                     .res = &res,
                     .server_stats = server,
                     .fill_s = fill_s};
    bool json_stdout = o->json[0] && strcmp(o->json, "-") == 0;
    rb_report_text(&rep, json_stdout ? stderr : stdout);
    int status = rb_report_violations(&rep) ? RB_EXIT_VIOLATED : RB_EXIT_OK;
    if (res.stats->reads + res.stats->writes + res.stats->fills == 0) {
        fprintf(stderr, "recache-bench: no request completed\n");
        status = RB_EXIT_VIOLATED;
    }
    if (o->json[0] && rb_report_write_json(&rep, o->json) != 0)
        status = RB_EXIT_USAGE;
    free(server);
    rb_result_free(&res);
    return status;
}

/* ---- herd ----------------------------------------------------------------------------------- */

static void rb__herd_json(rb_json *j, rb_mode mode, const rb_result *res)
{
    const rb_stats *s = res->stats;
    rb_json_open(j, NULL, '{');
    rb_json_str(j, "mode", rb_mode_name(mode));
    rb_json_u64(j, "readers", s->reads);
    rb_json_u64(j, "origin_calls", s->origin_calls);
    rb_json_u64(j, "hits", s->hits + s->stale_hits);
    rb_json_u64(j, "misses", s->misses);
    rb_json_u64(j, "leases_won", s->leases_won);
    rb_json_u64(j, "lease_held", s->lease_held);
    rb_json_u64(j, "wait_timeouts", s->wait_timeouts);
    rb_json_u64(j, "errors", s->errors);
    rb_json_u64(j, "oracle_violations", rb_stats_violations(s));
    rb_json_dbl(j, "reader_p50_ms", (double)rb_hist_percentile(&s->read, 50) / 1e6);
    rb_json_dbl(j, "reader_p99_ms", (double)rb_hist_percentile(&s->read, 99) / 1e6);
    rb_json_dbl(j, "reader_max_ms", (double)s->read.max / 1e6);
    rb_json_close(j, '}');
}

static void rb__herd_line(rb_mode mode, const rb_result *res)
{
    const rb_stats *s = res->stats;
    printf("%-12s %8llu %8llu %8llu %8llu %8llu %8llu %10.2f %10.2f %10.2f\n", rb_mode_name(mode),
           (unsigned long long)s->reads, (unsigned long long)s->origin_calls,
           (unsigned long long)(s->hits + s->stale_hits), (unsigned long long)s->misses,
           (unsigned long long)s->leases_won,
           (unsigned long long)(s->lease_held + s->wait_timeouts + s->too_many_waiters),
           (double)rb_hist_percentile(&s->read, 50) / 1e6,
           (double)rb_hist_percentile(&s->read, 99) / 1e6, (double)s->read.max / 1e6);
}

static int rb__cmd_herd(rb_opts *o)
{
    rb_engine_cfg cfg = {.o = o};
    o->connections = o->readers;
    o->pipeline = 1;
    o->rate = 0; /* each reader sends one read at once: a herd is simultaneous by definition */
    o->read_pct = 100;
    o->users = 1;
    o->warmup = 0;
    o->requests = 0;
    o->duration = 60; /* an upper bound: each reader sends one read, then the run drains */
    o->bump_every = o->tag_every = o->key_every = o->delete_every = 0;
    o->fill = 0;
    o->big_permille = 0;
    o->l1 = 0;
    int rc = rb__validate(o, &cfg);
    if (rc != 0)
        return rc;
    rb_mode modes[2] = {RB_MODE_CACHE_ASIDE, RB_MODE_LEASE};
    int nmodes = cfg.target == RB_TARGET_RECACHE ? 2 : 1;
    rb_result res[2];
    char ns[2][96];
    const char *base_ns = o->ns;
    printf("herd: %lld readers of one missing key, origin %lld ms, lease wait %lld ms\n",
           o->readers, o->origin_ms, o->lease_wait_ms);
    printf("%-12s %8s %8s %8s %8s %8s %8s %10s %10s %10s\n", "mode", "readers", "origin", "hits",
           "misses", "won", "held/to", "p50 ms", "p99 ms", "max ms");
    int status = RB_EXIT_OK, done = 0;
    for (int i = 0; i < nmodes; i++, done++) {
        /* A namespace of its own per scenario guarantees the key is missing. */
        snprintf(ns[i], sizeof(ns[i]), "%.40s-herd-%ld-%d", base_ns, (long)getpid(), i);
        o->ns = ns[i];
        cfg.mode = modes[i];
        cfg.per_conn_reads = 1;
        cfg.fixed_user = 1;
        cfg.quiet = 1;
        if ((rc = rb_engine_run(&cfg, &res[i])) != 0) {
            fprintf(stderr, "recache-bench: herd failed: %s\n", rc_strerror(rc));
            status = RB_EXIT_USAGE;
            break;
        }
        rb__herd_line(modes[i], &res[i]);
        const rb_stats *s = res[i].stats;
        if (rb_stats_violations(s))
            status = RB_EXIT_VIOLATED;
    }
    o->ns = base_ns;
    if (status != RB_EXIT_USAGE && o->json[0]) {
        FILE *f = strcmp(o->json, "-") == 0 ? stdout : fopen(o->json, "w");
        if (f) {
            rb_json j;
            rb_json_init(&j, f);
            rb_json_open(&j, NULL, '{');
            rb_opts_json(o, &j, "config");
            rb_json_open(&j, "herd", '[');
            for (int i = 0; i < done; i++)
                rb__herd_json(&j, modes[i], &res[i]);
            rb_json_close(&j, ']');
            rb_json_close(&j, '}');
            fputc('\n', f);
            if (f != stdout)
                fclose(f);
        } else {
            status = RB_EXIT_USAGE;
        }
    }
    for (int i = 0; i < done; i++)
        rb_result_free(&res[i]);
    return status;
}

/* ---- traces --------------------------------------------------------------------------------- */

static int rb__load(const rb_opts *o, rb_trace *t)
{
    if (o->npos < 2)
        return rb__usage_error("a trace FILE is required");
    int rc = rb_trace_load(o->pos[1], t);
    if (rc != 0) {
        fprintf(stderr, "recache-bench: cannot load trace %s: %s\n", o->pos[1], rc_strerror(rc));
        return RB_EXIT_USAGE;
    }
    return 0;
}

/* rb__sim - the reference simulation of --policy; RC_EINVAL for an unknown policy. */
static int rb__sim(const rb_opts *o, const rb_trace *t, uint64_t capacity, rb_trace_result *r)
{
    if (strcmp(o->policy, "sieve") == 0)
        return rb_sieve_sim(t, capacity, r);
    if (strcmp(o->policy, "clock") == 0)
        return rb_clock_sim(t, capacity, r);
    return RC_EINVAL;
}

static int rb__cmd_clocksim(const rb_opts *o)
{
    rb_trace t;
    rb_trace_result r;
    if (o->capacity < 1)
        return rb__usage_error("--capacity must be at least 1");
    if (strcmp(o->policy, "clock") != 0 && strcmp(o->policy, "sieve") != 0)
        return rb__usage_error("--policy must be clock or sieve");
    int rc = rb__load(o, &t);
    if (rc != 0)
        return rc;
    rc = rb__sim(o, &t, (uint64_t)o->capacity, &r);
    rb_trace_free(&t);
    if (rc != 0)
        return RB_EXIT_USAGE;
    printf("clocksim: policy %s, %llu requests, capacity %lld entries, %llu misses, miss ratio "
           "%.4f\n",
           o->policy, (unsigned long long)r.requests, o->capacity, (unsigned long long)r.misses,
           r.miss_ratio);
    return RB_EXIT_OK;
}

static int rb__cmd_replay(const rb_opts *o)
{
    rb_trace t;
    rb_trace_result r, sim;
    rb_replay_info info = {-1, -1, -1};
    int port = o->port ? (int)o->port : 7400;
    int rc = rb__load(o, &t);
    if (rc != 0)
        return rc;
    rc = rb_replay(&t, o->host, port, o->ns, (uint32_t)o->items, &r, &info);
    if (rc != 0) {
        rb_trace_free(&t);
        fprintf(stderr, "recache-bench: replay failed: %s\n", rc_strerror(rc));
        return RB_EXIT_USAGE;
    }
    printf("replay: %llu requests, %llu misses (cold misses included), miss ratio %.4f\n",
           (unsigned long long)r.requests, (unsigned long long)r.misses, r.miss_ratio);
    printf("server: %lld entries after the replay, bytes used %lld of %lld\n", info.entries,
           info.bytes_used, info.bytes_limit);
    printf("capacity: %lld entries (entries held at the end of the replay)\n", info.entries);
    if (info.bytes_limit > 0 && info.bytes_used < info.bytes_limit / 10 * 9)
        printf(
            "note: the memory limit was not reached, so nothing was evicted and the entry\n"
            "count is not the capacity; use a smaller --memory on the server or a longer trace\n");
    if (info.entries > 0 && rb__sim(o, &t, (uint64_t)info.entries, &sim) == 0)
        printf("reference %s at that capacity: miss ratio %.4f; difference %+.4f\n", o->policy,
               sim.miss_ratio, r.miss_ratio - sim.miss_ratio);
    rb_trace_free(&t);
    return RB_EXIT_OK;
}

static int rb__cmd_gentrace(const rb_opts *o)
{
    if (o->keys < 1 || o->count < 0 || !(o->alpha >= 0))
        return rb__usage_error("--keys must be >= 1, --count >= 0, --alpha >= 0");
    int rc = rb_trace_generate(stdout, (uint64_t)o->keys, (uint64_t)o->count, o->alpha,
                               (uint64_t)o->seed);
    return rc == 0 ? RB_EXIT_OK : RB_EXIT_USAGE;
}

/* ---- invalcost ------------------------------------------------------------------------------- */

static int rb__cmd_invalcost(const rb_opts *o)
{
    if (o->entries < 1 || o->writes < 1 || o->items < 1)
        return rb__usage_error("invalcost: --entries, --writes and --items must be at least 1");
    rb_invalcost_cfg c = {.host = o->host,
                          .port = (uint16_t)(o->port ? o->port : 7400),
                          .ns = o->ns,
                          .entries = (uint64_t)o->entries,
                          .writes = (uint64_t)o->writes,
                          .value_len = 32u + 8u * (size_t)o->items};
    rb_invalcost_result r;
    int rc = rb_invalcost_run(&c, &r);
    if (rc != 0) {
        fprintf(stderr, "recache-bench: invalcost: %s\n", rc_strerror(rc));
        return RB_EXIT_USAGE;
    }
    rb_invalcost_print(&c, &r);
    return RB_EXIT_OK;
}

/* ---- cluster -------------------------------------------------------------------------------- */

/* run --cluster: the workload through rc_cluster (rb_cluster.h). */
static int rb__cmd_cluster(const rb_opts *o)
{
    if (o->threads < 1 || o->users < 1 || o->items < 1 || o->read_pct < 0 || o->read_pct > 100 ||
        o->duration <= 0 || o->io_timeout_ms < 1 || o->tko < 1 || o->timeline_ms < 1 ||
        o->products < 1 || o->tags < 0 || o->tags > 16 || o->segments < 0 || o->soft_pct < 0 ||
        o->soft_pct > 100)
        return rb__usage_error("--cluster: check --threads, --users, --items, --read-pct, "
                               "--duration, --io-timeout-ms, --tko, --tags, --soft-pct");
    rb_cluster_cfg c = {.nodes = o->cluster,
                        .ns = o->ns,
                        .threads = (uint32_t)o->threads,
                        .users = (uint32_t)o->users,
                        .zipf = o->alpha,
                        .items = (uint32_t)o->items,
                        .read_pct = (uint32_t)o->read_pct,
                        .del_permille = o->delete_every ? 50u : 0u,
                        .duration_ms = (uint64_t)(o->duration * 1000.0),
                        .ttl_ms = (uint32_t)o->ttl_ms,
                        .bump_every_ms = (uint32_t)o->bump_every,
                        .tag_every_ms = (uint32_t)o->tag_every,
                        .soft_permille = (uint32_t)o->soft_pct * 10u,
                        .tags = {.products = (uint32_t)o->products,
                                 .per_value = (uint32_t)o->tags,
                                 .segments = (uint32_t)o->segments},
                        .io_timeout_ms = (uint32_t)o->io_timeout_ms,
                        .tko = (uint32_t)o->tko,
                        .failover_ttl_ms = (uint32_t)o->failover_ttl_ms,
                        .timeline = o->timeline[0] ? o->timeline : NULL,
                        .timeline_ms = (uint32_t)o->timeline_ms};
    rb_cluster_result r;
    int rc = rb_cluster_run(&c, &r);
    if (rc != 0)
        return RB_EXIT_USAGE;
    rb_cluster_print(&c, &r);
    if (o->json[0] && strcmp(o->json, "-") == 0) {
        rb_cluster_json(&c, &r);
    } else if (o->json[0]) {
        FILE *f = freopen(o->json, "w", stdout);
        if (f == NULL)
            return RB_EXIT_USAGE;
        rb_cluster_json(&c, &r);
    }
    return r.violations ? RB_EXIT_VIOLATED : RB_EXIT_OK;
}

int main(int argc, char **argv)
{
    rb_opts o;
    rb_opts_defaults(&o);
    if (rb_opts_parse(&o, argc, argv) != 0)
        return RB_EXIT_USAGE;
    if (o.churn) {
        /* The preset first, then the command line again, so explicit options override it. */
        rb_opts_defaults(&o);
        rb_opts_churn(&o);
        if (rb_opts_parse(&o, argc, argv) != 0)
            return RB_EXIT_USAGE;
    }
    if (o.help) {
        rb_opts_usage(stdout);
        return RB_EXIT_OK;
    }
    const char *cmd = o.npos > 0 ? o.pos[0] : "run";
    if (strcmp(cmd, "run") == 0)
        return o.cluster[0] ? rb__cmd_cluster(&o) : rb__cmd_run(&o);
    if (strcmp(cmd, "herd") == 0)
        return rb__cmd_herd(&o);
    if (strcmp(cmd, "replay") == 0)
        return rb__cmd_replay(&o);
    if (strcmp(cmd, "clocksim") == 0)
        return rb__cmd_clocksim(&o);
    if (strcmp(cmd, "gentrace") == 0)
        return rb__cmd_gentrace(&o);
    if (strcmp(cmd, "discontinue") == 0)
        return rb_lists_discontinue(&o);
    if (strcmp(cmd, "list-read") == 0)
        return rb_lists_read_perf(&o);
    if (strcmp(cmd, "invalcost") == 0)
        return rb__cmd_invalcost(&o);
    return rb__usage_error("unknown subcommand");
}
