/*
 * rc_cluster_int.h - rc_cluster internals shared by its two files.
 *
 * rc_cluster.c: nodes, health, routing and the single-key operations.
 * rc_cluster_sync.c: what must reach every node: broadcasts, the per-node
 * queue of unacknowledged invalidations, and the catch-up a recovered node
 * runs before it serves again.
 *
 * Threads: an rc_cluster is used by one thread at a time (recache.h), so
 * nothing here locks.
 */
#ifndef RECACHE_RC_CLUSTER_INT_H
#define RECACHE_RC_CLUSTER_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "recache/recache.h"

#define RC__CLUSTER_MAX_NODES 64u

/* Kinds of queued operation, replayed in order on a recovered node. */
enum rc__qkind {
    RC__Q_KEY,       /* INVALIDATE_KEY (mode) of ns/key at version */
    RC__Q_TAG,       /* INVALIDATE_TAG (mode) */
    RC__Q_FLUSH,     /* FLUSH */
    RC__Q_NSCONF,    /* NS_CONFIG ns text */
    RC__Q_SUPPRESS,  /* SUPPRESS ns ids for ttl_ms */
    RC__Q_UNSUPPRESS /* UNSUPPRESS ns ids */
};

typedef struct rc__qop {
    uint8_t kind; /* enum rc__qkind */
    int mode;
    uint64_t version;
    char *ns;  /* KEY, NSCONF (malloc'ed) */
    char *key; /* KEY (malloc'ed, key_len bytes); TAG: the tag (NUL-terminated) */
    size_t key_len;
    char *text;    /* NSCONF settings (malloc'ed) */
    uint64_t *ids; /* SUPPRESS, UNSUPPRESS (malloc'ed, nids) */
    size_t nids;
    uint32_t ttl_ms;
} rc__qop;

typedef struct rc__cnode {
    char name[128]; /* "host:port" as configured: the placement id */
    char host[128];
    uint16_t port;
    double weight;
    rc_client *conn; /* NULL while not connected */
    int state;       /* RC_NODE_* */
    uint32_t timeouts;
    uint64_t next_probe_ms, backoff_ms, down_since_ms, up_since_ms;
    uint64_t requests, failures, failovers, queued, replayed, dropped;
    rc__qop *queue; /* ring of max_queue ops */
    size_t q_head, q_len;
    bool overflowed; /* ops were dropped: flush before serving */
} rc__cnode;

typedef struct rc__nsver {
    char *ns;
    uint64_t version;
} rc__nsver;

struct rc_cluster {
    rc_cluster_options o; /* nodes/weights point into names/weights below */
    size_t n;
    rc__cnode nodes[RC__CLUSTER_MAX_NODES];
    const char *names[RC__CLUSTER_MAX_NODES];
    double weights[RC__CLUSTER_MAX_NODES];
    rc__nsver *versions; /* highest version seen per namespace */
    size_t nversions, cap_versions;
    uint64_t last_failover_ms; /* monotonic ms of the last failover (0 = never) */
    size_t last_node;          /* node that answered the last routed call; n = none */
};

/* rc__cl_now_ms - monotonic milliseconds. */
uint64_t rc__cl_now_ms(void);

/* rc__cl_mark_down - node i failed (why: for its counters); schedule a probe. */
void rc__cl_mark_down(rc_cluster *cl, size_t i);

/*
 * rc__cl_health - account the result of a call on node i: success and
 * server answers reset its timeouts; a timeout counts towards tko; a
 * refused or broken connection marks it down at once.  Returns true when
 * the error means the node was unavailable (the caller may fail over).
 */
bool rc__cl_health(rc_cluster *cl, size_t i, int err);

/* rc__cl_connected - node i's connection, (re)connecting if needed; NULL if that failed. */
rc_client *rc__cl_connected(rc_cluster *cl, size_t i);

/* rc__cl_see_version - remember that ns is at version v somewhere. */
void rc__cl_see_version(rc_cluster *cl, const char *ns, uint64_t v);

/* rc__cl_enqueue - queue op (taking ownership of its strings) for node i; overflow rules. */
void rc__cl_enqueue(rc_cluster *cl, size_t i, rc__qop *op);

/* rc__cl_queue_key - queue an invalidation of ns/key for node i (copies the strings). */
void rc__cl_queue_key(rc_cluster *cl, size_t i, const char *ns, const void *key, size_t key_len,
                      int mode, uint64_t version);

/* rc__cl_qop_free - free an op's strings. */
void rc__cl_qop_free(rc__qop *op);

/*
 * rc__cl_routed - run `run` on the first usable node of the key's ranking,
 * failing over while nodes turn out unavailable; *served (may be NULL) =
 * the node that answered.  `failover` tells run it is not the owner.
 */
typedef int (*rc__node_call)(rc_client *c, void *ctx, bool failover);
int rc__cl_routed(rc_cluster *cl, const char *ns, const void *key, size_t key_len,
                  rc__node_call run, void *ctx, size_t *served);

/* rc__cl_min - a read's min_version: the larger of the one asked and the newest seen. */
uint64_t rc__cl_min(rc_cluster *cl, const char *ns, uint64_t asked);

/* rc__cl_shadow_owner - a write served by a failover node: queue the owner an invalidation. */
void rc__cl_shadow_owner(rc_cluster *cl, const char *ns, const void *key, size_t key_len,
                         size_t served, uint64_t version);

/* rc__cl_capped - opts with the TTL capped at failover_ttl_ms (for a write on a failover node). */
rc_set_options rc__cl_capped(const rc_cluster *cl, const rc_set_options *opts);

/*
 * rc__cl_catch_up - node i answered a probe: flush it if its queue
 * overflowed, replay its queue in order, bump every namespace to the
 * highest version seen, and mark it up.  Returns 0, or the error that sent
 * it back down (the rest of the queue is kept).
 */
int rc__cl_catch_up(rc_cluster *cl, size_t i);

#endif /* RECACHE_RC_CLUSTER_INT_H */
