/*
 * rc_events.c - the node's invalidation event log (see rc_events.h).
 *
 * Layout.  Events live in two fixed structures allocated at creation:
 *
 *   - an array of `capacity` slots; the event with sequence number s uses
 *     slot s % capacity, which records where its bytes are;
 *   - a byte arena of `max_bytes` holding, per event, the encoded frame
 *     followed by a copy of the namespace name (for filtering without
 *     decoding), contiguously.
 *
 * Arena positions are virtual: a running byte count `vpos` that only grows;
 * the physical offset is vpos % max_bytes.  An event that would straddle
 * the arena's end starts at the next multiple of max_bytes instead (the
 * skipped tail is padding).  The events held are the sequence numbers
 * [oldest_seq, last_seq] and occupy the virtual range from the oldest
 * event's vpos to head_vpos, so "the new event fits" is one comparison:
 * new_end - oldest_vpos <= max_bytes.  Publishing drops oldest events until
 * that holds and fewer than `capacity` events remain, then writes.  Nothing
 * is allocated after creation, and the bytes held never pass max_bytes.
 *
 * Early laps.  The arena's pages become resident as they are first written.
 * When `capacity` is the tighter bound (small events: a million SETs of short
 * keys hold a few MB of a 16 MB arena), running on to the arena's end would
 * make all of it resident for nothing.  So a new event starts the next lap
 * early as soon as the space before the oldest event holds everything held
 * plus the new event: that drops no event, and the written part of the arena
 * settles at about twice the bytes held.  The price: if events then grow to
 * more than twice the size of those held, the lap they are written in may
 * drop events before either bound requires, once; subscribers that far
 * behind resynchronise, as they would past a bound.
 *
 * Locking.  `lock` guards every mutable field (and the arena's bytes); the
 * fields marked immutable are set before the ring is shared.  It is a leaf
 * lock (rc_events.h).
 */
#include "rc_events.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "rc_alloc.h"

typedef struct rc__event_slot {
    uint64_t vpos;      /* virtual arena position of the frame */
    uint32_t frame_len; /* encoded frame bytes; the namespace copy follows */
    uint8_t kind;
    uint8_t ns_len;
} rc__event_slot;

struct rc_events {
    pthread_mutex_t lock; /* guards everything below except the immutable fields */
    uint64_t last_seq;    /* newest event published (0 before the first) */
    uint64_t oldest_seq;  /* oldest event held; last_seq + 1 when none is */
    uint64_t head_vpos;   /* virtual arena position just past the newest event */
    uint64_t held_bytes;  /* frame + namespace bytes of the events held */
    size_t touched;       /* arena bytes ever written: its resident part */
    rc__event_slot *slots;
    uint8_t *arena;
    size_t max_bytes;  /* immutable: arena size */
    uint32_t capacity; /* immutable */
    uint64_t instance; /* immutable */
};

rc_events *rc_events_create(uint32_t capacity, size_t max_bytes, uint64_t instance_id)
{
    rc_events *ev = rc_xcalloc(1, sizeof(*ev));
    pthread_mutex_init(&ev->lock, NULL);
    ev->capacity = capacity ? capacity : 1u;
    ev->max_bytes = max_bytes > RC_EVENTS_MIN_BYTES ? max_bytes : RC_EVENTS_MIN_BYTES;
    ev->instance = instance_id;
    ev->oldest_seq = 1;
    ev->slots = rc_xcalloc(ev->capacity, sizeof(*ev->slots));
    ev->arena = rc_xmalloc(ev->max_bytes); /* untouched pages cost no resident memory */
    return ev;
}

void rc_events_destroy(rc_events *ev)
{
    if (!ev)
        return;
    free(ev->arena);
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

static void rc__event_msg(const rc_events *ev, uint64_t seq, const rc_event *e, rc_msg *m)
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

/* Drop the oldest event held. */
static void rc__drop_oldest_locked(rc_events *ev)
{
    const rc__event_slot *slot = &ev->slots[ev->oldest_seq % ev->capacity];
    ev->held_bytes -= (uint64_t)slot->frame_len + slot->ns_len;
    ev->oldest_seq++;
}

/*
 * rc__early_lap_locked - where an event of `need` bytes that fits at `start`
 * (nothing more to drop) should go: the start of the next lap when the
 * events held do not wrap yet and the space before the oldest one holds them
 * all plus the new event (see "Early laps" above), else `start`.
 */
static uint64_t rc__early_lap_locked(const rc_events *ev, uint64_t start, size_t need)
{
    if (ev->oldest_seq > ev->last_seq)
        return start;
    uint64_t tail = ev->slots[ev->oldest_seq % ev->capacity].vpos;
    size_t tail_phys = (size_t)(tail % ev->max_bytes);
    uint64_t lap_end = tail - tail_phys + ev->max_bytes;
    if (start + need <= lap_end && tail_phys >= start - tail + need)
        return lap_end;
    return start;
}

/*
 * Make room for an event of `need` bytes: drop oldest events until it fits
 * after the newest one (or at the start of the next lap of the arena, if it
 * would straddle the end) and fewer than `capacity` events are held.
 * Returns the new event's virtual position.
 */
static uint64_t rc__reserve_locked(rc_events *ev, size_t need)
{
    uint64_t start = ev->head_vpos;
    size_t phys = (size_t)(start % ev->max_bytes);
    if (phys + need > ev->max_bytes)
        start += ev->max_bytes - phys;
    while (ev->oldest_seq <= ev->last_seq) {
        uint64_t held = ev->last_seq - ev->oldest_seq + 1u;
        uint64_t tail = ev->slots[ev->oldest_seq % ev->capacity].vpos;
        if (held < ev->capacity && start + need - tail <= ev->max_bytes)
            break;
        rc__drop_oldest_locked(ev);
    }
    return rc__early_lap_locked(ev, start, need);
}

uint64_t rc_events_publish(rc_events *ev, const rc_event *e)
{
    rc_msg m;
    pthread_mutex_lock(&ev->lock);
    uint64_t seq = ev->last_seq + 1u;
    rc__event_msg(ev, seq, e, &m);
    /* The caller's limits already bound every field (and RC_EVENTS_MIN_BYTES holds the largest
     * event), so neither can fail except by a programming error, which must not go unnoticed. */
    long size = rc_encoded_size(&m);
    if (size < 0 || (size_t)size + e->ns.len > ev->max_bytes)
        abort();
    size_t need = (size_t)size + e->ns.len;
    uint64_t vpos = rc__reserve_locked(ev, need);
    size_t phys = (size_t)(vpos % ev->max_bytes);
    uint8_t *dst = ev->arena + phys;
    if (phys + need > ev->touched)
        ev->touched = phys + need;
    rc_encode(&m, dst, (size_t)size);
    if (e->ns.len)
        memcpy(dst + size, e->ns.ptr, e->ns.len);
    rc__event_slot *slot = &ev->slots[seq % ev->capacity];
    slot->vpos = vpos;
    slot->frame_len = (uint32_t)size;
    slot->kind = e->kind;
    slot->ns_len = (uint8_t)e->ns.len;
    ev->last_seq = seq;
    ev->head_vpos = vpos + need;
    ev->held_bytes += need;
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
        ok = instance == ev->instance && seq <= last && seq + 1u >= ev->oldest_seq;
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
    if (*next <= ev->last_seq && *next < ev->oldest_seq)
        rc = RC_ESLOW_CONSUMER;
    for (uint64_t s = *next; rc == 0 && s <= ev->last_seq; s++) {
        const rc__event_slot *slot = &ev->slots[s % ev->capacity];
        const uint8_t *frame = ev->arena + slot->vpos % ev->max_bytes;
        rc_slice ns = {frame + slot->frame_len, slot->ns_len};
        if (filter(filter_ctx, slot->kind, ns) && !sink(sink_ctx, frame, slot->frame_len))
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
    rc__event_msg(ev, rc_events_last_seq(ev), &e, &m);
    m.text = rc_slice_str(text);
    return rc_encode(&m, buf, cap);
}

void rc_events_totals_get(rc_events *ev, rc_events_totals *out)
{
    pthread_mutex_lock(&ev->lock);
    out->published = ev->last_seq;
    out->oldest_seq = ev->oldest_seq <= ev->last_seq ? ev->oldest_seq : 0;
    out->events = ev->last_seq + 1u - ev->oldest_seq;
    out->bytes = ev->held_bytes;
    out->max_bytes = ev->max_bytes;
    out->memory = ev->max_bytes + (uint64_t)ev->capacity * sizeof(rc__event_slot);
    out->touched = ev->touched;
    pthread_mutex_unlock(&ev->lock);
}
