/*
 * rc_events.c - the node's invalidation event log (see rc_events.h).
 *
 * The ring is an array of `capacity` slots; the event with sequence number
 * s lives in slot s % capacity, so the newest sequence number alone says
 * which events are still present: (newest - capacity, newest].  Each slot
 * owns one buffer holding the encoded frame followed by a copy of the
 * namespace name (for filtering without decoding); the buffer only grows,
 * so once every slot has held a large event, publishing never allocates.
 */
#include "rc_events.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "rc_alloc.h"

typedef struct rc__event_slot {
    uint64_t seq;
    uint8_t *buf; /* frame bytes, then the namespace name */
    uint32_t frame_len;
    uint32_t cap;
    uint8_t kind;
    uint8_t ns_len;
} rc__event_slot;

struct rc_events {
    pthread_mutex_t lock; /* protects everything below except the immutable fields */
    uint64_t last_seq;
    uint64_t bytes;
    rc__event_slot *slots;
    uint32_t capacity; /* immutable */
    uint64_t instance; /* immutable */
};

rc_events *rc_events_create(uint32_t capacity, uint64_t instance_id)
{
    rc_events *ev = rc_xcalloc(1, sizeof(*ev));
    pthread_mutex_init(&ev->lock, NULL);
    ev->capacity = capacity ? capacity : 1u;
    ev->instance = instance_id;
    ev->slots = rc_xcalloc(ev->capacity, sizeof(*ev->slots));
    return ev;
}

void rc_events_destroy(rc_events *ev)
{
    if (!ev)
        return;
    for (uint32_t i = 0; i < ev->capacity; i++)
        free(ev->slots[i].buf);
    free(ev->slots);
    pthread_mutex_destroy(&ev->lock);
    free(ev);
}

uint64_t rc_events_instance(const rc_events *ev)
{
    return ev->instance;
}

uint64_t rc_events_last_seq(rc_events *ev)
{
    pthread_mutex_lock(&ev->lock);
    uint64_t last = ev->last_seq;
    pthread_mutex_unlock(&ev->lock);
    return last;
}

/* Oldest sequence number still in the ring, given the newest (1 when nothing was dropped). */
static uint64_t oldest_locked(const rc_events *ev)
{
    return ev->last_seq > ev->capacity ? ev->last_seq - ev->capacity + 1u : 1u;
}

static void event_msg(const rc_events *ev, uint64_t seq, const rc_event *e, rc_msg *m)
{
    memset(m, 0, sizeof(*m));
    m->opcode = RC_OP_EVENT;
    m->hflags = RC_HF_PUSH;
    m->seq = seq;
    m->instance_id = ev->instance;
    m->ns_version = e->ns_version;
    m->kind = e->kind;
    m->mode = e->mode;
    m->ns = e->ns;
    m->key = e->key;
    m->tag = e->tag;
    m->text = e->text;
}

uint64_t rc_events_publish(rc_events *ev, const rc_event *e)
{
    pthread_mutex_lock(&ev->lock);
    uint64_t seq = ++ev->last_seq;
    rc__event_slot *slot = &ev->slots[seq % ev->capacity];
    rc_msg m;
    event_msg(ev, seq, e, &m);
    /* The caller's limits already bound every field, so encoding cannot fail
     * except by a programming error, which must not go unnoticed. */
    long size = rc_encoded_size(&m);
    if (size < 0)
        abort();
    size_t need = (size_t)size + e->ns.len;
    if (slot->cap < need) {
        ev->bytes += need - slot->cap;
        slot->buf = rc_xrealloc(slot->buf, need);
        slot->cap = (uint32_t)need;
    }
    rc_encode(&m, slot->buf, slot->cap);
    if (e->ns.len)
        memcpy(slot->buf + size, e->ns.ptr, e->ns.len);
    slot->seq = seq;
    slot->frame_len = (uint32_t)size;
    slot->kind = e->kind;
    slot->ns_len = (uint8_t)e->ns.len;
    pthread_mutex_unlock(&ev->lock);
    return seq;
}

bool rc_events_resume(rc_events *ev, uint64_t instance, uint64_t seq, uint64_t *next)
{
    pthread_mutex_lock(&ev->lock);
    uint64_t last = ev->last_seq;
    bool ok;
    if (instance == 0 && seq == 0) {
        /* A new subscriber starts with the next event. */
        seq = last;
        ok = true;
    } else {
        ok = instance == ev->instance && seq <= last && seq + 1u >= oldest_locked(ev);
    }
    *next = ok ? seq + 1u : last + 1u;
    pthread_mutex_unlock(&ev->lock);
    return ok;
}

int rc_events_copy(rc_events *ev, uint64_t *next, rc_events_filter filter, void *filter_ctx,
                   rc_events_sink sink, void *sink_ctx)
{
    int rc = 0;
    pthread_mutex_lock(&ev->lock);
    if (*next <= ev->last_seq && *next < oldest_locked(ev))
        rc = RC_ESLOW_CONSUMER;
    for (uint64_t s = *next; rc == 0 && s <= ev->last_seq; s++) {
        const rc__event_slot *slot = &ev->slots[s % ev->capacity];
        rc_slice ns = {slot->buf + slot->frame_len, slot->ns_len};
        if (filter(filter_ctx, slot->kind, ns) && !sink(sink_ctx, slot->buf, slot->frame_len))
            break;
        *next = s + 1u;
    }
    pthread_mutex_unlock(&ev->lock);
    return rc;
}

long rc_events_encode_signal(rc_events *ev, uint8_t kind, const char *text, uint8_t *buf,
                             size_t cap)
{
    rc_event e = {.kind = kind};
    rc_msg m;
    event_msg(ev, rc_events_last_seq(ev), &e, &m);
    m.text = rc_slice_str(text);
    return rc_encode(&m, buf, cap);
}

void rc_events_totals_get(rc_events *ev, rc_events_totals *out)
{
    pthread_mutex_lock(&ev->lock);
    out->published = ev->last_seq;
    out->oldest_seq = ev->last_seq ? oldest_locked(ev) : 0;
    out->bytes = ev->bytes + (uint64_t)ev->capacity * sizeof(rc__event_slot);
    pthread_mutex_unlock(&ev->lock);
}
