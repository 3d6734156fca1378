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
 * from different threads concurrently.  rc_strerror() is thread-safe.  The
 * L1 near-cache (rc_l1, below) is the exception: it is fully thread-safe
 * and runs its own background thread for its subscription channel.
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
 * Limits: the library knows the server's limits from HELLO
 * (rc_server_info_get) and refuses, before sending anything, a key over
 * max_key (RC_EKEY_TOO_LONG), a value over max_value (RC_EVALUE_TOO_LARGE)
 * or any request whose frame would exceed max_frame (RC_EFRAME_TOO_LARGE).
 * Such a refusal leaves the connection usable (rc_client_ok() stays 1) and
 * rc_client_error_message() says which limit was hit; only an
 * RC_EFRAME_TOO_LARGE the server sent closes the connection.
 *
 * ABI: only declarations marked RC_EXPORT are exported by librecache.so
 * (SONAME librecache.so.N; N changes with every incompatible release, see
 * docs/DESIGN.md).  Link the static librecache.a for no runtime dependency.
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
#include "recache/rc_export.h"

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
RC_EXPORT int rc_connect(const rc_client_options *opts, rc_client **out);

/* rc_close - close the connection and free the client.  NULL is allowed. */
RC_EXPORT void rc_close(rc_client *c);

/* rc_client_ok - 1 while the connection is usable, 0 after a fatal error. */
RC_EXPORT int rc_client_ok(const rc_client *c);

/* rc_server_info_get - the HELLO answer (valid while c lives). */
RC_EXPORT const rc_server_info *rc_server_info_get(const rc_client *c);

/*
 * rc_client_error_message - the server's message from the last error
 * response (status >= 32, e.g. why an ns-config setting was refused), or
 * the library's own explanation when it refused a request for its size
 * before sending it; "" when the last call got none.  Valid until the next
 * call on c.
 */
RC_EXPORT const char *rc_client_error_message(const rc_client *c);

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

RC_EXPORT void rc_value_free(rc_value *v);

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

RC_EXPORT int rc_ping(rc_client *c);

/* rc_get - 0 and *out filled (caller frees), or RC_EMISS, or an error.
 * On RC_EMISS, out->data is NULL and out->ns_version is the version looked up. */
RC_EXPORT int rc_get(rc_client *c, const char *ns, const void *key, size_t key_len,
                     const rc_get_options *opts, rc_value *out);

/* rc_set - 0, a rejection status (RC_EEXISTS, RC_ENOT_NEWER, RC_ECAS_MISMATCH), or an error.
 * opts may be NULL (plain set, namespace defaults).  info may be NULL.
 * A value over the server's max_value is RC_EVALUE_TOO_LARGE, refused before
 * sending: the client stays usable. */
RC_EXPORT int rc_set(rc_client *c, const char *ns, const void *key, size_t key_len,
                     const void *value, size_t value_len, const rc_set_options *opts,
                     rc_write_info *info);

/* rc_delete - 0 or RC_EMISS.  version 0 = current. */
RC_EXPORT int rc_delete(rc_client *c, const char *ns, const void *key, size_t key_len,
                        uint64_t version);

/* rc_touch - give a live entry a new TTL.  0 or RC_EMISS. */
RC_EXPORT int rc_touch(rc_client *c, const char *ns, const void *key, size_t key_len,
                       uint32_t ttl_ms, uint64_t version);

/* rc_stats - server statistics as text ("name value" lines); ns NULL = global. *text malloc'ed. */
RC_EXPORT int rc_stats(rc_client *c, const char *ns, char **text);

/* Invalidation modes. */
#define RC_HARD 0
#define RC_SOFT 1

/* rc_bump - make `to` (0 = current+1) current if higher; *version = resulting current. */
RC_EXPORT int rc_bump(rc_client *c, const char *ns, uint64_t to, uint64_t *version);

/*
 * rc_ns_info - namespace report text (*text malloc'ed) and its current
 * version.  RC_EMISS if unknown.
 */
RC_EXPORT int rc_ns_info(rc_client *c, const char *ns, char **text, uint64_t *version);

/*
 * rc_ns_config - apply "name=value" settings (space or newline separated);
 * *text = resulting settings.
 */
RC_EXPORT int rc_ns_config(rc_client *c, const char *ns, const char *settings, char **text);

/*
 * rc_invalidate_tag - hard or soft; *stamp (may be NULL) = the invalidation's
 * hybrid-logical-clock stamp on the node (never 0; PROTOCOL.md 5.12).
 */
RC_EXPORT int rc_invalidate_tag(rc_client *c, const char *tag, int mode, uint64_t *stamp);

/* rc_invalidate_key - hard or soft.  0 or RC_EMISS. */
RC_EXPORT int rc_invalidate_key(rc_client *c, const char *ns, const void *key, size_t key_len,
                                int mode, uint64_t version);

/* rc_flush - drop every entry on the server. */
RC_EXPORT int rc_flush(rc_client *c);

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

RC_EXPORT void rc_lease_result_free(rc_lease_result *r);

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
RC_EXPORT int rc_lget(rc_client *c, const char *ns, const void *key, size_t key_len,
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
RC_EXPORT int rc_fill(rc_client *c, const char *ns, const void *key, size_t key_len,
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
RC_EXPORT int rc_get_or_fill(rc_client *c, const char *ns, const void *key, size_t key_len,
                             const rc_get_or_fill_options *opts, rc_fill_fn fill, void *ctx,
                             rc_value *out);

/*
 * ---- Recommendation lists (PROTOCOL.md section 16) ---------------------------
 *
 * A list value is items in rank order, each an item id and a score, stored
 * by the server as 12 bytes per item and bounded by its max-list-items.
 * It is written with every SET option (TTL, stale window, tags,
 * conditions, entry version; a lease fill can be a list).  A list read
 * returns the top N items after removing the request's exclude set and
 * every item the namespace suppresses.  A byte value read as a list (or
 * the reverse) is RC_EWRONG_KIND.  Removal edits one list in place;
 * suppression hides ids from every list of a namespace at once.
 */
typedef struct rc_list_item {
    uint64_t id;
    float score;
} rc_list_item;

/* A list read from the server (items malloc'ed; free with rc_list_free). */
typedef struct rc_list {
    rc_list_item *items;
    size_t n;
    uint32_t client_flags;
    uint64_t entry_version;
    uint64_t ns_version;  /* version that served the read (also set on RC_EMISS) */
    uint32_t ttl_left_ms; /* RC_TTL_NONE when the list never expires */
    int stale;            /* 1 when served stale */
} rc_list;

RC_EXPORT void rc_list_free(rc_list *l);

/* List read options; NULL = current version, all items, no exclude set. */
typedef struct rc_list_get_options {
    uint64_t version;        /* 0 = current */
    uint64_t min_version;    /* 0 = none */
    uint32_t top;            /* most items returned; 0 = all */
    const uint64_t *exclude; /* ids left out of this answer (at most the server's max-exclude) */
    size_t nexclude;
} rc_list_get_options;

/*
 * rc_list_set - store a list (items in rank order; ids distinct, scores
 * finite) under every option of rc_set.  Returns as rc_set, plus
 * RC_EBAD_LIST (duplicate id, non-finite score) and RC_ETOO_MANY_ITEMS.
 */
RC_EXPORT int rc_list_set(rc_client *c, const char *ns, const void *key, size_t key_len,
                          const rc_list_item *items, size_t n, const rc_set_options *opts,
                          rc_write_info *info);

/* rc_list_get - 0 and *out (caller frees), RC_EMISS, RC_EWRONG_KIND, RC_EEXCLUDE_TOO_LARGE, ... */
RC_EXPORT int rc_list_get(rc_client *c, const char *ns, const void *key, size_t key_len,
                          const rc_list_get_options *opts, rc_list *out);

/*
 * rc_list_remove - remove ids from one list in place (a purchase).  The
 * list keeps its entry version, TTL and tags; a recomputation in flight
 * (a lease) is cancelled so it cannot put a removed item back.  *removed
 * (may be NULL) = items removed.  0, RC_EMISS, RC_EWRONG_KIND, ...
 */
RC_EXPORT int rc_list_remove(rc_client *c, const char *ns, const void *key, size_t key_len,
                             const uint64_t *ids, size_t n, uint64_t version, size_t *removed);

/*
 * rc_suppress - hide ids from every list of ns from now on, for ttl_ms
 * (0 = until rc_unsuppress).  *stamp (may be NULL) = the change's HLC
 * stamp.  0, RC_ESUPPRESS_FULL (the namespace's max-suppressed), ...
 */
RC_EXPORT int rc_suppress(rc_client *c, const char *ns, const uint64_t *ids, size_t n,
                          uint32_t ttl_ms, uint64_t *stamp);

/* rc_unsuppress - stop suppressing ids in ns.  *stamp as rc_suppress.  0 or an error. */
RC_EXPORT int rc_unsuppress(rc_client *c, const char *ns, const uint64_t *ids, size_t n,
                            uint64_t *stamp);

/* One live suppression. */
typedef struct rc_suppression {
    uint64_t id;
    uint32_t ttl_left_ms; /* RC_TTL_NONE = until unsuppressed */
    uint64_t stamp;       /* HLC stamp of the suppression */
} rc_suppression;

/* rc_suppressed - the live suppressions of ns: *out malloc'ed (free()), *n of them. */
RC_EXPORT int rc_suppressed(rc_client *c, const char *ns, rc_suppression **out, size_t *n);

/* Outcome of a list lease read: as rc_lease_result, with a list. */
typedef struct rc_list_lease_result {
    int hit;
    int lease; /* RC_LGET_LEASE_* */
    rc_lease_token token;
    rc_list list;
} rc_list_lease_result;

RC_EXPORT void rc_list_lease_result_free(rc_list_lease_result *r);

/*
 * rc_list_lget - lease read of a list (rc_lget's outcomes); a parked read
 * answered by a fill gets the filled list through this read's filter
 * (opts: top, exclude; suppressions applied at answer time).
 */
RC_EXPORT int rc_list_lget(rc_client *c, const char *ns, const void *key, size_t key_len,
                           const rc_list_get_options *opts, uint32_t wait_ms,
                           rc_list_lease_result *out);

/* rc_list_fill - store a list under a lease token (rc_fill's contract). */
RC_EXPORT int rc_list_fill(rc_client *c, const char *ns, const void *key, size_t key_len,
                           const rc_lease_token *token, const rc_list_item *items, size_t n,
                           const rc_set_options *opts, rc_write_info *info);

/*
 * What a list fill callback produces: items malloc'ed (the library frees
 * them), n of them, and the write's options (as rc_fill_output.set).
 */
typedef struct rc_list_fill_output {
    rc_list_item *items;
    size_t n;
    rc_set_options set;
} rc_list_fill_output;

typedef int (*rc_list_fill_fn)(void *ctx, const char *ns, const void *key, size_t key_len,
                               rc_list_fill_output *out);

/*
 * rc_list_get_or_fill - rc_get_or_fill for lists: one flight per key on
 * the server, the callback computes the list.  filter (may be NULL) gives
 * top and exclude (its version fields are ignored: opts has them).  A list
 * this call computed and stored is read back once (LIST_GET), so the
 * caller gets it filtered by the namespace's suppressions like any read;
 * if that read finds nothing (the fill was rejected, or the list was
 * invalidated at once), the computed list is returned with only the
 * exclude set and top applied (report->fill_rejected says so).
 */
RC_EXPORT int rc_list_get_or_fill(rc_client *c, const char *ns, const void *key, size_t key_len,
                                  const rc_get_or_fill_options *opts,
                                  const rc_list_get_options *filter, rc_list_fill_fn fill,
                                  void *ctx, rc_list *out);

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

RC_EXPORT rc_batch *rc_batch_new(rc_client *c);
RC_EXPORT void rc_batch_free(rc_batch *b);
RC_EXPORT void rc_batch_reset(rc_batch *b);
RC_EXPORT size_t rc_batch_count(const rc_batch *b);

/* Queue calls return the operation's index (>= 0) or a negative error (RC_ENOMEM, RC_EINVAL,
 * the argument checks of the single calls, and a server limit the operation exceeds, see
 * "Limits" above: such an operation is never queued). */
RC_EXPORT long rc_batch_get(rc_batch *b, const char *ns, const void *key, size_t key_len,
                            const rc_get_options *opts);
RC_EXPORT long rc_batch_set(rc_batch *b, const char *ns, const void *key, size_t key_len,
                            const void *value, size_t value_len, const rc_set_options *opts);
RC_EXPORT long rc_batch_delete(rc_batch *b, const char *ns, const void *key, size_t key_len,
                               uint64_t version);
/* rc_batch_list_set - queue a list write (as rc_list_set). */
RC_EXPORT long rc_batch_list_set(rc_batch *b, const char *ns, const void *key, size_t key_len,
                                 const rc_list_item *items, size_t n, const rc_set_options *opts);
/*
 * rc_batch_list_get - queue a list read (as rc_list_get).  A hit's result
 * value holds the items in their wire encoding, value.len / 12 of them:
 * read item i with rc_list_item_at.
 */
RC_EXPORT long rc_batch_list_get(rc_batch *b, const char *ns, const void *key, size_t key_len,
                                 const rc_list_get_options *opts);
/* rc_list_item_at - item i of a value holding wire-encoded items ({0, 0} past the end). */
RC_EXPORT rc_list_item rc_list_item_at(const rc_value *v, size_t i);
/*
 * rc_batch_lget - queue a lease read (statuses as rc_lget).  A parked LGET
 * does not hold back the answers to the operations queued after it; exec
 * waits for all of them, its I/O timeout extended by the longest wait_ms.
 */
RC_EXPORT long rc_batch_lget(rc_batch *b, const char *ns, const void *key, size_t key_len,
                             const rc_lget_options *opts);

/*
 * rc_batch_exec - send every queued operation, read every answer.  Returns 0
 * when all answers arrived (each has its own status), or a connection error
 * (the client is then unusable).
 */
RC_EXPORT int rc_batch_exec(rc_batch *b);

/* rc_batch_get_result - result of operation i after exec; NULL if out of range. */
RC_EXPORT const rc_batch_result *rc_batch_get_result(const rc_batch *b, size_t i);

/*
 * ---- Subscribe channel (PROTOCOL.md 5.15, 5.16, 8) -------------------------
 *
 * The raw channel: rc_subscribe turns a client into an event stream and
 * rc_next_event reads it.  Most applications want the L1 near-cache below,
 * which runs this for them; the raw calls serve tools (recache-cli
 * subscribe) and custom consumers.
 */

/* Event kinds (rc_event.kind); the wire values. */
#define RC_EVENT_KEY        1 /* ns/key written, deleted or invalidated (mode HARD/SOFT) */
#define RC_EVENT_TAG        2 /* tag invalidated (mode) */
#define RC_EVENT_BUMP       3 /* ns moved to version ns_version */
#define RC_EVENT_FLUSH      4 /* everything on the node is gone */
#define RC_EVENT_RESYNC     5 /* replay impossible: drop everything cached from this node */
#define RC_EVENT_HEARTBEAT  6 /* nothing changed; seq = the node's current sequence number */
#define RC_EVENT_CLOSING    7 /* the server closes the channel; text says why */
#define RC_EVENT_SUPPRESS   8 /* item ids (rc_event_id) hidden from every list of ns */
#define RC_EVENT_UNSUPPRESS 9 /* item ids (rc_event_id) no longer suppressed in ns */

/*
 * One pushed event.  ns, key, tag and text point into the client's read
 * buffer: NOT NUL-terminated, valid until the next call on the client.
 */
typedef struct rc_event {
    int kind; /* RC_EVENT_* */
    int mode; /* RC_HARD / RC_SOFT for KEY and TAG */
    uint64_t seq;
    uint64_t instance_id;
    uint64_t ns_version;
    const char *ns;
    size_t ns_len;
    const uint8_t *key;
    size_t key_len;
    const char *tag;
    size_t tag_len;
    const char *text;
    size_t text_len;
} rc_event;

/* rc_event_kind_name - "key", "tag", "bump", ... ("unknown" otherwise). */
RC_EXPORT const char *rc_event_kind_name(int kind);

/*
 * rc_event_id_count / rc_event_id - the item ids a SUPPRESS or UNSUPPRESS
 * event carries (in its text, 8 bytes each); 0 ids for other kinds.
 */
RC_EXPORT size_t rc_event_id_count(const rc_event *ev);
RC_EXPORT uint64_t rc_event_id(const rc_event *ev, size_t i);

/*
 * rc_subscribe - send SUBSCRIBE on c: namespaces (n names; n = 0 = all),
 * resuming after from_seq of instance_id (0, 0 = from now).  *node_seq and
 * *node_instance (either may be NULL) get the node's current sequence
 * number and instance id.  From then on c carries events: read them with
 * rc_next_event; every request call on c returns RC_ESTATE (their answers
 * would be interleaved with events).  Returns 0 or an error.
 */
RC_EXPORT int rc_subscribe(rc_client *c, const char *const *namespaces, size_t n, uint64_t from_seq,
                           uint64_t instance_id, uint64_t *node_seq, uint64_t *node_instance);

/*
 * rc_next_event - wait up to timeout_ms for the next event of a subscribed
 * client.  Returns 0 and *ev, RC_ETIMEDOUT when none came in time (the
 * client stays usable: unlike requests, silence is not a broken stream;
 * heartbeats tell a quiet channel from a dead one), RC_ESTATE if c is not
 * subscribed, or a connection error (RC_ECLOSED after CLOSING, ...).
 */
RC_EXPORT int rc_next_event(rc_client *c, uint32_t timeout_ms, rc_event *ev);

/*
 * rc_node_seq - the node's newest event sequence number and instance id,
 * from STATS (`events_published`, `instance_id`); either pointer may be
 * NULL.  RC_EPROTOCOL if the server does not report them.
 */
RC_EXPORT int rc_node_seq(rc_client *c, uint64_t *seq, uint64_t *instance_id);

/*
 * ---- L1 near-cache ---------------------------------------------------------
 *
 * An in-process copy of recently read values, kept coherent with one node
 * through the subscribe channel.  Threading choice: rc_l1_open starts its
 * OWN background thread with its OWN connection (the "channel"); the
 * application never drives an event loop.  The thread subscribes, applies
 * events to the cache, reconnects with exponential backoff (50 ms .. 2 s)
 * and resumes from the last sequence number it applied, so missed events
 * are replayed; when the node cannot replay (RESYNC), was flushed or
 * restarted (new instance id), the whole L1 is dropped.
 *
 * Health: the L1 serves reads only while the channel is connected, has
 * caught up with the node (the sequence number the SUBSCRIBE answer
 * reported), and heard an event or heartbeat within health_timeout_ms.
 * Otherwise every rc_l1_get goes to the server, so a silently dead channel
 * bounds the L1's staleness by health_timeout_ms (plus the node's heartbeat
 * interval should be well below it).
 *
 * Coherence rules:
 *   - SUPPRESS events remove the item ids from the namespace's cached lists;
 *     UNSUPPRESS drops the namespace's cached lists; both also refuse
 *     read-through fills in flight (the race rule below).
 *   - KEY events drop the key; TAG events drop entries carrying the tag AND
 *     every entry whose tags are unknown (GET answers carry no tags, so a
 *     read-through copy might carry it: the conservative choice); BUMP drops
 *     the namespace's entries of older versions; FLUSH and RESYNC drop all.
 *     Soft invalidations drop too (the L1 never serves stale values).
 *   - Race rule: a read-through fill notes the L1's invalidation counter
 *     before asking the server and is inserted only if, meanwhile, no KEY
 *     event hit a key of the same hash bucket and no TAG/BUMP/FLUSH/RESYNC
 *     was applied.  A slow read can therefore never put back a value an
 *     invalidation already removed.
 *   - Entries live at most min(the server's remaining TTL, max_ttl_ms); only
 *     fresh values of the current namespace version are cached.
 *
 * Thread-safety: every rc_l1 call is thread-safe (one mutex inside guards
 * the cache; it is never held across I/O).  The rc_client passed to
 * rc_l1_get / rc_l1_set is the caller's and follows the usual one-thread-
 * at-a-time rule.
 */
typedef struct rc_l1 rc_l1;

typedef struct rc_l1_options {
    const char *host; /* default "127.0.0.1" */
    uint16_t port;    /* default 7400 */
    /* NULL = all namespaces, else n_namespaces names; reads and writes of other namespaces
       bypass the L1 (the channel hears nothing about them) */
    const char *const *namespaces;
    size_t n_namespaces;
    size_t max_entries;          /* default 10000 */
    size_t max_bytes;            /* keys + values + tags; default 64 MiB */
    uint32_t max_ttl_ms;         /* cap on an entry's life; default 30000 */
    uint32_t health_timeout_ms;  /* default 3000 */
    uint32_t connect_timeout_ms; /* channel; default 1000 */
    uint32_t io_timeout_ms;      /* channel handshake; default health_timeout_ms */
} rc_l1_options;

typedef struct rc_l1_stats {
    uint64_t hits;          /* rc_l1_get answered from the L1 */
    uint64_t misses;        /* rc_l1_get that went to the server */
    uint64_t invalidations; /* entries dropped by events (and rc_l1_invalidate_local) */
    uint64_t resyncs;       /* whole-L1 drops for RESYNC, a new instance id or a sequence gap */
    uint64_t flushes;       /* FLUSH events applied */
    uint64_t reconnects;    /* successful subscriptions after the first */
    uint64_t events;        /* events applied (heartbeats excluded) */
    uint64_t entries;
    uint64_t bytes;
    int healthy;          /* 1 while the L1 may serve */
    int connected;        /* 1 while the channel is subscribed */
    uint64_t applied_seq; /* newest node sequence number applied */
    uint64_t instance_id; /* the node's instance id (0 before the first subscription) */
} rc_l1_stats;

/*
 * rc_l1_open - create the L1 and start its channel thread (which connects
 * in the background: the L1 is unhealthy until it has subscribed).  opts
 * may be NULL (defaults).  Returns 0 and *out, or RC_EINVAL, RC_ENOMEM.
 */
RC_EXPORT int rc_l1_open(const rc_l1_options *opts, rc_l1 **out);

/*
 * rc_l1_close - stop and join the channel thread, free everything.  NULL
 * allowed.  No other rc_l1 call on l1 may be running or follow.
 */
RC_EXPORT void rc_l1_close(rc_l1 *l1);

/*
 * rc_l1_get - the current version's value of (ns, key): from the L1 when
 * it is healthy and holds a live copy, else rc_get through c, whose fresh
 * answer then fills the L1 (per the race rule).  out as for rc_get (the
 * caller frees it).  Returns 0, RC_EMISS, or rc_get's errors.
 */
RC_EXPORT int rc_l1_get(rc_l1 *l1, rc_client *c, const char *ns, const void *key, size_t key_len,
                        rc_value *out);

/*
 * rc_l1_set - write-through: rc_set through c (opts as rc_set, NULL =
 * plain), then drop the key from the L1.  When the write was stored with
 * an explicit ttl_ms into the current version (opts->version 0), and no
 * other write to the key's bucket was seen meanwhile, the written value is
 * kept with its tags known: read-your-writes until the write's own KEY
 * event drops it.  Returns rc_set's result.
 */
RC_EXPORT int rc_l1_set(rc_l1 *l1, rc_client *c, const char *ns, const void *key, size_t key_len,
                        const void *value, size_t value_len, const rc_set_options *opts,
                        rc_write_info *info);

/*
 * rc_l1_list_get - rc_list_get through the L1: the whole list (as the
 * server serves it, suppressions applied) is cached, and opts' top and
 * exclude set are applied to the copy.  SUPPRESS events filter cached
 * lists in place (no drop, no refetch); UNSUPPRESS drops the namespace's
 * cached lists (they lack the item); KEY events (a removal, a write) drop
 * the list.  opts with a version or min_version bypass the L1.
 */
RC_EXPORT int rc_l1_list_get(rc_l1 *l1, rc_client *c, const char *ns, const void *key,
                             size_t key_len, const rc_list_get_options *opts, rc_list *out);

/* rc_l1_invalidate_local - drop (ns, key) from this L1 only. */
RC_EXPORT void rc_l1_invalidate_local(rc_l1 *l1, const char *ns, const void *key, size_t key_len);

/* rc_l1_stats - a consistent snapshot of the counters. */
RC_EXPORT void rc_l1_stats_get(rc_l1 *l1, rc_l1_stats *out);

/*
 * rc_l1_wait_applied - block until the L1 has applied the node's event
 * `seq` (applied_seq >= seq), on a condition variable.  Returns 0, or
 * RC_ETIMEDOUT after timeout_ms.  How to know that another client's write
 * has reached this L1: rc_node_seq after the write, then this.
 */
RC_EXPORT int rc_l1_wait_applied(rc_l1 *l1, uint64_t seq, uint32_t timeout_ms);

/*
 * rc_l1_pause - close the channel and stop reconnecting (the L1 turns
 * unhealthy and reads go to the server); rc_l1_resume - reconnect and
 * replay what was missed.  Both return at once; the thread acts on them.
 */
RC_EXPORT void rc_l1_pause(rc_l1 *l1);
RC_EXPORT void rc_l1_resume(rc_l1 *l1);

/*
 * ---- Client-side placement: weighted rendezvous hashing --------------------
 *
 * Every client (C, Python, yours) places (namespace, key) on nodes the same
 * way (PROTOCOL.md, "Client-side placement"):
 *   h     = FNV-1a 64 over node id, 0x00, namespace, 0x00, key; then the
 *           splitmix64 finalizer;
 *   u     = ((h >> 11) + 0.5) / 2^53, strictly inside (0, 1);
 *   score = -weight / ln(u);
 * nodes ranked by descending score, exact ties by lower index.  A node id is
 * the "host:port" string as configured.  Adding or removing a node moves
 * only the keys it gains or had.
 */

/* rc_hrw_score - the node's score for (ns, key); weight > 0. */
RC_EXPORT double rc_hrw_score(const char *node, size_t node_len, const char *ns, size_t ns_len,
                              const char *key, size_t key_len, double weight);

/*
 * rc_hrw_rank - order_out[0..n) = node indexes from best to worst for (ns,
 * key).  weights NULL = all 1.0.  Returns 0, or RC_EINVAL (n == 0 or over
 * 64 nodes, a NULL node, a weight <= 0 or not finite).
 */
RC_EXPORT int rc_hrw_rank(const char *const *nodes, const double *weights, size_t n, const char *ns,
                          size_t ns_len, const char *key, size_t key_len, size_t *order_out);

/*
 * ---- Cluster: many nodes through one handle --------------------------------
 *
 * rc_cluster spreads keys over nodes that share nothing, by weighted
 * rendezvous hashing, and keeps every failure loud:
 *   - Routing: single-key operations go to the key's highest-ranked node
 *     that is up; lease tokens stay bound to the node that issued them.
 *   - Health: a node is marked down at once when a connection to it is
 *     refused (or breaks), and after tko_threshold consecutive timeouts.  A
 *     down node is probed with exponential backoff; once it answers it
 *     catches up (below) and only then serves again.
 *   - Failover: while a key's node is down, its reads and writes go to the
 *     next node of the key's ranking; writes placed there have their TTL
 *     capped at failover_ttl_ms, so a divergent copy dies quickly, and the
 *     owner is sent an invalidation of the key when it comes back.
 *   - Broadcasts (bump, tag invalidation, flush, namespace config) go to
 *     every node and report per node; the call returns RC_EPARTIAL when any
 *     node did not acknowledge: never a silent success.
 *   - Catch-up: invalidations a node did not acknowledge (broadcasts, key
 *     invalidations of keys it owns, failover writes) are queued per node,
 *     bounded by max_queue, and replayed in order before it serves again.
 *     When its queue overflowed, the node is flushed first.  Then every
 *     namespace is bumped to the highest version this client has seen.
 *   - Reads carry the highest version of their namespace this client has
 *     seen as min_version, so a node that missed a bump adopts it first.
 *
 * Thread-safety: like rc_client, one thread at a time.  Probing and
 * catch-up run inside the calls (bounded by connect_timeout_ms per node),
 * so there is no background thread.  Errors as for rc_client, plus
 * RC_EPARTIAL and RC_ENO_NODE (every candidate node is down).
 */
typedef struct rc_cluster rc_cluster;

typedef struct rc_cluster_options {
    const char *const *nodes;    /* "host:port" each (IPv6: "[addr]:port") */
    const double *weights;       /* NULL = all 1.0 */
    size_t n_nodes;              /* 1..64 */
    uint32_t connect_timeout_ms; /* default 500 */
    uint32_t io_timeout_ms;      /* default 2000 */
    uint32_t tko_threshold;      /* consecutive timeouts before a node is down; default 3 */
    uint32_t probe_min_ms;       /* first probe delay after marking down; default 100 */
    uint32_t probe_max_ms;       /* backoff cap; default 2000 */
    uint32_t failover_ttl_ms;    /* TTL cap of writes placed on a failover node; default 10000 */
    size_t max_queue;            /* queued invalidations per node; default 10000 */
} rc_cluster_options;

/* Node states (rc_cluster_node_info.state). */
#define RC_NODE_UP        0
#define RC_NODE_DOWN      1
#define RC_NODE_PROBING   2 /* answered a probe; catching up */
#define RC_NODE_RESYNCING 3 /* its queue overflowed: it will be flushed before it serves */

/* One node's answer to a broadcast. */
typedef struct rc_node_result {
    size_t node;     /* index in the configured list */
    int status;      /* 0 acknowledged, else the error (RC_ENO_NODE: down, queued) */
    uint64_t value;  /* bump: the node's version; tag invalidation: its stamp; else 0 */
    char error[160]; /* "" or why */
} rc_node_result;

typedef struct rc_cluster_node_info {
    char name[128]; /* "host:port" */
    double weight;
    int state; /* RC_NODE_* */
    uint32_t consecutive_timeouts;
    uint64_t requests, failures, failovers; /* failovers: requests this node took for another */
    uint64_t queued, replayed, dropped;     /* invalidations queued for it, replayed, overflowed */
    size_t queue_len;
    uint64_t down_since_ms; /* monotonic ms when last marked down (0 = never) */
    uint64_t up_since_ms;   /* monotonic ms when it last came (back) up */
} rc_cluster_node_info;

/* rc_cluster_open - validate options and connect to the nodes that answer (others start down). */
RC_EXPORT int rc_cluster_open(const rc_cluster_options *opts, rc_cluster **out);
RC_EXPORT void rc_cluster_close(rc_cluster *cl);
RC_EXPORT size_t rc_cluster_size(const rc_cluster *cl);
RC_EXPORT int rc_cluster_node_get(rc_cluster *cl, size_t node, rc_cluster_node_info *out);
/* rc_cluster_owner - the key's highest-ranked node (up or not). */
RC_EXPORT int rc_cluster_owner(rc_cluster *cl, const char *ns, const void *key, size_t key_len,
                               size_t *node);
/* rc_cluster_ns_version - the highest version of ns this client has seen (0 = none). */
RC_EXPORT uint64_t rc_cluster_ns_version(rc_cluster *cl, const char *ns);
/* rc_cluster_last_node - the node that answered the last routed call (RC_ENO_NODE if none). */
RC_EXPORT int rc_cluster_last_node(const rc_cluster *cl, size_t *node);
/* rc_cluster_poll - probe due nodes and run their catch-up now (calls do it too). */
RC_EXPORT void rc_cluster_poll(rc_cluster *cl);

/* Single-key operations: as the rc_client calls, routed (and failed over) by key. */
RC_EXPORT int rc_cluster_get(rc_cluster *cl, const char *ns, const void *key, size_t key_len,
                             const rc_get_options *opts, rc_value *out);
RC_EXPORT int rc_cluster_set(rc_cluster *cl, const char *ns, const void *key, size_t key_len,
                             const void *value, size_t value_len, const rc_set_options *opts,
                             rc_write_info *info);
RC_EXPORT int rc_cluster_delete(rc_cluster *cl, const char *ns, const void *key, size_t key_len,
                                uint64_t version);
RC_EXPORT int rc_cluster_touch(rc_cluster *cl, const char *ns, const void *key, size_t key_len,
                               uint32_t ttl_ms, uint64_t version);
RC_EXPORT int rc_cluster_invalidate_key(rc_cluster *cl, const char *ns, const void *key,
                                        size_t key_len, int mode, uint64_t version);
/* rc_cluster_lget - a lease read; *node (may be NULL) receives the node the token belongs to. */
RC_EXPORT int rc_cluster_lget(rc_cluster *cl, const char *ns, const void *key, size_t key_len,
                              const rc_lget_options *opts, rc_lease_result *out, size_t *node);
/* rc_cluster_fill - a fill sent to the node that issued the token (RC_ENO_NODE if it is down). */
RC_EXPORT int rc_cluster_fill(rc_cluster *cl, size_t node, const char *ns, const void *key,
                              size_t key_len, const rc_lease_token *token, const void *value,
                              size_t value_len, const rc_set_options *opts, rc_write_info *info);
RC_EXPORT int rc_cluster_get_or_fill(rc_cluster *cl, const char *ns, const void *key,
                                     size_t key_len, const rc_get_or_fill_options *opts,
                                     rc_fill_fn fill, void *ctx, rc_value *out);
/*
 * rc_cluster_get_many - n reads pipelined per node (one batch per node).
 * status[i] is 0, RC_EMISS or an error; out[i] as rc_cluster_get (caller
 * frees each with rc_value_free).  Returns 0 when every read was answered.
 */
RC_EXPORT int rc_cluster_get_many(rc_cluster *cl, const char *ns, const void *const *keys,
                                  const size_t *key_lens, size_t n, rc_value *out, int *status);

/*
 * Broadcasts: sent to every node; results[0..rc_cluster_size) (may be NULL)
 * get each node's answer.  0 when every node acknowledged, else RC_EPARTIAL
 * (the unacknowledged invalidations are queued for those nodes), or the
 * request's own error when every node refused it the same way.
 */
RC_EXPORT int rc_cluster_bump(rc_cluster *cl, const char *ns, uint64_t to, uint64_t *version,
                              rc_node_result *results);
RC_EXPORT int rc_cluster_invalidate_tag(rc_cluster *cl, const char *tag, int mode,
                                        rc_node_result *results);
RC_EXPORT int rc_cluster_flush(rc_cluster *cl, rc_node_result *results);
RC_EXPORT int rc_cluster_ns_config(rc_cluster *cl, const char *ns, const char *settings,
                                   rc_node_result *results);

/*
 * List values over a cluster: list writes, reads and removals are routed
 * like rc_cluster_set / rc_cluster_get (a failover write's TTL is capped,
 * the owner is owed an invalidation); suppression is a broadcast like tag
 * invalidation: every node must acknowledge (RC_EPARTIAL otherwise), and
 * the nodes that missed it get it replayed before they serve again.
 * results[i].value is the node's stamp for the change.
 */
RC_EXPORT int rc_cluster_list_set(rc_cluster *cl, const char *ns, const void *key, size_t key_len,
                                  const rc_list_item *items, size_t n, const rc_set_options *opts,
                                  rc_write_info *info);
RC_EXPORT int rc_cluster_list_get(rc_cluster *cl, const char *ns, const void *key, size_t key_len,
                                  const rc_list_get_options *opts, rc_list *out);
RC_EXPORT int rc_cluster_list_remove(rc_cluster *cl, const char *ns, const void *key,
                                     size_t key_len, const uint64_t *ids, size_t n,
                                     uint64_t version, size_t *removed);
RC_EXPORT int rc_cluster_suppress(rc_cluster *cl, const char *ns, const uint64_t *ids, size_t n,
                                  uint32_t ttl_ms, rc_node_result *results);
RC_EXPORT int rc_cluster_unsuppress(rc_cluster *cl, const char *ns, const uint64_t *ids, size_t n,
                                    rc_node_result *results);

/*
 * rc_cluster_node_client - the connection to one node (NULL while it is
 * down), for operations the cluster does not route (stats, subscribe).
 * Owned by the cluster; valid until the next cluster call.
 */
RC_EXPORT rc_client *rc_cluster_node_client(rc_cluster *cl, size_t node);

/*
 * ---- L1 over a cluster ------------------------------------------------------
 *
 * One near-cache (and subscribe channel) per node.  rc_cluster_l1_get
 * routes like rc_cluster_get and uses the routed node's L1, which serves
 * only while that node's channel is healthy: an entry from a node whose
 * channel is down is never served, the read goes to the cluster instead.
 */
typedef struct rc_cluster_l1 rc_cluster_l1;

/* rc_cluster_l1_open - base: options for every node's L1 (host, port, namespaces ignored). */
RC_EXPORT int rc_cluster_l1_open(rc_cluster *cl, const rc_l1_options *base, rc_cluster_l1 **out);
RC_EXPORT void rc_cluster_l1_close(rc_cluster_l1 *l1);
RC_EXPORT int rc_cluster_l1_get(rc_cluster_l1 *l1, const char *ns, const void *key, size_t key_len,
                                rc_value *out);
/* rc_cluster_l1_node - the L1 of one node (for its stats and rc_l1_wait_applied). */
RC_EXPORT rc_l1 *rc_cluster_l1_node(rc_cluster_l1 *l1, size_t node);

#ifdef __cplusplus
}
#endif
#endif /* RECACHE_RECACHE_H */
