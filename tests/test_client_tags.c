/*
 * test_client_tags.c - invalidation through the client, against a real
 * server:
 *   - the write/invalidation race: a writer that read entry version 5 loses
 *     to an invalidation (a newer write, or a delete) with NOT_NEWER, and a
 *     compare-and-swap with a stale expected version gets CAS_MISMATCH;
 *   - hard tag invalidation (miss) versus soft (served stale), untouched
 *     neighbours, re-writes after the invalidation;
 *   - an entry with the maximum number of tags, one of which is invalidated;
 *   - tag limits: one tag too many or one byte too long is a clear error
 *     and nothing is stored;
 *   - hard and soft key invalidation.
 */
#include <stdio.h>
#include <string.h>

#include "rc_harness.h"
#include "rc_test.h"

static rc_harness_server srv;
static rc_client *cli;

static void expect_value(const char *ns, const char *key, const char *want, int stale)
{
    rc_value v;
    RC_CHECK_RC(rc_get(cli, ns, key, strlen(key), NULL, &v), 0);
    RC_CHECK_MEM(v.data, v.len, want, strlen(want));
    RC_CHECK_EQ_INT(v.stale, stale);
    rc_value_free(&v);
}

static void expect_miss(const char *ns, const char *key)
{
    rc_value v;
    RC_CHECK_RC(rc_get(cli, ns, key, strlen(key), NULL, &v), RC_EMISS);
}

static int set_tagged(const char *ns, const char *key, const char *val, const char *const *tags,
                      size_t ntags)
{
    rc_set_options o = {.stale_ms = 60000, .tags = tags, .ntags = ntags};
    return rc_set(cli, ns, key, strlen(key), val, strlen(val), &o, NULL);
}

static void test_write_invalidation_race(void)
{
    rc_set_options v5 = {.stale_ms = RC_STALE_DEFAULT, .cond = RC_SET_IF_NEWER, .entry_version = 5};
    rc_set_options v6 = v5;
    v6.entry_version = 6;
    RC_CHECK_RC(rc_set(cli, "race", "k", 1, "five", 4, &v5, NULL), 0);

    /* The slow writer read version 5 ... */
    rc_value seen;
    RC_CHECK_RC(rc_get(cli, "race", "k", 1, NULL, &seen), 0);
    RC_CHECK_EQ_U64(seen.entry_version, 5);
    rc_value_free(&seen);
    /* ... an invalidation writes version 6 ... */
    RC_CHECK_RC(rc_set(cli, "race", "k", 1, "six", 3, &v6, NULL), 0);
    /* ... and the slow writer's put-back of version 5 is refused. */
    RC_CHECK_RC(rc_set(cli, "race", "k", 1, "five", 4, &v5, NULL), RC_ENOT_NEWER);
    expect_value("race", "k", "six", 0);

    /* Same race with a delete as the invalidation. */
    RC_CHECK_RC(rc_set(cli, "race", "d", 1, "five", 4, &v5, NULL), 0);
    RC_CHECK_RC(rc_delete(cli, "race", "d", 1, 0), 0);
    RC_CHECK_RC(rc_set(cli, "race", "d", 1, "five", 4, &v5, NULL), RC_ENOT_NEWER);
    expect_miss("race", "d");

    /* CAS: expected 5, but someone moved it to 6 meanwhile. */
    rc_set_options plain5 = {.stale_ms = RC_STALE_DEFAULT, .entry_version = 5};
    RC_CHECK_RC(rc_set(cli, "race", "c", 1, "five", 4, &plain5, NULL), 0);
    rc_set_options cas = {
        .stale_ms = RC_STALE_DEFAULT, .cond = RC_SET_CAS, .cas_version = 5, .entry_version = 6};
    RC_CHECK_RC(rc_set(cli, "race", "c", 1, "six", 3, &cas, NULL), 0);
    cas.entry_version = 7;
    rc_write_info wi;
    RC_CHECK_RC(rc_set(cli, "race", "c", 1, "stale", 5, &cas, &wi), RC_ECAS_MISMATCH);
    RC_CHECK_EQ_U64(wi.entry_version, 6);
    expect_value("race", "c", "six", 0);
}

static void test_hard_and_soft_tags(void)
{
    static const char *const a_tags[] = {"product:1", "segment:eu"};
    static const char *const b_tags[] = {"product:2", "segment:eu"};
    static const char *const c_tags[] = {"product:3"};
    RC_CHECK_RC(set_tagged("tags", "a", "A", a_tags, 2), 0);
    RC_CHECK_RC(set_tagged("tags", "b", "B", b_tags, 2), 0);
    RC_CHECK_RC(set_tagged("tags", "c", "C", c_tags, 1), 0);
    RC_CHECK_RC(rc_set(cli, "tags", "plain", 5, "P", 1, NULL, NULL), 0);

    uint64_t epoch = 0;
    RC_CHECK_RC(rc_invalidate_tag(cli, "product:1", RC_HARD, &epoch), 0);
    RC_CHECK(epoch > 0);
    expect_miss("tags", "a");
    expect_value("tags", "b", "B", 0);
    expect_value("tags", "c", "C", 0);

    RC_CHECK_RC(rc_invalidate_tag(cli, "product:3", RC_SOFT, NULL), 0);
    expect_value("tags", "c", "C", 1); /* served, flagged stale */
    expect_value("tags", "b", "B", 0);

    /* A shared tag reaches every entry carrying it. */
    RC_CHECK_RC(rc_invalidate_tag(cli, "segment:eu", RC_HARD, NULL), 0);
    expect_miss("tags", "b");
    expect_value("tags", "plain", "P", 0);

    /* A write after the invalidation is fresh again. */
    RC_CHECK_RC(set_tagged("tags", "a", "A2", a_tags, 2), 0);
    expect_value("tags", "a", "A2", 0);
    RC_CHECK_RC(set_tagged("tags", "c", "C2", c_tags, 1), 0);
    expect_value("tags", "c", "C2", 0);

    /* Invalidating a tag nobody carries is fine. */
    RC_CHECK_RC(rc_invalidate_tag(cli, "nobody:has-this", RC_HARD, &epoch), 0);
    RC_CHECK(rc_client_ok(cli));
}

/* Tag names are short by construction (prefix under 8 bytes, index under 1000). */
#define TAG_NAME_CAP 32

static void make_tags(char names[][TAG_NAME_CAP], const char **tags, size_t n, const char *prefix)
{
    for (size_t i = 0; i < n; i++) {
        snprintf(names[i], TAG_NAME_CAP, "%s%u", prefix, (unsigned)(i % 1000u));
        tags[i] = names[i];
    }
}

static void test_max_tags_entry(void)
{
    size_t max = rc_server_info_get(cli)->max_tags;
    RC_CHECK(max >= 2 && max <= 255);
    char names[256][TAG_NAME_CAP];
    const char *tags[256];
    make_tags(names, tags, max, "t");
    RC_CHECK_RC(set_tagged("many", "full", "F", tags, max), 0);
    RC_CHECK_RC(set_tagged("many", "half", "H", tags, max / 2), 0);
    expect_value("many", "full", "F", 0);

    /* Invalidate the last tag only: the full entry goes, the half one stays. */
    RC_CHECK_RC(rc_invalidate_tag(cli, tags[max - 1], RC_HARD, NULL), 0);
    expect_miss("many", "full");
    expect_value("many", "half", "H", 0);
}

static void test_tag_limits(void)
{
    const rc_server_info *info = rc_server_info_get(cli);
    size_t max = info->max_tags;
    char names[256][TAG_NAME_CAP];
    const char *tags[256];
    make_tags(names, tags, max + 1, "x");
    RC_CHECK_RC(set_tagged("lim", "k", "v", tags, max + 1), RC_ETOO_MANY_TAGS);
    RC_CHECK(rc_client_error_message(cli)[0] != '\0');
    expect_miss("lim", "k");

    char long_tag[300];
    memset(long_tag, 'g', sizeof long_tag);
    long_tag[info->max_tag_len + 1] = '\0';
    const char *one[] = {long_tag};
    RC_CHECK_RC(set_tagged("lim", "k", "v", one, 1), RC_ETAG_TOO_LONG);
    expect_miss("lim", "k");
    long_tag[info->max_tag_len] = '\0'; /* exactly the limit is fine */
    RC_CHECK_RC(set_tagged("lim", "k", "v", one, 1), 0);
    expect_value("lim", "k", "v", 0);
    RC_CHECK_RC(rc_invalidate_tag(cli, long_tag, RC_HARD, NULL), 0);
    expect_miss("lim", "k");

    /* The library refuses what the wire cannot carry before sending anything. */
    const char *empty[] = {""};
    RC_CHECK_RC(set_tagged("lim", "k", "v", empty, 1), RC_ETAG_TOO_LONG);
    RC_CHECK(rc_client_ok(cli));
}

static void test_invalidate_key(void)
{
    RC_CHECK_RC(rc_set(cli, "ik", "hard", 4, "H", 1, NULL, NULL), 0);
    RC_CHECK_RC(rc_invalidate_key(cli, "ik", "hard", 4, RC_HARD, 0), 0);
    expect_miss("ik", "hard");
    RC_CHECK_RC(rc_invalidate_key(cli, "ik", "hard", 4, RC_HARD, 0), RC_EMISS);

    rc_set_options o = {.stale_ms = 60000};
    RC_CHECK_RC(rc_set(cli, "ik", "soft", 4, "S", 1, &o, NULL), 0);
    RC_CHECK_RC(rc_invalidate_key(cli, "ik", "soft", 4, RC_SOFT, 0), 0);
    expect_value("ik", "soft", "S", 1);

    /* A hard invalidation of a versioned entry keeps rejecting older writes. */
    rc_set_options v3 = {.stale_ms = RC_STALE_DEFAULT, .cond = RC_SET_IF_NEWER, .entry_version = 3};
    RC_CHECK_RC(rc_set(cli, "ik", "ver", 3, "three", 5, &v3, NULL), 0);
    RC_CHECK_RC(rc_invalidate_key(cli, "ik", "ver", 3, RC_HARD, 0), 0);
    RC_CHECK_RC(rc_set(cli, "ik", "ver", 3, "three", 5, &v3, NULL), RC_ENOT_NEWER);
    expect_miss("ik", "ver");
    RC_CHECK_RC(rc_invalidate_key(cli, "ik", "absent", 6, RC_SOFT, 0), RC_EMISS);
}

int main(void)
{
    RC_CHECK(rc_harness_start(&srv, NULL) == 0);
    RC_CHECK_RC(rc_harness_connect(&srv, &cli), 0);
    RC_TEST_RUN(test_write_invalidation_race);
    RC_TEST_RUN(test_hard_and_soft_tags);
    RC_TEST_RUN(test_max_tags_entry);
    RC_TEST_RUN(test_tag_limits);
    RC_TEST_RUN(test_invalidate_key);
    rc_close(cli);
    RC_CHECK_EQ_INT(rc_harness_stop(&srv), 0);
    return 0;
}
