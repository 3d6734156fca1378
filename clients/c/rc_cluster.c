/*
 * rc_cluster.c - nodes, health, routing and single-key operations (see
 * recache.h for the contract, rc_cluster_int.h for the file split).
 *
 * Routing.  A key's ranking (rc_hrw_rank) is walked from the top: the
 * first node that is up serves it.  Nodes met on the way that are down and
 * due for a probe are probed then (connect, catch-up, up), so a recovered
 * owner takes its keys back on the first request that wants them, after it
 * has caught up.  A call that fails because the node is unavailable
 * (refused, broken, or the timeout that crossed tko_threshold) marks it
 * down and moves to the next node; a timeout below the threshold is
 * returned to the caller (the request may or may not have been applied).
 *
 * Failover writes.  A write placed on a node other than the key's owner has
 * its TTL capped at failover_ttl_ms, and the owner is queued an
 * invalidation of the key, replayed before it serves again: a value written
 * while it was away must not be shadowed by the copy it still holds.  Key
 * invalidations go to the owner and, for failover_ttl_ms after any
 * failover, also to the next node of the ranking, where a failover copy
 * may still live.
 */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "rc_cluster_int.h"

#define RC__DEF_CONNECT_MS   500u
#define RC__DEF_IO_MS        2000u
#define RC__DEF_TKO          3u
#define RC__DEF_PROBE_MIN_MS 100u
#define RC__DEF_PROBE_MAX_MS 2000u
#define RC__DEF_FAILOVER_TTL 10000u
#define RC__DEF_MAX_QUEUE    10000u

uint64_t rc__cl_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* ---- nodes and health ----------------------------------------------------------------------- */

/* rc__parse_node - "host:port" or "[v6]:port" into n->host / n->port; RC_EINVAL if malformed. */
static int rc__parse_node(const char *spec, rc__cnode *n)
{
    size_t len = strlen(spec);
    const char *colon = strrchr(spec, ':');
    if (len == 0 || len >= sizeof n->name || colon == NULL || colon == spec || colon[1] == '\0')
        return RC_EINVAL;
    char *end;
    errno = 0;
    unsigned long port = strtoul(colon + 1, &end, 10);
    if (*end != '\0' || errno != 0 || port == 0 || port > 65535)
        return RC_EINVAL;
    const char *host = spec;
    size_t host_len = (size_t)(colon - spec);
    if (host[0] == '[' && host_len >= 2 && host[host_len - 1] == ']') {
        host++;
        host_len -= 2;
    }
    if (host_len == 0 || host_len >= sizeof n->host)
        return RC_EINVAL;
    memcpy(n->host, host, host_len);
    n->host[host_len] = '\0';
    memcpy(n->name, spec, len + 1);
    n->port = (uint16_t)port;
    return 0;
}

static void rc__close_conn(rc__cnode *n)
{
    rc_close(n->conn);
    n->conn = NULL;
}

void rc__cl_mark_down(rc_cluster *cl, size_t i)
{
    rc__cnode *n = &cl->nodes[i];
    rc__close_conn(n);
    uint64_t now = rc__cl_now_ms();
    if (n->state == RC_NODE_UP || n->down_since_ms == 0)
        n->down_since_ms = now;
    if (n->state != RC_NODE_RESYNCING)
        n->state = RC_NODE_DOWN;
    n->backoff_ms = n->backoff_ms ? n->backoff_ms * 2u : cl->o.probe_min_ms;
    if (n->backoff_ms > cl->o.probe_max_ms)
        n->backoff_ms = cl->o.probe_max_ms;
    n->next_probe_ms = now + n->backoff_ms;
    n->timeouts = 0;
}

/* rc__unavailable - errors meaning the node did not (or could not) take the request. */
static bool rc__unavailable(int err)
{
    return err == RC_ECONNECT || err == RC_ECLOSED || err == RC_EIO || err == RC_ERESOLVE ||
           err == RC_ESHUTTING_DOWN || err == RC_ESERVER_BUSY || err == RC_EPROTOCOL;
}

bool rc__cl_health(rc_cluster *cl, size_t i, int err)
{
    rc__cnode *n = &cl->nodes[i];
    if (err == RC_ETIMEDOUT) {
        n->failures++;
        rc__close_conn(n); /* a timed-out connection is unusable */
        if (++n->timeouts >= cl->o.tko_threshold) {
            rc__cl_mark_down(cl, i);
            return true;
        }
        return false;
    }
    if (rc__unavailable(err)) {
        n->failures++;
        rc__cl_mark_down(cl, i);
        return true;
    }
    n->timeouts = 0;
    return false;
}

rc_client *rc__cl_connected(rc_cluster *cl, size_t i)
{
    rc__cnode *n = &cl->nodes[i];
    if (n->conn != NULL && rc_client_ok(n->conn))
        return n->conn;
    rc__close_conn(n);
    rc_client_options o = {.host = n->host,
                           .port = n->port,
                           .connect_timeout_ms = cl->o.connect_timeout_ms,
                           .io_timeout_ms = cl->o.io_timeout_ms};
    int err = rc_connect(&o, &n->conn);
    if (err != 0) {
        /* Refused: down at once.  Timed out: one more towards tko. */
        n->conn = NULL;
        rc__cl_health(cl, i, err == RC_ETIMEDOUT ? RC_ETIMEDOUT : RC_ECONNECT);
        return NULL;
    }
    return n->conn;
}

/* rc__probe - node i is down and due: connect, catch up, and report whether it is up now. */
static bool rc__probe(rc_cluster *cl, size_t i)
{
    rc__cnode *n = &cl->nodes[i];
    rc_client_options o = {.host = n->host,
                           .port = n->port,
                           .connect_timeout_ms = cl->o.connect_timeout_ms,
                           .io_timeout_ms = cl->o.io_timeout_ms};
    rc__close_conn(n);
    if (rc_connect(&o, &n->conn) != 0) {
        n->conn = NULL;
        rc__cl_mark_down(cl, i);
        return false;
    }
    int resync = n->state == RC_NODE_RESYNCING || n->overflowed;
    n->state = resync ? RC_NODE_RESYNCING : RC_NODE_PROBING;
    return rc__cl_catch_up(cl, i) == 0;
}

/* rc__usable - node i may take a request now (probing it first when it is down and due). */
static bool rc__usable(rc_cluster *cl, size_t i)
{
    rc__cnode *n = &cl->nodes[i];
    if (n->state == RC_NODE_UP)
        return true;
    if (rc__cl_now_ms() < n->next_probe_ms)
        return false;
    return rc__probe(cl, i);
}

void rc_cluster_poll(rc_cluster *cl)
{
    for (size_t i = 0; cl && i < cl->n; i++)
        if (cl->nodes[i].state != RC_NODE_UP)
            rc__usable(cl, i);
}

/* ---- namespace versions seen ------------------------------------------------------------------
 */

static rc__nsver *rc__find_version(rc_cluster *cl, const char *ns)
{
    for (size_t i = 0; i < cl->nversions; i++)
        if (strcmp(cl->versions[i].ns, ns) == 0)
            return &cl->versions[i];
    return NULL;
}

void rc__cl_see_version(rc_cluster *cl, const char *ns, uint64_t v)
{
    if (ns == NULL || v == 0)
        return;
    rc__nsver *e = rc__find_version(cl, ns);
    if (e != NULL) {
        if (v > e->version)
            e->version = v;
        return;
    }
    if (cl->nversions == cl->cap_versions) {
        size_t cap = cl->cap_versions ? 2u * cl->cap_versions : 16u;
        rc__nsver *grown = realloc(cl->versions, cap * sizeof *grown);
        if (grown == NULL)
            return; /* only a min_version hint is lost */
        cl->versions = grown;
        cl->cap_versions = cap;
    }
    char *copy = strdup(ns);
    if (copy == NULL)
        return;
    cl->versions[cl->nversions++] = (rc__nsver){copy, v};
}

uint64_t rc_cluster_ns_version(rc_cluster *cl, const char *ns)
{
    rc__nsver *e = cl && ns ? rc__find_version(cl, ns) : NULL;
    return e ? e->version : 0;
}

/* ---- open, close, introspection ---------------------------------------------------------------
 */

static void rc__defaults(rc_cluster_options *o)
{
    if (!o->connect_timeout_ms)
        o->connect_timeout_ms = RC__DEF_CONNECT_MS;
    if (!o->io_timeout_ms)
        o->io_timeout_ms = RC__DEF_IO_MS;
    if (!o->tko_threshold)
        o->tko_threshold = RC__DEF_TKO;
    if (!o->probe_min_ms)
        o->probe_min_ms = RC__DEF_PROBE_MIN_MS;
    if (!o->probe_max_ms)
        o->probe_max_ms = RC__DEF_PROBE_MAX_MS;
    if (o->probe_max_ms < o->probe_min_ms)
        o->probe_max_ms = o->probe_min_ms;
    if (!o->failover_ttl_ms)
        o->failover_ttl_ms = RC__DEF_FAILOVER_TTL;
    if (!o->max_queue)
        o->max_queue = RC__DEF_MAX_QUEUE;
}

int rc_cluster_open(const rc_cluster_options *opts, rc_cluster **out)
{
    if (out == NULL)
        return RC_EINVAL;
    *out = NULL;
    if (opts == NULL || opts->nodes == NULL || opts->n_nodes == 0 ||
        opts->n_nodes > RC__CLUSTER_MAX_NODES)
        return RC_EINVAL;
    rc_cluster *cl = calloc(1, sizeof *cl);
    if (cl == NULL)
        return RC_ENOMEM;
    cl->o = *opts;
    rc__defaults(&cl->o);
    cl->n = opts->n_nodes;
    for (size_t i = 0; i < cl->n; i++) {
        rc__cnode *n = &cl->nodes[i];
        double w = opts->weights ? opts->weights[i] : 1.0;
        if (opts->nodes[i] == NULL || rc__parse_node(opts->nodes[i], n) != 0 || !(w > 0.0) ||
            (n->queue = calloc(cl->o.max_queue, sizeof *n->queue)) == NULL) {
            rc_cluster_close(cl);
            return opts->nodes[i] == NULL || n->queue != NULL ? RC_EINVAL : RC_ENOMEM;
        }
        for (size_t j = 0; j < i; j++)
            if (strcmp(cl->nodes[j].name, n->name) == 0) {
                rc_cluster_close(cl);
                return RC_EINVAL; /* the same node twice would skew placement */
            }
        n->weight = w;
        cl->names[i] = n->name;
        cl->weights[i] = w;
        n->state = RC_NODE_UP;
        n->up_since_ms = rc__cl_now_ms();
        if (rc__cl_connected(cl, i) == NULL && n->state == RC_NODE_UP)
            rc__cl_mark_down(cl, i); /* starts down, probed like any other */
    }
    cl->o.nodes = cl->names;
    cl->o.weights = cl->weights;
    cl->last_node = cl->n;
    *out = cl;
    return 0;
}

void rc_cluster_close(rc_cluster *cl)
{
    if (cl == NULL)
        return;
    for (size_t i = 0; i < cl->n; i++) {
        rc__cnode *n = &cl->nodes[i];
        rc__close_conn(n);
        for (size_t k = 0; n->queue && k < n->q_len; k++)
            rc__cl_qop_free(&n->queue[(n->q_head + k) % cl->o.max_queue]);
        free(n->queue);
    }
    for (size_t i = 0; i < cl->nversions; i++)
        free(cl->versions[i].ns);
    free(cl->versions);
    free(cl);
}

size_t rc_cluster_size(const rc_cluster *cl)
{
    return cl ? cl->n : 0;
}

int rc_cluster_node_get(rc_cluster *cl, size_t node, rc_cluster_node_info *out)
{
    if (cl == NULL || out == NULL || node >= cl->n)
        return RC_EINVAL;
    const rc__cnode *n = &cl->nodes[node];
    memset(out, 0, sizeof *out);
    snprintf(out->name, sizeof out->name, "%s", n->name);
    out->weight = n->weight;
    out->state = n->state;
    out->consecutive_timeouts = n->timeouts;
    out->requests = n->requests;
    out->failures = n->failures;
    out->failovers = n->failovers;
    out->queued = n->queued;
    out->replayed = n->replayed;
    out->dropped = n->dropped;
    out->queue_len = n->q_len;
    out->down_since_ms = n->down_since_ms;
    out->up_since_ms = n->up_since_ms;
    return 0;
}

rc_client *rc_cluster_node_client(rc_cluster *cl, size_t node)
{
    if (cl == NULL || node >= cl->n || cl->nodes[node].state != RC_NODE_UP)
        return NULL;
    return rc__cl_connected(cl, node);
}

/* ---- routing -----------------------------------------------------------------------------------
 */

static int rc__rank(rc_cluster *cl, const char *ns, const void *key, size_t key_len, size_t *order)
{
    if (ns == NULL || key == NULL)
        return RC_EINVAL;
    return rc_hrw_rank(cl->names, cl->weights, cl->n, ns, strlen(ns), key, key_len, order);
}

int rc_cluster_owner(rc_cluster *cl, const char *ns, const void *key, size_t key_len, size_t *node)
{
    size_t order[RC__CLUSTER_MAX_NODES];
    if (cl == NULL || node == NULL)
        return RC_EINVAL;
    int err = rc__rank(cl, ns, key, key_len, order);
    if (err == 0)
        *node = order[0];
    return err;
}

/*
 * A routed call: `run` performs the operation on one node's client.  It is
 * tried on the ranking's first usable node, and on the next ones while the
 * node turns out to be unavailable.  *served (may be NULL) receives the node
 * that answered and whether it was a failover.
 */
int rc__cl_routed(rc_cluster *cl, const char *ns, const void *key, size_t key_len,
                  rc__node_call run, void *ctx, size_t *served)
{
    size_t order[RC__CLUSTER_MAX_NODES];
    int err = rc__rank(cl, ns, key, key_len, order);
    if (err != 0)
        return err;
    err = RC_ENO_NODE;
    for (size_t r = 0; r < cl->n; r++) {
        size_t i = order[r];
        if (!rc__usable(cl, i))
            continue;
        rc_client *c = rc__cl_connected(cl, i);
        if (c == NULL) {
            if (cl->nodes[i].state == RC_NODE_UP)
                return RC_ETIMEDOUT; /* below tko: the caller sees the timeout */
            continue;
        }
        bool failover = r > 0;
        cl->nodes[i].requests++;
        err = run(c, ctx, failover);
        if (rc__cl_health(cl, i, err))
            continue; /* unavailable: next node of the ranking */
        if (failover) {
            cl->nodes[i].failovers++;
            cl->last_failover_ms = rc__cl_now_ms();
        }
        if (served)
            *served = i;
        cl->last_node = i;
        return err;
    }
    cl->last_node = cl->n;
    return err;
}

int rc_cluster_last_node(const rc_cluster *cl, size_t *node)
{
    if (cl == NULL || node == NULL)
        return RC_EINVAL;
    *node = cl->last_node;
    return cl->last_node < cl->n ? 0 : RC_ENO_NODE;
}

/* ---- single-key operations ------------------------------------------------------------------- */

typedef struct rc__op {
    rc_cluster *cl;
    const char *ns;
    const void *key;
    size_t key_len;
    const void *value;
    size_t value_len;
    rc_get_options get;
    rc_lget_options lget;
    rc_get_or_fill_options gof;
    const rc_set_options *set;
    rc_write_info *info;
    rc_value *out;
    rc_lease_result *lease;
    uint64_t version;
    uint32_t ttl_ms;
    int mode;
    rc_fill_fn fill;
    void *fill_ctx;
} rc__op;

/* rc__min - reads carry the highest version seen as min_version. */
uint64_t rc__cl_min(rc_cluster *cl, const char *ns, uint64_t asked)
{
    uint64_t seen = rc_cluster_ns_version(cl, ns);
    return asked > seen ? asked : seen;
}

static int rc__call_get(rc_client *c, void *ctx, bool failover)
{
    rc__op *op = ctx;
    (void)failover;
    int err = rc_get(c, op->ns, op->key, op->key_len, &op->get, op->out);
    if (err == 0 || err == RC_EMISS)
        rc__cl_see_version(op->cl, op->ns, op->out->ns_version);
    return err;
}

int rc_cluster_get(rc_cluster *cl, const char *ns, const void *key, size_t key_len,
                   const rc_get_options *opts, rc_value *out)
{
    if (cl == NULL || out == NULL)
        return RC_EINVAL;
    memset(out, 0, sizeof *out);
    rc__op op = {.cl = cl, .ns = ns, .key = key, .key_len = key_len, .out = out};
    if (opts)
        op.get = *opts;
    if (ns)
        op.get.min_version = rc__cl_min(cl, ns, op.get.min_version);
    return rc__cl_routed(cl, ns, key, key_len, rc__call_get, &op, NULL);
}

rc_set_options rc__cl_capped(const rc_cluster *cl, const rc_set_options *opts)
{
    rc_set_options capped = opts ? *opts : (rc_set_options){.stale_ms = RC_STALE_DEFAULT};
    /* A divergent copy must die quickly: cap its TTL (0 = namespace default, uncapped). */
    if (capped.ttl_ms == 0 || capped.ttl_ms > cl->o.failover_ttl_ms)
        capped.ttl_ms = cl->o.failover_ttl_ms;
    return capped;
}

static int rc__call_set(rc_client *c, void *ctx, bool failover)
{
    rc__op *op = ctx;
    rc_set_options capped = rc__cl_capped(op->cl, op->set);
    const rc_set_options *o = failover ? &capped : op->set;
    int err = rc_set(c, op->ns, op->key, op->key_len, op->value, op->value_len, o, op->info);
    if (err == 0)
        rc__cl_see_version(op->cl, op->ns, op->info->ns_version);
    return err;
}

/* rc__shadow_owner - after a failover write: the owner must drop its copy before it serves. */
void rc__cl_shadow_owner(rc_cluster *cl, const char *ns, const void *key, size_t key_len,
                         size_t served, uint64_t version)
{
    size_t owner;
    if (rc_cluster_owner(cl, ns, key, key_len, &owner) == 0 && owner != served)
        rc__cl_queue_key(cl, owner, ns, key, key_len, RC_HARD, version);
}

int rc_cluster_set(rc_cluster *cl, const char *ns, const void *key, size_t key_len,
                   const void *value, size_t value_len, const rc_set_options *opts,
                   rc_write_info *info)
{
    rc_write_info local;
    if (cl == NULL)
        return RC_EINVAL;
    rc__op op = {.cl = cl,
                 .ns = ns,
                 .key = key,
                 .key_len = key_len,
                 .value = value,
                 .value_len = value_len,
                 .set = opts,
                 .info = info ? info : &local};
    size_t served = 0;
    int err = rc__cl_routed(cl, ns, key, key_len, rc__call_set, &op, &served);
    if (err == 0)
        rc__cl_shadow_owner(cl, ns, key, key_len, served, opts ? opts->version : 0);
    return err;
}

static int rc__call_key_op(rc_client *c, void *ctx, bool failover)
{
    rc__op *op = ctx;
    (void)failover;
    if (op->ttl_ms)
        return rc_touch(c, op->ns, op->key, op->key_len, op->ttl_ms, op->version);
    if (op->mode < 0)
        return rc_delete(c, op->ns, op->key, op->key_len, op->version);
    return rc_invalidate_key(c, op->ns, op->key, op->key_len, op->mode, op->version);
}

/*
 * rc__key_invalidation - delete (mode -1), invalidate_key (mode) or touch
 * (ttl_ms > 0), routed; a node that was unavailable for it, and the owner if
 * another node served it, are queued the invalidation; for failover_ttl_ms
 * after any failover the runner-up also gets it (it may hold a failover copy).
 */
static int rc__key_invalidation(rc_cluster *cl, const char *ns, const void *key, size_t key_len,
                                int mode, uint32_t ttl_ms, uint64_t version)
{
    if (cl == NULL)
        return RC_EINVAL;
    rc__op op = {.cl = cl,
                 .ns = ns,
                 .key = key,
                 .key_len = key_len,
                 .mode = mode,
                 .ttl_ms = ttl_ms,
                 .version = version};
    size_t order[RC__CLUSTER_MAX_NODES];
    int err = rc__rank(cl, ns, key, key_len, order);
    if (err != 0)
        return err;
    size_t served = cl->n;
    err = rc__cl_routed(cl, ns, key, key_len, rc__call_key_op, &op, &served);
    int qmode = mode < 0 ? RC_HARD : mode;
    if (served != order[0] || err == RC_ETIMEDOUT || err == RC_ENO_NODE)
        rc__cl_queue_key(cl, order[0], ns, key, key_len, qmode, version);
    bool recent =
        cl->last_failover_ms != 0 && rc__cl_now_ms() - cl->last_failover_ms < cl->o.failover_ttl_ms;
    if (recent && cl->n > 1 && served == order[0] && err != RC_ETIMEDOUT) {
        size_t second = order[1];
        rc_client *c = cl->nodes[second].state == RC_NODE_UP ? rc__cl_connected(cl, second) : NULL;
        int e2 = c ? rc__call_key_op(c, &op, true) : RC_ENO_NODE;
        if (c)
            rc__cl_health(cl, second, e2);
        if (e2 != 0 && e2 != RC_EMISS)
            rc__cl_queue_key(cl, second, ns, key, key_len, qmode, version);
    }
    return err;
}

int rc_cluster_delete(rc_cluster *cl, const char *ns, const void *key, size_t key_len,
                      uint64_t version)
{
    return rc__key_invalidation(cl, ns, key, key_len, -1, 0, version);
}

int rc_cluster_invalidate_key(rc_cluster *cl, const char *ns, const void *key, size_t key_len,
                              int mode, uint64_t version)
{
    if (mode != RC_HARD && mode != RC_SOFT)
        return RC_EINVAL;
    return rc__key_invalidation(cl, ns, key, key_len, mode, 0, version);
}

int rc_cluster_touch(rc_cluster *cl, const char *ns, const void *key, size_t key_len,
                     uint32_t ttl_ms, uint64_t version)
{
    if (ttl_ms == 0)
        return RC_EINVAL; /* the namespace default is not known here: name a TTL */
    return rc__key_invalidation(cl, ns, key, key_len, RC_HARD, ttl_ms, version);
}

static int rc__call_lget(rc_client *c, void *ctx, bool failover)
{
    rc__op *op = ctx;
    (void)failover;
    int err = rc_lget(c, op->ns, op->key, op->key_len, &op->lget, op->lease);
    rc__cl_see_version(op->cl, op->ns, op->lease->value.ns_version);
    return err;
}

int rc_cluster_lget(rc_cluster *cl, const char *ns, const void *key, size_t key_len,
                    const rc_lget_options *opts, rc_lease_result *out, size_t *node)
{
    if (cl == NULL || out == NULL)
        return RC_EINVAL;
    memset(out, 0, sizeof *out);
    rc__op op = {.cl = cl, .ns = ns, .key = key, .key_len = key_len, .lease = out};
    if (opts)
        op.lget = *opts;
    if (ns)
        op.lget.min_version = rc__cl_min(cl, ns, op.lget.min_version);
    size_t served = 0;
    int err = rc__cl_routed(cl, ns, key, key_len, rc__call_lget, &op, &served);
    if (node)
        *node = served;
    return err;
}

int rc_cluster_fill(rc_cluster *cl, size_t node, const char *ns, const void *key, size_t key_len,
                    const rc_lease_token *token, const void *value, size_t value_len,
                    const rc_set_options *opts, rc_write_info *info)
{
    if (cl == NULL || node >= cl->n)
        return RC_EINVAL;
    if (cl->nodes[node].state != RC_NODE_UP)
        return RC_ENO_NODE; /* a token is only good on the node that issued it */
    rc_client *c = rc__cl_connected(cl, node);
    if (c == NULL)
        return RC_ENO_NODE;
    cl->nodes[node].requests++;
    int err = rc_fill(c, ns, key, key_len, token, value, value_len, opts, info);
    rc__cl_health(cl, node, err);
    return err;
}

static int rc__call_gof(rc_client *c, void *ctx, bool failover)
{
    rc__op *op = ctx;
    (void)failover;
    int err =
        rc_get_or_fill(c, op->ns, op->key, op->key_len, &op->gof, op->fill, op->fill_ctx, op->out);
    if (err == 0)
        rc__cl_see_version(op->cl, op->ns, op->out->ns_version);
    return err;
}

int rc_cluster_get_or_fill(rc_cluster *cl, const char *ns, const void *key, size_t key_len,
                           const rc_get_or_fill_options *opts, rc_fill_fn fill, void *ctx,
                           rc_value *out)
{
    if (cl == NULL || out == NULL)
        return RC_EINVAL;
    memset(out, 0, sizeof *out);
    rc__op op = {.cl = cl,
                 .ns = ns,
                 .key = key,
                 .key_len = key_len,
                 .out = out,
                 .fill = fill,
                 .fill_ctx = ctx};
    if (opts)
        op.gof = *opts;
    if (ns)
        op.gof.min_version = rc__cl_min(cl, ns, op.gof.min_version);
    return rc__cl_routed(cl, ns, key, key_len, rc__call_gof, &op, NULL);
}

/* ---- pipelined reads ---------------------------------------------------------------------- */

/* rc__batch_node - run the reads of keys[] whose target is node i as one batch; 0 or an error. */
static int rc__batch_node(rc_cluster *cl, size_t i, const char *ns, const void *const *keys,
                          const size_t *key_lens, const size_t *idx, size_t m, rc_value *out,
                          int *status)
{
    rc_client *c = rc__cl_connected(cl, i);
    if (c == NULL)
        return RC_ECONNECT;
    rc_batch *b = rc_batch_new(c);
    if (b == NULL)
        return RC_ENOMEM;
    rc_get_options o = {.min_version = rc_cluster_ns_version(cl, ns)};
    for (size_t k = 0; k < m; k++)
        if (rc_batch_get(b, ns, keys[idx[k]], key_lens[idx[k]], &o) < 0) {
            rc_batch_free(b);
            return RC_ENOMEM;
        }
    cl->nodes[i].requests += m;
    int err = rc_batch_exec(b);
    for (size_t k = 0; err == 0 && k < m; k++) {
        const rc_batch_result *r = rc_batch_get_result(b, k);
        status[idx[k]] = r->status;
        if (r->status == 0) {
            out[idx[k]] = r->value;
            out[idx[k]].data = malloc(r->value.len + 1u);
            if (out[idx[k]].data == NULL) {
                status[idx[k]] = RC_ENOMEM;
                continue;
            }
            memcpy(out[idx[k]].data, r->value.data, r->value.len);
            out[idx[k]].data[r->value.len] = '\0';
            rc__cl_see_version(cl, ns, r->value.ns_version);
        }
    }
    rc_batch_free(b);
    return err;
}

int rc_cluster_get_many(rc_cluster *cl, const char *ns, const void *const *keys,
                        const size_t *key_lens, size_t n, rc_value *out, int *status)
{
    if (cl == NULL || ns == NULL ||
        (n && (keys == NULL || key_lens == NULL || out == NULL || status == NULL)))
        return RC_EINVAL;
    size_t *target = malloc((n ? n : 1u) * sizeof *target),
           *idx = malloc((n ? n : 1u) * sizeof *idx);
    if (target == NULL || idx == NULL) {
        free(target);
        free(idx);
        return RC_ENOMEM;
    }
    memset(out, 0, n * sizeof *out);
    size_t order[RC__CLUSTER_MAX_NODES];
    for (size_t k = 0; k < n; k++) {
        status[k] = RC_ENO_NODE;
        target[k] = cl->n;
        if (rc__rank(cl, ns, keys[k], key_lens[k], order) != 0) {
            status[k] = RC_EINVAL;
            continue;
        }
        for (size_t r = 0; r < cl->n && target[k] == cl->n; r++)
            if (rc__usable(cl, order[r]))
                target[k] = order[r];
    }
    int result = 0;
    for (size_t i = 0; i < cl->n; i++) {
        size_t m = 0;
        for (size_t k = 0; k < n; k++)
            if (target[k] == i)
                idx[m++] = k;
        if (m == 0)
            continue;
        int err = rc__batch_node(cl, i, ns, keys, key_lens, idx, m, out, status);
        if (err != 0) {
            rc__cl_health(cl, i, err);
            for (size_t k = 0; k < m; k++) /* answered one by one, failing over */
                status[idx[k]] =
                    rc_cluster_get(cl, ns, keys[idx[k]], key_lens[idx[k]], NULL, &out[idx[k]]);
        }
    }
    for (size_t k = 0; k < n; k++)
        if (status[k] != 0 && status[k] != RC_EMISS)
            result = status[k];
    free(target);
    free(idx);
    return result == RC_ENO_NODE || result == RC_ETIMEDOUT ? result : 0;
}
