/*
 * rb_oracle.h - the correctness oracle: judges every value a server returns.
 *
 * Design.  The shared part (rb_oracle) holds what the whole run has
 * acknowledged, and a logical clock that orders it:
 *
 *   - the clock: one atomic counter, ticked at every request send and every
 *     acknowledgement the oracle cares about, so "A happened before B" is
 *     "stamp(A) < stamp(B)".  Stamps are taken conservatively: a send is
 *     stamped before its bytes leave, an acknowledgement after its answer
 *     arrived, so a violation the stamps show is a violation in real time;
 *   - per write (every SET and every lease fill) a record, indexed by the
 *     write id the value carries (rb_value.h "seq"; it also carries a run
 *     nonce, so values left by an earlier run are never taken for this
 *     run's writes and are judged without write facts): the user's write
 *     sequence (for staleness) and its "basis" stamp, the moment from which
 *     any later invalidation must kill it: for a plain write the stamp of
 *     its acknowledgement (0 until acknowledged; a write never acknowledged
 *     stays 0, i.e. is never a ghost); for a lease fill the stamp of the
 *     answer that granted its lease, because PROTOCOL.md section 6 rejects a
 *     fill when its key or one of its tags was invalidated (hard or soft)
 *     since the grant, and an invalidation that lands before the fill is
 *     stored kills it: whatever the order, once both are answered the fill
 *     must be gone (or stale, for a soft one).  A lease fill counts as a
 *     write, and its grant necessarily precedes its acknowledgement;
 *   - per user: the next write sequence, the newest acknowledged one, and for
 *     key invalidations (DELETE, INVALIDATE_KEY) hard and soft the largest
 *     SEND stamp among those acknowledged so far (a "floor");
 *   - per tag: the recent acknowledged invalidations, hard and soft, as
 *     (send stamp, ack stamp) pairs in a small ring under a per-tag mutex
 *     (the only lock: a read learns the value's tags only from the answer,
 *     so it cannot snapshot them when sent, and the pairs must not tear);
 *   - the newest namespace version a BUMP acknowledged.
 *
 * A value's tags are derived from the value alone (rb_oracle_tags): a
 * "segment" tag from the user (user % segments) and `per_value` product
 * tags from the write id (drawn per write, pseudo-randomly), so the oracle
 * never needs to be told what a write carried.
 *
 * A read snapshots, BEFORE its send stamp: the bump floor, the user's newest
 * acknowledged write and the user's key floors (rb_oracle_snap).  Whatever
 * it saw was therefore acknowledged before it was sent.  When the answer
 * arrives, rb_oracle_check_read decodes the value, looks up its write's ack
 * stamp and, for each of its tags, the largest send stamp of an invalidation
 * acknowledged before the read's send stamp, and hands these facts to the
 * pure judge, rb_oracle_judge:
 *   - a value for another user is WRONG_USER (a value that does not decode
 *     is CORRUPT, judged before);
 *   - GHOST_VERSION: with version checks on, a model version below the bump
 *     floor;
 *   - GHOST_KEY: the value's write was acknowledged (a fill: its lease was
 *     granted) before a hard key invalidation of the key was sent, and that
 *     invalidation was acknowledged before the read was sent;
 *   - GHOST_TAG: likewise for a hard invalidation of one of the value's tags;
 *   - GHOST_SOFT: likewise for a soft invalidation (key or tag), when the
 *     value is served FRESH (served STALE it is legal);
 *   - otherwise OK, with staleness = acknowledged writes of the user it is
 *     behind (0 = the newest).
 * Everything else is a legal concurrent order: a write acknowledged after
 * the invalidation was sent, or not acknowledged at all, may survive it; an
 * invalidation acknowledged after the read was sent may be missed by it.
 * Any verdict other than OK fails the run.
 *
 * Thread-safety: every function taking an rb_oracle is safe to call from
 * any thread concurrently, except init/free.  rb_oracle_judge and
 * rb_oracle_tags are pure.
 */
#ifndef RB_ORACLE_H
#define RB_ORACLE_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "rb_value.h"

#define RB_ORACLE_RING     16u /* remembered invalidations per tag and mode */
#define RB_ORACLE_MAX_TAGS 17u /* per value: up to 16 product tags and one segment tag */

/* How values are tagged: tag index i < products is product:<i>, else segment:<i - products>. */
typedef struct rb_tag_cfg {
    uint32_t products;  /* product ids (>= 1) */
    uint32_t per_value; /* product tags per value, 0..16 */
    uint32_t segments;  /* segment tags; 0 = values carry none */
} rb_tag_cfg;

/* One write: its per-user sequence and basis stamp (0 = not acknowledged yet). */
typedef struct rb_write_rec {
    _Atomic uint64_t useq;
    _Atomic uint64_t basis;
} rb_write_rec;

/* The acknowledged invalidations of one tag, hard ([0]) and soft ([1]). */
typedef struct rb_tag_state {
    pthread_mutex_t mu;
    uint64_t sent[2][RB_ORACLE_RING], acked[2][RB_ORACLE_RING];
    uint32_t n[2];                      /* entries ever recorded per mode */
    uint64_t gone_sent[2], gone_ack[2]; /* largest stamps among entries the ring dropped */
} rb_tag_state;

/* How a read reached the value: the wire (GET/LGET), or rc_l1_get (an L1 in or outside its filter).
 */
typedef enum rb_path { RB_PATH_SERVER = 0, RB_PATH_L1, RB_PATH_L1_OUTSIDE, RB_PATHS } rb_path;

#define RB_VERDICTS 7 /* the values of rb_verdict */

typedef struct rb_oracle {
    uint32_t users;
    rb_tag_cfg tagcfg;
    uint32_t ntags;                /* products + segments */
    uint32_t nonce;                /* this run's write ids carry it (rb_oracle.c) */
    _Atomic uint64_t clock;        /* the logical clock; stamps are >= 1 */
    _Atomic uint64_t *next_seq;    /* per user: last write sequence handed out */
    _Atomic uint64_t *acked_seq;   /* per user: newest sequence a server acknowledged */
    _Atomic uint64_t *key_floor;   /* per user x {hard, soft}: see the design */
    rb_tag_state *tags;            /* per tag */
    _Atomic uint64_t next_wid;     /* last write id handed out */
    _Atomic(rb_write_rec *) *dir;  /* write records in chunks, allocated on first use */
    _Atomic uint64_t bump_acked;   /* newest namespace version a BUMP acknowledged */
    _Atomic uint64_t version_seen; /* newest namespace version any response reported */
    _Atomic uint64_t reported[RB_PATHS][RB_VERDICTS]; /* printed by rb_oracle_report */
} rb_oracle;

typedef enum rb_verdict {
    RB_VERDICT_OK = 0,
    RB_VERDICT_CORRUPT,
    RB_VERDICT_WRONG_USER,
    RB_VERDICT_GHOST_VERSION,
    RB_VERDICT_GHOST_KEY,
    RB_VERDICT_GHOST_TAG,
    RB_VERDICT_GHOST_SOFT,
} rb_verdict;

/* What a read snapshots when it is sent (rb_oracle_snap). */
typedef struct rb_read_snap {
    uint32_t user;
    uint64_t floor;    /* newest version a BUMP acknowledged */
    uint64_t acked;    /* the user's newest acknowledged write sequence */
    uint64_t key_hard; /* largest send stamp of an acknowledged hard key invalidation */
    uint64_t key_soft; /* ... soft */
    uint64_t sent;     /* the read's send stamp, taken after the loads above */
} rb_read_snap;

/* Everything the judge needs about one read and the value it returned. */
typedef struct rb_read_facts {
    rb_read_snap snap;
    bool check_version;   /* recache only: the peers have no versions */
    bool served_stale;    /* the answer flagged the value STALE */
    uint64_t write_basis; /* basis stamp of the value's write (see the design); 0 = none yet */
    uint64_t write_useq;  /* the write's per-user sequence; 0 = unknown */
    uint64_t tag_hard;    /* over the value's tags: largest send stamp of a hard invalidation */
    uint64_t tag_soft;    /* acknowledged before snap.sent; ... soft */
} rb_read_facts;

/*
 * rb_oracle_init - state for `users` users and the tags of *tc.  Returns 0,
 * RC_EINVAL (users 0, products 0, per_value > 16) or RC_ENOMEM (nothing to
 * free then).  rb_oracle_free releases everything; both single-threaded.
 */
int rb_oracle_init(rb_oracle *o, uint32_t users, const rb_tag_cfg *tc);
void rb_oracle_free(rb_oracle *o);

/* rb_oracle_tick - a fresh stamp of the logical clock (>= 1). */
uint64_t rb_oracle_tick(rb_oracle *o);

/*
 * rb_oracle_new_write - a fresh write of user: its id (>= 1, to put in the
 * value) with the next per-user sequence recorded.  `grant` is, for a lease
 * fill, the stamp of the answer that granted its lease (its basis from now
 * on), else 0.  Returns 0 only when the record cannot be kept (2^32 writes,
 * or no memory for a chunk); a value with id 0 is then judged without write
 * facts (never a ghost).
 */
uint64_t rb_oracle_new_write(rb_oracle *o, uint32_t user, uint64_t grant);
/*
 * rb_oracle_ack_write - write `wid` of user was acknowledged at `stamp` (a
 * fresh tick): the user's newest acknowledged sequence advances, and a
 * plain write's basis becomes `stamp` (a fill keeps its grant).
 */
void rb_oracle_ack_write(rb_oracle *o, uint32_t user, uint64_t wid, uint64_t stamp);
/* rb_oracle_write_seq - the per-user sequence of write wid (0 = unknown). */
uint64_t rb_oracle_write_seq(rb_oracle *o, uint64_t wid);
/* rb_oracle_acked - the user's newest acknowledged write sequence (0 = none). */
uint64_t rb_oracle_acked(rb_oracle *o, uint32_t user);
/* rb_oracle_ack_bump - a BUMP acknowledged namespace version v. */
void rb_oracle_ack_bump(rb_oracle *o, uint64_t v);
/* rb_oracle_see_version - some response reported namespace version v. */
void rb_oracle_see_version(rb_oracle *o, uint64_t v);

/*
 * rb_oracle_ack_key - a key invalidation (DELETE or INVALIDATE_KEY) of
 * user's key, sent at stamp `sent`, was acknowledged (OK or MISS: either
 * way the key must be gone).  Call after taking the ack stamp.
 */
void rb_oracle_ack_key(rb_oracle *o, uint32_t user, bool soft, uint64_t sent);
/*
 * rb_oracle_ack_tag - an invalidation of tag index `tag` (< ntags), sent at
 * `sent`, was acknowledged at `acked`.  Takes the tag's mutex briefly.
 */
void rb_oracle_ack_tag(rb_oracle *o, uint32_t tag, bool soft, uint64_t sent, uint64_t acked);

/* rb_oracle_snap - snapshot for a read of user about to be sent; takes its send stamp last. */
void rb_oracle_snap(rb_oracle *o, uint32_t user, rb_read_snap *s);

/*
 * rb_oracle_check_read - judge `value` returned for the read snapshotted in
 * *s: decode it, gather the facts (write record, tag floors as of s->sent)
 * and call rb_oracle_judge.  Fills *info (when the value decodes),
 * *staleness (0 unless OK) and, when facts is not NULL, *facts.  Takes tag
 * mutexes briefly; no other effect.
 */
rb_verdict rb_oracle_check_read(rb_oracle *o, const rb_read_snap *s, bool check_version,
                                bool served_stale, const uint8_t *value, size_t len,
                                rb_value_info *info, uint64_t *staleness, rb_read_facts *facts);

/*
 * rb_oracle_judge - the verdict on a decoded value *vi given the facts *f
 * (see the design comment; when several kinds apply, the first in enum
 * order wins).  *staleness = writes behind when OK, else 0.  Pure.
 */
rb_verdict rb_oracle_judge(const rb_read_facts *f, const rb_value_info *vi, uint64_t *staleness);

/*
 * rb_oracle_tags - the tag indices a value of user written as `wid` carries
 * (product tags first, then the segment tag); returns how many (<=
 * RB_ORACLE_MAX_TAGS).  Pure.
 */
uint32_t rb_oracle_tags(const rb_tag_cfg *tc, uint32_t user, uint64_t wid, uint32_t *out);

/*
 * rb_oracle_report - print one violation to stderr with the stamps that
 * prove it; `source` names the reader (e.g. "lget", "l1", "l1-outside") and
 * `path` classifies it.  Only the first 3 of each (path, verdict) pair are
 * printed, so every kind seen on every path shows an example.  Thread-safe.
 */
void rb_oracle_report(rb_oracle *o, rb_path path, const char *source, rb_verdict v,
                      const rb_read_facts *f, const rb_value_info *vi);

/* rb_verdict_name - "ok", "corrupt", "wrong-user", "ghost-version", "ghost-key", ... */
const char *rb_verdict_name(rb_verdict v);

#endif
