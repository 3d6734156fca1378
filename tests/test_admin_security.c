/*
 * test_admin_security.c - who the admin port refuses, and the data port's
 * hardening, through real clients (issue 11):
 *   - refused, with no HTTP byte sent, while the data port keeps serving:
 *     curl without a client certificate, with one from another CA, with an
 *     expired one; `openssl s_client -tls1_1`; plain HTTP sent to the TLS
 *     port; a client subject outside --admin-allow-subject;
 *   - bounded: a slowloris that never finishes its TLS handshake is cut at
 *     admin-handshake-timeout-ms, one that never finishes its request gets
 *     408 at admin-request-timeout-ms, connections over
 *     admin-max-connections are closed at once; the data port serves
 *     throughout;
 *   - the server refuses to start with only some of the TLS files;
 *   - protected mode: bound to a non-loopback address, loopback clients are
 *     served and others refused (unless --protected-mode no);
 *   - --data-port-admin-ops no: FLUSH and NS_CONFIG answer FORBIDDEN on the
 *     data port while the admin port still flushes.
 */
#define _GNU_SOURCE

#include <arpa/inet.h>
#include <errno.h>
#include <ifaddrs.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "admin_util.h"
#include "rc_harness.h"
#include "rc_test.h"

static admin_env env;

/* The data port answers: a ping and a write/read round trip. */
static void data_port_serves(void)
{
    rc_client *c = rc_harness_client(&env.srv);
    RC_CHECK_RC(rc_ping(c), 0);
    RC_CHECK_RC(rc_set(c, "alive", "k", 1, "v", 1, NULL, NULL), 0);
    rc_value v;
    RC_CHECK_RC(rc_get(c, "alive", "k", 1, NULL, &v), 0);
    rc_value_free(&v);
    rc_close(c);
}

/* A refused curl: non-zero exit and no HTTP response at all. */
static void expect_refused(const char *cert)
{
    rc_cli_result r;
    int st = admin_curl(&env, cert, NULL, "/metrics", NULL, &r);
    if (st == 0 || strstr(r.out, "HTTP/") != NULL) {
        fprintf(stderr, "curl with cert %s was not refused (exit %d):\n%s\n%s\n",
                cert != NULL ? cert : "(none)", st, r.out, r.err);
        exit(1);
    }
    rc_cli_result_free(&r);
    data_port_serves();
}

static void test_refused_certificates(void)
{
    expect_refused(NULL);
    expect_refused("other");
    expect_refused("expired");
    /* And the good one still works afterwards. */
    free(admin_http(&env, NULL, "/health", NULL, 200));
}

static void test_refused_tls11(void)
{
    const char *opts[] = {"-tls1_1", NULL};
    const char *req = "GET /metrics HTTP/1.1\r\nHost: a\r\n\r\n";
    rc_cli_result r;
    int st = admin_openssl(&env, opts, req, &r);
    RC_CHECK(st != 0);
    RC_CHECK(strstr(r.out, "HTTP/") == NULL);
    rc_cli_result_free(&r);
    data_port_serves();
}

/* A raw TCP connection to the admin port. */
static int admin_raw(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    RC_CHECK(fd >= 0);
    struct sockaddr_in a = {0};
    a.sin_family = AF_INET;
    a.sin_port = htons((uint16_t)env.admin_port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    RC_CHECK(connect(fd, (struct sockaddr *)&a, sizeof(a)) == 0);
    return fd;
}

/*
 * Read until the peer closes, within ms; returns the bytes received (into
 * buf, NUL-terminated) or -1 if the connection was still open at the
 * deadline.
 */
static long read_until_closed(int fd, char *buf, size_t cap, int ms)
{
    size_t len = 0;
    uint64_t deadline = rc_harness_now_ms() + (uint64_t)ms;
    for (;;) {
        uint64_t now = rc_harness_now_ms();
        if (now >= deadline)
            return -1;
        struct pollfd p = {fd, POLLIN, 0};
        int n = poll(&p, 1, (int)(deadline - now));
        if (n <= 0)
            continue;
        ssize_t got = recv(fd, buf + len, cap - 1 - len, 0);
        if (got < 0 && errno == ECONNRESET)
            got = 0;
        RC_CHECK(got >= 0);
        if (got == 0) {
            buf[len] = '\0';
            return (long)len;
        }
        len += (size_t)got;
        RC_CHECK(len < cap - 1);
    }
}

static void test_refused_plain_http(void)
{
    int fd = admin_raw();
    const char *req = "GET /metrics HTTP/1.1\r\nHost: a\r\n\r\n";
    rc_harness_send_all(fd, req, strlen(req));
    char buf[4096];
    long n = read_until_closed(fd, buf, sizeof(buf), 5000);
    RC_CHECK(n >= 0);                                  /* closed */
    RC_CHECK(n == 0 || (unsigned char)buf[0] == 0x15); /* at most a TLS alert record */
    RC_CHECK(memmem(buf, (size_t)n, "HTTP", 4) == NULL);
    close(fd);
    data_port_serves();
}

/*
 * Slowloris: connections that trickle a TLS record header and never finish
 * are cut at the handshake timeout (500 ms here), and the data port serves
 * while they hang.  One that completes TLS and trickles an HTTP request
 * gets 408 at the request timeout (1000 ms here).
 */
static void test_slowloris(void)
{
    enum { N = 3 };
    int fds[N];
    uint64_t start = rc_harness_now_ms();
    for (int i = 0; i < N; i++) {
        fds[i] = admin_raw();
        rc_harness_send_all(fds[i], "\x16\x03", 2); /* the start of a record, then nothing */
    }
    data_port_serves();
    char buf[256];
    for (int i = 0; i < N; i++) {
        RC_CHECK(read_until_closed(fds[i], buf, sizeof(buf), 5000) >= 0);
        close(fds[i]);
    }
    uint64_t took = rc_harness_now_ms() - start;
    RC_CHECK(took >= 450); /* not before the timeout... */

    const char *opts[] = {"-quiet", "-ign_eof", NULL};
    const char *partial = "GET /metrics HTTP/1.1\r\nHost: a\r\nX-Slow: "; /* never ends */
    rc_cli_result r;
    admin_openssl(&env, opts, partial, &r); /* its exit status depends on how the close went */
    if (strstr(r.out, "HTTP/1.1 408 Request Timeout") == NULL) {
        fprintf(stderr, "no 408:\n%s\n%s\n", r.out, r.err);
        exit(1);
    }
    rc_cli_result_free(&r);
    data_port_serves();
}

/* Over admin-max-connections (4 here), a connection is closed at once, before any byte. */
static void test_connection_limit(void)
{
    enum { N = 4 };
    int fds[N];
    for (int i = 0; i < N; i++)
        fds[i] = admin_raw();
    /* The listener handles accepts in order: a curl now shares its fate with the extra one. */
    int extra = admin_raw();
    char buf[64];
    RC_CHECK_EQ_INT(read_until_closed(extra, buf, sizeof(buf), 5000), 0);
    close(extra);
    data_port_serves();
    for (int i = 0; i < N; i++)
        close(fds[i]);
    /* Once they are gone (the server sees the closes), curl is served again. */
    uint64_t deadline = rc_harness_now_ms() + 5000;
    for (;;) {
        rc_cli_result r;
        int st = admin_curl(&env, "good", NULL, "/health", NULL, &r);
        int status = admin_status(r.out);
        rc_cli_result_free(&r);
        if (st == 0 && status == 200)
            break;
        RC_CHECK(rc_harness_now_ms() < deadline);
        rc_harness_poll_pause();
    }
}

static void test_allow_subject(void)
{
    admin_stop(&env);
    const char *deny[] = {"--admin-allow-subject", "CN=prometheus;CN=deploy", NULL};
    admin_start(&env, deny);
    expect_refused("good");
    admin_stop(&env);
    const char *allow[] = {"--admin-allow-subject", "CN=prometheus; CN=recache-admin", NULL};
    admin_start(&env, allow);
    free(admin_http(&env, NULL, "/health", NULL, 200));
    expect_refused("other"); /* the allow-list never replaces the CA check */
    admin_stop(&env);
}

/* Only some of the TLS files: exit status 2 and one line naming what is missing. */
static void test_partial_tls_config(void)
{
    char crt[512];
    const char *argv[] = {admin_tool("RECACHE_SERVER"),
                          "--port",
                          "0",
                          "--admin-cert",
                          admin_env_path(&env, "good/server.crt", crt),
                          NULL};
    rc_cli_result r;
    RC_CHECK_EQ_INT(rc_harness_run(argv, NULL, 0, &r), 2);
    RC_CHECK(strstr(r.err, "admin-key") != NULL && strstr(r.err, "admin-ca") != NULL);
    rc_cli_result_free(&r);
    /* A missing file: exit status 2 naming the file. */
    const char *argv2[] = {admin_tool("RECACHE_SERVER"),
                           "--port",
                           "0",
                           "--admin-cert",
                           "/nonexistent.crt",
                           "--admin-key",
                           "/nonexistent.key",
                           "--admin-ca",
                           "/nonexistent-ca.crt",
                           NULL};
    RC_CHECK_EQ_INT(rc_harness_run(argv2, NULL, 0, &r), 2);
    RC_CHECK(strstr(r.err, "/nonexistent.crt") != NULL);
    rc_cli_result_free(&r);
}

/* A local address that is not loopback (traffic to it stays on this host), or "" if none. */
static void local_non_loopback(char *buf, size_t cap)
{
    buf[0] = '\0';
    struct ifaddrs *ifs = NULL;
    if (getifaddrs(&ifs) != 0)
        return;
    for (struct ifaddrs *i = ifs; i != NULL && buf[0] == '\0'; i = i->ifa_next) {
        if (i->ifa_addr == NULL || i->ifa_addr->sa_family != AF_INET)
            continue;
        struct in_addr a = ((struct sockaddr_in *)i->ifa_addr)->sin_addr;
        if ((ntohl(a.s_addr) >> 24) != 127u)
            inet_ntop(AF_INET, &a, buf, (socklen_t)cap);
    }
    freeifaddrs(ifs);
}

/* Connect to addr:port and PING by hand; true when answered, false when closed unanswered. */
static bool ping_from(const char *addr, uint16_t port)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    RC_CHECK(fd >= 0);
    struct sockaddr_in a = {0};
    a.sin_family = AF_INET;
    a.sin_port = htons(port);
    RC_CHECK(inet_pton(AF_INET, addr, &a.sin_addr) == 1);
    RC_CHECK(connect(fd, (struct sockaddr *)&a, sizeof(a)) == 0);
    rc_msg ping = {.opcode = RC_OP_PING, .request_id = 1};
    uint8_t frame[64], body[256];
    long n = rc_encode(&ping, frame, sizeof(frame));
    RC_CHECK(n > 0);
    struct timeval tv = {5, 0};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    bool answered = send(fd, frame, (size_t)n, MSG_NOSIGNAL) == n &&
                    rc_harness_recv_frame(fd, &ping, body, sizeof(body), 1u << 20) == 0;
    close(fd);
    return answered;
}

static void test_protected_mode(void)
{
    char other[64];
    local_non_loopback(other, sizeof(other));
    const char *bind_any[] = {"--bind", "0.0.0.0", NULL};
    admin_start(&env, bind_any);
    RC_CHECK(ping_from("127.0.0.1", env.srv.port));
    if (other[0] != '\0') {
        RC_CHECK(!ping_from(other, env.srv.port));
        char *m = admin_http(&env, NULL, "/metrics", NULL, 200);
        RC_CHECK(strstr(m, "recache_protected_refusals_total 1\n") != NULL);
        free(m);
    } else {
        printf("  (no non-loopback IPv4 address on this host: refusal not exercised)\n");
    }
    admin_stop(&env);
    const char *open_mode[] = {"--bind", "0.0.0.0", "--protected-mode", "no", NULL};
    admin_start(&env, open_mode);
    RC_CHECK(ping_from("127.0.0.1", env.srv.port));
    if (other[0] != '\0')
        RC_CHECK(ping_from(other, env.srv.port));
    admin_stop(&env);
}

static void test_data_port_admin_ops(void)
{
    const char *no_ops[] = {"--data-port-admin-ops", "no", NULL};
    admin_start(&env, no_ops);
    rc_client *c = rc_harness_client(&env.srv);
    RC_CHECK_RC(rc_set(c, "n", "k", 1, "v", 1, NULL, NULL), 0);
    RC_CHECK_RC(rc_flush(c), RC_EFORBIDDEN);
    char *text = NULL;
    RC_CHECK_RC(rc_ns_config(c, "n", "default-ttl=5", &text), RC_EFORBIDDEN);
    free(text);
    rc_value v;
    RC_CHECK_RC(rc_get(c, "n", "k", 1, NULL, &v), 0); /* nothing was flushed */
    rc_value_free(&v);
    rc_cli_result r = rc_harness_cli_expect(&env.srv, 2, "flush", NULL);
    RC_CHECK(strstr(r.err, "reserved to the admin port") != NULL);
    rc_cli_result_free(&r);
    /* The admin port still may. */
    free(admin_http(&env, "PUT", "/namespaces/n/config", "{\"default-ttl\": 5000}", 200));
    free(admin_http(&env, "POST", "/flush", NULL, 200));
    RC_CHECK_RC(rc_get(c, "n", "k", 1, NULL, &v), RC_EMISS);
    rc_close(c);
    admin_stop(&env);
}

int main(void)
{
    admin_env_init(&env);
    const char *extra[] = {"--admin-handshake-timeout-ms",
                           "500",
                           "--admin-request-timeout-ms",
                           "1000",
                           "--admin-max-connections",
                           "4",
                           NULL};
    admin_start(&env, extra);
    RC_TEST_RUN(test_refused_certificates);
    RC_TEST_RUN(test_refused_tls11);
    RC_TEST_RUN(test_refused_plain_http);
    RC_TEST_RUN(test_slowloris);
    RC_TEST_RUN(test_connection_limit);
    RC_TEST_RUN(test_allow_subject);
    RC_TEST_RUN(test_partial_tls_config);
    RC_TEST_RUN(test_protected_mode);
    RC_TEST_RUN(test_data_port_admin_ops);
    admin_env_free(&env);
    return 0;
}
