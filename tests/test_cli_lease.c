/*
 * test_cli_lease.c - recache-cli's lease commands against a real server:
 * `lget` (value on stdout; `state=... lease=... [token=HEX]` on stderr;
 * exit 0 hit, 1 miss, 2 lease held / wait timed out / error) and `fill`
 * (exit 0 stored, 3 the lease is no longer current, 2 errors such as a
 * malformed token), including the stale path and fill options.
 *
 * The one time-based step (waiting for a TTL to pass into the stale
 * window) polls the key's state with a deadline: expiry has no event.
 */
#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "rc_harness.h"
#include "rc_test.h"

#define TOKEN_HEX 32

static rc_harness_server srv;

/*
 * take_token - the token=HEX of an lget's stderr into buf (TOKEN_HEX + 1
 * bytes).  Returns 1 if present (and well formed), 0 if absent.
 */
static int take_token(const char *err, char *buf)
{
    const char *at = strstr(err, "token=");
    if (at == NULL)
        return 0;
    at += strlen("token=");
    for (int i = 0; i < TOKEN_HEX; i++)
        RC_CHECK(isxdigit((unsigned char)at[i]));
    RC_CHECK(at[TOKEN_HEX] == '\n' || at[TOKEN_HEX] == '\0');
    memcpy(buf, at, TOKEN_HEX);
    buf[TOKEN_HEX] = '\0';
    return 1;
}

static void test_help_lists_lease_commands(void)
{
    rc_cli_result r = rc_harness_cli_expect(&srv, 0, "--help", NULL);
    RC_CHECK(strstr(r.out, "lget NS KEY") != NULL);
    RC_CHECK(strstr(r.out, "fill NS KEY TOKEN [VALUE|-]") != NULL);
    RC_CHECK(strstr(r.out, "--wait MS") != NULL);
    rc_cli_result_free(&r);
}

static void test_lget_miss_and_fill(void)
{
    char token[TOKEN_HEX + 1];
    /* The first reader of a missing key wins the lease and is shown its token. */
    rc_cli_result r = rc_harness_cli_expect(&srv, 1, "lget", "cl", "k", NULL);
    RC_CHECK_EQ_INT(r.out_len, 0);
    RC_CHECK(strncmp(r.err, "state=miss lease=granted token=", 31) == 0);
    RC_CHECK(take_token(r.err, token));
    rc_cli_result_free(&r);

    /* Others are told the lease is held (an error), or time out waiting for it. */
    r = rc_harness_cli_expect(&srv, 2, "lget", "cl", "k", NULL);
    RC_CHECK(strstr(r.err, "state=miss lease=held") != NULL);
    RC_CHECK(strstr(r.err, "error: ") != NULL);
    RC_CHECK(strstr(r.err, "token=") == NULL);
    rc_cli_result_free(&r);
    r = rc_harness_cli_expect(&srv, 2, "lget", "cl", "k", "--wait", "100", NULL);
    RC_CHECK(strstr(r.err, "error: ") != NULL);
    rc_cli_result_free(&r);

    /* Malformed tokens never reach the server. */
    r = rc_harness_cli_expect(&srv, 2, "fill", "cl", "k", "xyz", "v", NULL);
    rc_cli_result_free(&r);
    r = rc_harness_cli_expect(&srv, 2, "fill", "cl", "k", "zz112233445566778899aabbccddeeff", "v",
                              NULL);
    rc_cli_result_free(&r);
    r = rc_harness_cli_expect(&srv, 2, "fill", "cl", "k", "00000000000000000000000000000000", "v",
                              NULL);
    rc_cli_result_free(&r);

    r = rc_harness_cli_expect(&srv, 0, "fill", "cl", "k", token, "filled value", "--ttl", "60000",
                              NULL);
    RC_CHECK(strcmp(r.out, "OK ns_version=1 entry_version=0\n") == 0);
    rc_cli_result_free(&r);
    r = rc_harness_cli_expect(&srv, 3, "fill", "cl", "k", token, "again",
                              NULL); /* the lease is used up */
    RC_CHECK(strstr(r.err, "rejected") != NULL);
    rc_cli_result_free(&r);

    r = rc_harness_cli_expect(&srv, 0, "lget", "cl", "k", NULL);
    RC_CHECK(strcmp(r.out, "filled value\n") == 0);
    RC_CHECK(strcmp(r.err, "state=fresh lease=none\n") == 0);
    rc_cli_result_free(&r);
    r = rc_harness_cli_expect(&srv, 0, "lget", "cl", "k", "--raw", NULL);
    RC_CHECK(strcmp(r.out, "filled value") == 0);
    rc_cli_result_free(&r);
}

static void test_lget_stale(void)
{
    char token[TOKEN_HEX + 1];
    rc_cli_result r = rc_harness_cli_expect(&srv, 0, "set", "cl", "s", "old", "--ttl", "50",
                                            "--stale", "60000", NULL);
    rc_cli_result_free(&r);
    uint64_t deadline = rc_harness_now_ms() + 10000;
    int stale = 0;
    while (!stale && rc_harness_now_ms() < deadline) {
        r = rc_harness_cli_expect(&srv, 0, "get", "cl", "s", "-v", NULL);
        stale = strstr(r.err, "state stale") != NULL;
        rc_cli_result_free(&r);
    }
    RC_CHECK(stale);

    r = rc_harness_cli_expect(&srv, 0, "lget", "cl", "s", NULL);
    RC_CHECK(strcmp(r.out, "old\n") == 0);
    RC_CHECK(strncmp(r.err, "state=stale lease=granted token=", 32) == 0);
    RC_CHECK(take_token(r.err, token));
    rc_cli_result_free(&r);
    r = rc_harness_cli_expect(&srv, 0, "lget", "cl", "s", "--wait", "5000",
                              NULL); /* stale: answered at once */
    RC_CHECK(strcmp(r.out, "old\n") == 0);
    RC_CHECK(strcmp(r.err, "state=stale lease=held\n") == 0);
    rc_cli_result_free(&r);

    /* Fill with a tag; a hard invalidation of the tag then removes the value. */
    r = rc_harness_cli_expect(&srv, 0, "fill", "cl", "s", token, "new", "--tag", "cli-lease-tag",
                              NULL);
    rc_cli_result_free(&r);
    r = rc_harness_cli_expect(&srv, 0, "lget", "cl", "s", NULL);
    RC_CHECK(strcmp(r.out, "new\n") == 0);
    RC_CHECK(strcmp(r.err, "state=fresh lease=none\n") == 0);
    rc_cli_result_free(&r);
    r = rc_harness_cli_expect(&srv, 0, "invalidate-tag", "cli-lease-tag", NULL);
    rc_cli_result_free(&r);
    r = rc_harness_cli_expect(&srv, 1, "get", "cl", "s", NULL);
    rc_cli_result_free(&r);
}

static void test_fill_after_bump_rejected(void)
{
    char token[TOKEN_HEX + 1];
    rc_cli_result r = rc_harness_cli_expect(&srv, 1, "lget", "cl", "d", NULL);
    RC_CHECK(take_token(r.err, token));
    rc_cli_result_free(&r);
    r = rc_harness_cli_expect(&srv, 0, "bump", "cl", NULL);
    rc_cli_result_free(&r);
    r = rc_harness_cli_expect(&srv, 3, "fill", "cl", "d", token, "late", NULL);
    rc_cli_result_free(&r);
    r = rc_harness_cli_expect(&srv, 2, "fill", "cl", "d", NULL); /* usage */
    rc_cli_result_free(&r);
}

int main(void)
{
    RC_CHECK(rc_harness_start(&srv, NULL) == 0);
    RC_TEST_RUN(test_help_lists_lease_commands);
    RC_TEST_RUN(test_lget_miss_and_fill);
    RC_TEST_RUN(test_lget_stale);
    RC_TEST_RUN(test_fill_after_bump_rejected);
    RC_CHECK_EQ_INT(rc_harness_stop(&srv), 0);
    return 0;
}
