/*
 * rb_lists.h - recache-bench's list experiments and the list oracle.
 *
 * Subcommands:
 *   discontinue  users' lists of --items items drawn Zipf-popular from a
 *                --catalog item catalog; the most popular item is
 *                discontinued mid-run, three ways side by side (each in its
 *                own namespace, one after the other in one run): a hard tag
 *                invalidation of the lists carrying it, a soft one, and a
 *                suppression.  For the --after seconds following each
 *                acknowledgement it counts origin recomputes, the origin's
 *                peak concurrency, the p99 read latency and the reads that
 *                still showed the item.  Readers (--connections threads,
 *                one blocking client each) read through the lease protocol
 *                like rc_list_get_or_fill: a miss or a stale hit granted the
 *                lease recomputes at the simulated origin (--origin-ms) and
 *                fills; parked readers get the fill.  One read in a hundred
 *                of a hot user is followed by a purchase: a list-remove of
 *                one item of the list just read.
 *   list-read    the ops/s of a top-10 LIST_GET of a --items list in a
 *                namespace suppressing --suppressed ids, against a plain GET
 *                of a value of the same stored size, --runs times each,
 *                alternating, pipelined (--pipeline) over --connections
 *                connections; prints both medians and their ratio.
 *
 * The list oracle (rb_lists_judge).  A read is stamped by one logical
 * clock when it is sent; a suppression, or a user's purchase (removal), is
 * stamped when its acknowledgement arrives.  A list served for a read sent
 * after such an acknowledgement must not contain the item: otherwise the
 * verdict is RB_VERDICT_GHOST_LIST, a violation (the run exits 1).
 * Purchases are recorded under a per-user lock with their stamp taken
 * inside it, and reads snapshot a user's purchases with their send stamp
 * inside the same lock, so "acknowledged before sent" is exact.  The
 * simulated origin leaves every purchase of the user out of a recompute
 * (it reads them when it computes, as a real origin reads its database;
 * a purchase is recorded there before its removal is sent), so a list
 * that still shows a purchased item is the cache's fault.
 */
#ifndef RB_LISTS_H
#define RB_LISTS_H

#include <stddef.h>
#include <stdint.h>

#include "rb_opts.h"
#include "rb_oracle.h"
#include "rb_zipf.h"

/* Purchases (removals) one user makes at most in a run; the origin and the oracle know them all. */
#define RB_LISTS_PURCHASES 32u

/* What the list judge knows about one read. */
typedef struct rb_list_facts {
    uint64_t sent;                        /* the read's send stamp */
    uint64_t gone_item;                   /* an item suppressed in the namespace (0 = none) */
    uint64_t gone_ack;                    /* stamp of its acknowledgement (0 = not acknowledged) */
    uint64_t removed[RB_LISTS_PURCHASES]; /* the user's removed items (0 = empty slot) */
    uint64_t removed_ack[RB_LISTS_PURCHASES]; /* their acknowledgement stamps */
} rb_list_facts;

/*
 * rb_lists_judge - RB_VERDICT_GHOST_LIST when ids (n of them) hold an item
 * whose suppression or removal was acknowledged before the read was sent
 * (*culprit = that item), else RB_VERDICT_OK.  Pure.
 */
rb_verdict rb_lists_judge(const rb_list_facts *f, const uint64_t *ids, size_t n, uint64_t *culprit);

/*
 * rb_lists_gen - user's list: n distinct item ids (1-based catalog ranks,
 * 1 = most popular) drawn from catalog in draw order with a generator
 * seeded by (seed, user), leaving out the nskip ids of skip.  seen is a
 * caller-owned scratch bitmap of catalog->n + 1 bits, all clear on entry
 * and on return.  n must be well below the catalog size.  Pure but for
 * seen.
 */
void rb_lists_gen(const rb_zipf *catalog, uint64_t seed, uint32_t user, const uint64_t *skip,
                  size_t nskip, uint8_t *seen, uint64_t *out, size_t n);

/* rb_lists_discontinue, rb_lists_read_perf - the subcommands; return the exit status. */
int rb_lists_discontinue(const rb_opts *o);
int rb_lists_read_perf(const rb_opts *o);

#endif
