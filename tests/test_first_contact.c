/*
 * test_first_contact.c - what a new user meets first, through the real
 * binaries (issue 14):
 *   - recache-server refuses bad command lines with one clear line and exit
 *     status 2: an unknown option, a short option, absurd --threads, a
 *     --memory above this machine's RAM; --bind accepts a host name
 *     (this file's server runs with --bind localhost);
 *   - its ready line names a recache-cli that works as printed;
 *   - recache-cli messages: a bad port, a long key, an empty key or
 *     namespace, nothing listening, -h is help, --version;
 *   - recache-cli values: from an argument, stdin ("-"), --value-file, of
 *     any bytes and beyond what argv can carry; an oversized one is refused
 *     with the limit named and is never sent.
 */
#define _GNU_SOURCE

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "rc_harness.h"
#include "rc_test.h"

static rc_harness_server srv;

/* count - occurrences of needle in text. */
static int count(const char *text, const char *needle)
{
    int n = 0;
    for (const char *p = text; (p = strstr(p, needle)) != NULL; p += strlen(needle))
        n++;
    return n;
}

/* expect_one_line - status want, stderr exactly one line containing each of the phrases. */
static void expect_one_line(const rc_cli_result *r, int want, const char *const phrases[])
{
    if (r->status != want || count(r->err, "\n") != 1)
        fprintf(stderr, "exit %d (want %d), stderr: %s", r->status, want, r->err);
    RC_CHECK_EQ_INT(r->status, want);
    RC_CHECK_EQ_INT(count(r->err, "\n"), 1);
    for (size_t i = 0; phrases[i] != NULL; i++) {
        if (strstr(r->err, phrases[i]) == NULL)
            fprintf(stderr, "missing '%s' in: %s", phrases[i], r->err);
        RC_CHECK(strstr(r->err, phrases[i]) != NULL);
    }
}

/* run_bin - run binary (from env var `env`) with the NULL-terminated arguments. */
static void run_bin(const char *env, rc_cli_result *r, const void *input, size_t input_len, ...)
{
    const char *argv[32];
    int argc = 0;
    argv[argc++] = getenv(env);
    RC_CHECK(argv[0] != NULL);
    va_list ap;
    va_start(ap, input_len);
    for (const char *a; argc < 31 && (a = va_arg(ap, const char *)) != NULL;)
        argv[argc++] = a;
    va_end(ap);
    argv[argc] = NULL;
    rc_harness_run(argv, input, input_len, r);
}

static void test_server_refusals(void)
{
    rc_cli_result r;
    run_bin("RECACHE_SERVER", &r, NULL, 0, "--port", "0", "--bogus", NULL);
    expect_one_line(&r, 2, (const char *const[]){"unknown option '--bogus'", NULL});
    RC_CHECK(strstr(r.err, "needs a value") == NULL);
    rc_cli_result_free(&r);

    run_bin("RECACHE_SERVER", &r, NULL, 0, "-p", "abc", NULL);
    expect_one_line(&r, 2, (const char *const[]){"'-p'", "did you mean --port?", NULL});
    rc_cli_result_free(&r);

    run_bin("RECACHE_SERVER", &r, NULL, 0, "--port", "0", "--threads", "1000", NULL);
    expect_one_line(&r, 2, (const char *const[]){"threads: 1000", "CPUs", NULL});
    rc_cli_result_free(&r);

    /* One gigabyte more than this machine has (the option's own bound is 1 TiB). */
    long pages = sysconf(_SC_PHYS_PAGES), page = sysconf(_SC_PAGESIZE);
    RC_CHECK(pages > 0 && page > 0);
    unsigned long long gb = (unsigned long long)pages * (unsigned long long)page / (1ull << 30) + 1;
    if (gb <= 1024) {
        char memory[32];
        snprintf(memory, sizeof memory, "%llugb", gb);
        run_bin("RECACHE_SERVER", &r, NULL, 0, "--port", "0", "--memory", memory, NULL);
        expect_one_line(&r, 2, (const char *const[]){"memory:", "physical memory", NULL});
        rc_cli_result_free(&r);
    }

    run_bin("RECACHE_SERVER", &r, NULL, 0, "--port", "0", "--bind", "no-such-host.invalid", NULL);
    expect_one_line(&r, 2, (const char *const[]){"bind: 'no-such-host.invalid'", NULL});
    rc_cli_result_free(&r);
}

/* The server runs with --bind localhost; its ready line's command must work as printed. */
static void test_ready_line(void)
{
    RC_CHECK(strstr(srv.ready_line, " listening on 127.0.0.1:") != NULL);
    const char *try = strstr(srv.ready_line, "try: ");
    RC_CHECK(try != NULL);
    char cmd[512];
    snprintf(cmd, sizeof cmd, "%s", try + 5);
    const char *argv[16];
    int argc = 0;
    for (char *save, *tok = strtok_r(cmd, " ", &save); tok != NULL && argc < 15;
         tok = strtok_r(NULL, " ", &save))
        argv[argc++] = tok;
    argv[argc] = NULL;
    /* It names this build's CLI by its absolute path (it is not on PATH). */
    char want[PATH_MAX];
    RC_CHECK(realpath(getenv("RECACHE_CLI"), want) != NULL);
    RC_CHECK(strcmp(argv[0], want) == 0);
    rc_cli_result r;
    RC_CHECK_EQ_INT(rc_harness_run(argv, NULL, 0, &r), 0);
    RC_CHECK(strcmp(r.out, "PONG\n") == 0);
    rc_cli_result_free(&r);
}

static void test_cli_messages(void)
{
    rc_cli_result r;
    run_bin("RECACHE_CLI", &r, NULL, 0, "-p", "abc", "ping", NULL);
    expect_one_line(&r, 2, (const char *const[]){"port: 'abc' is not a port number", NULL});
    rc_cli_result_free(&r);

    char key[300];
    memset(key, 'k', sizeof key - 1);
    key[sizeof key - 1] = '\0';
    r = rc_harness_cli_expect(&srv, 2, "get", "ns", key, NULL);
    expect_one_line(&r, 2, (const char *const[]){"299 bytes", "max-key of 250 bytes", NULL});
    RC_CHECK_EQ_INT(count(r.err, "key longer than the configured maximum"), 1);
    rc_cli_result_free(&r);

    r = rc_harness_cli_expect(&srv, 2, "set", "ns", "", "v", NULL);
    expect_one_line(&r, 2, (const char *const[]){"the key is empty", NULL});
    rc_cli_result_free(&r);
    r = rc_harness_cli_expect(&srv, 2, "get", "", "k", NULL);
    expect_one_line(&r, 2, (const char *const[]){"the namespace name is empty", NULL});
    rc_cli_result_free(&r);

    run_bin("RECACHE_CLI", &r, NULL, 0, "-p", "1", "ping", NULL); /* nothing listens on port 1 */
    expect_one_line(&r, 2,
                    (const char *const[]){"127.0.0.1:1", "nothing accepts connections there",
                                          "is recache-server running", NULL});
    rc_cli_result_free(&r);

    run_bin("RECACHE_CLI", &r, NULL, 0, "-h", NULL);
    RC_CHECK_EQ_INT(r.status, 0);
    RC_CHECK(strncmp(r.out, "usage: recache-cli", 18) == 0);
    RC_CHECK(strstr(r.out, "--value-file FILE") != NULL);
    rc_cli_result_free(&r);
    /* -h HOST from older scripts must not print help and succeed without running anything. */
    run_bin("RECACHE_CLI", &r, NULL, 0, "-h", "127.0.0.1", "ping", NULL);
    expect_one_line(&r, 2, (const char *const[]){"-H HOST", NULL});
    RC_CHECK_EQ_INT((int)r.out_len, 0);
    rc_cli_result_free(&r);

    run_bin("RECACHE_CLI", &r, NULL, 0, "--version", NULL);
    RC_CHECK_EQ_INT(r.status, 0);
    RC_CHECK(strcmp(r.out, "recache-cli " RECACHE_CLIENT_VERSION "\n") == 0);
    rc_cli_result_free(&r);
}

/* pattern - len bytes of every value 0..255 (NULs and newlines included). */
static char *pattern(size_t len)
{
    char *p = malloc(len);
    RC_CHECK(p != NULL);
    for (size_t i = 0; i < len; i++)
        p[i] = (char)((i * 7 + i / 251) & 0xff);
    return p;
}

/* expect_value - `get NS KEY --raw` prints exactly the len bytes of want. */
static void expect_value(const char *ns, const char *key, const char *want, size_t len)
{
    rc_cli_result r = rc_harness_cli_expect(&srv, 0, "get", ns, key, "--raw", NULL);
    RC_CHECK_MEM(r.out, r.out_len, want, len);
    rc_cli_result_free(&r);
}

/* write_file - a temporary file holding len bytes of data; returns its path (malloc'ed). */
static char *write_file(const char *data, size_t len)
{
    char *path = strdup("/tmp/rc_value_XXXXXX");
    RC_CHECK(path != NULL);
    int fd = mkstemp(path);
    RC_CHECK(fd >= 0);
    RC_CHECK(write(fd, data, len) == (ssize_t)len);
    close(fd);
    return path;
}

static void test_cli_values(void)
{
    /* 300 KiB: more than one argument may carry, through stdin and through a file. */
    size_t len = 300 * 1024;
    char *big = pattern(len);
    rc_cli_result r;
    rc_harness_cli_input(&srv, big, len, (const char *const[]){"set", "v", "stdin", "-", NULL}, &r);
    RC_CHECK_EQ_INT(r.status, 0);
    rc_cli_result_free(&r);
    expect_value("v", "stdin", big, len);

    char *path = write_file(big + 1, len - 1);
    r = rc_harness_cli_expect(&srv, 0, "set", "v", "file", "--value-file", path, "--ttl", "60000",
                              NULL);
    rc_cli_result_free(&r);
    expect_value("v", "file", big + 1, len - 1);
    unlink(path);
    free(path);

    /* --value-file - is stdin too; an empty stdin stores an empty value. */
    rc_harness_cli_input(&srv, "abc", 3,
                         (const char *const[]){"set", "v", "dash", "--value-file", "-", NULL}, &r);
    RC_CHECK_EQ_INT(r.status, 0);
    rc_cli_result_free(&r);
    expect_value("v", "dash", "abc", 3);
    rc_harness_cli_input(&srv, "", 0, (const char *const[]){"set", "v", "empty", "-", NULL}, &r);
    RC_CHECK_EQ_INT(r.status, 0);
    rc_cli_result_free(&r);
    expect_value("v", "empty", "", 0);

    /* A lease fill takes its value the same ways. */
    r = rc_harness_cli_expect(&srv, 1, "lget", "v", "leased", NULL);
    const char *tok = strstr(r.err, "token=");
    RC_CHECK(tok != NULL);
    char token[33];
    snprintf(token, sizeof token, "%.32s", tok + 6);
    rc_cli_result_free(&r);
    rc_harness_cli_input(&srv, big, len,
                         (const char *const[]){"fill", "v", "leased", token, "-", NULL}, &r);
    RC_CHECK_EQ_INT(r.status, 0);
    rc_cli_result_free(&r);
    expect_value("v", "leased", big, len);

    /* Exactly one source of the value. */
    r = rc_harness_cli_expect(&srv, 2, "set", "v", "k", NULL);
    expect_one_line(&r, 2, (const char *const[]){"needs a value", "--value-file FILE", NULL});
    rc_cli_result_free(&r);
    r = rc_harness_cli_expect(&srv, 2, "set", "v", "k", "x", "--value-file", "/dev/null", NULL);
    expect_one_line(&r, 2, (const char *const[]){"not both", NULL});
    rc_cli_result_free(&r);
    r = rc_harness_cli_expect(&srv, 2, "set", "v", "k", "--value-file", "/no/such/file", NULL);
    expect_one_line(&r, 2, (const char *const[]){"cannot open value file '/no/such/file'", NULL});
    rc_cli_result_free(&r);
    free(big);
}

static void test_cli_oversized_value(void)
{
    rc_client *c = rc_harness_client(&srv);
    uint32_t max_value = rc_server_info_get(c)->max_value;
    long long bytes_before = rc_harness_node_stat(c, "bytes_in");
    long long errors_before = rc_harness_node_stat(c, "protocol_errors");
    char *big = pattern((size_t)max_value + 1);
    char *path = write_file(big, (size_t)max_value + 1);
    char sizes[128];
    snprintf(sizes, sizeof sizes, "value of %u bytes exceeds the server's max-value of %u bytes",
             max_value + 1, max_value);

    rc_cli_result r =
        rc_harness_cli_expect(&srv, 2, "set", "v", "over", "--value-file", path, NULL);
    expect_one_line(&r, 2, (const char *const[]){sizes, "nothing was sent", NULL});
    rc_cli_result_free(&r);
    rc_harness_cli_input(&srv, big, (size_t)max_value + 1,
                         (const char *const[]){"set", "v", "over", "-", NULL}, &r);
    expect_one_line(&r, 2, (const char *const[]){sizes, NULL});
    rc_cli_result_free(&r);

    /* Never sent: the server read far less than one such value, and saw no bad frame. */
    RC_CHECK(rc_harness_node_stat(c, "bytes_in") - bytes_before < (long long)max_value);
    RC_CHECK_EQ_INT(rc_harness_node_stat(c, "protocol_errors"), errors_before);
    r = rc_harness_cli_expect(&srv, 1, "get", "v", "over", NULL);
    rc_cli_result_free(&r);
    /* Exactly max-value is fine. */
    RC_CHECK(truncate(path, max_value) == 0);
    r = rc_harness_cli_expect(&srv, 0, "set", "v", "max", "--value-file", path, NULL);
    rc_cli_result_free(&r);
    expect_value("v", "max", big, max_value);
    unlink(path);
    free(path);
    free(big);
    rc_close(c);
}

int main(void)
{
    RC_TEST_RUN(test_server_refusals);
    static const char *const args[] = {"--bind", "localhost", NULL};
    RC_CHECK(rc_harness_start(&srv, args) == 0);
    RC_TEST_RUN(test_ready_line);
    RC_TEST_RUN(test_cli_messages);
    RC_TEST_RUN(test_cli_values);
    RC_TEST_RUN(test_cli_oversized_value);
    RC_CHECK_EQ_INT(rc_harness_stop(&srv), 0);
    return 0;
}
