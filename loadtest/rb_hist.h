/*
 * rb_hist.h - a log-linear latency histogram in the style of HdrHistogram.
 *
 * Design.  Values below 128 get one exact bucket each; above that, every
 * power of two is split into 64 equal sub-buckets, so any recorded value is
 * known to within 1/64 (1.6%) of itself, for the whole 64-bit range, in
 * 3776 fixed counters.  Recording is one bit scan and one increment;
 * percentiles walk the counters (never a sort of samples); histograms from
 * several threads merge by adding counters.  Exact count, sum, min and max
 * are kept on the side.  Not thread-safe: one histogram per thread, merged
 * after the threads have stopped.
 */
#ifndef RB_HIST_H
#define RB_HIST_H

#include <stdint.h>

#define RB_HIST_SUB     128u
#define RB_HIST_HALF    64u
#define RB_HIST_BUCKETS (RB_HIST_SUB + 56u * RB_HIST_HALF + RB_HIST_HALF)

typedef struct rb_hist {
    uint64_t count, sum, min, max;
    uint64_t b[RB_HIST_BUCKETS];
} rb_hist;

void rb_hist_reset(rb_hist *h);
void rb_hist_record(rb_hist *h, uint64_t v);
/* rb_hist_add - dst += src. */
void rb_hist_add(rb_hist *dst, const rb_hist *src);
/*
 * rb_hist_percentile - the smallest recorded value v such that at least p
 * percent of the values are <= v, reported as the highest value of its bucket
 * (never above max).  0 for an empty histogram.  p in [0, 100].
 */
uint64_t rb_hist_percentile(const rb_hist *h, double p);
double rb_hist_mean(const rb_hist *h);

/* Bucket index of a value and the highest value sharing that bucket (exposed for tests). */
unsigned rb_hist_index(uint64_t v);
uint64_t rb_hist_bucket_high(unsigned idx);

#endif
