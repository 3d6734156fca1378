/*
 * rb_zipf.c - see rb_zipf.h.  The CDF is accumulated in long double and
 * normalised at the end, so the last entry is exactly 1 and rounding error
 * stays far below what any test or workload can observe.
 */
#include "rb_zipf.h"

#include <math.h>
#include <stdlib.h>

#include "recache/rc_errors.h"

static uint64_t rb__splitmix(uint64_t *x)
{
    uint64_t z = (*x += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

void rb_rng_seed(rb_rng *r, uint64_t seed)
{
    for (int i = 0; i < 4; i++)
        r->s[i] = rb__splitmix(&seed);
}

static uint64_t rb__rotl(uint64_t x, int k)
{
    return (x << k) | (x >> (64 - k));
}

uint64_t rb_rng_next(rb_rng *r)
{
    uint64_t *s = r->s;
    uint64_t result = rb__rotl(s[1] * 5, 7) * 9, t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rb__rotl(s[3], 45);
    return result;
}

double rb_rng_double(rb_rng *r)
{
    return (double)(rb_rng_next(r) >> 11) * 0x1.0p-53;
}

uint64_t rb_rng_below(rb_rng *r, uint64_t n)
{
    /* Multiply-shift: bias below 2^-32 for any n a benchmark uses. */
    return (uint64_t)(((unsigned __int128)rb_rng_next(r) * n) >> 64);
}

int rb_zipf_init(rb_zipf *z, uint64_t n, double alpha)
{
    if (n == 0 || !(alpha >= 0.0))
        return RC_EINVAL;
    z->cdf = malloc(n * sizeof(double));
    if (!z->cdf)
        return RC_ENOMEM;
    z->n = n;
    z->alpha = alpha;
    long double sum = 0;
    for (uint64_t k = 0; k < n; k++) {
        sum += 1.0L / powl((long double)(k + 1), (long double)alpha);
        z->cdf[k] = (double)sum;
    }
    for (uint64_t k = 0; k < n; k++)
        z->cdf[k] = (double)((long double)z->cdf[k] / sum);
    z->cdf[n - 1] = 1.0;
    return 0;
}

void rb_zipf_free(rb_zipf *z)
{
    free(z->cdf);
    z->cdf = NULL;
}

uint64_t rb_zipf_draw(const rb_zipf *z, rb_rng *r)
{
    double u = rb_rng_double(r);
    uint64_t lo = 0, hi = z->n - 1; /* smallest k with cdf[k] > u */
    while (lo < hi) {
        uint64_t mid = lo + (hi - lo) / 2;
        if (z->cdf[mid] > u)
            hi = mid;
        else
            lo = mid + 1;
    }
    return lo;
}

double rb_zipf_prob(const rb_zipf *z, uint64_t k)
{
    return k == 0 ? z->cdf[0] : z->cdf[k] - z->cdf[k - 1];
}
