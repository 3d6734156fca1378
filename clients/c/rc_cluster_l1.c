/*
 * rc_cluster_l1.c - a near-cache over a cluster: one L1 per node.
 *
 * Each node has its own L1, kept coherent by its own subscribe channel to
 * that node.  A read is routed exactly like rc_cluster_get (owner first,
 * failover down the ranking) and uses the routed node's L1 with that
 * node's connection.  rc_l1_get serves from an L1 only while its channel is
 * healthy (connected, caught up, heard from within health_timeout_ms), so an
 * entry from a node whose channel died is never served: the read goes to a
 * server.  A node that is down is skipped by routing, so its L1 is not even
 * consulted.
 *
 * Threads: the cluster is used by one thread at a time, and so is this
 * handle; the per-node L1s run their own channel threads (recache.h).
 */
#define _POSIX_C_SOURCE 200809L
#include <stdlib.h>
#include <string.h>

#include "rc_cluster_int.h"

struct rc_cluster_l1 {
    rc_cluster *cl;
    rc_l1 *node[RC__CLUSTER_MAX_NODES];
};

int rc_cluster_l1_open(rc_cluster *cl, const rc_l1_options *base, rc_cluster_l1 **out)
{
    if (cl == NULL || out == NULL)
        return RC_EINVAL;
    *out = NULL;
    rc_cluster_l1 *l1 = calloc(1, sizeof *l1);
    if (l1 == NULL)
        return RC_ENOMEM;
    l1->cl = cl;
    for (size_t i = 0; i < cl->n; i++) {
        rc_l1_options o = base ? *base : (rc_l1_options){0};
        o.host = cl->nodes[i].host;
        o.port = cl->nodes[i].port;
        int err = rc_l1_open(&o, &l1->node[i]);
        if (err != 0) {
            rc_cluster_l1_close(l1);
            return err;
        }
    }
    *out = l1;
    return 0;
}

void rc_cluster_l1_close(rc_cluster_l1 *l1)
{
    if (l1 == NULL)
        return;
    for (size_t i = 0; i < l1->cl->n; i++)
        rc_l1_close(l1->node[i]);
    free(l1);
}

rc_l1 *rc_cluster_l1_node(rc_cluster_l1 *l1, size_t node)
{
    return l1 && node < l1->cl->n ? l1->node[node] : NULL;
}

int rc_cluster_l1_get(rc_cluster_l1 *l1, const char *ns, const void *key, size_t key_len,
                      rc_value *out)
{
    if (l1 == NULL || out == NULL || ns == NULL || key == NULL)
        return RC_EINVAL;
    rc_cluster *cl = l1->cl;
    memset(out, 0, sizeof *out);
    rc_cluster_poll(cl); /* a recovered owner catches up and takes its keys back first */
    size_t order[RC__CLUSTER_MAX_NODES];
    int err = rc_hrw_rank(cl->names, cl->weights, cl->n, ns, strlen(ns), key, key_len, order);
    if (err != 0)
        return err;
    for (size_t r = 0; r < cl->n; r++) {
        size_t i = order[r];
        rc_client *c = rc_cluster_node_client(cl, i);
        if (c == NULL)
            continue; /* down: never serve what its L1 holds */
        cl->nodes[i].requests++;
        err = rc_l1_get(l1->node[i], c, ns, key, key_len, out);
        if (rc__cl_health(cl, i, err))
            continue;
        if (r > 0)
            cl->nodes[i].failovers++;
        if (err == 0 || err == RC_EMISS)
            rc__cl_see_version(cl, ns, out->ns_version);
        return err;
    }
    /* Nothing up now: the cluster call probes due nodes and reports RC_ENO_NODE otherwise. */
    return rc_cluster_get(cl, ns, key, key_len, NULL, out);
}
