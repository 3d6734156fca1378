/*
 * test_output_limits.c - abuse of the server's descriptors and output
 * buffers, against a real server over loopback (rc_harness).
 *
 * Cases:
 *   - accept back-off: the server is started with a low open-file limit
 *     (inherited from this process, lowered around rc_harness_start) and
 *     its stderr captured through a pipe; far more connections than it can
 *     hold are opened.  While accept fails with EMFILE the server must
 *     write only a few log lines and use little CPU (it used to spin and log
 *     hundreds of thousands of lines a second); once the connections close
 *     it must accept and answer again, and say so in its log.
 *   - node-wide output cap and write timeout: connections that pipeline
 *     GETs of a large value and never read.  STATS output_bytes must stay
 *     within max-output-total (plus the documented slack) while a reading
 *     client keeps being served; every non-reader must be closed once its
 *     output made no progress for write-timeout-ms (not before), counted in
 *     write_timeouts; afterwards output_bytes returns to about nothing.
 *   - max-output-total below max-output is refused at startup.
 *
 * Waits are bounded: socket timeouts (5 s), deadlines on polling loops over
 * STATS, and a condition variable signalled by the log reader.  The only
 * fixed wait is the accept case's measurement window, which is what it
 * measures (log lines and CPU over a known time), not a synchronisation.
 */
#define _GNU_SOURCE

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "rc_harness.h"
#include "rc_rawconn.h"
#include "rc_test.h"
#include "recache/rc_proto.h"

static rc_harness_server srv;

/* ---- server log capture --------------------------------------------------------------------- */

/* Lines of the server's stderr, counted by a reader thread and forwarded to ours. */
typedef struct log_capture {
    int fd; /* read end of the server's stderr pipe; owned by the reader */
    pthread_t reader;
    pthread_mutex_t lock; /* guards the counters below */
    pthread_cond_t changed;
    long lines;     /* every line */
    long failures;  /* "accept failed" lines */
    long recovered; /* "accepting connections again" lines */
} log_capture;

static log_capture logcap = {.lock = PTHREAD_MUTEX_INITIALIZER,
                             .changed = PTHREAD_COND_INITIALIZER};

static void count_line(const char *line)
{
    pthread_mutex_lock(&logcap.lock);
    logcap.lines++;
    if (strstr(line, "accept failed") != NULL)
        logcap.failures++;
    if (strstr(line, "accepting connections again") != NULL)
        logcap.recovered++;
    pthread_cond_broadcast(&logcap.changed);
    pthread_mutex_unlock(&logcap.lock);
}

/* Reader thread: split the pipe into lines until EOF (the server exited). */
static void *log_reader(void *arg)
{
    (void)arg;
    static char line[4096];
    size_t len = 0;
    char buf[4096];
    ssize_t n;
    while ((n = read(logcap.fd, buf, sizeof buf)) != 0) {
        if (n < 0) {
            if (errno == EINTR)
                continue;
            break;
        }
        fwrite(buf, 1, (size_t)n, stderr);
        for (ssize_t i = 0; i < n; i++) {
            if (buf[i] == '\n') {
                line[len] = '\0';
                count_line(line);
                len = 0;
            } else if (len + 1 < sizeof line) {
                line[len++] = buf[i];
            }
        }
    }
    return NULL;
}

static long log_count(const long *counter)
{
    pthread_mutex_lock(&logcap.lock);
    long v = *counter;
    pthread_mutex_unlock(&logcap.lock);
    return v;
}

/* Wait (bounded by deadline_ms from now) until *counter >= want.  Returns whether it did. */
static int log_wait(const long *counter, long want, int deadline_ms)
{
    struct timespec until;
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += deadline_ms / 1000;
    until.tv_nsec += (long)(deadline_ms % 1000) * 1000000L;
    if (until.tv_nsec >= 1000000000L) {
        until.tv_sec++;
        until.tv_nsec -= 1000000000L;
    }
    pthread_mutex_lock(&logcap.lock);
    int rc = 0;
    while (*counter < want && rc == 0)
        rc = pthread_cond_timedwait(&logcap.changed, &logcap.lock, &until);
    int ok = *counter >= want;
    pthread_mutex_unlock(&logcap.lock);
    return ok;
}

/*
 * Start the server with its open-file limit lowered to nofile and its
 * stderr going to the log capture pipe.  This process's stderr and limit
 * are restored before returning.
 */
static void start_limited(const char *const args[], rlim_t nofile)
{
    int pipefd[2];
    RC_CHECK(pipe2(pipefd, O_CLOEXEC) == 0);
    int saved_err = fcntl(STDERR_FILENO, F_DUPFD_CLOEXEC, 3);
    RC_CHECK(saved_err >= 0);
    struct rlimit old, low;
    RC_CHECK(getrlimit(RLIMIT_NOFILE, &old) == 0);
    low = old;
    low.rlim_cur = nofile;
    fflush(stderr);
    RC_CHECK(dup2(pipefd[1], STDERR_FILENO) == STDERR_FILENO); /* inherited by the server */
    RC_CHECK(setrlimit(RLIMIT_NOFILE, &low) == 0);
    int rc = rc_harness_start(&srv, args);
    RC_CHECK(setrlimit(RLIMIT_NOFILE, &old) == 0);
    RC_CHECK(dup2(saved_err, STDERR_FILENO) == STDERR_FILENO);
    close(saved_err);
    close(pipefd[1]); /* only the server holds the write end now */
    logcap.fd = pipefd[0];
    RC_CHECK(pthread_create(&logcap.reader, NULL, log_reader, NULL) == 0);
    RC_CHECK(rc == 0);
}

/* ---- accept back-off ------------------------------------------------------------------------ */

/* CPU time (user + system) the process has used, in clock ticks. */
static long long cpu_ticks(pid_t pid)
{
    char path[64], buf[1024];
    snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
    FILE *f = fopen(path, "r");
    RC_CHECK(f != NULL);
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0';
    const char *p = strrchr(buf, ')'); /* the command name may hold spaces */
    RC_CHECK(p != NULL);
    unsigned long long utime = 0, stime = 0;
    /* After ")": state ppid pgrp session tty tpgid flags minflt cminflt majflt cmajflt utime stime
     */
    RC_CHECK(sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &utime,
                    &stime) == 2);
    return (long long)(utime + stime);
}

#define NOFILE_LIMIT 64  /* the server needs about 25 descriptors of its own */
#define FLOOD_CONNS  120 /* connections opened: far more than it can hold */
#define WINDOW_MS    1500

static void test_accept_backoff(void)
{
    start_limited(NULL, NOFILE_LIMIT);
    rc_client *keep = rc_harness_client(&srv); /* for STATS while no descriptor is left */
    RC_CHECK_EQ_INT(rc_harness_node_stat(keep, "accept_failures"), 0);

    int fds[FLOOD_CONNS];
    for (int i = 0; i < FLOOD_CONNS; i++) {
        fds[i] = rc_harness_raw_connect(&srv); /* the kernel's backlog completes the handshake */
        RC_CHECK(fds[i] >= 0);
    }
    RC_CHECK(log_wait(&logcap.failures, 1, 5000));
    long long ticks0 = cpu_ticks(srv.pid);
    long lines0 = log_count(&logcap.lines);
    long long fails0 = rc_harness_node_stat(keep, "accept_failures");
    RC_CHECK(fails0 >= 1);

    /* The measurement window: the server is out of descriptors throughout. */
    struct timespec window = {WINDOW_MS / 1000, (WINDOW_MS % 1000) * 1000000L};
    nanosleep(&window, NULL);
    long long ticks = cpu_ticks(srv.pid) - ticks0;
    long lines = log_count(&logcap.lines) - lines0;
    long long fails = rc_harness_node_stat(keep, "accept_failures") - fails0;
    long hz = sysconf(_SC_CLK_TCK);
    fprintf(stderr, "  in %d ms: %ld log lines, %lld accept failures, %lld CPU ticks (%ld/s)\n",
            WINDOW_MS, lines, fails, ticks, hz);
    RC_CHECK(lines <= 3);                /* at most one per second, with a count */
    RC_CHECK(fails >= 1 && fails <= 40); /* retried, but backing off */
    RC_CHECK(ticks * 1000 < (long long)hz * WINDOW_MS / 4); /* far from a spinning core */
    RC_CHECK_EQ_INT(log_count(&logcap.recovered), 0);

    /* Descriptors come back: the server accepts and answers again, and says so. */
    for (int i = 0; i < FLOOD_CONNS; i++)
        close(fds[i]);
    rc_client *fresh = rc_harness_client(&srv);
    RC_CHECK_RC(rc_ping(fresh), 0); /* bounded by the client's 5 s I/O timeout */
    RC_CHECK(log_wait(&logcap.recovered, 1, 5000));
    RC_CHECK(log_count(&logcap.failures) <= 4);
    rc_close(fresh);
    rc_close(keep);
    RC_CHECK_EQ_INT(rc_harness_stop(&srv), 0);
    pthread_join(logcap.reader, NULL); /* EOF: the server exited */
    close(logcap.fd);
}

/* ---- node-wide output cap and write timeout ------------------------------------------------- */

#define VALUE_LEN     (256u * 1024u)
#define CAP_BYTES     (2u << 20) /* --max-output-total */
#define CONN_BYTES    (1u << 20) /* --max-output */
#define TIMEOUT_MS    1000
#define NON_READERS   8
#define GETS_EACH     32
#define RESPONSE_SIZE (VALUE_LEN + 1024u)
/*
 * The documented slack: one response per connection (the non-readers, the
 * reader and this STATS connection), plus one connection's batch on the
 * other worker at the same moment (at most max-output).
 */
#define CAP_SLACK ((NON_READERS + 2u) * RESPONSE_SIZE + CONN_BYTES)

/* A socket with a small receive buffer that sends GETS_EACH pipelined GETs of "big" and never
 * reads. */
static int non_reader(void)
{
    int fd = rc_raw_connect_small(&srv);
    uint8_t buf[GETS_EACH * 64];
    size_t len = 0;
    for (int i = 0; i < GETS_EACH; i++) {
        rc_msg m = {.opcode = RC_OP_GET, .ns = rc_slice_str("cap"), .key = rc_slice_str("big")};
        rc_raw_encode_req(&m, buf, sizeof buf, &len);
    }
    rc_harness_send_all(fd, buf, len);
    return fd;
}

/* Read fd until the server's close shows: EOF or a reset, bounded by the 5 s receive timeout. */
static void expect_closed(int fd)
{
    static uint8_t buf[65536];
    for (;;) {
        ssize_t n = read(fd, buf, sizeof buf);
        if (n > 0 || (n < 0 && errno == EINTR))
            continue;
        RC_CHECK(n == 0 || errno == ECONNRESET);
        return;
    }
}

static void test_output_cap_and_write_timeout(void)
{
    const char *args[] = {"--max-value",
                          "256kb",
                          "--max-frame",
                          "512kb",
                          "--max-output",
                          "1mb",
                          "--max-output-total",
                          "2mb",
                          "--write-timeout-ms",
                          "1000",
                          NULL};
    RC_CHECK(rc_harness_start(&srv, args) == 0);
    rc_client *reader = rc_harness_client(&srv);
    rc_client *stats = rc_harness_client(&srv);
    static uint8_t value[VALUE_LEN];
    for (size_t i = 0; i < sizeof value; i++)
        value[i] = (uint8_t)(i * 7u);
    RC_CHECK_RC(rc_set(reader, "cap", "big", 3, value, sizeof value, NULL, NULL), 0);
    RC_CHECK_EQ_INT(rc_harness_node_stat(stats, "max_output_total"), CAP_BYTES);

    uint64_t t0 = rc_harness_now_ms();
    int fds[NON_READERS];
    for (int i = 0; i < NON_READERS; i++)
        fds[i] = non_reader();

    /* Until every non-reader is closed: the reader is served, the node stays within the cap. */
    long long max_seen = 0, gets = 0, first_close_ms = -1;
    for (;;) {
        RC_CHECK(rc_harness_now_ms() - t0 < 10000);
        rc_value v;
        RC_CHECK_RC(rc_get(reader, "cap", "big", 3, NULL, &v), 0);
        RC_CHECK_MEM(v.data, v.len, value, sizeof value);
        rc_value_free(&v);
        gets++;
        long long out = rc_harness_node_stat(stats, "output_bytes");
        RC_CHECK(out >= 0);
        if (out > max_seen)
            max_seen = out;
        RC_CHECK(out <= (long long)(CAP_BYTES + CAP_SLACK));
        long long closed = rc_harness_node_stat(stats, "write_timeouts");
        if (closed > 0 && first_close_ms < 0)
            first_close_ms = (long long)(rc_harness_now_ms() - t0);
        if (closed == NON_READERS)
            break;
    }
    fprintf(stderr, "  max output_bytes %lld (cap %u), %lld GETs served, first close at %lld ms\n",
            max_seen, CAP_BYTES, gets, first_close_ms);
    RC_CHECK(max_seen >= (long long)CAP_BYTES / 2); /* the non-readers did fill their buffers */
    RC_CHECK(first_close_ms >= TIMEOUT_MS);         /* not before the timeout */
    RC_CHECK(rc_harness_node_stat(stats, "output_total_throttled") >= 1);
    for (int i = 0; i < NON_READERS; i++) {
        expect_closed(fds[i]);
        close(fds[i]);
    }
    /* Closed connections gave their bytes back: only what is in flight to us remains. */
    RC_CHECK(rc_harness_node_stat(stats, "output_bytes") <= (long long)RESPONSE_SIZE);
    RC_CHECK_EQ_INT(rc_harness_node_stat(stats, "connections_current"), 2);
    RC_CHECK_RC(rc_ping(reader), 0);
    rc_close(reader);
    rc_close(stats);
    RC_CHECK_EQ_INT(rc_harness_stop(&srv), 0);
}

/* max-output-total below max-output is a configuration error: the server refuses to start. */
static void test_cap_below_conn_limit_refused(void)
{
    const char *args[] = {"--max-output", "4mb", "--max-output-total", "2mb", NULL};
    fprintf(stderr, "  (a refusal to start is expected here)\n");
    RC_CHECK(rc_harness_start(&srv, args) != 0);
}

int main(void)
{
    RC_TEST_RUN(test_cap_below_conn_limit_refused);
    RC_TEST_RUN(test_accept_backoff);
    RC_TEST_RUN(test_output_cap_and_write_timeout);
    return 0;
}
