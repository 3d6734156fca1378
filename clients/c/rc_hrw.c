/*
 * rc_hrw.c - weighted rendezvous (highest random weight) hashing.
 *
 * Each node scores every key; the key belongs to the highest score.  The
 * score of a node is -weight / ln(u), u a uniform draw in (0, 1) derived from
 * a hash of (node, namespace, key): the node with weight w then wins a share
 * w / sum(weights) of the keys, and removing a node moves only its keys (the
 * others' scores do not change).  The hash is FNV-1a 64 with the splitmix64
 * finalizer for avalanche, specified byte for byte in PROTOCOL.md so that
 * clients in other languages place keys identically.
 */
#include <math.h>
#include <string.h>

#include "recache/recache.h"

#define RC__FNV_OFFSET 0xcbf29ce484222325ull
#define RC__FNV_PRIME  0x100000001b3ull

static uint64_t rc__fnv(uint64_t h, const void *data, size_t len)
{
    const unsigned char *p = data;
    for (size_t i = 0; i < len; i++) {
        h ^= p[i];
        h *= RC__FNV_PRIME;
    }
    return h;
}

static uint64_t rc__mix(uint64_t h)
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
    static const unsigned char zero = 0;
    uint64_t h = RC__FNV_OFFSET;
    h = rc__fnv(h, node, node_len);
    h = rc__fnv(h, &zero, 1);
    h = rc__fnv(h, ns, ns_len);
    h = rc__fnv(h, &zero, 1);
    h = rc__fnv(h, key, key_len);
    h = rc__mix(h);
    double u = ((double)(h >> 11) + 0.5) / 9007199254740992.0; /* 2^53 */
    return -weight / log(u);
}

int rc_hrw_rank(const char *const *nodes, const double *weights, size_t n, const char *ns,
                size_t ns_len, const char *key, size_t key_len, size_t *order_out)
{
    double scores[64];
    if (n == 0 || n > sizeof scores / sizeof scores[0] || nodes == NULL || order_out == NULL ||
        (ns == NULL && ns_len) || (key == NULL && key_len))
        return RC_EINVAL;
    for (size_t i = 0; i < n; i++) {
        double w = weights ? weights[i] : 1.0;
        if (nodes[i] == NULL || !(w > 0.0) || !isfinite(w))
            return RC_EINVAL;
        scores[i] = rc_hrw_score(nodes[i], strlen(nodes[i]), ns, ns_len, key, key_len, w);
        /* Insertion sort by descending score; equal scores keep index order. */
        size_t j = i;
        while (j > 0 && scores[order_out[j - 1]] < scores[i]) {
            order_out[j] = order_out[j - 1];
            j--;
        }
        order_out[j] = i;
    }
    return 0;
}
