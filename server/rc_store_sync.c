/*
 * rc_store_sync.c - merges and listings for anti-entropy (see rc_store_sync.h).
 */
#define _POSIX_C_SOURCE 200809L
#include "rc_store_sync.h"

#include <stdatomic.h>
#include <string.h>

#include "rc_shard.h"

int rc_store_merge_tag(rc_store *st, rc_slice tag, uint64_t hard, uint64_t any, unsigned *raised)
{
    *raised = 0;
    if (tag.len == 0)
        return RC_ETAG_TOO_LONG;
    /* Still observe the stamps: the clock must pass everything a peer has seen. */
    if (tag.len > st->cfg.max_tag_len) {
        rc_hlc_observe(&st->clock, hard > any ? hard : any);
        return 0;
    }
    *raised = rc_tags_merge(st->tags, tag.ptr, tag.len, hard, any);
    if (*raised & RC_TAGS_RAISED_HARD) {
        atomic_fetch_add_explicit(&st->tag_invalidations[RC_INVAL_HARD], 1, memory_order_relaxed);
        atomic_fetch_add_explicit(&st->obsolete_gen, 1, memory_order_acq_rel);
    } else if (*raised) {
        atomic_fetch_add_explicit(&st->tag_invalidations[RC_INVAL_SOFT], 1, memory_order_relaxed);
    }
    return 0;
}

size_t rc_store_list_versions(rc_store *st, uint32_t *cursor, rc_ns_state *out, size_t max)
{
    size_t n = 0;
    uint32_t id = *cursor, limit = rc_store_ns_id_limit(st);
    rc_ns_enter(st->namespaces);
    for (; id < limit && n < max; id++) {
        const rc_ns *ns = rc_ns_by_id(st->namespaces, (uint16_t)id);
        uint64_t version = ns ? rc_ns_version(ns) : 0;
        if (version <= 1u)
            continue;
        out[n].version = version;
        out[n].name_len = ns->name_len;
        memcpy(out[n].name, ns->name, ns->name_len);
        n++;
    }
    rc_ns_leave(st->namespaces);
    *cursor = id;
    return n;
}

uint32_t rc_store_ns_id_limit(const rc_store *st)
{
    return st->cfg.max_namespaces;
}

size_t rc_store_list_tags(rc_store *st, uint32_t *cursor, rc_tag_state *out, size_t max)
{
    return rc_tags_list(st->tags, cursor, out, max);
}

uint32_t rc_store_tag_id_limit(rc_store *st)
{
    return rc_tags_id_limit(st->tags);
}

uint64_t rc_store_clock_now(rc_store *st)
{
    return rc_hlc_now(&st->clock);
}

void rc_store_observe(rc_store *st, uint64_t stamp)
{
    rc_hlc_observe(&st->clock, stamp);
}
