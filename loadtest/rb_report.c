/* rb_report.c - see rb_report.h. */
#define _POSIX_C_SOURCE 200809L
#include "rb_report.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "recache/rc_errors.h"
#include "rb_json.h"
#include "rb_value.h"

unsigned long long rb_report_violations(const rb_report *r)
{
    return (unsigned long long)rb_stats_violations(r->res->stats);
}

static unsigned long long rb__ops(const rb_stats *s)
{
    return (unsigned long long)(s->reads + s->writes + s->fills);
}

double rb_report_ops_per_sec(const rb_report *r)
{
    double secs = r->res->measured_s;
    return secs > 0 ? (double)rb__ops(r->res->stats) / secs : 0.0;
}

double rb_report_achieved_rate(const rb_report *r)
{
    const rb_stats *s = r->res->stats;
    double secs = r->res->measured_s;
    return secs > 0 ? (double)(s->reads + s->writes) / secs : 0.0;
}

static double rb__ratio(uint64_t a, uint64_t b)
{
    return b ? (double)a / (double)b : 0.0;
}

static double rb__us(uint64_t ns)
{
    return (double)ns / 1000.0;
}

/* Peak and mean of the per-second origin series over the measured window. */
static void rb__origin_rates(const rb_report *r, double *mean, unsigned *peak)
{
    const rb_stats *s = r->res->stats;
    *peak = 0;
    for (int i = 0; i < RB_ORIGIN_SECONDS; i++)
        if (s->origin_per_sec[i] > *peak)
            *peak = s->origin_per_sec[i];
    *mean = r->res->measured_s > 0 ? (double)s->origin_calls / r->res->measured_s : 0.0;
}

static void rb__text_hist(FILE *out, const char *name, const rb_hist *h, double secs)
{
    if (h->count == 0)
        return;
    fprintf(out, "%-16s %10llu %10.0f %9.1f %9.1f %9.1f %9.1f %9.1f\n", name,
            (unsigned long long)h->count, secs > 0 ? (double)h->count / secs : 0.0,
            rb__us(rb_hist_percentile(h, 50)), rb__us(rb_hist_percentile(h, 90)),
            rb__us(rb_hist_percentile(h, 99)), rb__us(rb_hist_percentile(h, 99.9)), rb__us(h->max));
}

void rb_report_text(const rb_report *r, FILE *out)
{
    const rb_opts *o = r->o;
    const rb_stats *s = r->res->stats;
    double secs = r->res->measured_s, mean;
    unsigned peak;
    uint64_t reads = s->reads ? s->reads : 1;
    fprintf(out,
            "recache-bench: target %s at %s:%lld, mode %s, %lld connections x pipeline %lld, "
            "%lld threads\n",
            rb_target_name(r->target), o->host, o->port, rb_mode_name(r->mode), o->connections,
            o->pipeline, o->threads);
    fprintf(out, "workload: %lld users, zipf %.2f, %lld items (%lld-byte values), %lld%% reads\n",
            o->users, o->alpha, o->items, RB_VALUE_HDR + 8 * o->items, o->read_pct);
    if (o->big_permille > 0)
        fprintf(out,
                "big values: %lld in 1000 writes and fills carry %lld bytes (%llu written, %llu "
                "fills chased by a tag invalidation)\n",
                o->big_permille, o->big_bytes, (unsigned long long)s->big_writes,
                (unsigned long long)s->chases);
    if (r->fill_s > 0)
        fprintf(out, "fill: %lld values in %.2f s\n", o->users, r->fill_s);
    fprintf(out, "measured: %.2f s; throughput %.0f ops/s (%llu ops)\n", secs,
            rb_report_ops_per_sec(r), rb__ops(s));
    if (o->rate > 0)
        fprintf(out,
                "pacing: open loop, rate %.0f requests/s configured, %.0f achieved (reads + "
                "writes); latency from scheduled send time\n\n",
                o->rate, rb_report_achieved_rate(r));
    else
        fprintf(out, "pacing: closed loop (%.0f requests/s achieved, reads + writes)\n\n",
                rb_report_achieved_rate(r));
    fprintf(out, "%-16s %10s %10s %9s %9s %9s %9s %9s\n", "latency (us)", "count", "ops/s", "p50",
            "p90", "p99", "p99.9", "max");
    for (int i = 0; i < RB_OP_COUNT; i++)
        rb__text_hist(out, rb_op_name((rb_op)i), &s->op[i], secs);
    rb__text_hist(out, "read+origin", &s->read, secs);
    fprintf(out, "\nreads: hit %.2f%%, stale %.2f%%, miss %.2f%%\n",
            100.0 * (double)s->hits / (double)reads, 100.0 * (double)s->stale_hits / (double)reads,
            100.0 * (double)s->misses / (double)reads);
    if (r->mode == RB_MODE_LEASE)
        fprintf(
            out,
            "leases: won %llu, held elsewhere %llu, wait timeouts %llu, too many waiters %llu\n",
            (unsigned long long)s->leases_won, (unsigned long long)s->lease_held,
            (unsigned long long)s->wait_timeouts, (unsigned long long)s->too_many_waiters);
    rb__origin_rates(r, &mean, &peak);
    fprintf(out, "origin: %llu calls (%.1f/s, peak %u/s), %llu queued; fills %llu, rejected %llu\n",
            (unsigned long long)s->origin_calls, mean, peak, (unsigned long long)s->origin_queued,
            (unsigned long long)s->fills, (unsigned long long)s->fills_rejected);
    fprintf(out,
            "events: bumps %llu, tag invalidations %llu, key invalidations %llu, deletes %llu "
            "(%llu of the invalidations soft); errors %llu\n",
            (unsigned long long)s->bumps, (unsigned long long)s->tag_invalidations,
            (unsigned long long)s->key_invalidations, (unsigned long long)s->deletes,
            (unsigned long long)s->soft_invalidations, (unsigned long long)s->errors);
    if (r->res->l1_readers > 0) {
        const rc_l1_stats *l = &r->res->l1;
        fprintf(out,
                "l1: %d reader(s) (filter %s), %llu reads (fresh %llu, stale %llu, miss %llu, "
                "errors %llu); the L1 answered %llu, the server %llu; %llu entries dropped by "
                "events, %llu resyncs, %llu batches skipped (L1 behind)\n",
                r->res->l1_readers, o->l1_filter, (unsigned long long)s->l1_reads,
                (unsigned long long)s->l1_hits, (unsigned long long)s->l1_stale,
                (unsigned long long)s->l1_misses, (unsigned long long)s->l1_errors,
                (unsigned long long)l->hits, (unsigned long long)l->misses,
                (unsigned long long)l->invalidations, (unsigned long long)l->resyncs,
                (unsigned long long)s->l1_sync_timeouts);
        fprintf(out,
                "l1 violations: %llu through an L1 subscribed to the namespace, %llu through an "
                "L1 whose filter leaves it out; %llu on the server path\n",
                (unsigned long long)s->l1_violations, (unsigned long long)s->l1_outside_violations,
                (unsigned long long)(rb_stats_violations(s) - s->l1_violations -
                                     s->l1_outside_violations));
    }
    bool versions = r->target == RB_TARGET_RECACHE;
    fprintf(out,
            "oracle: %llu values checked; behind newest write %llu (staleness p99 %llu, max %llu "
            "writes)\n",
            (unsigned long long)s->checked, (unsigned long long)s->stale_served,
            (unsigned long long)rb_hist_percentile(&s->staleness, 99),
            (unsigned long long)s->staleness.max);
    fprintf(out,
            "violations: ghost_version %llu%s, ghost_key %llu, ghost_tag %llu, ghost_soft %llu, "
            "wrong_user %llu, corrupt %llu\n",
            (unsigned long long)s->ghost_version, versions ? "" : " (not checked)",
            (unsigned long long)s->ghost_key, (unsigned long long)s->ghost_tag,
            (unsigned long long)s->ghost_soft, (unsigned long long)s->wrong_user,
            (unsigned long long)s->corrupt);
    if (r->server_stats && *r->server_stats)
        fprintf(out, "server:\n%s", r->server_stats);
    if (!rb_report_violations(r)) {
        fprintf(out, "verdict: PASS\n");
        return;
    }
    fprintf(out, "verdict: FAIL (oracle violations:");
    const char *names[] = {"ghost_version", "ghost_key",  "ghost_tag",
                           "ghost_soft",    "wrong_user", "corrupt"};
    const uint64_t counts[] = {s->ghost_version, s->ghost_key,  s->ghost_tag,
                               s->ghost_soft,    s->wrong_user, s->corrupt};
    for (size_t i = 0; i < sizeof(counts) / sizeof(counts[0]); i++)
        if (counts[i])
            fprintf(out, " %s %llu", names[i], (unsigned long long)counts[i]);
    fprintf(out, ")\n");
}

static void rb__json_hist(rb_json *j, const char *name, const rb_hist *h, double secs, double scale)
{
    rb_json_open(j, name, '{');
    rb_json_u64(j, "count", h->count);
    rb_json_dbl(j, "per_sec", secs > 0 ? (double)h->count / secs : 0.0);
    rb_json_dbl(j, "mean", rb_hist_mean(h) / scale);
    rb_json_dbl(j, "p50", (double)rb_hist_percentile(h, 50) / scale);
    rb_json_dbl(j, "p90", (double)rb_hist_percentile(h, 90) / scale);
    rb_json_dbl(j, "p99", (double)rb_hist_percentile(h, 99) / scale);
    rb_json_dbl(j, "p99_9", (double)rb_hist_percentile(h, 99.9) / scale);
    rb_json_dbl(j, "max", (double)h->max / scale);
    rb_json_close(j, '}');
}

/* Server statistic lines ("name value") as a JSON object of numbers. */
static void rb__json_server(rb_json *j, const char *text)
{
    rb_json_open(j, "server", '{');
    while (text && *text) {
        const char *sp = strchr(text, ' '), *nl = strchr(text, '\n');
        if (!sp || !nl || sp > nl)
            break;
        char name[64];
        size_t n = (size_t)(sp - text) < sizeof(name) - 1 ? (size_t)(sp - text) : sizeof(name) - 1;
        memcpy(name, text, n);
        name[n] = '\0';
        rb_json_int(j, name, strtoll(sp + 1, NULL, 10));
        text = nl + 1;
    }
    rb_json_close(j, '}');
}

void rb_report_json(const rb_report *r, FILE *out)
{
    const rb_stats *s = r->res->stats;
    double secs = r->res->measured_s, mean;
    unsigned peak;
    rb_json j;
    rb_json_init(&j, out);
    rb_json_open(&j, NULL, '{');
    rb_json_str(&j, "target", rb_target_name(r->target));
    rb_json_str(&j, "mode", rb_mode_name(r->mode));
    rb_opts_json(r->o, &j, "config");
    rb_json_dbl(&j, "fill_seconds", r->fill_s);
    rb_json_dbl(&j, "measured_seconds", secs);
    rb_json_dbl(&j, "wall_seconds", r->res->wall_s);
    rb_json_u64(&j, "ops", rb__ops(s));
    rb_json_dbl(&j, "ops_per_sec", rb_report_ops_per_sec(r));
    rb_json_open(&j, "pacing", '{');
    rb_json_bool(&j, "open_loop", r->o->rate > 0);
    rb_json_dbl(&j, "configured_per_sec", r->o->rate);
    rb_json_dbl(&j, "achieved_per_sec", rb_report_achieved_rate(r));
    rb_json_close(&j, '}');
    rb_json_open(&j, "latency_us", '{');
    for (int i = 0; i < RB_OP_COUNT; i++)
        if (s->op[i].count)
            rb__json_hist(&j, rb_op_name((rb_op)i), &s->op[i], secs, 1000.0);
    rb__json_hist(&j, "read_with_origin", &s->read, secs, 1000.0);
    rb_json_close(&j, '}');
    rb_json_open(&j, "throughput_per_second", '[');
    for (int i = 0; i < (int)(secs + 0.999) && i < RB_ORIGIN_SECONDS; i++)
        rb_json_u64(&j, NULL, s->ops_per_sec[i]);
    rb_json_close(&j, ']');
    rb_json_open(&j, "ratios", '{');
    rb_json_dbl(&j, "hit", rb__ratio(s->hits, s->reads));
    rb_json_dbl(&j, "stale", rb__ratio(s->stale_hits, s->reads));
    rb_json_dbl(&j, "miss", rb__ratio(s->misses, s->reads));
    rb_json_close(&j, '}');
    rb_json_open(&j, "counters", '{');
#define RB__CTR_JSON(name, help) rb_json_u64(&j, #name, s->name);
    RB_COUNTERS(RB__CTR_JSON)
#undef RB__CTR_JSON
    rb_json_close(&j, '}');
    rb__origin_rates(r, &mean, &peak);
    rb_json_open(&j, "origin", '{');
    rb_json_u64(&j, "calls", s->origin_calls);
    rb_json_dbl(&j, "per_sec", mean);
    rb_json_u64(&j, "peak_per_sec", peak);
    rb_json_open(&j, "per_second", '[');
    int last = (int)(secs + 0.999);
    for (int i = 0; i < last && i < RB_ORIGIN_SECONDS; i++)
        rb_json_u64(&j, NULL, s->origin_per_sec[i]);
    rb_json_close(&j, ']');
    rb_json_close(&j, '}');
    rb_json_open(&j, "oracle", '{');
    rb_json_u64(&j, "checked", s->checked);
    rb_json_u64(&j, "wrong_user", s->wrong_user);
    rb_json_u64(&j, "ghosts", s->ghost_version + s->ghost_key + s->ghost_tag + s->ghost_soft);
    rb_json_u64(&j, "ghost_version", s->ghost_version);
    rb_json_u64(&j, "ghost_key", s->ghost_key);
    rb_json_u64(&j, "ghost_tag", s->ghost_tag);
    rb_json_u64(&j, "ghost_soft", s->ghost_soft);
    rb_json_u64(&j, "violations", rb_stats_violations(s));
    rb_json_bool(&j, "ghost_check", r->target == RB_TARGET_RECACHE);
    rb_json_u64(&j, "corrupt", s->corrupt);
    rb_json_u64(&j, "behind_newest", s->stale_served);
    rb__json_hist(&j, "staleness_writes", &s->staleness, secs, 1.0);
    rb_json_u64(&j, "start_version", r->res->start_version);
    rb_json_u64(&j, "final_bump", r->res->final_bump);
    rb_json_bool(&j, "pass", rb_report_violations(r) == 0);
    rb_json_close(&j, '}');
    if (r->res->l1_readers > 0) {
        const rc_l1_stats *l = &r->res->l1;
        rb_json_open(&j, "l1", '{');
        rb_json_int(&j, "readers", r->res->l1_readers);
        rb_json_u64(&j, "reads", s->l1_reads);
        rb_json_u64(&j, "fresh", s->l1_hits);
        rb_json_u64(&j, "stale", s->l1_stale);
        rb_json_u64(&j, "misses", s->l1_misses);
        rb_json_u64(&j, "errors", s->l1_errors);
        rb_json_u64(&j, "answered_by_l1", l->hits);
        rb_json_u64(&j, "answered_by_server", l->misses);
        rb_json_u64(&j, "dropped_by_events", l->invalidations);
        rb_json_u64(&j, "resyncs", l->resyncs);
        rb_json_u64(&j, "sync_timeouts", s->l1_sync_timeouts);
        rb_json_str(&j, "filter", r->o->l1_filter);
        rb_json_u64(&j, "violations", s->l1_violations);
        rb_json_u64(&j, "outside_violations", s->l1_outside_violations);
        rb_json_close(&j, '}');
    }
    rb__json_server(&j, r->server_stats);
    rb_json_int(&j, "connect_failures", r->res->connect_failures);
    rb_json_close(&j, '}');
    fputc('\n', out);
}

int rb_report_write_json(const rb_report *r, const char *path)
{
    bool std = strcmp(path, "-") == 0;
    FILE *f = std ? stdout : fopen(path, "w");
    if (!f) {
        fprintf(stderr, "recache-bench: cannot write %s: %s\n", path, strerror(errno));
        return RC_EIO;
    }
    rb_report_json(r, f);
    int bad = ferror(f);
    if (std)
        bad |= fflush(f);
    else
        bad |= fclose(f);
    if (bad) {
        fprintf(stderr, "recache-bench: error writing %s\n", path);
        return RC_EIO;
    }
    return 0;
}
