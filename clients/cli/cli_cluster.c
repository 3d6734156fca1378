/*
 * cli_cluster.c - recache-cli's commands against a cluster (--cluster).
 *
 * Key commands are routed by rc_cluster exactly as an application's calls
 * would be (owner first, failover down the ranking) and print what the
 * single-server command prints.  Broadcasts (bump, invalidate-tag, flush,
 * ns-config) print one line per node:
 *     node=HOST:PORT status=ok version=N        (bump; stamp=S for tags)
 *     node=HOST:PORT status=error error=...     (not acknowledged)
 * and exit with CLI_PARTIAL (4) when any node did not acknowledge, so a
 * deploy script can never mistake a partial purge for a success.
 * Per-node reports (ping, hello, stats, ns-info) print a "# node=..." line
 * before each node's report.  cluster-info prints every node's state,
 * counters and, for the namespaces named, the version each node reports.
 * subscribe listens to every node at once, prefixing each event with its
 * node.
 */
#define _POSIX_C_SOURCE 200809L
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "cli_lists.h"

static const char *const cli__states[] = {"up", "down", "probing", "resyncing"};

/* cli__open - the cluster from "HOST:PORT,HOST:PORT,..."; NULL (message printed) on error. */
static rc_cluster *cli__open(const char *spec, const rc_client_options *conn)
{
    char *copy = strdup(spec);
    const char *nodes[64];
    size_t n = 0;
    rc_cluster *cl = NULL;
    if (copy == NULL)
        return NULL;
    for (char *save = NULL, *tok = strtok_r(copy, ",", &save); tok;
         tok = strtok_r(NULL, ",", &save)) {
        if (n == 64) {
            fprintf(stderr, "error: --cluster: at most 64 nodes\n");
            free(copy);
            return NULL;
        }
        nodes[n++] = tok;
    }
    rc_cluster_options o = {.nodes = nodes,
                            .n_nodes = n,
                            .connect_timeout_ms = conn->connect_timeout_ms,
                            .io_timeout_ms = conn->io_timeout_ms};
    int err = n ? rc_cluster_open(&o, &cl) : RC_EINVAL;
    if (err != 0)
        fprintf(stderr, "error: --cluster '%s': %s (expected HOST:PORT,HOST:PORT,...)\n", spec,
                rc_strerror(err));
    free(copy);
    return err == 0 ? cl : NULL;
}

static const char *cli__node(rc_cluster *cl, size_t i)
{
    static rc_cluster_node_info info;
    rc_cluster_node_get(cl, i, &info);
    return info.name;
}

/* cli__broadcast_report - one line per node; the exit status for the call's result. */
static int cli__broadcast_report(rc_cluster *cl, int err, const rc_node_result *r,
                                 const char *value_name)
{
    for (size_t i = 0; i < rc_cluster_size(cl); i++) {
        printf("node=%s", cli__node(cl, i));
        if (r[i].status == 0) {
            printf(" status=ok");
            if (value_name)
                printf(" %s=%" PRIu64, value_name, r[i].value);
        } else {
            printf(" status=error error=\"%s\"",
                   r[i].error[0] ? r[i].error : rc_strerror(r[i].status));
        }
        putchar('\n');
    }
    if (err == RC_EPARTIAL) {
        fprintf(stderr,
                "error: %s: the operation is queued for the nodes that missed it and "
                "will be replayed before they serve again\n",
                rc_strerror(err));
        return CLI_PARTIAL;
    }
    return err ? cli_fail(NULL, err) : CLI_OK;
}

/* ---- routed key commands --------------------------------------------------------------------- */

static int cli__print_value(cli_args *a, rc_value *v)
{
    fwrite(v->data, 1, v->len, stdout);
    if (!a->raw)
        fputc('\n', stdout);
    if (a->verbose)
        cli_print_value_meta(v);
    rc_value_free(v);
    return CLI_OK;
}

static int cli__get(rc_cluster *cl, cli_args *a)
{
    rc_value v;
    int err = rc_cluster_get(cl, a->pos[0], a->pos[1], strlen(a->pos[1]), &a->get, &v);
    return err ? cli_fail(NULL, err) : cli__print_value(a, &v);
}

static int cli__set(rc_cluster *cl, cli_args *a)
{
    rc_write_info info;
    int err = rc_cluster_set(cl, a->pos[0], a->pos[1], strlen(a->pos[1]), a->value, a->value_len,
                             &a->set, &info);
    if (err)
        return cli_fail(NULL, err);
    printf("OK ns_version=%" PRIu64 " entry_version=%" PRIu64 "\n", info.ns_version,
           info.entry_version);
    return CLI_OK;
}

static int cli__key_op(rc_cluster *cl, cli_args *a, const char *done, int err)
{
    (void)cl;
    (void)a;
    if (err)
        return cli_fail(NULL, err);
    puts(done);
    return CLI_OK;
}

static int cli__lget(rc_cluster *cl, cli_args *a)
{
    rc_lease_result r;
    size_t node = 0;
    rc_lget_options o = {
        .version = a->get.version, .min_version = a->get.min_version, .wait_ms = a->wait_ms};
    int err = rc_cluster_lget(cl, a->pos[0], a->pos[1], strlen(a->pos[1]), &o, &r, &node);
    if (err == 0 || err == RC_EMISS || err == RC_ELEASE_HELD) {
        fprintf(stderr, "node=%s ", cli__node(cl, node));
        cli_print_lease_state(&r);
    }
    if (err == RC_EMISS)
        return CLI_MISS;
    if (err)
        return cli_fail(NULL, err);
    int status = cli__print_value(a, &r.value);
    rc_lease_result_free(&r);
    return status;
}

/* A fill goes where lease reads of the key go now: the node that issued the token. */
static int cli__fill(rc_cluster *cl, cli_args *a)
{
    rc_lease_token token;
    rc_write_info info;
    size_t node;
    if (cli_parse_token(a->pos[2], &token))
        return CLI_ERROR;
    rc_lease_result probe;
    rc_lget_options o = {.version = a->set.version};
    int err = rc_cluster_lget(cl, a->pos[0], a->pos[1], strlen(a->pos[1]), &o, &probe, &node);
    rc_lease_result_free(&probe);
    if (err != 0 && err != RC_EMISS && err != RC_ELEASE_HELD)
        return cli_fail(NULL, err);
    err = rc_cluster_fill(cl, node, a->pos[0], a->pos[1], strlen(a->pos[1]), &token, a->value,
                          a->value_len, &a->set, &info);
    if (err)
        return cli_fail(NULL, err);
    printf("OK ns_version=%" PRIu64 " entry_version=%" PRIu64 "\n", info.ns_version,
           info.entry_version);
    return CLI_OK;
}

/* ---- broadcasts ------------------------------------------------------------------------------ */

static int cli__bump(rc_cluster *cl, cli_args *a)
{
    rc_node_result r[64];
    uint64_t v;
    int err = rc_cluster_bump(cl, a->pos[0], a->bump_to, &v, r);
    return cli__broadcast_report(cl, err, r, "version");
}

static int cli__invalidate_tag(rc_cluster *cl, cli_args *a)
{
    rc_node_result r[64];
    int err = rc_cluster_invalidate_tag(cl, a->pos[0], a->soft ? RC_SOFT : RC_HARD, r);
    return cli__broadcast_report(cl, err, r, "stamp");
}

static int cli__flush(rc_cluster *cl, cli_args *a)
{
    rc_node_result r[64];
    (void)a;
    return cli__broadcast_report(cl, rc_cluster_flush(cl, r), r, NULL);
}

static int cli__ns_config(rc_cluster *cl, cli_args *a)
{
    rc_node_result r[64];
    size_t len = 1;
    for (int i = 1; i < a->npos; i++)
        len += strlen(a->pos[i]) + 1;
    char *settings = calloc(1, len);
    if (settings == NULL)
        return cli_fail(NULL, RC_ENOMEM);
    for (int i = 1; i < a->npos; i++) {
        strcat(settings, a->pos[i]);
        strcat(settings, "\n");
    }
    int err = rc_cluster_ns_config(cl, a->pos[0], settings, r);
    free(settings);
    return cli__broadcast_report(cl, err, r, NULL);
}

/* suppress / unsuppress NS ID...: a broadcast, one line per node (stamp=S), exit 4 if partial. */
static int cli__suppress(rc_cluster *cl, cli_args *a, int unsuppress)
{
    rc_node_result r[64];
    uint64_t *ids = cli_lists_parse_ids(a->pos + 1, a->npos - 1);
    if (ids == NULL)
        return CLI_ERROR;
    size_t n = (size_t)(a->npos - 1);
    int err = unsuppress ? rc_cluster_unsuppress(cl, a->pos[0], ids, n, r)
                         : rc_cluster_suppress(cl, a->pos[0], ids, n, a->set.ttl_ms, r);
    free(ids);
    return cli__broadcast_report(cl, err, r, "stamp");
}

/* cli__list_status - the exit status of a cli_lists_* result (errors reported here). */
static int cli__list_status(int rc)
{
    if (rc < 0)
        return cli_fail(NULL, rc);
    return rc == CLI_LISTS_USAGE ? CLI_ERROR : CLI_OK;
}

/* ---- per-node reports ------------------------------------------------------------------------ */

/*
 * cli__each_node - run report on every node's connection with a "# node="
 * header; a node that is down prints why.  CLI_PARTIAL if some node could
 * not answer, else the worst status.
 */
static int cli__each_node(rc_cluster *cl, const char *name, cli_args *a)
{
    int status = CLI_OK;
    rc_cluster_poll(cl);
    for (size_t i = 0; i < rc_cluster_size(cl); i++) {
        printf("# node=%s\n", cli__node(cl, i));
        fflush(stdout);
        rc_client *c = rc_cluster_node_client(cl, i);
        if (c == NULL) {
            fprintf(stderr, "node %s: down\n", cli__node(cl, i));
            status = CLI_PARTIAL;
            continue;
        }
        int err = 0;
        char *text = NULL;
        uint64_t version;
        if (strcmp(name, "ping") == 0) {
            err = rc_ping(c);
            if (!err)
                puts("PONG");
        } else if (strcmp(name, "hello") == 0) {
            const rc_server_info *info = rc_server_info_get(c);
            printf("server_version %s\ninstance_id %016" PRIx64 "\n", info->server_version,
                   info->instance_id);
        } else if (strcmp(name, "stats") == 0) {
            err = rc_stats(c, a->npos > 0 ? a->pos[0] : NULL, &text);
        } else if (strcmp(name, "suppressed") == 0) {
            int rc = cli_lists_suppressed(c, a->pos[0]);
            err = rc < 0 ? rc : 0;
        } else {
            err = rc_ns_info(c, a->pos[0], &text, &version);
        }
        if (text) {
            cli_print_text(text);
            free(text);
        }
        if (err) {
            int s = cli_fail(c, err);
            if (status != CLI_PARTIAL && s > status)
                status = s;
        }
    }
    return status;
}

static int cli__cluster_info(rc_cluster *cl, cli_args *a)
{
    rc_cluster_poll(cl);
    for (size_t i = 0; i < rc_cluster_size(cl); i++) {
        rc_cluster_node_info n;
        rc_cluster_node_get(cl, i, &n);
        printf("node=%s state=%s weight=%g requests=%" PRIu64 " failures=%" PRIu64
               " failovers=%" PRIu64 " queued=%" PRIu64 " replayed=%" PRIu64 " dropped=%" PRIu64
               " queue=%zu",
               n.name, cli__states[n.state & 3], n.weight, n.requests, n.failures, n.failovers,
               n.queued, n.replayed, n.dropped, n.queue_len);
        rc_client *c = rc_cluster_node_client(cl, i);
        for (int k = 0; k < a->npos; k++) {
            char *text = NULL;
            uint64_t v = 0;
            int err = c ? rc_ns_info(c, a->pos[k], &text, &v) : RC_ENO_NODE;
            free(text);
            if (err == 0)
                printf(" %s=%" PRIu64, a->pos[k], v);
            else
                printf(" %s=%s", a->pos[k], err == RC_EMISS ? "none" : "?");
        }
        putchar('\n');
    }
    for (int k = 0; k < a->npos; k++)
        printf("client %s=%" PRIu64 "\n", a->pos[k], rc_cluster_ns_version(cl, a->pos[k]));
    return CLI_OK;
}

/* cli__subscribe - every node's channel, polled in turn; each event prefixed with its node. */
static int cli__subscribe(rc_cluster *cl, cli_args *a)
{
    size_t n = rc_cluster_size(cl);
    rc_client *subs[64] = {0};
    uint64_t printed = 0;
    for (size_t i = 0; i < n; i++) {
        rc_cluster_node_info info;
        rc_cluster_node_get(cl, i, &info);
        rc_client_options o = {.host = NULL, .port = 0};
        char host[128];
        snprintf(host, sizeof host, "%s", info.name);
        char *colon = strrchr(host, ':');
        *colon = '\0';
        o.host = host[0] == '[' ? host + 1 : host;
        if (host[0] == '[' && colon[-1] == ']')
            colon[-1] = '\0';
        o.port = (uint16_t)atoi(colon + 1);
        uint64_t seq, inst;
        if (rc_connect(&o, &subs[i]) != 0 ||
            rc_subscribe(subs[i], a->pos, (size_t)a->npos, 0, 0, &seq, &inst) != 0) {
            fprintf(stderr, "node %s: cannot subscribe\n", info.name);
            rc_close(subs[i]);
            subs[i] = NULL;
            continue;
        }
        fprintf(stderr, "node=%s subscribed seq=%" PRIu64 " instance=%" PRIu64 "\n", info.name, seq,
                inst);
    }
    int status = CLI_OK;
    while (a->count == 0 || printed < a->count) {
        int live = 0;
        for (size_t i = 0; i < n && (a->count == 0 || printed < a->count); i++) {
            if (subs[i] == NULL)
                continue;
            live++;
            rc_event ev;
            int err = rc_next_event(subs[i], 50, &ev);
            if (err == RC_ETIMEDOUT)
                continue;
            if (err) {
                fprintf(stderr, "node %s: %s\n", cli__node(cl, i), rc_strerror(err));
                rc_close(subs[i]);
                subs[i] = NULL;
                status = CLI_PARTIAL;
                continue;
            }
            if (ev.kind == RC_EVENT_HEARTBEAT && !a->verbose)
                continue;
            printf("node=%s ", cli__node(cl, i));
            cli_print_event(&ev);
            if (ev.kind != RC_EVENT_HEARTBEAT)
                printed++;
        }
        if (live == 0)
            return cli_fail(NULL, RC_ENO_NODE);
    }
    for (size_t i = 0; i < n; i++)
        rc_close(subs[i]);
    return status;
}

/* ---- dispatch -------------------------------------------------------------------------------- */

int cli_cluster_run(const char *spec, const rc_client_options *conn, const char *name, cli_args *a)
{
    rc_cluster *cl = cli__open(spec, conn);
    if (cl == NULL)
        return CLI_ERROR;
    const char *ns = a->npos > 0 ? a->pos[0] : NULL;
    const char *key = a->npos > 1 ? a->pos[1] : NULL;
    size_t klen = key ? strlen(key) : 0;
    int status = -1;
    if (strcmp(name, "get") == 0)
        status = cli__get(cl, a);
    else if (strcmp(name, "set") == 0)
        status = cli__set(cl, a);
    else if (strcmp(name, "del") == 0)
        status =
            cli__key_op(cl, a, "DELETED", rc_cluster_delete(cl, ns, key, klen, a->get.version));
    else if (strcmp(name, "touch") == 0) {
        uint32_t ttl;
        status = cli_parse_u32("ttl", a->pos[2], &ttl)
                     ? CLI_ERROR
                     : cli__key_op(cl, a, "TOUCHED",
                                   rc_cluster_touch(cl, ns, key, klen, ttl, a->get.version));
    } else if (strcmp(name, "invalidate-key") == 0)
        status = cli__key_op(cl, a, "OK",
                             rc_cluster_invalidate_key(
                                 cl, ns, key, klen, a->soft ? RC_SOFT : RC_HARD, a->get.version));
    else if (strcmp(name, "lget") == 0)
        status = cli__lget(cl, a);
    else if (strcmp(name, "fill") == 0)
        status = cli__fill(cl, a);
    else if (strcmp(name, "bump") == 0)
        status = cli__bump(cl, a);
    else if (strcmp(name, "invalidate-tag") == 0)
        status = cli__invalidate_tag(cl, a);
    else if (strcmp(name, "flush") == 0)
        status = cli__flush(cl, a);
    else if (strcmp(name, "ns-config") == 0)
        status = cli__ns_config(cl, a);
    else if (strcmp(name, "list-set") == 0)
        status = cli__list_status(
            cli_lists_set(NULL, cl, a->pos[0], a->pos[1], a->pos + 2, a->npos - 2, &a->set));
    else if (strcmp(name, "list-get") == 0)
        status = cli__list_status(
            cli_lists_get(NULL, cl, a->pos[0], a->pos[1], &a->get, a->top, a->exclude, a->verbose));
    else if (strcmp(name, "list-remove") == 0)
        status = cli__list_status(cli_lists_remove(NULL, cl, a->pos[0], a->pos[1], a->pos + 2,
                                                   a->npos - 2, a->get.version));
    else if (strcmp(name, "suppress") == 0 || strcmp(name, "unsuppress") == 0)
        status = cli__suppress(cl, a, name[0] == 'u');
    else if (strcmp(name, "ping") == 0 || strcmp(name, "hello") == 0 ||
             strcmp(name, "stats") == 0 || strcmp(name, "ns-info") == 0 ||
             strcmp(name, "suppressed") == 0)
        status = cli__each_node(cl, name, a);
    else if (strcmp(name, "cluster-info") == 0)
        status = cli__cluster_info(cl, a);
    else if (strcmp(name, "subscribe") == 0)
        status = cli__subscribe(cl, a);
    rc_cluster_close(cl);
    return status;
}
