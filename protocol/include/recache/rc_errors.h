/*
 * rc_errors.h - the one error convention of recache.
 *
 * Every function in recache that can fail returns 0 (or a non-negative
 * count) on success and a negative RC_E* code on failure; rc_strerror()
 * turns any such code into a sentence.  Codes that can travel on the wire
 * are exactly the negated protocol status (RC_EMISS == -RC_STATUS_MISS), so
 * a client maps a response status to its return value with one negation and
 * the server maps an internal failure to a status the same way.  Codes below
 * -1000 are local to one process (timeouts, socket errors) and never appear
 * on the wire.
 *
 * The table below is the single place where a code, its wire status and its
 * message are defined (X-macro: NAME, STATUS, MESSAGE).
 */
#ifndef RECACHE_RC_ERRORS_H
#define RECACHE_RC_ERRORS_H

#include "recache/rc_export.h"

#ifdef __cplusplus
extern "C" {
#endif

/*
 * Wire statuses 1..31 are outcomes (the operation was understood and the
 * response body has the operation's normal layout).  Statuses 32..255 are
 * errors (the response body is a single message string).
 */
#define RC_WIRE_ERRORS(X)                                                                          \
    X(MISS, 1, "not found")                                                                        \
    X(EXISTS, 2, "not stored: key exists (only-if-absent)")                                        \
    X(NOT_NEWER, 3, "not stored: entry version is not newer than the stored one")                  \
    X(CAS_MISMATCH, 4, "not stored: stored entry version differs from the expected one")           \
    X(LEASE_REJECTED, 5, "not stored: the lease is no longer current")                             \
    X(LEASE_HELD, 6, "another reader holds the lease")                                             \
    X(WAIT_TIMEOUT, 7, "wait deadline passed before the value arrived")                            \
    X(TOO_MANY_WAITERS, 8, "too many parked requests")                                             \
    X(BAD_FRAME, 32, "malformed frame")                                                            \
    X(BAD_MAGIC, 33, "bad magic byte")                                                             \
    X(BAD_VERSION, 34, "unsupported protocol version")                                             \
    X(UNKNOWN_OPCODE, 35, "unknown opcode")                                                        \
    X(FRAME_TOO_LARGE, 36, "frame larger than the configured maximum")                             \
    X(KEY_TOO_LONG, 37, "key longer than the configured maximum")                                  \
    X(VALUE_TOO_LARGE, 38, "value larger than the configured maximum")                             \
    X(TOO_MANY_TAGS, 39, "more tags than the configured maximum")                                  \
    X(TAG_TOO_LONG, 40, "tag longer than the configured maximum")                                  \
    X(BAD_NAMESPACE, 41, "namespace name empty or too long")                                       \
    X(BAD_ARGUMENT, 42, "invalid argument")                                                        \
    X(NO_MEMORY, 43, "out of memory: the value cannot fit under the memory limit")                 \
    X(TOO_MANY_NAMESPACES, 44, "namespace limit reached")                                          \
    X(SERVER_BUSY, 45, "server busy: connection limit reached")                                    \
    X(SHUTTING_DOWN, 46, "server shutting down")                                                   \
    X(SLOW_CONSUMER, 47, "output buffer limit exceeded")                                           \
    X(INTERNAL, 48, "internal server error")                                                       \
    X(FORBIDDEN, 49, "operation reserved to the admin port on this server")                        \
    X(WRONG_KIND, 60, "wrong value kind: a list operation on a byte value or the reverse")         \
    X(BAD_LIST, 61, "malformed list: bad length, duplicate item id or non-finite score")           \
    X(TOO_MANY_ITEMS, 62, "more list items than the configured maximum (max-list-items)")          \
    X(EXCLUDE_TOO_LARGE, 63, "exclude set larger than the configured maximum (max-exclude)")       \
    X(SUPPRESS_FULL, 64, "suppression set full (max-suppressed)")

/* Local codes: never on the wire.  X(NAME, CODE, MESSAGE). */
#define RC_LOCAL_ERRORS(X)                                                                         \
    X(AGAIN, 1001, "incomplete input: more bytes needed")                                          \
    X(NOMEM, 1002, "out of memory")                                                                \
    X(TIMEDOUT, 1003, "operation timed out")                                                       \
    X(CONNECT, 1004, "connection failed")                                                          \
    X(CLOSED, 1005, "connection closed by peer")                                                   \
    X(IO, 1006, "socket I/O error")                                                                \
    X(PROTOCOL, 1007, "peer violated the protocol")                                                \
    X(INVAL, 1008, "invalid argument")                                                             \
    X(RESOLVE, 1009, "host name resolution failed")                                                \
    X(BUFFER, 1010, "output buffer too small")                                                     \
    X(STATE, 1011, "call not valid in the current state")                                          \
    X(PARTIAL, 1012, "not every node of the cluster acknowledged")                                 \
    X(NO_NODE, 1013, "no node of the cluster is available")

enum rc_error {
    RC_OK = 0,
#define RC__ERR_ENUM(name, code, msg) RC_E##name = -(code),
    RC_WIRE_ERRORS(RC__ERR_ENUM) RC_LOCAL_ERRORS(RC__ERR_ENUM)
#undef RC__ERR_ENUM
};

/* Wire statuses: RC_STATUS_OK plus one per wire error. */
enum rc_status {
    RC_STATUS_OK = 0,
#define RC__STATUS_ENUM(name, code, msg) RC_STATUS_##name = (code),
    RC_WIRE_ERRORS(RC__STATUS_ENUM)
#undef RC__STATUS_ENUM
};

/* First wire status whose body is an error message rather than the op's layout. */
#define RC_STATUS_FIRST_ERROR 32

/*
 * rc_strerror - a static, human-readable sentence for any value returned by a
 * recache function (0 gives "success"; unknown codes give "unknown error").
 * Never returns NULL; thread-safe.
 */
RC_EXPORT const char *rc_strerror(int err);

/* rc_error_name - the symbolic name ("MISS", "TIMEDOUT", ...), or "UNKNOWN". */
RC_EXPORT const char *rc_error_name(int err);

#ifdef __cplusplus
}
#endif
#endif /* RECACHE_RC_ERRORS_H */
