/*
 * rc_log.h - leveled logging to stderr for the server process.
 *
 * Design.  A process has exactly one stderr, so the log level is the one
 * piece of process-wide mutable state here: an atomic read on every call,
 * written once at startup (and possibly by an admin later).  Each message is
 * formatted into a stack buffer with its timestamp and level, then written
 * with a single write(2) so lines from different worker threads never
 * interleave mid-line.  Messages longer than the buffer are truncated with
 * a marker rather than split.
 *
 * The levels live in one X-macro table so their names (used by the
 * log-level option) and their order are defined once.
 */
#ifndef RECACHE_RC_LOG_H
#define RECACHE_RC_LOG_H

#include <stdbool.h>

/* X(ENUM, "name"), most severe first: a level enables itself and those above. */
#define RC_LOG_LEVELS(X)                                                                           \
    X(ERROR, "error")                                                                              \
    X(WARN, "warn")                                                                                \
    X(INFO, "info")                                                                                \
    X(DEBUG, "debug")

typedef enum rc_log_level {
#define RC__LOG_ENUM(name, str) RC_LOG_##name,
    RC_LOG_LEVELS(RC__LOG_ENUM)
#undef RC__LOG_ENUM
        RC_LOG_LEVEL_COUNT
} rc_log_level;

/* Set the process-wide level (messages above it are dropped).  Thread-safe. */
void rc_log_set_level(rc_log_level level);
rc_log_level rc_log_get_level(void);

/* Whether a message at `level` would be written; lets callers skip costly formatting. */
bool rc_log_enabled(rc_log_level level);

/*
 * rc_log_level_parse - "error", "warn", "info" or "debug" (case-insensitive)
 * into *out.  Returns 0, or RC_EINVAL for anything else (*out untouched).
 */
int rc_log_level_parse(const char *text, rc_log_level *out);

/* Name of a level ("info"), or "unknown" for an out-of-range value. */
const char *rc_log_level_name(rc_log_level level);

/*
 * rc_log - write one line "2024-01-31T12:00:00.123Z [info] message" to
 * stderr if level is enabled.  Never fails visibly: a short write is
 * ignored, since there is nowhere better to report it.  Thread-safe.
 */
void rc_log(rc_log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#define rc_log_error(...) rc_log(RC_LOG_ERROR, __VA_ARGS__)
#define rc_log_warn(...)  rc_log(RC_LOG_WARN, __VA_ARGS__)
#define rc_log_info(...)  rc_log(RC_LOG_INFO, __VA_ARGS__)
#define rc_log_debug(...) rc_log(RC_LOG_DEBUG, __VA_ARGS__)

#endif /* RECACHE_RC_LOG_H */
