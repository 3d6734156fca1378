/*
 * rc_hlc.c - the hybrid logical clock (see rc_hlc.h).
 */
#define _POSIX_C_SOURCE 200809L
#include "rc_hlc.h"

#include <time.h>

void rc_hlc_init(rc_hlc *c)
{
    atomic_init(&c->last, 0);
}

uint64_t rc_hlc_wall_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

uint64_t rc_hlc_now(rc_hlc *c)
{
    uint64_t wall = rc_hlc_wall_ms() << RC_HLC_LOGICAL_BITS;
    uint64_t last = atomic_load_explicit(&c->last, memory_order_relaxed);
    for (;;) {
        uint64_t next = wall > last ? wall : last + 1u;
        if (atomic_compare_exchange_weak_explicit(&c->last, &last, next, memory_order_relaxed,
                                                  memory_order_relaxed))
            return next;
    }
}

void rc_hlc_observe(rc_hlc *c, uint64_t remote)
{
    uint64_t last = atomic_load_explicit(&c->last, memory_order_relaxed);
    while (remote > last &&
           !atomic_compare_exchange_weak_explicit(&c->last, &last, remote, memory_order_relaxed,
                                                  memory_order_relaxed)) {
    }
}
