/*
 * main.c - recache-server entry point.
 *
 * Only process-level glue lives here: parse and validate the configuration
 * (exit status 2 on any configuration error, with one clear message), set
 * the log level, ignore SIGPIPE (a peer closing mid-write must surface as a
 * write error on that connection, not kill the process), and hand over to
 * rc_server_run, whose return value is the exit status.
 */
#define _POSIX_C_SOURCE 200809L

#include <signal.h>
#include <stdio.h>

#include "rc_config.h"
#include "rc_log.h"
#include "rc_server.h"

int main(int argc, char **argv)
{
    rc_config cfg;
    rc_config_init(&cfg);
    char err[512];
    rc_config_action action;
    int status = RC_EXIT_OK;
    if (rc_config_parse_args(&cfg, argc, argv, &action, err, sizeof(err)) != 0 ||
        rc_config_validate(&cfg, err, sizeof(err)) != 0) {
        fprintf(stderr, "recache-server: %s\n", err);
        status = RC_EXIT_CONFIG;
    } else if (action == RC_CONFIG_HELP) {
        rc_config_usage(stdout, "recache-server");
    } else if (action == RC_CONFIG_VERSION) {
        printf("recache-server %s\n", RECACHE_VERSION);
    } else {
        rc_log_set_level((rc_log_level)cfg.log_level);
        signal(SIGPIPE, SIG_IGN);
        status = rc_server_run(&cfg);
    }
    rc_config_free(&cfg);
    return status;
}
