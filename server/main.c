/*
 * main.c - recache-server entry point.
 *
 * Only process-level glue lives here: parse, resolve (a host name given to
 * --bind) and validate the configuration, check it against this machine
 * (memory, CPUs) (exit status 2 on any configuration error, with one clear
 * message), find the recache-cli the ready line should name, set the log
 * level, ignore SIGPIPE (a peer closing mid-write must surface as a write
 * error on that connection, not kill the process), and hand over to
 * rc_server_run, whose return value is the exit status.
 */
#define _DEFAULT_SOURCE

#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "rc_alloc.h"
#include "rc_config.h"
#include "rc_log.h"
#include "rc_server.h"

/* is_executable - path names an executable regular file. */
static int is_executable(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISREG(st.st_mode) && access(path, X_OK) == 0;
}

/*
 * on_path_as - 1 when running plain `name` through $PATH would run the file
 * at `path` (compared by device and inode), else 0.
 */
static int on_path_as(const char *name, const char *path)
{
    const char *env = getenv("PATH");
    struct stat want, got;
    if (env == NULL || stat(path, &want) != 0)
        return 0;
    while (*env != '\0') {
        size_t n = strcspn(env, ":");
        char candidate[PATH_MAX];
        if (n > 0 &&
            snprintf(candidate, sizeof candidate, "%.*s/%s", (int)n, env, name) <
                (int)sizeof candidate &&
            is_executable(candidate))
            return stat(candidate, &got) == 0 && got.st_dev == want.st_dev &&
                   got.st_ino == want.st_ino;
        env += n + (env[n] == ':');
    }
    return 0;
}

/*
 * find_cli - how a user can run the recache-cli that belongs to this
 * server: next to it when installed (bin/), or clients/ beside server/ in a
 * build tree.  Plain "recache-cli" when that is what $PATH finds, else the
 * absolute path.  NULL (the ready line then says "recache-cli") when
 * neither exists.  The result is malloc'ed.
 */
static char *find_cli(void)
{
    char exe[PATH_MAX];
    if (realpath("/proc/self/exe", exe) == NULL)
        return NULL;
    char *slash = strrchr(exe, '/');
    if (slash == NULL)
        return NULL;
    *slash = '\0';
    static const char *const rel[] = {"/recache-cli", "/../clients/recache-cli"};
    for (size_t i = 0; i < sizeof rel / sizeof rel[0]; i++) {
        char candidate[PATH_MAX + 32], resolved[PATH_MAX];
        snprintf(candidate, sizeof candidate, "%s%s", exe, rel[i]);
        if (!is_executable(candidate) || realpath(candidate, resolved) == NULL)
            continue;
        return rc_xstrdup(on_path_as("recache-cli", resolved) ? "recache-cli" : resolved);
    }
    return NULL;
}

/* check_config - resolve, validate and check cfg against this machine.  0 or RC_EINVAL + err. */
static int check_config(rc_config *cfg, char *err, size_t errlen)
{
    long pages = sysconf(_SC_PHYS_PAGES), page = sysconf(_SC_PAGESIZE);
    long cpus = sysconf(_SC_NPROCESSORS_ONLN);
    uint64_t phys = pages > 0 && page > 0 ? (uint64_t)pages * (uint64_t)page : 0;
    int rc = rc_config_resolve_bind(cfg, err, errlen);
    if (rc == 0)
        rc = rc_config_validate(cfg, err, errlen);
    if (rc == 0)
        rc = rc_config_check_machine(cfg, phys, cpus > 0 ? (unsigned)cpus : 1, err, errlen);
    return rc;
}

int main(int argc, char **argv)
{
    rc_config cfg;
    rc_config_init(&cfg);
    char err[512];
    rc_config_action action;
    int status = RC_EXIT_OK;
    if (rc_config_parse_args(&cfg, argc, argv, &action, err, sizeof(err)) != 0 ||
        (action == RC_CONFIG_RUN && check_config(&cfg, err, sizeof(err)) != 0)) {
        fprintf(stderr, "recache-server: %s\n", err);
        status = RC_EXIT_CONFIG;
    } else if (action == RC_CONFIG_HELP) {
        rc_config_usage(stdout, "recache-server");
    } else if (action == RC_CONFIG_VERSION) {
        printf("recache-server %s\n", RECACHE_VERSION);
    } else {
        cfg.cli_path = find_cli();
        rc_log_set_level((rc_log_level)cfg.log_level);
        signal(SIGPIPE, SIG_IGN);
        status = rc_server_run(&cfg);
    }
    rc_config_free(&cfg);
    return status;
}
