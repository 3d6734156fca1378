/*
 * rc_log.c - leveled logging to stderr (see rc_log.h for the design).
 *
 * The level is a relaxed atomic: a reader on another thread may see a level
 * change a little late, which is harmless for logging, and TSan stays quiet.
 * Lines are assembled in a fixed stack buffer and written with one write(2)
 * call; stdio is avoided so no FILE lock is taken and nothing is buffered
 * when the process aborts.
 */
#define _POSIX_C_SOURCE 200809L

#include "rc_log.h"

#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "recache/rc_errors.h"

/* The process-wide level; one stderr, one level.  Relaxed atomic, see above. */
static _Atomic int rc__log_level = RC_LOG_INFO;

/* Lines longer than this are cut and end with RC__LOG_TRUNCATED. */
#define RC__LOG_LINE_MAX  2048
#define RC__LOG_TRUNCATED "...\n"

static const char *const rc__log_names[] = {
#define RC__LOG_NAME(name, str) str,
    RC_LOG_LEVELS(RC__LOG_NAME)
#undef RC__LOG_NAME
};

void rc_log_set_level(rc_log_level level)
{
    atomic_store_explicit(&rc__log_level, (int)level, memory_order_relaxed);
}

rc_log_level rc_log_get_level(void)
{
    return (rc_log_level)atomic_load_explicit(&rc__log_level, memory_order_relaxed);
}

bool rc_log_enabled(rc_log_level level)
{
    return (int)level <= atomic_load_explicit(&rc__log_level, memory_order_relaxed);
}

int rc_log_level_parse(const char *text, rc_log_level *out)
{
    for (int i = 0; i < RC_LOG_LEVEL_COUNT; i++) {
        if (strcasecmp(text, rc__log_names[i]) == 0) {
            *out = (rc_log_level)i;
            return 0;
        }
    }
    return RC_EINVAL;
}

const char *rc_log_level_name(rc_log_level level)
{
    if ((int)level < 0 || level >= RC_LOG_LEVEL_COUNT)
        return "unknown";
    return rc__log_names[level];
}

/* Format the current UTC time as ISO 8601 with milliseconds; returns its length. */
static size_t rc__log_timestamp(char *buf, size_t cap)
{
    struct timespec ts;
    struct tm tm;
    clock_gettime(CLOCK_REALTIME, &ts);
    gmtime_r(&ts.tv_sec, &tm);
    size_t n = strftime(buf, cap, "%Y-%m-%dT%H:%M:%S", &tm);
    int m = snprintf(buf + n, cap - n, ".%03ldZ", ts.tv_nsec / 1000000L);
    return m > 0 ? n + (size_t)m : n;
}

void rc_log(rc_log_level level, const char *fmt, ...)
{
    if (!rc_log_enabled(level))
        return;
    char line[RC__LOG_LINE_MAX];
    size_t len = rc__log_timestamp(line, sizeof(line));
    int n = snprintf(line + len, sizeof(line) - len, " [%s] ", rc_log_level_name(level));
    len += (size_t)n;

    va_list ap;
    va_start(ap, fmt);
    n = vsnprintf(line + len, sizeof(line) - len, fmt, ap);
    va_end(ap);
    /* Leave room for the newline; a cut line ends with a visible marker. */
    if (n < 0 || (size_t)n >= sizeof(line) - len - 1) {
        len = sizeof(line) - sizeof(RC__LOG_TRUNCATED);
        memcpy(line + len, RC__LOG_TRUNCATED, sizeof(RC__LOG_TRUNCATED) - 1);
        len += sizeof(RC__LOG_TRUNCATED) - 1;
    } else {
        len += (size_t)n;
        line[len++] = '\n';
    }
    ssize_t written = write(STDERR_FILENO, line, len);
    (void)written;
}
