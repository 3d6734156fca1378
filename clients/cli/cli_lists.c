/*
 * cli_lists.c - recache-cli's list and suppression commands (see
 * cli_lists.h).  Arguments are parsed completely before anything is sent,
 * so a malformed item or id changes nothing on the server.
 */
#include "cli_lists.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* cli__parse_id - a decimal u64 item id ending at `end` (or the string's end). */
static int cli__parse_id(const char *s, const char *end, uint64_t *out)
{
    char *stop;
    errno = 0;
    if (s[0] < '0' || s[0] > '9')
        goto bad;
    unsigned long long v = strtoull(s, &stop, 10);
    if (errno != 0 || stop == s || (end ? stop != end : *stop != '\0'))
        goto bad;
    *out = v;
    return 0;
bad:
    fprintf(stderr, "error: bad item id '%.*s' (a decimal number up to 2^64-1)\n",
            end ? (int)(end - s) : (int)strlen(s), s);
    return -1;
}

/* cli_lists_parse_ids - n ids from argv-style strings into a malloc'ed array (see cli_lists.h). */
uint64_t *cli_lists_parse_ids(const char *const *args, int n)
{
    uint64_t *ids = calloc((size_t)n + 1u, sizeof(*ids));
    if (ids == NULL)
        return NULL;
    for (int i = 0; i < n; i++)
        if (cli__parse_id(args[i], NULL, &ids[i]) != 0) {
            free(ids);
            return NULL;
        }
    return ids;
}

int cli_lists_set(rc_client *c, rc_cluster *cl, const char *ns, const char *key,
                  const char *const *items, int n, const rc_set_options *set)
{
    rc_list_item *list = calloc((size_t)n + 1u, sizeof(*list));
    if (list == NULL)
        return RC_ENOMEM;
    for (int i = 0; i < n; i++) {
        const char *colon = strchr(items[i], ':');
        list[i].score = 1.0f / (float)(i + 1);
        if (cli__parse_id(items[i], colon, &list[i].id) != 0)
            goto usage;
        if (colon != NULL) {
            char *stop;
            errno = 0;
            float score = strtof(colon + 1, &stop);
            if (errno != 0 || stop == colon + 1 || *stop != '\0' || !isfinite(score)) {
                fprintf(stderr, "error: bad score in '%s' (ID:SCORE, a finite number)\n", items[i]);
                goto usage;
            }
            list[i].score = score;
        }
    }
    rc_write_info info;
    int err = cl ? rc_cluster_list_set(cl, ns, key, strlen(key), list, (size_t)n, set, &info)
                 : rc_list_set(c, ns, key, strlen(key), list, (size_t)n, set, &info);
    free(list);
    if (err)
        return err;
    printf("OK ns_version=%" PRIu64 " entry_version=%" PRIu64 " items=%d\n", info.ns_version,
           info.entry_version, n);
    return 0;
usage:
    free(list);
    return CLI_LISTS_USAGE;
}

/* cli__parse_exclude - "ID,ID,..." into a malloc'ed array (NULL and 0 for none). */
static int cli__parse_exclude(const char *s, uint64_t **out, size_t *n)
{
    *out = NULL;
    *n = 0;
    if (s == NULL || *s == '\0')
        return 0;
    size_t commas = 0;
    for (const char *p = s; *p; p++)
        commas += *p == ',';
    uint64_t *ids = calloc(commas + 1u, sizeof(*ids));
    if (ids == NULL)
        return RC_ENOMEM;
    for (const char *p = s;; p++) {
        const char *end = strchr(p, ',');
        if (cli__parse_id(p, end, &ids[*n]) != 0) {
            free(ids);
            *n = 0;
            return CLI_LISTS_USAGE;
        }
        (*n)++;
        if (end == NULL)
            break;
        p = end;
    }
    *out = ids;
    return 0;
}

int cli_lists_get(rc_client *c, rc_cluster *cl, const char *ns, const char *key,
                  const rc_get_options *get, uint32_t top, const char *exclude, int verbose)
{
    rc_list_get_options o = {.version = get->version, .min_version = get->min_version, .top = top};
    uint64_t *ids;
    int err = cli__parse_exclude(exclude, &ids, &o.nexclude);
    if (err)
        return err;
    o.exclude = ids;
    rc_list l;
    err = cl ? rc_cluster_list_get(cl, ns, key, strlen(key), &o, &l)
             : rc_list_get(c, ns, key, strlen(key), &o, &l);
    free(ids);
    if (err) {
        if (err == RC_EMISS && verbose)
            fprintf(stderr, "ns_version %" PRIu64 "\n", l.ns_version);
        return err;
    }
    for (size_t i = 0; i < l.n; i++)
        printf("%" PRIu64 " %g\n", l.items[i].id, (double)l.items[i].score);
    if (verbose) {
        fprintf(stderr, "items %zu\nns_version %" PRIu64 "\nentry_version %" PRIu64 "\n", l.n,
                l.ns_version, l.entry_version);
        if (l.ttl_left_ms == RC_TTL_NONE)
            fprintf(stderr, "ttl_ms none\n");
        else
            fprintf(stderr, "ttl_ms %" PRIu32 "\n", l.ttl_left_ms);
        fprintf(stderr, "state %s\n", l.stale ? "stale" : "fresh");
    }
    rc_list_free(&l);
    return 0;
}

int cli_lists_remove(rc_client *c, rc_cluster *cl, const char *ns, const char *key,
                     const char *const *args, int n, uint64_t version)
{
    uint64_t *ids = cli_lists_parse_ids(args, n);
    if (ids == NULL)
        return CLI_LISTS_USAGE;
    size_t removed;
    int err =
        cl ? rc_cluster_list_remove(cl, ns, key, strlen(key), ids, (size_t)n, version, &removed)
           : rc_list_remove(c, ns, key, strlen(key), ids, (size_t)n, version, &removed);
    free(ids);
    if (err)
        return err;
    printf("removed %zu\n", removed);
    return 0;
}

int cli_lists_suppress(rc_client *c, const char *ns, const char *const *args, int n,
                       uint32_t ttl_ms, int unsuppress)
{
    uint64_t *ids = cli_lists_parse_ids(args, n);
    if (ids == NULL)
        return CLI_LISTS_USAGE;
    uint64_t stamp;
    int err = unsuppress ? rc_unsuppress(c, ns, ids, (size_t)n, &stamp)
                         : rc_suppress(c, ns, ids, (size_t)n, ttl_ms, &stamp);
    free(ids);
    if (err)
        return err;
    printf("OK stamp=%" PRIu64 "\n", stamp);
    return 0;
}

int cli_lists_suppressed(rc_client *c, const char *ns)
{
    rc_suppression *s;
    size_t n;
    int err = rc_suppressed(c, ns, &s, &n);
    if (err)
        return err;
    for (size_t i = 0; i < n; i++) {
        if (s[i].ttl_left_ms == RC_TTL_NONE)
            printf("%" PRIu64 " ttl_ms=none stamp=%" PRIu64 "\n", s[i].id, s[i].stamp);
        else
            printf("%" PRIu64 " ttl_ms=%" PRIu32 " stamp=%" PRIu64 "\n", s[i].id, s[i].ttl_left_ms,
                   s[i].stamp);
    }
    free(s);
    return 0;
}
