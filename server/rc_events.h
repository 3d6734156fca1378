/*
 * rc_events.h - the node's invalidation event log: a bounded ring of recent
 * events, each already encoded as an EVENT push frame.
 *
 * Design.  Every change a near-cache must hear about (a key written,
 * deleted or invalidated; a tag invalidated; a namespace bumped; a flush)
 * is published here once, by whichever worker made the change.  Publishing
 * assigns the next node-wide sequence number and encodes the frame into a
 * byte arena allocated once at creation, so publishing never allocates.
 * Subscribers *pull*: each worker copies the frames its own subscribers
 * have not seen yet straight into their connections' output buffers
 * (rc_events_copy), on its own thread, when told new events exist.  The
 * server therefore holds one copy of each event however many subscribers
 * there are, and a slow subscriber costs at most its output limit: when it
 * falls further behind than the ring remembers, it is cut off and must
 * resynchronise.
 *
 * Bounds.  The ring holds at most `capacity` events (event-ring) and at
 * most `max_bytes` bytes of encoded frames plus their namespace copies
 * (event-ring-bytes): publishing drops the oldest events until the new one
 * fits both bounds.  Its memory is fixed at creation (the arena plus one
 * small slot per event) and lies outside the store's --memory limit; STATS
 * reports the bytes held (rc_events_totals).  Arena pages become resident as
 * they are written, and when the event count is the tighter bound only
 * about twice the bytes held are ever written (rc_events.c, "Early laps").
 * A subscriber whose next event was dropped must resynchronise.
 *
 * Sequence numbers start at 1 and increase by one per event; heartbeats do
 * not consume numbers.  Together with the instance id (random per boot) they
 * let a reconnecting subscriber resume exactly where it stopped, or learn
 * that it cannot (rc_events_resume).
 *
 * Locking.  One mutex protects the ring.  Publishing holds it while
 * encoding one frame; copying holds it while copying frames into a
 * connection's output buffer (memory only, never I/O).  It is a leaf lock:
 * callers may hold nothing else that a publisher might want, and the sink
 * and filter callbacks must not call back into this module.
 */
#ifndef RECACHE_RC_EVENTS_H
#define RECACHE_RC_EVENTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "recache/rc_proto.h"

typedef struct rc_events rc_events;

/* One change to publish (slices are copied into the ring). */
typedef struct rc_event {
    uint8_t kind; /* enum rc_event_kind: KEY, TAG, BUMP or FLUSH */
    uint8_t mode; /* enum rc_inval_mode for KEY and TAG */
    uint64_t ns_version;
    rc_slice ns;
    rc_slice key;
    rc_slice tag;
    rc_slice text; /* KEY: the cause ("set", "delete", "invalidate", "touch"); else empty */
} rc_event;

/*
 * rc_events_create - a ring remembering the last `capacity` events (>= 1)
 * within `max_bytes` bytes of encoded frames (at least RC_EVENTS_MIN_BYTES,
 * which holds the largest event the protocol can express).  Aborts on OOM.
 */
rc_events *rc_events_create(uint32_t capacity, size_t max_bytes, uint64_t instance_id);

/* Smallest byte bound: more than one event with the longest key, namespace and tag. */
#define RC_EVENTS_MIN_BYTES ((size_t)1 << 20)

void rc_events_destroy(rc_events *ev);

uint64_t rc_events_instance(const rc_events *ev);

/* rc_events_last_seq - sequence number of the newest event (0 before the first). */
uint64_t rc_events_last_seq(rc_events *ev);

/*
 * rc_events_publish - append one event, dropping the oldest events while
 * the ring is over either bound.  Returns its sequence number.  Thread-safe.
 */
uint64_t rc_events_publish(rc_events *ev, const rc_event *e);

/*
 * rc_events_resume - where a subscriber that last saw `seq` from instance
 * `instance` (0, 0 for a new subscriber) should continue: sets *next to
 * the first sequence number to send and returns true, or returns false
 * when the events after `seq` are no longer all in the ring or the instance
 * differs (the subscriber must be sent RESYNC and then continues from
 * *next = newest + 1).
 */
bool rc_events_resume(rc_events *ev, uint64_t instance, uint64_t seq, uint64_t *next);

/* Whether a subscriber wants an event of this kind and namespace (ns empty for TAG/FLUSH). */
typedef bool (*rc_events_filter)(void *ctx, uint8_t kind, rc_slice ns);

/*
 * Receives one encoded EVENT frame.  Returns false to stop copying (the
 * connection's output is full); that frame is then not consumed.
 */
typedef bool (*rc_events_sink)(void *ctx, const uint8_t *frame, size_t len);

/*
 * rc_events_copy - hand the subscriber every event from *next onwards that
 * its filter accepts, oldest first, advancing *next past each event handed
 * over or filtered out, until the ring is exhausted or the sink refuses.
 * Returns 0, or RC_ESLOW_CONSUMER when *next has already been dropped
 * (the subscriber fell further behind than the ring remembers).
 */
int rc_events_copy(rc_events *ev, uint64_t *next, rc_events_filter filter, void *filter_ctx,
                   rc_events_sink sink, void *sink_ctx);

/*
 * rc_events_encode_signal - encode a frame that is not part of the log
 * (HEARTBEAT, RESYNC, CLOSING with a reason in text) carrying the current
 * newest sequence number, into buf.  Returns the length or RC_EBUFFER.
 */
long rc_events_encode_signal(rc_events *ev, uint8_t kind, const char *text, uint8_t *buf,
                             size_t cap);

/* Totals for STATS. */
typedef struct rc_events_totals {
    uint64_t published;
    uint64_t oldest_seq; /* oldest event still in the ring (0 when empty) */
    uint64_t events;     /* events held now */
    uint64_t bytes;      /* encoded frame bytes (and namespace copies) held now: <= max_bytes */
    uint64_t max_bytes;  /* the byte bound (event-ring-bytes) */
    uint64_t memory;     /* bytes the ring allocated: the arena and the slot array */
    uint64_t touched;    /* arena bytes ever written (resident); see "Early laps" in rc_events.c */
} rc_events_totals;

void rc_events_totals_get(rc_events *ev, rc_events_totals *out);

#endif /* RECACHE_RC_EVENTS_H */
