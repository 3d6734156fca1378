/*
 * rb_opts.c - parsing, usage and JSON dump for the RB_OPTIONS table.
 *
 * Defaults are parsed by the same code as user input, so a default that
 * does not parse is caught by the first run of any test.  Range checks that
 * depend on several options live with the code that uses them (rb_main.c).
 */
#define _POSIX_C_SOURCE 200809L
#include "rb_opts.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "recache/rc_errors.h"

/* Parse one value of the given kind into the field; 0 or RC_EINVAL. */
static int rb__set_int(long long *dst, const char *v)
{
    char *end;
    errno = 0;
    long long x = strtoll(v, &end, 10);
    if (errno || end == v || *end)
        return RC_EINVAL;
    *dst = x;
    return 0;
}

static int rb__set_dbl(double *dst, const char *v)
{
    char *end;
    errno = 0;
    double x = strtod(v, &end);
    if (errno || end == v || *end)
        return RC_EINVAL;
    *dst = x;
    return 0;
}

static int rb__set_str(const char **dst, const char *v)
{
    *dst = v;
    return 0;
}

#define RB__SETTER_INT rb__set_int
#define RB__SETTER_DBL rb__set_dbl
#define RB__SETTER_STR rb__set_str

void rb_opts_defaults(rb_opts *o)
{
    memset(o, 0, sizeof(*o));
#define RB__OPT_DEF(kind, f, name, def, help) (void)RB__SETTER_##kind(&o->f, def);
    RB_OPTIONS(RB__OPT_DEF)
#undef RB__OPT_DEF
}

/* Set option `name` to `value`; RC_EINVAL for an unknown name or bad value. */
static int rb__set(rb_opts *o, const char *name, size_t nlen, const char *value)
{
#define RB__OPT_SET(kind, f, flag, def, help)                                                      \
    if (strlen(flag) == nlen && memcmp(flag, name, nlen) == 0)                                     \
        return RB__SETTER_##kind(&o->f, value);
    RB_OPTIONS(RB__OPT_SET)
#undef RB__OPT_SET
    return RC_EINVAL;
}

int rb_opts_parse(rb_opts *o, int argc, char **argv)
{
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
            o->help = 1;
            continue;
        }
        if (strncmp(a, "--", 2) != 0) {
            if (o->npos >= 3) {
                fprintf(stderr, "recache-bench: too many arguments at '%s'\n", a);
                return RC_EINVAL;
            }
            o->pos[o->npos++] = a;
            continue;
        }
        const char *name = a + 2, *eq = strchr(name, '=');
        size_t nlen = eq ? (size_t)(eq - name) : strlen(name);
        const char *value = eq ? eq + 1 : (i + 1 < argc ? argv[++i] : NULL);
        if (!value || rb__set(o, name, nlen, value) != 0) {
            fprintf(stderr, "recache-bench: bad or unknown option '%s' (see --help)\n", a);
            return RC_EINVAL;
        }
    }
    return 0;
}

/*
 * The churn preset, as option name and value pairs parsed like user input.
 * Frequent events from one control connection: a bump every 250 ms, a tag
 * invalidation every 7 ms (alternately a product and a segment), a key
 * invalidation every 9 ms and a DELETE every 23 ms, half of the tag and key
 * invalidations soft; lease reads that park up to 200 ms; 20% writes over a
 * Zipf-skewed user set (the hot users get concurrent writers from every
 * connection); 2 writes or fills in 1000 carry a 1 MiB value, and each such
 * fill is chased by a hard invalidation of one of its tags; two L1 readers,
 * one through an L1 subscribed to the bench's namespace, one through an L1
 * subscribed to another namespace only (its reads must bypass it).  Every
 * other second is calm (no bump, tag invalidation or chase), so the L1s
 * keep entries long enough for a key event that never comes to matter.
 */
static const char *const rb__churn[][2] = {
    {"mode", "lease"},        {"lease-wait-ms", "200"},
    {"read-pct", "80"},       {"users", "20000"},
    {"items", "20"},          {"origin-ms", "2"},
    {"connections", "8"},     {"threads", "2"},
    {"pipeline", "4"},        {"bump-every", "250"},
    {"tag-every", "7"},       {"key-every", "9"},
    {"delete-every", "23"},   {"soft-pct", "50"},
    {"products", "200"},      {"tags", "2"},
    {"segments", "32"},       {"big-permille", "2"},
    {"big-bytes", "1048576"}, {"chase", "1"},
    {"calm-ms", "1000"},      {"l1", "2"},
    {"l1-filter", "mixed"},   {"warmup", "1"},
};

void rb_opts_churn(rb_opts *o)
{
    for (size_t i = 0; i < sizeof(rb__churn) / sizeof(rb__churn[0]); i++)
        (void)rb__set(o, rb__churn[i][0], strlen(rb__churn[i][0]), rb__churn[i][1]);
}

void rb_opts_usage(FILE *out)
{
    fputs(
        "usage: recache-bench [run] [options]          load test (default)\n"
        "       recache-bench herd [options]           K readers of one missing key\n"
        "       recache-bench replay FILE [options]    replay a key trace (get, set on miss)\n"
        "       recache-bench clocksim FILE --capacity N   reference CLOCK (or --policy sieve)\n"
        "       recache-bench gentrace [options]       print a Zipf key trace\n"
        "       recache-bench invalcost [options]      bump / tag invalidation cost, then writes\n"
        "       recache-bench --cluster H:P,H:P,...    the workload over a cluster (rc_cluster)\n"
        "options (--name VALUE or --name=VALUE):\n",
        out);
#define RB__OPT_USAGE(kind, f, flag, def, help)                                                    \
    fprintf(out, "  --%-20s %s (default: %s)\n", flag, help, (def)[0] ? (def) : "none");
    RB_OPTIONS(RB__OPT_USAGE)
#undef RB__OPT_USAGE
    fputs("  --help                 this text\n", out);
}

void rb_opts_json(const rb_opts *o, rb_json *j, const char *key)
{
    rb_json_open(j, key, '{');
#define RB__JSON_INT(j, name, v)               rb_json_int(j, name, v)
#define RB__JSON_DBL(j, name, v)               rb_json_dbl(j, name, v)
#define RB__JSON_STR(j, name, v)               rb_json_str(j, name, v)
#define RB__OPT_JSON(kind, f, flag, def, help) RB__JSON_##kind(j, flag, o->f);
    RB_OPTIONS(RB__OPT_JSON)
#undef RB__OPT_JSON
    rb_json_close(j, '}');
}
