/*
 * rc_control.c - the control log ring (see rc_control.h).
 *
 * Layout.  `ring` holds capacity records; the record with sequence s sits
 * at index (s - 1) % capacity, so the ring holds sequences
 * newest - held + 1 .. newest.  The lock guards every field but the
 * immutable capacity.
 */
#define _POSIX_C_SOURCE 200809L
#include "rc_control.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "rc_alloc.h"

struct rc_control {
    pthread_mutex_t lock; /* leaf; guards ring, newest, held */
    rc_control_rec *ring; /* [capacity] */
    uint32_t capacity;
    uint32_t held;   /* records in the ring (<= capacity) */
    uint64_t newest; /* sequence of the newest record */
};

rc_control *rc_control_create(uint32_t capacity)
{
    rc_control *c = rc_xcalloc(1, sizeof(*c));
    c->capacity = capacity ? capacity : 1u;
    c->ring = rc_xcalloc(c->capacity, sizeof(*c->ring));
    pthread_mutex_init(&c->lock, NULL);
    return c;
}

void rc_control_destroy(rc_control *c)
{
    if (!c)
        return;
    pthread_mutex_destroy(&c->lock);
    free(c->ring);
    free(c);
}

uint64_t rc_control_append(rc_control *c, const rc_control_rec *r)
{
    pthread_mutex_lock(&c->lock);
    uint64_t seq = ++c->newest;
    rc_control_rec *slot = &c->ring[(seq - 1u) % c->capacity];
    *slot = *r;
    slot->seq = seq;
    if (c->held < c->capacity)
        c->held++;
    pthread_mutex_unlock(&c->lock);
    return seq;
}

/* rc__named - a record of kind with name copied in (truncated to 255 bytes, never longer). */
static rc_control_rec rc__named(uint8_t kind, rc_slice name)
{
    rc_control_rec r = {.kind = kind};
    r.name_len = (uint8_t)(name.len > RC_WIRE_MAX_NS ? RC_WIRE_MAX_NS : name.len);
    memcpy(r.name, name.ptr, r.name_len);
    return r;
}

uint64_t rc_control_version(rc_control *c, rc_slice ns, uint64_t version)
{
    rc_control_rec r = rc__named(RC_CONTROL_VERSION, ns);
    r.version = version;
    return rc_control_append(c, &r);
}

uint64_t rc_control_tag(rc_control *c, rc_slice tag, uint64_t hard, uint64_t any)
{
    rc_control_rec r = rc__named(RC_CONTROL_TAG, tag);
    r.hard = hard;
    r.any = any;
    return rc_control_append(c, &r);
}

uint64_t rc_control_suppress(rc_control *c, rc_slice ns, uint64_t item, uint64_t stamp,
                             bool suppressed, uint32_t ttl_ms)
{
    rc_control_rec r = rc__named(RC_CONTROL_SUPPRESS, ns);
    r.item = item;
    r.stamp = stamp;
    r.ttl_ms = ttl_ms;
    r.suppressed = suppressed ? 1u : 0u;
    return rc_control_append(c, &r);
}

int rc_control_read(rc_control *c, uint64_t after, rc_control_rec *out, size_t max, size_t *n,
                    uint64_t *newest)
{
    *n = 0;
    pthread_mutex_lock(&c->lock);
    *newest = c->newest;
    uint64_t oldest = c->newest - c->held + 1u; /* == newest + 1 when empty */
    if (after > c->newest || after + 1u < oldest) {
        pthread_mutex_unlock(&c->lock);
        return RC_EMISS;
    }
    for (uint64_t s = after + 1u; s <= c->newest && *n < max; s++)
        out[(*n)++] = c->ring[(s - 1u) % c->capacity];
    pthread_mutex_unlock(&c->lock);
    return 0;
}

void rc_control_totals_get(rc_control *c, rc_control_totals *out)
{
    pthread_mutex_lock(&c->lock);
    out->newest = c->newest;
    out->oldest = c->held ? c->newest - c->held + 1u : 0;
    out->capacity = c->capacity;
    pthread_mutex_unlock(&c->lock);
}
