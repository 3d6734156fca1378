/*
 * rc_l1_int.h - private interface between the L1 near-cache (rc_l1.c) and
 * its subscription channel (rc_sub.c).
 *
 * Design.  One struct rc_l1 holds both halves.  rc_l1.c owns the cache
 * (hash table, LRU list, invalidation counters, statistics) and exposes
 * "apply this event" / "the channel (dis)connected" entry points; rc_sub.c
 * owns the channel thread, its connection and the self-pipe that wakes it.
 * Everything shared between the application's threads and the channel
 * thread is guarded by one mutex, `mu`; it is never held across I/O or a
 * call into the client library.
 */
#ifndef RECACHE_RC_L1_INT_H
#define RECACHE_RC_L1_INT_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#include "rc_client_int.h"

/* Buckets of the "last invalidation" array used by the fill race rule (power of two). */
#define RC__L1_GEN_BUCKETS 256u

typedef struct rc__l1_entry rc__l1_entry;

/* One cached value (rc_l1.c); a list's value is its items in wire encoding (rc_l1_list.c). */
struct rc__l1_entry {
    rc__l1_entry *hnext;       /* hash chain */
    rc__l1_entry *prev, *next; /* LRU list */
    uint64_t hash;
    uint64_t ns_version;
    uint64_t entry_version;
    uint64_t expires_ms; /* monotonic */
    uint32_t flags;
    int tags_known;
    int is_list; /* the value is a list: only list reads see it */
    size_t ntags;
    char *tags;    /* ntags NUL-terminated strings back to back, or NULL */
    size_t charge; /* bytes counted against max_bytes */
    size_t ns_len, key_len, value_len;
    uint8_t data[]; /* ns, key, value (+ NUL) */
};

struct rc_l1 {
    /* Immutable after rc_l1_open. */
    char *host;
    uint16_t port;
    char **namespaces; /* NULL when subscribed to all */
    size_t n_namespaces;
    size_t max_entries;
    size_t max_bytes;
    uint32_t max_ttl_ms;
    uint32_t health_timeout_ms;
    uint32_t connect_timeout_ms;
    uint32_t io_timeout_ms;

    /*
     * mu guards every field below.  Lock order: mu is a leaf; nothing else
     * is taken while holding it.  applied_cv is signalled (broadcast) when
     * applied_seq moves or the L1 closes; ctl_cv when paused/stopping change.
     */
    pthread_mutex_t mu;
    pthread_cond_t applied_cv;
    pthread_cond_t ctl_cv;

    /* The cache: chained hash table plus an LRU list (head = most recent). */
    rc__l1_entry **table;
    size_t table_size; /* power of two */
    rc__l1_entry *lru_head;
    rc__l1_entry *lru_tail;
    size_t entries;
    size_t bytes;

    /*
     * Fill race rule: gen counts applied invalidations; bucket_gen[b] is the
     * gen of the last KEY event for a key of bucket b; global_gen the gen of
     * the last TAG/BUMP/FLUSH/RESYNC (or local flush).  Local counters, not
     * node sequence numbers, so a node restart cannot make them go back.
     */
    uint64_t gen;
    uint64_t global_gen;
    uint64_t bucket_gen[RC__L1_GEN_BUCKETS];

    /* Channel state, written by the channel thread. */
    int connected;          /* subscribed and reading */
    int ever_subscribed;    /* a first subscription happened (reconnect counting) */
    int expect_resync;      /* a new instance id was seen: the RESYNC event that follows is known */
    uint64_t applied_seq;   /* newest node sequence number applied */
    uint64_t caught_up_seq; /* node seq at subscription: healthy only once applied */
    uint64_t instance_id;
    uint64_t last_rx_ms; /* when the last frame arrived */

    /* Control, written by the application (pause/resume/close). */
    int paused;
    int stopping;

    /* Statistics (rc_l1_stats). */
    uint64_t hits, misses, invalidations, resyncs, flushes, reconnects, events;

    /* Channel thread and its self-pipe (rc_sub.c): wake[0] is polled, wake[1] written. */
    int wake[2];
    pthread_t thread;
    int thread_started;
};

/*
 * rc__l1_apply_event - apply one event from the channel (any kind; heartbeat
 * and closing only refresh liveness).  Takes mu.  Never fails.
 */
RC__INTERNAL void rc__l1_apply_event(rc_l1 *l1, const rc_event *ev);

/*
 * rc__l1_subscribed - the channel subscribed and the node answered
 * (node_seq, node_instance).  A different instance id than the one the
 * L1's sequence numbers came from drops the whole L1.  Takes mu.
 */
RC__INTERNAL void rc__l1_subscribed(rc_l1 *l1, uint64_t node_seq, uint64_t node_instance);

/* rc__l1_remove_locked - unlink e from the table and the LRU list and free it.  mu held. */
RC__INTERNAL void rc__l1_remove_locked(rc_l1 *l1, rc__l1_entry *e);

/*
 * rc__l1_apply_ids_locked (rc_l1_list.c) - a SUPPRESS event removes its
 * item ids from every cached list of its namespace in place; UNSUPPRESS
 * drops the namespace's cached lists.  Both count as a global invalidation
 * for the fill race rule (fills in flight read before it).  mu held.
 */
RC__INTERNAL void rc__l1_apply_ids_locked(rc_l1 *l1, const rc_event *ev);

/*
 * rc__l1_get_kind (rc_l1.c) - rc_l1_get for a byte value (is_list 0) or a
 * whole list (is_list 1: out->data holds wire items, read with
 * rc__list_get_value).  A cached entry of the other kind is a miss.
 */
RC__INTERNAL int rc__l1_get_kind(rc_l1 *l1, rc_client *c, int is_list, const char *ns,
                                 const void *key, size_t key_len, rc_value *out);

/* rc__l1_disconnected - the channel lost its connection (the L1 turns unhealthy).  Takes mu. */
RC__INTERNAL void rc__l1_disconnected(rc_l1 *l1);

/* rc__l1_resume_point - the (seq, instance) a new subscription resumes from.  Takes mu. */
RC__INTERNAL void rc__l1_resume_point(rc_l1 *l1, uint64_t *seq, uint64_t *instance);

/*
 * rc__sub_start - create the self-pipe and start the channel thread.
 * 0 or RC_ENOMEM (no thread then).  rc__sub_stop - set stopping, wake and
 * join the thread, close the pipe (safe when start failed).  rc__sub_wake -
 * make the thread re-examine paused/stopping (called with or without mu).
 */
RC__INTERNAL int rc__sub_start(rc_l1 *l1);
RC__INTERNAL void rc__sub_stop(rc_l1 *l1);
RC__INTERNAL void rc__sub_wake(rc_l1 *l1);

#endif /* RECACHE_RC_L1_INT_H */
