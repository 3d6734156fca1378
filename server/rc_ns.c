/*
 * rc_ns.c - the namespace registry, settings parser and reports.
 *
 * Registry layout.  by_id[] maps ids to namespaces (ids are handed out in
 * creation order, so by_id[0..count) is filled).  slots[] is an
 * open-addressing (linear probing) table of the same pointers keyed by the
 * SipHash of the name, with capacity a power of two at least twice max, so a
 * probe always ends at a NULL slot.  Both arrays are written only under
 * create_lock, each pointer once, with a release store after the namespace
 * is fully initialised; readers use acquire loads and no lock.  Nothing is
 * removed before destroy, so a reader can never see a freed namespace.
 */
#include "rc_ns.h"

#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rc_alloc.h"
#include "recache/rc_errors.h"

struct rc_ns_registry {
    pthread_mutex_t create_lock; /* serialises creation; lookups take no lock */
    rc_hash_key seed;
    uint32_t max;
    _Atomic uint32_t count;
    _Atomic(rc_ns *) *by_id; /* [max] */
    _Atomic(rc_ns *) *slots; /* [slot_mask + 1] */
    uint32_t slot_mask;
};

typedef struct rc__ns_setting_def {
    const char *name;
    uint64_t def, min, max;
    const char *help;
} rc__ns_setting_def;

static const rc__ns_setting_def rc__settings[RC_NS_NSETTINGS] = {
#define RC__NS_SET_ROW(id, name, def, lo, hi, help) {name, def, lo, hi, help},
    RC_NS_SETTINGS(RC__NS_SET_ROW)
#undef RC__NS_SET_ROW
};

static const char *const rc__counter_names[RC_NS_NCOUNTERS] = {
#define RC__NS_CTR_ROW(id, name, help) name,
    RC_NS_COUNTERS(RC__NS_CTR_ROW)
#undef RC__NS_CTR_ROW
};

int rc_ns_registry_create(uint32_t max, const rc_hash_key *seed, rc_ns_registry **out)
{
    *out = NULL;
    if (max == 0 || max > RC_NS_MAX_IDS)
        return RC_EINVAL;
    rc_ns_registry *reg = rc_xcalloc(1, sizeof(*reg));
    uint32_t nslots = 2;
    while (nslots < 2u * max)
        nslots *= 2u;
    pthread_mutex_init(&reg->create_lock, NULL);
    reg->seed = *seed;
    reg->max = max;
    reg->by_id = rc_xcalloc(max, sizeof(*reg->by_id));
    reg->slots = rc_xcalloc(nslots, sizeof(*reg->slots));
    reg->slot_mask = nslots - 1u;
    *out = reg;
    return 0;
}

void rc_ns_registry_destroy(rc_ns_registry *reg)
{
    if (!reg)
        return;
    uint32_t n = atomic_load_explicit(&reg->count, memory_order_relaxed);
    for (uint32_t i = 0; i < n; i++)
        free(atomic_load_explicit(&reg->by_id[i], memory_order_relaxed)->alloc);
    free(reg->by_id);
    free(reg->slots);
    pthread_mutex_destroy(&reg->create_lock);
    free(reg);
}

/*
 * rc__probe - the slot holding name, or the empty slot where it would go.
 * Safe without the lock: a slot goes from NULL to a namespace once.
 */
static uint32_t rc__probe(const rc_ns_registry *reg, const uint8_t *name, size_t len, rc_ns **found)
{
    uint32_t i = (uint32_t)(rc_hash_bytes(&reg->seed, name, len) & reg->slot_mask);
    for (;; i = (i + 1u) & reg->slot_mask) {
        rc_ns *ns = atomic_load_explicit(&reg->slots[i], memory_order_acquire);
        if (!ns || (ns->name_len == len && memcmp(ns->name, name, len) == 0)) {
            *found = ns;
            return i;
        }
    }
}

rc_ns *rc_ns_find(const rc_ns_registry *reg, const uint8_t *name, size_t len)
{
    rc_ns *ns;
    if (len == 0 || len > RC_NS_MAX_NAME)
        return NULL;
    rc__probe(reg, name, len, &ns);
    return ns;
}

/* rc__ns_new - allocate a namespace at version 1 with default settings, aligned for its stripes. */
static rc_ns *rc__ns_new(uint16_t id, const uint8_t *name, size_t len)
{
    void *raw = rc_xcalloc(1, sizeof(rc_ns) + 63u);
    rc_ns *ns = (rc_ns *)(((uintptr_t)raw + 63u) & ~(uintptr_t)63u);
    ns->alloc = raw;
    ns->id = id;
    ns->name_len = (uint8_t)len;
    memcpy(ns->name, name, len);
    atomic_init(&ns->version, 1);
    for (int s = 0; s < RC_NS_NSETTINGS; s++)
        atomic_init(&ns->settings[s], rc__settings[s].def);
    return ns;
}

int rc_ns_get_or_create(rc_ns_registry *reg, const uint8_t *name, size_t len, rc_ns **out)
{
    rc_ns *ns;
    *out = NULL;
    if (len == 0 || len > RC_NS_MAX_NAME)
        return RC_EBAD_NAMESPACE;
    rc__probe(reg, name, len, &ns);
    if (ns) {
        *out = ns;
        return 0;
    }
    int rc = 0;
    pthread_mutex_lock(&reg->create_lock);
    uint32_t slot = rc__probe(reg, name, len, &ns);
    uint32_t count = atomic_load_explicit(&reg->count, memory_order_relaxed);
    if (!ns && count >= reg->max) {
        rc = RC_ETOO_MANY_NAMESPACES;
    } else if (!ns) {
        ns = rc__ns_new((uint16_t)count, name, len);
        atomic_store_explicit(&reg->by_id[count], ns, memory_order_release);
        atomic_store_explicit(&reg->slots[slot], ns, memory_order_release);
        atomic_store_explicit(&reg->count, count + 1u, memory_order_release);
    }
    pthread_mutex_unlock(&reg->create_lock);
    *out = ns;
    return rc;
}

rc_ns *rc_ns_by_id(const rc_ns_registry *reg, uint16_t id)
{
    return atomic_load_explicit(&reg->by_id[id], memory_order_acquire);
}

uint32_t rc_ns_registry_count(const rc_ns_registry *reg)
{
    return atomic_load_explicit(&reg->count, memory_order_acquire);
}

bool rc_ns_advance(rc_ns *ns, uint64_t to, uint64_t *now_version)
{
    uint64_t cur = atomic_load_explicit(&ns->version, memory_order_acquire);
    for (;;) {
        uint64_t target = to ? to : cur + 1u;
        if (target <= cur) {
            *now_version = cur;
            return false;
        }
        if (atomic_compare_exchange_weak_explicit(&ns->version, &cur, target, memory_order_acq_rel,
                                                  memory_order_acquire)) {
            *now_version = target;
            rc_ns_count(ns, 0, RC_NS_CTR_BUMPS, 1);
            return true;
        }
    }
}

uint64_t rc_ns_counter(const rc_ns *ns, enum rc_ns_counter c)
{
    uint64_t sum = 0;
    for (unsigned s = 0; s < RC_NS_STRIPES; s++)
        sum += atomic_load_explicit(&ns->stripes[s].v[c], memory_order_relaxed);
    return sum;
}

/* rc__is_space - item separators accepted by rc_ns_configure. */
static bool rc__is_space(uint8_t c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

/* rc__parse_u64 - strict decimal: digits only, at least one, no overflow. */
static bool rc__parse_u64(const uint8_t *p, size_t len, uint64_t *out)
{
    uint64_t v = 0;
    if (len == 0)
        return false;
    for (size_t i = 0; i < len; i++) {
        if (p[i] < '0' || p[i] > '9')
            return false;
        unsigned d = (unsigned)(p[i] - '0');
        if (v > (UINT64_MAX - d) / 10u)
            return false;
        v = v * 10u + d;
    }
    *out = v;
    return true;
}

/* rc__setting_index - the table row named name, or -1. */
static int rc__setting_index(const uint8_t *name, size_t len)
{
    for (int s = 0; s < RC_NS_NSETTINGS; s++)
        if (strlen(rc__settings[s].name) == len && memcmp(rc__settings[s].name, name, len) == 0)
            return s;
    return -1;
}

/*
 * rc__parse_item - parse one "name=value" token into (*index, *value).
 * Returns 0 or RC_EBAD_ARGUMENT with a sentence in err.
 */
static int rc__parse_item(const uint8_t *tok, size_t len, int *index, uint64_t *value, char *err,
                          size_t errlen)
{
    const uint8_t *eq = memchr(tok, '=', len);
    int shown = len > 64 ? 64 : (int)len;
    if (!eq) {
        snprintf(err, errlen, "expected name=value, got '%.*s'", shown, (const char *)tok);
        return RC_EBAD_ARGUMENT;
    }
    size_t nlen = (size_t)(eq - tok);
    int s = rc__setting_index(tok, nlen);
    if (s < 0) {
        snprintf(err, errlen, "unknown namespace setting '%.*s'", nlen > 64 ? 64 : (int)nlen,
                 (const char *)tok);
        return RC_EBAD_ARGUMENT;
    }
    const rc__ns_setting_def *d = &rc__settings[s];
    if (!rc__parse_u64(eq + 1, len - nlen - 1u, value) || *value < d->min || *value > d->max) {
        snprintf(err, errlen, "%s must be a whole number from %" PRIu64 " to %" PRIu64, d->name,
                 d->min, d->max);
        return RC_EBAD_ARGUMENT;
    }
    *index = s;
    return 0;
}

int rc_ns_configure(rc_ns *ns, const uint8_t *text, size_t len, char *err, size_t errlen)
{
    uint64_t values[RC_NS_NSETTINGS] = {0};
    bool given[RC_NS_NSETTINGS] = {false};
    char scratch[1];
    if (errlen == 0) {
        err = scratch;
        errlen = sizeof(scratch);
    }
    err[0] = '\0';
    size_t i = 0;
    while (i < len) {
        if (rc__is_space(text[i])) {
            i++;
            continue;
        }
        size_t start = i;
        while (i < len && !rc__is_space(text[i]))
            i++;
        int s;
        uint64_t v;
        int rc = rc__parse_item(text + start, i - start, &s, &v, err, errlen);
        if (rc)
            return rc;
        values[s] = v;
        given[s] = true;
    }
    for (int s = 0; ns && s < RC_NS_NSETTINGS; s++)
        if (given[s])
            atomic_store_explicit(&ns->settings[s], values[s], memory_order_relaxed);
    return 0;
}

void rc_ns_text_line(char *buf, size_t cap, size_t *pos, const char *name, uint64_t value)
{
    char line[320];
    int n = snprintf(line, sizeof(line), "%s %" PRIu64 "\n", name, value);
    size_t len = n < 0 ? 0 : (size_t)n;
    if (len > sizeof(line) - 1u)
        len = sizeof(line) - 1u;
    size_t room = *pos < cap ? cap - *pos : 0;
    if (len > room)
        len = room;
    if (len == 0)
        return;
    memcpy(buf + *pos, line, len);
    *pos += len;
    if (*pos < cap)
        buf[*pos] = '\0';
}

long rc_ns_info(const rc_ns *ns, char *buf, size_t cap)
{
    size_t pos = 0;
    rc_ns_text_line(buf, cap, &pos, "version", rc_ns_version(ns));
    for (int s = 0; s < RC_NS_NSETTINGS; s++)
        rc_ns_text_line(buf, cap, &pos, rc__settings[s].name, rc_ns_setting(ns, s));
    for (int c = 0; c < RC_NS_NCOUNTERS; c++)
        rc_ns_text_line(buf, cap, &pos, rc__counter_names[c], rc_ns_counter(ns, c));
    return (long)pos;
}
