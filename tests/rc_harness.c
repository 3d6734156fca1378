/*
 * rc_harness.c - start/stop a real recache-server and run recache-cli for
 * the integration tests (see rc_harness.h for the contract).
 *
 * Every wait here is on an event with a deadline: the server's ready line
 * (poll on its stdout pipe), its exit (poll on a pidfd), the CLI's output
 * pipes reaching end of file.  No sleeps (rc_harness_poll_pause is only
 * the interval of callers' bounded polling loops).
 */
#define _GNU_SOURCE

#include "rc_harness.h"
#include "rc_test.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/pidfd.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define RC_HARNESS_DEADLINE_MS 10000
#define RC_HARNESS_MAX_ARGS    64
#define RC_HARNESS_READY_TOKEN " listening on "

uint64_t rc_harness_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* rc__poll_left - milliseconds left until deadline for poll() (0 when past). */
static int rc__poll_left(uint64_t deadline)
{
    uint64_t now = rc_harness_now_ms();
    return now >= deadline ? 0 : (int)(deadline - now);
}

/* rc__exit_status - waitpid status as one int: exit code, or 128 + signal. */
static int rc__exit_status(int wstatus)
{
    if (WIFEXITED(wstatus))
        return WEXITSTATUS(wstatus);
    if (WIFSIGNALED(wstatus))
        return 128 + WTERMSIG(wstatus);
    return -1;
}

/*
 * rc__spawn - fork and exec argv with stdin from in_fd (-1: /dev/null) and
 * stdout/stderr redirected to the given fds (-1 keeps the parent's).
 * Returns the pid or -1.  The child closes every other pipe end by the
 * CLOEXEC flags callers set, and is killed if the test process dies first.
 */
static pid_t rc__spawn(char *const argv[], int in_fd, int out_fd, int err_fd)
{
    pid_t parent = getpid();
    pid_t pid = fork();
    if (pid != 0)
        return pid;
    /* A test that fails exits at once: its children must not outlive it
     * (ctest would wait for their inherited output pipes until the timeout). */
    if (prctl(PR_SET_PDEATHSIG, SIGKILL) != 0 || getppid() != parent)
        _exit(127);
    int in = in_fd >= 0 ? in_fd : open("/dev/null", O_RDONLY);
    if (in >= 0)
        dup2(in, STDIN_FILENO);
    if (out_fd >= 0)
        dup2(out_fd, STDOUT_FILENO);
    if (err_fd >= 0)
        dup2(err_fd, STDERR_FILENO);
    execv(argv[0], argv);
    fprintf(stderr, "harness: exec %s: %s\n", argv[0], strerror(errno));
    _exit(127);
}

/* ---- server --------------------------------------------------------------------------------- */

/*
 * rc__read_ready_line - read the server's stdout until the first newline,
 * bounded by the deadline.  Bytes after the newline are forwarded to stderr
 * (they are not part of the ready line).  0 or -1.
 */
static int rc__read_ready_line(rc_harness_server *srv, uint64_t deadline)
{
    size_t len = 0;
    for (;;) {
        struct pollfd pfd = {.fd = srv->stdout_fd, .events = POLLIN};
        int n = poll(&pfd, 1, rc__poll_left(deadline));
        if (n == 0) {
            fprintf(stderr, "harness: server not ready within %d ms\n", RC_HARNESS_DEADLINE_MS);
            return -1;
        }
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        char buf[256];
        ssize_t got = read(srv->stdout_fd, buf, sizeof buf);
        if (got <= 0) {
            fprintf(stderr, "harness: server exited before it was ready\n");
            return -1;
        }
        for (ssize_t i = 0; i < got; i++) {
            if (buf[i] == '\n') {
                srv->ready_line[len] = '\0';
                if (i + 1 < got)
                    fwrite(buf + i + 1, 1, (size_t)(got - i - 1), stderr);
                return 0;
            }
            if (len + 1 < sizeof srv->ready_line)
                srv->ready_line[len++] = buf[i];
        }
    }
}

/* rc__parse_port - the port of "... listening on HOST:PORT (...". 0 or -1. */
static int rc__parse_port(rc_harness_server *srv)
{
    const char *at = strstr(srv->ready_line, RC_HARNESS_READY_TOKEN);
    if (at == NULL)
        return -1;
    at += strlen(RC_HARNESS_READY_TOKEN);
    const char *end = strchr(at, ' ');
    if (end == NULL)
        end = at + strlen(at);
    const char *colon = NULL;
    for (const char *p = at; p < end; p++)
        if (*p == ':')
            colon = p;
    if (colon == NULL)
        return -1;
    long port = strtol(colon + 1, NULL, 10);
    if (port <= 0 || port > 65535)
        return -1;
    srv->port = (uint16_t)port;
    return 0;
}

/* Forwarder thread: copy the server's later stdout to our stderr until EOF. */
static void *rc__forward_stdout(void *arg)
{
    rc_harness_server *srv = arg;
    char buf[4096];
    ssize_t n;
    while ((n = read(srv->stdout_fd, buf, sizeof buf)) != 0) {
        if (n < 0 && errno != EINTR)
            break;
        if (n > 0)
            fwrite(buf, 1, (size_t)n, stderr);
    }
    return NULL;
}

/* rc__kill_and_reap - last resort after a failed start: SIGKILL and wait. */
static void rc__kill_and_reap(rc_harness_server *srv)
{
    int wstatus;
    kill(srv->pid, SIGKILL);
    waitpid(srv->pid, &wstatus, 0);
    close(srv->stdout_fd);
    if (srv->pidfd >= 0)
        close(srv->pidfd);
}

int rc_harness_start(rc_harness_server *srv, const char *const extra_args[])
{
    const char *server = getenv("RECACHE_SERVER");
    char *argv[RC_HARNESS_MAX_ARGS];
    int argc = 0;
    static const char *const base[] = {"--bind", "127.0.0.1", "--port", "0", "--threads", "2"};

    memset(srv, 0, sizeof *srv);
    srv->pidfd = -1;
    if (server == NULL) {
        fprintf(stderr, "harness: RECACHE_SERVER is not set\n");
        return -1;
    }
    argv[argc++] = (char *)server;
    for (size_t i = 0; i < sizeof base / sizeof base[0]; i++)
        argv[argc++] = (char *)base[i];
    for (size_t i = 0; extra_args && extra_args[i]; i++) {
        if (argc == RC_HARNESS_MAX_ARGS - 1)
            return -1;
        argv[argc++] = (char *)extra_args[i];
    }
    argv[argc] = NULL;

    int pipefd[2];
    if (pipe2(pipefd, O_CLOEXEC) != 0)
        return -1;
    fflush(NULL);
    srv->pid = rc__spawn(argv, -1, pipefd[1], -1);
    close(pipefd[1]);
    srv->stdout_fd = pipefd[0];
    if (srv->pid < 0) {
        close(pipefd[0]);
        return -1;
    }
    srv->pidfd = pidfd_open(srv->pid, 0);
    if (srv->pidfd < 0 ||
        rc__read_ready_line(srv, rc_harness_now_ms() + RC_HARNESS_DEADLINE_MS) != 0 ||
        rc__parse_port(srv) != 0) {
        fprintf(stderr, "harness: server failed to start (line: '%s')\n", srv->ready_line);
        rc__kill_and_reap(srv);
        return -1;
    }
    if (pthread_create(&srv->forwarder, NULL, rc__forward_stdout, srv) == 0)
        srv->forwarding = 1;
    return 0;
}

int rc_harness_stop(rc_harness_server *srv)
{
    int result = -1, wstatus;
    kill(srv->pid, SIGTERM);
    struct pollfd pfd = {.fd = srv->pidfd, .events = POLLIN};
    uint64_t deadline = rc_harness_now_ms() + RC_HARNESS_DEADLINE_MS;
    int n;
    while ((n = poll(&pfd, 1, rc__poll_left(deadline))) < 0 && errno == EINTR)
        ;
    if (n <= 0) {
        fprintf(stderr, "harness: server did not exit within %d ms of SIGTERM\n",
                RC_HARNESS_DEADLINE_MS);
        kill(srv->pid, SIGKILL);
        waitpid(srv->pid, &wstatus, 0);
    } else if (waitpid(srv->pid, &wstatus, 0) == srv->pid) {
        result = rc__exit_status(wstatus);
    }
    if (srv->forwarding)
        pthread_join(srv->forwarder, NULL); /* EOF: the server's end closed when it exited */
    close(srv->stdout_fd);
    close(srv->pidfd);
    srv->forwarding = 0;
    return result;
}

int rc_harness_connect(const rc_harness_server *srv, rc_client **out)
{
    rc_client_options opts = {
        .host = "127.0.0.1", .port = srv->port, .connect_timeout_ms = 5000, .io_timeout_ms = 5000};
    return rc_connect(&opts, out);
}

int rc_harness_raw_connect(const rc_harness_server *srv)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -1;
    struct timeval tv = {.tv_sec = 5, .tv_usec = 0};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(srv->port)};
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(fd, (struct sockaddr *)&sa, sizeof sa) != 0) {
        close(fd);
        return -1;
    }
    return fd;
}

/* ---- recache-cli ---------------------------------------------------------------------------- */

/* A growable capture buffer for one output pipe. */
typedef struct rc__capture {
    int fd;
    char *data;
    size_t len;
    size_t cap;
} rc__capture;

/* rc__capture_read - append what the pipe has; closes it at EOF.  0 or -1 (OOM). */
static int rc__capture_read(rc__capture *c)
{
    if (c->cap - c->len < 4097) {
        size_t cap = c->cap ? c->cap * 2 : 8192;
        char *p = realloc(c->data, cap);
        if (p == NULL)
            return -1;
        c->data = p;
        c->cap = cap;
    }
    ssize_t n = read(c->fd, c->data + c->len, c->cap - c->len - 1);
    if (n > 0)
        c->len += (size_t)n;
    else if (n == 0 || errno != EINTR) {
        close(c->fd);
        c->fd = -1;
    }
    c->data[c->len] = '\0';
    return 0;
}

/* rc__capture_all - read both pipes until both reach EOF or the deadline passes.  0 or -1. */
static int rc__capture_all(rc__capture cap[2], uint64_t deadline)
{
    while (cap[0].fd >= 0 || cap[1].fd >= 0) {
        struct pollfd pfd[2];
        for (int i = 0; i < 2; i++)
            pfd[i] = (struct pollfd){.fd = cap[i].fd, .events = POLLIN};
        int n = poll(pfd, 2, rc__poll_left(deadline));
        if (n == 0)
            return -1;
        if (n < 0 && errno != EINTR)
            return -1;
        for (int i = 0; i < 2 && n > 0; i++)
            if (pfd[i].revents && rc__capture_read(&cap[i]) != 0)
                return -1;
    }
    return 0;
}

/*
 * rc__input_fd - a file holding input (len bytes) positioned at its start,
 * for a child's stdin; -1 when input is NULL (the child reads /dev/null) or
 * the file cannot be made.  The caller closes it.
 */
static int rc__input_fd(const void *input, size_t len)
{
    if (input == NULL)
        return -1;
    FILE *f = tmpfile();
    if (f == NULL)
        return -1;
    int fd = dup(fileno(f));
    int ok = fd >= 0 && fwrite(input, 1, len, f) == len && fflush(f) == 0;
    fclose(f);
    if (fd >= 0 && (!ok || lseek(fd, 0, SEEK_SET) != 0)) {
        close(fd);
        fd = -1;
    }
    return fd;
}

int rc_harness_run(const char *const argv[], const void *input, size_t input_len,
                   rc_cli_result *res)
{
    memset(res, 0, sizeof *res);
    res->status = -1;
    int in_fd = rc__input_fd(input, input_len);
    if (input != NULL && in_fd < 0) {
        fprintf(stderr, "harness: cannot store the input for %s\n", argv[0]);
        return -1;
    }
    int out[2], err[2];
    if (pipe2(out, O_CLOEXEC) != 0)
        return -1;
    if (pipe2(err, O_CLOEXEC) != 0) {
        close(out[0]);
        close(out[1]);
        return -1;
    }
    fflush(NULL);
    pid_t pid = rc__spawn((char *const *)argv, in_fd, out[1], err[1]);
    if (in_fd >= 0)
        close(in_fd);
    close(out[1]);
    close(err[1]);
    rc__capture cap[2] = {{.fd = out[0]}, {.fd = err[0]}};
    int wstatus;
    if (pid < 0 || rc__capture_all(cap, rc_harness_now_ms() + RC_HARNESS_DEADLINE_MS) != 0) {
        fprintf(stderr, "harness: %s did not finish\n", argv[0]);
        if (pid > 0)
            kill(pid, SIGKILL);
    }
    for (int i = 0; i < 2; i++)
        if (cap[i].fd >= 0)
            close(cap[i].fd);
    if (pid > 0 && waitpid(pid, &wstatus, 0) == pid && res->status == -1)
        res->status = rc__exit_status(wstatus);
    res->out = cap[0].data ? cap[0].data : calloc(1, 1);
    res->out_len = cap[0].len;
    res->err = cap[1].data ? cap[1].data : calloc(1, 1);
    res->err_len = cap[1].len;
    return res->status;
}

int rc_harness_cli_input(const rc_harness_server *srv, const void *input, size_t input_len,
                         const char *const args[], rc_cli_result *res)
{
    const char *cli = getenv("RECACHE_CLI");
    char port[8];
    const char *argv[RC_HARNESS_MAX_ARGS];
    int argc = 0;

    memset(res, 0, sizeof *res);
    res->status = -1;
    if (cli == NULL) {
        fprintf(stderr, "harness: RECACHE_CLI is not set\n");
        return -1;
    }
    snprintf(port, sizeof port, "%u", (unsigned)srv->port);
    const char *head[] = {cli, "--host", "127.0.0.1", "--port", port};
    for (size_t i = 0; i < sizeof head / sizeof head[0]; i++)
        argv[argc++] = head[i];
    for (size_t i = 0; args[i] != NULL && argc < RC_HARNESS_MAX_ARGS - 1; i++)
        argv[argc++] = args[i];
    argv[argc] = NULL;
    return rc_harness_run(argv, input, input_len, res);
}

int rc_harness_cli(const rc_harness_server *srv, const char *const args[], rc_cli_result *res)
{
    return rc_harness_cli_input(srv, NULL, 0, args, res);
}

void rc_cli_result_free(rc_cli_result *res)
{
    free(res->out);
    free(res->err);
    memset(res, 0, sizeof *res);
}

long long rc_harness_stat(const char *text, const char *name)
{
    size_t nlen = strlen(name);
    for (const char *line = text; line && *line;
         line = strchr(line, '\n'), line = line ? line + 1 : NULL) {
        if (strncmp(line, name, nlen) == 0 && (line[nlen] == ' ' || line[nlen] == '\t'))
            return strtoll(line + nlen + 1, NULL, 10);
    }
    return -1;
}

/* ---- checking helpers ----------------------------------------------------------------------- */

/*
 * rc__collect_args - `first` and the NULL-terminated rest of ap into args
 * (RC_HARNESS_CLI_MAX_ARGS slots), NULL-terminated.  Returns the count.
 */
static int rc__collect_args(const char *args[], const char *first, va_list ap)
{
    int n = 0;
    for (const char *a = first; a != NULL && n < RC_HARNESS_CLI_MAX_ARGS - 1;
         a = va_arg(ap, const char *))
        args[n++] = a;
    args[n] = NULL;
    return n;
}

int rc_harness_cli_va(const rc_harness_server *srv, rc_cli_result *res, const char *first,
                      va_list ap)
{
    const char *args[RC_HARNESS_CLI_MAX_ARGS];
    rc__collect_args(args, first, ap);
    return rc_harness_cli(srv, args, res);
}

rc_cli_result rc_harness_cli_expect(const rc_harness_server *srv, int want_status,
                                    const char *first, ...)
{
    const char *args[RC_HARNESS_CLI_MAX_ARGS];
    va_list ap;
    va_start(ap, first);
    int n = rc__collect_args(args, first, ap);
    va_end(ap);

    rc_cli_result r;
    rc_harness_cli(srv, args, &r);
    if (r.status != want_status) {
        fprintf(stderr, "recache-cli");
        for (int i = 0; i < n; i++)
            fprintf(stderr, " %s", args[i]);
        fprintf(stderr, "\n  exit %d (want %d)\n  stdout: %s\n  stderr: %s\n", r.status,
                want_status, r.out, r.err);
    }
    RC_CHECK_EQ_INT(r.status, want_status);
    return r;
}

rc_client *rc_harness_client(const rc_harness_server *srv)
{
    rc_client *c = NULL;
    RC_CHECK_RC(rc_harness_connect(srv, &c), 0);
    return c;
}

long long rc_harness_node_stat(rc_client *c, const char *name)
{
    char *text = NULL;
    RC_CHECK_RC(rc_stats(c, NULL, &text), 0);
    long long v = rc_harness_stat(text, name);
    free(text);
    return v;
}

void rc_harness_send_all(int fd, const void *buf, size_t len)
{
    const uint8_t *p = buf;
    while (len > 0) {
        ssize_t n = write(fd, p, len);
        if (n < 0 && errno == EINTR)
            continue;
        RC_CHECK(n > 0);
        p += n;
        len -= (size_t)n;
    }
}

int rc_harness_recv_all(int fd, void *buf, size_t len)
{
    uint8_t *p = buf;
    while (len > 0) {
        ssize_t n = read(fd, p, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return -1;
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

int rc_harness_recv_frame(int fd, rc_msg *msg, uint8_t *body, size_t cap, uint32_t max_frame)
{
    uint8_t head[RC_HEADER_SIZE];
    uint32_t frame_len;
    if (rc_harness_recv_all(fd, head, sizeof head) != 0)
        return -1;
    RC_CHECK_RC(rc_decode_header(head, sizeof head, max_frame, msg, &frame_len), 0);
    size_t body_len = frame_len - RC_HEADER_SIZE;
    RC_CHECK(body_len <= cap);
    RC_CHECK(rc_harness_recv_all(fd, body, body_len) == 0);
    rc_limits lim = rc_limits_wire();
    RC_CHECK_RC(rc_decode_body(body, body_len, &lim, msg), 0);
    return 0;
}

rc_l1_stats rc_harness_l1_stats(rc_l1 *l1)
{
    rc_l1_stats st;
    rc_l1_stats_get(l1, &st);
    return st;
}

void rc_harness_poll_pause(void)
{
    struct timespec ts = {0, 1000000};
    nanosleep(&ts, NULL);
}

void rc_harness_sync_l1(rc_l1 *l1, rc_client *c, uint32_t wait_ms)
{
    uint64_t seq = 0;
    RC_CHECK_RC(rc_node_seq(c, &seq, NULL), 0);
    RC_CHECK_RC(rc_l1_wait_applied(l1, seq, wait_ms), 0);
}
