/* rb_stats.c - see rb_stats.h. */
#include "rb_stats.h"

#include <string.h>

#include "rb_oracle.h"

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
    for (int i = 0; i < RB_ORIGIN_SECONDS; i++) {
        dst->origin_per_sec[i] += src->origin_per_sec[i];
        dst->ops_per_sec[i] += src->ops_per_sec[i];
    }
}

uint64_t rb_stats_violations(const rb_stats *s)
{
    return s->corrupt + s->wrong_user + s->ghost_version + s->ghost_key + s->ghost_tag +
           s->ghost_soft;
}

bool rb_stats_verdict(rb_stats *s, int verdict, uint64_t staleness)
{
    s->checked++;
    switch ((rb_verdict)verdict) {
    case RB_VERDICT_OK:
        rb_hist_record(&s->staleness, staleness);
        if (staleness)
            s->stale_served++;
        return false;
    case RB_VERDICT_CORRUPT:
        s->corrupt++;
        break;
    case RB_VERDICT_WRONG_USER:
        s->wrong_user++;
        break;
    case RB_VERDICT_GHOST_VERSION:
        s->ghost_version++;
        break;
    case RB_VERDICT_GHOST_KEY:
        s->ghost_key++;
        break;
    case RB_VERDICT_GHOST_TAG:
        s->ghost_tag++;
        break;
    case RB_VERDICT_GHOST_SOFT:
        s->ghost_soft++;
        break;
    }
    return true;
}
