/*
 * test_config.c - unit tests for rc_config (and rc_log's level names).
 *
 * Everything tested here is pure parsing apart from reading a config file,
 * for which the tests write a temporary file with mkstemp.  Each case checks
 * real values, the error sentence where it matters (it names the option or
 * the file line), and that a failed set leaves the config unchanged.
 */
#define _POSIX_C_SOURCE 200809L

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "rc_config.h"
#include "rc_log.h"
#include "rc_test.h"
#include "recache/rc_errors.h"

static char err[512];

/* Apply a parsed argv-like list (NULL-terminated, without argv[0]). */
static int parse_args(rc_config *cfg, rc_config_action *action, const char *const *args)
{
    char *argv[32];
    int argc = 0;
    argv[argc++] = "recache-server";
    while (*args != NULL && argc < 31)
        argv[argc++] = (char *)*args++;
    argv[argc] = NULL;
    return rc_config_parse_args(cfg, argc, argv, action, err, sizeof(err));
}

/* Write text to a fresh temporary file; returns its path (caller unlinks and frees). */
static char *write_temp(const char *text)
{
    const char *dir = getenv("TMPDIR") != NULL ? getenv("TMPDIR") : "/tmp";
    char *path = malloc(strlen(dir) + 32);
    RC_CHECK(path != NULL);
    sprintf(path, "%s/rc_config_XXXXXX", dir);
    int fd = mkstemp(path);
    RC_CHECK(fd >= 0);
    size_t len = strlen(text);
    RC_CHECK(write(fd, text, len) == (ssize_t)len);
    close(fd);
    return path;
}

static int parse_text(rc_config *cfg, const char *text)
{
    return rc_config_parse_text(cfg, text, strlen(text), "test.conf", err, sizeof(err));
}

static void test_defaults(void)
{
    rc_config cfg;
    rc_config_init(&cfg);
    RC_CHECK(strcmp(cfg.bind, "127.0.0.1") == 0);
    RC_CHECK_EQ_U64(cfg.port, 7400);
    RC_CHECK_EQ_U64(cfg.threads, 0);
    RC_CHECK_EQ_U64(cfg.memory, RC_GB);
    RC_CHECK_EQ_U64(cfg.shards, 0);
    RC_CHECK_EQ_U64(cfg.max_frame, 2 * RC_MB);
    RC_CHECK_EQ_U64(cfg.max_key, 250);
    RC_CHECK_EQ_U64(cfg.max_value, RC_MB);
    RC_CHECK_EQ_U64(cfg.max_namespace, 64);
    RC_CHECK_EQ_U64(cfg.max_tags, 32);
    RC_CHECK_EQ_U64(cfg.max_tag_len, 128);
    RC_CHECK_EQ_U64(cfg.max_namespaces, 1024);
    RC_CHECK_EQ_U64(cfg.max_connections, 10000);
    RC_CHECK_EQ_U64(cfg.max_output, 64 * RC_MB);
    RC_CHECK_EQ_U64(cfg.tombstone_ms, 30000);
    RC_CHECK_EQ_U64(cfg.lease_ms, 5000);
    RC_CHECK_EQ_U64(cfg.max_waiters, 100000);
    RC_CHECK_EQ_U64(cfg.max_waiters_key, 10000);
    RC_CHECK_EQ_U64(cfg.max_wait_ms, 60000);
    RC_CHECK_EQ_INT(cfg.log_level, RC_LOG_INFO);
    RC_CHECK(strcmp(cfg.config, "") == 0);
    RC_CHECK_EQ_U64(cfg.nnamespaces, 0);
    RC_CHECK_RC(rc_config_validate(&cfg, err, sizeof(err)), 0);
    rc_config_free(&cfg);
}

static void test_sizes(void)
{
    static const struct {
        const char *text;
        uint64_t want;
    } good[] = {
        {"0", 0},
        {"4096", 4096},
        {"100b", 100},
        {"100B", 100},
        {"512kb", 512 * RC_KB},
        {"512KB", 512 * RC_KB},
        {"64mb", 64 * RC_MB},
        {"64Mb", 64 * RC_MB},
        {"1gb", RC_GB},
        {"1GB", RC_GB},
        {"2m", 2 * RC_MB},
        {"3k", 3 * RC_KB},
        {"1tb", RC_TB},
        {"5G", 5 * RC_GB},
    };
    for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
        uint64_t v = 12345;
        RC_CHECK_RC(rc_config_parse_size(good[i].text, &v), 0);
        RC_CHECK_EQ_U64(v, good[i].want);
    }
    static const char *const bad[] = {
        "",
        "mb",
        "12xb",
        "-1",
        "1.5mb",
        " 1mb",
        "1 mb",
        "1kbb",
        "+1",
        "0x10",
        "1mb ",
        "99999999999999999999",
        "18446744073709551615kb",
        "17179869184gb",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        uint64_t v = 777;
        RC_CHECK_RC(rc_config_parse_size(bad[i], &v), RC_EINVAL);
        RC_CHECK_EQ_U64(v, 777);
    }
}

static void test_uint(void)
{
    uint64_t v = 0;
    RC_CHECK_RC(rc_config_parse_uint("0", &v), 0);
    RC_CHECK_EQ_U64(v, 0);
    RC_CHECK_RC(rc_config_parse_uint("18446744073709551615", &v), 0);
    RC_CHECK_EQ_U64(v, UINT64_MAX);
    RC_CHECK_RC(rc_config_parse_uint("18446744073709551616", &v), RC_EINVAL);
    RC_CHECK_RC(rc_config_parse_uint("", &v), RC_EINVAL);
    RC_CHECK_RC(rc_config_parse_uint("12a", &v), RC_EINVAL);
    RC_CHECK_RC(rc_config_parse_uint("-1", &v), RC_EINVAL);
    RC_CHECK_RC(rc_config_parse_uint("+1", &v), RC_EINVAL);
    RC_CHECK_RC(rc_config_parse_uint("1mb", &v), RC_EINVAL);
}

static void test_set(void)
{
    rc_config cfg;
    rc_config_init(&cfg);
    RC_CHECK_RC(rc_config_set(&cfg, "port", "0", err, sizeof(err)), 0);
    RC_CHECK_EQ_U64(cfg.port, 0);
    RC_CHECK_RC(rc_config_set(&cfg, "port", "65535", err, sizeof(err)), 0);
    RC_CHECK_EQ_U64(cfg.port, 65535);
    RC_CHECK_RC(rc_config_set(&cfg, "port", "65536", err, sizeof(err)), RC_EINVAL);
    RC_CHECK(strstr(err, "port") != NULL && strstr(err, "out of range") != NULL);
    RC_CHECK_EQ_U64(cfg.port, 65535); /* unchanged on failure */
    RC_CHECK_RC(rc_config_set(&cfg, "port", "http", err, sizeof(err)), RC_EINVAL);
    RC_CHECK(strstr(err, "'http'") != NULL);

    RC_CHECK_RC(rc_config_set(&cfg, "memory", "64MB", err, sizeof(err)), 0);
    RC_CHECK_EQ_U64(cfg.memory, 64 * RC_MB);
    RC_CHECK_RC(rc_config_set(&cfg, "memory", "512kb", err, sizeof(err)), RC_EINVAL);
    RC_CHECK(strstr(err, "memory") != NULL);
    RC_CHECK_RC(rc_config_set(&cfg, "memory", "lots", err, sizeof(err)), RC_EINVAL);
    RC_CHECK_EQ_U64(cfg.memory, 64 * RC_MB);

    RC_CHECK_RC(rc_config_set(&cfg, "max-key", "0", err, sizeof(err)), RC_EINVAL);
    RC_CHECK_RC(rc_config_set(&cfg, "max-key", "65536", err, sizeof(err)), RC_EINVAL);
    RC_CHECK_RC(rc_config_set(&cfg, "max-namespace", "256", err, sizeof(err)), RC_EINVAL);
    RC_CHECK_RC(rc_config_set(&cfg, "max-tags", "0", err, sizeof(err)), 0);
    RC_CHECK_RC(rc_config_set(&cfg, "max-tag-len", "255", err, sizeof(err)), 0);
    RC_CHECK_RC(rc_config_set(&cfg, "max-tag-len", "256", err, sizeof(err)), RC_EINVAL);
    RC_CHECK_RC(rc_config_set(&cfg, "threads", "4", err, sizeof(err)), 0);
    RC_CHECK_EQ_U64(cfg.threads, 4);
    RC_CHECK_RC(rc_config_set(&cfg, "tombstone-ms", "0", err, sizeof(err)), 0);
    RC_CHECK_RC(rc_config_set(&cfg, "max-output", "1mb", err, sizeof(err)), 0);
    RC_CHECK_EQ_U64(cfg.max_output, RC_MB);

    RC_CHECK_RC(rc_config_set(&cfg, "log-level", "DEBUG", err, sizeof(err)), 0);
    RC_CHECK_EQ_INT(cfg.log_level, RC_LOG_DEBUG);
    RC_CHECK_RC(rc_config_set(&cfg, "log-level", "verbose", err, sizeof(err)), RC_EINVAL);
    RC_CHECK(strstr(err, "log-level") != NULL);
    RC_CHECK_EQ_INT(cfg.log_level, RC_LOG_DEBUG);

    RC_CHECK_RC(rc_config_set(&cfg, "bind", "::1", err, sizeof(err)), 0);
    RC_CHECK(strcmp(cfg.bind, "::1") == 0);

    RC_CHECK_RC(rc_config_set(&cfg, "colour", "blue", err, sizeof(err)), RC_EINVAL);
    RC_CHECK(strstr(err, "unknown option 'colour'") != NULL);
    rc_config_free(&cfg);
}

static void test_args(void)
{
    rc_config cfg;
    rc_config_action action;
    rc_config_init(&cfg);
    const char *const ok[] = {"--port", "0",           "--memory=64mb", "--bind=::1", "--threads",
                              "2",      "--log-level", "warn",          NULL};
    RC_CHECK_RC(parse_args(&cfg, &action, ok), 0);
    RC_CHECK_EQ_INT(action, RC_CONFIG_RUN);
    RC_CHECK_EQ_U64(cfg.port, 0);
    RC_CHECK_EQ_U64(cfg.memory, 64 * RC_MB);
    RC_CHECK(strcmp(cfg.bind, "::1") == 0);
    RC_CHECK_EQ_U64(cfg.threads, 2);
    RC_CHECK_EQ_INT(cfg.log_level, RC_LOG_WARN);

    /* The last occurrence wins. */
    const char *const twice[] = {"--port=1", "--port=2", NULL};
    RC_CHECK_RC(parse_args(&cfg, &action, twice), 0);
    RC_CHECK_EQ_U64(cfg.port, 2);

    const char *const missing[] = {"--port", NULL};
    RC_CHECK_RC(parse_args(&cfg, &action, missing), RC_EINVAL);
    RC_CHECK(strstr(err, "--port needs a value") != NULL);
    const char *const stray[] = {"7400", NULL};
    RC_CHECK_RC(parse_args(&cfg, &action, stray), RC_EINVAL);
    RC_CHECK(strstr(err, "unexpected argument") != NULL);
    const char *const single_dash[] = {"-p", "7400", NULL};
    RC_CHECK_RC(parse_args(&cfg, &action, single_dash), RC_EINVAL);
    const char *const unknown[] = {"--verbose=1", NULL};
    RC_CHECK_RC(parse_args(&cfg, &action, unknown), RC_EINVAL);
    RC_CHECK(strstr(err, "verbose") != NULL);
    const char *const bad_value[] = {"--max-frame", "huge", NULL};
    RC_CHECK_RC(parse_args(&cfg, &action, bad_value), RC_EINVAL);
    RC_CHECK(strstr(err, "max-frame") != NULL);
    const char *const empty_eq[] = {"--port=", NULL};
    RC_CHECK_RC(parse_args(&cfg, &action, empty_eq), RC_EINVAL);

    const char *const help[] = {"--port", "1", "--help", NULL};
    RC_CHECK_RC(parse_args(&cfg, &action, help), 0);
    RC_CHECK_EQ_INT(action, RC_CONFIG_HELP);
    const char *const version[] = {"--version", NULL};
    RC_CHECK_RC(parse_args(&cfg, &action, version), 0);
    RC_CHECK_EQ_INT(action, RC_CONFIG_VERSION);
    rc_config_free(&cfg);
}

static void test_file_text(void)
{
    rc_config cfg;
    rc_config_init(&cfg);
    const char *text = "# recache test config\n"
                       "\n"
                       "port = 7500\n"
                       "  memory=256mb   # trailing comment\n"
                       "\tlog-level = debug\n"
                       "bind = ::\n"
                       "namespace recs ttl=60000 stale=5000\n"
                       "namespace   bare\n"
                       "namespace feed\tjitter=5   \n"
                       "max-tags = 8"; /* no final newline */
    RC_CHECK_RC(parse_text(&cfg, text), 0);
    RC_CHECK_EQ_U64(cfg.port, 7500);
    RC_CHECK_EQ_U64(cfg.memory, 256 * RC_MB);
    RC_CHECK_EQ_INT(cfg.log_level, RC_LOG_DEBUG);
    RC_CHECK(strcmp(cfg.bind, "::") == 0);
    RC_CHECK_EQ_U64(cfg.max_tags, 8);
    RC_CHECK_EQ_U64(cfg.nnamespaces, 3);
    RC_CHECK(strcmp(cfg.namespaces[0].name, "recs") == 0);
    RC_CHECK(strcmp(cfg.namespaces[0].settings, "ttl=60000 stale=5000") == 0);
    RC_CHECK_EQ_INT(cfg.namespaces[0].line, 7);
    RC_CHECK(strcmp(cfg.namespaces[1].name, "bare") == 0);
    RC_CHECK(strcmp(cfg.namespaces[1].settings, "") == 0);
    RC_CHECK(strcmp(cfg.namespaces[2].name, "feed") == 0);
    RC_CHECK(strcmp(cfg.namespaces[2].settings, "jitter=5") == 0);
    RC_CHECK_RC(rc_config_validate(&cfg, err, sizeof(err)), 0);
    rc_config_free(&cfg);

    static const struct {
        const char *text;
        const char *want; /* expected in the error message */
    } bad[] = {
        {"port = 1\nport 2\n", "test.conf:2: expected 'name = value'"},
        {"port = 99999\n", "test.conf:1: port"},
        {"\n\ncolour = red\n", "test.conf:3: unknown option 'colour'"},
        {"config = other.conf\n", "test.conf:1: 'config' can only be given on the command line"},
        {"namespace\n", "test.conf:1: expected"},
        {"namespace recs ttl\n", "test.conf:1: namespace recs: 'ttl' is not setting=value"},
        {"namespace recs =5\n", "'=5' is not setting=value"},
        {"memory = \n", "test.conf:1: memory"},
        {"= 5\n", "test.conf:1: unknown option ''"},
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        rc_config_init(&cfg);
        err[0] = '\0';
        RC_CHECK_RC(parse_text(&cfg, bad[i].text), RC_EINVAL);
        if (strstr(err, bad[i].want) == NULL) {
            fprintf(stderr, "case %zu: error '%s' lacks '%s'\n", i, err, bad[i].want);
            RC_CHECK(0);
        }
        rc_config_free(&cfg);
    }

    /* An embedded NUL is refused rather than silently cutting the line. */
    rc_config_init(&cfg);
    RC_CHECK_RC(rc_config_parse_text(&cfg, "port = 1\0 2\n", 12, "nul.conf", err, sizeof(err)),
                RC_EINVAL);
    RC_CHECK(strstr(err, "nul.conf:1") != NULL);
    rc_config_free(&cfg);
}

static void test_file_and_overrides(void)
{
    char *path = write_temp("port = 1234\nmemory = 64mb\nmax-key = 100\n"
                            "namespace recs ttl=1000\n");
    char config_flag[512];
    snprintf(config_flag, sizeof(config_flag), "--config=%s", path);

    rc_config cfg;
    rc_config_action action;
    rc_config_init(&cfg);
    /* The flag comes first on the command line, yet still overrides the file. */
    const char *const args[] = {"--port", "999", "--config", path, "--max-key=200", NULL};
    RC_CHECK_RC(parse_args(&cfg, &action, args), 0);
    RC_CHECK_EQ_U64(cfg.port, 999);
    RC_CHECK_EQ_U64(cfg.memory, 64 * RC_MB);
    RC_CHECK_EQ_U64(cfg.max_key, 200);
    RC_CHECK(strcmp(cfg.config, path) == 0);
    RC_CHECK_EQ_U64(cfg.nnamespaces, 1);
    RC_CHECK(strcmp(cfg.namespaces[0].name, "recs") == 0);
    rc_config_free(&cfg);

    rc_config_init(&cfg);
    const char *const eq_form[] = {config_flag, NULL};
    RC_CHECK_RC(parse_args(&cfg, &action, eq_form), 0);
    RC_CHECK_EQ_U64(cfg.port, 1234);
    rc_config_free(&cfg);

    /* --help wins and reads no file. */
    rc_config_init(&cfg);
    const char *const help[] = {"--config", "/nonexistent/recache.conf", "--help", NULL};
    RC_CHECK_RC(parse_args(&cfg, &action, help), 0);
    RC_CHECK_EQ_INT(action, RC_CONFIG_HELP);
    RC_CHECK_EQ_U64(cfg.port, 7400);
    rc_config_free(&cfg);

    rc_config_init(&cfg);
    const char *const missing[] = {"--config", "/nonexistent/recache.conf", NULL};
    RC_CHECK_RC(parse_args(&cfg, &action, missing), RC_EINVAL);
    RC_CHECK(strstr(err, "cannot open '/nonexistent/recache.conf'") != NULL);
    rc_config_free(&cfg);
    unlink(path);
    free(path);

    char *bad = write_temp("port = 1\nthreads = many\n");
    rc_config_init(&cfg);
    RC_CHECK_RC(rc_config_load_file(&cfg, bad, err, sizeof(err)), RC_EINVAL);
    RC_CHECK(strstr(err, ":2: threads") != NULL);
    RC_CHECK(strstr(err, bad) != NULL);
    rc_config_free(&cfg);
    unlink(bad);
    free(bad);
}

/* Set name=value (must succeed) then expect validation to fail mentioning `want`. */
static void expect_invalid(const char *name, const char *value, const char *want)
{
    rc_config cfg;
    rc_config_init(&cfg);
    RC_CHECK_RC(rc_config_set(&cfg, name, value, err, sizeof(err)), 0);
    RC_CHECK_RC(rc_config_validate(&cfg, err, sizeof(err)), RC_EINVAL);
    if (strstr(err, want) == NULL) {
        fprintf(stderr, "%s=%s: error '%s' lacks '%s'\n", name, value, err, want);
        RC_CHECK(0);
    }
    rc_config_free(&cfg);
}

static void test_validate(void)
{
    expect_invalid("bind", "localhost", "bind: 'localhost' is not an IPv4 or IPv6 address");
    expect_invalid("bind", "1.2.3", "bind");
    expect_invalid("bind", "", "bind");
    expect_invalid("shards", "3", "shards: 3 is not a power of two");
    expect_invalid("max-value", "2mb", "max-frame");
    expect_invalid("max-frame", "1mb", "must be at least max-value + max-key + 4096");
    expect_invalid("max-output", "1mb", "max-output");

    rc_config cfg;
    rc_config_init(&cfg);
    RC_CHECK_RC(rc_config_set(&cfg, "bind", "::1", err, sizeof(err)), 0);
    RC_CHECK_RC(rc_config_set(&cfg, "shards", "64", err, sizeof(err)), 0);
    RC_CHECK_RC(rc_config_set(&cfg, "max-value", "4mb", err, sizeof(err)), 0);
    RC_CHECK_RC(rc_config_set(&cfg, "max-frame", "5mb", err, sizeof(err)), 0);
    RC_CHECK_RC(rc_config_validate(&cfg, err, sizeof(err)), 0);
    /* Exactly at the bound is fine, one byte below is not. */
    cfg.max_frame = cfg.max_value + cfg.max_key + 4096;
    RC_CHECK_RC(rc_config_validate(&cfg, err, sizeof(err)), 0);
    cfg.max_frame--;
    RC_CHECK_RC(rc_config_validate(&cfg, err, sizeof(err)), RC_EINVAL);
    cfg.max_frame = 5 * RC_MB;
    /* Bounds are re-checked for fields assigned directly. */
    cfg.port = 70000;
    RC_CHECK_RC(rc_config_validate(&cfg, err, sizeof(err)), RC_EINVAL);
    RC_CHECK(strstr(err, "port") != NULL);
    rc_config_free(&cfg);

    /* Namespace lines are checked against max-namespace and max-namespaces. */
    rc_config_init(&cfg);
    RC_CHECK_RC(parse_text(&cfg, "max-namespace = 4\nnamespace toolong ttl=1\n"), 0);
    RC_CHECK_RC(rc_config_validate(&cfg, err, sizeof(err)), RC_EINVAL);
    RC_CHECK(strstr(err, "line 2") != NULL && strstr(err, "toolong") != NULL);
    rc_config_free(&cfg);
    rc_config_init(&cfg);
    RC_CHECK_RC(parse_text(&cfg, "max-namespaces = 1\nnamespace a\nnamespace b\n"), 0);
    RC_CHECK_RC(rc_config_validate(&cfg, err, sizeof(err)), RC_EINVAL);
    RC_CHECK(strstr(err, "max-namespaces") != NULL);
    rc_config_free(&cfg);
}

/* Lease options: bounds, every way of setting them, and the re-check of direct assignments. */
static void test_lease_options(void)
{
    rc_config cfg;
    rc_config_init(&cfg);
    RC_CHECK_RC(rc_config_set(&cfg, "lease-ms", "1", err, sizeof(err)), 0);
    RC_CHECK_EQ_U64(cfg.lease_ms, 1);
    RC_CHECK_RC(rc_config_set(&cfg, "lease-ms", "3600000", err, sizeof(err)), 0);
    RC_CHECK_RC(rc_config_set(&cfg, "lease-ms", "0", err, sizeof(err)), RC_EINVAL);
    RC_CHECK(strstr(err, "lease-ms") != NULL && strstr(err, "out of range") != NULL);
    RC_CHECK_RC(rc_config_set(&cfg, "lease-ms", "3600001", err, sizeof(err)), RC_EINVAL);
    RC_CHECK_EQ_U64(cfg.lease_ms, 3600000); /* unchanged on failure */

    /* max-waiters 0 turns parking off; both bounds are what the store's u32 fields hold. */
    RC_CHECK_RC(rc_config_set(&cfg, "max-waiters", "0", err, sizeof(err)), 0);
    RC_CHECK_EQ_U64(cfg.max_waiters, 0);
    RC_CHECK_RC(rc_config_set(&cfg, "max-waiters", "4294967295", err, sizeof(err)), 0);
    RC_CHECK_EQ_U64(cfg.max_waiters, UINT32_MAX);
    RC_CHECK_RC(rc_config_set(&cfg, "max-waiters", "4294967296", err, sizeof(err)), RC_EINVAL);
    RC_CHECK(strstr(err, "max-waiters") != NULL);
    RC_CHECK_RC(rc_config_set(&cfg, "max-waiters", "many", err, sizeof(err)), RC_EINVAL);
    RC_CHECK_EQ_U64(cfg.max_waiters, UINT32_MAX);
    RC_CHECK_RC(rc_config_set(&cfg, "max-waiters-key", "0", err, sizeof(err)), 0);
    RC_CHECK_RC(rc_config_set(&cfg, "max-waiters-key", "4294967296", err, sizeof(err)), RC_EINVAL);
    RC_CHECK(strstr(err, "max-waiters-key") != NULL);
    RC_CHECK_EQ_U64(cfg.max_waiters_key, 0);

    RC_CHECK_RC(rc_config_set(&cfg, "max-wait-ms", "1", err, sizeof(err)), 0);
    RC_CHECK_EQ_U64(cfg.max_wait_ms, 1);
    RC_CHECK_RC(rc_config_set(&cfg, "max-wait-ms", "0", err, sizeof(err)), RC_EINVAL);
    RC_CHECK(strstr(err, "max-wait-ms") != NULL);
    RC_CHECK_RC(rc_config_set(&cfg, "max-wait-ms", "3600001", err, sizeof(err)), RC_EINVAL);
    RC_CHECK_EQ_U64(cfg.max_wait_ms, 1);
    RC_CHECK_RC(rc_config_validate(&cfg, err, sizeof(err)), 0);

    /* Directly assigned out-of-range values are caught by validation. */
    cfg.lease_ms = 0;
    RC_CHECK_RC(rc_config_validate(&cfg, err, sizeof(err)), RC_EINVAL);
    RC_CHECK(strstr(err, "lease-ms") != NULL);
    cfg.lease_ms = 5000;
    cfg.max_wait_ms = 3600001;
    RC_CHECK_RC(rc_config_validate(&cfg, err, sizeof(err)), RC_EINVAL);
    RC_CHECK(strstr(err, "max-wait-ms") != NULL);
    rc_config_free(&cfg);

    /* Flags and file lines; flags win. */
    rc_config_action action;
    rc_config_init(&cfg);
    RC_CHECK_RC(parse_text(&cfg, "lease-ms = 250\nmax-waiters = 7\nmax-waiters-key = 3\n"
                                 "max-wait-ms = 900\n"),
                0);
    const char *const args[] = {"--lease-ms=300", "--max-wait-ms", "1000", NULL};
    RC_CHECK_RC(parse_args(&cfg, &action, args), 0);
    RC_CHECK_EQ_U64(cfg.lease_ms, 300);
    RC_CHECK_EQ_U64(cfg.max_waiters, 7);
    RC_CHECK_EQ_U64(cfg.max_waiters_key, 3);
    RC_CHECK_EQ_U64(cfg.max_wait_ms, 1000);
    RC_CHECK_RC(rc_config_validate(&cfg, err, sizeof(err)), 0);
    rc_config_free(&cfg);
}

/* worker-yield-us: 200 by default, 0 turns yielding off, at most one second. */
static void test_worker_yield_option(void)
{
    rc_config cfg;
    rc_config_init(&cfg);
    RC_CHECK_EQ_U64(cfg.worker_yield_us, 200);
    RC_CHECK_RC(rc_config_set(&cfg, "worker-yield-us", "0", err, sizeof(err)), 0);
    RC_CHECK_EQ_U64(cfg.worker_yield_us, 0);
    RC_CHECK_RC(rc_config_set(&cfg, "worker-yield-us", "1000000", err, sizeof(err)), 0);
    RC_CHECK_RC(rc_config_set(&cfg, "worker-yield-us", "1000001", err, sizeof(err)), RC_EINVAL);
    RC_CHECK(strstr(err, "worker-yield-us") != NULL && strstr(err, "out of range") != NULL);
    RC_CHECK_RC(rc_config_set(&cfg, "worker-yield-us", "-1", err, sizeof(err)), RC_EINVAL);
    RC_CHECK_EQ_U64(cfg.worker_yield_us, 1000000); /* unchanged on failure */
    rc_config_action action;
    const char *const args[] = {"--worker-yield-us", "50", NULL};
    RC_CHECK_RC(parse_args(&cfg, &action, args), 0);
    RC_CHECK_EQ_U64(cfg.worker_yield_us, 50);
    rc_config_free(&cfg);
}

/* Subscribe-channel options: defaults, bounds, size suffixes, file lines and flags. */
static void test_subscribe_options(void)
{
    rc_config cfg;
    rc_config_init(&cfg);
    RC_CHECK_EQ_U64(cfg.event_ring, 65536);
    RC_CHECK_EQ_U64(cfg.heartbeat_ms, 1000);
    RC_CHECK_EQ_U64(cfg.max_subscriber_output, 8 * RC_MB);

    RC_CHECK_RC(rc_config_set(&cfg, "event-ring", "16", err, sizeof(err)), 0);
    RC_CHECK_RC(rc_config_set(&cfg, "event-ring", "16777216", err, sizeof(err)), 0);
    RC_CHECK_RC(rc_config_set(&cfg, "event-ring", "15", err, sizeof(err)), RC_EINVAL);
    RC_CHECK(strstr(err, "event-ring") != NULL && strstr(err, "out of range") != NULL);
    RC_CHECK_RC(rc_config_set(&cfg, "event-ring", "16777217", err, sizeof(err)), RC_EINVAL);
    RC_CHECK_EQ_U64(cfg.event_ring, 16777216); /* unchanged on failure */

    RC_CHECK_RC(rc_config_set(&cfg, "heartbeat-ms", "10", err, sizeof(err)), 0);
    RC_CHECK_RC(rc_config_set(&cfg, "heartbeat-ms", "9", err, sizeof(err)), RC_EINVAL);
    RC_CHECK(strstr(err, "heartbeat-ms") != NULL);
    RC_CHECK_RC(rc_config_set(&cfg, "heartbeat-ms", "600001", err, sizeof(err)), RC_EINVAL);
    RC_CHECK_EQ_U64(cfg.heartbeat_ms, 10);

    RC_CHECK_RC(rc_config_set(&cfg, "max-subscriber-output", "64kb", err, sizeof(err)), 0);
    RC_CHECK_EQ_U64(cfg.max_subscriber_output, 64 * RC_KB);
    RC_CHECK_RC(rc_config_set(&cfg, "max-subscriber-output", "63kb", err, sizeof(err)), RC_EINVAL);
    RC_CHECK(strstr(err, "max-subscriber-output") != NULL);
    RC_CHECK_RC(rc_config_set(&cfg, "max-subscriber-output", "lots", err, sizeof(err)), RC_EINVAL);
    RC_CHECK_EQ_U64(cfg.max_subscriber_output, 64 * RC_KB);
    RC_CHECK_RC(rc_config_validate(&cfg, err, sizeof(err)), 0);

    /* Directly assigned out-of-range values are caught by validation. */
    cfg.heartbeat_ms = 0;
    RC_CHECK_RC(rc_config_validate(&cfg, err, sizeof(err)), RC_EINVAL);
    RC_CHECK(strstr(err, "heartbeat-ms") != NULL);
    rc_config_free(&cfg);

    /* File lines and flags; flags win. */
    rc_config_action action;
    rc_config_init(&cfg);
    RC_CHECK_RC(parse_text(&cfg, "event-ring = 1024\nheartbeat-ms = 250\n"
                                 "max-subscriber-output = 1mb\n"),
                0);
    const char *const args[] = {"--heartbeat-ms=50", "--event-ring", "16", NULL};
    RC_CHECK_RC(parse_args(&cfg, &action, args), 0);
    RC_CHECK_EQ_U64(cfg.event_ring, 16);
    RC_CHECK_EQ_U64(cfg.heartbeat_ms, 50);
    RC_CHECK_EQ_U64(cfg.max_subscriber_output, RC_MB);
    RC_CHECK_RC(rc_config_validate(&cfg, err, sizeof(err)), 0);
    rc_config_free(&cfg);
}

/* mem_open - a stream into a growing malloc'ed buffer (*text, *len); fclose, then free(*text). */
static FILE *mem_open(char **text, size_t *len)
{
    *text = NULL;
    *len = 0;
    FILE *out = open_memstream(text, len);
    RC_CHECK(out != NULL);
    return out;
}

static void test_help(void)
{
    char *text;
    size_t len;
    FILE *out = mem_open(&text, &len);
    rc_config_usage(out, "recache-server");
    fclose(out);
    RC_CHECK(strstr(text, "usage: recache-server") != NULL);
    /* Every option of the table appears with its flag, default and help. */
#define CHECK_OPTION(field, name, kind, def, lo, hi, help)                                         \
    do {                                                                                           \
        char flag[80];                                                                             \
        snprintf(flag, sizeof(flag), "\n  --%s ", name);                                           \
        const char *line = strstr(text, flag);                                                     \
        RC_CHECK(line != NULL);                                                                    \
        const char *eol = strchr(line + 1, '\n');                                                  \
        char want[80];                                                                             \
        snprintf(want, sizeof(want), "[default: %s]", def[0] ? def : "none");                      \
        const char *d = strstr(line, want);                                                        \
        RC_CHECK(d != NULL && d < eol);                                                            \
        const char *h = strstr(line, help);                                                        \
        RC_CHECK(h != NULL && h < eol);                                                            \
    } while (0);
    RC_CONFIG_OPTIONS(CHECK_OPTION)
#undef CHECK_OPTION
    RC_CHECK(strstr(text, "namespace NAME") != NULL);
    free(text);
}

/* Messages of the command line a new user meets first (issue 14). */
static void test_first_contact_messages(void)
{
    rc_config cfg;
    rc_config_action action;
    rc_config_init(&cfg);
    /* An unknown option is called unknown, whether or not a value follows it. */
    const char *const bogus[] = {"--bogus", NULL};
    RC_CHECK_RC(parse_args(&cfg, &action, bogus), RC_EINVAL);
    RC_CHECK(strstr(err, "unknown option '--bogus'") != NULL);
    RC_CHECK(strstr(err, "needs a value") == NULL);
    const char *const bogus_value[] = {"--port", "1", "--bogus", "x", NULL};
    RC_CHECK_RC(parse_args(&cfg, &action, bogus_value), RC_EINVAL);
    RC_CHECK(strstr(err, "unknown option '--bogus'") != NULL);
    /* A short option is named with the long one it most likely meant. */
    const char *const short_port[] = {"-p", "abc", NULL};
    RC_CHECK_RC(parse_args(&cfg, &action, short_port), RC_EINVAL);
    RC_CHECK(strstr(err, "unknown option '-p'") != NULL);
    RC_CHECK(strstr(err, "did you mean --port?") != NULL);
    /* Several options begin with the letters: the shortest is meant (memcached's -m). */
    const char *const short_memory[] = {"-m", "1", NULL};
    RC_CHECK_RC(parse_args(&cfg, &action, short_memory), RC_EINVAL);
    RC_CHECK(strstr(err, "did you mean --memory?") != NULL);
    const char *const short_none[] = {"-z", "1", NULL};
    RC_CHECK_RC(parse_args(&cfg, &action, short_none), RC_EINVAL);
    RC_CHECK(strstr(err, "did you mean") == NULL);
    /* -h is help. */
    const char *const short_help[] = {"-h", NULL};
    RC_CHECK_RC(parse_args(&cfg, &action, short_help), 0);
    RC_CHECK_EQ_INT(action, RC_CONFIG_HELP);
    RC_CHECK_EQ_U64(cfg.port, 7400);
    rc_config_free(&cfg);
}

static void test_resolve_bind(void)
{
    rc_config cfg;
    rc_config_init(&cfg);
    RC_CHECK_RC(rc_config_set(&cfg, "bind", "localhost", err, sizeof(err)), 0);
    RC_CHECK_RC(rc_config_resolve_bind(&cfg, err, sizeof(err)), 0);
    RC_CHECK(strcmp(cfg.bind, "127.0.0.1") == 0); /* IPv4 first: the CLI's default host */
    RC_CHECK_RC(rc_config_validate(&cfg, err, sizeof(err)), 0);
    RC_CHECK_RC(rc_config_set(&cfg, "bind", "::1", err, sizeof(err)), 0);
    RC_CHECK_RC(rc_config_resolve_bind(&cfg, err, sizeof(err)), 0);
    RC_CHECK(strcmp(cfg.bind, "::1") == 0); /* a literal stays */
    RC_CHECK_RC(rc_config_set(&cfg, "bind", "no-such-host.invalid", err, sizeof(err)), 0);
    RC_CHECK_RC(rc_config_resolve_bind(&cfg, err, sizeof(err)), RC_EINVAL);
    RC_CHECK(strstr(err, "bind: 'no-such-host.invalid'") != NULL);
    RC_CHECK(strcmp(cfg.bind, "no-such-host.invalid") == 0);
    rc_config_free(&cfg);
}

static void test_check_machine(void)
{
    rc_config cfg;
    rc_config_init(&cfg);
    RC_CHECK_RC(rc_config_check_machine(&cfg, 8 * RC_GB, 2, err, sizeof(err)), 0);
    /* Memory: at most the physical memory; unknown (0) is not checked. */
    RC_CHECK_RC(rc_config_check_machine(&cfg, 512 * RC_MB, 2, err, sizeof(err)), RC_EINVAL);
    RC_CHECK(strstr(err, "memory:") != NULL && strstr(err, "physical memory") != NULL);
    RC_CHECK_RC(rc_config_check_machine(&cfg, RC_GB, 2, err, sizeof(err)), 0);
    RC_CHECK_RC(rc_config_check_machine(&cfg, 0, 2, err, sizeof(err)), 0);
    /* Threads: RC_CONFIG_THREADS_PER_CPU per CPU, at least RC_CONFIG_THREADS_FLOOR. */
    cfg.threads = RC_CONFIG_THREADS_FLOOR;
    RC_CHECK_RC(rc_config_check_machine(&cfg, 0, 1, err, sizeof(err)), 0);
    cfg.threads = RC_CONFIG_THREADS_FLOOR + 1;
    RC_CHECK_RC(rc_config_check_machine(&cfg, 0, 1, err, sizeof(err)), RC_EINVAL);
    RC_CHECK(strstr(err, "threads: 17 workers for 1 CPUs") != NULL);
    cfg.threads = 8 * RC_CONFIG_THREADS_PER_CPU;
    RC_CHECK_RC(rc_config_check_machine(&cfg, 0, 8, err, sizeof(err)), 0);
    cfg.threads = 1000;
    RC_CHECK_RC(rc_config_check_machine(&cfg, 0, 2, err, sizeof(err)), RC_EINVAL);
    RC_CHECK(strstr(err, "threads: 1000") != NULL);
    cfg.threads = 0; /* one per CPU */
    RC_CHECK_RC(rc_config_check_machine(&cfg, 0, 2, err, sizeof(err)), 0);
    rc_config_free(&cfg);
}

/* Lines of the sample config that set something: every option but `config`, one namespace. */
#define COUNT_OPTION(field, name, kind, def, lo, hi, help) +1
#define RC_CONFIG_NOPTIONS_FOR_TEST                        (0 RC_CONFIG_OPTIONS(COUNT_OPTION) - 1 + 1)

/*
 * uncomment_settings - blank the "# " of every line of text that reads
 * "# NAME = ..." (NAME one word) or "# namespace ...", leaving help lines
 * commented.  Returns how many lines it uncommented.
 */
static int uncomment_settings(char *text)
{
    int n = 0;
    for (char *line = text; line != NULL && *line != '\0';) {
        char *eol = strchr(line, '\n');
        int comment = strncmp(line, "# ", 2) == 0;
        size_t word = comment ? strspn(line + 2, "abcdefghijklmnopqrstuvwxyz-") : 0;
        if (word > 0 &&
            (strncmp(line + 2 + word, " = ", 3) == 0 || strncmp(line + 2, "namespace ", 10) == 0)) {
            line[0] = line[1] = ' ';
            n++;
        }
        line = eol != NULL ? eol + 1 : NULL;
    }
    return n;
}

/* The sample config: every option of the table, at its default, and it parses. */
static void test_example(void)
{
    char *text;
    size_t len;
    FILE *out = mem_open(&text, &len);
    rc_config_write_example(out);
    fclose(out);
#define CHECK_EXAMPLE(field, name, kind, def, lo, hi, help)                                        \
    do {                                                                                           \
        char line[512];                                                                            \
        snprintf(line, sizeof(line), "\n# %s\n# %s = %s\n", help, name, def);                      \
        RC_CHECK(strcmp(name, "config") == 0 || strstr(text, line) != NULL);                       \
    } while (0);
    RC_CONFIG_OPTIONS(CHECK_EXAMPLE)
#undef CHECK_EXAMPLE
    RC_CHECK(strstr(text, "\n# config =") == NULL); /* command line only */

    rc_config cfg;
    rc_config_init(&cfg);
    RC_CHECK_RC(rc_config_parse_text(&cfg, text, len, "recache.conf.example", err, sizeof(err)), 0);
    RC_CHECK_EQ_U64(cfg.nnamespaces, 0);
    /* Uncommented, every setting line sets its option (to the default) or a namespace. */
    RC_CHECK_EQ_INT(uncomment_settings(text), RC_CONFIG_NOPTIONS_FOR_TEST);
    RC_CHECK_RC(rc_config_parse_text(&cfg, text, len, "recache.conf.example", err, sizeof(err)), 0);
    RC_CHECK_EQ_U64(cfg.nnamespaces, 1);
    RC_CHECK_RC(rc_config_validate(&cfg, err, sizeof(err)), 0);
    RC_CHECK_EQ_U64(cfg.port, 7400);
    rc_config_free(&cfg);
    free(text);
}

/* The manual page: every option with its default, roff-escaped, and the exit statuses. */
static void test_man(void)
{
    char *text;
    size_t len;
    FILE *out = mem_open(&text, &len);
    rc_config_write_man(out, "9.8.7");
    fclose(out);
    RC_CHECK(strstr(text, ".TH RECACHE\\-SERVER 1 \"\" \"recache 9.8.7\"") != NULL);
#define CHECK_MAN(field, name, kind, def, lo, hi, help)                                            \
    do {                                                                                           \
        char flag[96], escaped[64], *e = escaped;                                                  \
        for (const char *c = name; *c != '\0'; c++) {                                              \
            if (*c == '-')                                                                         \
                *e++ = '\\';                                                                       \
            *e++ = *c;                                                                             \
        }                                                                                          \
        *e = '\0';                                                                                 \
        snprintf(flag, sizeof(flag), "\n.TP\n\\fB\\-\\-%s\\fR \\fIVALUE\\fR\n", escaped);          \
        const char *entry = strstr(text, flag);                                                    \
        RC_CHECK(entry != NULL);                                                                   \
        const char *next = strstr(entry + 1, "\n.TP\n");                                           \
        const char *d = strstr(entry, ". Default: ");                                              \
        RC_CHECK(d != NULL && (next == NULL || d < next));                                         \
    } while (0);
    RC_CONFIG_OPTIONS(CHECK_MAN)
#undef CHECK_MAN
    RC_CHECK(strstr(text, ".SH EXIT STATUS") != NULL);
    /* No line of option text may become a roff request. */
    RC_CHECK(strstr(text, "\n'") == NULL);
    free(text);
}

static void test_log_levels(void)
{
    rc_log_level level = RC_LOG_INFO;
    RC_CHECK_RC(rc_log_level_parse("error", &level), 0);
    RC_CHECK_EQ_INT(level, RC_LOG_ERROR);
    RC_CHECK_RC(rc_log_level_parse("Warn", &level), 0);
    RC_CHECK_EQ_INT(level, RC_LOG_WARN);
    RC_CHECK_RC(rc_log_level_parse("debug", &level), 0);
    RC_CHECK_EQ_INT(level, RC_LOG_DEBUG);
    RC_CHECK_RC(rc_log_level_parse("trace", &level), RC_EINVAL);
    RC_CHECK_EQ_INT(level, RC_LOG_DEBUG);
    RC_CHECK(strcmp(rc_log_level_name(RC_LOG_INFO), "info") == 0);
    RC_CHECK(strcmp(rc_log_level_name((rc_log_level)42), "unknown") == 0);

    rc_log_set_level(RC_LOG_WARN);
    RC_CHECK(rc_log_enabled(RC_LOG_ERROR));
    RC_CHECK(rc_log_enabled(RC_LOG_WARN));
    RC_CHECK(!rc_log_enabled(RC_LOG_INFO));
    RC_CHECK_EQ_INT(rc_log_get_level(), RC_LOG_WARN);
    rc_log_set_level(RC_LOG_INFO);
}

int main(void)
{
    RC_TEST_RUN(test_defaults);
    RC_TEST_RUN(test_sizes);
    RC_TEST_RUN(test_uint);
    RC_TEST_RUN(test_set);
    RC_TEST_RUN(test_args);
    RC_TEST_RUN(test_file_text);
    RC_TEST_RUN(test_file_and_overrides);
    RC_TEST_RUN(test_validate);
    RC_TEST_RUN(test_lease_options);
    RC_TEST_RUN(test_subscribe_options);
    RC_TEST_RUN(test_worker_yield_option);
    RC_TEST_RUN(test_help);
    RC_TEST_RUN(test_first_contact_messages);
    RC_TEST_RUN(test_resolve_bind);
    RC_TEST_RUN(test_check_machine);
    RC_TEST_RUN(test_example);
    RC_TEST_RUN(test_man);
    RC_TEST_RUN(test_log_levels);
    fprintf(stderr, "test_config: all passed\n");
    return 0;
}
