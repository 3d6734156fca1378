/*
 * rc_metrics.h - the node's numbers as the admin port shows them: a
 * snapshot of every namespace, and the Prometheus text exposition
 * (format 0.0.4) served at GET /metrics.
 *
 * Design.  Everything is read, never written: worker counters with relaxed
 * loads (rc_server.h), store totals, namespace counters and served-age
 * histograms through rc_store_ns_foreach (which holds the namespace
 * registry's reader stripe while copying), the event log's totals.  So a
 * scrape may see a few requests' worth of skew between families but never
 * a torn value, and it takes no lock a data-path request waits on for
 * longer than that copy.  Metric names and types come from the same
 * X-macro tables as STATS (RC_WORKER_COUNTERS, RC_NS_COUNTERS), so a
 * counter added there appears here without a second list.
 *
 * Cluster peers.  The per-peer family (last exchange and lag) is filled
 * from the server's peer-list hook (rc_server.peer_list, see rc_server.h);
 * it is empty until the cluster module sets that hook.
 *
 * Threads: any thread (the admin listener's in practice).
 */
#ifndef RECACHE_RC_METRICS_H
#define RECACHE_RC_METRICS_H

#include <stddef.h>
#include <stdint.h>

#include "rc_ns.h"
#include "rc_server.h"

/* One namespace, copied out of the registry. */
typedef struct rc_ns_snap {
    char name[RC_NS_MAX_NAME + 1];
    uint64_t version;
    uint64_t counters[RC_NS_NCOUNTERS];
    uint64_t settings[RC_NS_NSETTINGS];
    uint64_t ages[RC_NS_AGE_NBOUNDS + 1u];
    uint64_t age_sum_ms;
} rc_ns_snap;

/*
 * rc_metrics_ns_snapshot - copy every namespace that exists now into a
 * malloc'ed array (*out, owned by the caller; NULL when there are none).
 * Returns the count.
 */
size_t rc_metrics_ns_snapshot(rc_server *srv, rc_ns_snap **out);

/*
 * rc_metrics_text - the Prometheus exposition of srv, malloc'ed and
 * NUL-terminated (*len bytes without the NUL).  The caller frees it.
 * Aborts only on OOM.
 */
char *rc_metrics_text(rc_server *srv, size_t *len);

/* The names of RC_NS_COUNTERS / RC_NS_SETTINGS rows, by index (for JSON reports). */
const char *rc_metrics_ns_counter_name(unsigned i);
const char *rc_metrics_ns_setting_name(unsigned i);

#endif /* RECACHE_RC_METRICS_H */
