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
 * into a failed check.  Nothing here is shared between threads except that
 * the forwarding thread owns the stdout pipe once started.
 */
#ifndef RECACHE_RC_HARNESS_H
#define RECACHE_RC_HARNESS_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

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
 * rc_harness_cli - run $RECACHE_CLI -h 127.0.0.1 -p PORT args... (args
 * NULL-terminated) with stdin from /dev/null, capturing stdout and stderr,
 * bounded by 10 s.  Returns the exit status (as in res->status).
 */
int rc_harness_cli(const rc_harness_server *srv, const char *const args[], rc_cli_result *res);

/* rc_cli_result_free - release the captured output. */
void rc_cli_result_free(rc_cli_result *res);

/* rc_harness_now_ms - monotonic milliseconds, for bounded polling loops. */
uint64_t rc_harness_now_ms(void);

/*
 * rc_harness_stat - the value of "name value" line `name` in a stats/ns-info
 * text, or -1 if absent.
 */
long long rc_harness_stat(const char *text, const char *name);

#endif /* RECACHE_RC_HARNESS_H */
