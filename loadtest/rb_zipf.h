/*
 * rb_zipf.h - random numbers and an exact Zipf sampler for user popularity.
 *
 * Design.  The sampler precomputes the cumulative distribution of ranks
 * 1..n (P(k) proportional to 1/k^alpha) once, then draws by binary search
 * over it: exact up to double rounding, O(log n) per draw and 8 bytes per
 * rank (8 MB for a million users).  The table is read-only after
 * rb_zipf_init, so all load threads share one; each thread has its own
 * rb_rng (xoshiro256**, seeded by splitmix64), so draws need no locking.
 */
#ifndef RB_ZIPF_H
#define RB_ZIPF_H

#include <stdint.h>

typedef struct rb_rng {
    uint64_t s[4];
} rb_rng;

/* rb_rng_seed - seed a generator; equal seeds give equal streams. */
void rb_rng_seed(rb_rng *r, uint64_t seed);
/* rb_rng_next - 64 uniformly random bits. */
uint64_t rb_rng_next(rb_rng *r);
/* rb_rng_double - uniform in [0, 1). */
double rb_rng_double(rb_rng *r);
/* rb_rng_below - uniform in [0, n) for n >= 1. */
uint64_t rb_rng_below(rb_rng *r, uint64_t n);

typedef struct rb_zipf {
    uint64_t n;
    double alpha;
    double *cdf; /* cdf[i] = P(rank <= i + 1); cdf[n - 1] == 1 */
} rb_zipf;

/*
 * rb_zipf_init - build the table for n >= 1 ranks and alpha >= 0.
 * Returns 0 or RC_ENOMEM / RC_EINVAL.  Free with rb_zipf_free.
 */
int rb_zipf_init(rb_zipf *z, uint64_t n, double alpha);
void rb_zipf_free(rb_zipf *z);
/* rb_zipf_draw - a 0-based rank (0 is the most popular). Thread-safe with per-thread rngs. */
uint64_t rb_zipf_draw(const rb_zipf *z, rb_rng *r);
/* rb_zipf_prob - the exact probability of 0-based rank k. */
double rb_zipf_prob(const rb_zipf *z, uint64_t k);

#endif
