/*
 * rb_opts.h - every option of recache-bench, in one table.
 *
 * Design.  RB_OPTIONS lists each option once: its kind, struct field, flag
 * name, default (as text, parsed like user input) and help.  The struct,
 * the defaults, the parser, --help and the JSON "config" object are all
 * generated from that table, so --help always documents every option with
 * its real default and the report always records the exact configuration.
 */
#ifndef RB_OPTS_H
#define RB_OPTS_H

#include <stdio.h>

#include "rb_json.h"

/* X(KIND, field, "flag", "default", "help"); KIND is INT, DBL or STR. */
#define RB_OPTIONS(X)                                                                              \
    X(STR, target, "target", "recache", "server kind: recache, memcached or redis")                \
    X(STR, host, "host", "127.0.0.1", "server address (IPv4 literal or host name)")                \
    X(INT, port, "port", "0", "server port (0 = the target's default: 7400, 11211, 6379)")         \
    X(INT, threads, "threads", "2", "load threads, each with its own event loop")                  \
    X(INT, connections, "connections", "8", "connections in total, spread over the threads")       \
    X(INT, pipeline, "pipeline", "1", "requests in flight per connection (1..1024)")               \
    X(DBL, rate, "rate", "0",                                                                      \
      "open loop: requests/s over all connections, sent on schedule; latency counts from the "     \
      "scheduled time, --pipeline caps in flight (0 = closed loop)")                               \
    X(DBL, duration, "duration", "5", "measured seconds (ignored when --requests is set)")         \
    X(INT, requests, "requests", "0", "stop after this many measured requests (0 = --duration)")   \
    X(DBL, warmup, "warmup", "1", "seconds of load before measuring starts (not counted)")         \
    X(STR, mode, "mode", "plain", "plain (get/set), cache-aside or lease")                         \
    X(INT, read_pct, "read-pct", "90", "percentage of workload operations that are reads")         \
    X(INT, users, "users", "100000", "number of users, one key each")                              \
    X(DBL, alpha, "alpha", "0.99", "Zipf exponent of user popularity")                             \
    X(INT, items, "items", "100", "items per list; a value is 32 + 8 * items bytes")               \
    X(STR, ns, "namespace", "recs", "namespace (recache) or key prefix (memcached, redis)")        \
    X(INT, fill, "fill", "0", "1 = write every user once before the run")                          \
    X(INT, origin_ms, "origin-ms", "20", "simulated origin latency per recompute, ms")             \
    X(INT, origin_concurrency, "origin-concurrency", "64",                                         \
      "origin calls in flight at most (split over threads); the rest queue")                       \
    X(INT, lease_wait_ms, "lease-wait-ms", "200", "lease mode: LGET wait_ms (0 = never park)")     \
    X(INT, bump_every, "bump-every", "0", "ms between namespace bumps (0 = none; recache only)")   \
    X(INT, tag_every, "tag-every", "0",                                                            \
      "ms between product tag invalidations (0 = none; recache)")                                  \
    X(INT, key_every, "key-every", "0",                                                            \
      "ms between key invalidations, a purchase; every other one targets a uniformly drawn "       \
      "user, the others a Zipf-drawn one (0 = none)")                                              \
    X(INT, delete_every, "delete-every", "0",                                                      \
      "ms between DELETEs of a user's key, users drawn as for --key-every (0 = none)")             \
    X(INT, soft, "soft", "0", "1 = tag and key invalidations are soft (stale), 0 = hard")          \
    X(INT, soft_pct, "soft-pct", "0",                                                              \
      "with --soft 0: percentage of tag and key invalidations sent soft, the rest hard")           \
    X(INT, products, "products", "1000",                                                           \
      "product ids; each write draws its product tags product:<id> from them")                     \
    X(INT, tags, "tags", "3", "product tags per value (recache only)")                             \
    X(INT, segments, "segments", "0",                                                              \
      "segment tags: each value also carries segment:<user % N>, and every other tag "             \
      "invalidation targets a segment (0 = none; recache only)")                                   \
    X(INT, big_permille, "big-permille", "0",                                                      \
      "writes and fills in 1000 that carry a big value of --big-bytes")                            \
    X(INT, big_bytes, "big-bytes", "1048576", "size of a big value in bytes (40..16 MiB)")         \
    X(INT, calm_ms, "calm-ms", "0",                                                                \
      "every other period of this many ms sends no bump, tag invalidation or chase, so L1 "        \
      "entries live long enough for a lost key event to show (0 = never calm)")                    \
    X(INT, chase, "chase", "0",                                                                    \
      "1 = each big lease fill is chased by a hard invalidation of one of its tags, sent at "      \
      "once on another connection (the fill-versus-invalidation race; recache, lease mode)")       \
    X(INT, l1, "l1", "0",                                                                          \
      "reader threads reading through one shared L1 near-cache (rc_l1_get), checked by the "       \
      "oracle like every read (recache only)")                                                     \
    X(STR, l1_filter, "l1-filter", "ns",                                                           \
      "the L1's subscription: ns (the bench's namespace), all, outside (another namespace only: "  \
      "reads of the bench's must bypass the L1) or mixed (two L1s, ns and outside, readers "       \
      "alternate)")                                                                                \
    X(INT, churn, "churn", "0",                                                                    \
      "1 = the churn preset (docs/CHURN.md): lease mode with waiters, bumps, hard and soft tag "   \
      "and key invalidations, deletes, concurrent writers, big values and L1 readers; "            \
      "options given explicitly override it")                                                      \
    X(STR, cluster, "cluster", "",                                                                 \
      "HOST:PORT,...: drive a cluster through rc_cluster (run only; oracle on)")                   \
    X(INT, io_timeout_ms, "io-timeout-ms", "1000", "cluster: per-request timeout, ms")             \
    X(INT, tko, "tko", "3", "cluster: consecutive timeouts before a node is marked down")          \
    X(INT, failover_ttl_ms, "failover-ttl-ms", "10000", "cluster: TTL cap on failover writes")     \
    X(STR, timeline, "timeline", "", "cluster: write a JSON line per --timeline-ms to this file")  \
    X(INT, timeline_ms, "timeline-ms", "100", "cluster: timeline interval, ms")                    \
    X(INT, ttl_ms, "ttl-ms", "0", "TTL of written values in ms (0 = none)")                        \
    X(INT, seed, "seed", "1", "random seed")                                                       \
    X(STR, json, "json", "", "also write the JSON report to this file (- = stdout)")               \
    X(INT, readers, "readers", "500", "herd: concurrent readers of the one hot key")               \
    X(INT, capacity, "capacity", "0", "clocksim: cache capacity in entries")                       \
    X(STR, policy, "policy", "clock",                                                              \
      "clocksim, replay: reference policy, clock or sieve (as the server's --eviction)")           \
    X(INT, keys, "keys", "100000", "gentrace: distinct keys")                                      \
    X(INT, entries, "entries", "100000", "invalcost: entries filled before each invalidation")     \
    X(INT, writes, "writes", "10000", "invalcost: timed writes after each invalidation")           \
    X(INT, count, "count", "1000000", "gentrace: trace length")

typedef struct rb_opts {
#define RB__OPT_FIELD_INT(f)                    long long f;
#define RB__OPT_FIELD_DBL(f)                    double f;
#define RB__OPT_FIELD_STR(f)                    const char *f;
#define RB__OPT_FIELD(kind, f, name, def, help) RB__OPT_FIELD_##kind(f)
    RB_OPTIONS(RB__OPT_FIELD)
#undef RB__OPT_FIELD
    const char *pos[3]; /* positional arguments: subcommand, file */
    int npos;
    int help;
} rb_opts;

/* rb_opts_defaults - fill every field with its table default. */
void rb_opts_defaults(rb_opts *o);

/*
 * rb_opts_parse - parse argv (--name value, --name=value, -h/--help and up to
 * three positionals) over the defaults already in *o.  Returns 0, or
 * RC_EINVAL after printing the reason to stderr.  String fields point into
 * argv (or at static defaults) and live as long as argv does.
 */
int rb_opts_parse(rb_opts *o, int argc, char **argv);

/*
 * rb_opts_churn - apply the churn preset (the option values --churn 1
 * stands for) over *o.  The caller re-parses argv afterwards so explicit
 * options win.  Never fails: the preset is made of valid values.
 */
void rb_opts_churn(rb_opts *o);

/* rb_opts_usage - print the usage text with every option, default and help. */
void rb_opts_usage(FILE *out);

/* rb_opts_json - write the options as JSON object member `key` of *j. */
void rb_opts_json(const rb_opts *o, rb_json *j, const char *key);

#endif
