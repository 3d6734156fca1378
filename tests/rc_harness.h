/*
 * rc_harness.h - run a real recache-server (and recache-cli) from a test.
 *
 * The server binary comes from $RECACHE_SERVER and the CLI from
 * $RECACHE_CLI (CMake sets both, see RC_TEST_ENV in tests/CMakeLists.txt).
 * rc_harness_start() forks the server with --bind 127.0.0.1 --port 0
 * --threads 2 plus the caller's arguments and waits for its ready line on
 * stdout (the server's own signal that it listens; never a sleep), bounded
 * by a 10 s deadline.  Later stdout is forwarded to stderr by a small
 * thread so the server can never block on a full pipe.  rc_harness_stop()
 * sends SIGTERM and waits, bounded, for the exit (through a pidfd, again a
 * signal rather than a sleep).
 *
 * Children (server, CLI) get SIGKILL when the thread that started them
 * exits, so a test that fails and exits never leaves a server behind; start
 * and run them from the test's main thread.
 *
 * Failures inside the harness print a reason and return -1; tests turn that
 * into a failed check.  The exceptions are the "checking helpers" at the
 * end of this header (shared test helpers): they fail the test themselves,
 * as an RC_CHECK would (print the failed check, exit(1)).  Nothing here is
 * shared between threads except that the forwarding thread owns the stdout
 * pipe once started.
 */
#ifndef RECACHE_RC_HARNESS_H
#define RECACHE_RC_HARNESS_H

#include <pthread.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "recache/rc_proto.h"
#include "recache/recache.h"

typedef struct rc_harness_server {
    pid_t pid;
    int pidfd;     /* readable once the process exits */
    int stdout_fd; /* read end of the server's stdout; owned by the forwarder */
    pthread_t forwarder;
    int forwarding; /* 1 while the forwarder thread exists */
    uint16_t port;
    char ready_line[512];
} rc_harness_server;

/*
 * rc_harness_start - start a server with the default test arguments plus
 * extra_args (NULL-terminated, may be NULL).  0 and *srv filled, or -1.
 */
int rc_harness_start(rc_harness_server *srv, const char *const extra_args[]);

/*
 * rc_harness_stop - SIGTERM, then wait up to 10 s for the exit (SIGKILL
 * after that).  Returns the exit status (0 = clean shutdown), 128 + signal
 * number if a signal killed it, or -1 if it did not stop in time.
 */
int rc_harness_stop(rc_harness_server *srv);

/* rc_harness_connect - rc_connect to the server with a 5 s I/O timeout. */
int rc_harness_connect(const rc_harness_server *srv, rc_client **out);

/*
 * rc_harness_raw_connect - a plain blocking TCP socket to the server with a
 * 5 s receive/send timeout, for tests that send bytes by hand.  fd or -1.
 */
int rc_harness_raw_connect(const rc_harness_server *srv);

/* Output of one recache-cli run. */
typedef struct rc_cli_result {
    int status; /* exit status, 128 + signal, or -1 if it did not finish */
    char *out;  /* stdout, NUL-terminated (malloc'ed) */
    size_t out_len;
    char *err; /* stderr, NUL-terminated (malloc'ed) */
    size_t err_len;
} rc_cli_result;

/*
 * rc_harness_run - run the program argv[0] (a path; argv NULL-terminated)
 * with stdin holding the input_len bytes of input (NULL: /dev/null),
 * capturing stdout and stderr, bounded by 10 s.  Returns the exit status
 * (as in res->status); the caller frees res with rc_cli_result_free.
 */
int rc_harness_run(const char *const argv[], const void *input, size_t input_len,
                   rc_cli_result *res);

/*
 * rc_harness_cli - run $RECACHE_CLI --host 127.0.0.1 --port PORT args...
 * (args NULL-terminated) with stdin from /dev/null, as rc_harness_run.
 */
int rc_harness_cli(const rc_harness_server *srv, const char *const args[], rc_cli_result *res);

/* rc_harness_cli_input - rc_harness_cli with stdin holding input (input_len bytes). */
int rc_harness_cli_input(const rc_harness_server *srv, const void *input, size_t input_len,
                         const char *const args[], rc_cli_result *res);

/* rc_cli_result_free - release the captured output. */
void rc_cli_result_free(rc_cli_result *res);

/* rc_harness_now_ms - monotonic milliseconds, for bounded polling loops. */
uint64_t rc_harness_now_ms(void);

/*
 * rc_harness_stat - the value of "name value" line `name` in a stats/ns-info
 * text, or -1 if absent.
 */
long long rc_harness_stat(const char *text, const char *name);

/* ---- checking helpers ------------------------------------------------------------------------
 *
 * Helpers shared by several test programs.  Unless a function says it
 * returns an error, a failure here fails the test: the failed check is
 * printed (file:line in rc_harness.c) and the process exits with status 1,
 * exactly as RC_CHECK in rc_test.h.  Call them only where such an exit is
 * acceptable (the test's own threads, not a fake server that must report
 * failures another way).
 */

/* Arguments rc_harness_cli_expect / rc_harness_cli_va pass at most (the rest are dropped). */
#define RC_HARNESS_CLI_MAX_ARGS 32

/*
 * rc_harness_cli_va - run recache-cli (as rc_harness_cli) with the
 * arguments `first` followed by the NULL-terminated list in ap (at most
 * RC_HARNESS_CLI_MAX_ARGS - 1 of them).  Fills *res, which the caller owns
 * and releases with rc_cli_result_free; returns the exit status.  Does not
 * fail the test: checking the status is the caller's job.  ap is consumed
 * (the caller still calls va_end).
 */
int rc_harness_cli_va(const rc_harness_server *srv, rc_cli_result *res, const char *first,
                      va_list ap);

/*
 * rc_harness_cli_expect - run recache-cli with the NULL-terminated
 * arguments and check its exit status is want_status.  On a mismatch the
 * command line, status, stdout and stderr are printed and the test fails.
 * Returns the result; the caller owns it (rc_cli_result_free).
 */
rc_cli_result rc_harness_cli_expect(const rc_harness_server *srv, int want_status,
                                    const char *first, ...);

/*
 * rc_harness_client - a client connected to srv (rc_harness_connect);
 * fails the test if the connection fails.  The caller owns it (rc_close).
 */
rc_client *rc_harness_client(const rc_harness_server *srv);

/*
 * rc_harness_node_stat - the value of line `name` of the server-wide STATS
 * text read through c, or -1 if there is no such line.  Fails the test if
 * the STATS request fails.  Nothing to release.
 */
long long rc_harness_node_stat(rc_client *c, const char *name);

/*
 * rc_harness_send_all - write all len bytes of buf to fd, retrying short
 * writes and EINTR.  Fails the test if a write fails or writes nothing.
 */
void rc_harness_send_all(int fd, const void *buf, size_t len);

/*
 * rc_harness_recv_all - read exactly len bytes from fd into buf (EINTR
 * retried).  Returns 0, or -1 if EOF, an error or the socket's receive
 * timeout comes first (buf then holds a partial read).  Never fails the
 * test itself, so a fake server thread may use it.
 */
int rc_harness_recv_all(int fd, void *buf, size_t len);

/*
 * rc_harness_recv_frame - read one frame (response or push) from fd and
 * decode it into msg; its slices point into body (cap bytes, owned by the
 * caller, and must outlive the use of msg).  Returns 0, or -1 if the
 * stream ends (EOF / error / timeout) before a whole header arrived.
 * Fails the test if the header does not decode under max_frame, the body
 * exceeds cap, the stream ends inside the body, or the body does not
 * decode.
 */
int rc_harness_recv_frame(int fd, rc_msg *msg, uint8_t *body, size_t cap, uint32_t max_frame);

/* rc_harness_l1_stats - a snapshot of l1's counters (rc_l1_stats_get), by value. */
rc_l1_stats rc_harness_l1_stats(rc_l1 *l1);

/*
 * rc_harness_poll_pause - sleep 1 ms: the polling interval of bounded wait
 * loops for conditions that have no event to wait on (never used as
 * synchronisation by itself).
 */
void rc_harness_poll_pause(void);

/*
 * rc_harness_sync_l1 - wait until l1 applied every event the node published
 * so far: read the node's newest seq through c (rc_node_seq), then
 * rc_l1_wait_applied with wait_ms.  Fails the test if either call fails
 * (including the wait timing out).
 */
void rc_harness_sync_l1(rc_l1 *l1, rc_client *c, uint32_t wait_ms);

#endif /* RECACHE_RC_HARNESS_H */
