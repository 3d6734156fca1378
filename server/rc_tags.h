/*
 * rc_tags.h - the node-wide tag table: two invalidation stamps per tag name.
 *
 * Design.  A tag record holds the tag's name, the hybrid logical clock
 * stamp (rc_hlc.h) of its newest invalidation of any mode (`any`), the
 * stamp of its newest *hard* invalidation (`hard`), and a reference count:
 * the number of entries physically in the store that carry the tag.
 * Entries keep the record ids of their tags and the HLC stamp of their own
 * write, and are judged lazily on read: hard > write stamp means
 * hard-invalidated (a miss), else any > write stamp means soft-invalidated
 * (served stale).  So invalidating a tag is one locked lookup and two
 * stores, whatever the number of entries carrying it.
 *
 * Why stamps and not counters.  Stamps order invalidations cluster-wide:
 * merging a peer's record is a max per stamp, which can never lose an
 * invalidation (per-node counters cannot be merged: invalidation X counted
 * only on node A and a later Y counted only on node B give both a count of
 * 1, and a max keeps one of them).  The guarantee, exactly: an invalidation
 * stamped S kills (or, soft, makes stale) every entry carrying the tag whose
 * write stamp is < S, on every node that has merged S.  On the node that
 * stamped it this is exact: every write acknowledged before the
 * invalidation was issued has a smaller stamp, every write that started
 * after it was stamped has a larger one.  On another node, whose clock may
 * differ, a write acknowledged more than the cluster's clock skew plus one
 * millisecond (the stamps' resolution) before the invalidation was issued
 * has a smaller stamp, so it is killed wherever it lives, whichever node
 * the invalidation reached first; a write within that window may be judged
 * either way.  The skew is the largest difference between any two nodes'
 * clocks (a node whose clock runs ahead carries the others' stamps ahead
 * through merges).  A node observes every merged stamp into its clock, so
 * everything it writes after a merge is stamped above it.
 *
 * The write stamp is taken under the table lock, after the references are
 * taken (rc_tags_acquire_since), and invalidations take their stamp under
 * the same lock: an invalidation either precedes the snapshot (it is
 * smaller than the write stamp, and a lease fill is refused by the
 * sequence check) or follows it (it is larger, so it kills the entry).
 *
 * Records live in a two-level chunked array addressed by a stable u32 id, so
 * they never move and a reader holding an entry (which holds a reference)
 * can load the stamps without the table lock.  A record is freed when its
 * reference count drops to zero: no entry can then come back to life through
 * it, and a later entry with the same name gets a fresh record (stamps 0:
 * its entries are all stamped after anything the table saw).  Freed ids are
 * reused.  Invalidating a name no entry carries allocates nothing; it is
 * stamped and remembered only per name-hash bucket (for lease fills and to
 * decide whether a merge brings news).
 *
 * Locking.  One mutex protects the name index, the free list and the
 * reference counts.  It is a leaf in the lock order: callers may hold a
 * shard lock when they call in, never the reverse.  Stamp reads
 * (rc_tags_judge) take no lock.  The clock is lock-free; taking a stamp
 * under the lock is what orders it against the other holders.
 */
#ifndef RECACHE_RC_TAGS_H
#define RECACHE_RC_TAGS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "rc_hash.h"
#include "rc_hlc.h"
#include "recache/rc_proto.h"

typedef struct rc_tags rc_tags;

/* What an entry stores per tag: the record id (the entry's write stamp is its snapshot). */
typedef struct rc_tag_ref {
    uint32_t id;
} rc_tag_ref;

/* A tag's invalidation state, as listed for a peer (rc_tags_list) or merged from one. */
typedef struct rc_tag_state {
    uint64_t hard; /* stamp of the newest hard invalidation (0 = none) */
    uint64_t any;  /* stamp of the newest invalidation of any mode (>= hard) */
    uint8_t name_len;
    uint8_t name[RC_WIRE_MAX_TAG_LEN];
} rc_tag_state;

/* What rc_tags_merge raised (a bit set). */
#define RC_TAGS_RAISED_HARD 1u
#define RC_TAGS_RAISED_ANY  2u

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
 * clock (the store's) stamps invalidations and writes; it must outlive t.
 */
rc_tags *rc_tags_create(uint64_t max_records, const rc_hash_key *seed, rc_hlc *clock);

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
 * one reference and write its id into refs[i]; then, still under the lock,
 * *stamp = a new stamp from the clock: the write stamp of the entry that
 * will carry the refs.  All-or-nothing: returns 0, or RC_ENO_MEMORY if the
 * id space is exhausted (references taken so far are dropped, *stamp is not
 * set).  Names must be 1..255 bytes (the caller checks its configured
 * limit).  Takes the table lock once.
 */
int rc_tags_acquire(rc_tags *t, const rc_slice *names, size_t n, rc_tag_ref *refs, uint64_t *stamp);

/* `since` value for rc_tags_acquire_since: no invalidation check. */
#define RC_TAGS_ANY_SEQ UINT64_MAX

/*
 * rc_tags_acquire_since - rc_tags_acquire for a lease fill: under one hold
 * of the table lock, first refuse (RC_ELEASE_REJECTED, nothing taken) if any
 * of the names was invalidated after sequence `since` (judged as
 * rc_tags_invalidated_since does), then take the references and the write
 * stamp.  Because invalidations and merges take the same lock, and stamp
 * under it, every invalidation either happened before the check (the fill
 * is refused) or after the stamp (its stamp is larger, so the stored entry
 * is judged invalidated): none can fall in between, which is what keeps a
 * fill computed before a hard invalidation from being served fresh after it.
 */
int rc_tags_acquire_since(rc_tags *t, const rc_slice *names, size_t n, rc_tag_ref *refs,
                          uint64_t since, uint64_t *stamp);

/*
 * rc_tags_release - drop one reference per ref; records reaching zero are
 * freed.  Returns the sum of rc_tags_charge() over the refs, i.e. exactly
 * what rc_tags_acquire's caller charged for them.  Takes the table lock once.
 */
size_t rc_tags_release(rc_tags *t, const rc_tag_ref *refs, size_t n);

/*
 * rc_tags_judge - the most severe verdict over refs for an entry written at
 * stamp `written`, from lock-free stamp loads.  The caller must hold
 * references on every id (it holds the entry).
 */
enum rc_tag_verdict rc_tags_judge(const rc_tags *t, const rc_tag_ref *refs, size_t n,
                                  uint64_t written);

/*
 * rc_tags_invalidate - stamp an invalidation of the tag named name with the
 * clock and record it (mode is RC_INVAL_HARD or RC_INVAL_SOFT; hard raises
 * both stamps, soft only `any`).  Returns the invalidation's stamp (never
 * 0), also when no entry carries the tag (then nothing is created).  O(1)
 * under the table lock.  *known (may be NULL) tells whether a record existed.
 */
uint64_t rc_tags_invalidate(rc_tags *t, const uint8_t *name, size_t len, uint8_t mode, bool *known);

/*
 * rc_tags_merge - merge a peer's state for a tag: each stamp becomes the max
 * of ours and theirs (any is raised to at least hard), and both are
 * observed into the clock first.  A name no entry here carries creates no
 * record: its stamps are compared with (and raise) the name's hash bucket's
 * remembered stamps instead.  Returns the RC_TAGS_RAISED_* bits of what
 * went up; a merge that raised anything counts as an invalidation for lease
 * fills (the sequence moves, as in rc_tags_invalidate).  O(1) under the lock.
 */
unsigned rc_tags_merge(rc_tags *t, const uint8_t *name, size_t len, uint64_t hard, uint64_t any);

/*
 * rc_tags_list - copy the state of up to max live records, starting at
 * record id *cursor, into out; records never invalidated are skipped.
 * Advances *cursor past the records examined; returns the count written.
 * Listing is complete when *cursor reached rc_tags_id_limit().  Takes the
 * table lock once; examines at most 64 * max ids, so a call is bounded.
 */
size_t rc_tags_list(rc_tags *t, uint32_t *cursor, rc_tag_state *out, size_t max);

/* rc_tags_id_limit - one past the highest record id ever handed out (cursor end). */
uint32_t rc_tags_id_limit(rc_tags *t);

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
