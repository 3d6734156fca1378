/*
 * cli_lists.h - recache-cli's list and suppression commands (list-set,
 * list-get, list-remove, suppress, unsuppress, suppressed).
 *
 * Design.  recache_cli.c parses the command line (its option table has
 * --top, --exclude and the SET options) and calls these with the parsed
 * values; this module parses item and id arguments, calls librecache and
 * prints the result on stdout.  Each function returns 0 on success, a
 * negative RC_E* code from the library (the caller reports it and picks
 * the exit status), or CLI_LISTS_USAGE after printing why an argument is
 * malformed.  The list commands take a client (one server) or a cluster
 * (--cluster: routed by rc_cluster); exactly one of c and cl is not NULL.  Output formats:
 *   list-get    one "ID SCORE" line per item, in rank order
 *   suppressed  one "ID ttl_ms=MS|none stamp=STAMP" line per suppression
 */
#ifndef RECACHE_CLI_LISTS_H
#define RECACHE_CLI_LISTS_H

#include <stdint.h>

#include "recache/recache.h"

#define CLI_LISTS_USAGE 1

/* list-set NS KEY ID[:SCORE]...: a missing score ranks items 1/rank (1, 0.5, 0.33...). */
int cli_lists_set(rc_client *c, rc_cluster *cl, const char *ns, const char *key,
                  const char *const *items, int n, const rc_set_options *set);

/* list-get NS KEY [--top N] [--exclude ID,...]; verbose adds the metadata on stderr. */
int cli_lists_get(rc_client *c, rc_cluster *cl, const char *ns, const char *key,
                  const rc_get_options *get, uint32_t top, const char *exclude, int verbose);

/* list-remove NS KEY ID...: prints "removed N". */
int cli_lists_remove(rc_client *c, rc_cluster *cl, const char *ns, const char *key,
                     const char *const *ids, int n, uint64_t version);

/* suppress NS ID... [--ttl MS] / unsuppress NS ID...: print "OK stamp=STAMP". */
int cli_lists_suppress(rc_client *c, const char *ns, const char *const *ids, int n, uint32_t ttl_ms,
                       int unsuppress);

/* cli_lists_parse_ids - n decimal ids into a malloc'ed array; NULL after printing why not. */
uint64_t *cli_lists_parse_ids(const char *const *args, int n);

/* suppressed NS: the live suppressions. */
int cli_lists_suppressed(rc_client *c, const char *ns);

#endif /* RECACHE_CLI_LISTS_H */
