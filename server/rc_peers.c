/*
 * rc_peers.c - one puller thread per peer (design in rc_peers.h).
 *
 * A round: connect if needed, then PEER_SYNC pages until caught up (or
 * RC__MAX_PAGES, after which the next round goes on), then sleep until
 * gossip-ms after the round began.  Every wait (connect, send, receive,
 * the sleep) is a poll that also watches the stop pipe, so rc_peers_stop
 * is prompt whatever a thread is doing.
 *
 * Sync position (touched only by the peer's own thread): the instance and
 * sequence we applied up to, and, during a snapshot, its instance, the
 * sequence its first page reported and the cursor of the next page.
 *
 * Locking.  Each peer's `lock` guards its `status` (written by its thread,
 * read by snapshots); a leaf, held only to copy.
 */
#define _GNU_SOURCE
#include "rc_peers.h"
#include "rc_hlc.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "rc_alloc.h"
#include "rc_control.h"
#include "rc_log.h"
#include "rc_sync.h"

#define RC__FRAME_CAP (RC_SYNC_PAGE_BYTES + 4096u) /* largest PEER_SYNC response accepted */
#define RC__MAX_PAGES 256u                         /* pages per round at most */

typedef struct rc__peer {
    rc_peers *owner;
    pthread_t thread;
    char host[256];
    uint16_t port;
    int fd;       /* -1 when not connected */
    uint8_t *buf; /* [RC__FRAME_CAP]: one frame in or out */
    uint32_t request_id;
    /* Sync position (this peer's thread only). */
    uint64_t instance, applied;
    uint64_t snap_instance, snap_seq, snap_cursor; /* snap_cursor 0 = no snapshot under way */
    /* Status (under lock). */
    pthread_mutex_t lock;
    rc_peer_status status;
    uint64_t last_ok_ms; /* monotonic ms of the last success; 0 = never */
} rc__peer;

struct rc_peers {
    rc_server *srv;
    uint32_t gossip_ms;
    uint32_t timeout_ms;
    int stop_pipe[2]; /* written once by rc_peers_stop: every poll wakes */
    atomic_bool stopping;
    size_t n;       /* peers (each with its buffer and lock) */
    size_t started; /* of which the first `started` have a running thread */
    rc__peer *peers;
};

static uint64_t rc__now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

const char *rc_peer_state_name(uint8_t state)
{
    static const char *const names[] = {"connecting", "up", "syncing", "down"};
    return state < sizeof(names) / sizeof(names[0]) ? names[state] : "unknown";
}

/* ---- parsing -------------------------------------------------------------------------------- */

/* rc__parse_one - "host:port" or "[v6]:port" (len bytes at item) into host/port. */
static int rc__parse_one(const char *item, size_t len, char host[256], uint16_t *port, char *err,
                         size_t errlen)
{
    const char *colon = NULL;
    const char *h = item;
    size_t hlen;
    if (len > 0 && item[0] == '[') {
        const char *close = memchr(item, ']', len);
        if (!close || close + 1 >= item + len || close[1] != ':') {
            snprintf(err, errlen, "peer '%.*s': expected [ADDRESS]:PORT", (int)len, item);
            return RC_EINVAL;
        }
        h = item + 1;
        hlen = (size_t)(close - h);
        colon = close + 1;
    } else {
        for (size_t i = len; i-- > 0;) {
            if (item[i] == ':') {
                colon = item + i;
                break;
            }
        }
        hlen = colon ? (size_t)(colon - item) : 0;
    }
    if (!colon || hlen == 0 || hlen > 255) {
        snprintf(err, errlen, "peer '%.*s': expected HOST:PORT", (int)len, item);
        return RC_EINVAL;
    }
    unsigned long p = 0;
    size_t digits = (size_t)(item + len - (colon + 1));
    for (size_t i = 0; i < digits; i++) {
        char c = colon[1 + i];
        if (c < '0' || c > '9' || p > 65535u) {
            p = 0;
            break;
        }
        p = p * 10u + (unsigned long)(c - '0');
    }
    if (digits == 0 || p == 0 || p > 65535u) {
        snprintf(err, errlen, "peer '%.*s': the port must be 1..65535", (int)len, item);
        return RC_EINVAL;
    }
    memcpy(host, h, hlen);
    host[hlen] = '\0';
    *port = (uint16_t)p;
    return 0;
}

int rc_peers_parse(const char *spec, char hosts[][256], uint16_t *ports, size_t max, char *err,
                   size_t errlen)
{
    size_t n = 0;
    if (!spec || spec[0] == '\0')
        return 0;
    for (const char *p = spec;;) {
        const char *comma = strchr(p, ',');
        size_t len = comma ? (size_t)(comma - p) : strlen(p);
        if (n >= max || n >= RC_PEERS_MAX) {
            snprintf(err, errlen, "more than %d peers", RC_PEERS_MAX);
            return RC_EINVAL;
        }
        if (len == 0) {
            snprintf(err, errlen, "empty item in the peer list '%s'", spec);
            return RC_EINVAL;
        }
        int rc = rc__parse_one(p, len, hosts[n], &ports[n], err, errlen);
        if (rc != 0)
            return rc;
        n++;
        if (!comma)
            break;
        p = comma + 1;
    }
    return (int)n;
}

/* ---- socket I/O with deadlines -------------------------------------------------------------- */

/*
 * rc__wait - until fd has `events` or the deadline passes or the node stops.
 * 0, RC_ETIMEDOUT, RC_ESHUTTING_DOWN or RC_EIO.  fd < 0 waits for stop only.
 */
static int rc__wait(rc__peer *pe, int fd, short events, uint64_t deadline)
{
    struct pollfd fds[2] = {{.fd = pe->owner->stop_pipe[0], .events = POLLIN},
                            {.fd = fd, .events = events}};
    for (;;) {
        if (atomic_load(&pe->owner->stopping))
            return RC_ESHUTTING_DOWN;
        uint64_t now = rc__now_ms();
        if (now >= deadline)
            return RC_ETIMEDOUT;
        uint64_t left = deadline - now;
        int r = poll(fds, fd >= 0 ? 2 : 1, left > 60000u ? 60000 : (int)left);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0)
            return RC_EIO;
        if (fds[0].revents)
            return RC_ESHUTTING_DOWN;
        if (fd >= 0 && fds[1].revents)
            return 0;
    }
}

/* rc__close - drop the connection (the next exchange reconnects). */
static void rc__close(rc__peer *pe)
{
    if (pe->fd >= 0)
        close(pe->fd);
    pe->fd = -1;
}

/* rc__connect - a non-blocking TCP connection to the peer within the deadline. */
static int rc__connect(rc__peer *pe, uint64_t deadline)
{
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM}, *ai = NULL;
    char port[8];
    snprintf(port, sizeof(port), "%u", (unsigned)pe->port);
    if (getaddrinfo(pe->host, port, &hints, &ai) != 0 || !ai)
        return RC_ERESOLVE;
    int fd = socket(ai->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    int rc = fd < 0 ? RC_EIO : 0;
    if (rc == 0 && connect(fd, ai->ai_addr, ai->ai_addrlen) != 0) {
        rc = errno == EINPROGRESS ? rc__wait(pe, fd, POLLOUT, deadline) : RC_ECONNECT;
        int soerr = 0;
        socklen_t sl = sizeof(soerr);
        if (rc == 0 && (getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &sl) != 0 || soerr != 0))
            rc = RC_ECONNECT;
    }
    freeaddrinfo(ai);
    if (rc != 0) {
        if (fd >= 0)
            close(fd);
        return rc;
    }
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    pe->fd = fd;
    return 0;
}

static int rc__send_all(rc__peer *pe, const uint8_t *p, size_t len, uint64_t deadline)
{
    while (len > 0) {
        ssize_t n = send(pe->fd, p, len, MSG_NOSIGNAL);
        if (n > 0) {
            p += n;
            len -= (size_t)n;
            continue;
        }
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            int rc = rc__wait(pe, pe->fd, POLLOUT, deadline);
            if (rc != 0)
                return rc;
            continue;
        }
        return RC_EIO;
    }
    return 0;
}

static int rc__recv_all(rc__peer *pe, uint8_t *p, size_t len, uint64_t deadline)
{
    while (len > 0) {
        ssize_t n = recv(pe->fd, p, len, 0);
        if (n > 0) {
            p += n;
            len -= (size_t)n;
            continue;
        }
        if (n == 0)
            return RC_ECLOSED;
        if (errno == EINTR)
            continue;
        if (errno == EAGAIN || errno == EWOULDBLOCK) {
            int rc = rc__wait(pe, pe->fd, POLLIN, deadline);
            if (rc != 0)
                return rc;
            continue;
        }
        return RC_EIO;
    }
    return 0;
}

/* ---- one exchange --------------------------------------------------------------------------- */

/* rc__fail - record a failed exchange: status, counter, message. */
static void rc__fail(rc__peer *pe, int rc, const char *detail)
{
    pthread_mutex_lock(&pe->lock);
    bool was_down = pe->status.state == RC_PEER_DOWN;
    pe->status.state = RC_PEER_DOWN;
    pe->status.errors++;
    snprintf(pe->status.last_error, sizeof(pe->status.last_error), "%s%s%s", rc_strerror(rc),
             detail ? ": " : "", detail ? detail : "");
    pthread_mutex_unlock(&pe->lock);
    if (!was_down) /* once per outage, not once per round */
        rc_log_warn("peer %s: exchange failed (%s%s%s); retrying every %u ms", pe->status.addr,
                    rc_strerror(rc), detail ? ": " : "", detail ? detail : "",
                    pe->owner->gossip_ms);
}

/*
 * rc__page - send one PEER_SYNC request for the current position and
 * receive its response into *m (slices into pe->buf).  0, an I/O error, or
 * RC_EPROTOCOL (a frame that is not our answer; an error status is
 * reported through *status_text).
 */
static int rc__page(rc__peer *pe, rc_msg *m, uint64_t deadline, const char **why)
{
    rc_msg rq = {.opcode = RC_OP_PEER_SYNC, .request_id = ++pe->request_id};
    if (pe->snap_cursor) {
        rq.instance_id = pe->snap_instance;
        rq.cursor = pe->snap_cursor;
    } else {
        rq.instance_id = pe->instance;
        rq.seq = pe->applied;
    }
    long len = rc_encode(&rq, pe->buf, RC__FRAME_CAP);
    if (len < 0)
        return (int)len;
    int rc = rc__send_all(pe, pe->buf, (size_t)len, deadline);
    if (rc == 0)
        rc = rc__recv_all(pe, pe->buf, RC_HEADER_SIZE, deadline);
    if (rc != 0)
        return rc;
    uint32_t frame_len;
    if (rc_decode_header(pe->buf, RC_HEADER_SIZE, RC__FRAME_CAP, m, &frame_len) != 0) {
        *why = "undecodable response header";
        return RC_EPROTOCOL;
    }
    rc = rc__recv_all(pe, pe->buf + RC_HEADER_SIZE, frame_len - RC_HEADER_SIZE, deadline);
    if (rc != 0)
        return rc;
    rc_limits lim = rc_limits_wire();
    if (rc_decode_body(pe->buf + RC_HEADER_SIZE, frame_len - RC_HEADER_SIZE, &lim, m) != 0 ||
        m->opcode != RC_OP_PEER_SYNC || !(m->hflags & RC_HF_RESPONSE) ||
        m->request_id != rq.request_id) {
        *why = "not a PEER_SYNC response to our request";
        return RC_EPROTOCOL;
    }
    if (m->status != 0) {
        *why = "the peer refused PEER_SYNC";
        return RC_EPROTOCOL;
    }
    return 0;
}

/*
 * rc__advance - move the sync position past page m (already applied).
 * Returns 0, or RC_EPROTOCOL for a page that does not continue what we
 * asked for.
 */
static int rc__advance(rc__peer *pe, const rc_msg *m, bool *snapshot_done)
{
    *snapshot_done = false;
    if (m->cursor == 0) {
        if (pe->snap_cursor != 0 || m->instance_id != pe->instance || m->next < pe->applied)
            return RC_EPROTOCOL;
        pe->applied = m->next;
        return 0;
    }
    if (m->cursor == 1) { /* a snapshot (re)starts: its first page dates it */
        pe->snap_instance = m->instance_id;
        pe->snap_seq = m->seq;
    } else if (m->cursor != pe->snap_cursor || m->instance_id != pe->snap_instance) {
        return RC_EPROTOCOL;
    }
    pe->snap_cursor = m->next;
    if (m->next == 0) {
        pe->instance = pe->snap_instance;
        pe->applied = pe->snap_seq;
        *snapshot_done = true;
    }
    return 0;
}

/* rc__exchange - one round with the peer: pages until caught up.  0 or an error (logged). */
static int rc__exchange(rc__peer *pe)
{
    rc_server *srv = pe->owner->srv;
    uint64_t timeout = pe->owner->timeout_ms;
    const char *why = NULL;
    rc_sync_applied applied = {0};
    uint64_t snapshots = 0, peer_seq = 0;
    int rc = pe->fd < 0 ? rc__connect(pe, rc__now_ms() + timeout) : 0;
    bool caught_up = false, saw_log = false;
    for (unsigned page = 0; rc == 0 && !caught_up && page < RC__MAX_PAGES; page++) {
        rc_msg m;
        rc = rc__page(pe, &m, rc__now_ms() + timeout, &why);
        if (rc == 0 && rc_sync_apply(srv, m.value, &applied) != 0) {
            why = "malformed records";
            rc = RC_EPROTOCOL;
        }
        bool done = false;
        if (rc == 0 && rc__advance(pe, &m, &done) != 0) {
            why = "a page that does not continue the one asked for";
            rc = RC_EPROTOCOL;
        }
        if (rc == 0) {
            snapshots += done;
            /* Only a LOG page reports the peer's newest sequence (rc_sync.h). */
            if (m.cursor == 0) {
                saw_log = true;
                peer_seq = m.seq;
                caught_up = pe->applied >= m.seq;
            }
        }
    }
    if (rc != 0) {
        rc__close(pe);
        pthread_mutex_lock(&pe->lock); /* what the pages before the failure merged still counts */
        pe->status.records += applied.records;
        pe->status.raised += applied.raised;
        pe->status.snapshots += snapshots;
        pthread_mutex_unlock(&pe->lock);
        if (rc == RC_EPROTOCOL) {
            /* Start over from a snapshot: whatever we hold is merged, nothing is lost. */
            pe->instance = 0;
            pe->snap_cursor = 0;
        }
        if (rc != RC_ESHUTTING_DOWN)
            rc__fail(pe, rc, why);
        return rc;
    }
    pthread_mutex_lock(&pe->lock);
    rc_peer_status *s = &pe->status;
    bool was_down = s->state == RC_PEER_DOWN;
    s->state = caught_up ? RC_PEER_UP : RC_PEER_SYNCING;
    s->instance_id = pe->instance ? pe->instance : pe->snap_instance;
    s->applied_seq = pe->applied;
    if (saw_log)
        s->peer_seq = peer_seq;
    s->lag = s->peer_seq > pe->applied ? s->peer_seq - pe->applied : 0;
    s->exchanges++;
    s->snapshots += snapshots;
    s->records += applied.records;
    s->raised += applied.raised;
    pe->last_ok_ms = rc__now_ms();
    pthread_mutex_unlock(&pe->lock);
    if (was_down)
        rc_log_info("peer %s: exchanging again", s->addr);
    if (applied.ahead_ms > RC_SYNC_AHEAD_WARN_MS)
        rc_log_warn("peer %s: invalidation stamps up to %llu ms ahead of this node's clock; "
                    "across nodes, tag invalidations are ordered only to within the clocks' skew "
                    "(check NTP)",
                    s->addr, (unsigned long long)applied.ahead_ms);
    if (applied.failed)
        rc_log_warn("peer %s: %llu records could not be merged (namespace limit or names over "
                    "this node's limits)",
                    s->addr, (unsigned long long)applied.failed);
    return 0;
}

static void *rc__peer_main(void *arg)
{
    rc__peer *pe = arg;
    rc_peers *p = pe->owner;
    while (!atomic_load(&p->stopping)) {
        uint64_t round = rc__now_ms();
        rc__exchange(pe);
        rc__wait(pe, -1, 0, round + p->gossip_ms);
    }
    rc__close(pe);
    return NULL;
}

/* ---- lifetime and status -------------------------------------------------------------------- */

int rc_peers_start(rc_server *srv, rc_peers **out)
{
    *out = NULL;
    const rc_config *cfg = srv->cfg;
    char(*hosts)[256] = rc_xmalloc(RC_PEERS_MAX * 256);
    uint16_t ports[RC_PEERS_MAX];
    char err[512] = "";
    int n = rc_peers_parse(cfg->peers, hosts, ports, RC_PEERS_MAX, err, sizeof(err));
    if (n <= 0) {
        free(hosts);
        if (n < 0)
            rc_log_error("--peers: %s", err);
        return n < 0 ? RC_EINVAL : 0;
    }
    rc_peers *p = rc_xcalloc(1, sizeof(*p));
    p->srv = srv;
    p->gossip_ms = (uint32_t)cfg->gossip_ms;
    p->timeout_ms = p->gossip_ms > RC_PEERS_MIN_TIMEOUT_MS ? p->gossip_ms : RC_PEERS_MIN_TIMEOUT_MS;
    if (pipe2(p->stop_pipe, O_CLOEXEC) != 0) {
        free(hosts);
        free(p);
        return RC_EIO;
    }
    p->peers = rc_xcalloc((size_t)n, sizeof(rc__peer));
    p->n = (size_t)n;
    for (int i = 0; i < n; i++) {
        rc__peer *pe = &p->peers[i];
        pe->owner = p;
        pe->fd = -1;
        memcpy(pe->host, hosts[i], sizeof(pe->host));
        pe->port = ports[i];
        pe->buf = rc_xmalloc(RC__FRAME_CAP);
        pthread_mutex_init(&pe->lock, NULL);
        bool v6 = strchr(pe->host, ':') != NULL;
        snprintf(pe->status.addr, sizeof(pe->status.addr), "%s%s%s:%u", v6 ? "[" : "", pe->host,
                 v6 ? "]" : "", (unsigned)pe->port);
    }
    free(hosts);
    int rc = 0;
    for (; p->started < p->n; p->started++) {
        rc__peer *pe = &p->peers[p->started];
        if (pthread_create(&pe->thread, NULL, rc__peer_main, pe) != 0) {
            rc_log_error("cannot start the thread of peer %s", pe->status.addr);
            rc = RC_EIO;
            break;
        }
    }
    if (rc != 0) {
        rc_peers_destroy(p);
        return rc;
    }
    rc_log_info("pulling control state from %zu peer(s) every %u ms", p->n, p->gossip_ms);
    *out = p;
    return 0;
}

void rc_peers_stop(rc_peers *p)
{
    if (!p || atomic_exchange(&p->stopping, true))
        return;
    ssize_t w;
    do {
        w = write(p->stop_pipe[1], "x", 1);
    } while (w < 0 && errno == EINTR);
    for (size_t i = 0; i < p->started; i++)
        pthread_join(p->peers[i].thread, NULL);
}

void rc_peers_destroy(rc_peers *p)
{
    if (!p)
        return;
    rc_peers_stop(p);
    for (size_t i = 0; i < p->n; i++) {
        pthread_mutex_destroy(&p->peers[i].lock);
        free(p->peers[i].buf);
    }
    close(p->stop_pipe[0]);
    close(p->stop_pipe[1]);
    free(p->peers);
    free(p);
}

size_t rc_peers_count(const rc_peers *p)
{
    return p ? p->n : 0;
}

/* rc__status_of - a copy of pe's status with last_ok_ms_ago computed at now. */
static void rc__status_of(rc__peer *pe, uint64_t now, rc_peer_status *out)
{
    pthread_mutex_lock(&pe->lock);
    *out = pe->status;
    out->last_ok_ms_ago = pe->last_ok_ms ? (int64_t)(now - pe->last_ok_ms) : -1;
    pthread_mutex_unlock(&pe->lock);
}

size_t rc_peers_snapshot(rc_peers *p, rc_peer_status *out, size_t max)
{
    size_t n = 0;
    uint64_t now = rc__now_ms();
    for (; p && n < p->n && n < max; n++)
        rc__status_of(&p->peers[n], now, &out[n]);
    return n;
}

/* rc__appendf - printf into buf at *len without passing cap (truncation keeps what fits). */
static void rc__appendf(char *buf, size_t cap, size_t *len, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static void rc__appendf(char *buf, size_t cap, size_t *len, const char *fmt, ...)
{
    if (*len >= cap)
        return;
    va_list ap;
    va_start(ap, fmt);
    int k = vsnprintf(buf + *len, cap - *len, fmt, ap);
    va_end(ap);
    if (k > 0)
        *len += (size_t)k < cap - *len ? (size_t)k : cap - *len - 1;
}

long rc_peers_stats_text(rc_peers *p, const rc_server *srv, char *buf, size_t cap)
{
    size_t len = 0;
    rc_control_totals ct;
    rc_control_totals_get(srv->control, &ct);
    rc__appendf(buf, cap, &len, "peers %zu\n", rc_peers_count(p));
    rc__appendf(buf, cap, &len, "gossip_ms %llu\n", (unsigned long long)srv->cfg->gossip_ms);
    rc__appendf(buf, cap, &len, "control_log_newest %llu\n", (unsigned long long)ct.newest);
    rc__appendf(buf, cap, &len, "control_log_oldest %llu\n", (unsigned long long)ct.oldest);
    rc__appendf(buf, cap, &len, "control_log_capacity %u\n", ct.capacity);
    rc_peer_status st;
    uint64_t now = rc__now_ms();
    for (size_t i = 0; i < rc_peers_count(p); i++) {
        rc__status_of(&p->peers[i], now, &st);
        rc__appendf(buf, cap, &len,
                    "peer %s state=%s last_exchange_ms=%lld lag=%llu applied_seq=%llu "
                    "peer_seq=%llu exchanges=%llu errors=%llu snapshots=%llu records=%llu "
                    "raised=%llu instance_id=%llu\n",
                    st.addr, rc_peer_state_name(st.state), (long long)st.last_ok_ms_ago,
                    (unsigned long long)st.lag, (unsigned long long)st.applied_seq,
                    (unsigned long long)st.peer_seq, (unsigned long long)st.exchanges,
                    (unsigned long long)st.errors, (unsigned long long)st.snapshots,
                    (unsigned long long)st.records, (unsigned long long)st.raised,
                    (unsigned long long)st.instance_id);
    }
    return (long)len;
}

size_t rc_peers_view(void *ctx, rc_peer_view *out, size_t cap)
{
    rc_peer_status st[RC_PEERS_MAX];
    size_t n = rc_peers_snapshot(ctx, st, cap < RC_PEERS_MAX ? cap : RC_PEERS_MAX);
    uint64_t now = rc_hlc_wall_ms();
    for (size_t i = 0; i < n; i++) {
        rc_peer_view *v = &out[i];
        memset(v, 0, sizeof *v);
        snprintf(v->name, sizeof v->name, "%.*s", (int)sizeof v->name - 1, st[i].addr);
        snprintf(v->state, sizeof v->state, "%s", rc_peer_state_name(st[i].state));
        bool ever = st[i].last_ok_ms_ago >= 0;
        v->last_exchange_ms = ever ? now - (uint64_t)st[i].last_ok_ms_ago : 0;
        bool caught_up = st[i].state == RC_PEER_UP && st[i].lag == 0;
        v->lag_ms = caught_up ? 0 : (ever ? (uint64_t)st[i].last_ok_ms_ago : 0);
        v->lag_records = st[i].lag;
    }
    return n;
}
