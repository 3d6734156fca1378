/*
 * rb_cluster.h - recache-bench --cluster: the recommendation workload over
 * a cluster, through the client library's rc_cluster, judged by the oracle.
 *
 * Design.  Each load thread owns one rc_cluster handle (handles are
 * single-threaded) and runs a closed loop: Zipf-chosen users, reads
 * (rc_cluster_get), writes of fresh self-describing values (rb_value.h)
 * written for the newest model version seen, and key deletes.  A control
 * thread bumps the namespace and invalidates tags (hard and soft) through
 * the cluster's broadcasts.  Everything acknowledged is fed to the shared
 * oracle (rb_oracle.h) with its logical-clock stamps, and every value read
 * is judged by it, so any ghost of any kind is counted.  A broadcast that
 * some node did not acknowledge (RC_EPARTIAL) is not an acknowledgement:
 * the oracle learns only what the cluster promised.
 *
 * Availability is answered requests over attempted ones (a miss is an
 * answer; an error or RC_ENO_NODE is not).  Per node, the requests each
 * node answered and their latency.  With a timeline file, the control
 * thread appends one JSON line every `timeline_ms`: time, answered and
 * failed counts, violations, and each node's state as the first load
 * thread's handle sees it, from which scripts/cluster-chaos.sh derives its
 * per-phase table.
 */
#ifndef RB_CLUSTER_H
#define RB_CLUSTER_H

#include <stdint.h>

#include "rb_hist.h"
#include "rb_oracle.h"

#define RB_CLUSTER_MAX_NODES 16u

typedef struct rb_cluster_cfg {
    const char *nodes; /* "HOST:PORT,HOST:PORT,..." */
    const char *ns;
    uint32_t threads;
    uint32_t users;
    double zipf;
    uint32_t items;        /* items per list value */
    uint32_t read_pct;     /* 0..100 */
    uint32_t del_permille; /* of the non-read operations */
    uint64_t duration_ms;
    uint32_t ttl_ms;
    uint32_t bump_every_ms; /* 0 = none */
    uint32_t tag_every_ms;  /* 0 = none */
    uint32_t soft_permille; /* of tag invalidations and deletes: soft ones */
    rb_tag_cfg tags;
    uint32_t io_timeout_ms;
    uint32_t tko;
    uint32_t failover_ttl_ms;
    const char *timeline; /* NULL = none */
    uint32_t timeline_ms;
} rb_cluster_cfg;

typedef struct rb_cluster_node_result {
    char name[128];
    uint64_t answered;
    uint64_t failovers; /* requests it took for another node */
    rb_hist latency_us;
} rb_cluster_node_result;

typedef struct rb_cluster_result {
    uint64_t attempted, answered, failed;
    uint64_t reads, hits, misses, writes, deletes;
    uint64_t bumps, bumps_partial, tag_invalidations, tags_partial;
    uint64_t verdicts[RB_VERDICTS];
    uint64_t violations;
    double seconds;
    uint32_t nnodes;
    rb_cluster_node_result node[RB_CLUSTER_MAX_NODES];
} rb_cluster_result;

/* rb_cluster_run - run the workload; 0 (see res->violations) or a setup error (message printed). */
int rb_cluster_run(const rb_cluster_cfg *cfg, rb_cluster_result *res);

/* rb_cluster_print - the text report on stdout; rb_cluster_json - the same as one JSON object. */
void rb_cluster_print(const rb_cluster_cfg *cfg, const rb_cluster_result *res);
void rb_cluster_json(const rb_cluster_cfg *cfg, const rb_cluster_result *res);

#endif
