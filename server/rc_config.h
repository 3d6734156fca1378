/*
 * rc_config.h - the server's configuration: one table of options, parsed
 * from the command line and an optional config file.
 *
 * Design.  Every option is one row of RC_CONFIG_OPTIONS: its struct field,
 * its name (the same for `--name VALUE`, `--name=VALUE` and a `name = value`
 * file line), its kind, its default as text, its bounds and its help.  The
 * struct, the defaults, the parser, the bounds check and `--help` are all
 * generated from that row, so an option is added in exactly one place.
 *
 * Defaults are applied by parsing their text with the same code as user
 * input, so a default can never drift from what the parser accepts.
 *
 * Precedence: defaults < config file < command-line flags.  The config file
 * may also hold `namespace NAME setting=value ...` lines; they are kept as
 * text in rc_config and applied to the store at startup
 * (rc_store_ns_configure), which owns the meaning of each setting.
 *
 * Everything here is pure apart from rc_config_load_file (which reads a
 * file), rc_config_resolve_bind (which asks the resolver) and the writers
 * rc_config_usage / _write_example / _write_man (which write to a stream); failures are
 * reported as RC_EINVAL plus a sentence in the caller's err buffer, never by
 * printing or exiting, so the whole module is unit-testable.
 */
#ifndef RECACHE_RC_CONFIG_H
#define RECACHE_RC_CONFIG_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define RC_KB ((uint64_t)1 << 10)
#define RC_MB ((uint64_t)1 << 20)
#define RC_GB ((uint64_t)1 << 30)
#define RC_TB ((uint64_t)1 << 40)

/*
 * Kinds: UINT (decimal integer), SIZE (bytes, with an optional kb/mb/gb/tb
 * suffix, case-insensitive, powers of 1024), STRING (free text; checked by
 * rc_config_validate), LEVEL (a log level name).
 *
 * X(field, "name", KIND, "default", min, max, "help").  min/max bound UINT
 * and SIZE values and are ignored for the other kinds.
 */
#define RC_CONFIG_OPTIONS(X)                                                                       \
    X(bind, "bind", STRING, "127.0.0.1", 0, 0, "address (IPv4, IPv6 or a host name) to listen on") \
    X(port, "port", UINT, "7400", 0, 65535, "TCP port to listen on (0 = pick a free port)")        \
    X(threads, "threads", UINT, "0", 0, 1024, "worker threads (0 = one per core)")                 \
    X(memory, "memory", SIZE, "1gb", RC_MB, RC_TB,                                                 \
      "memory limit for cached entries (e.g. 512kb, 64mb, 1gb or plain bytes)")                    \
    X(shards, "shards", UINT, "0", 0, 4096, "store shards, a power of two (0 = auto)")             \
    X(max_frame, "max-frame", SIZE, "2mb", 8 * RC_KB, RC_GB,                                       \
      "largest request frame accepted (must be >= max-value + max-key + 4096)")                    \
    X(max_key, "max-key", UINT, "250", 1, 65535, "longest key accepted, in bytes")                 \
    X(max_value, "max-value", SIZE, "1mb", 1, RC_GB, "largest value accepted")                     \
    X(max_namespace, "max-namespace", UINT, "64", 1, 255, "longest namespace name, in bytes")      \
    X(max_tags, "max-tags", UINT, "32", 0, 255, "most tags on one entry")                          \
    X(max_tag_len, "max-tag-len", UINT, "128", 1, 255, "longest tag, in bytes")                    \
    X(max_namespaces, "max-namespaces", UINT, "1024", 1, 1000000,                                  \
      "most namespaces that may exist at once")                                                    \
    X(max_connections, "max-connections", UINT, "10000", 1, 1000000,                               \
      "most client connections open at once; more are refused with SERVER_BUSY")                   \
    X(max_output, "max-output", SIZE, "64mb", 64 * RC_KB, 64 * RC_GB,                              \
      "per-connection output buffer limit; reading pauses above it (must be >= max-frame)")        \
    X(tombstone_ms, "tombstone-ms", UINT, "30000", 0, 86400000,                                    \
      "how long a delete remembers a versioned entry's version, in ms")                            \
    X(lease_ms, "lease-ms", UINT, "5000", 1, 3600000,                                              \
      "lifetime of a lease granted by LGET, in ms (a dead lease holder blocks a key this long)")   \
    X(max_waiters, "max-waiters", UINT, "100000", 0, UINT32_MAX,                                   \
      "LGET requests parked waiting for a fill across the node (0 = never park)")                  \
    X(max_waiters_key, "max-waiters-key", UINT, "10000", 0, UINT32_MAX,                            \
      "LGET requests parked waiting for the fill of one key")                                      \
    X(max_wait_ms, "max-wait-ms", UINT, "60000", 1, 3600000,                                       \
      "longest an LGET may stay parked, in ms (a request's wait_ms is clamped to it)")             \
    X(event_ring, "event-ring", UINT, "65536", 16, 16777216,                                       \
      "invalidation events remembered for subscribers that reconnect (replay window)")             \
    X(heartbeat_ms, "heartbeat-ms", UINT, "1000", 10, 600000,                                      \
      "interval of HEARTBEAT events to subscribers, in ms")                                        \
    X(max_subscriber_output, "max-subscriber-output", SIZE, "8mb", 64 * RC_KB, 64 * RC_GB,         \
      "unsent event bytes a subscriber may fall behind by before it is cut off")                   \
    X(log_level, "log-level", LEVEL, "info", 0, 0, "log verbosity: error, warn, info or debug")    \
    X(config, "config", STRING, "", 0, 0,                                                          \
      "config file of 'name = value' and 'namespace NAME k=v ...' lines (flags override it)")      \
    X(max_output_total, "max-output-total", SIZE, "256mb", RC_MB, RC_TB,                           \
      "node-wide limit on unsent output of all connections; over it, a connection with unsent "    \
      "output stops reading until that output is written (must be >= max-output)")                 \
    X(write_timeout_ms, "write-timeout-ms", UINT, "30000", 0, 86400000,                            \
      "close a connection whose unsent output made no write progress for this long, in ms "        \
      "(0 = never)")                                                                               \
    X(worker_yield_us, "worker-yield-us", UINT, "200", 0, 1000000,                                 \
      "a worker that has run this long (microseconds) without waiting for input lets other "       \
      "runnable threads go first (sched_yield), so on cores shared with clients it runs in short " \
      "turns instead of long slices that stall its connections (0 = never)")                       \
    X(eviction, "eviction", STRING, "clock", 0, 0,                                                 \
      "eviction policy: clock (default) or sieve (NSDI 2024; fewer misses on skewed traces)")      \
    X(event_ring_bytes, "event-ring-bytes", SIZE, "16mb", RC_MB, 64 * RC_GB,                       \
      "encoded event bytes the event ring may hold (outside --memory); the oldest events are "     \
      "dropped beyond it, as beyond event-ring")                                                   \
    X(peers, "peers", STRING, "", 0, 0,                                                            \
      "the other cluster nodes' data ports, HOST:PORT,... ([ADDR]:PORT for IPv6): this node "      \
      "pulls their namespace versions and tag invalidations (PEER_SYNC) and merges them")          \
    X(gossip_ms, "gossip-ms", UINT, "1000", 10, 600000,                                            \
      "how often each peer is pulled, in ms; also an exchange's I/O timeout (at least 100 ms)")    \
    X(control_log, "control-log", UINT, "16384", 16, 1048576,                                      \
      "control records (version moves, tag invalidations) kept for peers to pull; a peer "         \
      "further behind takes a full snapshot (about 300 bytes each, outside --memory)")             \
    X(max_list_items, "max-list-items", UINT, "1000", 1, 1000000, "most items in one list value")  \
    X(max_exclude, "max-exclude", UINT, "256", 0, 8191,                                            \
      "most item ids in one list read's exclude set")                                              \
    X(max_suppressed, "max-suppressed", UINT, "100000", 0, 10000000,                               \
      "most item ids one namespace may suppress at once (counted in --memory)")                    \
    X(protected_mode, "protected-mode", STRING, "yes", 0, 0,                                       \
      "yes: when bound to a non-loopback address, accept data-port clients from loopback only")    \
    X(data_port_admin_ops, "data-port-admin-ops", STRING, "yes", 0, 0,                             \
      "no: FLUSH and NS_CONFIG on the data port answer FORBIDDEN (use the admin port)")            \
    X(admin_port, "admin-port", UINT, "7443", 0, 65535,                                            \
      "HTTPS admin port (mutual TLS); started when admin-cert, admin-key and admin-ca are set "    \
      "(0 = disabled)")                                                                            \
    X(admin_bind, "admin-bind", STRING, "127.0.0.1", 0, 0, "address the admin port listens on")    \
    X(admin_cert, "admin-cert", STRING, "", 0, 0, "admin port: server certificate (PEM file)")     \
    X(admin_key, "admin-key", STRING, "", 0, 0, "admin port: server private key (PEM file)")       \
    X(admin_ca, "admin-ca", STRING, "", 0, 0,                                                      \
      "admin port: CA certificate(s) (PEM file) that must sign every client certificate")          \
    X(admin_allow_subject, "admin-allow-subject", STRING, "", 0, 0,                                \
      "admin port: ';'-separated client subjects allowed (full DN or CN=name; empty = any "        \
      "certificate signed by admin-ca)")                                                           \
    X(admin_max_connections, "admin-max-connections", UINT, "32", 1, 10000,                        \
      "admin port: most connections open at once; more are closed at once")                        \
    X(admin_handshake_timeout_ms, "admin-handshake-timeout-ms", UINT, "5000", 100, 600000,         \
      "admin port: close a connection whose TLS handshake is not done in this many ms")            \
    X(admin_request_timeout_ms, "admin-request-timeout-ms", UINT, "10000", 100, 600000,            \
      "admin port: close a connection that does not complete a request this many ms after "        \
      "its handshake or its previous response (slow or idle clients)")                             \
    X(admin_max_request, "admin-max-request", SIZE, "64kb", RC_KB, 16 * RC_MB,                     \
      "admin port: largest HTTP request (line, headers and body) accepted")

/* C type stored for each kind. */
#define RC__CFG_TYPE_UINT   uint64_t
#define RC__CFG_TYPE_SIZE   uint64_t
#define RC__CFG_TYPE_STRING char *
#define RC__CFG_TYPE_LEVEL  int

/* One `namespace NAME settings...` line of the config file. */
typedef struct rc_config_ns {
    char *name;     /* namespace name (owned) */
    char *settings; /* the rest of the line, "k=v k=v" (owned; may be empty) */
    unsigned line;  /* line number in the file, for error messages */
} rc_config_ns;

typedef struct rc_config {
#define RC__CFG_FIELD(field, name, kind, def, lo, hi, help) RC__CFG_TYPE_##kind field;
    RC_CONFIG_OPTIONS(RC__CFG_FIELD)
#undef RC__CFG_FIELD
    rc_config_ns *namespaces; /* owned array */
    size_t nnamespaces;
    char *cli_path; /* how the ready line names recache-cli (owned; NULL = "recache-cli") */
} rc_config;

/* What the command line asks for besides configuring the server. */
typedef enum rc_config_action {
    RC_CONFIG_RUN = 0,
    RC_CONFIG_HELP,    /* --help: print rc_config_usage and exit 0 */
    RC_CONFIG_VERSION, /* --version: print the version and exit 0 */
} rc_config_action;

/* rc_config_init - fill cfg with every default.  cfg owns its strings; free with rc_config_free. */
void rc_config_init(rc_config *cfg);

/* rc_config_free - release everything cfg owns; cfg may be re-initialised afterwards. */
void rc_config_free(rc_config *cfg);

/*
 * rc_config_set - set option `name` from its text form.  Returns 0, or
 * RC_EINVAL with a sentence in err (unknown option, malformed value, value
 * out of the option's bounds); on failure cfg is unchanged.
 */
int rc_config_set(rc_config *cfg, const char *name, const char *value, char *err, size_t errlen);

/*
 * rc_config_parse_size - "64mb", "1GB", "512kb", "100b", "4096": a byte
 * count with an optional k/kb/m/mb/g/gb/t/tb/b suffix (case-insensitive,
 * powers of 1024).  Returns 0, or RC_EINVAL for anything else, including
 * overflow of 64 bits.
 */
int rc_config_parse_size(const char *text, uint64_t *out);

/* rc_config_parse_uint - a plain decimal integer (no sign, no suffix).  0 or RC_EINVAL. */
int rc_config_parse_uint(const char *text, uint64_t *out);

/*
 * rc_config_parse_text - apply config-file text (len bytes, need not be
 * NUL-terminated): `name = value` lines, `namespace NAME k=v ...` lines,
 * blank lines and `#` comments (to the end of the line).  `config` may not
 * be set from a file.  source names the file in error messages
 * ("FILE:LINE: ...").  Returns 0 or RC_EINVAL; on failure, options set by
 * earlier lines stay set (the caller exits anyway).
 */
int rc_config_parse_text(rc_config *cfg, const char *text, size_t len, const char *source,
                         char *err, size_t errlen);

/* rc_config_load_file - read the file at path and rc_config_parse_text it.  0 or RC_EINVAL. */
int rc_config_load_file(rc_config *cfg, const char *path, char *err, size_t errlen);

/*
 * rc_config_parse_args - apply a command line (argv[0] is skipped): first the
 * file named by --config, if any, then every `--name VALUE` / `--name=VALUE`
 * flag in order, so flags override the file.  --help and --version set
 * *action and win over everything else: nothing is applied and no file is
 * read (only the flag syntax is checked).  Returns 0 or RC_EINVAL (unknown
 * flag, missing value, stray argument, bad value, bad file).
 */
int rc_config_parse_args(rc_config *cfg, int argc, char **argv, rc_config_action *action, char *err,
                         size_t errlen);

/*
 * rc_config_validate - cross-option checks: bind is an IPv4/IPv6 literal,
 * shards a power of two, max-frame >= max-value + max-key + 4096,
 * max-output >= max-frame, max-output-total >= max-output, namespace lines within max-namespace and
 * max-namespaces.  Returns 0 or RC_EINVAL with a sentence in err.
 */
int rc_config_validate(const rc_config *cfg, char *err, size_t errlen);

/*
 * rc_config_resolve_bind - turn a host name in bind ("localhost") into the
 * address literal the server listens on: its first IPv4 address, else its
 * first IPv6 one.  A literal is left as it is.  Reads the resolver
 * (getaddrinfo), so call it before rc_config_validate.  Returns 0, or
 * RC_EINVAL with a sentence in err when the name does not resolve.
 */
int rc_config_resolve_bind(rc_config *cfg, char *err, size_t errlen);

/* Workers allowed per CPU, and at least this many on any machine (rc_config_check_machine). */
#define RC_CONFIG_THREADS_PER_CPU 8
#define RC_CONFIG_THREADS_FLOOR   16

/*
 * rc_config_check_machine - refuse settings this machine cannot honour:
 * memory above its physical memory (phys_bytes; 0 = unknown, not checked)
 * and more worker threads than RC_CONFIG_THREADS_PER_CPU per CPU (cpus;
 * at least RC_CONFIG_THREADS_FLOOR), which only adds switching.  Pure: the
 * caller passes what the machine has.  Returns 0 or RC_EINVAL with a
 * sentence in err.
 */
int rc_config_check_machine(const rc_config *cfg, uint64_t phys_bytes, unsigned cpus, char *err,
                            size_t errlen);

/* rc_config_usage - print usage and every option (name, default, help) to out. */
void rc_config_usage(FILE *out, const char *prog);

/*
 * rc_config_write_example - write a sample config file to out: every option
 * a file may set, with its help and its default, commented out (so the file
 * as written configures nothing but the defaults), and an example
 * `namespace` line.  rc_config_parse_text accepts the text, and accepts it
 * with every option line uncommented too (test_config checks both).
 */
void rc_config_write_example(FILE *out);

/*
 * rc_config_write_man - write the recache-server(1) manual page (roff) to
 * out: synopsis, every option of the table with its default and help, the
 * config file, signals, exit statuses.  version goes into the title line.
 */
void rc_config_write_man(FILE *out, const char *version);

#endif /* RECACHE_RC_CONFIG_H */
