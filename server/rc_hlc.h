/*
 * rc_hlc.h - a hybrid logical clock: stamps that order events across nodes.
 *
 * Design.  A stamp is a u64: the wall-clock milliseconds since the Unix
 * epoch in the high 48 bits and a logical counter in the low 16.  Each
 * stamp a clock hands out is strictly greater than every stamp it handed
 * out or observed before, and never far behind the wall clock: it is the
 * larger of (wall ms << 16) and the previous stamp + 1.  So stamps from one
 * node are strictly increasing, and a node that observes another node's
 * stamp (rc_hlc_observe) stamps everything afterwards above it: if event A
 * happened before event B anywhere along a causal chain (a message carried
 * A's stamp), A's stamp is smaller.  Events with no causal link are ordered
 * by wall clock, to within the nodes' clock skew.
 *
 * The store stamps every entry it writes; the physical part is also the
 * entry's write time, from which the served age of a read is measured.
 *
 * Threads.  Lock-free (one atomic CAS loop); any thread.
 */
#ifndef RECACHE_RC_HLC_H
#define RECACHE_RC_HLC_H

#include <stdatomic.h>
#include <stdint.h>

#define RC_HLC_LOGICAL_BITS 16u

typedef struct rc_hlc {
    _Atomic uint64_t last; /* the newest stamp handed out or observed */
} rc_hlc;

/* rc_hlc_init - a clock that has seen nothing. */
void rc_hlc_init(rc_hlc *c);

/* rc_hlc_wall_ms - the wall clock (CLOCK_REALTIME) in milliseconds. */
uint64_t rc_hlc_wall_ms(void);

/* rc_hlc_now - a new stamp, greater than every stamp before it on this clock. */
uint64_t rc_hlc_now(rc_hlc *c);

/* rc_hlc_observe - make every later stamp greater than `remote` (a peer's stamp). */
void rc_hlc_observe(rc_hlc *c, uint64_t remote);

/* rc_hlc_ms - the physical part of a stamp, in wall-clock milliseconds. */
static inline uint64_t rc_hlc_ms(uint64_t stamp)
{
    return stamp >> RC_HLC_LOGICAL_BITS;
}

#endif /* RECACHE_RC_HLC_H */
