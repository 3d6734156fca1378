/*
 * rc_entry.c - entry judging (layout and rules in rc_entry.h).
 */
#define _POSIX_C_SOURCE 200809L
#include "rc_shard.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "rc_alloc.h"

uint64_t rc__entry_hash(const rc_hash_key *seed, uint16_t ns_id, uint64_t version,
                        const uint8_t *key, size_t len)
{
    uint8_t prefix[10];
    prefix[0] = (uint8_t)ns_id;
    prefix[1] = (uint8_t)(ns_id >> 8);
    for (int i = 0; i < 8; i++)
        prefix[2 + i] = (uint8_t)(version >> (8 * i));
    rc_hash_state s;
    rc_hash_init(&s, seed);
    rc_hash_update(&s, prefix, sizeof(prefix));
    rc_hash_update(&s, key, len);
    return rc_hash_final(&s);
}

uint64_t rc__entry_rehash(const rc_hash_key *seed, const rc_entry *e)
{
    return rc__entry_hash(seed, e->ns_id, e->ns_version, rc__entry_key_of(e), e->key_len);
}

/* rc__judge - the state of e at now (tag verdicts read lock-free). Caller holds the shard lock. */
enum rc__life rc__judge(const rc_store *st, rc_entry *e, uint64_t now)
{
    if (e->flags & RC__TOMBSTONE)
        return now >= e->expire_ms ? RC__DEAD_TOMB : RC__TOMB;
    if (e->expire_ms != 0 && now >= e->expire_ms + rc__entry_stale_ms(e))
        return RC__DEAD_EXPIRED;
    enum rc_tag_verdict tags =
        e->ntags ? rc_tags_judge(st->tags, rc__entry_tags(e), e->ntags, e->written) : RC_TAG_VALID;
    if (tags == RC_TAG_HARD)
        return RC__DEAD_HARD;
    if (tags == RC_TAG_SOFT || (e->flags & RC__SOFT) || (e->expire_ms != 0 && now >= e->expire_ms))
        return RC__STALE;
    return RC__FRESH;
}

bool rc__is_dead(enum rc__life life)
{
    return life >= RC__DEAD_EXPIRED;
}

/* rc__is_old_version - whether e belongs to a version older than its namespace's current one. */
bool rc__is_old_version(const rc_store *st, const rc_entry *e)
{
    return e->ns_version < rc_ns_version(rc__entry_ns(st, e));
}

bool rc__is_live(enum rc__life life)
{
    return life == RC__FRESH || life == RC__STALE;
}

/* rc__read_fill - the metadata part of a hit. */
void rc__read_fill(const rc_entry *e, enum rc__life life, uint64_t now, rc_store_read *out)
{
    out->entry_version = rc__entry_version(e);
    out->client_flags = rc__entry_client_flags(e);
    out->value_len = e->value_len;
    out->state = life == RC__FRESH ? RC_STATE_FRESH : RC_STATE_STALE;
    out->written = e->written;
    if (e->expire_ms == 0)
        out->ttl_left_ms = RC_TTL_NONE;
    else if (life == RC__STALE || now >= e->expire_ms)
        out->ttl_left_ms = 0;
    else if (e->expire_ms - now >= RC_TTL_NONE)
        out->ttl_left_ms = RC_TTL_NONE - 1u;
    else
        out->ttl_left_ms = (uint32_t)(e->expire_ms - now);
}
