/*
 * rc_hrw.c - librecache: client-side placement by weighted rendezvous
 * hashing (highest random weight), as specified in PROTOCOL.md section 14.
 *
 * Design.  Every (node, namespace, key) triple gets a pseudo-random score;
 * a key lives on the node with the highest score.  Adding a node only moves
 * the keys that the new node now wins, removing one only moves the keys it
 * held, and a node of weight w wins a share proportional to w.  The hash is
 * FNV-1a 64 over "node \0 ns \0 key" followed by the splitmix64 finalizer
 * (FNV alone mixes its last bytes poorly); its top 53 bits become a uniform
 * u in (0, 1) and the score is -w / ln(u), which turns "highest of
 * exponential draws" into a weighted choice.  The arithmetic is plain IEEE
 * double (no fused or extended precision, glibc log()), so any language
 * that follows the same steps ranks nodes identically: the Python client
 * (clients/python/recache/cluster.py) is cross-checked against this file
 * by tests/hrw_dump.c.
 *
 * Pure functions: no I/O, no state, thread-safe; rc_hrw_rank allocates one
 * scratch array (RC_ENOMEM when that fails).
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "recache/recache.h"

#define RC_HRW_FNV_OFFSET 0xcbf29ce484222325ull
#define RC_HRW_FNV_PRIME  0x100000001b3ull
#define RC_HRW_TWO_POW_53 9007199254740992.0

/* rc__fnv1a - continue an FNV-1a 64 hash h over len bytes of p (p may be NULL when len is 0). */
static uint64_t rc__fnv1a(uint64_t h, const void *p, size_t len)
{
    const unsigned char *b = p;
    for (size_t i = 0; i < len; i++) {
        h ^= b[i];
        h *= RC_HRW_FNV_PRIME;
    }
    return h;
}

/* rc__splitmix64_final - the splitmix64 output finalizer (a bijection on 64 bits). */
static uint64_t rc__splitmix64_final(uint64_t h)
{
    h ^= h >> 30;
    h *= 0xbf58476d1ce4e5b9ull;
    h ^= h >> 27;
    h *= 0x94d049bb133111ebull;
    h ^= h >> 31;
    return h;
}

double rc_hrw_score(const char *node, size_t node_len, const char *ns, size_t ns_len,
                    const char *key, size_t key_len, double weight)
{
    static const unsigned char sep = 0;
    uint64_t h = RC_HRW_FNV_OFFSET;
    h = rc__fnv1a(h, node, node_len);
    h = rc__fnv1a(h, &sep, 1);
    h = rc__fnv1a(h, ns, ns_len);
    h = rc__fnv1a(h, &sep, 1);
    h = rc__fnv1a(h, key, key_len);
    h = rc__splitmix64_final(h);
    /* Exact conversion (h >> 11 < 2^53), then one IEEE addition and an exact division. */
    double u = ((double)(h >> 11) + 0.5) / RC_HRW_TWO_POW_53;
    return -weight / log(u);
}

int rc_hrw_rank(const char *const *nodes, const double *weights, size_t n, const char *ns,
                size_t ns_len, const char *key, size_t key_len, size_t *order_out)
{
    if (nodes == NULL || n == 0 || order_out == NULL || (ns == NULL && ns_len > 0) ||
        (key == NULL && key_len > 0) || n > SIZE_MAX / sizeof(double))
        return RC_EINVAL;
    for (size_t i = 0; i < n; i++) {
        double w = weights ? weights[i] : 1.0;
        if (nodes[i] == NULL || !(w > 0.0) || !isfinite(w))
            return RC_EINVAL;
    }
    double *score = malloc(n * sizeof *score);
    if (score == NULL)
        return RC_ENOMEM;
    /* Insertion sort by descending score, lower index first on exact ties (stable). */
    for (size_t i = 0; i < n; i++) {
        score[i] = rc_hrw_score(nodes[i], strlen(nodes[i]), ns, ns_len, key, key_len,
                                weights ? weights[i] : 1.0);
        size_t j = i;
        while (j > 0 && score[order_out[j - 1]] < score[i]) {
            order_out[j] = order_out[j - 1];
            j--;
        }
        order_out[j] = i;
    }
    free(score);
    return 0;
}
