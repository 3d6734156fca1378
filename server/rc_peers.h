/*
 * rc_peers.h - anti-entropy: pulling every peer's control state.
 *
 * Design.  `--peers HOST:PORT,...` names the other nodes' data ports.  Each
 * peer gets one dedicated thread that, every gossip-ms, connects if it has
 * to, sends PEER_SYNC requests over the binary protocol (blocking-style
 * I/O on a non-blocking socket with poll deadlines, using the codec) and
 * applies every page it receives through the service layer (rc_sync.h),
 * until it has caught up with the peer's newest control record.  Pulling
 * only (no pushing) keeps one rule for every case: a node that was down,
 * hung, partitioned or restarted asks for what it missed, and the peer
 * answers from its log or with a snapshot.  Because each node appends what
 * a merge raised to its own log, state also travels through a node to the
 * nodes that pull from it.
 *
 * One thread per peer so a hung peer (SIGSTOP, a black-holed network)
 * delays only its own exchanges: an exchange's I/O deadline is gossip-ms
 * (at least RC_PEERS_MIN_TIMEOUT_MS), after which the connection is closed
 * and the next round reconnects.  Convergence: once a partition heals,
 * each node's next round with each peer starts within gossip-ms (plus at
 * most one timed-out exchange in flight, itself bounded by gossip-ms, or
 * RC_PEERS_MIN_TIMEOUT_MS below that), and completes in one round trip per
 * page, so every node holds every peer's control state within 2 x
 * gossip-ms plus one round trip (for state that fits one page).
 *
 * Status.  Each peer's state, last successful exchange, lag (the peer's
 * newest sequence minus the one we applied), and counters are kept under
 * the peer's lock and read through rc_peers_snapshot() (the admin port
 * may expose the same array) or as STATS lines (rc_peers_stats_text).
 *
 * Threads.  rc_peers_start, rc_peers_stop and rc_peers_destroy run on the main thread;
 * rc_peers_snapshot and rc_peers_stats_text on any thread.
 */
#ifndef RECACHE_RC_PEERS_H
#define RECACHE_RC_PEERS_H

#include <stddef.h>
#include <stdint.h>

#include "rc_server.h"

#define RC_PEERS_MAX            64   /* peers one node may name */
#define RC_PEERS_MIN_TIMEOUT_MS 100u /* floor of an exchange's I/O deadline */
#define RC_PEERS_ADDR_MAX       300  /* "host:port" as written, NUL included */

typedef struct rc_peers rc_peers;

/* A peer's state, as STATS names it. */
enum rc_peer_state {
    RC_PEER_CONNECTING = 0, /* no exchange completed yet */
    RC_PEER_UP = 1,         /* the last exchange caught up with the peer */
    RC_PEER_SYNCING = 2,    /* the last exchange left a snapshot or the log half-read */
    RC_PEER_DOWN = 3,       /* the last exchange failed (refused, timed out, bad answer) */
};

/* One peer's status (by value: a snapshot). */
typedef struct rc_peer_status {
    char addr[RC_PEERS_ADDR_MAX]; /* as configured */
    uint8_t state;                /* enum rc_peer_state */
    uint64_t instance_id;         /* the peer's instance (0 before the first answer) */
    int64_t last_ok_ms_ago;       /* since the last successful exchange; -1 = never */
    uint64_t applied_seq;         /* the peer's newest record we applied */
    uint64_t peer_seq;            /* the peer's newest sequence, as last reported */
    uint64_t lag;                 /* peer_seq - applied_seq */
    uint64_t exchanges;           /* successful exchanges */
    uint64_t errors;              /* failed exchanges */
    uint64_t snapshots;           /* snapshots completed */
    uint64_t records;             /* records merged from this peer */
    uint64_t raised;              /* of which tag merges that raised a stamp here */
    char last_error[128];         /* "" when none yet */
} rc_peer_status;

/*
 * rc_peers_parse - split "HOST:PORT,HOST:PORT,..." (IPv6 as [ADDR]:PORT)
 * into host and port strings.  Returns the number of peers (0 for an empty
 * spec) or RC_EINVAL with a sentence in err (empty item, missing port,
 * port outside 1..65535, host over 255 bytes, more than RC_PEERS_MAX).
 * hosts[i] gets up to 256 bytes, ports[i] the port.  Pure.
 */
int rc_peers_parse(const char *spec, char hosts[][256], uint16_t *ports, size_t max, char *err,
                   size_t errlen);

/*
 * rc_peers_start - one thread per peer of srv->cfg->peers, pulling every
 * srv->cfg->gossip_ms.  Returns 0 and *out (NULL when no peers are
 * configured), or RC_EINVAL after logging why the spec is invalid, or
 * RC_EIO when a thread cannot be started (nothing is left running).
 */
int rc_peers_start(rc_server *srv, rc_peers **out);

/*
 * rc_peers_stop - stop and join every thread (an exchange in flight is
 * abandoned).  Status stays readable (rc_peers_snapshot, STATS) until
 * rc_peers_destroy, so workers still answering STATS may run meanwhile.
 * NULL is fine; calling it twice is fine.
 */
void rc_peers_stop(rc_peers *p);

/* rc_peers_destroy - free p (stopped first if it was not).  No other thread may use it. */
void rc_peers_destroy(rc_peers *p);

/* rc_peers_count - number of peers (0 for NULL). */
size_t rc_peers_count(const rc_peers *p);

/* rc_peers_snapshot - copy up to max peers' status into out; returns the count. */
size_t rc_peers_snapshot(rc_peers *p, rc_peer_status *out, size_t max);

/*
 * rc_peers_stats_text - STATS lines: "peers N", "gossip_ms N", the control
 * log's figures, then one line per peer:
 *   peer ADDR state=up last_exchange_ms=N lag=N applied_seq=N peer_seq=N
 *        exchanges=N errors=N snapshots=N records=N raised=N instance_id=N
 * (one line; last_exchange_ms=-1 before the first success).  p may be NULL
 * (no peers).  Returns the length written (truncated to cap).
 */
long rc_peers_stats_text(rc_peers *p, const rc_server *srv, char *buf, size_t cap);

/*
 * rc_peers_view - the admin port's rc_server.peer_list hook (ctx = the
 * rc_peers): each peer's state, wall-clock time of its last successful
 * exchange, and its lag.  Any thread; takes each peer's lock briefly.
 */
size_t rc_peers_view(void *ctx, rc_peer_view *out, size_t cap);

/* rc_peer_state_name - "connecting", "up", "syncing", "down". */
const char *rc_peer_state_name(uint8_t state);

#endif /* RECACHE_RC_PEERS_H */
