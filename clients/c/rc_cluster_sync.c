/*
 * rc_cluster_sync.c - what must reach every node: broadcasts, the queue of
 * unacknowledged invalidations, and catch-up (see rc_cluster_int.h).
 *
 * Loud broadcasts.  A broadcast is sent to every node, one after the other,
 * and each node's answer is reported.  A node that is down (and not due for
 * a probe), unreachable, or that timed out has not acknowledged: its result
 * says so, the invalidation is queued for it, and the call returns
 * RC_EPARTIAL.  A node that refused the request itself (bad argument, say)
 * reports that status; when every node refused it the same way, that status
 * is the call's result (nothing to replay: it is the request that is wrong).
 *
 * The queue.  Per node, a bounded ring of operations in the order they were
 * issued.  Replay order matters only per node, and a node replays its whole
 * queue before it serves again, so a recovered node can never serve a value
 * an invalidation it missed would have killed.  When the ring is full the
 * node is marked for resync: key and tag invalidations already queued are
 * dropped (a flush subsumes them) and it is flushed before anything else on
 * recovery; namespace configuration is kept, and bumps need no queue at all:
 * catch-up ends by bumping every namespace to the highest version this
 * client has seen.
 */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rc_cluster_int.h"

/* ---- the queue ------------------------------------------------------------------------------ */

void rc__cl_qop_free(rc__qop *op)
{
    free(op->ns);
    free(op->key);
    free(op->text);
    free(op->ids);
    memset(op, 0, sizeof *op);
}

/* rc__drop_invalidations - overflow: keep only NSCONF ops, in order; count the others dropped. */
static void rc__drop_invalidations(rc_cluster *cl, rc__cnode *n)
{
    size_t kept = 0, cap = cl->o.max_queue;
    for (size_t k = 0; k < n->q_len; k++) {
        rc__qop *op = &n->queue[(n->q_head + k) % cap];
        /* A flush drops entries, not settings or suppressions: those are kept. */
        if (op->kind == RC__Q_NSCONF || op->kind == RC__Q_SUPPRESS ||
            op->kind == RC__Q_UNSUPPRESS) {
            n->queue[(n->q_head + kept) % cap] = *op;
            if (kept != k)
                memset(op, 0, sizeof *op);
            kept++;
        } else {
            rc__cl_qop_free(op);
            n->dropped++;
        }
    }
    n->q_len = kept;
}

void rc__cl_enqueue(rc_cluster *cl, size_t i, rc__qop *op)
{
    rc__cnode *n = &cl->nodes[i];
    bool invalidation = op->kind == RC__Q_KEY || op->kind == RC__Q_TAG;
    if (n->overflowed && invalidation) {
        /* The flush on recovery covers it. */
        n->dropped++;
        rc__cl_qop_free(op);
        return;
    }
    if (n->q_len == cl->o.max_queue) {
        n->overflowed = true;
        if (n->state != RC_NODE_UP)
            n->state = RC_NODE_RESYNCING;
        rc__drop_invalidations(cl, n);
        if (invalidation || n->q_len == cl->o.max_queue) {
            n->dropped++;
            rc__cl_qop_free(op);
            return;
        }
    }
    n->queue[(n->q_head + n->q_len) % cl->o.max_queue] = *op;
    n->q_len++;
    n->queued++;
}

void rc__cl_queue_key(rc_cluster *cl, size_t i, const char *ns, const void *key, size_t key_len,
                      int mode, uint64_t version)
{
    rc__qop op = {.kind = RC__Q_KEY, .mode = mode, .version = version, .key_len = key_len};
    op.ns = strdup(ns);
    op.key = malloc(key_len ? key_len : 1u);
    if (op.ns == NULL || op.key == NULL) {
        /* Out of memory: the node can no longer be told; treat it as an overflow. */
        rc__cl_qop_free(&op);
        cl->nodes[i].overflowed = true;
        cl->nodes[i].dropped++;
        return;
    }
    memcpy(op.key, key, key_len);
    rc__cl_enqueue(cl, i, &op);
}

/* rc__run_op - send one queued operation on c. */
static int rc__run_op(rc_client *c, const rc__qop *op)
{
    char *text = NULL;
    int err;
    switch (op->kind) {
    case RC__Q_KEY:
        err = rc_invalidate_key(c, op->ns, op->key, op->key_len, op->mode, op->version);
        return err == RC_EMISS ? 0 : err;
    case RC__Q_TAG:
        return rc_invalidate_tag(c, op->key, op->mode, NULL);
    case RC__Q_FLUSH:
        return rc_flush(c);
    case RC__Q_SUPPRESS:
        return rc_suppress(c, op->ns, op->ids, op->nids, op->ttl_ms, NULL);
    case RC__Q_UNSUPPRESS:
        return rc_unsuppress(c, op->ns, op->ids, op->nids, NULL);
    default:
        err = rc_ns_config(c, op->ns, op->text, &text);
        free(text);
        return err;
    }
}

/* rc__server_refusal - an answer from the server about the request itself (not the node). */
static bool rc__server_refusal(int err)
{
    return err > -1000 && err != 0 && err != RC_ESHUTTING_DOWN && err != RC_ESERVER_BUSY;
}

int rc__cl_catch_up(rc_cluster *cl, size_t i)
{
    rc__cnode *n = &cl->nodes[i];
    rc_client *c = n->conn;
    int err = 0;
    if (n->overflowed) {
        err = rc_flush(c);
        if (err != 0) {
            rc__cl_health(cl, i, err == RC_ETIMEDOUT ? RC_ECLOSED : err);
            rc__cl_mark_down(cl, i);
            return err;
        }
        n->overflowed = false;
        n->state = RC_NODE_PROBING;
    }
    while (n->q_len > 0) {
        rc__qop *op = &n->queue[n->q_head];
        err = rc__run_op(c, op);
        if (err != 0 && !rc__server_refusal(err)) {
            rc__cl_mark_down(cl, i); /* keep the rest for the next probe */
            return err;
        }
        n->replayed++;
        rc__cl_qop_free(op);
        n->q_head = (n->q_head + 1u) % cl->o.max_queue;
        n->q_len--;
    }
    for (size_t k = 0; k < cl->nversions; k++) {
        uint64_t v = 0;
        err = rc_bump(c, cl->versions[k].ns, cl->versions[k].version, &v);
        if (err != 0 && !rc__server_refusal(err)) {
            rc__cl_mark_down(cl, i);
            return err;
        }
    }
    n->state = RC_NODE_UP;
    n->timeouts = 0;
    n->backoff_ms = 0;
    n->up_since_ms = rc__cl_now_ms();
    return 0;
}

/* ---- broadcasts -------------------------------------------------------------------------------
 */

/* What a broadcast sends: one of the queueable operations (bump uses `version`, not the queue). */
typedef struct rc__bcast {
    int bump; /* 1 for BUMP (never queued: catch-up bumps) */
    rc__qop op;
    uint64_t to;
} rc__bcast;

static rc__qop rc__copy_op(const rc__qop *op)
{
    rc__qop copy = *op;
    copy.ns = op->ns ? strdup(op->ns) : NULL;
    copy.text = op->text ? strdup(op->text) : NULL;
    copy.key = NULL;
    copy.ids = NULL;
    if (op->ids) {
        copy.ids = malloc(op->nids * sizeof *op->ids);
        if (copy.ids)
            memcpy(copy.ids, op->ids, op->nids * sizeof *op->ids);
    }
    if (op->key) {
        copy.key = malloc(op->key_len + 1u);
        if (copy.key)
            memcpy(copy.key, op->key, op->key_len + 1u);
    }
    return copy;
}

/* rc__send_one - the broadcast on node i; fills r; returns the node's error (0 = acknowledged). */
static int rc__send_one(rc_cluster *cl, size_t i, const rc__bcast *b, rc_node_result *r)
{
    rc__cnode *n = &cl->nodes[i];
    bool usable = n->state == RC_NODE_UP || rc__cl_now_ms() >= n->next_probe_ms;
    if (n->state != RC_NODE_UP && usable) {
        rc_cluster_poll(cl); /* probe (and catch up) every due node first */
        usable = n->state == RC_NODE_UP;
    }
    rc_client *c = usable ? rc__cl_connected(cl, i) : NULL;
    if (c == NULL) {
        snprintf(r->error, sizeof r->error, "node down: not acknowledged, queued for replay");
        return RC_ENO_NODE;
    }
    n->requests++;
    int err;
    if (b->bump) {
        err = rc_bump(c, b->op.ns, b->to, &r->value);
    } else if (b->op.kind == RC__Q_TAG) {
        err = rc_invalidate_tag(c, b->op.key, b->op.mode, &r->value);
    } else if (b->op.kind == RC__Q_SUPPRESS) {
        err = rc_suppress(c, b->op.ns, b->op.ids, b->op.nids, b->op.ttl_ms, &r->value);
    } else if (b->op.kind == RC__Q_UNSUPPRESS) {
        err = rc_unsuppress(c, b->op.ns, b->op.ids, b->op.nids, &r->value);
    } else {
        err = rc__run_op(c, &b->op);
    }
    if (err != 0) {
        const char *msg = rc_client_error_message(c);
        snprintf(r->error, sizeof r->error, "%s", msg[0] ? msg : rc_strerror(err));
    }
    rc__cl_health(cl, i, err);
    return err;
}

/*
 * rc__broadcast - b on every node; unacknowledged ones get it queued.
 * Returns 0, RC_EPARTIAL, or the common refusal of every node.
 */
static int rc__broadcast(rc_cluster *cl, const rc__bcast *b, rc_node_result *results)
{
    int refusal = 0, refusals = 0, missing = 0;
    for (size_t i = 0; i < cl->n; i++) {
        rc_node_result local, *r = results ? &results[i] : &local;
        memset(r, 0, sizeof *r);
        r->node = i;
        r->status = rc__send_one(cl, i, b, r);
        if (r->status == 0) {
            if (b->bump)
                rc__cl_see_version(cl, b->op.ns, r->value);
            continue;
        }
        if (rc__server_refusal(r->status)) {
            refusal = refusals == 0 || refusal == r->status ? r->status : RC_EPARTIAL;
            refusals++;
            continue;
        }
        missing++;
        if (!b->bump) {
            rc__qop copy = rc__copy_op(&b->op);
            rc__cl_enqueue(cl, i, &copy);
        }
    }
    if (refusals == (int)cl->n)
        return refusal;
    return missing || refusals ? RC_EPARTIAL : 0;
}

int rc_cluster_bump(rc_cluster *cl, const char *ns, uint64_t to, uint64_t *version,
                    rc_node_result *results)
{
    if (cl == NULL || ns == NULL)
        return RC_EINVAL;
    rc__bcast b = {.bump = 1, .op = {.ns = (char *)ns}, .to = to};
    int err = rc__broadcast(cl, &b, results);
    if (version)
        *version = rc_cluster_ns_version(cl, ns);
    /* A node that missed it is bumped to the highest version seen when it catches up. */
    return err;
}

int rc_cluster_invalidate_tag(rc_cluster *cl, const char *tag, int mode, rc_node_result *results)
{
    if (cl == NULL || tag == NULL || (mode != RC_HARD && mode != RC_SOFT))
        return RC_EINVAL;
    rc__bcast b = {
        .op = {.kind = RC__Q_TAG, .mode = mode, .key = (char *)tag, .key_len = strlen(tag)}};
    return rc__broadcast(cl, &b, results);
}

int rc_cluster_flush(rc_cluster *cl, rc_node_result *results)
{
    if (cl == NULL)
        return RC_EINVAL;
    rc__bcast b = {.op = {.kind = RC__Q_FLUSH}};
    return rc__broadcast(cl, &b, results);
}

int rc_cluster_ns_config(rc_cluster *cl, const char *ns, const char *settings,
                         rc_node_result *results)
{
    if (cl == NULL || ns == NULL || settings == NULL)
        return RC_EINVAL;
    rc__bcast b = {.op = {.kind = RC__Q_NSCONF, .ns = (char *)ns, .text = (char *)settings}};
    return rc__broadcast(cl, &b, results);
}

int rc_cluster_suppress(rc_cluster *cl, const char *ns, const uint64_t *ids, size_t n,
                        uint32_t ttl_ms, rc_node_result *results)
{
    if (cl == NULL || ns == NULL || ids == NULL || n == 0)
        return RC_EINVAL;
    rc__bcast b = {.op = {.kind = RC__Q_SUPPRESS,
                          .ns = (char *)ns,
                          .ids = (uint64_t *)ids,
                          .nids = n,
                          .ttl_ms = ttl_ms}};
    return rc__broadcast(cl, &b, results);
}

int rc_cluster_unsuppress(rc_cluster *cl, const char *ns, const uint64_t *ids, size_t n,
                          rc_node_result *results)
{
    if (cl == NULL || ns == NULL || ids == NULL || n == 0)
        return RC_EINVAL;
    rc__bcast b = {
        .op = {.kind = RC__Q_UNSUPPRESS, .ns = (char *)ns, .ids = (uint64_t *)ids, .nids = n}};
    return rc__broadcast(cl, &b, results);
}
