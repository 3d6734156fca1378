/*
 * rb_sync.c - see rb_sync.h.  Responses are read into a buffer that grows
 * to the frame length the header announces (bounded by the codec's wire
 * limit for responses, which is what a server may legitimately send).
 */
#define _POSIX_C_SOURCE 200809L
#include "rb_sync.h"

#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

int rb_sync_connect(rb_sync *s, const char *host, int port, int timeout_ms)
{
    memset(s, 0, sizeof(*s));
    s->fd = -1;
    char ps[16];
    snprintf(ps, sizeof(ps), "%d", port);
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM}, *res;
    if (getaddrinfo(host, ps, &hints, &res) != 0)
        return RC_ERESOLVE;
    int fd = socket(res->ai_family, SOCK_STREAM, 0);
    struct timeval tv = {timeout_ms / 1000, (timeout_ms % 1000) * 1000};
    int one = 1;
    if (fd >= 0) {
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    }
    if (fd < 0 || connect(fd, res->ai_addr, res->ai_addrlen) != 0) {
        if (fd >= 0)
            close(fd);
        freeaddrinfo(res);
        return RC_ECONNECT;
    }
    freeaddrinfo(res);
    s->fd = fd;
    s->next_id = 1;
    s->cap = 64 * 1024;
    s->buf = malloc(s->cap);
    if (!s->buf) {
        rb_sync_close(s);
        return RC_ENOMEM;
    }
    return 0;
}

void rb_sync_close(rb_sync *s)
{
    if (s->fd >= 0)
        close(s->fd);
    free(s->buf);
    s->fd = -1;
    s->buf = NULL;
}

/* Read exactly n bytes into p. */
static int rb__read_full(int fd, uint8_t *p, size_t n)
{
    while (n > 0) {
        ssize_t r = recv(fd, p, n, 0);
        if (r == 0)
            return RC_ECLOSED;
        if (r < 0) {
            if (errno == EINTR)
                continue;
            return (errno == EAGAIN || errno == EWOULDBLOCK) ? RC_ETIMEDOUT : RC_EIO;
        }
        p += r;
        n -= (size_t)r;
    }
    return 0;
}

static int rb__write_full(int fd, const uint8_t *p, size_t n)
{
    while (n > 0) {
        ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            return (errno == EAGAIN || errno == EWOULDBLOCK) ? RC_ETIMEDOUT : RC_EIO;
        }
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

/* Send one encoded request. */
static int rb__send(rb_sync *s, const rc_msg *req)
{
    long size = rc_encoded_size(req);
    if (size < 0)
        return (int)size;
    uint8_t stackbuf[4096], *out = stackbuf;
    if ((size_t)size > sizeof(stackbuf) && !(out = malloc((size_t)size)))
        return RC_ENOMEM;
    long n = rc_encode(req, out, (size_t)size);
    int rc = n < 0 ? (int)n : rb__write_full(s->fd, out, (size_t)n);
    if (out != stackbuf)
        free(out);
    return rc;
}

/* Read one response frame into s->buf and decode it. */
static int rb__recv(rb_sync *s, rc_msg *resp)
{
    rc_limits lim = rc_limits_wire();
    uint32_t frame_len;
    int rc = rb__read_full(s->fd, s->buf, RC_HEADER_SIZE);
    if (rc == 0)
        rc = rc_decode_header(s->buf, RC_HEADER_SIZE, lim.max_frame, resp, &frame_len);
    if (rc != 0)
        return rc == RC_ECLOSED || rc == RC_ETIMEDOUT || rc == RC_EIO ? rc : RC_EPROTOCOL;
    if (frame_len > s->cap) {
        uint8_t *nb = realloc(s->buf, frame_len);
        if (!nb)
            return RC_ENOMEM;
        s->buf = nb;
        s->cap = frame_len;
    }
    rc = rb__read_full(s->fd, s->buf + RC_HEADER_SIZE, frame_len - RC_HEADER_SIZE);
    if (rc != 0)
        return rc;
    if (rc_decode_body(s->buf + RC_HEADER_SIZE, frame_len - RC_HEADER_SIZE, &lim, resp) != 0)
        return RC_EPROTOCOL;
    return 0;
}

int rb_sync_call(rb_sync *s, rc_msg *req, rc_msg *resp)
{
    req->request_id = s->next_id++;
    req->hflags = 0;
    req->status = 0;
    int rc = rb__send(s, req);
    while (rc == 0) {
        rc = rb__recv(s, resp);
        if (rc == 0 && (resp->hflags & RC_HF_RESPONSE) && resp->request_id == req->request_id)
            return 0;
        /* Pushes or stale responses are not ours: keep reading. */
    }
    return rc;
}

long long rb_stat_line(const char *text, size_t len, const char *name)
{
    size_t nlen = strlen(name);
    const char *p = text, *end = text + len;
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        const char *le = nl ? nl : end;
        if ((size_t)(le - p) > nlen && memcmp(p, name, nlen) == 0 && p[nlen] == ' ') {
            char num[32];
            size_t n = (size_t)(le - p) - nlen - 1;
            if (n >= sizeof(num))
                return -1;
            memcpy(num, p + nlen + 1, n);
            num[n] = '\0';
            return strtoll(num, NULL, 10);
        }
        p = le + 1;
    }
    return -1;
}

long long rb_sync_stat(rb_sync *s, const char *name)
{
    rc_msg req, resp;
    memset(&req, 0, sizeof(req));
    req.opcode = RC_OP_STATS;
    if (rb_sync_call(s, &req, &resp) != 0 || resp.status != RC_STATUS_OK)
        return -1;
    return rb_stat_line((const char *)resp.value.ptr, resp.value.len, name);
}
