/*
 * rc_metrics.c - namespace snapshots and the Prometheus exposition (see
 * rc_metrics.h).
 *
 * Text format rules kept here: every family is written once, its # HELP
 * and # TYPE lines first and all its samples together; counters end in
 * _total; label values escape backslash, double quote and newline, and
 * bytes outside printable ASCII become '_' (namespace names are bytes,
 * label values must be UTF-8); histogram buckets are cumulative, end with
 * le="+Inf" equal to _count, and carry _sum.
 */
#define _POSIX_C_SOURCE 200809L

#include "rc_metrics.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rc_alloc.h"
#include "rc_events.h"
#include "rc_store.h"

/* A growable text buffer (aborts on OOM through rc_xrealloc). */
typedef struct rc__out {
    char *buf;
    size_t len, cap;
} rc__out;

static void rc__printf(rc__out *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void rc__printf(rc__out *o, const char *fmt, ...)
{
    for (;;) {
        va_list ap;
        va_start(ap, fmt);
        int n = vsnprintf(o->buf + o->len, o->cap - o->len, fmt, ap);
        va_end(ap);
        if (n < 0)
            return;
        if ((size_t)n < o->cap - o->len) {
            o->len += (size_t)n;
            return;
        }
        o->cap = o->cap * 2u > o->len + (size_t)n + 1u ? o->cap * 2u : o->len + (size_t)n + 1u;
        o->buf = rc_xrealloc(o->buf, o->cap);
    }
}

static void rc__family(rc__out *o, const char *name, const char *type, const char *help)
{
    rc__printf(o, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* A label value, escaped (see the file comment), into dst (cap >= 2 * RC_NS_MAX_NAME + 1). */
static void rc__label(const char *src, char *dst, size_t cap)
{
    size_t n = 0;
    for (const unsigned char *p = (const unsigned char *)src; *p != '\0' && n + 3 < cap; p++) {
        if (*p == '\\' || *p == '"') {
            dst[n++] = '\\';
            dst[n++] = (char)*p;
        } else if (*p == '\n') {
            dst[n++] = '\\';
            dst[n++] = 'n';
        } else {
            dst[n++] = *p >= 0x20 && *p < 0x7f ? (char)*p : '_';
        }
    }
    dst[n] = '\0';
}

/* ---- namespace snapshots ------------------------------------------------------------------------
 */

static const char *const rc__ns_counter_names[RC_NS_NCOUNTERS] = {
#define RC__NAME_ROW(id, name, help) name,
    RC_NS_COUNTERS(RC__NAME_ROW)
#undef RC__NAME_ROW
};
static const char *const rc__ns_counter_help[RC_NS_NCOUNTERS] = {
#define RC__HELP_ROW(id, name, help) help,
    RC_NS_COUNTERS(RC__HELP_ROW)
#undef RC__HELP_ROW
};
static const char *const rc__ns_setting_names[RC_NS_NSETTINGS] = {
#define RC__SET_ROW(id, name, def, lo, hi, help) name,
    RC_NS_SETTINGS(RC__SET_ROW)
#undef RC__SET_ROW
};

const char *rc_metrics_ns_counter_name(unsigned i)
{
    return i < RC_NS_NCOUNTERS ? rc__ns_counter_names[i] : "";
}

const char *rc_metrics_ns_setting_name(unsigned i)
{
    return i < RC_NS_NSETTINGS ? rc__ns_setting_names[i] : "";
}

typedef struct rc__snap_ctx {
    rc_ns_snap *items;
    size_t len, cap;
} rc__snap_ctx;

/* rc_store_ns_foreach callback: copy one namespace (memory only; no store call). */
static void rc__snap_one(void *arg, const rc_ns *ns)
{
    rc__snap_ctx *c = arg;
    if (c->len == c->cap) {
        c->cap = c->cap != 0 ? c->cap * 2u : 16u;
        c->items = rc_xrealloc(c->items, c->cap * sizeof(*c->items));
    }
    rc_ns_snap *s = &c->items[c->len++];
    memcpy(s->name, ns->name, ns->name_len);
    s->name[ns->name_len] = '\0';
    s->version = rc_ns_version(ns);
    for (unsigned i = 0; i < RC_NS_NCOUNTERS; i++)
        s->counters[i] = rc_ns_counter(ns, (enum rc_ns_counter)i);
    for (unsigned i = 0; i < RC_NS_NSETTINGS; i++)
        s->settings[i] = rc_ns_setting(ns, (enum rc_ns_setting)i);
    rc_ns_ages(ns, s->ages, &s->age_sum_ms);
}

size_t rc_metrics_ns_snapshot(rc_server *srv, rc_ns_snap **out)
{
    rc__snap_ctx c = {0};
    rc_store_ns_foreach(srv->store, rc__snap_one, &c);
    *out = c.items;
    return c.len;
}

/* ---- node-wide families
 * -------------------------------------------------------------------------- */

static void rc__gauge1(rc__out *o, const char *name, const char *help, uint64_t v)
{
    rc__family(o, name, "gauge", help);
    rc__printf(o, "%s %llu\n", name, (unsigned long long)v);
}

static void rc__counter1(rc__out *o, const char *name, const char *help, uint64_t v)
{
    rc__family(o, name, "counter", help);
    rc__printf(o, "%s %llu\n", name, (unsigned long long)v);
}

/* One worker counter: a gauge for what is "open now", else a counter named ..._total. */
static void rc__worker_family(rc__out *o, const char *stat, const char *help, uint64_t v)
{
    char name[96];
    size_t len = strlen(stat);
    bool gauge = strcmp(stat, "connections_current") == 0 || strcmp(stat, "subscribers") == 0;
    bool has_total = len > 6 && strcmp(stat + len - 6, "_total") == 0;
    snprintf(name, sizeof(name), "recache_%s%s", stat, gauge || has_total ? "" : "_total");
    if (gauge)
        rc__gauge1(o, name, help, v);
    else
        rc__counter1(o, name, help, v);
}

static void rc__node(rc__out *o, rc_server *srv)
{
    rc_store_totals tot;
    rc_store_totals_get(srv->store, &tot);
    rc__gauge1(o, "recache_memory_used_bytes", "bytes charged for entries (keys, values, metadata)",
               tot.bytes_used);
    rc__gauge1(o, "recache_memory_limit_bytes", "the memory limit for entries (--memory)",
               tot.bytes_limit);
    rc__gauge1(o, "recache_entries", "entries held, tombstones included", tot.entries);
    rc__counter1(o, "recache_evictions_total", "live entries evicted by the CLOCK hand",
                 tot.evictions);
    rc__counter1(o, "recache_reclaimed_total", "obsolete entries freed by the hand or the sweep",
                 tot.reclaimed);
    rc__gauge1(o, "recache_parked_requests", "LGET requests parked waiting for a fill now",
               rc_store_parked(srv->store));
    rc__gauge1(o, "recache_uptime_seconds", "seconds since the server started",
               (uv_hrtime() - srv->start_ns) / 1000000000u);
    rc__gauge1(o, "recache_worker_threads", "worker threads serving the data port", srv->nworkers);
    rc__gauge1(o, "recache_output_bytes", "unsent output held for all data-port connections",
               atomic_load_explicit(&srv->output_bytes, memory_order_relaxed));
    rc__counter1(o, "recache_accept_failures_total", "failed accept calls on the data port",
                 atomic_load_explicit(&srv->accept_failures, memory_order_relaxed));
    rc__counter1(o, "recache_protected_refusals_total",
                 "data-port connections refused by protected mode",
                 atomic_load_explicit(&srv->protected_refusals, memory_order_relaxed));
    uint64_t sum;
    /* Worker counters: gauges for what is "open now", counters for the rest. */
#define RC__WORKER_FAMILY(name, help)                                                              \
    RC_SERVER_SUM(srv, name, sum);                                                                 \
    rc__worker_family(o, #name, help, sum);
    RC_WORKER_COUNTERS(RC__WORKER_FAMILY)
#undef RC__WORKER_FAMILY
}

static void rc__requests(rc__out *o, rc_server *srv)
{
    uint64_t sum;
    rc__family(o, "recache_requests_by_op_total", "counter",
               "data-port requests answered, by operation");
#define RC__OP_SAMPLE(name, code, str)                                                             \
    RC_SERVER_SUM(srv, requests[code], sum);                                                       \
    rc__printf(o, "recache_requests_by_op_total{op=\"%s\"} %llu\n", str, (unsigned long long)sum);
    RC_OPCODES(RC__OP_SAMPLE)
#undef RC__OP_SAMPLE
    rc__family(o, "recache_responses_by_status_total", "counter",
               "data-port responses with a status other than OK (outcomes below 32, errors from "
               "32), by status");
#define RC__STATUS_SAMPLE(name, code, msg)                                                         \
    RC_SERVER_SUM(srv, statuses[code], sum);                                                       \
    rc__printf(o, "recache_responses_by_status_total{status=\"%s\",code=\"%d\"} %llu\n", #name,    \
               code, (unsigned long long)sum);
    RC_WIRE_ERRORS(RC__STATUS_SAMPLE)
#undef RC__STATUS_SAMPLE
}

static void rc__subscribers(rc__out *o, rc_server *srv)
{
    rc_events_totals ev;
    rc_events_totals_get(srv->events, &ev);
    rc__counter1(o, "recache_events_published_total", "invalidation events published",
                 ev.published);
    rc__gauge1(o, "recache_event_ring_events", "events held in the replay ring", ev.events);
    uint64_t lag_max = 0, lag_sum = 0;
    for (unsigned i = 0; i < srv->nworkers; i++) {
        uint64_t m = atomic_load_explicit(&srv->workers[i].stats.sub_lag_max, memory_order_relaxed);
        lag_max = m > lag_max ? m : lag_max;
        lag_sum += atomic_load_explicit(&srv->workers[i].stats.sub_lag_sum, memory_order_relaxed);
    }
    rc__gauge1(o, "recache_subscriber_lag_events_max",
               "events published that the furthest-behind subscriber has not been sent yet "
               "(sampled every heartbeat-ms)",
               lag_max);
    rc__gauge1(o, "recache_subscriber_lag_events_combined",
               "events published and not yet sent, summed over subscribers (sampled every "
               "heartbeat-ms)",
               lag_sum);
}

/* ---- per-namespace families
 * ---------------------------------------------------------------------- */

static void rc__ns_families(rc__out *o, const rc_ns_snap *ns, size_t n)
{
    char label[2 * RC_NS_MAX_NAME + 2];
    char name[96];
    rc__family(o, "recache_namespace_version", "gauge", "the namespace's current version");
    for (size_t j = 0; j < n; j++) {
        rc__label(ns[j].name, label, sizeof(label));
        rc__printf(o, "recache_namespace_version{namespace=\"%s\"} %llu\n", label,
                   (unsigned long long)ns[j].version);
    }
    for (unsigned i = 0; i < RC_NS_NCOUNTERS; i++) {
        bool gauge = strstr(rc__ns_counter_help[i], "(gauge)") != NULL;
        snprintf(name, sizeof(name), "recache_namespace_%s%s", rc__ns_counter_names[i],
                 gauge ? "" : "_total");
        rc__family(o, name, gauge ? "gauge" : "counter", rc__ns_counter_help[i]);
        for (size_t j = 0; j < n; j++) {
            rc__label(ns[j].name, label, sizeof(label));
            rc__printf(o, "%s{namespace=\"%s\"} %llu\n", name, label,
                       (unsigned long long)ns[j].counters[i]);
        }
    }
    rc__family(o, "recache_namespace_served_age_seconds", "histogram",
               "age of the values reads served (time since the served entry was written)");
    for (size_t j = 0; j < n; j++) {
        rc__label(ns[j].name, label, sizeof(label));
        uint64_t cum = 0;
        for (unsigned b = 0; b < RC_NS_AGE_NBOUNDS; b++) {
            cum += ns[j].ages[b];
            rc__printf(
                o, "recache_namespace_served_age_seconds_bucket{namespace=\"%s\",le=\"%g\"} %llu\n",
                label, (double)RC_NS_AGE_BOUNDS_MS[b] / 1000.0, (unsigned long long)cum);
        }
        cum += ns[j].ages[RC_NS_AGE_NBOUNDS];
        rc__printf(
            o, "recache_namespace_served_age_seconds_bucket{namespace=\"%s\",le=\"+Inf\"} %llu\n",
            label, (unsigned long long)cum);
        rc__printf(o, "recache_namespace_served_age_seconds_sum{namespace=\"%s\"} %.3f\n", label,
                   (double)ns[j].age_sum_ms / 1000.0);
        rc__printf(o, "recache_namespace_served_age_seconds_count{namespace=\"%s\"} %llu\n", label,
                   (unsigned long long)cum);
    }
}

/* Most peers reported; a cluster is a handful of nodes. */
#define RC__MAX_PEERS 256u

/* The cluster hook (rc_server.peer_list): one sample per peer, none until the cluster exists. */
static void rc__peers(rc__out *o, rc_server *srv)
{
    rc_peer_view *peers = NULL;
    size_t n = 0;
    if (srv->peer_list != NULL) {
        peers = rc_xcalloc(RC__MAX_PEERS, sizeof(*peers));
        n = srv->peer_list(srv->peer_list_ctx, peers, RC__MAX_PEERS);
        n = n < RC__MAX_PEERS ? n : RC__MAX_PEERS;
    }
    char label[2 * sizeof(peers->name) + 1];
    rc__family(o, "recache_peer_last_exchange_timestamp_seconds", "gauge",
               "wall-clock time of the last control-state exchange with each cluster peer");
    for (size_t i = 0; i < n; i++) {
        peers[i].name[sizeof(peers[i].name) - 1] = '\0';
        rc__label(peers[i].name, label, sizeof(label));
        rc__printf(o, "recache_peer_last_exchange_timestamp_seconds{peer=\"%s\"} %.3f\n", label,
                   (double)peers[i].last_exchange_ms / 1000.0);
    }
    rc__family(o, "recache_peer_lag_seconds", "gauge",
               "how far each cluster peer's control state is behind this node's");
    for (size_t i = 0; i < n; i++) {
        rc__label(peers[i].name, label, sizeof(label));
        rc__printf(o, "recache_peer_lag_seconds{peer=\"%s\"} %.3f\n", label,
                   (double)peers[i].lag_ms / 1000.0);
    }
    rc__family(o, "recache_peer_lag_records", "gauge",
               "control records of each cluster peer this node has not applied yet");
    for (size_t i = 0; i < n; i++) {
        rc__label(peers[i].name, label, sizeof(label));
        rc__printf(o, "recache_peer_lag_records{peer=\"%s\"} %llu\n", label,
                   (unsigned long long)peers[i].lag_records);
    }
    free(peers);
}

char *rc_metrics_text(rc_server *srv, size_t *len)
{
    rc__out o = {rc_xmalloc(64u * 1024u), 0, 64u * 1024u};
    o.buf[0] = '\0';
    rc__node(&o, srv);
    rc__requests(&o, srv);
    rc__subscribers(&o, srv);
    rc_ns_snap *ns = NULL;
    size_t n = rc_metrics_ns_snapshot(srv, &ns);
    rc__ns_families(&o, ns, n);
    free(ns);
    rc__peers(&o, srv);
    *len = o.len;
    return o.buf;
}
