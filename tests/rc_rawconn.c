/*
 * rc_rawconn.c - raw-socket helpers for the limits tests (see
 * rc_rawconn.h).  Every read is bounded by the socket's receive timeout.
 */
#include "rc_rawconn.h"
#include "rc_test.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

static uint32_t rc__next_id = 1;

int rc_raw_connect_small(const rc_harness_server *srv)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    RC_CHECK(fd >= 0);
    int small = 4096;
    RC_CHECK(setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &small, sizeof small) == 0);
    struct timeval tv = {.tv_sec = 5};
    RC_CHECK(setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv) == 0);
    struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = htons(srv->port)};
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    RC_CHECK(connect(fd, (struct sockaddr *)&addr, sizeof addr) == 0);
    return fd;
}

uint32_t rc_raw_encode_req(rc_msg *msg, uint8_t *buf, size_t cap, size_t *len)
{
    msg->hflags = 0;
    msg->request_id = rc__next_id++;
    long n = rc_encode(msg, buf + *len, cap - *len);
    RC_CHECK(n > 0);
    *len += (size_t)n;
    return msg->request_id;
}

void rc_raw_call(int fd, rc_msg *msg, uint16_t status)
{
    static uint8_t buf[8192];
    static uint8_t body[RC_RAW_BODY_CAP];
    size_t len = 0;
    uint32_t id = rc_raw_encode_req(msg, buf, sizeof buf, &len);
    rc_harness_send_all(fd, buf, len);
    do {
        RC_CHECK(rc_harness_recv_frame(fd, msg, body, sizeof body, RC_RAW_MAX_FRAME) == 0);
    } while (msg->hflags & RC_HF_PUSH);
    RC_CHECK_EQ_INT(msg->request_id, id);
    RC_CHECK_EQ_INT(msg->status, status);
}

long long rc_raw_stat(int fd, const char *name)
{
    rc_msg m = {.opcode = RC_OP_STATS};
    rc_raw_call(fd, &m, RC_STATUS_OK);
    static char text[65536];
    RC_CHECK(m.value.len < sizeof text);
    memcpy(text, m.value.ptr, m.value.len);
    text[m.value.len] = '\0';
    long long v = rc_harness_stat(text, name);
    RC_CHECK(v >= 0);
    return v;
}
