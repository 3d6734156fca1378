/*
 * test_hrw.c - rc_hrw_score / rc_hrw_rank (clients/c/rc_hrw.c): golden
 * scores that pin the algorithm of PROTOCOL.md section 14 (a change to any
 * step changes them, and every client would then disagree on placement),
 * tie-breaking, weights, and the argument contract.  The exhaustive
 * C-versus-Python comparison is clients/python/tests/test_cluster.py.
 */
#include <math.h>
#include <string.h>

#include "recache/recache.h"
#include "rc_test.h"

/* score - rc_hrw_score over NUL-terminated strings. */
static double score(const char *node, const char *ns, const char *key, double weight)
{
    return rc_hrw_score(node, strlen(node), ns, strlen(ns), key, strlen(key), weight);
}

/* Values written down from the specification's steps (and the Python client's result). */
static void test_golden_scores(void)
{
    RC_CHECK(score("127.0.0.1:7400", "recs", "user:42", 1.0) == 0x1.0ec1c3e770018p+1);
    RC_CHECK(score("a:1", "", "", 1.0) == 0x1.10a0f429e3071p+1);
    static const char key[] = {0x00, (char)0xff};
    RC_CHECK(rc_hrw_score("10.0.0.2:7400", 13, "r", 1, key, 2, 2.5) == 0x1.5dd6528df940cp+5);
    /* The score is linear in the weight: doubling it doubles the score exactly. */
    RC_CHECK(score("a:1", "ns", "k", 2.0) == 2.0 * score("a:1", "ns", "k", 1.0));
}

static void test_rank_orders_by_score(void)
{
    const char *nodes[] = {"n0:1", "n1:1", "n2:1", "n3:1", "n4:1"};
    size_t order[5];
    for (int k = 0; k < 200; k++) {
        char key[32];
        snprintf(key, sizeof key, "user:%d", k);
        RC_CHECK_RC(rc_hrw_rank(nodes, NULL, 5, "recs", 4, key, strlen(key), order), 0);
        int seen = 0;
        for (size_t i = 0; i < 5; i++) {
            seen |= 1 << order[i];
            if (i > 0)
                RC_CHECK(score(nodes[order[i - 1]], "recs", key, 1.0) >=
                         score(nodes[order[i]], "recs", key, 1.0));
        }
        RC_CHECK_EQ_INT(seen, 0x1f); /* a permutation */
    }
}

static void test_ties_and_weights(void)
{
    /* The same id twice scores exactly the same: the lower index ranks first. */
    const char *twins[] = {"x:1", "x:1", "x:1"};
    size_t order[3];
    RC_CHECK_RC(rc_hrw_rank(twins, NULL, 3, "ns", 2, "k", 1, order), 0);
    RC_CHECK(order[0] == 0 && order[1] == 1 && order[2] == 2);
    /* NULL weights mean 1.0 each. */
    const char *nodes[] = {"a:1", "b:1", "c:1"};
    const double ones[] = {1.0, 1.0, 1.0};
    size_t o1[3], o2[3];
    RC_CHECK_RC(rc_hrw_rank(nodes, NULL, 3, "ns", 2, "key", 3, o1), 0);
    RC_CHECK_RC(rc_hrw_rank(nodes, ones, 3, "ns", 2, "key", 3, o2), 0);
    RC_CHECK(memcmp(o1, o2, sizeof o1) == 0);
    /* A much heavier node wins nearly every key. */
    const double heavy[] = {1.0, 1000.0, 1.0};
    int wins = 0;
    for (int k = 0; k < 1000; k++) {
        char key[32];
        snprintf(key, sizeof key, "k%d", k);
        RC_CHECK_RC(rc_hrw_rank(nodes, heavy, 3, "ns", 2, key, strlen(key), o1), 0);
        wins += o1[0] == 1;
    }
    RC_CHECK(wins > 990);
    /* Empty namespace and key may be NULL with length 0. */
    RC_CHECK_RC(rc_hrw_rank(nodes, NULL, 3, NULL, 0, NULL, 0, o1), 0);
}

static void test_contract(void)
{
    const char *nodes[] = {"a:1", "b:1"};
    const char *with_null[] = {"a:1", NULL};
    size_t order[2];
    const double zero[] = {1.0, 0.0}, negative[] = {-1.0, 1.0}, inf[] = {INFINITY, 1.0},
                 nan[] = {1.0, NAN};
    RC_CHECK_RC(rc_hrw_rank(nodes, NULL, 0, "ns", 2, "k", 1, order), RC_EINVAL);
    const char *many[65];
    size_t many_order[65];
    for (size_t i = 0; i < 65; i++)
        many[i] = "n:1";
    RC_CHECK_RC(rc_hrw_rank(many, NULL, 64, "ns", 2, "k", 1, many_order), 0);
    RC_CHECK_RC(rc_hrw_rank(many, NULL, 65, "ns", 2, "k", 1, many_order), RC_EINVAL);
    RC_CHECK_RC(rc_hrw_rank(NULL, NULL, 2, "ns", 2, "k", 1, order), RC_EINVAL);
    RC_CHECK_RC(rc_hrw_rank(nodes, NULL, 2, "ns", 2, "k", 1, NULL), RC_EINVAL);
    RC_CHECK_RC(rc_hrw_rank(with_null, NULL, 2, "ns", 2, "k", 1, order), RC_EINVAL);
    RC_CHECK_RC(rc_hrw_rank(nodes, NULL, 2, NULL, 2, "k", 1, order), RC_EINVAL);
    RC_CHECK_RC(rc_hrw_rank(nodes, NULL, 2, "ns", 2, NULL, 1, order), RC_EINVAL);
    RC_CHECK_RC(rc_hrw_rank(nodes, zero, 2, "ns", 2, "k", 1, order), RC_EINVAL);
    RC_CHECK_RC(rc_hrw_rank(nodes, negative, 2, "ns", 2, "k", 1, order), RC_EINVAL);
    RC_CHECK_RC(rc_hrw_rank(nodes, inf, 2, "ns", 2, "k", 1, order), RC_EINVAL);
    RC_CHECK_RC(rc_hrw_rank(nodes, nan, 2, "ns", 2, "k", 1, order), RC_EINVAL);
}

int main(void)
{
    RC_TEST_RUN(test_golden_scores);
    RC_TEST_RUN(test_rank_orders_by_score);
    RC_TEST_RUN(test_ties_and_weights);
    RC_TEST_RUN(test_contract);
    return 0;
}
