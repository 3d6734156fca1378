/*
 * cli.h - what recache-cli's files share: exit statuses, the parsed command
 * arguments, and the reporting helpers (defined in recache_cli.c).
 *
 * recache_cli.c parses the command line and runs commands against one
 * server; cli_cluster.c runs them against a cluster (--cluster), with the
 * same arguments and the same output, plus one line per node for
 * broadcasts.
 */
#ifndef RECACHE_CLI_H
#define RECACHE_CLI_H

#include <stddef.h>
#include <stdint.h>

#include "recache/recache.h"

#define CLI_MAX_POSITIONAL 64
#define CLI_MAX_TAGS       255

enum cli_exit {
    CLI_OK = 0,
    CLI_MISS = 1,
    CLI_ERROR = 2,
    CLI_REJECTED = 3,
    CLI_PARTIAL = 4, /* a broadcast some node of the cluster did not acknowledge */
};

/* Everything a command handler needs, filled by the parser. */
typedef struct cli_args {
    const char *pos[CLI_MAX_POSITIONAL];
    int npos;
    int verbose;
    int raw;
    int soft;
    int conditions; /* how many of --if-absent / --if-newer / --cas were given */
    rc_set_options set;
    rc_get_options get;
    uint64_t bump_to;
    uint32_t wait_ms;
    uint64_t from_seq;
    uint64_t instance;
    uint64_t count; /* 0 = unlimited */
    const char *tags[CLI_MAX_TAGS];
    const char *value_file; /* --value-file */
    const char *value;      /* the value of set / fill (argument, stdin or file) */
    size_t value_len;
    char *value_buf; /* owns value when it was read */
} cli_args;

/* cli_fail - report err on stderr (with c's server message, c may be NULL); the exit status. */
int cli_fail(rc_client *c, int err);
/* cli_print_text - print a server text report, ending with exactly one newline. */
void cli_print_text(const char *text);
/* cli_parse_u32 - a decimal u32 argument; 0 or -1 (message printed). */
int cli_parse_u32(const char *what, const char *s, uint32_t *out);
/* cli_print_value_meta - the -v report of a read, on stderr. */
void cli_print_value_meta(const rc_value *v);
/* cli_print_lease_state - a lease read's outcome line on stderr. */
void cli_print_lease_state(const rc_lease_result *r);
/* cli_parse_token - 32 hex digits into a token; 0 or -1 (message printed). */
int cli_parse_token(const char *s, rc_lease_token *t);
/* cli_print_event - one subscribe event as one line on stdout. */
void cli_print_event(const rc_event *ev);

/*
 * cli_cluster_run - run command `name` against the cluster described by
 * spec ("HOST:PORT,HOST:PORT,..."), with conn's timeouts.  Returns the exit
 * status, or -1 when the command has no cluster form (nothing was done).
 */
int cli_cluster_run(const char *spec, const rc_client_options *conn, const char *name, cli_args *a);

#endif /* RECACHE_CLI_H */
