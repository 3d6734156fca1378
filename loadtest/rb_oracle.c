/*
 * rb_oracle.c - see rb_oracle.h.  Relaxed ordering is enough for the
 * counters themselves; the happens-before that matters (a bump acknowledged
 * before a request is sent) is established by the sending thread reading
 * the floor after the acknowledging thread stored it, which acquire/release
 * on bump_acked makes explicit.
 */
#include "rb_oracle.h"

#include <stdlib.h>

#include "recache/rc_errors.h"

int rb_oracle_init(rb_oracle *o, uint32_t users)
{
    o->users = users;
    o->next_seq = calloc(users, sizeof(*o->next_seq));
    o->acked_seq = calloc(users, sizeof(*o->acked_seq));
    atomic_init(&o->bump_acked, 0);
    atomic_init(&o->version_seen, 0);
    if (!o->next_seq || !o->acked_seq) {
        rb_oracle_free(o);
        return RC_ENOMEM;
    }
    return 0;
}

void rb_oracle_free(rb_oracle *o)
{
    free(o->next_seq);
    free(o->acked_seq);
    o->next_seq = o->acked_seq = NULL;
}

/* Raise *a to at least v. */
static void rb__atomic_max(_Atomic uint64_t *a, uint64_t v, memory_order mo)
{
    uint64_t cur = atomic_load_explicit(a, memory_order_relaxed);
    while (cur < v && !atomic_compare_exchange_weak_explicit(a, &cur, v, mo, memory_order_relaxed))
        ;
}

uint64_t rb_oracle_next_seq(rb_oracle *o, uint32_t user)
{
    return atomic_fetch_add_explicit(&o->next_seq[user], 1, memory_order_relaxed) + 1;
}

void rb_oracle_ack_write(rb_oracle *o, uint32_t user, uint64_t seq)
{
    rb__atomic_max(&o->acked_seq[user], seq, memory_order_relaxed);
}

uint64_t rb_oracle_acked(rb_oracle *o, uint32_t user)
{
    return atomic_load_explicit(&o->acked_seq[user], memory_order_relaxed);
}

void rb_oracle_ack_bump(rb_oracle *o, uint64_t v)
{
    rb__atomic_max(&o->bump_acked, v, memory_order_release);
    rb_oracle_see_version(o, v);
}

void rb_oracle_see_version(rb_oracle *o, uint64_t v)
{
    rb__atomic_max(&o->version_seen, v, memory_order_relaxed);
}

rb_verdict rb_oracle_check(uint32_t user, uint64_t floor, uint64_t acked, bool check_version,
                           const uint8_t *value, size_t len, rb_value_info *info,
                           uint64_t *staleness)
{
    *staleness = 0;
    if (rb_value_decode(value, len, info) != 0)
        return RB_VERDICT_CORRUPT;
    if (info->user != user)
        return RB_VERDICT_WRONG_USER;
    if (check_version && info->version < floor)
        return RB_VERDICT_GHOST;
    if (acked > info->seq)
        *staleness = acked - info->seq;
    return RB_VERDICT_OK;
}

const char *rb_verdict_name(rb_verdict v)
{
    static const char *const names[] = {"ok", "corrupt", "wrong-user", "ghost"};
    return (unsigned)v < sizeof(names) / sizeof(names[0]) ? names[v] : "unknown";
}
