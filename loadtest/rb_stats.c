/* rb_stats.c - see rb_stats.h. */
#include "rb_stats.h"

#include <string.h>

void rb_stats_reset(rb_stats *s)
{
    memset(s, 0, sizeof(*s));
}

void rb_stats_add(rb_stats *dst, const rb_stats *src)
{
#define RB__CTR_ADD(name, help) dst->name += src->name;
    RB_COUNTERS(RB__CTR_ADD)
#undef RB__CTR_ADD
    for (int i = 0; i < RB_OP_COUNT; i++)
        rb_hist_add(&dst->op[i], &src->op[i]);
    rb_hist_add(&dst->read, &src->read);
    rb_hist_add(&dst->staleness, &src->staleness);
    for (int i = 0; i < RB_ORIGIN_SECONDS; i++)
        dst->origin_per_sec[i] += src->origin_per_sec[i];
}
