/*
 * test_cli_lists.c - recache-cli's list commands against a real server:
 * list-set (ID[:SCORE], default scores), list-get (--top, --exclude, exit 1
 * on a miss), list-remove, suppress (--ttl), unsuppress, suppressed, and
 * bad arguments (exit 2, nothing sent: the list is unchanged); the help
 * text names every command.
 */
#define _GNU_SOURCE

#include <stdio.h>
#include <string.h>

#include "rc_harness.h"
#include "rc_test.h"

static rc_harness_server srv;

static void expect_out(int status, const char *want, const char *first, ...)
{
    rc_cli_result r;
    va_list ap;
    va_start(ap, first);
    int got = rc_harness_cli_va(&srv, &r, first, ap);
    va_end(ap);
    if (got != status || (want != NULL && strcmp(r.out, want) != 0)) {
        fprintf(stderr, "%s: status %d (want %d)\nstdout: %s\nstderr: %s\n", first, got, status,
                r.out, r.err);
        RC_CHECK(0);
    }
    rc_cli_result_free(&r);
}

int main(void)
{
    RC_CHECK_RC(rc_harness_start(&srv, NULL), 0);
    rc_cli_result r = rc_harness_cli_expect(&srv, 0, "--help", NULL);
    for (const char *const *cmd =
             (const char *const[]){"list-set NS KEY ID[:SCORE]...", "list-get NS KEY",
                                   "list-remove NS KEY", "suppress NS ID...", "unsuppress NS ID...",
                                   "suppressed NS", "--exclude", NULL};
         *cmd; cmd++)
        RC_CHECK(strstr(r.out, *cmd) != NULL);
    rc_cli_result_free(&r);

    expect_out(0, "OK ns_version=1 entry_version=0 items=4\n", "list-set", "recs", "u1", "10:0.5",
               "20", "30:-2", "40", NULL);
    expect_out(0, "10 0.5\n20 0.5\n30 -2\n40 0.25\n", "list-get", "recs", "u1", NULL);
    expect_out(0, "20 0.5\n30 -2\n", "list-get", "recs", "u1", "--top", "2", "--exclude", "10,99",
               NULL);
    expect_out(1, "", "list-get", "recs", "nobody", NULL);
    expect_out(0, "removed 1\n", "list-remove", "recs", "u1", "30", NULL);
    expect_out(1, NULL, "list-remove", "recs", "nobody", "30", NULL);

    r = rc_harness_cli_expect(&srv, 0, "suppress", "recs", "20", "--ttl", "600000", NULL);
    RC_CHECK(strncmp(r.out, "OK stamp=", 9) == 0);
    rc_cli_result_free(&r);
    expect_out(0, "10 0.5\n40 0.25\n", "list-get", "recs", "u1", NULL);
    r = rc_harness_cli_expect(&srv, 0, "suppressed", "recs", NULL);
    RC_CHECK(strncmp(r.out, "20 ttl_ms=", 10) == 0 && strstr(r.out, " stamp=") != NULL);
    rc_cli_result_free(&r);
    r = rc_harness_cli_expect(&srv, 0, "unsuppress", "recs", "20", NULL);
    rc_cli_result_free(&r);
    expect_out(0, "", "suppressed", "recs", NULL);
    expect_out(0, "10 0.5\n20 0.5\n40 0.25\n", "list-get", "recs", "u1", NULL);

    /* Bad arguments: refused before sending, the list unchanged. */
    expect_out(2, "", "list-set", "recs", "u1", "10", "x7", NULL);
    expect_out(2, "", "list-set", "recs", "u1", "10:abc", NULL);
    expect_out(2, "", "list-set", "recs", "u1", "10", "10", NULL); /* duplicate: BAD_LIST */
    expect_out(2, "", "list-get", "recs", "u1", "--exclude", "1,,2", NULL);
    expect_out(2, "", "suppress", "recs", "-5", NULL);
    expect_out(2, "", "get", "recs", "u1", NULL); /* wrong kind */
    expect_out(0, "10 0.5\n20 0.5\n40 0.25\n", "list-get", "recs", "u1", NULL);

    RC_CHECK_RC(rc_harness_stop(&srv), 0);
    fprintf(stderr, "test_cli_lists: all passed\n");
    return 0;
}
