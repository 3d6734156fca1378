/*
 * rc_server.c - process startup, workers, shutdown and STATS (see
 * rc_server.h for the threading design).
 *
 * Startup is done entirely on the main thread before any worker runs: the
 * listening socket is created and bound here (it decides the real port when
 * port 0 was asked for), and every worker's loop, wakeup handle and drain
 * timer are initialised here too.  A worker thread
 * then only runs its loop.  This keeps every startup failure synchronous
 * and reportable, and pthread_create orders the setup before the worker's
 * first use of its loop.
 *
 * Accepting: the main loop polls the one listening socket, accepts every
 * pending connection and hands each to the next worker in turn (a task on
 * that worker's queue), as memcached's dispatcher does.  Round-robin keeps
 * the workers' connection counts equal; kernel hashing (SO_REUSEPORT)
 * leaves one worker with noticeably more connections at the connection
 * counts a cache sees, and its clients with a worse tail latency.
 *
 * Accept failures: when accept(2) fails for lack of a resource (EMFILE,
 * ENFILE, ENOBUFS, ENOMEM) the pending connection stays queued and the
 * level-triggered poll would fire again at once, spinning the main thread
 * and its log.  Instead the poll is stopped and accept_timer resumes it
 * after a back-off that starts at RC__ACCEPT_BACKOFF_MIN_MS and doubles to
 * RC__ACCEPT_BACKOFF_MAX_MS while accepting keeps failing (as memcached's
 * accept_new_conns and Redis's listener do).  The failure is logged at most
 * once per RC__ACCEPT_LOG_MS with the number of failures since the last
 * line, and once more when accepting succeeds again after a logged failure;
 * STATS counts them
 * (accept_failures).  Other accept errors concern one connection only and
 * are counted and logged the same way, without pausing.
 *
 * Shutdown: SIGINT/SIGTERM on the main loop closes the main loop's handles
 * (the accept poll among them), stops the admin listener (rc_admin.h) and
 * posts each worker its stop task.  A stopping worker closes its wakeup
 * handle, runs the tasks already queued (answers to parked requests among
 * them), then stops its parts in order (rc__parts, rc_worker.h): sends each
 * subscriber its pending events and a CLOSING event and closes its
 * heartbeat timer (rc_sub.h), answers every request still parked on its
 * connections SHUTTING_DOWN and begins draining them, closes its park
 * timer; the connections drain (flushing pending responses, bounded by
 * RC__DRAIN_MS) and it closes its drain timer when the last connection is
 * gone; its loop then has no handles left and returns.  The main thread
 * joins the workers, frees the parked requests whose delivery came too
 * late for their worker (rc_park.h), closes every loop, destroys the store
 * and frees everything.
 */
#define _GNU_SOURCE

#include "rc_server.h"

#include <arpa/inet.h>
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

#include "rc_addr.h"
#include "rc_admin.h"
#include "rc_alloc.h"
#include "rc_conn.h"
#include "rc_control.h"
#include "rc_log.h"
#include "rc_ops.h"
#include "rc_park.h"
#include "rc_peers.h"
#include "rc_service.h"
#include "rc_sub.h"
#include "rc_worker.h"

/* Size of each worker's shared read buffer. */
#define RC__READ_BUF_SIZE (64u * 1024u)
/* Pending-connection queue length of the listening socket. */
#define RC__LISTEN_BACKLOG 1024
/* How long a stopping worker lets connections flush before closing them. */
#define RC__DRAIN_MS 5000
/* Background sweep: period and ring slots examined per shard per tick. */
#define RC__SWEEP_MS     100
#define RC__SWEEP_BUDGET 64

/* Startup progress that rc__server_finish must undo, in order. */
typedef struct rc__startup {
    bool lost_ready;  /* srv->lost_lock initialised */
    bool loop_ready;  /* srv->loop initialised */
    unsigned nready;  /* workers whose mutex and loop are initialised */
    unsigned started; /* workers whose thread runs */
} rc__startup;

/* ---- worker lifecycle ----------------------------------------------------------------------- */

/* A connection accepted by the main thread, handed to a worker. */
typedef struct rc__accept_task {
    rc_task task;
    int fd;
} rc__accept_task;

/* The accept task (worker thread): adopt the socket, unless shutdown has begun. */
static void rc__run_accept(rc_worker *w, rc_task *task)
{
    rc__accept_task *a = (rc__accept_task *)task;
    if (w->stopping)
        close(a->fd);
    else
        rc_conn_adopt(w, a->fd, &rc_ops_conn_hooks);
    free(a);
}

/* Most connections accepted per poll callback, so one burst cannot starve signals and timers. */
#define RC__ACCEPT_BURST 64
/* Accept back-off after a resource error: first pause, and the cap it doubles up to. */
#define RC__ACCEPT_BACKOFF_MIN_MS 10u
#define RC__ACCEPT_BACKOFF_MAX_MS 1000u
/* At most one accept-failure log line per this many ms. */
#define RC__ACCEPT_LOG_MS 1000u

/* Count one failed accept and log it unless a line was written less than RC__ACCEPT_LOG_MS ago. */
static void rc__accept_failed(rc_server *srv, int err, uint64_t pause_ms)
{
    uint64_t now = uv_now(&srv->loop);
    uint64_t total = atomic_load_explicit(&srv->accept_failures, memory_order_relaxed);
    atomic_store_explicit(&srv->accept_failures, total + 1, memory_order_relaxed);
    srv->accept_unlogged++;
    srv->accept_episode++;
    if (srv->accept_logged && now - srv->accept_logged_ms < RC__ACCEPT_LOG_MS)
        return;
    if (pause_ms > 0)
        rc_log_warn("accept failed %llu times since the last report (%s); pausing accepts for "
                    "%llu ms (raise the open-file limit or lower max-connections)",
                    (unsigned long long)srv->accept_unlogged, strerror(err),
                    (unsigned long long)pause_ms);
    else
        rc_log_warn("accept failed %llu times since the last report (%s)",
                    (unsigned long long)srv->accept_unlogged, strerror(err));
    srv->accept_unlogged = 0;
    srv->accept_logged = true;
    srv->accept_logged_ms = now;
    srv->accept_episode_logged = true;
}

static void rc__on_acceptable(uv_poll_t *handle, int status, int events);

/* The back-off ended (main thread): poll the listening socket again. */
static void rc__on_accept_timer(uv_timer_t *timer)
{
    rc_server *srv = timer->data;
    if (srv->stopping)
        return;
    int rc = uv_poll_start(&srv->accept_poll, UV_READABLE, rc__on_acceptable);
    if (rc != 0)
        rc_log_error("cannot resume accepting connections: %s", uv_strerror(rc));
}

/* A resource error: stop polling the listener and resume after a doubling back-off. */
static void rc__accept_backoff(rc_server *srv, int err)
{
    uint64_t pause =
        srv->accept_backoff_ms == 0 ? RC__ACCEPT_BACKOFF_MIN_MS : srv->accept_backoff_ms * 2u;
    if (pause > RC__ACCEPT_BACKOFF_MAX_MS)
        pause = RC__ACCEPT_BACKOFF_MAX_MS;
    srv->accept_backoff_ms = pause;
    rc__accept_failed(srv, err, pause);
    uv_poll_stop(&srv->accept_poll);
    int rc = uv_timer_start(&srv->accept_timer, rc__on_accept_timer, pause, 0);
    if (rc != 0) /* cannot happen for an initialised timer; keep accepting rather than stop */
        rc__on_accept_timer(&srv->accept_timer);
}

/*
 * An accept succeeded: end any back-off.  The end is logged only when the
 * failures were (a failure line was written since the last recovery), so
 * descriptors freed one at a time cannot make it log more than the rate
 * limit allows failure lines.
 */
static void rc__accept_recovered(rc_server *srv)
{
    if (srv->accept_episode == 0)
        return;
    if (srv->accept_episode_logged) {
        rc_log_info("accepting connections again after %llu failed accepts",
                    (unsigned long long)srv->accept_episode);
        srv->accept_unlogged = 0; /* reported just now */
    }
    srv->accept_backoff_ms = 0;
    srv->accept_episode = 0;
    srv->accept_episode_logged = false;
}

/*
 * Protected mode: close a connection from a non-loopback peer before it is
 * read (no byte is sent), count it, and log at most one line per
 * RC__ACCEPT_LOG_MS.  Main thread.
 */
static void rc__protected_refuse(rc_server *srv, int fd, const struct sockaddr_storage *peer)
{
    close(fd);
    uint64_t n = atomic_load_explicit(&srv->protected_refusals, memory_order_relaxed) + 1u;
    atomic_store_explicit(&srv->protected_refusals, n, memory_order_relaxed);
    uint64_t now = uv_now(&srv->loop);
    if (srv->protected_logged && now - srv->protected_logged_ms < RC__ACCEPT_LOG_MS)
        return;
    char host[INET6_ADDRSTRLEN] = "?";
    if (peer->ss_family == AF_INET6)
        uv_ip6_name((const struct sockaddr_in6 *)peer, host, sizeof(host));
    else if (peer->ss_family == AF_INET)
        uv_ip4_name((const struct sockaddr_in *)peer, host, sizeof(host));
    rc_log_warn("protected mode: refused a connection from %s (%llu so far); only loopback "
                "clients may connect (--protected-mode no lifts this)",
                host, (unsigned long long)n);
    srv->protected_logged = true;
    srv->protected_logged_ms = now;
}

/* The listening socket is readable (main thread): accept and deal out round-robin. */
static void rc__on_acceptable(uv_poll_t *handle, int status, int events)
{
    rc_server *srv = handle->data;
    (void)events;
    if (status < 0) {
        rc_log_warn("accept poll error: %s", uv_strerror(status));
        return;
    }
    for (int i = 0; i < RC__ACCEPT_BURST; i++) {
        struct sockaddr_storage peer;
        socklen_t peer_len = sizeof(peer);
        int fd = accept4(srv->listen_fd, (struct sockaddr *)&peer, &peer_len,
                         SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0) {
            int err = errno;
            if (err == EINTR || err == ECONNABORTED)
                continue;
            if (err == EAGAIN || err == EWOULDBLOCK)
                return;
            if (err == EMFILE || err == ENFILE || err == ENOBUFS || err == ENOMEM) {
                rc__accept_backoff(srv, err);
                return;
            }
            rc__accept_failed(srv, err, 0); /* one connection's problem (EPERM, EPROTO, ...) */
            continue;
        }
        rc__accept_recovered(srv);
        if (srv->protected_only && !rc_addr_is_loopback((const struct sockaddr *)&peer)) {
            rc__protected_refuse(srv, fd, &peer);
            continue;
        }
        rc_worker *w = &srv->workers[srv->next_worker++ % srv->nworkers];
        rc__accept_task *a = rc_xmalloc(sizeof(*a));
        a->task.run = rc__run_accept;
        a->fd = fd;
        if (rc_worker_post(w, &a->task) != 0) {
            close(fd);
            free(a);
        }
    }
}

static void rc__close_drain_timer(rc_worker *w)
{
    if (!uv_is_closing((uv_handle_t *)&w->drain_timer))
        uv_close((uv_handle_t *)&w->drain_timer, NULL);
}

void rc_worker_conn_closed(rc_worker *w)
{
    if (w->stopping && w->conns == NULL)
        rc__close_drain_timer(w);
}

/* The drain deadline passed: close whatever is still flushing. */
static void rc__on_drain_timeout(uv_timer_t *timer)
{
    rc_worker *w = timer->data;
    unsigned n = 0;
    for (rc_conn *c = w->conns, *next; c != NULL; c = next) {
        next = c->next;
        rc_conn_close(c);
        n++;
    }
    rc_log_warn("worker %u: closed %u connections that did not drain in %d ms", w->index, n,
                RC__DRAIN_MS);
}

/*
 * The stop task (worker thread): refuse further tasks, run those already
 * queued, stop accepting, drain every connection.  Closing `wakeup` after
 * accepting_tasks went false under the lock guarantees no uv_async_send
 * can target a closing handle.
 */
static void rc__worker_stop(rc_worker *w, rc_task *task)
{
    (void)task; /* embedded in the worker; nothing to free */
    w->stopping = true;
    rc_worker_core_stop(w); /* queued tasks run, then the parts stop in order (rc__parts) */
    if (w->conns == NULL)
        rc__close_drain_timer(w);
    else
        uv_timer_start(&w->drain_timer, rc__on_drain_timeout, RC__DRAIN_MS, 0);
}

static void rc__worker_main(void *arg)
{
    rc_worker *w = arg;
    char name[16];
    snprintf(name, sizeof(name), "rc-worker-%u", w->index % 1000u);
    pthread_setname_np(pthread_self(), name);
    uv_run(&w->loop, UV_RUN_DEFAULT);
}

/*
 * Set up worker w: its loop, buffers, timers and wakeup handle.  Returns 0,
 * or a libuv error after logging it.  Handles created before a failure are
 * closed by rc__server_finish.
 */
/*
 * The parts of every worker, in the order they stop: subscribers get their
 * pending events and CLOSING before connections start draining; parked
 * requests stop last, once the connections answered or orphaned them all.
 */
static const rc_worker_part *const rc__parts[] = {
    &rc_sub_worker_part,
    &rc_conn_worker_part,
    &rc_park_worker_part,
};

static int rc__worker_init(rc_server *srv, rc_worker *w, rc__startup *progress)
{
    w->server = srv;
    w->stop_task.run = rc__worker_stop;
    /* The core knows no subscribers: its wakeups end with their fan-out through this hook. */
    int rc = rc_worker_core_init(w, rc_sub_worker_fanout, rc__parts,
                                 sizeof(rc__parts) / sizeof(rc__parts[0]));
    if (rc != 0) {
        rc_log_error("worker %u: cannot create its loop: %s", w->index, uv_strerror(rc));
        return rc;
    }
    progress->nready++;
    w->read_buf_size = RC__READ_BUF_SIZE;
    w->read_buf = rc_xmalloc(w->read_buf_size);
    w->drain_timer.data = w;
    const char *part = "";
    if ((rc = rc_worker_parts_setup(w, &part)) != 0) {
        rc_log_error("worker %u: cannot set up its %s: %s", w->index, part, uv_strerror(rc));
        return rc;
    }

    rc = rc_worker_core_wakeup_init(w);
    if (rc == 0)
        rc = rc_worker_core_turns_init(w, srv->cfg->worker_yield_us);
    if (rc == 0)
        rc = uv_timer_init(&w->loop, &w->drain_timer);
    if (rc != 0)
        rc_log_error("worker %u: cannot set up its loop: %s", w->index, uv_strerror(rc));
    return rc;
}

/* ---- listening sockets ---------------------------------------------------------------------- */

static socklen_t rc__addr_len(const struct sockaddr_storage *addr)
{
    return addr->ss_family == AF_INET6 ? sizeof(struct sockaddr_in6) : sizeof(struct sockaddr_in);
}

/* The listening socket, non-blocking, bound to srv->addr.  Returns the fd or -errno. */
static int rc__bind_socket(const rc_server *srv)
{
    int fd = socket(srv->addr.ss_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd < 0)
        return -errno;
    int on = 1;
    if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on)) != 0 ||
        bind(fd, (const struct sockaddr *)&srv->addr, rc__addr_len(&srv->addr)) != 0 ||
        listen(fd, RC__LISTEN_BACKLOG) != 0) {
        int err = errno;
        close(fd);
        return -err;
    }
    return fd;
}

/* Store the port the kernel chose for fd into srv->addr and srv->port. */
static int rc__learn_port(rc_server *srv, int fd)
{
    struct sockaddr_storage bound;
    socklen_t len = sizeof(bound);
    if (getsockname(fd, (struct sockaddr *)&bound, &len) != 0)
        return -errno;
    in_port_t port = bound.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&bound)->sin6_port
                                                 : ((struct sockaddr_in *)&bound)->sin_port;
    if (srv->addr.ss_family == AF_INET6)
        ((struct sockaddr_in6 *)&srv->addr)->sin6_port = port;
    else
        ((struct sockaddr_in *)&srv->addr)->sin_port = port;
    srv->port = ntohs(port);
    return 0;
}

/* Bind and listen (srv->listen_fd), learning the real port.  0 or -errno. */
static int rc__listen(rc_server *srv)
{
    srv->listen_fd = rc__bind_socket(srv);
    if (srv->listen_fd < 0)
        return srv->listen_fd;
    return rc__learn_port(srv, srv->listen_fd);
}

/* Parse cfg->bind into srv->addr (with cfg->port) and srv->host. */
static int rc__resolve_bind(rc_server *srv)
{
    const rc_config *cfg = srv->cfg;
    int port = (int)cfg->port;
    int rc;
    if (strchr(cfg->bind, ':') != NULL) {
        rc = uv_ip6_addr(cfg->bind, port, (struct sockaddr_in6 *)&srv->addr);
        if (rc == 0)
            rc = uv_ip6_name((struct sockaddr_in6 *)&srv->addr, srv->host, sizeof(srv->host));
    } else {
        rc = uv_ip4_addr(cfg->bind, port, (struct sockaddr_in *)&srv->addr);
        if (rc == 0)
            rc = uv_ip4_name((struct sockaddr_in *)&srv->addr, srv->host, sizeof(srv->host));
    }
    srv->port = (unsigned)port;
    if (rc != 0)
        rc_log_error("bind: '%s' is not a usable address: %s", cfg->bind, uv_strerror(rc));
    return rc;
}

/* ---- main loop: signals and sweep ----------------------------------------------------------- */

static void rc__close_unless_closing(uv_handle_t *handle, void *arg)
{
    (void)arg;
    if (!uv_is_closing(handle))
        uv_close(handle, NULL);
}

/* Begin shutdown (main thread): close the main loop's handles and stop every running worker. */
static void rc__server_stop(rc_server *srv, unsigned started)
{
    if (srv->stopping)
        return;
    srv->stopping = true;
    uv_walk(&srv->loop, rc__close_unless_closing, NULL);
    rc_admin_stop(srv->admin); /* before the workers: its requests may still post to them */
    for (unsigned i = 0; i < started; i++) {
        if (rc_worker_post(&srv->workers[i], &srv->workers[i].stop_task) != 0)
            rc_log_error("worker %u did not take its stop task", i);
    }
}

static void rc__on_signal(uv_signal_t *handle, int signum)
{
    rc_server *srv = handle->data;
    rc_log_info("%s received: shutting down", signum == SIGINT ? "SIGINT" : "SIGTERM");
    rc__server_stop(srv, srv->nworkers);
}

/* Reclaim dead entries; expired leases promote a parked reader, answered through its worker. */
static void rc__on_sweep(uv_timer_t *timer)
{
    rc_server *srv = timer->data;
    /* The main thread owns no connection: every promoted reader is queued to its worker. */
    size_t freed = rc_svc_sweep(srv, NULL, uv_now(&srv->loop), RC__SWEEP_BUDGET);
    if (freed > 0)
        rc_log_debug("sweep reclaimed %zu entries", freed);
}

static int rc__main_handles_init(rc_server *srv)
{
    srv->sigint.data = srv->sigterm.data = srv->sweep_timer.data = srv->accept_poll.data = srv;
    srv->accept_timer.data = srv;
    int rc = uv_signal_init(&srv->loop, &srv->sigint);
    if (rc == 0)
        rc = uv_signal_start(&srv->sigint, rc__on_signal, SIGINT);
    if (rc == 0)
        rc = uv_signal_init(&srv->loop, &srv->sigterm);
    if (rc == 0)
        rc = uv_signal_start(&srv->sigterm, rc__on_signal, SIGTERM);
    if (rc == 0)
        rc = uv_timer_init(&srv->loop, &srv->sweep_timer);
    if (rc == 0)
        rc = uv_timer_start(&srv->sweep_timer, rc__on_sweep, RC__SWEEP_MS, RC__SWEEP_MS);
    if (rc == 0)
        rc = uv_timer_init(&srv->loop, &srv->accept_timer);
    if (rc == 0)
        rc = uv_poll_init(&srv->loop, &srv->accept_poll, srv->listen_fd);
    if (rc == 0)
        rc = uv_poll_start(&srv->accept_poll, UV_READABLE, rc__on_acceptable);
    if (rc != 0)
        rc_log_error("cannot set up the main loop's signals, timer and listener: %s",
                     uv_strerror(rc));
    return rc;
}

/* ---- startup and teardown ------------------------------------------------------------------- */

/* Fill buf from getrandom(2), retrying short reads and EINTR.  0 or -errno. */
static int rc__random(void *buf, size_t len)
{
    uint8_t *p = buf;
    while (len > 0) {
        ssize_t n = getrandom(p, len, 0);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return -errno;
        }
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

/* Create the store and apply the config file's namespace lines.  Returns an exit status. */
static int rc__store_init(rc_server *srv)
{
    const rc_config *cfg = srv->cfg;
    rc_store_config sc = {
        .memory_limit = (size_t)cfg->memory,
        .nshards = (uint32_t)cfg->shards,
        .max_value = (uint32_t)cfg->max_value,
        .max_namespaces = (uint32_t)cfg->max_namespaces,
        .max_tags = (uint8_t)cfg->max_tags,
        .max_tag_len = (uint8_t)cfg->max_tag_len,
        .tombstone_ms = (uint32_t)cfg->tombstone_ms,
        .max_key = (uint16_t)cfg->max_key,
        .max_waiters = (uint32_t)cfg->max_waiters,
        .max_list_items = (uint32_t)cfg->max_list_items,
        .max_suppressed = (uint32_t)cfg->max_suppressed,
        .eviction = strcmp(cfg->eviction, "sieve") == 0 ? RC_EVICT_SIEVE : RC_EVICT_CLOCK,
        .on_version = rc_svc_on_version, /* namespace versions moving become BUMP events */
        .hook_ctx = srv,
    };
    uint64_t random[3];
    int rc = rc__random(random, sizeof(random));
    if (rc != 0) {
        rc_log_error("getrandom failed: %s", strerror(-rc));
        return RC_EXIT_FAILURE;
    }
    srv->instance_id = random[0];
    /* Before the store: its on_version hook may publish while namespaces are configured. */
    srv->events = rc_events_create((uint32_t)cfg->event_ring, (size_t)cfg->event_ring_bytes,
                                   srv->instance_id);
    srv->control = rc_control_create((uint32_t)cfg->control_log);
    sc.hash_seed[0] = random[1];
    sc.hash_seed[1] = random[2];
    rc = rc_store_create(&sc, &srv->store);
    if (rc != 0) {
        rc_log_error("the store rejects the configuration (%s): memory must hold at least one "
                     "max-value entry per shard",
                     rc_strerror(rc));
        return RC_EXIT_CONFIG;
    }
    for (size_t i = 0; i < cfg->nnamespaces; i++) {
        const rc_config_ns *ns = &cfg->namespaces[i];
        char err[256] = "";
        rc = rc_svc_ns_configure(srv, rc_slice_str(ns->name), rc_slice_str(ns->settings), err,
                                 sizeof(err));
        if (rc != 0) {
            rc_log_error("config line %u: namespace %s: %s", ns->line, ns->name,
                         err[0] != '\0' ? err : rc_strerror(rc));
            return RC_EXIT_CONFIG;
        }
    }
    return RC_EXIT_OK;
}

/* Everything before the sockets: workers count, store, limits, address, main loop. */
static int rc__server_init(rc_server *srv, const rc_config *cfg, rc__startup *progress)
{
    srv->cfg = cfg;
    srv->start_ns = uv_hrtime();
    srv->listen_fd = -1;
    int rc = uv_mutex_init(&srv->lost_lock);
    if (rc != 0) {
        rc_log_error("cannot create a mutex: %s", uv_strerror(rc));
        return RC_EXIT_FAILURE;
    }
    progress->lost_ready = true;
    srv->nworkers = cfg->threads != 0 ? (unsigned)cfg->threads : uv_available_parallelism();
    srv->data_port_admin_ops = strcmp(cfg->data_port_admin_ops, "no") != 0;
    srv->protected_only =
        strcmp(cfg->protected_mode, "no") != 0 && !rc_addr_text_is_loopback(cfg->bind);
    srv->limits = (rc_limits){
        .max_frame = (uint32_t)cfg->max_frame,
        .max_value = (uint32_t)cfg->max_value,
        .max_key = (uint16_t)cfg->max_key,
        .max_ns = (uint8_t)cfg->max_namespace,
        .max_tags = (uint8_t)cfg->max_tags,
        .max_tag_len = (uint8_t)cfg->max_tag_len,
    };
    int status = rc__store_init(srv);
    if (status != RC_EXIT_OK)
        return status;
    if (rc__resolve_bind(srv) != 0)
        return RC_EXIT_CONFIG;
    rc = uv_loop_init(&srv->loop);
    if (rc != 0) {
        rc_log_error("cannot create the main loop: %s", uv_strerror(rc));
        return RC_EXIT_FAILURE;
    }
    progress->loop_ready = true;
    return RC_EXIT_OK;
}

static void rc__print_ready(const rc_server *srv)
{
    bool v6 = srv->addr.ss_family == AF_INET6;
    const char *cli = srv->cfg->cli_path != NULL ? srv->cfg->cli_path : "recache-cli";
    char admin[1536] = "";
    rc_admin_ready_text(srv->admin, admin, sizeof(admin));
    printf("recache-server %s listening on %s%s%s:%u (%u workers, memory limit %llu bytes); "
           "try: %s --host %s --port %u ping%s\n",
           RECACHE_VERSION, v6 ? "[" : "", srv->host, v6 ? "]" : "", srv->port, srv->nworkers,
           (unsigned long long)srv->cfg->memory, cli, srv->host, srv->port, admin);
    fflush(stdout);
}

/* Say at startup how the data port is protected (protected mode, reserved admin operations). */
static void rc__log_hardening(const rc_server *srv)
{
    if (srv->protected_only)
        rc_log_info("protected mode: the data port is bound to %s, so only loopback clients are "
                    "accepted; give --protected-mode no to accept others (the data port has no "
                    "authentication)",
                    srv->host);
    else if (!rc_addr_text_is_loopback(srv->cfg->bind))
        rc_log_warn("protected mode is off and the data port is bound to %s: any client that "
                    "can reach it may read, write and invalidate (the data port has no "
                    "authentication)",
                    srv->host);
    if (!srv->data_port_admin_ops)
        rc_log_info("data-port-admin-ops no: FLUSH and NS_CONFIG on the data port answer "
                    "FORBIDDEN; use the admin port");
}

/* Sockets, workers, threads, signals, then the ready line.  Returns an exit status. */
static int rc__server_start(rc_server *srv, rc__startup *progress)
{
    int status = RC_EXIT_OK;
    srv->workers = rc_xcalloc(srv->nworkers, sizeof(rc_worker));
    int rc = rc__listen(srv);
    if (rc != 0) {
        rc_log_error("cannot listen on %s port %u: %s", srv->host, srv->port, strerror(-rc));
        status = RC_EXIT_FAILURE;
    }
    for (unsigned i = 0; status == RC_EXIT_OK && i < srv->nworkers; i++) {
        srv->workers[i].index = i;
        if (rc__worker_init(srv, &srv->workers[i], progress) != 0)
            status = RC_EXIT_FAILURE;
    }
    if (status == RC_EXIT_OK && rc__main_handles_init(srv) != 0)
        status = RC_EXIT_FAILURE;
    for (unsigned i = 0; status == RC_EXIT_OK && i < srv->nworkers; i++) {
        rc = uv_thread_create(&srv->workers[i].thread, rc__worker_main, &srv->workers[i]);
        if (rc != 0) {
            rc_log_error("cannot start worker thread %u: %s", i, uv_strerror(rc));
            status = RC_EXIT_FAILURE;
        } else {
            progress->started++;
        }
    }
    /* Peers last: their merges publish to the workers' subscribers. */
    if (status == RC_EXIT_OK) {
        rc = rc_peers_start(srv, &srv->peers);
        if (rc == 0 && srv->peers != NULL) {
            srv->peer_list =
                rc_peers_view; /* the admin port reports the peers (/cluster, /metrics) */
            srv->peer_list_ctx = srv->peers;
        }
        if (rc != 0)
            status = rc == RC_EINVAL ? RC_EXIT_CONFIG : RC_EXIT_FAILURE;
    }
    if (status == RC_EXIT_OK)
        status = rc_admin_start(srv, &srv->admin);
    if (status == RC_EXIT_OK) {
        rc__log_hardening(srv);
        rc__print_ready(srv);
        rc_admin_set_ready(srv->admin);
    }
    return status;
}

/* Close every handle still open on loop, let the close callbacks run, close the loop. */
static void rc__loop_teardown(uv_loop_t *loop, const char *what)
{
    uv_walk(loop, rc__close_unless_closing, NULL);
    uv_run(loop, UV_RUN_DEFAULT);
    int rc = uv_loop_close(loop);
    if (rc != 0)
        rc_log_error("%s loop did not close cleanly: %s", what, uv_strerror(rc));
}

/* Undo whatever startup did (all of it after a clean run): stop, join, close, free. */
static void rc__server_finish(rc_server *srv, const rc__startup *progress)
{
    rc_peers_stop(srv->peers); /* first: nothing merges into the store from here on */
    if (progress->loop_ready) {
        rc__server_stop(srv, progress->started);
        for (unsigned i = 0; i < progress->started; i++)
            uv_thread_join(&srv->workers[i].thread);
        rc__loop_teardown(&srv->loop, "main");
    }
    if (srv->listen_fd >= 0)
        close(srv->listen_fd);    /* after the accept poll's handle is gone */
    rc_peers_destroy(srv->peers); /* workers are joined: no STATS reads it any more */
    srv->peers = NULL;
    if (progress->lost_ready) {
        rc_park_free_lost(srv); /* no thread can deliver or unpark any more */
        uv_mutex_destroy(&srv->lost_lock);
    }
    for (unsigned i = 0; i < progress->nready; i++) {
        rc_worker *w = &srv->workers[i];
        rc__loop_teardown(&w->loop, "worker");
        rc_worker_core_destroy(w);
        free(w->read_buf);
        rc_worker_parts_release(w);
    }
    rc_admin_free(srv->admin); /* stopped and joined by rc__server_stop */
    if (srv->store != NULL)
        rc_store_destroy(srv->store);
    rc_events_destroy(srv->events);
    rc_control_destroy(srv->control);
    free(srv->workers);
}

int rc_server_run(const rc_config *cfg)
{
    rc_server *srv = rc_xcalloc(1, sizeof(*srv));
    rc__startup progress = {0};
    int status = rc__server_init(srv, cfg, &progress);
    if (status == RC_EXIT_OK)
        status = rc__server_start(srv, &progress);
    if (status == RC_EXIT_OK)
        uv_run(&srv->loop, UV_RUN_DEFAULT);
    rc__server_finish(srv, &progress);
    free(srv);
    if (status == RC_EXIT_OK)
        rc_log_info("shutdown complete");
    return status;
}

/* ---- STATS ---------------------------------------------------------------------------------- */

/* A bounded text builder: appends never pass cap, and len stays the bytes kept. */
typedef struct rc__text {
    char *buf;
    size_t cap;
    size_t len;
} rc__text;

static void rc__textf(rc__text *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void rc__textf(rc__text *t, const char *fmt, ...)
{
    if (t->len >= t->cap)
        return;
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(t->buf + t->len, t->cap - t->len, fmt, ap);
    va_end(ap);
    if (n < 0)
        return;
    /* On truncation vsnprintf kept cap - len - 1 bytes and a NUL we do not count. */
    t->len += (size_t)n < t->cap - t->len ? (size_t)n : t->cap - t->len - 1;
}

/* "requests_<opcode name>" with '-' turned into '_' so every stat name is one identifier. */
static void rc__text_request_line(rc__text *t, const char *opname, uint64_t count)
{
    char name[48];
    snprintf(name, sizeof(name), "requests_%s", opname);
    for (char *p = name; *p != '\0'; p++) {
        if (*p == '-')
            *p = '_';
    }
    rc__textf(t, "%s %llu\n", name, (unsigned long long)count);
}

/* The event log: settings and rc_events_totals (events_published is the newest seq). */
static void rc__text_events(rc__text *t, rc_server *srv)
{
    rc_events_totals tot;
    rc_events_totals_get(srv->events, &tot);
    rc__textf(t, "event_ring %llu\n", (unsigned long long)srv->cfg->event_ring);
    rc__textf(t, "heartbeat_ms %llu\n", (unsigned long long)srv->cfg->heartbeat_ms);
    rc__textf(t, "max_subscriber_output %llu\n",
              (unsigned long long)srv->cfg->max_subscriber_output);
    rc__textf(t, "events_published %llu\n", (unsigned long long)tot.published);
    rc__textf(t, "event_ring_oldest %llu\n", (unsigned long long)tot.oldest_seq);
    rc__textf(t, "event_ring_events %llu\n", (unsigned long long)tot.events);
    rc__textf(t, "event_ring_bytes %llu\n", (unsigned long long)tot.bytes);
    rc__textf(t, "event_ring_max_bytes %llu\n", (unsigned long long)tot.max_bytes);
    rc__textf(t, "event_ring_memory %llu\n", (unsigned long long)tot.memory);
    rc__textf(t, "event_ring_touched %llu\n", (unsigned long long)tot.touched);
}

/* Output buffers and accepting: the limits, the node-wide gauge and the accept failures. */
static void rc__text_output(rc__text *t, rc_server *srv)
{
    rc__textf(t, "max_output %llu\n", (unsigned long long)srv->cfg->max_output);
    rc__textf(t, "max_output_total %llu\n", (unsigned long long)srv->cfg->max_output_total);
    rc__textf(t, "write_timeout_ms %llu\n", (unsigned long long)srv->cfg->write_timeout_ms);
    rc__textf(t, "output_bytes %llu\n",
              (unsigned long long)atomic_load_explicit(&srv->output_bytes, memory_order_relaxed));
    rc__textf(
        t, "accept_failures %llu\n",
        (unsigned long long)atomic_load_explicit(&srv->accept_failures, memory_order_relaxed));
}

/* The store's own text (appended last) already reports `parked` (rc_store_parked). */
long rc_server_stats_text(rc_server *srv, char *buf, size_t cap)
{
    rc__text t = {buf, cap, 0};
    uint64_t sum;
    rc__textf(&t, "version %s\n", RECACHE_VERSION);
    rc__textf(&t, "instance_id %llu\n", (unsigned long long)srv->instance_id);
    rc__textf(&t, "pid %ld\n", (long)getpid());
    rc__textf(&t, "uptime_ms %llu\n",
              (unsigned long long)((uv_hrtime() - srv->start_ns) / 1000000u));
    rc__textf(&t, "threads %u\n", srv->nworkers);
    rc__textf(&t, "max_connections %llu\n", (unsigned long long)srv->cfg->max_connections);
    rc__textf(&t, "lease_ms %llu\n", (unsigned long long)srv->cfg->lease_ms);
    rc__textf(&t, "max_waiters %llu\n", (unsigned long long)srv->cfg->max_waiters);
    rc__textf(&t, "max_waiters_key %llu\n", (unsigned long long)srv->cfg->max_waiters_key);
    rc__textf(&t, "max_wait_ms %llu\n", (unsigned long long)srv->cfg->max_wait_ms);
    rc__text_events(&t, srv);
    rc__text_output(&t, srv);
    if (t.len < t.cap)
        t.len += (size_t)rc_peers_stats_text(srv->peers, srv, t.buf + t.len, t.cap - t.len);
#define RC__STAT_LINE(name, help)                                                                  \
    RC_SERVER_SUM(srv, name, sum);                                                                 \
    rc__textf(&t, #name " %llu\n", (unsigned long long)sum);
    RC_WORKER_COUNTERS(RC__STAT_LINE)
#undef RC__STAT_LINE
#define RC__OP_LINE(name, code, str)                                                               \
    RC_SERVER_SUM(srv, requests[code], sum);                                                       \
    rc__text_request_line(&t, str, sum);
    RC_OPCODES(RC__OP_LINE)
#undef RC__OP_LINE
    if (t.len < t.cap) {
        long n = rc_store_stats_text(srv->store, t.buf + t.len, t.cap - t.len);
        if (n > 0)
            t.len += (size_t)n;
    }
    return (long)t.len;
}
