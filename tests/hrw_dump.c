/*
 * hrw_dump.c - print librecache's rendezvous ranking (rc_hrw_rank) for many
 * (namespace, key) pairs, so another client's implementation can be checked
 * against it byte for byte (clients/python/tests/test_cluster.py).  Built
 * for the tests only.
 *
 * Usage: hrw_dump COUNT NODE[=WEIGHT]...
 *
 * Output, one line per pair (COUNT pairs, deterministic):
 *   NS_HEX \t KEY_HEX \t I0,I1,... \t SCORE0,SCORE1,...
 * where I0.. is the ranking (node indices, best first) and SCOREi the score
 * of node i printed with %a (exact).  Keys are a mix of "user:N" and
 * pseudo-random binary keys of 1..64 bytes (any byte value, NUL included);
 * namespaces cycle through a few names.  Exit status 0, or 2 on bad usage.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "recache/recache.h"

#define HRW_DUMP_MAX_NODES 64
#define HRW_DUMP_MAX_KEY   64

/* dump_hex - print len bytes of p as lowercase hex. */
static void dump_hex(const void *p, size_t len)
{
    const unsigned char *b = p;
    for (size_t i = 0; i < len; i++)
        printf("%02x", b[i]);
}

/* next_rand - xorshift64 step (deterministic key material, not a placement input). */
static uint64_t next_rand(uint64_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return *s;
}

/* make_key - key number i into buf (HRW_DUMP_MAX_KEY bytes); returns its length (>= 1). */
static size_t make_key(unsigned long i, uint64_t *rng, char *buf)
{
    if (i % 2 == 0)
        return (size_t)snprintf(buf, HRW_DUMP_MAX_KEY, "user:%lu", i / 2);
    size_t len = 1 + (size_t)(next_rand(rng) % HRW_DUMP_MAX_KEY);
    for (size_t k = 0; k < len; k++)
        buf[k] = (char)(next_rand(rng) & 0xff);
    return len;
}

int main(int argc, char **argv)
{
    static const char *const namespaces[] = {"recs", "r", "model-v2:items", "\xc3\xa9t\xc3\xa9"};
    const char *nodes[HRW_DUMP_MAX_NODES];
    double weights[HRW_DUMP_MAX_NODES];
    size_t order[HRW_DUMP_MAX_NODES];
    char keybuf[HRW_DUMP_MAX_KEY];

    if (argc < 3 || argc - 2 > HRW_DUMP_MAX_NODES) {
        fprintf(stderr, "usage: hrw_dump COUNT NODE[=WEIGHT]... (at most %d nodes)\n",
                HRW_DUMP_MAX_NODES);
        return 2;
    }
    unsigned long count = strtoul(argv[1], NULL, 10);
    size_t n = (size_t)(argc - 2);
    for (size_t i = 0; i < n; i++) {
        char *eq = strchr(argv[i + 2], '=');
        weights[i] = 1.0;
        if (eq != NULL) {
            *eq = '\0';
            weights[i] = strtod(eq + 1, NULL);
        }
        nodes[i] = argv[i + 2];
    }
    uint64_t rng = 0x9e3779b97f4a7c15ull;
    for (unsigned long i = 0; i < count; i++) {
        const char *ns = namespaces[i % (sizeof namespaces / sizeof namespaces[0])];
        size_t key_len = make_key(i, &rng, keybuf);
        int rc = rc_hrw_rank(nodes, weights, n, ns, strlen(ns), keybuf, key_len, order);
        if (rc != 0) {
            fprintf(stderr, "hrw_dump: rc_hrw_rank: %s\n", rc_strerror(rc));
            return 2;
        }
        dump_hex(ns, strlen(ns));
        putchar('\t');
        dump_hex(keybuf, key_len);
        putchar('\t');
        for (size_t k = 0; k < n; k++)
            printf("%s%zu", k ? "," : "", order[k]);
        putchar('\t');
        for (size_t k = 0; k < n; k++)
            printf("%s%a", k ? "," : "",
                   rc_hrw_score(nodes[k], strlen(nodes[k]), ns, strlen(ns), keybuf, key_len,
                                weights[k]));
        putchar('\n');
    }
    return 0;
}
