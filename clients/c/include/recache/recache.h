/*
 * recache.h - the recache C client library (librecache).
 *
 * A client is one TCP connection to one recache server, used synchronously:
 * each call sends its request(s) and waits for the answer(s), bounded by the
 * I/O timeout.  Batches pipeline many requests over the connection with one
 * write and collect every answer, matched by request id.
 *
 * Thread-safety: an rc_client (and an rc_batch built on it) must be used by
 * one thread at a time; different clients are independent and may be used
 * from different threads concurrently.  rc_strerror() is thread-safe.
 *
 * Errors: every function returns 0 (or a documented non-negative value) on
 * success and a negative RC_E* code otherwise (recache/rc_errors.h).  Outcomes
 * the server reports as statuses map one to one: a miss is RC_EMISS, a
 * rejected conditional write RC_EEXISTS / RC_ENOT_NEWER / RC_ECAS_MISMATCH.
 * After RC_ETIMEDOUT, RC_EIO, RC_ECLOSED or RC_EPROTOCOL the connection is
 * unusable (rc_client_ok() returns 0) and must be closed, as it is after a
 * status the server closes the connection on (RC_ESERVER_BUSY,
 * RC_EFRAME_TOO_LARGE, RC_EBAD_MAGIC, RC_EBAD_VERSION, RC_ESHUTTING_DOWN,
 * RC_ESLOW_CONSUMER); every other error leaves it usable.  Out of memory
 * inside the library returns RC_ENOMEM.
 *
 * Ownership: values returned in rc_value are owned by the caller and freed
 * with rc_value_free(); text results (stats) with free().
 *
 * Leases: rc_lget / rc_fill / rc_get_or_fill (below) expose the server's
 * lease protocol; rc_get_or_fill is the read-through helper most callers
 * want.
 */
#ifndef RECACHE_RECACHE_H
#define RECACHE_RECACHE_H

#include <stddef.h>
#include <stdint.h>

#include "recache/rc_errors.h"

#ifdef __cplusplus
extern "C" {
#endif

#define RECACHE_CLIENT_VERSION "0.1.0"

/* Special values named below, as in the protocol header (rc_proto.h, not installed). */
#ifndef RC_TTL_NONE
#define RC_TTL_NONE 0xFFFFFFFFu /* rc_value.ttl_left_ms: the entry never expires */
#endif
#ifndef RC_STALE_DEFAULT
#define RC_STALE_DEFAULT 0xFFFFFFFFu /* rc_set_options.stale_ms: the namespace's default */
#endif

typedef struct rc_client rc_client;

typedef struct rc_client_options {
    const char *host;            /* name or address; default "127.0.0.1" */
    uint16_t port;               /* default 7400 */
    uint32_t connect_timeout_ms; /* default 2000 */
    uint32_t io_timeout_ms;      /* per call; default 5000 */
} rc_client_options;

/* What the server said in HELLO. */
typedef struct rc_server_info {
    uint8_t protocol_version;
    uint64_t instance_id;
    uint32_t max_frame;
    uint32_t max_value;
    uint16_t max_key;
    uint8_t max_tags;
    uint8_t max_tag_len;
    char server_version[64];
} rc_server_info;

/*
 * rc_connect - resolve, connect (bounded by connect_timeout_ms) and exchange
 * HELLO.  opts may be NULL for all defaults.  Returns 0 and *out, or
 * RC_ERESOLVE, RC_ECONNECT, RC_ETIMEDOUT, RC_ECLOSED, RC_EPROTOCOL, RC_EBAD_VERSION,
 * RC_ESERVER_BUSY (connection limit reached), RC_ENOMEM.
 */
int rc_connect(const rc_client_options *opts, rc_client **out);

/* rc_close - close the connection and free the client.  NULL is allowed. */
void rc_close(rc_client *c);

/* rc_client_ok - 1 while the connection is usable, 0 after a fatal error. */
int rc_client_ok(const rc_client *c);

/* rc_server_info_get - the HELLO answer (valid while c lives). */
const rc_server_info *rc_server_info_get(const rc_client *c);

/*
 * rc_client_error_message - the server's message from the last error
 * response (status >= 32, e.g. why an ns-config setting was refused), or ""
 * when the last call got none.  Valid until the next call on c.
 */
const char *rc_client_error_message(const rc_client *c);

/*
 * A value read from the server.  data is malloc'ed (NUL-terminated for
 * convenience, not counted in len).
 */
typedef struct rc_value {
    uint8_t *data;
    size_t len;
    uint32_t client_flags;
    uint64_t entry_version;
    uint64_t ns_version;  /* namespace version that served the read */
    uint32_t ttl_left_ms; /* RC_TTL_NONE (0xFFFFFFFF) when the entry never expires */
    int stale;            /* 1 when served stale (expired or soft-invalidated) */
} rc_value;

void rc_value_free(rc_value *v);

/* Read options; NULL means current version, no minimum. */
typedef struct rc_get_options {
    uint64_t version;     /* 0 = current */
    uint64_t min_version; /* 0 = none */
} rc_get_options;

/* SET conditions. */
#define RC_SET_ALWAYS    0
#define RC_SET_IF_ABSENT 1
#define RC_SET_IF_NEWER  2
#define RC_SET_CAS       3

typedef struct rc_set_options {
    uint64_t version;  /* namespace version written; 0 = current */
    uint32_t ttl_ms;   /* 0 = namespace default */
    uint32_t stale_ms; /* 0xFFFFFFFF (RC_STALE_DEFAULT) = namespace default; 0 = none */
    uint32_t client_flags;
    int cond;               /* RC_SET_* */
    uint64_t entry_version; /* stamped; compared by RC_SET_IF_NEWER */
    uint64_t cas_version;   /* expected by RC_SET_CAS */
    const char *const *tags;
    size_t ntags;
} rc_set_options;

/* Outcome of a write: the namespace version written and the stored entry version. */
typedef struct rc_write_info {
    uint64_t ns_version;
    uint64_t entry_version;
} rc_write_info;

int rc_ping(rc_client *c);

/* rc_get - 0 and *out filled (caller frees), or RC_EMISS, or an error.
 * On RC_EMISS, out->data is NULL and out->ns_version is the version looked up. */
int rc_get(rc_client *c, const char *ns, const void *key, size_t key_len,
           const rc_get_options *opts, rc_value *out);

/* rc_set - 0, a rejection status (RC_EEXISTS, RC_ENOT_NEWER, RC_ECAS_MISMATCH), or an error.
 * opts may be NULL (plain set, namespace defaults).  info may be NULL. */
int rc_set(rc_client *c, const char *ns, const void *key, size_t key_len, const void *value,
           size_t value_len, const rc_set_options *opts, rc_write_info *info);

/* rc_delete - 0 or RC_EMISS.  version 0 = current. */
int rc_delete(rc_client *c, const char *ns, const void *key, size_t key_len, uint64_t version);

/* rc_touch - give a live entry a new TTL.  0 or RC_EMISS. */
int rc_touch(rc_client *c, const char *ns, const void *key, size_t key_len, uint32_t ttl_ms,
             uint64_t version);

/* rc_stats - server statistics as text ("name value" lines); ns NULL = global. *text malloc'ed. */
int rc_stats(rc_client *c, const char *ns, char **text);

/* Invalidation modes. */
#define RC_HARD 0
#define RC_SOFT 1

/* rc_bump - make `to` (0 = current+1) current if higher; *version = resulting current. */
int rc_bump(rc_client *c, const char *ns, uint64_t to, uint64_t *version);

/*
 * rc_ns_info - namespace report text (*text malloc'ed) and its current
 * version.  RC_EMISS if unknown.
 */
int rc_ns_info(rc_client *c, const char *ns, char **text, uint64_t *version);

/*
 * rc_ns_config - apply "name=value" settings (space or newline separated);
 * *text = resulting settings.
 */
int rc_ns_config(rc_client *c, const char *ns, const char *settings, char **text);

/* rc_invalidate_tag - hard or soft; *epoch (may be NULL) = the tag's new epoch. */
int rc_invalidate_tag(rc_client *c, const char *tag, int mode, uint64_t *epoch);

/* rc_invalidate_key - hard or soft.  0 or RC_EMISS. */
int rc_invalidate_key(rc_client *c, const char *ns, const void *key, size_t key_len, int mode,
                      uint64_t version);

/* rc_flush - drop every entry on the server. */
int rc_flush(rc_client *c);

/*
 * ---- Lease reads (stale-while-revalidate and single flight) ----------------
 *
 * rc_lget is the raw lease read (PROTOCOL.md 5.8 and 6); rc_fill stores the
 * value computed under a lease; rc_get_or_fill runs the whole protocol for
 * the caller.  A lease is the right to recompute one key: the server hands
 * out at most one at a time per key, so a herd of readers causes one origin
 * fetch.  Tokens are opaque and valid for one lease only.
 */

/* Lease state of an LGET answer (rc_lease_result.lease); the wire values. */
#define RC_LGET_LEASE_NONE    0 /* no lease involved */
#define RC_LGET_LEASE_GRANTED 1 /* this reader holds the lease: compute and rc_fill */
#define RC_LGET_LEASE_HELD    2 /* another reader holds it */

#define RC_LEASE_TOKEN_SIZE 16

/* A lease token as handed out by the server.  All zero means "no lease". */
typedef struct rc_lease_token {
    uint8_t bytes[RC_LEASE_TOKEN_SIZE];
} rc_lease_token;

/* Options of a lease read; NULL means current version, no minimum, no waiting. */
typedef struct rc_lget_options {
    uint64_t version;     /* 0 = current */
    uint64_t min_version; /* 0 = none */
    /*
     * 0 = never park.  Else, on a miss whose lease another reader holds, the
     * server parks the request up to wait_ms and answers it with the value
     * the moment it is filled.  The call's I/O timeout is extended by
     * wait_ms, so a long wait does not count as a dead connection.
     */
    uint32_t wait_ms;
} rc_lget_options;

/*
 * The full outcome of a lease read.  value.data (malloc'ed, caller frees
 * with rc_lease_result_free or rc_value_free on .value) is set on a hit,
 * fresh or stale (value.stale); on any other outcome it is NULL and
 * value.ns_version still names the version looked up.
 */
typedef struct rc_lease_result {
    int hit;              /* 1 when value holds a value (fresh or stale) */
    int lease;            /* RC_LGET_LEASE_* */
    rc_lease_token token; /* when lease == RC_LGET_LEASE_GRANTED: pass to rc_fill */
    rc_value value;
} rc_lease_result;

void rc_lease_result_free(rc_lease_result *r);

/*
 * rc_lget - lease read.  Returns, with *out filled in every case below:
 *   0                    a hit.  value fresh or stale; lease GRANTED means
 *                        this reader should recompute (early refresh of a
 *                        fresh value, or the one refresher of a stale one),
 *                        HELD means another reader already does.  A parked
 *                        read answered by a fill is a fresh hit, lease NONE.
 *   RC_EMISS             nothing servable.  lease GRANTED: this reader must
 *                        compute and rc_fill (or let the lease expire);
 *                        lease NONE: a parked read whose lease vanished
 *                        (e.g. a flush): read again.
 *   RC_ELEASE_HELD       miss, another reader holds the lease, wait_ms = 0.
 *   RC_EWAIT_TIMEOUT     parked, and wait_ms passed before a value arrived.
 *   RC_ETOO_MANY_WAITERS the server's bound on parked reads was reached.
 * or an error (out zeroed).  The client stays usable after all of the above.
 */
int rc_lget(rc_client *c, const char *ns, const void *key, size_t key_len,
            const rc_lget_options *opts, rc_lease_result *out);

/*
 * rc_fill - store value under the lease `token` (a SET carrying it).  The
 * server stores it only if that lease is still the current one: after a
 * delete or key invalidation (hard or soft), a namespace bump, the
 * invalidation of a tag the fill carries (opts->tags: what the value
 * depends on), or the lease's expiry, the fill returns RC_ELEASE_REJECTED
 * and nothing changes.  A stored fill answers every reader parked on the key.  opts as
 * for rc_set (NULL = namespace defaults); opts->version should be the one
 * the lease read addressed.  A zero token is RC_EINVAL (use rc_set).
 * Returns 0, RC_ELEASE_REJECTED, another rejection of opts->cond, or an error.
 */
int rc_fill(rc_client *c, const char *ns, const void *key, size_t key_len,
            const rc_lease_token *token, const void *value, size_t value_len,
            const rc_set_options *opts, rc_write_info *info);

/*
 * What a fill callback produces.  The library zeroes it and sets
 * set.stale_ms = RC_STALE_DEFAULT before the call.  The callback stores the
 * value in data/len: data must come from malloc (or be NULL when len is 0);
 * the library owns it once the callback returns, whatever it returned, and
 * either frees it or hands it to the caller in rc_value.data.  In set, the
 * callback may choose ttl_ms, stale_ms, client_flags, entry_version (with
 * cond / cas_version) and tags; tags must stay valid until rc_get_or_fill
 * returns.  set.version is ignored: the fill writes the version the read
 * addressed.
 */
typedef struct rc_fill_output {
    uint8_t *data;
    size_t len;
    rc_set_options set;
} rc_fill_output;

/*
 * A fill callback computes the value of (ns, key) from the origin.  It runs
 * on the thread calling rc_get_or_fill, with no request in flight on the
 * client (so it may use the client).  Returns 0, or a negative code that
 * rc_get_or_fill returns as is (use RC_E* codes or your own negatives).
 */
typedef int (*rc_fill_fn)(void *ctx, const char *ns, const void *key, size_t key_len,
                          rc_fill_output *out);

/* What one rc_get_or_fill call did (optional; see rc_get_or_fill_options.report). */
typedef struct rc_get_or_fill_report {
    int attempts; /* lease reads sent */
    int filled;   /* 1 when this call ran the callback and sent the fill (it held the lease) */
    int refresh;  /* 1 when the lease was an early refresh of a fresh value */
    /*
     * Outcome of the fill: 0 stored, RC_ELEASE_REJECTED, another rejection
     * or error of the SET; on an early refresh whose callback failed, the
     * callback's code (the refresh was dropped, filled stays 0).
     */
    int fill_status;
    int fill_rejected; /* 1 when a computed value was not stored (fill_status != 0) */
} rc_get_or_fill_report;

#define RC_GET_OR_FILL_DEFAULT_WAIT_MS  1000
#define RC_GET_OR_FILL_DEFAULT_ATTEMPTS 3

typedef struct rc_get_or_fill_options {
    uint64_t version;     /* namespace version read and filled; 0 = current */
    uint64_t min_version; /* 0 = none */
    uint32_t wait_ms;     /* per attempt; 0 = RC_GET_OR_FILL_DEFAULT_WAIT_MS */
    int max_attempts;     /* lease reads before giving up; 0 = RC_GET_OR_FILL_DEFAULT_ATTEMPTS */
    rc_get_or_fill_report *report; /* NULL, or filled with what happened */
} rc_get_or_fill_options;

/*
 * rc_get_or_fill - read-through with server-side single flight.  Each
 * attempt is one lease read that may park up to wait_ms:
 *   - fresh hit: the value.  If the server also granted an early-refresh
 *     lease, the callback runs and its value is filled, but the caller gets
 *     the value just read; a failed callback or a rejected refresh is
 *     ignored (reported through report), since the value read is fresh.
 *   - stale hit, this reader granted the lease: callback, fill, the new value.
 *   - stale hit, lease held elsewhere: the stale value at once (out->stale).
 *   - miss, lease granted: callback, fill, the new value.
 *   - miss, parked: the value the lease holder filled.
 *   - WAIT_TIMEOUT, LEASE_HELD, or a miss whose lease vanished while parked:
 *     another attempt, up to max_attempts; then that status is returned.
 *     RC_ETOO_MANY_WAITERS (the server's bound on parked reads) is returned
 *     at once: retrying would only add load to an overloaded node.
 * When this call computed the value but the fill was not stored
 * (RC_ELEASE_REJECTED because the key was invalidated meanwhile, or any
 * other fill failure), the computed value is still returned with 0: it is
 * correct for this caller, only not cached; report->fill_rejected says so.
 * A failing callback's code is returned as is (except on an early refresh,
 * above); the lease it held then simply expires on the server, which
 * promotes a parked reader or lets the next reader win.
 * out is owned by the caller (rc_value_free).  For a value this call
 * computed, out's metadata comes from the callback's set options and the
 * fill's answer; out->ttl_left_ms is the TTL the callback asked for (0 when
 * it left it to the namespace default, which the client does not know).
 * opts may be NULL.  Returns 0 or an error; out->data is NULL on error.
 */
int rc_get_or_fill(rc_client *c, const char *ns, const void *key, size_t key_len,
                   const rc_get_or_fill_options *opts, rc_fill_fn fill, void *ctx, rc_value *out);

/*
 * Pipelined batches.  Queue operations (nothing is sent), run them with one
 * write and one read loop, then read each result by index.  Results stay
 * valid until the batch is reset or freed.  A batch holds at most
 * 1,000,000 operations.
 */
typedef struct rc_batch rc_batch;

typedef struct rc_batch_result {
    int status;     /* 0, RC_EMISS, a rejection or an error from the server */
    rc_value value; /* for GETs and LGETs that hit; data owned by the batch (do not free) */
    rc_write_info write;
    int lease;            /* LGET: RC_LGET_LEASE_* */
    rc_lease_token token; /* LGET with lease GRANTED */
} rc_batch_result;

rc_batch *rc_batch_new(rc_client *c);
void rc_batch_free(rc_batch *b);
void rc_batch_reset(rc_batch *b);
size_t rc_batch_count(const rc_batch *b);

/* Queue calls return the operation's index (>= 0) or a negative error (RC_ENOMEM, RC_EINVAL). */
long rc_batch_get(rc_batch *b, const char *ns, const void *key, size_t key_len,
                  const rc_get_options *opts);
long rc_batch_set(rc_batch *b, const char *ns, const void *key, size_t key_len, const void *value,
                  size_t value_len, const rc_set_options *opts);
long rc_batch_delete(rc_batch *b, const char *ns, const void *key, size_t key_len,
                     uint64_t version);
/*
 * rc_batch_lget - queue a lease read (statuses as rc_lget).  A parked LGET
 * does not hold back the answers to the operations queued after it; exec
 * waits for all of them, its I/O timeout extended by the longest wait_ms.
 */
long rc_batch_lget(rc_batch *b, const char *ns, const void *key, size_t key_len,
                   const rc_lget_options *opts);

/*
 * rc_batch_exec - send every queued operation, read every answer.  Returns 0
 * when all answers arrived (each has its own status), or a connection error
 * (the client is then unusable).
 */
int rc_batch_exec(rc_batch *b);

/* rc_batch_get_result - result of operation i after exec; NULL if out of range. */
const rc_batch_result *rc_batch_get_result(const rc_batch *b, size_t i);

#ifdef __cplusplus
}
#endif
#endif /* RECACHE_RECACHE_H */
