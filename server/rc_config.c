/*
 * rc_config.c - option table, parsers and validation (see rc_config.h).
 *
 * RC_CONFIG_OPTIONS is expanded once into rc__options[], a descriptor per
 * option holding its field offset, so every generic operation (set, reset
 * to default, bounds check, help) is one loop over the descriptors instead
 * of per-option code.  Values are parsed into a temporary first and stored
 * only when valid, so a failed rc_config_set leaves the config unchanged.
 */
#define _POSIX_C_SOURCE 200809L

#include "rc_config.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <netdb.h>
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "rc_alloc.h"
#include "rc_log.h"
#include "recache/rc_errors.h"

typedef enum rc__opt_kind {
    RC__KIND_UINT,
    RC__KIND_SIZE,
    RC__KIND_STRING,
    RC__KIND_LEVEL,
} rc__opt_kind;

typedef struct rc__option {
    const char *name;
    rc__opt_kind kind;
    const char *def;
    uint64_t lo, hi;
    const char *help;
    size_t offset; /* of the field in rc_config */
} rc__option;

static const rc__option rc__options[] = {
#define RC__CFG_DESC(field, name, kind, def, lo, hi, help)                                         \
    {name, RC__KIND_##kind, def, lo, hi, help, offsetof(rc_config, field)},
    RC_CONFIG_OPTIONS(RC__CFG_DESC)
#undef RC__CFG_DESC
};

#define RC__NOPTIONS (sizeof(rc__options) / sizeof(rc__options[0]))

/* Longest option name a flag may carry; longer ones cannot match any option. */
#define RC__NAME_MAX 64

/* Minimum gap between max-frame and max-value + max-key, for headers and fields. */
#define RC__FRAME_SLACK 4096u

/* printf into err (if any); always returns RC_EINVAL so callers can `return rc__fail(...)`. */
static int rc__fail(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int rc__fail(char *err, size_t errlen, const char *fmt, ...)
{
    if (err != NULL && errlen > 0) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err, errlen, fmt, ap);
        va_end(ap);
    }
    return RC_EINVAL;
}

static const rc__option *rc__option_find(const char *name, size_t len)
{
    for (size_t i = 0; i < RC__NOPTIONS; i++) {
        if (strlen(rc__options[i].name) == len && memcmp(rc__options[i].name, name, len) == 0)
            return &rc__options[i];
    }
    return NULL;
}

int rc_config_parse_uint(const char *text, uint64_t *out)
{
    if (!isdigit((unsigned char)text[0]))
        return RC_EINVAL;
    uint64_t v = 0;
    const char *p = text;
    for (; isdigit((unsigned char)*p); p++) {
        unsigned digit = (unsigned)(*p - '0');
        if (v > (UINT64_MAX - digit) / 10)
            return RC_EINVAL;
        v = v * 10 + digit;
    }
    if (*p != '\0')
        return RC_EINVAL;
    *out = v;
    return 0;
}

/* Multiplier for a size suffix (already known to be non-empty or empty), or 0 if unknown. */
static uint64_t rc__size_unit(const char *suffix)
{
    static const struct {
        const char *name;
        uint64_t mult;
    } units[] = {
        {"", 1},       {"b", 1},     {"k", RC_KB},  {"kb", RC_KB}, {"m", RC_MB},
        {"mb", RC_MB}, {"g", RC_GB}, {"gb", RC_GB}, {"t", RC_TB},  {"tb", RC_TB},
    };
    for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
        if (strcasecmp(suffix, units[i].name) == 0)
            return units[i].mult;
    }
    return 0;
}

int rc_config_parse_size(const char *text, uint64_t *out)
{
    char digits[32];
    size_t n = 0;
    while (isdigit((unsigned char)text[n]) && n < sizeof(digits) - 1) {
        digits[n] = text[n];
        n++;
    }
    if (n == 0 || isdigit((unsigned char)text[n]))
        return RC_EINVAL;
    digits[n] = '\0';
    uint64_t count, mult = rc__size_unit(text + n);
    if (mult == 0 || rc_config_parse_uint(digits, &count) != 0)
        return RC_EINVAL;
    if (count > UINT64_MAX / mult)
        return RC_EINVAL;
    *out = count * mult;
    return 0;
}

/* Parse a UINT or SIZE value for opt and check its bounds. */
static int rc__parse_number(const rc__option *opt, const char *value, uint64_t *out, char *err,
                            size_t errlen)
{
    uint64_t v = 0;
    int rc = opt->kind == RC__KIND_SIZE ? rc_config_parse_size(value, &v)
                                        : rc_config_parse_uint(value, &v);
    if (rc != 0) {
        return rc__fail(err, errlen, "%s: '%s' is not %s", opt->name, value,
                        opt->kind == RC__KIND_SIZE ? "a size (like 512kb, 64mb, 1gb or 4096)"
                                                   : "a non-negative integer");
    }
    if (v < opt->lo || v > opt->hi) {
        return rc__fail(err, errlen, "%s: %s is out of range (%llu..%llu)", opt->name, value,
                        (unsigned long long)opt->lo, (unsigned long long)opt->hi);
    }
    *out = v;
    return 0;
}

/* Parse value for opt and store it into cfg; cfg is untouched on failure. */
static int rc__option_apply(rc_config *cfg, const rc__option *opt, const char *value, char *err,
                            size_t errlen)
{
    void *field = (char *)cfg + opt->offset;
    switch (opt->kind) {
    case RC__KIND_UINT:
    case RC__KIND_SIZE: {
        uint64_t v = 0;
        int rc = rc__parse_number(opt, value, &v, err, errlen);
        if (rc != 0)
            return rc;
        *(uint64_t *)field = v;
        return 0;
    }
    case RC__KIND_LEVEL: {
        rc_log_level level;
        if (rc_log_level_parse(value, &level) != 0)
            return rc__fail(err, errlen, "%s: '%s' is not one of error, warn, info, debug",
                            opt->name, value);
        *(int *)field = (int)level;
        return 0;
    }
    case RC__KIND_STRING: {
        char **slot = field;
        free(*slot);
        *slot = rc_xstrdup(value);
        return 0;
    }
    }
    return rc__fail(err, errlen, "%s: option of unknown kind", opt->name);
}

void rc_config_init(rc_config *cfg)
{
    memset(cfg, 0, sizeof(*cfg));
    for (size_t i = 0; i < RC__NOPTIONS; i++) {
        char err[256];
        /* Defaults are parsed like user input; test_config proves each one parses. */
        if (rc__option_apply(cfg, &rc__options[i], rc__options[i].def, err, sizeof(err)) != 0) {
            fprintf(stderr, "recache: bad built-in default: %s\n", err);
            abort();
        }
    }
}

void rc_config_free(rc_config *cfg)
{
    for (size_t i = 0; i < RC__NOPTIONS; i++) {
        if (rc__options[i].kind == RC__KIND_STRING) {
            char **slot = (char **)((char *)cfg + rc__options[i].offset);
            free(*slot);
            *slot = NULL;
        }
    }
    for (size_t i = 0; i < cfg->nnamespaces; i++) {
        free(cfg->namespaces[i].name);
        free(cfg->namespaces[i].settings);
    }
    free(cfg->namespaces);
    cfg->namespaces = NULL;
    cfg->nnamespaces = 0;
    free(cfg->cli_path);
    cfg->cli_path = NULL;
}

int rc_config_set(rc_config *cfg, const char *name, const char *value, char *err, size_t errlen)
{
    const rc__option *opt = rc__option_find(name, strlen(name));
    if (opt == NULL)
        return rc__fail(err, errlen, "unknown option '%s' (see --help)", name);
    return rc__option_apply(cfg, opt, value, err, errlen);
}

/* ---- config file ---------------------------------------------------------------------------- */

/* Trim ASCII whitespace at both ends of s in place; returns the new start. */
static char *rc__trim(char *s)
{
    while (isspace((unsigned char)*s))
        s++;
    size_t n = strlen(s);
    while (n > 0 && isspace((unsigned char)s[n - 1]))
        s[--n] = '\0';
    return s;
}

/* Check that every whitespace-separated token of settings is "name=value". */
static bool rc__settings_well_formed(const char *settings, const char **bad, size_t *badlen)
{
    const char *p = settings;
    while (*p != '\0') {
        while (isspace((unsigned char)*p))
            p++;
        const char *tok = p;
        while (*p != '\0' && !isspace((unsigned char)*p))
            p++;
        if (p == tok)
            break;
        const char *eq = memchr(tok, '=', (size_t)(p - tok));
        if (eq == NULL || eq == tok) {
            *bad = tok;
            *badlen = (size_t)(p - tok);
            return false;
        }
    }
    return true;
}

/* Handle "namespace NAME settings..." (rest = text after the keyword, trimmed). */
static int rc__parse_ns_line(rc_config *cfg, char *rest, const char *source, unsigned lineno,
                             char *err, size_t errlen)
{
    char *name = rest;
    char *p = rest;
    while (*p != '\0' && !isspace((unsigned char)*p))
        p++;
    if (p == name)
        return rc__fail(err, errlen, "%s:%u: namespace line needs a name", source, lineno);
    char *settings = p;
    if (*p != '\0') {
        *p = '\0';
        settings = rc__trim(p + 1);
    }
    const char *bad;
    size_t badlen;
    if (!rc__settings_well_formed(settings, &bad, &badlen))
        return rc__fail(err, errlen, "%s:%u: namespace %s: '%.*s' is not setting=value", source,
                        lineno, name, (int)badlen, bad);
    cfg->namespaces =
        rc_xrealloc(cfg->namespaces, (cfg->nnamespaces + 1) * sizeof(cfg->namespaces[0]));
    rc_config_ns *ns = &cfg->namespaces[cfg->nnamespaces++];
    ns->name = rc_xstrdup(name);
    ns->settings = rc_xstrdup(settings);
    ns->line = lineno;
    return 0;
}

/* Handle one line (NUL-terminated, writable).  Comments and blanks are skipped. */
static int rc__parse_line(rc_config *cfg, char *line, const char *source, unsigned lineno,
                          char *err, size_t errlen)
{
    char *hash = strchr(line, '#');
    if (hash != NULL)
        *hash = '\0';
    line = rc__trim(line);
    if (*line == '\0')
        return 0;
    static const char kw[] = "namespace";
    if (strncmp(line, kw, sizeof(kw) - 1) == 0 && isspace((unsigned char)line[sizeof(kw) - 1]))
        return rc__parse_ns_line(cfg, rc__trim(line + sizeof(kw)), source, lineno, err, errlen);

    char *eq = strchr(line, '=');
    if (eq == NULL)
        return rc__fail(err, errlen,
                        "%s:%u: expected 'name = value' or 'namespace NAME setting=value ...'",
                        source, lineno);
    *eq = '\0';
    char *name = rc__trim(line);
    char *value = rc__trim(eq + 1);
    if (strcmp(name, "config") == 0)
        return rc__fail(err, errlen, "%s:%u: 'config' can only be given on the command line",
                        source, lineno);
    char inner[256];
    if (rc_config_set(cfg, name, value, inner, sizeof(inner)) != 0)
        return rc__fail(err, errlen, "%s:%u: %s", source, lineno, inner);
    return 0;
}

int rc_config_parse_text(rc_config *cfg, const char *text, size_t len, const char *source,
                         char *err, size_t errlen)
{
    size_t pos = 0;
    unsigned lineno = 0;
    while (pos < len) {
        const char *nl = memchr(text + pos, '\n', len - pos);
        size_t end = nl != NULL ? (size_t)(nl - text) : len;
        lineno++;
        if (memchr(text + pos, '\0', end - pos) != NULL)
            return rc__fail(err, errlen, "%s:%u: NUL byte in config text", source, lineno);
        char *line = rc_xstrndup(text + pos, end - pos);
        int rc = rc__parse_line(cfg, line, source, lineno, err, errlen);
        free(line);
        if (rc != 0)
            return rc;
        pos = end + 1;
    }
    return 0;
}

/* Config files are small; anything bigger than this is certainly a mistake. */
#define RC__CONFIG_FILE_MAX (4 * RC_MB)

int rc_config_load_file(rc_config *cfg, const char *path, char *err, size_t errlen)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        return rc__fail(err, errlen, "config: cannot open '%s': %s", path, strerror(errno));
    char *text = rc_xmalloc(RC__CONFIG_FILE_MAX + 1);
    size_t len = fread(text, 1, RC__CONFIG_FILE_MAX + 1, f);
    int failed = ferror(f);
    fclose(f);
    int rc;
    if (failed)
        rc = rc__fail(err, errlen, "config: cannot read '%s'", path);
    else if (len > RC__CONFIG_FILE_MAX)
        rc = rc__fail(err, errlen, "config: '%s' is larger than %llu bytes", path,
                      (unsigned long long)RC__CONFIG_FILE_MAX);
    else
        rc = rc_config_parse_text(cfg, text, len, path, err, errlen);
    free(text);
    return rc;
}

/* ---- command line --------------------------------------------------------------------------- */

/*
 * rc__single_dash - the error for "-p 7400" style arguments: options are
 * long only (-h excepted), so name the long option meant when the letters
 * after the dash begin exactly one option's name, or begin several and
 * one of them is the single shortest ("-p": port, not protected-mode).
 * Always RC_EINVAL.
 */
static int rc__single_dash(const char *arg, char *err, size_t errlen)
{
    const rc__option *match = NULL;
    size_t n = strlen(arg + 1), matches = 0;
    for (size_t i = 0; i < RC__NOPTIONS; i++) {
        if (strncmp(rc__options[i].name, arg + 1, n) != 0)
            continue;
        size_t len = strlen(rc__options[i].name);
        if (match == NULL || len < strlen(match->name)) {
            match = &rc__options[i];
            matches = 1;
        } else if (len == strlen(match->name)) {
            matches++;
        }
    }
    /* -p is the port for every server people know (memcached, redis-cli), though --peers too
     * begins with p. */
    if (strcmp(arg, "-p") == 0) {
        match = rc__option_find("port", 4);
        matches = 1;
    }
    if (matches == 1)
        return rc__fail(err, errlen, "unknown option '%s': options are long, did you mean --%s?",
                        arg, match->name);
    return rc__fail(err, errlen, "unknown option '%s': options are long, --name VALUE (see --help)",
                    arg);
}

/*
 * Split argv[*i] (and possibly argv[*i + 1]) into a flag name and value.
 * name receives a NUL-terminated copy; *value points into argv.  Advances
 * *i past what was consumed.  Returns 0 or RC_EINVAL.
 */
static int rc__next_flag(int argc, char **argv, int *i, char name[RC__NAME_MAX], const char **value,
                         char *err, size_t errlen)
{
    const char *arg = argv[*i];
    if (strcmp(arg, "-h") == 0)
        arg = "--help";
    if (arg[0] == '-' && arg[1] != '-' && arg[1] != '\0')
        return rc__single_dash(arg, err, errlen);
    if (strncmp(arg, "--", 2) != 0 || arg[2] == '\0')
        return rc__fail(err, errlen, "unexpected argument '%s' (options are --name VALUE)", arg);
    const char *body = arg + 2;
    const char *eq = strchr(body, '=');
    size_t namelen = eq != NULL ? (size_t)(eq - body) : strlen(body);
    bool action = (namelen == 4 && memcmp(body, "help", 4) == 0) ||
                  (namelen == 7 && memcmp(body, "version", 7) == 0);
    /* Unknown before anything else: "needs a value" would suggest the name was right. */
    if (namelen >= RC__NAME_MAX || (!action && rc__option_find(body, namelen) == NULL))
        return rc__fail(err, errlen, "unknown option '--%.*s' (see --help)",
                        (int)(namelen < RC__NAME_MAX ? namelen : RC__NAME_MAX), body);
    memcpy(name, body, namelen);
    name[namelen] = '\0';
    (*i)++;
    if (eq != NULL) {
        *value = eq + 1;
        return 0;
    }
    if (action) {
        *value = NULL;
        return 0;
    }
    if (*i >= argc)
        return rc__fail(err, errlen, "option --%s needs a value", name);
    *value = argv[(*i)++];
    return 0;
}

/*
 * First pass: find --help/--version (which win over everything) and the
 * config file path, checking the flag syntax on the way.
 */
static int rc__scan_args(int argc, char **argv, rc_config_action *action, const char **config,
                         char *err, size_t errlen)
{
    char name[RC__NAME_MAX];
    const char *value;
    for (int i = 1; i < argc;) {
        int rc = rc__next_flag(argc, argv, &i, name, &value, err, errlen);
        if (rc != 0)
            return rc;
        if (strcmp(name, "help") == 0)
            *action = RC_CONFIG_HELP;
        else if (strcmp(name, "version") == 0 && *action != RC_CONFIG_HELP)
            *action = RC_CONFIG_VERSION;
        else if (strcmp(name, "config") == 0)
            *config = value;
    }
    return 0;
}

int rc_config_parse_args(rc_config *cfg, int argc, char **argv, rc_config_action *action, char *err,
                         size_t errlen)
{
    const char *config = NULL;
    *action = RC_CONFIG_RUN;
    int rc = rc__scan_args(argc, argv, action, &config, err, errlen);
    if (rc != 0 || *action != RC_CONFIG_RUN)
        return rc;
    if (config != NULL && config[0] != '\0') {
        rc = rc_config_load_file(cfg, config, err, errlen);
        if (rc != 0)
            return rc;
    }
    char name[RC__NAME_MAX];
    const char *value;
    for (int i = 1; i < argc;) {
        rc = rc__next_flag(argc, argv, &i, name, &value, err, errlen);
        if (rc == 0)
            rc = rc_config_set(cfg, name, value, err, errlen);
        if (rc != 0)
            return rc;
    }
    return 0;
}

/* ---- validation and help -------------------------------------------------------------------- */

/* Re-check every numeric bound, in case fields were assigned directly. */
static int rc__validate_bounds(const rc_config *cfg, char *err, size_t errlen)
{
    for (size_t i = 0; i < RC__NOPTIONS; i++) {
        const rc__option *opt = &rc__options[i];
        if (opt->kind != RC__KIND_UINT && opt->kind != RC__KIND_SIZE)
            continue;
        uint64_t v = *(const uint64_t *)((const char *)cfg + opt->offset);
        if (v < opt->lo || v > opt->hi)
            return rc__fail(err, errlen, "%s: %llu is out of range (%llu..%llu)", opt->name,
                            (unsigned long long)v, (unsigned long long)opt->lo,
                            (unsigned long long)opt->hi);
    }
    if (cfg->log_level < 0 || cfg->log_level >= RC_LOG_LEVEL_COUNT)
        return rc__fail(err, errlen, "log-level: %d is not a level", cfg->log_level);
    return 0;
}

static int rc__validate_namespaces(const rc_config *cfg, char *err, size_t errlen)
{
    if (cfg->nnamespaces > cfg->max_namespaces)
        return rc__fail(err, errlen, "%zu namespace lines exceed max-namespaces (%llu)",
                        cfg->nnamespaces, (unsigned long long)cfg->max_namespaces);
    for (size_t i = 0; i < cfg->nnamespaces; i++) {
        const rc_config_ns *ns = &cfg->namespaces[i];
        if (strlen(ns->name) > cfg->max_namespace)
            return rc__fail(
                err, errlen,
                "config line %u: namespace name '%s' is longer than max-namespace (%llu)", ns->line,
                ns->name, (unsigned long long)cfg->max_namespace);
    }
    return 0;
}

/* yes/no options, the admin address, and the admin port's all-or-none TLS files. */
static int rc__validate_admin(const rc_config *cfg, char *err, size_t errlen)
{
    const char *yes_no[][2] = {{"protected-mode", cfg->protected_mode},
                               {"data-port-admin-ops", cfg->data_port_admin_ops}};
    for (size_t i = 0; i < sizeof(yes_no) / sizeof(yes_no[0]); i++) {
        if (strcmp(yes_no[i][1], "yes") != 0 && strcmp(yes_no[i][1], "no") != 0)
            return rc__fail(err, errlen, "%s: '%s' is not yes or no", yes_no[i][0], yes_no[i][1]);
    }
    unsigned char addr[sizeof(struct in6_addr)];
    if (inet_pton(AF_INET, cfg->admin_bind, addr) != 1 &&
        inet_pton(AF_INET6, cfg->admin_bind, addr) != 1)
        return rc__fail(err, errlen, "admin-bind: '%s' is not an IPv4 or IPv6 address",
                        cfg->admin_bind);
    int set =
        (cfg->admin_cert[0] != '\0') + (cfg->admin_key[0] != '\0') + (cfg->admin_ca[0] != '\0');
    if (cfg->admin_port != 0 && set != 0 && set != 3)
        return rc__fail(err, errlen,
                        "the admin port needs all three of admin-cert, admin-key and admin-ca "
                        "(missing:%s%s%s); scripts/gen-certs.sh makes a set",
                        cfg->admin_cert[0] == '\0' ? " admin-cert" : "",
                        cfg->admin_key[0] == '\0' ? " admin-key" : "",
                        cfg->admin_ca[0] == '\0' ? " admin-ca" : "");
    return 0;
}

int rc_config_validate(const rc_config *cfg, char *err, size_t errlen)
{
    int rc = rc__validate_bounds(cfg, err, errlen);
    if (rc != 0)
        return rc;
    unsigned char addr[sizeof(struct in6_addr)];
    if (inet_pton(AF_INET, cfg->bind, addr) != 1 && inet_pton(AF_INET6, cfg->bind, addr) != 1)
        return rc__fail(err, errlen, "bind: '%s' is not an IPv4 or IPv6 address", cfg->bind);
    if ((cfg->shards & (cfg->shards - 1)) != 0)
        return rc__fail(err, errlen, "shards: %llu is not a power of two (or 0 for auto)",
                        (unsigned long long)cfg->shards);
    if (cfg->max_frame < cfg->max_value + cfg->max_key + RC__FRAME_SLACK)
        return rc__fail(err, errlen,
                        "max-frame (%llu) must be at least max-value + max-key + %u (%llu)",
                        (unsigned long long)cfg->max_frame, RC__FRAME_SLACK,
                        (unsigned long long)(cfg->max_value + cfg->max_key + RC__FRAME_SLACK));
    if (cfg->max_output < cfg->max_frame)
        return rc__fail(err, errlen, "max-output (%llu) must be at least max-frame (%llu)",
                        (unsigned long long)cfg->max_output, (unsigned long long)cfg->max_frame);
    if (strcmp(cfg->eviction, "clock") != 0 && strcmp(cfg->eviction, "sieve") != 0)
        return rc__fail(err, errlen, "eviction: '%s' is not clock or sieve", cfg->eviction);
    if (cfg->max_output_total < cfg->max_output)
        return rc__fail(err, errlen, "max-output-total (%llu) must be at least max-output (%llu)",
                        (unsigned long long)cfg->max_output_total,
                        (unsigned long long)cfg->max_output);
    rc = rc__validate_admin(cfg, err, errlen);
    if (rc != 0)
        return rc;
    return rc__validate_namespaces(cfg, err, errlen);
}

int rc_config_resolve_bind(rc_config *cfg, char *err, size_t errlen)
{
    unsigned char addr[sizeof(struct in6_addr)];
    if (inet_pton(AF_INET, cfg->bind, addr) == 1 || inet_pton(AF_INET6, cfg->bind, addr) == 1)
        return 0;
    struct addrinfo hints = {0}, *res = NULL;
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    int gai = cfg->bind[0] != '\0' ? getaddrinfo(cfg->bind, NULL, &hints, &res) : EAI_NONAME;
    if (gai != 0)
        return rc__fail(err, errlen,
                        "bind: '%s' is neither an IPv4/IPv6 address nor a host name "
                        "that resolves (%s)",
                        cfg->bind, gai_strerror(gai));
    const struct addrinfo *pick = NULL;
    for (const struct addrinfo *ai = res; ai != NULL && pick == NULL; ai = ai->ai_next)
        if (ai->ai_family == AF_INET)
            pick = ai;
    for (const struct addrinfo *ai = res; ai != NULL && pick == NULL; ai = ai->ai_next)
        if (ai->ai_family == AF_INET6)
            pick = ai;
    char text[INET6_ADDRSTRLEN] = "";
    int ok = pick != NULL && getnameinfo(pick->ai_addr, pick->ai_addrlen, text, sizeof(text), NULL,
                                         0, NI_NUMERICHOST) == 0;
    freeaddrinfo(res);
    if (!ok)
        return rc__fail(err, errlen, "bind: '%s' has no IPv4 or IPv6 address", cfg->bind);
    free(cfg->bind);
    cfg->bind = rc_xstrdup(text);
    return 0;
}

int rc_config_check_machine(const rc_config *cfg, uint64_t phys_bytes, unsigned cpus, char *err,
                            size_t errlen)
{
    if (phys_bytes > 0 && cfg->memory > phys_bytes)
        return rc__fail(err, errlen,
                        "memory: %llu bytes is more than this machine's physical memory (%llu "
                        "bytes, %.1f GiB); the limit must fit in RAM (leave room for the rest)",
                        (unsigned long long)cfg->memory, (unsigned long long)phys_bytes,
                        (double)phys_bytes / (double)RC_GB);
    uint64_t max_threads = (uint64_t)(cpus > 0 ? cpus : 1) * RC_CONFIG_THREADS_PER_CPU;
    if (max_threads < RC_CONFIG_THREADS_FLOOR)
        max_threads = RC_CONFIG_THREADS_FLOOR;
    if (cfg->threads > max_threads)
        return rc__fail(err, errlen,
                        "threads: %llu workers for %u CPUs is too many (at most %llu here; each "
                        "worker is a thread with its own event loop, so workers beyond the CPUs "
                        "only add switching; 0 = one per CPU)",
                        (unsigned long long)cfg->threads, cpus, (unsigned long long)max_threads);
    return 0;
}

void rc_config_write_example(FILE *out)
{
    fprintf(out, "# recache.conf.example - every recache-server option, with its help and its\n"
                 "# default.  Generated from the server's option table; every line is commented\n"
                 "# out, so this file as it is configures the built-in defaults.\n"
                 "#\n"
                 "# Use: recache-server --config /etc/recache/recache.conf\n"
                 "# Syntax: 'name = value' lines, '#' comments to the end of the line.  Sizes\n"
                 "# take kb, mb, gb or tb suffixes (powers of 1024).  Flags on the command line\n"
                 "# override the file.\n");
    for (size_t i = 0; i < RC__NOPTIONS; i++) {
        const rc__option *opt = &rc__options[i];
        if (strcmp(opt->name, "config") == 0)
            continue; /* only on the command line */
        fprintf(out, "\n# %s\n# %s = %s\n", opt->help, opt->name, opt->def);
    }
    fprintf(out, "\n# Namespaces configured at startup (settings as for recache-cli ns-config):\n"
                 "# namespace recs default-ttl=3600000 stale=60000 ttl-jitter=5\n");
}

void rc_config_usage(FILE *out, const char *prog)
{
    fprintf(out,
            "usage: %s [--name VALUE | --name=VALUE]... [--help | -h] [--version]\n"
            "\n"
            "Options (a --config file takes the same names as 'name = value' lines;\n"
            "flags override the file):\n",
            prog);
    for (size_t i = 0; i < RC__NOPTIONS; i++) {
        const rc__option *opt = &rc__options[i];
        fprintf(out, "  --%-16s %s [default: %s]\n", opt->name, opt->help,
                opt->def[0] != '\0' ? opt->def : "none");
    }
    fprintf(out, "\n"
                 "Config file only: 'namespace NAME setting=value ...' configures a namespace\n"
                 "at startup (settings as for the ns-config operation).\n");
}

/* rc__man_text - s as roff text: backslashes and dashes escaped, no control line. */
static void rc__man_text(FILE *out, const char *s)
{
    if (*s == '.' || *s == '\'')
        fputs("\\&", out);
    for (; *s != '\0'; s++) {
        if (*s == '\\')
            fputs("\\e", out);
        else if (*s == '-')
            fputs("\\-", out);
        else
            fputc(*s, out);
    }
}

void rc_config_write_man(FILE *out, const char *version)
{
    fprintf(out,
            ".\\\" Generated from the option table (server/rc_config.h); do not edit.\n"
            ".TH RECACHE\\-SERVER 1 \"\" \"recache %s\" \"User Commands\"\n"
            ".SH NAME\nrecache\\-server \\- multithreaded in\\-memory cache server\n"
            ".SH SYNOPSIS\n.B recache\\-server\n[\\fB\\-\\-name\\fR \\fIVALUE\\fR | "
            "\\fB\\-\\-name=\\fIVALUE\\fR]...\n.br\n.B recache\\-server\n"
            "\\fB\\-\\-help\\fR | \\fB\\-h\\fR | \\fB\\-\\-version\\fR\n"
            ".SH DESCRIPTION\n"
            "recache\\-server keeps versioned, tagged values in memory for clients that speak "
            "the recache protocol (librecache, recache\\-cli).  It runs in the foreground, "
            "logs to standard error, and prints one ready line on standard output once it "
            "listens: the address, the port, and a recache\\-cli command that reaches it.\n"
            ".PP\nEvery option is a flag and a config file line; flags override the file. "
            "Sizes take kb, mb, gb or tb suffixes (powers of 1024).\n"
            ".SH OPTIONS\n",
            version);
    for (size_t i = 0; i < RC__NOPTIONS; i++) {
        const rc__option *opt = &rc__options[i];
        fputs(".TP\n\\fB\\-\\-", out);
        rc__man_text(out, opt->name);
        fputs("\\fR \\fIVALUE\\fR\n", out);
        rc__man_text(out, opt->help);
        fputs(". Default: ", out);
        rc__man_text(out, opt->def[0] != '\0' ? opt->def : "none");
        fputs(".\n", out);
    }
    fputs(".TP\n\\fB\\-h\\fR, \\fB\\-\\-help\\fR\nPrint the options and exit.\n"
          ".TP\n\\fB\\-\\-version\\fR\nPrint the version and exit.\n"
          ".SH CONFIGURATION FILE\n"
          "\\fB\\-\\-config\\fR \\fIFILE\\fR reads \\fIname\\fR = \\fIvalue\\fR lines "
          "with the option names above (all but config), and \\fBnamespace\\fR \\fINAME\\fR "
          "\\fIsetting\\fR=\\fIvalue\\fR... lines that configure a namespace at startup "
          "(default\\-ttl, stale, early\\-refresh, ttl\\-jitter, max\\-value, as for "
          "recache\\-cli ns\\-config).  # starts a comment.  recache.conf.example, installed "
          "with the documentation, lists every option with its default.\n"
          ".SH SIGNALS\n"
          "SIGINT and SIGTERM stop the server cleanly: open requests are answered, connections "
          "closed, and the process exits with status 0.\n"
          ".SH EXIT STATUS\n"
          ".TP\n0\nClean shutdown, or \\-\\-help / \\-\\-version.\n"
          ".TP\n1\nThe server could not start or run (address in use, ...).\n"
          ".TP\n2\nThe configuration is invalid (the message on standard error says why).\n"
          ".SH SEE ALSO\nrecache\\-cli(1)\n",
          out);
}
