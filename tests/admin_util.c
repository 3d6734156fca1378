/*
 * admin_util.c - shared pieces of the admin port's tests (see admin_util.h).
 */
#define _GNU_SOURCE

#include "admin_util.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "rc_test.h"

const char *admin_tool(const char *env)
{
    const char *v = getenv(env);
    if (v == NULL || v[0] == '\0') {
        fprintf(stderr,
                "admin tests: %s is not set (tests/CMakeLists.txt sets it; is the tool "
                "installed? scripts/deps.sh installs it)\n",
                env);
        exit(1);
    }
    return v;
}

const char *admin_env_path(const admin_env *e, const char *rel, char buf[512])
{
    snprintf(buf, 512, "%s/%s", e->dir, rel);
    return buf;
}

void admin_env_init(admin_env *e)
{
    memset(e, 0, sizeof(*e));
    snprintf(e->dir, sizeof(e->dir), "/tmp/recache-admin-test-XXXXXX");
    RC_CHECK(mkdtemp(e->dir) != NULL);
    char script[512];
    snprintf(script, sizeof(script), "%s/tests/admin_certs.sh", admin_tool("RECACHE_SOURCE_DIR"));
    char scripts[512];
    snprintf(scripts, sizeof(scripts), "%s/scripts", admin_tool("RECACHE_SOURCE_DIR"));
    const char *argv[] = {admin_tool("RECACHE_BASH"), script, scripts, e->dir, NULL};
    rc_cli_result r;
    int st = rc_harness_run(argv, NULL, 0, &r);
    if (st != 0)
        fprintf(stderr, "admin_certs.sh failed (%d): %s%s\n", st, r.out, r.err);
    RC_CHECK_EQ_INT(st, 0);
    rc_cli_result_free(&r);
}

unsigned admin_free_port(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    RC_CHECK(fd >= 0);
    struct sockaddr_in a = {0};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    RC_CHECK(bind(fd, (struct sockaddr *)&a, sizeof(a)) == 0);
    socklen_t len = sizeof(a);
    RC_CHECK(getsockname(fd, (struct sockaddr *)&a, &len) == 0);
    close(fd);
    return ntohs(a.sin_port);
}

void admin_start(admin_env *e, const char *const extra[])
{
    char port[16], cert[512], key[512], ca[512];
    const char *args[48];
    size_t n = 0;
    /* The kernel may hand the same free port to another test: retry a few times. */
    for (int attempt = 0; attempt < 5; attempt++) {
        e->admin_port = admin_free_port();
        snprintf(port, sizeof(port), "%u", e->admin_port);
        n = 0;
        args[n++] = "--admin-port";
        args[n++] = port;
        args[n++] = "--admin-cert";
        args[n++] = admin_env_path(e, "good/server.crt", cert);
        args[n++] = "--admin-key";
        args[n++] = admin_env_path(e, "good/server.key", key);
        args[n++] = "--admin-ca";
        args[n++] = admin_env_path(e, "good/ca.crt", ca);
        for (size_t i = 0; extra != NULL && extra[i] != NULL && n < 46; i++)
            args[n++] = extra[i];
        args[n] = NULL;
        if (rc_harness_start(&e->srv, args) == 0) {
            e->running = true;
            snprintf(e->base, sizeof(e->base), "https://127.0.0.1:%u", e->admin_port);
            return;
        }
    }
    RC_CHECK(!"the server with an admin port did not start");
}

void admin_stop(admin_env *e)
{
    if (!e->running)
        return;
    e->running = false;
    RC_CHECK_EQ_INT(rc_harness_stop(&e->srv), 0);
}

void admin_env_free(admin_env *e)
{
    admin_stop(e);
    const char *argv[] = {"/bin/rm", "-rf", e->dir, NULL};
    rc_cli_result r;
    rc_harness_run(argv, NULL, 0, &r);
    rc_cli_result_free(&r);
}

/* Append the client certificate set `cert` ("good", "expired", "other") as flag pairs. */
static size_t cert_args(const admin_env *e, const char *cert, const char *cert_flag,
                        const char *key_flag, const char **argv, size_t n, char crt[512],
                        char key[512])
{
    const char *c = strcmp(cert, "good") == 0      ? "good/client"
                    : strcmp(cert, "expired") == 0 ? "good/expired"
                                                   : "other/client";
    char rel[64];
    snprintf(rel, sizeof(rel), "%s.crt", c);
    argv[n++] = cert_flag;
    argv[n++] = admin_env_path(e, rel, crt);
    snprintf(rel, sizeof(rel), "%s.key", c);
    argv[n++] = key_flag;
    argv[n++] = admin_env_path(e, rel, key);
    return n;
}

int admin_curl_args(const admin_env *e, const char *cert, const char *const opts[],
                    const char *input, rc_cli_result *res)
{
    char ca[512], crt[512], key[512];
    const char *argv[40];
    size_t n = 0;
    argv[n++] = admin_tool("RECACHE_CURL");
    argv[n++] = "-sS";
    argv[n++] = "--max-time";
    argv[n++] = "8";
    argv[n++] = "--cacert";
    argv[n++] = admin_env_path(e, "good/ca.crt", ca);
    if (cert != NULL)
        n = cert_args(e, cert, "--cert", "--key", argv, n, crt, key);
    for (size_t i = 0; opts[i] != NULL && n < 39; i++)
        argv[n++] = opts[i];
    argv[n] = NULL;
    return rc_harness_run(argv, input, input != NULL ? strlen(input) : 0, res);
}

int admin_openssl(const admin_env *e, const char *const opts[], const char *input,
                  rc_cli_result *res)
{
    char ca[512], crt[512], key[512], target[64];
    snprintf(target, sizeof(target), "127.0.0.1:%u", e->admin_port);
    const char *argv[40];
    size_t n = 0;
    argv[n++] = admin_tool("RECACHE_OPENSSL");
    argv[n++] = "s_client";
    argv[n++] = "-connect";
    argv[n++] = target;
    argv[n++] = "-CAfile";
    argv[n++] = admin_env_path(e, "good/ca.crt", ca);
    n = cert_args(e, "good", "-cert", "-key", argv, n, crt, key);
    for (size_t i = 0; opts[i] != NULL && n < 39; i++)
        argv[n++] = opts[i];
    argv[n] = NULL;
    return rc_harness_run(argv, input, input != NULL ? strlen(input) : 0, res);
}

int admin_curl(const admin_env *e, const char *cert, const char *method, const char *path,
               const char *body, rc_cli_result *res)
{
    char url[2300];
    const char *opts[12];
    size_t n = 0;
    opts[n++] = "-i";
    if (method != NULL) {
        opts[n++] = "-X";
        opts[n++] = method;
    }
    if (body != NULL) {
        opts[n++] = "--data-binary";
        opts[n++] = "@-"; /* from stdin: any size, any bytes */
        opts[n++] = "-H";
        opts[n++] = "Content-Type: application/json";
    }
    snprintf(url, sizeof(url), "%s%s", e->base, path);
    opts[n++] = url;
    opts[n] = NULL;
    return admin_curl_args(e, cert, opts, body, res);
}

int admin_status(const char *text)
{
    int status = -1;
    if (text != NULL && sscanf(text, "HTTP/1.1 %d", &status) != 1)
        return -1;
    return status;
}

char *admin_http(const admin_env *e, const char *method, const char *path, const char *body,
                 int want_status)
{
    rc_cli_result r;
    int st = admin_curl(e, "good", method, path, body, &r);
    int status = admin_status(r.out);
    if (st != 0 || status != want_status) {
        fprintf(stderr, "admin_http %s %s: curl exit %d, HTTP %d (wanted %d)\n%s\n%s\n",
                method != NULL ? method : "GET", path, st, status, want_status, r.out, r.err);
        exit(1);
    }
    const char *sep = strstr(r.out, "\r\n\r\n");
    char *out = strdup(sep != NULL ? sep + 4 : "");
    rc_cli_result_free(&r);
    return out;
}
