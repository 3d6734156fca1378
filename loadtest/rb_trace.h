/*
 * rb_trace.h - key traces: generate one, simulate CLOCK over one, replay
 * one against a server.
 *
 * Design.  A trace is text, one unsigned integer key per line, so it can be
 * produced or inspected with ordinary tools.  The reference simulator is a
 * textbook CLOCK over a fixed number of entries: a hit sets the entry's
 * reference bit (an insert does not), and on a miss with the cache full the
 * hand clears set bits and evicts the first entry whose bit is clear.  The
 * replay drives a real server single-threaded (get, then set on a miss) and
 * reads the server's entry count afterwards, which is the capacity to give
 * the simulator so both see the same cache size.
 */
#ifndef RB_TRACE_H
#define RB_TRACE_H

#include <stdint.h>
#include <stdio.h>

typedef struct rb_trace {
    uint64_t *keys;
    size_t n;
} rb_trace;

/* rb_trace_load - read a trace file; 0, RC_EIO (unreadable), RC_EINVAL (a bad line) or RC_ENOMEM.
 */
int rb_trace_load(const char *path, rb_trace *t);
void rb_trace_free(rb_trace *t);

/* rb_trace_generate - write count Zipf(alpha) keys over 0..keys-1 to out. 0 or an RC_E* code. */
int rb_trace_generate(FILE *out, uint64_t keys, uint64_t count, double alpha, uint64_t seed);

/* Result of a CLOCK simulation or a replay. */
typedef struct rb_trace_result {
    uint64_t requests, misses;
    double miss_ratio;
} rb_trace_result;

/* rb_clock_sim - run CLOCK with `capacity` entries over the trace. 0 or RC_ENOMEM / RC_EINVAL. */
int rb_clock_sim(const rb_trace *t, uint64_t capacity, rb_trace_result *res);

/*
 * rb_sieve_sim - run SIEVE (NSDI 2024) with `capacity` entries over the
 * trace: a FIFO queue, new keys at the head, a hit sets a visited bit, and
 * the hand moves from the tail toward the head, clearing visited bits and
 * evicting the first unvisited key in place (nothing is moved).  0 or
 * RC_ENOMEM / RC_EINVAL.
 */
int rb_sieve_sim(const rb_trace *t, uint64_t capacity, rb_trace_result *res);

/* Server-side figures read after a replay. */
typedef struct rb_replay_info {
    long long entries, bytes_used, bytes_limit;
} rb_replay_info;

/*
 * rb_replay - replay the trace against a recache server at host:port in
 * namespace ns, with values of `items` items.  Blocking, one connection.
 * Returns 0 with *res and *info filled, or an RC_E* code.
 */
int rb_replay(const rb_trace *t, const char *host, int port, const char *ns, uint32_t items,
              rb_trace_result *res, rb_replay_info *info);

#endif
