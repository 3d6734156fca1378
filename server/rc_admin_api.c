/*
 * rc_admin_api.c - the admin endpoints (see rc_admin_api.h).
 *
 * JSON is built with cJSON and printed unformatted; numbers above 2^53
 * cannot occur (versions saturate at RC_NS_VERSION_MAX, counters would
 * need centuries), so every number is exact in JSON.
 */
#define _POSIX_C_SOURCE 200809L

#include "rc_admin_api.h"

#include <cjson/cJSON.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rc_alloc.h"
#include "rc_log.h"
#include "rc_metrics.h"
#include "rc_service.h"
#include "rc_store.h"

/* Room for the STATS text and a namespace report. */
#define RC__TEXT_CAP (64u * 1024u)

static const char rc__json_type[] = "application/json";

/* Print root into out with status (root is consumed). */
static void rc__json_reply(int status, cJSON *root, rc_admin_reply *out)
{
    char *text = cJSON_PrintUnformatted(root);
    cJSON_Delete(root);
    if (text == NULL) /* cJSON only fails for lack of memory: the rc_xmalloc policy */
        abort();
    size_t len = strlen(text);
    out->status = status;
    out->content_type = rc__json_type;
    out->body = rc_xmalloc(len + 2u);
    memcpy(out->body, text, len);
    out->body[len] = '\n';
    out->body[len + 1] = '\0';
    out->body_len = len + 1u;
    free(text);
}

void rc_admin_api_error(int status, const char *message, rc_admin_reply *out)
{
    cJSON *root = cJSON_CreateObject();
    cJSON_AddStringToObject(root, "error", rc_http_reason(status));
    cJSON_AddStringToObject(root, "message", message);
    out->allow = NULL;
    rc__json_reply(status, root, out);
}

void rc_admin_reply_free(rc_admin_reply *out)
{
    free(out->body);
    out->body = NULL;
    out->body_len = 0;
}

/* The HTTP status for a store / service error on an admin mutation. */
static int rc__status_for(int rc)
{
    switch (rc) {
    case RC_ETOO_MANY_NAMESPACES:
        return 409;
    case RC_EMISS:
        return 404;
    default:
        return 400;
    }
}

static void rc__num(cJSON *obj, const char *name, uint64_t v)
{
    cJSON_AddNumberToObject(obj, name, (double)v);
}

/* "name value" lines into obj: numbers where the value is a decimal integer, else strings. */
static void rc__text_to_json(const char *text, size_t len, cJSON *obj)
{
    const char *p = text, *end = text + len;
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        const char *line_end = nl != NULL ? nl : end;
        const char *sp = memchr(p, ' ', (size_t)(line_end - p));
        if (sp != NULL && sp > p) {
            char name[128], value[256];
            size_t nlen = (size_t)(sp - p) < sizeof(name) - 1 ? (size_t)(sp - p) : sizeof(name) - 1;
            size_t vlen = (size_t)(line_end - sp - 1) < sizeof(value) - 1
                              ? (size_t)(line_end - sp - 1)
                              : sizeof(value) - 1;
            memcpy(name, p, nlen);
            name[nlen] = '\0';
            memcpy(value, sp + 1, vlen);
            value[vlen] = '\0';
            bool digits = vlen > 0 && strspn(value, "0123456789") == vlen && vlen <= 15;
            if (digits)
                cJSON_AddNumberToObject(obj, name, (double)strtoull(value, NULL, 10));
            else
                cJSON_AddStringToObject(obj, name, value);
        }
        p = line_end + 1;
    }
}

/* ---- reads -------------------------------------------------------------------------------------
 */

static void rc__metrics(rc_server *srv, rc_admin_reply *out)
{
    out->status = 200;
    out->content_type = "text/plain; version=0.0.4; charset=utf-8";
    out->body = rc_metrics_text(srv, &out->body_len);
}

static void rc__health(rc_server *srv, rc_admin_reply *out)
{
    cJSON *root = cJSON_CreateObject();
    cJSON_AddStringToObject(root, "status", "ok");
    cJSON_AddStringToObject(root, "version", RECACHE_VERSION);
    rc__num(root, "uptime_ms", (uv_hrtime() - srv->start_ns) / 1000000u);
    rc__json_reply(200, root, out);
}

static void rc__ready(rc_server *srv, bool ready, rc_admin_reply *out)
{
    cJSON *root = cJSON_CreateObject();
    cJSON_AddBoolToObject(root, "ready", ready);
    cJSON_AddStringToObject(root, "status", ready ? "serving" : "starting");
    rc__num(root, "workers", srv->nworkers);
    rc__json_reply(ready ? 200 : 503, root, out);
}

static void rc__stats(rc_server *srv, rc_admin_reply *out)
{
    char *text = rc_xmalloc(RC__TEXT_CAP);
    long len = rc_server_stats_text(srv, text, RC__TEXT_CAP);
    cJSON *root = cJSON_CreateObject();
    rc__text_to_json(text, len > 0 ? (size_t)len : 0, root);
    free(text);
    rc__json_reply(200, root, out);
}

#define RC__CFG_JSON_UINT(obj, name, v)   cJSON_AddNumberToObject(obj, name, (double)(v))
#define RC__CFG_JSON_SIZE(obj, name, v)   cJSON_AddNumberToObject(obj, name, (double)(v))
#define RC__CFG_JSON_STRING(obj, name, v) cJSON_AddStringToObject(obj, name, (v) != NULL ? (v) : "")
#define RC__CFG_JSON_LEVEL(obj, name, v)  cJSON_AddStringToObject(obj, name, rc_log_level_name(v))

static void rc__config(rc_server *srv, rc_admin_reply *out)
{
    const rc_config *cfg = srv->cfg;
    cJSON *root = cJSON_CreateObject();
    cJSON *opts = cJSON_AddObjectToObject(root, "options");
#define RC__CFG_ROW(field, name, kind, def, lo, hi, help)                                          \
    RC__CFG_JSON_##kind(opts, name, cfg->field);
    RC_CONFIG_OPTIONS(RC__CFG_ROW)
#undef RC__CFG_ROW
    cJSON *ns = cJSON_AddArrayToObject(root, "namespaces");
    for (size_t i = 0; i < cfg->nnamespaces; i++) {
        cJSON *line = cJSON_CreateObject();
        cJSON_AddStringToObject(line, "name", cfg->namespaces[i].name);
        cJSON_AddStringToObject(line, "settings", cfg->namespaces[i].settings);
        cJSON_AddItemToArray(ns, line);
    }
    rc__json_reply(200, root, out);
}

/* One namespace snapshot as JSON: name, version, settings, counters and served-age histogram. */
static cJSON *rc__ns_json(const rc_ns_snap *s, bool full)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "name", s->name);
    rc__num(o, "version", s->version);
    if (!full) {
        rc__num(o, "entries", s->counters[RC_NS_CTR_ENTRIES]);
        rc__num(o, "bytes", s->counters[RC_NS_CTR_BYTES]);
        return o;
    }
    cJSON *set = cJSON_AddObjectToObject(o, "settings");
    for (unsigned i = 0; i < RC_NS_NSETTINGS; i++)
        rc__num(set, rc_metrics_ns_setting_name(i), s->settings[i]);
    cJSON *ctr = cJSON_AddObjectToObject(o, "counters");
    for (unsigned i = 0; i < RC_NS_NCOUNTERS; i++)
        rc__num(ctr, rc_metrics_ns_counter_name(i), s->counters[i]);
    cJSON *age = cJSON_AddObjectToObject(o, "served_age_ms");
    char le[32];
    for (unsigned b = 0; b <= RC_NS_AGE_NBOUNDS; b++) {
        if (b < RC_NS_AGE_NBOUNDS)
            snprintf(le, sizeof(le), "le_%llu", (unsigned long long)RC_NS_AGE_BOUNDS_MS[b]);
        else
            snprintf(le, sizeof(le), "above");
        rc__num(age, le, s->ages[b]);
    }
    rc__num(age, "sum", s->age_sum_ms);
    return o;
}

static void rc__namespaces(rc_server *srv, rc_admin_reply *out)
{
    rc_ns_snap *ns = NULL;
    size_t n = rc_metrics_ns_snapshot(srv, &ns);
    cJSON *root = cJSON_CreateObject();
    rc__num(root, "count", n);
    cJSON *list = cJSON_AddArrayToObject(root, "namespaces");
    for (size_t i = 0; i < n; i++)
        cJSON_AddItemToArray(list, rc__ns_json(&ns[i], false));
    free(ns);
    rc__json_reply(200, root, out);
}

/* The namespace named name (len bytes), as JSON, or NULL when it does not exist. */
static cJSON *rc__find_ns(rc_server *srv, const char *name, size_t len)
{
    rc_ns_snap *ns = NULL;
    size_t n = rc_metrics_ns_snapshot(srv, &ns);
    cJSON *found = NULL;
    for (size_t i = 0; i < n && found == NULL; i++) {
        if (strlen(ns[i].name) == len && memcmp(ns[i].name, name, len) == 0)
            found = rc__ns_json(&ns[i], true);
    }
    free(ns);
    return found;
}

static void rc__namespace(rc_server *srv, const rc_admin_cmd *cmd, rc_admin_reply *out)
{
    cJSON *o = rc__find_ns(srv, cmd->ns, cmd->ns_len);
    if (o == NULL) {
        rc_admin_api_error(404, "no such namespace", out);
        return;
    }
    rc__json_reply(200, o, out);
}

static void rc__cluster(rc_server *srv, rc_admin_reply *out)
{
    cJSON *root = cJSON_CreateObject();
    char id[24];
    snprintf(id, sizeof(id), "%016llx", (unsigned long long)srv->instance_id);
    cJSON_AddStringToObject(root, "instance_id", id);
    cJSON *list = cJSON_AddArrayToObject(root, "peers");
    if (srv->peer_list != NULL) {
        rc_peer_view peers[64];
        memset(peers, 0, sizeof(peers));
        size_t n = srv->peer_list(srv->peer_list_ctx, peers, 64);
        for (size_t i = 0; i < n && i < 64; i++) {
            peers[i].name[sizeof(peers[i].name) - 1] = '\0';
            peers[i].state[sizeof(peers[i].state) - 1] = '\0';
            cJSON *p = cJSON_CreateObject();
            cJSON_AddStringToObject(p, "peer", peers[i].name);
            cJSON_AddStringToObject(p, "state", peers[i].state);
            rc__num(p, "last_exchange_ms", peers[i].last_exchange_ms);
            rc__num(p, "lag_ms", peers[i].lag_ms);
            rc__num(p, "lag_records", peers[i].lag_records);
            cJSON_AddItemToArray(list, p);
        }
    }
    rc__json_reply(200, root, out);
}

/* ---- mutations (all through rc_service.h) --------------------------------------------------- */

static rc_slice rc__slice(const char *p, size_t len)
{
    rc_slice s = {(const uint8_t *)p, (uint32_t)len};
    return s;
}

/* The current version of a namespace (1 when it does not exist: its version before creation). */
static uint64_t rc__ns_version(rc_server *srv, const char *ns, size_t len)
{
    uint64_t v = 1;
    char none[1];
    if (rc_store_ns_info(srv->store, rc__slice(ns, len), none, 0, &v) < 0)
        return 1;
    return v;
}

static void rc__ns_config(rc_server *srv, const rc_admin_cmd *cmd, const char *subject,
                          rc_admin_reply *out)
{
    char err[256] = "";
    int rc = rc_svc_ns_configure(srv, rc__slice(cmd->ns, cmd->ns_len),
                                 rc__slice(cmd->settings, cmd->settings_len), err, sizeof(err));
    rc_log_info("admin: [%s] PUT namespace '%s' config '%s': %s", subject, cmd->ns, cmd->settings,
                rc == 0 ? "applied" : (err[0] != '\0' ? err : rc_strerror(rc)));
    if (rc != 0) {
        rc_admin_api_error(rc__status_for(rc), err[0] != '\0' ? err : rc_strerror(rc), out);
        return;
    }
    cJSON *o = rc__find_ns(srv, cmd->ns, cmd->ns_len);
    if (o == NULL) { /* reclaimed in between: cannot happen for a configured namespace */
        rc_admin_api_error(500, "the namespace vanished after it was configured", out);
        return;
    }
    cJSON_AddStringToObject(o, "applied", cmd->settings);
    rc__json_reply(200, o, out);
}

static void rc__bump(rc_server *srv, const rc_admin_cmd *cmd, const char *subject,
                     rc_admin_reply *out)
{
    uint64_t before = rc__ns_version(srv, cmd->ns, cmd->ns_len), version = 0;
    int rc = rc_svc_bump(srv, rc__slice(cmd->ns, cmd->ns_len), cmd->to, &version);
    if (rc != 0) {
        rc_log_info("admin: [%s] bump of namespace '%s' refused: %s", subject, cmd->ns,
                    rc_strerror(rc));
        rc_admin_api_error(rc__status_for(rc), rc_strerror(rc), out);
        return;
    }
    rc_log_info("admin: [%s] bump of namespace '%s': version %llu -> %llu", subject, cmd->ns,
                (unsigned long long)before, (unsigned long long)version);
    cJSON *root = cJSON_CreateObject();
    cJSON_AddStringToObject(root, "namespace", cmd->ns);
    rc__num(root, "previous_version", before);
    rc__num(root, "version", version);
    cJSON_AddBoolToObject(root, "moved", version != before);
    rc__json_reply(200, root, out);
}

static const char *rc__mode_name(uint8_t mode)
{
    return mode == RC_INVAL_SOFT ? "soft" : "hard";
}

static void rc__tag_invalidate(rc_server *srv, const rc_admin_cmd *cmd, const char *subject,
                               rc_admin_reply *out)
{
    uint64_t stamp = 0;
    int rc = rc_svc_invalidate_tag(srv, rc__slice(cmd->name, cmd->name_len), cmd->mode, &stamp);
    rc_log_info("admin: [%s] %s invalidation of tag '%s': %s", subject, rc__mode_name(cmd->mode),
                cmd->name, rc == 0 ? "done" : rc_strerror(rc));
    if (rc != 0) {
        rc_admin_api_error(rc__status_for(rc), rc_strerror(rc), out);
        return;
    }
    cJSON *root = cJSON_CreateObject();
    cJSON_AddStringToObject(root, "tag", cmd->name);
    cJSON_AddStringToObject(root, "mode", rc__mode_name(cmd->mode));
    /* A hybrid-logical-clock stamp passes 2^53: as a decimal string, so JSON keeps it exact. */
    char text[24];
    snprintf(text, sizeof text, "%" PRIu64, stamp);
    cJSON_AddStringToObject(root, "stamp", text);
    rc__json_reply(200, root, out);
}

static void rc__key_invalidate(rc_server *srv, const rc_admin_cmd *cmd, const char *subject,
                               uint64_t now_ms, rc_admin_reply *out)
{
    rc_store_key key = {.ns = rc__slice(cmd->ns, cmd->ns_len),
                        .key = rc__slice(cmd->name, cmd->name_len)};
    uint64_t version = 0;
    int rc = rc_svc_invalidate_key(srv, NULL, &key, cmd->mode, now_ms, &version);
    rc_log_info("admin: [%s] %s invalidation of key '%s' in namespace '%s': %s", subject,
                rc__mode_name(cmd->mode), cmd->name, cmd->ns, rc == 0 ? "found" : rc_strerror(rc));
    if (rc != 0 && rc != RC_EMISS) {
        rc_admin_api_error(rc__status_for(rc), rc_strerror(rc), out);
        return;
    }
    cJSON *root = cJSON_CreateObject();
    cJSON_AddStringToObject(root, "namespace", cmd->ns);
    cJSON_AddStringToObject(root, "key", cmd->name);
    cJSON_AddStringToObject(root, "mode", rc__mode_name(cmd->mode));
    cJSON_AddBoolToObject(root, "found", rc == 0);
    rc__num(root, "version", version);
    rc__json_reply(200, root, out);
}

static void rc__flush(rc_server *srv, const char *subject, rc_admin_reply *out)
{
    rc_store_totals before;
    rc_store_totals_get(srv->store, &before);
    rc_svc_flush(srv, NULL);
    rc_log_info("admin: [%s] flush: %llu entries dropped", subject,
                (unsigned long long)before.entries);
    cJSON *root = cJSON_CreateObject();
    cJSON_AddBoolToObject(root, "flushed", true);
    rc__num(root, "entries_before", before.entries);
    rc__json_reply(200, root, out);
}

void rc_admin_api_run(rc_server *srv, const rc_admin_cmd *cmd, const char *subject, bool ready,
                      rc_admin_reply *out)
{
    memset(out, 0, sizeof(*out));
    switch (cmd->route) {
    case RC_ADMIN_METRICS:
        rc__metrics(srv, out);
        return;
    case RC_ADMIN_HEALTH:
        rc__health(srv, out);
        return;
    case RC_ADMIN_READY:
        rc__ready(srv, ready, out);
        return;
    case RC_ADMIN_STATS:
        rc__stats(srv, out);
        return;
    case RC_ADMIN_CONFIG:
        rc__config(srv, out);
        return;
    case RC_ADMIN_NAMESPACES:
        rc__namespaces(srv, out);
        return;
    case RC_ADMIN_NAMESPACE:
        rc__namespace(srv, cmd, out);
        return;
    case RC_ADMIN_NS_CONFIG:
        rc__ns_config(srv, cmd, subject, out);
        return;
    case RC_ADMIN_NS_BUMP:
        rc__bump(srv, cmd, subject, out);
        return;
    case RC_ADMIN_TAG_INVALIDATE:
        rc__tag_invalidate(srv, cmd, subject, out);
        return;
    case RC_ADMIN_KEY_INVALIDATE:
        rc__key_invalidate(srv, cmd, subject, uv_hrtime() / 1000000u, out);
        return;
    case RC_ADMIN_FLUSH:
        rc__flush(srv, subject, out);
        return;
    case RC_ADMIN_CLUSTER:
        rc__cluster(srv, out);
        return;
    }
    rc_admin_api_error(500, "unknown route", out);
}
