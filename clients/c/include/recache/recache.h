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

/* A value read from the server.  data is malloc'ed (NUL-terminated for convenience, not counted in len). */
typedef struct rc_value {
    uint8_t *data;
    size_t len;
    uint32_t client_flags;
    uint64_t entry_version;
    uint64_t ns_version; /* namespace version that served the read */
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
    uint64_t version;       /* namespace version written; 0 = current */
    uint32_t ttl_ms;        /* 0 = namespace default */
    uint32_t stale_ms;      /* 0xFFFFFFFF (RC_STALE_DEFAULT) = namespace default; 0 = none */
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

/* rc_ns_info - namespace report text (*text malloc'ed) and its current version. RC_EMISS if unknown. */
int rc_ns_info(rc_client *c, const char *ns, char **text, uint64_t *version);

/* rc_ns_config - apply "name=value" settings (space or newline separated); *text = resulting settings. */
int rc_ns_config(rc_client *c, const char *ns, const char *settings, char **text);

/* rc_invalidate_tag - hard or soft; *epoch (may be NULL) = the tag's new epoch. */
int rc_invalidate_tag(rc_client *c, const char *tag, int mode, uint64_t *epoch);

/* rc_invalidate_key - hard or soft.  0 or RC_EMISS. */
int rc_invalidate_key(rc_client *c, const char *ns, const void *key, size_t key_len, int mode,
                      uint64_t version);

/* rc_flush - drop every entry on the server. */
int rc_flush(rc_client *c);

/*
 * Pipelined batches.  Queue operations (nothing is sent), run them with one
 * write and one read loop, then read each result by index.  Results stay
 * valid until the batch is reset or freed.  A batch holds at most
 * 1,000,000 operations.
 */
typedef struct rc_batch rc_batch;

typedef struct rc_batch_result {
    int status;    /* 0, RC_EMISS, a rejection or an error from the server */
    rc_value value; /* for GETs that hit; data owned by the batch (do not free) */
    rc_write_info write;
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
