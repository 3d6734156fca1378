/*
 * rc_tags.h - the node-wide tag table: one epoch per tag name.
 *
 * Design.  A tag record holds the tag's name, an epoch incremented by every
 * invalidation, the epoch value set by the latest *hard* invalidation, and a
 * reference count: the number of entries physically in the store that carry
 * the tag.  Entries keep (record id, epoch at write time) pairs and are
 * judged lazily on read: hard_epoch > snapshot means hard-invalidated (a
 * miss), else epoch > snapshot means soft-invalidated (served stale).  So
 * invalidating a tag is one locked lookup and two stores, whatever the
 * number of entries carrying it.
 *
 * Records live in a two-level chunked array addressed by a stable u32 id, so
 * they never move and a reader holding an entry (which holds a reference)
 * can load the epochs without the table lock.  A record is freed when its
 * reference count drops to zero: no entry can then come back to life through
 * it, and a later entry with the same name gets a fresh record.  Freed ids
 * are reused.  Invalidating a name no entry carries is a no-op that
 * allocates nothing (epoch 0).
 *
 * Locking.  One mutex protects the name index, the free list and the
 * reference counts.  It is a leaf in the lock order: callers may hold a
 * shard lock when they call in, never the reverse.  Epoch reads
 * (rc_tags_judge) take no lock.
 *
 * Epochs are u32 and compared without wrap-around handling: a single tag
 * would need four billion invalidations while some entry still carries it.
 */
#ifndef RECACHE_RC_TAGS_H
#define RECACHE_RC_TAGS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "rc_hash.h"
#include "recache/rc_proto.h"

typedef struct rc_tags rc_tags;

/* What an entry stores per tag: the record id and the epoch seen at write time. */
typedef struct rc_tag_ref {
    uint32_t id;
    uint32_t epoch;
} rc_tag_ref;

/* Verdict of rc_tags_judge, ordered by severity. */
enum rc_tag_verdict {
    RC_TAG_VALID = 0, /* no tag invalidated since the write */
    RC_TAG_SOFT = 1,  /* some tag soft-invalidated: the entry is stale */
    RC_TAG_HARD = 2,  /* some tag hard-invalidated: the entry is dead */
};

/*
 * rc_tags_create - a table able to hold max_records live records at once.
 * The caller sizes max_records from its memory limit (each live record is
 * charged at least sizeof(record) to some entry), so it is never reached in
 * practice.  The directory of chunk pointers is allocated up front; record
 * chunks are allocated as ids are first used.  Aborts on OOM (rc_alloc).
 */
rc_tags *rc_tags_create(uint64_t max_records, const rc_hash_key *seed);

/* rc_tags_destroy - free every record.  Nothing else may use the table. */
void rc_tags_destroy(rc_tags *t);

/*
 * rc_tags_charge - bytes a store charges per tag reference of a name of
 * name_len bytes: the record itself, the name, and a fixed allowance for the
 * name's allocator overhead and its slot in the name index.  Charging this
 * for every reference (even when records are shared) keeps the real table
 * memory below what entries are charged.
 */
size_t rc_tags_charge(size_t name_len);

/*
 * rc_tags_acquire - for each of the n names, find or create its record, take
 * one reference and write (id, current epoch) into refs[i].  All-or-nothing:
 * returns 0, or RC_ENO_MEMORY if the id space is exhausted (references taken
 * so far are dropped).  Names must be 1..255 bytes (the caller checks its
 * configured limit).  Takes the table lock once.
 */
int rc_tags_acquire(rc_tags *t, const rc_slice *names, size_t n, rc_tag_ref *refs);

/* `since` value for rc_tags_acquire_since: no invalidation check. */
#define RC_TAGS_ANY_SEQ UINT64_MAX

/*
 * rc_tags_acquire_since - rc_tags_acquire for a lease fill: under one hold
 * of the table lock, first refuse (RC_ELEASE_REJECTED, nothing taken) if any
 * of the names was invalidated after sequence `since` (judged as
 * rc_tags_invalidated_since does), then take the references and snapshot
 * the epochs.  Because invalidations take the same lock, every invalidation
 * either happened before the check (the fill is refused) or after the
 * snapshot (the stored entry is judged invalidated): none can fall in
 * between, which is what keeps a fill computed before a hard invalidation
 * from being served fresh after it.
 */
int rc_tags_acquire_since(rc_tags *t, const rc_slice *names, size_t n, rc_tag_ref *refs,
                          uint64_t since);

/*
 * rc_tags_release - drop one reference per ref; records reaching zero are
 * freed.  Returns the sum of rc_tags_charge() over the refs, i.e. exactly
 * what rc_tags_acquire's caller charged for them.  Takes the table lock once.
 */
size_t rc_tags_release(rc_tags *t, const rc_tag_ref *refs, size_t n);

/*
 * rc_tags_judge - the most severe verdict over refs, from lock-free epoch
 * loads.  The caller must hold references on every id (it holds the entry).
 */
enum rc_tag_verdict rc_tags_judge(const rc_tags *t, const rc_tag_ref *refs, size_t n);

/*
 * rc_tags_invalidate - advance the epoch of the tag named name (mode is
 * RC_INVAL_HARD or RC_INVAL_SOFT; hard also records the new epoch as the hard
 * epoch).  Returns the new epoch, or 0 when no entry carries the tag (nothing
 * is created).  O(1) under the table lock.
 */
uint32_t rc_tags_invalidate(rc_tags *t, const uint8_t *name, size_t len, uint8_t mode);

/*
 * rc_tags_seq - the node's tag invalidation sequence: incremented by every
 * invalidation, of known and unknown names alike.  Lock-free.  A lease
 * remembers it when granted.
 */
uint64_t rc_tags_seq(const rc_tags *t);

/*
 * rc_tags_invalidated_since - whether any of the n names was invalidated
 * after sequence seq.  Names without a record are judged by the newest
 * invalidation the table no longer remembers by name (of an unknown name, or
 * of a freed record), which errs on the side of "yes": a late fill is
 * rejected rather than risk putting back data a purge meant to remove.
 * Takes the table lock once.
 */
bool rc_tags_invalidated_since(rc_tags *t, const rc_slice *names, size_t n, uint64_t seq);

/* rc_tags_live - number of live records (tags carried by at least one entry). */
uint32_t rc_tags_live(rc_tags *t);

#endif /* RECACHE_RC_TAGS_H */
