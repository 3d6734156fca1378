/*
 * recache_cli.c - recache-cli, the command-line tool for humans.
 *
 *   recache-cli [-H HOST] [-p PORT | --cluster HOST:PORT,...] [--timeout MS] [-v] COMMAND ...
 *
 * Design.  Two tables drive everything: the command options (X-macro
 * CLI_OPTIONS: name, argument, help) and the commands (name, positional
 * argument range, which options they accept, handler, help), so --help,
 * argument checking, dispatch and the manual page (--man, installed as
 * recache-cli(1)) all come from one place.  A handler gets
 * the connected client and the parsed arguments, performs one library call
 * and prints its result; the library's return code becomes the exit status.
 *
 * Exit status: 0 success, 1 miss (not found), 2 error (message on stderr),
 * 3 a condition or a lost lease rejected the write (message on stderr).
 *
 * Leases: `lget` is the raw lease read (value on stdout, the outcome as
 * `state=... lease=... [token=HEX]` on stderr, so scripts can take the
 * token), `fill` the matching SET carrying that token.
 *
 * Values: `set` and `fill` take VALUE as an argument, `-` to read it from
 * stdin, or --value-file FILE; any bytes, up to the server's max-value
 * (the library refuses a larger value before sending it).  The value is
 * read before connecting, so a missing file costs no connection.
 *
 * Subscribe: `subscribe [NS...]` prints the node's invalidation events one
 * line each ("seq=N kind=key ns=... version=... key=... mode=hard cause=set"), for
 * humans watching what invalidates what; --count N stops after N events.
 */
#define _POSIX_C_SOURCE 200809L

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "cli_lists.h"
#include "recache/recache.h"

#define CLI_DEFAULT_HOST "127.0.0.1"
#define CLI_DEFAULT_PORT 7400
/* Largest value read from stdin or a file: the largest max-value any server accepts. */
#define CLI_MAX_VALUE_BYTES ((size_t)1 << 30)

/* Command options: X(ID, "name", "ARG" or NULL for a flag, "help"). */
#define CLI_OPTIONS(X)                                                                             \
    X(TTL, "ttl", "MS", "time to live in milliseconds (default: the namespace's)")                 \
    X(STALE, "stale", "MS", "stale window after expiry in milliseconds")                           \
    X(FLAGS, "flags", "N", "client flags stored with the value")                                   \
    X(IF_ABSENT, "if-absent", NULL, "store only if the key has no live entry")                     \
    X(IF_NEWER, "if-newer", "VER",                                                                 \
      "stamp entry version VER; store only if the stored one is older")                            \
    X(CAS, "cas", "VER", "store only if the stored entry version is VER")                          \
    X(ENTRY_VERSION, "entry-version", "VER", "entry version to stamp on the value")                \
    X(TAG, "tag", "TAG", "attach a tag (repeat for several)")                                      \
    X(VERSION, "version", "VER", "namespace version: current or a number")                         \
    X(MIN_VERSION, "min-version", "VER", "make the node adopt at least this version first")        \
    X(TO, "to", "VER", "target version (default: current + 1)")                                    \
    X(SOFT, "soft", NULL, "soft invalidation: entries become stale instead of misses")             \
    X(RAW, "raw", NULL, "print the value's bytes exactly, without a newline")                      \
    X(WAIT, "wait", "MS", "on a held miss, let the server park the read up to MS ms")              \
    X(FROM, "from", "SEQ", "resume after event SEQ (with --instance): missed events are replayed") \
    X(INSTANCE, "instance", "ID", "instance id SEQ came from (as printed by subscribe)")           \
    X(MAX_EVENTS, "count", "N", "exit after N events (heartbeats not counted)")                    \
    X(VALUE_FILE, "value-file", "FILE", "read the value from FILE instead of the VALUE argument")  \
    X(TOP, "top", "N", "at most N items (default: all)")                                           \
    X(EXCLUDE, "exclude", "ID,...", "leave these item ids out of this read")

enum cli_option_id {
#define CLI_OPT_ENUM(id, name, arg, help) CLI_OPT_##id,
    CLI_OPTIONS(CLI_OPT_ENUM)
#undef CLI_OPT_ENUM
        CLI_OPT_COUNT
};

typedef struct cli_option {
    const char *name;
    const char *arg;
    const char *help;
} cli_option;

static const cli_option cli_options[CLI_OPT_COUNT] = {
#define CLI_OPT_ROW(id, name, arg, help) [CLI_OPT_##id] = {name, arg, help},
    CLI_OPTIONS(CLI_OPT_ROW)
#undef CLI_OPT_ROW
};

#define OPT(id) (1u << CLI_OPT_##id)

typedef int (*cli_handler)(rc_client *c, cli_args *a);

typedef struct cli_command {
    const char *name;
    const char *usage; /* positional arguments */
    int min_args;
    int max_args; /* -1: unbounded (up to CLI_MAX_POSITIONAL) */
    unsigned options;
    cli_handler run;
    const char *help;
} cli_command;

/* ---- result reporting ------------------------------------------------------------------------ */

/*
 * cli_fail - map a library return code to the exit status, printing the
 * reason on stderr (with the server's own message when it sent one).
 */
int cli_fail(rc_client *c, int err)
{
    const char *detail = c ? rc_client_error_message(c) : "";
    if (err == RC_EMISS) {
        fprintf(stderr, "(miss) %s\n", rc_strerror(err));
        return CLI_MISS;
    }
    if (err == RC_EEXISTS || err == RC_ENOT_NEWER || err == RC_ECAS_MISMATCH ||
        err == RC_ELEASE_REJECTED) {
        fprintf(stderr, "rejected: %s\n", rc_strerror(err));
        return CLI_REJECTED;
    }
    if (detail[0] != '\0' && strcmp(detail, rc_strerror(err)) != 0)
        fprintf(stderr, "error: %s: %s\n", rc_strerror(err), detail);
    else
        fprintf(stderr, "error: %s\n", rc_strerror(err));
    return CLI_ERROR;
}

/* cli_print_text - print a server text report, ending with exactly one newline. */
void cli_print_text(const char *text)
{
    size_t len = strlen(text);
    fputs(text, stdout);
    if (len == 0 || text[len - 1] != '\n')
        fputc('\n', stdout);
}

/* ---- number parsing ---------------------------------------------------------------------------
 */

/* cli_parse_u64 - a whole decimal number within max.  0 or -1 (message printed). */
static int cli_parse_u64(const char *what, const char *s, uint64_t max, uint64_t *out)
{
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (s[0] == '\0' || s[0] == '-' || *end != '\0' || errno == ERANGE || v > max) {
        fprintf(stderr, "error: %s: '%s' is not a number in 0..%" PRIu64 "\n", what, s, max);
        return -1;
    }
    *out = v;
    return 0;
}

int cli_parse_u32(const char *what, const char *s, uint32_t *out)
{
    uint64_t v;
    if (cli_parse_u64(what, s, UINT32_MAX, &v))
        return -1;
    *out = (uint32_t)v;
    return 0;
}

/* cli_parse_version - "current" (0) or a positive version number. */
static int cli_parse_version(const char *what, const char *s, uint64_t *out)
{
    if (strcmp(s, "current") == 0) {
        *out = 0;
        return 0;
    }
    return cli_parse_u64(what, s, UINT64_MAX, out);
}

/* ---- option parsing ---------------------------------------------------------------------------
 */

/* cli_apply_option - store one option's value in *a.  0 or -1 (message printed). */
static int cli_apply_option(enum cli_option_id id, const char *val, cli_args *a)
{
    const char *name = cli_options[id].name;
    switch (id) {
    case CLI_OPT_TTL:
        return cli_parse_u32(name, val, &a->set.ttl_ms);
    case CLI_OPT_STALE:
        return cli_parse_u32(name, val, &a->set.stale_ms);
    case CLI_OPT_FLAGS:
        return cli_parse_u32(name, val, &a->set.client_flags);
    case CLI_OPT_IF_ABSENT:
        a->set.cond = RC_SET_IF_ABSENT;
        a->conditions++;
        return 0;
    case CLI_OPT_IF_NEWER:
        a->set.cond = RC_SET_IF_NEWER;
        a->conditions++;
        return cli_parse_u64(name, val, UINT64_MAX, &a->set.entry_version);
    case CLI_OPT_CAS:
        a->set.cond = RC_SET_CAS;
        a->conditions++;
        return cli_parse_u64(name, val, UINT64_MAX, &a->set.cas_version);
    case CLI_OPT_ENTRY_VERSION:
        return cli_parse_u64(name, val, UINT64_MAX, &a->set.entry_version);
    case CLI_OPT_TAG:
        if (a->set.ntags == CLI_MAX_TAGS) {
            fprintf(stderr, "error: at most %d tags\n", CLI_MAX_TAGS);
            return -1;
        }
        a->tags[a->set.ntags++] = val;
        return 0;
    case CLI_OPT_VERSION:
        if (cli_parse_version(name, val, &a->get.version))
            return -1;
        a->set.version = a->get.version;
        return 0;
    case CLI_OPT_MIN_VERSION:
        return cli_parse_u64(name, val, UINT64_MAX, &a->get.min_version);
    case CLI_OPT_TO:
        return cli_parse_u64(name, val, UINT64_MAX, &a->bump_to);
    case CLI_OPT_SOFT:
        a->soft = 1;
        return 0;
    case CLI_OPT_RAW:
        a->raw = 1;
        return 0;
    case CLI_OPT_WAIT:
        return cli_parse_u32(name, val, &a->wait_ms);
    case CLI_OPT_FROM:
        return cli_parse_u64(name, val, UINT64_MAX, &a->from_seq);
    case CLI_OPT_INSTANCE:
        return cli_parse_u64(name, val, UINT64_MAX, &a->instance);
    case CLI_OPT_MAX_EVENTS:
        return cli_parse_u64(name, val, UINT64_MAX, &a->count);
    case CLI_OPT_VALUE_FILE:
        a->value_file = val;
        return 0;
    case CLI_OPT_TOP:
        return cli_parse_u32(name, val, &a->top);
    case CLI_OPT_EXCLUDE:
        a->exclude = val;
        return 0;
    default:
        return -1;
    }
}

/* cli_find_option - the id of "--name" among the allowed options, or -1. */
static int cli_find_option(const char *arg, unsigned allowed)
{
    for (int id = 0; id < CLI_OPT_COUNT; id++)
        if ((allowed & (1u << id)) && strcmp(arg + 2, cli_options[id].name) == 0)
            return id;
    return -1;
}

/*
 * cli_parse_command_args - split argv (after the command name) into
 * positional arguments and the options the command accepts.  "--" ends
 * option parsing (so a value may start with "--").  0 or -1 (message printed).
 */
static int cli_parse_command_args(const cli_command *cmd, int argc, char **argv, cli_args *a)
{
    int options_done = 0;
    for (int i = 0; i < argc; i++) {
        const char *arg = argv[i];
        if (!options_done && strcmp(arg, "--") == 0) {
            options_done = 1;
        } else if (!options_done && (strcmp(arg, "-v") == 0 || strcmp(arg, "--verbose") == 0)) {
            a->verbose = 1;
        } else if (!options_done && strncmp(arg, "--", 2) == 0) {
            int id = cli_find_option(arg, cmd->options);
            if (id < 0) {
                fprintf(stderr, "error: %s does not take option %s (see --help)\n", cmd->name, arg);
                return -1;
            }
            const char *val = NULL;
            if (cli_options[id].arg != NULL) {
                if (i + 1 >= argc) {
                    fprintf(stderr, "error: %s needs a value\n", arg);
                    return -1;
                }
                val = argv[++i];
            }
            if (cli_apply_option((enum cli_option_id)id, val, a))
                return -1;
        } else if (a->npos == CLI_MAX_POSITIONAL) {
            fprintf(stderr, "error: too many arguments\n");
            return -1;
        } else {
            a->pos[a->npos++] = arg;
        }
    }
    int max = cmd->max_args < 0 ? CLI_MAX_POSITIONAL : cmd->max_args;
    if (a->npos < cmd->min_args || a->npos > max) {
        fprintf(stderr, "usage: recache-cli %s %s\n", cmd->name, cmd->usage);
        return -1;
    }
    if (a->conditions > 1) {
        fprintf(stderr, "error: --if-absent, --if-newer and --cas exclude each other\n");
        return -1;
    }
    a->set.tags = a->tags;
    return 0;
}

/* ---- command handlers -------------------------------------------------------------------------
 */

static int cmd_ping(rc_client *c, cli_args *a)
{
    (void)a;
    int err = rc_ping(c);
    if (err)
        return cli_fail(c, err);
    puts("PONG");
    return CLI_OK;
}

static int cmd_set(rc_client *c, cli_args *a)
{
    rc_write_info info;
    int err =
        rc_set(c, a->pos[0], a->pos[1], strlen(a->pos[1]), a->value, a->value_len, &a->set, &info);
    if (err)
        return cli_fail(c, err);
    printf("OK ns_version=%" PRIu64 " entry_version=%" PRIu64 "\n", info.ns_version,
           info.entry_version);
    return CLI_OK;
}

/* cli_print_value_meta - the -v report of a read, on stderr so stdout stays the value. */
void cli_print_value_meta(const rc_value *v)
{
    fprintf(stderr, "ns_version %" PRIu64 "\n", v->ns_version);
    fprintf(stderr, "entry_version %" PRIu64 "\n", v->entry_version);
    fprintf(stderr, "flags %" PRIu32 "\n", v->client_flags);
    if (v->ttl_left_ms == RC_TTL_NONE)
        fprintf(stderr, "ttl_ms none\n");
    else
        fprintf(stderr, "ttl_ms %" PRIu32 "\n", v->ttl_left_ms);
    fprintf(stderr, "state %s\n", v->stale ? "stale" : "fresh");
}

static int cmd_get(rc_client *c, cli_args *a)
{
    rc_value v;
    int err = rc_get(c, a->pos[0], a->pos[1], strlen(a->pos[1]), &a->get, &v);
    if (err) {
        if (err == RC_EMISS && a->verbose)
            fprintf(stderr, "ns_version %" PRIu64 "\n", v.ns_version);
        return cli_fail(c, err);
    }
    fwrite(v.data, 1, v.len, stdout);
    if (!a->raw)
        fputc('\n', stdout);
    if (a->verbose)
        cli_print_value_meta(&v);
    rc_value_free(&v);
    return CLI_OK;
}

/* cli_print_lease_state - the lease read's outcome line on stderr (stdout stays the value). */
void cli_print_lease_state(const rc_lease_result *r)
{
    static const char *const leases[] = {"none", "granted", "held"};
    const char *state = !r->hit ? "miss" : r->value.stale ? "stale" : "fresh";
    const char *lease = r->lease >= 0 && r->lease <= 2 ? leases[r->lease] : "unknown";
    fprintf(stderr, "state=%s lease=%s", state, lease);
    if (r->lease == RC_LGET_LEASE_GRANTED) {
        fputs(" token=", stderr);
        for (size_t i = 0; i < RC_LEASE_TOKEN_SIZE; i++)
            fprintf(stderr, "%02x", r->token.bytes[i]);
    }
    fputc('\n', stderr);
}

/*
 * lget NS KEY: exit 0 on a hit (fresh or stale), 1 on a miss (whether or not
 * this reader won the lease), 2 when the lease is held elsewhere, the wait
 * timed out, or any other error.
 */
static int cmd_lget(rc_client *c, cli_args *a)
{
    rc_lease_result r;
    rc_lget_options o = {
        .version = a->get.version, .min_version = a->get.min_version, .wait_ms = a->wait_ms};
    int err = rc_lget(c, a->pos[0], a->pos[1], strlen(a->pos[1]), &o, &r);
    if (err == 0 || err == RC_EMISS || err == RC_ELEASE_HELD)
        cli_print_lease_state(&r);
    if (err == RC_EMISS)
        return CLI_MISS;
    if (err)
        return cli_fail(c, err);
    fwrite(r.value.data, 1, r.value.len, stdout);
    if (!a->raw)
        fputc('\n', stdout);
    if (a->verbose)
        cli_print_value_meta(&r.value);
    rc_lease_result_free(&r);
    return CLI_OK;
}

/* cli_parse_token - exactly 32 hex digits into a token.  0 or -1 (message printed). */
int cli_parse_token(const char *s, rc_lease_token *t)
{
    if (strlen(s) != 2 * RC_LEASE_TOKEN_SIZE) {
        fprintf(stderr, "error: a token is %d hex digits\n", 2 * RC_LEASE_TOKEN_SIZE);
        return -1;
    }
    for (size_t i = 0; i < RC_LEASE_TOKEN_SIZE; i++) {
        unsigned byte = 0;
        for (size_t j = 0; j < 2; j++) {
            int ch = (unsigned char)s[2 * i + j];
            if (!isxdigit(ch)) {
                fprintf(stderr, "error: token '%s' is not hexadecimal\n", s);
                return -1;
            }
            byte = byte * 16 + (unsigned)(isdigit(ch) ? ch - '0' : tolower(ch) - 'a' + 10);
        }
        t->bytes[i] = (uint8_t)byte;
    }
    return 0;
}

/* fill NS KEY TOKEN VALUE: exit 0 stored, 3 the lease is gone (rejected), 2 errors. */
static int cmd_fill(rc_client *c, cli_args *a)
{
    rc_lease_token token;
    rc_write_info info;
    if (cli_parse_token(a->pos[2], &token))
        return CLI_ERROR;
    int err = rc_fill(c, a->pos[0], a->pos[1], strlen(a->pos[1]), &token, a->value, a->value_len,
                      &a->set, &info);
    if (err)
        return cli_fail(c, err);
    printf("OK ns_version=%" PRIu64 " entry_version=%" PRIu64 "\n", info.ns_version,
           info.entry_version);
    return CLI_OK;
}

static int cmd_del(rc_client *c, cli_args *a)
{
    int err = rc_delete(c, a->pos[0], a->pos[1], strlen(a->pos[1]), a->get.version);
    if (err)
        return cli_fail(c, err);
    puts("DELETED");
    return CLI_OK;
}

static int cmd_touch(rc_client *c, cli_args *a)
{
    uint32_t ttl;
    if (cli_parse_u32("ttl", a->pos[2], &ttl))
        return CLI_ERROR;
    int err = rc_touch(c, a->pos[0], a->pos[1], strlen(a->pos[1]), ttl, a->get.version);
    if (err)
        return cli_fail(c, err);
    puts("TOUCHED");
    return CLI_OK;
}

static int cmd_stats(rc_client *c, cli_args *a)
{
    char *text;
    int err = rc_stats(c, a->npos > 0 ? a->pos[0] : NULL, &text);
    if (err)
        return cli_fail(c, err);
    cli_print_text(text);
    free(text);
    return CLI_OK;
}

static int cmd_bump(rc_client *c, cli_args *a)
{
    uint64_t version;
    int err = rc_bump(c, a->pos[0], a->bump_to, &version);
    if (err)
        return cli_fail(c, err);
    printf("%" PRIu64 "\n", version);
    return CLI_OK;
}

static int cmd_ns_info(rc_client *c, cli_args *a)
{
    char *text;
    uint64_t version;
    int err = rc_ns_info(c, a->pos[0], &text, &version);
    if (err)
        return cli_fail(c, err);
    cli_print_text(text);
    free(text);
    return CLI_OK;
}

/* ns-config NS KEY=VALUE...: the settings travel newline-separated. */
static int cmd_ns_config(rc_client *c, cli_args *a)
{
    size_t len = 1;
    for (int i = 1; i < a->npos; i++)
        len += strlen(a->pos[i]) + 1;
    char *settings = malloc(len);
    if (settings == NULL)
        return cli_fail(c, RC_ENOMEM);
    settings[0] = '\0';
    for (int i = 1; i < a->npos; i++) {
        if (strchr(a->pos[i], '=') == NULL) {
            fprintf(stderr, "error: setting '%s' is not KEY=VALUE\n", a->pos[i]);
            free(settings);
            return CLI_ERROR;
        }
        strcat(settings, a->pos[i]);
        strcat(settings, "\n");
    }
    char *text;
    int err = rc_ns_config(c, a->pos[0], settings, &text);
    free(settings);
    if (err)
        return cli_fail(c, err);
    cli_print_text(text);
    free(text);
    return CLI_OK;
}

static int cmd_invalidate_tag(rc_client *c, cli_args *a)
{
    uint64_t stamp;
    int err = rc_invalidate_tag(c, a->pos[0], a->soft ? RC_SOFT : RC_HARD, &stamp);
    if (err)
        return cli_fail(c, err);
    printf("OK stamp=%" PRIu64 "\n", stamp);
    return CLI_OK;
}

static int cmd_invalidate_key(rc_client *c, cli_args *a)
{
    int err = rc_invalidate_key(c, a->pos[0], a->pos[1], strlen(a->pos[1]),
                                a->soft ? RC_SOFT : RC_HARD, a->get.version);
    if (err)
        return cli_fail(c, err);
    puts("OK");
    return CLI_OK;
}

static int cmd_flush(rc_client *c, cli_args *a)
{
    (void)a;
    int err = rc_flush(c);
    if (err)
        return cli_fail(c, err);
    puts("OK");
    return CLI_OK;
}

static int cmd_hello(rc_client *c, cli_args *a)
{
    (void)a;
    const rc_server_info *info = rc_server_info_get(c);
    printf("server_version %s\n", info->server_version);
    printf("protocol_version %u\n", (unsigned)info->protocol_version);
    printf("instance_id %016" PRIx64 "\n", info->instance_id);
    printf("max_frame %" PRIu32 "\n", info->max_frame);
    printf("max_value %" PRIu32 "\n", info->max_value);
    printf("max_key %u\n", (unsigned)info->max_key);
    printf("max_tags %u\n", (unsigned)info->max_tags);
    printf("max_tag_len %u\n", (unsigned)info->max_tag_len);
    return CLI_OK;
}

/* cli_print_bytes - " name=" and the bytes, non-printable ones (and '\\') as \xNN. */
static void cli_print_bytes(const char *name, const void *p, size_t len)
{
    const unsigned char *b = p;
    printf(" %s=", name);
    for (size_t i = 0; i < len; i++) {
        if (isgraph(b[i]) && b[i] != '\\')
            putchar(b[i]);
        else
            printf("\\x%02x", b[i]);
    }
}

/* cli_print_event - one event as one line: seq, kind, then the fields that kind uses. */
void cli_print_event(const rc_event *ev)
{
    printf("seq=%" PRIu64 " kind=%s", ev->seq, rc_event_kind_name(ev->kind));
    if (ev->kind == RC_EVENT_KEY || ev->kind == RC_EVENT_BUMP) {
        cli_print_bytes("ns", ev->ns, ev->ns_len);
        printf(" version=%" PRIu64, ev->ns_version);
    }
    if (ev->kind == RC_EVENT_KEY)
        cli_print_bytes("key", ev->key, ev->key_len);
    if (ev->kind == RC_EVENT_TAG)
        cli_print_bytes("tag", ev->tag, ev->tag_len);
    if (ev->kind == RC_EVENT_KEY || ev->kind == RC_EVENT_TAG)
        printf(" mode=%s", ev->mode == RC_SOFT ? "soft" : "hard");
    if (ev->kind == RC_EVENT_KEY && ev->text_len > 0) /* set, delete, invalidate or touch */
        printf(" cause=%.*s", (int)ev->text_len, ev->text);
    if (ev->kind == RC_EVENT_CLOSING)
        printf(" reason=%.*s", (int)ev->text_len, ev->text);
    if (ev->kind == RC_EVENT_SUPPRESS || ev->kind == RC_EVENT_UNSUPPRESS) {
        cli_print_bytes("ns", ev->ns, ev->ns_len);
        printf(" ids=");
        for (size_t i = 0; i < rc_event_id_count(ev); i++)
            printf("%s%" PRIu64, i ? "," : "", rc_event_id(ev, i));
    }
    putchar('\n');
    fflush(stdout);
}

/*
 * subscribe [NS...]: print pushed events, one line each, until --count
 * events were printed (exit 0) or the channel closes (exit 2).  Heartbeats
 * are shown with -v only.  The node's position goes to stderr first, as
 * "subscribed seq=N instance=ID", so a later run can resume with --from and
 * --instance.
 */
/* cluster-info: only meaningful with --cluster (cli_cluster.c); here it explains that. */
static int cmd_cluster_info(rc_client *c, cli_args *a)
{
    (void)c;
    (void)a;
    fprintf(stderr, "error: cluster-info needs --cluster HOST:PORT,HOST:PORT,...\n");
    return CLI_ERROR;
}

static int cmd_subscribe(rc_client *c, cli_args *a)
{
    uint64_t seq, instance, printed = 0;
    int err = rc_subscribe(c, a->pos, (size_t)a->npos, a->from_seq, a->instance, &seq, &instance);
    if (err)
        return cli_fail(c, err);
    fprintf(stderr, "subscribed seq=%" PRIu64 " instance=%" PRIu64 "\n", seq, instance);
    while (a->count == 0 || printed < a->count) {
        rc_event ev;
        err = rc_next_event(c, 1000, &ev);
        if (err == RC_ETIMEDOUT)
            continue; /* a quiet channel: keep listening */
        if (err)
            return cli_fail(c, err);
        if (ev.kind == RC_EVENT_HEARTBEAT && !a->verbose)
            continue;
        cli_print_event(&ev);
        if (ev.kind != RC_EVENT_HEARTBEAT)
            printed++;
    }
    return CLI_OK;
}

/* ---- lists and suppression (cli_lists.h) ---------------------------------------------------- */

/* cli_lists_status - the exit status of a cli_lists_* result (errors reported here). */
static int cli_lists_status(rc_client *c, int rc)
{
    if (rc < 0)
        return cli_fail(c, rc);
    return rc == CLI_LISTS_USAGE ? CLI_ERROR : CLI_OK;
}

static int cmd_list_set(rc_client *c, cli_args *a)
{
    return cli_lists_status(
        c, cli_lists_set(c, NULL, a->pos[0], a->pos[1], a->pos + 2, a->npos - 2, &a->set));
}

static int cmd_list_get(rc_client *c, cli_args *a)
{
    return cli_lists_status(
        c, cli_lists_get(c, NULL, a->pos[0], a->pos[1], &a->get, a->top, a->exclude, a->verbose));
}

static int cmd_list_remove(rc_client *c, cli_args *a)
{
    return cli_lists_status(c, cli_lists_remove(c, NULL, a->pos[0], a->pos[1], a->pos + 2,
                                                a->npos - 2, a->get.version));
}

static int cmd_suppress(rc_client *c, cli_args *a)
{
    return cli_lists_status(
        c, cli_lists_suppress(c, a->pos[0], a->pos + 1, a->npos - 1, a->set.ttl_ms, 0));
}

static int cmd_unsuppress(rc_client *c, cli_args *a)
{
    return cli_lists_status(c, cli_lists_suppress(c, a->pos[0], a->pos + 1, a->npos - 1, 0, 1));
}

static int cmd_suppressed(rc_client *c, cli_args *a)
{
    return cli_lists_status(c, cli_lists_suppressed(c, a->pos[0]));
}

#define SET_OPTIONS                                                                                \
    (OPT(TTL) | OPT(STALE) | OPT(FLAGS) | OPT(IF_ABSENT) | OPT(IF_NEWER) | OPT(CAS) |              \
     OPT(ENTRY_VERSION) | OPT(TAG) | OPT(VERSION))

static const cli_command cli_commands[] = {
    {"ping", "", 0, 0, 0, cmd_ping, "check the server answers"},
    {"set", "NS KEY [VALUE|-]", 2, 3, SET_OPTIONS | OPT(VALUE_FILE), cmd_set,
     "store VALUE ('-': read it from stdin; or --value-file FILE) (exit 3 if a condition rejects "
     "it)"},
    {"get", "NS KEY", 2, 2, OPT(VERSION) | OPT(MIN_VERSION) | OPT(RAW), cmd_get,
     "print a value (exit 1 on a miss; -v: metadata on stderr)"},
    {"lget", "NS KEY", 2, 2, OPT(WAIT) | OPT(VERSION) | OPT(MIN_VERSION) | OPT(RAW), cmd_lget,
     "lease read: value on stdout, 'state=fresh|stale|miss lease=none|granted|held "
     "[token=HEX]' on stderr (exit 0 hit, 1 miss, 2 lease held or wait timed out)"},
    {"fill", "NS KEY TOKEN [VALUE|-]", 3, 4,
     OPT(TTL) | OPT(STALE) | OPT(FLAGS) | OPT(ENTRY_VERSION) | OPT(TAG) | OPT(VERSION) |
         OPT(VALUE_FILE),
     cmd_fill,
     "store VALUE ('-': stdin; or --value-file FILE) under the lease TOKEN from lget (exit 3 if "
     "the lease is no longer current)"},
    {"del", "NS KEY", 2, 2, OPT(VERSION), cmd_del, "delete a key (exit 1 if absent)"},
    {"touch", "NS KEY MS", 3, 3, OPT(VERSION), cmd_touch, "give a live entry a new TTL"},
    {"stats", "[NS]", 0, 1, 0, cmd_stats, "server statistics, or one namespace's"},
    {"bump", "NS", 1, 1, OPT(TO), cmd_bump, "make the next (or --to) version current; prints it"},
    {"ns-info", "NS", 1, 1, 0, cmd_ns_info, "namespace version, settings and counters"},
    {"ns-config", "NS KEY=VALUE...", 2, -1, 0, cmd_ns_config, "change namespace settings"},
    {"invalidate-tag", "TAG", 1, 1, OPT(SOFT), cmd_invalidate_tag,
     "invalidate every entry carrying TAG"},
    {"invalidate-key", "NS KEY", 2, 2, OPT(SOFT) | OPT(VERSION), cmd_invalidate_key,
     "invalidate one key (hard: miss; --soft: stale)"},
    {"flush", "", 0, 0, 0, cmd_flush, "drop every entry on the server"},
    {"hello", "", 0, 0, 0, cmd_hello, "show the server's version and limits"},
    {"subscribe", "[NS...]", 0, -1, OPT(FROM) | OPT(INSTANCE) | OPT(MAX_EVENTS), cmd_subscribe,
     "print invalidation events one per line (all namespaces, or the NS given; -v: heartbeats "
     "too)"},
    {"list-set", "NS KEY ID[:SCORE]...", 2, -1, SET_OPTIONS, cmd_list_set,
     "store a list: items in rank order (no SCORE: 1/rank); no item stores an empty list"},
    {"list-get", "NS KEY", 2, 2, OPT(TOP) | OPT(EXCLUDE) | OPT(VERSION) | OPT(MIN_VERSION),
     cmd_list_get,
     "print a list, 'ID SCORE' per line, without suppressed and excluded items (exit 1 on a "
     "miss)"},
    {"list-remove", "NS KEY ID...", 3, -1, OPT(VERSION), cmd_list_remove,
     "remove items from one list in place (exit 1 if the list is absent)"},
    {"suppress", "NS ID...", 2, -1, OPT(TTL), cmd_suppress,
     "hide item ids from every list of NS (--ttl: for MS milliseconds)"},
    {"unsuppress", "NS ID...", 2, -1, 0, cmd_unsuppress, "stop hiding item ids in NS"},
    {"suppressed", "NS", 1, 1, 0, cmd_suppressed,
     "list NS's suppressed ids: 'ID ttl_ms=MS|none stamp=STAMP' per line"},
    {"cluster-info", "[NS...]", 0, -1, 0, cmd_cluster_info,
     "with --cluster: every node's state and counters, and each NS's version per node"},
};

#define CLI_NCOMMANDS (sizeof cli_commands / sizeof cli_commands[0])

/* ---- top level --------------------------------------------------------------------------------
 */

static void cli_usage(FILE *out)
{
    fprintf(out,
            "usage: recache-cli [-H HOST] [-p PORT] [--timeout MS] [-v] COMMAND ARGS... "
            "[OPTIONS]\n\n"
            "  -H, --host HOST   server address or name (default %s)\n"
            "  -p, --port PORT   server port (default %d)\n"
            "  --timeout MS      connect and per-request timeout (default 5000)\n"
            "  --cluster LIST    run against a cluster: HOST:PORT,HOST:PORT,... (keys routed by\n"
            "                    rendezvous hashing with failover; broadcasts print one line\n"
            "                    per node and exit 4 unless every node acknowledged)\n"
            "  -v, --verbose     more detail (get: metadata on stderr)\n"
            "  -h, --help        this text\n"
            "  --version         the version of recache-cli\n"
            "  --man             this manual as a roff page (what man recache-cli shows)\n"
            "\ncommands:\n",
            CLI_DEFAULT_HOST, CLI_DEFAULT_PORT);
    for (size_t i = 0; i < CLI_NCOMMANDS; i++) {
        const cli_command *cmd = &cli_commands[i];
        fprintf(out, "  %s%s%s\n      %s\n", cmd->name, cmd->usage[0] ? " " : "", cmd->usage,
                cmd->help);
        for (int id = 0; id < CLI_OPT_COUNT; id++) {
            if (!(cmd->options & (1u << id)))
                continue;
            const cli_option *o = &cli_options[id];
            fprintf(out, "      --%s%s%s: %s\n", o->name, o->arg ? " " : "", o->arg ? o->arg : "",
                    o->help);
        }
    }
    fprintf(out, "\nexit status: 0 success, 1 miss, 2 error, 3 write rejected by a condition "
                 "or a lost lease, 4 (--cluster) a node did not acknowledge\n");
}

static const cli_command *cli_find_command(const char *name)
{
    for (size_t i = 0; i < CLI_NCOMMANDS; i++)
        if (strcmp(cli_commands[i].name, name) == 0)
            return &cli_commands[i];
    return NULL;
}

/* ---- values and keys ------------------------------------------------------------------------ */

/*
 * cli_read_value - read all of f (named `what` in messages) into a malloc'ed
 * buffer, at most CLI_MAX_VALUE_BYTES.  0 and *buf / *len, or -1 (message
 * printed).
 */
static int cli_read_value(FILE *f, const char *what, char **buf, size_t *len)
{
    size_t cap = 64 * 1024, n = 0;
    char *data = NULL;
    for (;;) {
        char *p = realloc(data, cap);
        if (p == NULL) {
            fprintf(stderr, "error: out of memory reading the value from %s\n", what);
            free(data);
            return -1;
        }
        data = p;
        n += fread(data + n, 1, cap - n, f);
        if (n < cap || n > CLI_MAX_VALUE_BYTES)
            break;
        cap = cap * 2 > CLI_MAX_VALUE_BYTES ? CLI_MAX_VALUE_BYTES + 1 : cap * 2;
    }
    if (ferror(f) || n > CLI_MAX_VALUE_BYTES) {
        if (ferror(f))
            fprintf(stderr, "error: cannot read the value from %s: %s\n", what, strerror(errno));
        else
            fprintf(stderr,
                    "error: the value from %s is larger than %zu bytes, more than any server "
                    "accepts\n",
                    what, CLI_MAX_VALUE_BYTES);
        free(data);
        return -1;
    }
    *buf = data;
    *len = n;
    return 0;
}

/*
 * cli_load_value - the value of set / fill: its argument (the last
 * positional), stdin for "-", or --value-file.  Exactly one source.  0 or
 * -1 (message printed).
 */
static int cli_load_value(const cli_command *cmd, cli_args *a)
{
    int at = cmd->max_args - 1; /* VALUE is the optional last argument */
    const char *arg = a->npos > at ? a->pos[at] : NULL;
    if (arg != NULL && a->value_file != NULL) {
        fprintf(stderr, "error: %s takes the value from VALUE or --value-file, not both\n",
                cmd->name);
        return -1;
    }
    if (arg == NULL && a->value_file == NULL) {
        fprintf(stderr, "error: %s needs a value: VALUE, '-' to read stdin, or --value-file FILE\n",
                cmd->name);
        return -1;
    }
    if (arg != NULL && strcmp(arg, "-") != 0) {
        a->value = arg;
        a->value_len = strlen(arg);
        return 0;
    }
    const char *path = a->value_file;
    bool use_stdin = arg != NULL || strcmp(path, "-") == 0;
    FILE *f = use_stdin ? stdin : fopen(path, "rb");
    if (f == NULL) {
        fprintf(stderr, "error: cannot open value file '%s': %s\n", path, strerror(errno));
        return -1;
    }
    int rc = cli_read_value(f, use_stdin ? "stdin" : path, &a->value_buf, &a->value_len);
    if (!use_stdin)
        fclose(f);
    a->value = a->value_buf;
    return rc;
}

/*
 * cli_check_names - a namespace or key given as an empty string gets its
 * own message (the library would only say "invalid argument").  Commands
 * whose usage starts with "NS" take a namespace first, with the word "KEY"
 * next a key second.  0 or -1 (message printed).
 */
static int cli_check_names(const cli_command *cmd, const cli_args *a)
{
    if (strncmp(cmd->usage, "NS", 2) == 0 && a->npos > 0 && a->pos[0][0] == '\0') {
        fprintf(stderr, "error: the namespace name is empty (give 1 to 255 bytes)\n");
        return -1;
    }
    int takes_key = strncmp(cmd->usage, "NS KEY", 6) == 0 &&
                    (cmd->usage[6] == ' ' || cmd->usage[6] == '\0'); /* not ns-config's KEY=VALUE */
    if (takes_key && a->npos > 1 && a->pos[1][0] == '\0') {
        fprintf(stderr, "error: the key is empty (a key is 1 byte up to the server's max-key)\n");
        return -1;
    }
    return 0;
}

/* ---- global options and connecting ----------------------------------------------------------- */

/* Connection settings from the global options. */
typedef struct cli_global {
    rc_client_options conn;
    const char *cluster; /* --cluster HOST:PORT,...: run against a cluster */
    int verbose;
    int help;
    int version;
    int man;
} cli_global;

/* cli_parse_port - "1".."65535" into *port.  0 or -1 (one message printed). */
static int cli_parse_port(const char *s, uint16_t *port)
{
    char *end;
    errno = 0;
    unsigned long v = strtoul(s, &end, 10);
    if (s[0] < '0' || s[0] > '9' || *end != '\0' || errno == ERANGE || v == 0 || v > 65535) {
        fprintf(stderr, "error: port: '%s' is not a port number (1..65535)\n", s);
        return -1;
    }
    *port = (uint16_t)v;
    return 0;
}

/*
 * cli_parse_global - consume the options before the command.  Returns the
 * index of the command name in argv, argc when none is left, or -1 (message
 * printed).  -h is help; the host is -H / --host.  A -h followed by more
 * arguments is refused rather than ignored: old scripts wrote -h HOST, and
 * printing help with exit 0 would hide that their command never ran.
 */
static int cli_parse_global(int argc, char **argv, cli_global *g)
{
    int i = 1;
    for (; i < argc && argv[i][0] == '-'; i++) {
        const char *arg = argv[i];
        if (strcmp(arg, "-h") == 0 && i + 1 < argc) {
            fprintf(stderr, "error: -h is --help; give the host with -H HOST or --host HOST\n");
            return -1;
        }
        if (strcmp(arg, "--help") == 0 || strcmp(arg, "-h") == 0) {
            g->help = 1;
            continue;
        }
        if (strcmp(arg, "--version") == 0) {
            g->version = 1;
            continue;
        }
        if (strcmp(arg, "--man") == 0) {
            g->man = 1;
            continue;
        }
        if (strcmp(arg, "-v") == 0 || strcmp(arg, "--verbose") == 0) {
            g->verbose = 1;
            continue;
        }
        int takes_value = strcmp(arg, "-H") == 0 || strcmp(arg, "--host") == 0 ||
                          strcmp(arg, "-p") == 0 || strcmp(arg, "--port") == 0 ||
                          strcmp(arg, "--timeout") == 0 || strcmp(arg, "--cluster") == 0;
        if (!takes_value) {
            fprintf(stderr, "error: unknown option %s (see --help)\n", arg);
            return -1;
        }
        if (i + 1 >= argc) {
            fprintf(stderr, "error: %s needs a value\n", arg);
            return -1;
        }
        const char *val = argv[++i];
        uint32_t n;
        if (strcmp(arg, "--cluster") == 0) {
            g->cluster = val;
        } else if (strcmp(arg, "-H") == 0 || strcmp(arg, "--host") == 0) {
            g->conn.host = val;
        } else if (strcmp(arg, "-p") == 0 || strcmp(arg, "--port") == 0) {
            if (cli_parse_port(val, &g->conn.port))
                return -1;
        } else {
            if (cli_parse_u32("timeout", val, &n))
                return -1;
            if (n == 0) {
                fprintf(stderr, "error: timeout: must be at least 1 ms\n");
                return -1;
            }
            g->conn.connect_timeout_ms = g->conn.io_timeout_ms = n;
        }
    }
    return i;
}

/* cli_connect_failed - why rc_connect failed, with what to check.  Returns CLI_ERROR. */
static int cli_connect_failed(const cli_global *g, int err)
{
    const char *host = g->conn.host;
    int v6 = strchr(host, ':') != NULL;
    char where[300];
    snprintf(where, sizeof where, "%s%s%s:%u", v6 ? "[" : "", host, v6 ? "]" : "",
             (unsigned)g->conn.port);
    if (err == RC_ECONNECT)
        fprintf(stderr,
                "error: cannot connect to %s: nothing accepts connections there (is "
                "recache-server running, listening on that address and port? see -H/--host, "
                "-p/--port)\n",
                where);
    else if (err == RC_ETIMEDOUT)
        fprintf(stderr,
                "error: cannot connect to %s: no answer within %u ms (is the host reachable, or "
                "a firewall dropping the connection?)\n",
                where, (unsigned)(g->conn.connect_timeout_ms ? g->conn.connect_timeout_ms : 2000));
    else if (err == RC_ERESOLVE)
        fprintf(stderr, "error: cannot resolve host '%s' (see -H/--host)\n", host);
    else
        fprintf(stderr, "error: cannot connect to %s: %s\n", where, rc_strerror(err));
    return CLI_ERROR;
}

/* cli_run - parse the command's arguments, load its value, connect, run it.  Exit status. */
static int cli_run(const cli_global *g, const cli_command *cmd, int argc, char **argv)
{
    cli_args args = {0};
    args.verbose = g->verbose;
    args.set.stale_ms = RC_STALE_DEFAULT;
    if (cli_parse_command_args(cmd, argc, argv, &args) || cli_check_names(cmd, &args))
        return CLI_ERROR;
    if ((cmd->options & OPT(VALUE_FILE)) && cli_load_value(cmd, &args))
        return CLI_ERROR;

    if (g->cluster != NULL) {
        int status = cli_cluster_run(g->cluster, &g->conn, cmd->name, &args);
        if (status < 0) {
            fprintf(stderr, "error: %s is not available with --cluster\n", cmd->name);
            status = CLI_ERROR;
        }
        free(args.value_buf);
        return status;
    }
    rc_client *c = NULL;
    int err = rc_connect(&g->conn, &c);
    int status = err ? cli_connect_failed(g, err) : cmd->run(c, &args);
    rc_close(c);
    free(args.value_buf);
    return status;
}

/* ---- manual page ---------------------------------------------------------------------------- */

/* cli_man_text - s as roff text: backslashes and dashes escaped, never a control line. */
static void cli_man_text(FILE *out, const char *s)
{
    fputs(*s == '.' || *s == '\'' ? "\\&" : "", out);
    for (; *s != '\0'; s++)
        fputs(*s == '-' ? "\\-" : *s == '\\' ? "\\e" : (char[]){*s, '\0'}, out);
}

/*
 * cli_man - the recache-cli(1) manual page (roff), generated from the same
 * tables as --help: every command with its arguments, help and options.
 */
static void cli_man(FILE *out)
{
    fprintf(
        out,
        ".\\\" Generated from the command tables (clients/cli/recache_cli.c); do not edit.\n"
        ".TH RECACHE\\-CLI 1 \"\" \"recache %s\" \"User Commands\"\n"
        ".SH NAME\nrecache\\-cli \\- command\\-line client of the recache server\n"
        ".SH SYNOPSIS\n.B recache\\-cli\n[\\fB\\-H\\fR \\fIHOST\\fR] [\\fB\\-p\\fR \\fIPORT\\fR] "
        "[\\fB\\-\\-timeout\\fR \\fIMS\\fR] [\\fB\\-v\\fR] \\fICOMMAND\\fR [\\fIARGS\\fR...] "
        "[\\fIOPTIONS\\fR]\n"
        ".SH DESCRIPTION\nrecache\\-cli connects to one recache\\-server, runs one command "
        "through librecache and prints its result: values on standard output, metadata "
        "(\\fB\\-v\\fR) and errors on standard error.  A value comes from an argument, from "
        "standard input (\\fB\\-\\fR) or from a file (\\fB\\-\\-value\\-file\\fR), so any "
        "bytes up to the server's max\\-value can be stored.\n"
        ".SH GLOBAL OPTIONS\n"
        ".TP\n\\fB\\-H\\fR, \\fB\\-\\-host\\fR \\fIHOST\\fR\nServer address or name "
        "(default %s).\n"
        ".TP\n\\fB\\-p\\fR, \\fB\\-\\-port\\fR \\fIPORT\\fR\nServer port (default %d).\n"
        ".TP\n\\fB\\-\\-timeout\\fR \\fIMS\\fR\nConnect and per\\-request timeout "
        "(default 5000).\n"
        ".TP\n\\fB\\-v\\fR, \\fB\\-\\-verbose\\fR\nMore detail (get: metadata on standard "
        "error).\n"
        ".TP\n\\fB\\-h\\fR, \\fB\\-\\-help\\fR\nList commands and options.\n"
        ".TP\n\\fB\\-\\-version\\fR\nPrint the version.\n"
        ".TP\n\\fB\\-\\-man\\fR\nPrint this manual page as roff.\n"
        ".SH COMMANDS\n",
        RECACHE_CLIENT_VERSION, CLI_DEFAULT_HOST, CLI_DEFAULT_PORT);
    for (size_t i = 0; i < CLI_NCOMMANDS; i++) {
        const cli_command *cmd = &cli_commands[i];
        fputs(".TP\n\\fB", out);
        cli_man_text(out, cmd->name);
        fputs("\\fR ", out);
        cli_man_text(out, cmd->usage);
        fputs("\n", out);
        cli_man_text(out, cmd->help);
        fputs(".\n", out);
        for (int id = 0; id < CLI_OPT_COUNT; id++) {
            if (!(cmd->options & (1u << id)))
                continue;
            fputs(".br\n\\fB\\-\\-", out);
            cli_man_text(out, cli_options[id].name);
            fputs("\\fR", out);
            if (cli_options[id].arg != NULL) {
                fputs(" \\fI", out);
                cli_man_text(out, cli_options[id].arg);
                fputs("\\fR", out);
            }
            fputs(": ", out);
            cli_man_text(out, cli_options[id].help);
            fputs("\n", out);
        }
    }
    fputs(".SH EXIT STATUS\n.TP\n0\nSuccess.\n.TP\n1\nMiss: the key was not found.\n"
          ".TP\n2\nError (the message on standard error says why).\n"
          ".TP\n3\nA write rejected by its condition or by a lost lease.\n"
          ".SH SEE ALSO\nrecache\\-server(1)\n",
          out);
}

int main(int argc, char **argv)
{
    cli_global g = {.conn = {.host = CLI_DEFAULT_HOST, .port = CLI_DEFAULT_PORT}};
    int at = cli_parse_global(argc, argv, &g);
    if (at < 0)
        return CLI_ERROR;
    if (g.help) {
        cli_usage(stdout);
        return CLI_OK;
    }
    if (g.version) {
        printf("recache-cli %s\n", RECACHE_CLIENT_VERSION);
        return CLI_OK;
    }
    if (g.man) {
        cli_man(stdout);
        return fflush(stdout) == 0 ? CLI_OK : CLI_ERROR;
    }
    if (at >= argc) {
        cli_usage(stderr);
        return CLI_ERROR;
    }
    const cli_command *cmd = cli_find_command(argv[at]);
    if (cmd == NULL) {
        fprintf(stderr, "error: unknown command '%s' (see --help)\n", argv[at]);
        return CLI_ERROR;
    }
    int status = cli_run(&g, cmd, argc - at - 1, argv + at + 1);
    if (fflush(stdout) != 0) {
        fprintf(stderr, "error: writing output failed\n");
        return CLI_ERROR;
    }
    return status;
}
