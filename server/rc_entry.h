/*
 * rc_entry.h - the store's entry layout and how an entry is judged.
 *
 * Layout.  One allocation per entry: a 48-byte metadata struct (rc_entry),
 * then, only when one of its fields is not zero, the 16-byte optional part
 * (rc__entry_ext: the writer's version, client flags, stale window; flag
 * RC__EXT), then the key bytes padded to 4, then ntags tag record ids
 * (judged against the entry's write stamp, `written`), then the value.  A
 * tombstone is an entry with the optional part (its version), no tags and
 * no value, that remembers a deleted entry's version until expire_ms.
 *
 * Why the optional part: a plain write (no version, no flags, no stale
 * window) is the common case, and with glibc's 16-byte chunk rounding those
 * 16 bytes are a whole rounding step for every entry.
 *
 * The hash is not stored either.  A lookup compares the version, namespace,
 * key length and key bytes (chains average one entry, so a stored hash
 * would save nothing measurable there), and the few places that need an
 * indexed entry's bucket (unlink, replace, migration) recompute it with
 * rc__entry_hash: one SipHash-1-3 over at most max-key bytes, against 8
 * bytes on every entry.
 *
 * Judging.  An entry is fresh until expire_ms, then stale for stale_ms, then
 * dead; soft invalidation (its own flag, or a tag invalidation stamped
 * after the entry's write) takes freshness away, a hard one kills it.
 * Entries of a namespace version older than the current one are obsolete
 * for the evictor but still readable by explicit version.
 *
 * Locking.  An entry belongs to its shard: everything here is called with
 * that shard's lock held (tag stamps are read lock-free, rc_tags.h).
 */
#ifndef RECACHE_RC_ENTRY_H
#define RECACHE_RC_ENTRY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "rc_hash.h"
#include "rc_store.h"
#include "rc_tags.h"

enum rc__entry_flag {
    RC__TOMBSTONE = 1u,  /* no value: remembers entry_version until expire_ms */
    RC__SOFT = 2u,       /* soft-invalidated: never fresh again */
    RC__REFERENCED = 4u, /* CLOCK reference bit, set by hits */
    RC__LIST = 8u,       /* the value is a list (RC_ITEM_SIZE bytes per item), else bytes */
    RC__EXT = 16u,       /* an rc__entry_ext follows the header */
};

typedef struct rc_entry {
    struct rc_entry *next; /* hash chain */
    uint64_t ns_version;   /* namespace version the entry belongs to */
    uint64_t expire_ms;    /* absolute; 0 = never.  Tombstones: end of life */
    uint64_t written;      /* HLC stamp of the write (rc_hlc.h): orders it, dates it */
    uint32_t ring_slot;    /* physical index in the shard's ring */
    uint32_t value_len;
    uint16_t key_len;
    uint16_t ns_id;
    uint8_t ntags;
    uint8_t flags; /* enum rc__entry_flag */
} rc_entry;

/* 48 bytes: every byte here is paid once per entry. */
_Static_assert(sizeof(rc_entry) <= 48, "entry metadata budget");

/*
 * The optional part of the header, present (RC__EXT) only when one of its
 * fields is not zero: a writer's version (always for a tombstone), client
 * flags or a stale window.  The common plain write carries none of them.
 */
typedef struct rc__entry_ext {
    uint64_t entry_version; /* writer-stamped; 0 = unversioned */
    uint32_t client_flags;
    uint32_t stale_ms; /* stale window after expire_ms */
} rc__entry_ext;

/* What a judgement finds: servable, a tombstone, dead (to be freed), or nothing. */
enum rc__life {
    RC__FRESH,
    RC__STALE,
    RC__TOMB,
    RC__ABSENT,
    RC__DEAD_EXPIRED, /* past expiry + stale window */
    RC__DEAD_HARD,    /* a tag was hard-invalidated after the write */
    RC__DEAD_TOMB,    /* tombstone past its time */
};

static inline size_t rc__align4(size_t n)
{
    return (n + 3u) & ~(size_t)3u;
}

/* rc__entry_size - bytes of one allocation holding the optional header part, key, tag references
 * and value. */
static inline size_t rc__entry_size(bool ext, size_t key_len, size_t ntags, size_t value_len)
{
    return sizeof(rc_entry) + (ext ? sizeof(rc__entry_ext) : 0) + rc__align4(key_len) +
           ntags * sizeof(rc_tag_ref) + value_len;
}

/* rc__entry_needs_ext - whether an entry with these fields needs its optional header part. */
static inline bool rc__entry_needs_ext(uint64_t entry_version, uint32_t client_flags,
                                       uint32_t stale_ms)
{
    return (entry_version | client_flags | stale_ms) != 0;
}

/* rc__entry_kind - enum rc_value_kind of e's value. */
static inline uint8_t rc__entry_kind(const rc_entry *e)
{
    return (e->flags & RC__LIST) ? RC_KIND_LIST : RC_KIND_BYTES;
}

/* rc__entry_ext_of - e's optional header part; NULL when it has none (all its fields zero). */
static inline const rc__entry_ext *rc__entry_ext_of(const rc_entry *e)
{
    return (e->flags & RC__EXT) ? (const rc__entry_ext *)(const void *)(e + 1) : NULL;
}

static inline uint64_t rc__entry_version(const rc_entry *e)
{
    const rc__entry_ext *x = rc__entry_ext_of(e);
    return x ? x->entry_version : 0;
}

static inline uint32_t rc__entry_stale_ms(const rc_entry *e)
{
    const rc__entry_ext *x = rc__entry_ext_of(e);
    return x ? x->stale_ms : 0;
}

static inline uint32_t rc__entry_client_flags(const rc_entry *e)
{
    const rc__entry_ext *x = rc__entry_ext_of(e);
    return x ? x->client_flags : 0;
}

/* Bytes between the header and the key: the optional part when present. */
static inline size_t rc__entry_key_offset(const rc_entry *e)
{
    return sizeof(rc_entry) + ((e->flags & RC__EXT) ? sizeof(rc__entry_ext) : 0);
}

/* rc__entry_key_of - e's key bytes, read-only (lookups, hashing). */
static inline const uint8_t *rc__entry_key_of(const rc_entry *e)
{
    return (const uint8_t *)e + rc__entry_key_offset(e);
}

static inline uint8_t *rc__entry_key(rc_entry *e)
{
    return (uint8_t *)e + rc__entry_key_offset(e);
}

static inline rc_tag_ref *rc__entry_tags(rc_entry *e)
{
    return (rc_tag_ref *)(void *)(rc__entry_key(e) + rc__align4(e->key_len));
}

static inline uint8_t *rc__entry_value(rc_entry *e)
{
    return (uint8_t *)(rc__entry_tags(e) + e->ntags);
}

/*
 * rc__entry_hash - the index hash of (namespace id, namespace version, key),
 * keyed by seed.  The shard is chosen by its high bits, the bucket by its low
 * bits.  Pure; no lock needed.
 */
uint64_t rc__entry_hash(const rc_hash_key *seed, uint16_t ns_id, uint64_t version,
                        const uint8_t *key, size_t len);

/* rc__entry_rehash - rc__entry_hash of an entry's own namespace, version and key. */
uint64_t rc__entry_rehash(const rc_hash_key *seed, const rc_entry *e);

/* rc__judge - the state of e at now (tag verdicts read lock-free). */
enum rc__life rc__judge(const rc_store *st, rc_entry *e, uint64_t now);

/* Dead: to be freed (expired past the stale window, hard-invalidated, tombstone past its time). */
bool rc__is_dead(enum rc__life life);

/* Live: servable, fresh or stale. */
bool rc__is_live(enum rc__life life);

/* rc__is_old_version - e belongs to a version older than its namespace's current one. */
bool rc__is_old_version(const rc_store *st, const rc_entry *e);

/* rc__read_fill - the metadata part of a hit into out. */
void rc__read_fill(const rc_entry *e, enum rc__life life, uint64_t now, rc_store_read *out);

#endif /* RECACHE_RC_ENTRY_H */
