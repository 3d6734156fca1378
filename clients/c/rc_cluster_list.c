/*
 * rc_cluster_list.c - list values over a cluster (see recache.h): list
 * writes, reads and removals routed like their byte-value twins in
 * rc_cluster.c (a failover write's TTL is capped and the owner is owed an
 * invalidation; reads carry the newest version seen as min_version).
 * Suppression is a broadcast (rc_cluster_sync.c).
 */
#define _POSIX_C_SOURCE 200809L
#include <string.h>

#include "rc_cluster_int.h"

typedef struct rc__list_op {
    rc_cluster *cl;
    const char *ns;
    const void *key;
    size_t key_len;
    const rc_list_item *items;
    size_t n;
    const rc_set_options *set;
    rc_write_info *info;
    rc_list_get_options get;
    rc_list *out;
    const uint64_t *ids;
    uint64_t version;
    size_t *removed;
} rc__list_op;

static int rc__call_list_set(rc_client *c, void *ctx, bool failover)
{
    rc__list_op *op = ctx;
    rc_set_options capped = rc__cl_capped(op->cl, op->set);
    int err = rc_list_set(c, op->ns, op->key, op->key_len, op->items, op->n,
                          failover ? &capped : op->set, op->info);
    if (err == 0)
        rc__cl_see_version(op->cl, op->ns, op->info->ns_version);
    return err;
}

int rc_cluster_list_set(rc_cluster *cl, const char *ns, const void *key, size_t key_len,
                        const rc_list_item *items, size_t n, const rc_set_options *opts,
                        rc_write_info *info)
{
    rc_write_info local;
    if (cl == NULL)
        return RC_EINVAL;
    rc__list_op op = {.cl = cl,
                      .ns = ns,
                      .key = key,
                      .key_len = key_len,
                      .items = items,
                      .n = n,
                      .set = opts,
                      .info = info ? info : &local};
    size_t served = 0;
    int err = rc__cl_routed(cl, ns, key, key_len, rc__call_list_set, &op, &served);
    if (err == 0)
        rc__cl_shadow_owner(cl, ns, key, key_len, served, opts ? opts->version : 0);
    return err;
}

static int rc__call_list_get(rc_client *c, void *ctx, bool failover)
{
    rc__list_op *op = ctx;
    (void)failover;
    int err = rc_list_get(c, op->ns, op->key, op->key_len, &op->get, op->out);
    if (err == 0 || err == RC_EMISS)
        rc__cl_see_version(op->cl, op->ns, op->out->ns_version);
    return err;
}

int rc_cluster_list_get(rc_cluster *cl, const char *ns, const void *key, size_t key_len,
                        const rc_list_get_options *opts, rc_list *out)
{
    if (cl == NULL || out == NULL)
        return RC_EINVAL;
    memset(out, 0, sizeof *out);
    rc__list_op op = {.cl = cl, .ns = ns, .key = key, .key_len = key_len, .out = out};
    if (opts)
        op.get = *opts;
    if (ns)
        op.get.min_version = rc__cl_min(cl, ns, op.get.min_version);
    return rc__cl_routed(cl, ns, key, key_len, rc__call_list_get, &op, NULL);
}

static int rc__call_list_remove(rc_client *c, void *ctx, bool failover)
{
    rc__list_op *op = ctx;
    (void)failover;
    return rc_list_remove(c, op->ns, op->key, op->key_len, op->ids, op->n, op->version,
                          op->removed);
}

int rc_cluster_list_remove(rc_cluster *cl, const char *ns, const void *key, size_t key_len,
                           const uint64_t *ids, size_t n, uint64_t version, size_t *removed)
{
    if (cl == NULL)
        return RC_EINVAL;
    rc__list_op op = {.cl = cl,
                      .ns = ns,
                      .key = key,
                      .key_len = key_len,
                      .ids = ids,
                      .n = n,
                      .version = version,
                      .removed = removed};
    size_t served = 0;
    int err = rc__cl_routed(cl, ns, key, key_len, rc__call_list_remove, &op, &served);
    /* Removed on a failover copy: the owner's copy must not show the items again. */
    if (err == 0 || err == RC_EMISS)
        rc__cl_shadow_owner(cl, ns, key, key_len, served, version);
    return err;
}
