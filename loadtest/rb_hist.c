/*
 * rb_hist.c - see rb_hist.h for the bucket layout.  For v >= 128 the shift
 * s >= 1 is chosen so that v >> s lies in [64, 128); the index is then
 * 128 + (s - 1) * 64 + ((v >> s) - 64).
 */
#include "rb_hist.h"

#include <string.h>

void rb_hist_reset(rb_hist *h)
{
    memset(h, 0, sizeof(*h));
}

unsigned rb_hist_index(uint64_t v)
{
    if (v < RB_HIST_SUB)
        return (unsigned)v;
    unsigned msb = 63u - (unsigned)__builtin_clzll(v);
    unsigned s = msb - 6u;
    return RB_HIST_SUB + (s - 1u) * RB_HIST_HALF + (unsigned)((v >> s) - RB_HIST_HALF);
}

uint64_t rb_hist_bucket_high(unsigned idx)
{
    if (idx < RB_HIST_SUB)
        return idx;
    unsigned s = (idx - RB_HIST_SUB) / RB_HIST_HALF + 1u;
    uint64_t low = (uint64_t)((idx - RB_HIST_SUB) % RB_HIST_HALF + RB_HIST_HALF) << s;
    return low + ((uint64_t)1 << s) - 1u;
}

void rb_hist_record(rb_hist *h, uint64_t v)
{
    h->b[rb_hist_index(v)]++;
    if (h->count == 0 || v < h->min)
        h->min = v;
    if (v > h->max)
        h->max = v;
    h->count++;
    h->sum += v;
}

void rb_hist_add(rb_hist *dst, const rb_hist *src)
{
    if (src->count == 0)
        return;
    for (unsigned i = 0; i < RB_HIST_BUCKETS; i++)
        dst->b[i] += src->b[i];
    if (dst->count == 0 || src->min < dst->min)
        dst->min = src->min;
    if (src->max > dst->max)
        dst->max = src->max;
    dst->count += src->count;
    dst->sum += src->sum;
}

uint64_t rb_hist_percentile(const rb_hist *h, double p)
{
    if (h->count == 0)
        return 0;
    uint64_t rank = (uint64_t)((p / 100.0) * (double)h->count + 0.999999);
    if (rank < 1)
        rank = 1;
    if (rank > h->count)
        rank = h->count;
    uint64_t seen = 0;
    for (unsigned i = 0; i < RB_HIST_BUCKETS; i++) {
        seen += h->b[i];
        if (seen >= rank) {
            uint64_t v = rb_hist_bucket_high(i);
            return v > h->max ? h->max : v;
        }
    }
    return h->max;
}

double rb_hist_mean(const rb_hist *h)
{
    return h->count ? (double)h->sum / (double)h->count : 0.0;
}
