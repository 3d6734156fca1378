/*
 * rb_oracle.h - the correctness oracle: judges every value a server returns.
 *
 * Design.  The shared part (rb_oracle) holds what the whole run has
 * acknowledged: per user, the next write sequence to hand out and the
 * newest write sequence a server has acknowledged; and the newest namespace
 * version a BUMP has acknowledged.  All of it is atomics, updated with
 * monotonic max operations, so load threads share it without locks.
 *
 * A request snapshots two numbers when it is SENT: the bump floor (newest
 * acknowledged version) and the user's newest acknowledged write.  The
 * response is then judged by rb_oracle_check, a pure function:
 *   - a value that does not decode is CORRUPT;
 *   - a value for another user is WRONG_USER;
 *   - with version checks on (recache only: peers have no versions), a
 *     value computed for a model version below the floor is a GHOST;
 *   - otherwise it is OK, and its staleness is how many acknowledged writes
 *     of that user it is behind (0 = the newest).
 * Any CORRUPT, WRONG_USER or GHOST fails the run.
 */
#ifndef RB_ORACLE_H
#define RB_ORACLE_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "rb_value.h"

typedef struct rb_oracle {
    uint32_t users;
    _Atomic uint64_t *next_seq;    /* per user: last write sequence handed out */
    _Atomic uint64_t *acked_seq;   /* per user: newest sequence a server acknowledged */
    _Atomic uint64_t bump_acked;   /* newest namespace version a BUMP acknowledged */
    _Atomic uint64_t version_seen; /* newest namespace version any response reported */
} rb_oracle;

typedef enum rb_verdict {
    RB_VERDICT_OK = 0,
    RB_VERDICT_CORRUPT,
    RB_VERDICT_WRONG_USER,
    RB_VERDICT_GHOST,
} rb_verdict;

/* rb_oracle_init - state for `users` users; 0 or RC_ENOMEM.  rb_oracle_free releases it. */
int rb_oracle_init(rb_oracle *o, uint32_t users);
void rb_oracle_free(rb_oracle *o);

/* rb_oracle_next_seq - a fresh write sequence (>= 1) for user. Thread-safe. */
uint64_t rb_oracle_next_seq(rb_oracle *o, uint32_t user);
/* rb_oracle_ack_write - a server acknowledged write `seq` of user. Thread-safe. */
void rb_oracle_ack_write(rb_oracle *o, uint32_t user, uint64_t seq);
/* rb_oracle_acked - the user's newest acknowledged write (0 = none). Thread-safe. */
uint64_t rb_oracle_acked(rb_oracle *o, uint32_t user);
/* rb_oracle_ack_bump - a BUMP acknowledged namespace version v. Thread-safe. */
void rb_oracle_ack_bump(rb_oracle *o, uint64_t v);
/* rb_oracle_see_version - some response reported namespace version v. Thread-safe. */
void rb_oracle_see_version(rb_oracle *o, uint64_t v);

/*
 * rb_oracle_check - judge `value` returned for a read of `user`.  floor and
 * acked are the snapshots taken when the request was sent; check_version
 * enables the ghost check.  Fills *info (when the value decodes) and
 * *staleness (0 unless OK).  Pure: touches no shared state.
 */
rb_verdict rb_oracle_check(uint32_t user, uint64_t floor, uint64_t acked, bool check_version,
                           const uint8_t *value, size_t len, rb_value_info *info,
                           uint64_t *staleness);

/* rb_verdict_name - "ok", "corrupt", "wrong-user" or "ghost". */
const char *rb_verdict_name(rb_verdict v);

#endif
