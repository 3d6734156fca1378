/*
 * rc_ns.c - the namespace registry, settings parser and reports.
 *
 * Registry layout.  by_id[] maps ids to namespaces; slots[] is an
 * open-addressing (linear probing) table of the same pointers keyed by the
 * SipHash of the name, with capacity a power of two at least twice max, so
 * a probe always ends at a NULL slot.  Ids freed by reclamation go on a
 * free list and are reused before new ones (next_id) are handed out.
 *
 * Locking.  Lookups take no registry-wide lock: they load slot pointers
 * with acquire loads.  What makes that safe while namespaces can be
 * reclaimed is the striped reader lock (a "big reader" lock): every store
 * operation holds the read side of one stripe (rc_ns_enter/rc_ns_leave;
 * the stripe is fixed per thread, so threads rarely share one and no
 * operation writes a cache line another thread uses), and reclamation takes
 * the write side of every stripe.  So while reclamation runs, no operation
 * holds a namespace pointer, and once it returns, no operation can find
 * what it removed.  Creation only adds, under create_lock, publishing each
 * pointer with a release store after the namespace is initialised.
 * Lock order: stripes before create_lock.  An operation holds its stripe's
 * read side when it creates a namespace (then takes create_lock);
 * reclamation takes every stripe's write side, then create_lock.  (The
 * reverse order for reclamation could deadlock: it would hold create_lock
 * waiting for a stripe whose reader waits for create_lock.)  Reclamation
 * is never called with a stripe held.
 */
#define _POSIX_C_SOURCE 200809L
#include "rc_ns.h"

#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rc_alloc.h"
#include "rc_suppress.h"
#include "recache/rc_errors.h"

#define RC__READ_STRIPES 16u /* power of two */
#define RC__NO_ID        UINT32_MAX

typedef struct rc__read_stripe {
    _Alignas(64) pthread_rwlock_t lock;
} rc__read_stripe;

struct rc_ns_registry {
    pthread_mutex_t create_lock; /* serialises creation and reclamation */
    rc_hash_key seed;
    uint32_t max;
    _Atomic uint32_t live;      /* namespaces that exist now */
    uint32_t next_id;           /* ids below this were handed out once; under create_lock */
    uint32_t *free_ids;         /* [max] stack of reclaimed ids; under create_lock */
    uint32_t nfree;             /* under create_lock */
    _Atomic uint64_t reclaimed; /* namespaces reclaimed so far */
    _Atomic(rc_ns *) *by_id;    /* [max] */
    _Atomic(rc_ns *) *slots;    /* [slot_mask + 1] */
    uint32_t slot_mask;
    rc__read_stripe stripes[RC__READ_STRIPES];
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
    for (unsigned i = 0; i < RC__READ_STRIPES; i++)
        pthread_rwlock_init(&reg->stripes[i].lock, NULL);
    reg->seed = *seed;
    reg->max = max;
    reg->by_id = rc_xcalloc(max, sizeof(*reg->by_id));
    reg->free_ids = rc_xcalloc(max, sizeof(*reg->free_ids));
    reg->slots = rc_xcalloc(nslots, sizeof(*reg->slots));
    reg->slot_mask = nslots - 1u;
    *out = reg;
    return 0;
}

void rc_ns_registry_destroy(rc_ns_registry *reg)
{
    if (!reg)
        return;
    for (uint32_t i = 0; i < reg->next_id; i++) {
        rc_ns *ns = atomic_load_explicit(&reg->by_id[i], memory_order_relaxed);
        if (ns) {
            rc_suppress_destroy(atomic_load_explicit(&ns->suppress, memory_order_relaxed));
            free(ns->alloc);
        }
    }
    free(reg->by_id);
    free(reg->free_ids);
    free(reg->slots);
    for (unsigned i = 0; i < RC__READ_STRIPES; i++)
        pthread_rwlock_destroy(&reg->stripes[i].lock);
    pthread_mutex_destroy(&reg->create_lock);
    free(reg);
}

/* rc__my_stripe - this thread's reader stripe, assigned round-robin on first use. */
static rc__read_stripe *rc__my_stripe(rc_ns_registry *reg)
{
    static _Atomic unsigned next_stripe;
    static _Thread_local unsigned mine; /* stripe + 1; 0 = not assigned yet */
    if (mine == 0)
        mine = atomic_fetch_add_explicit(&next_stripe, 1, memory_order_relaxed) % RC__READ_STRIPES +
               1u;
    return &reg->stripes[mine - 1u];
}

void rc_ns_enter(rc_ns_registry *reg)
{
    pthread_rwlock_rdlock(&rc__my_stripe(reg)->lock);
}

void rc_ns_leave(rc_ns_registry *reg)
{
    pthread_rwlock_unlock(&rc__my_stripe(reg)->lock);
}

/*
 * rc__probe - the slot holding name, or the empty slot where it would go.
 * Safe without create_lock: a slot goes from NULL to a namespace under it,
 * and reclamation (which may clear slots) excludes every reader.
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
    atomic_init(&ns->configured, false);
    for (int s = 0; s < RC_NS_NSETTINGS; s++)
        atomic_init(&ns->settings[s], rc__settings[s].def);
    return ns;
}

/* rc__take_id_locked - a free id (reclaimed ones first), or RC__NO_ID at the limit. */
static uint32_t rc__take_id_locked(rc_ns_registry *reg)
{
    if (atomic_load_explicit(&reg->live, memory_order_relaxed) >= reg->max)
        return RC__NO_ID;
    if (reg->nfree > 0)
        return reg->free_ids[--reg->nfree];
    return reg->next_id < reg->max ? reg->next_id++ : RC__NO_ID;
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
    uint32_t id = ns ? RC__NO_ID : rc__take_id_locked(reg);
    if (!ns && id == RC__NO_ID) {
        rc = RC_ETOO_MANY_NAMESPACES;
    } else if (!ns) {
        ns = rc__ns_new((uint16_t)id, name, len);
        atomic_store_explicit(&reg->by_id[id], ns, memory_order_release);
        atomic_store_explicit(&reg->slots[slot], ns, memory_order_release);
        atomic_fetch_add_explicit(&reg->live, 1, memory_order_release);
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
    return atomic_load_explicit(&reg->live, memory_order_acquire);
}

uint64_t rc_ns_registry_reclaimed(const rc_ns_registry *reg)
{
    return atomic_load_explicit(&reg->reclaimed, memory_order_relaxed);
}

bool rc_ns_reclaimable(const rc_ns *ns)
{
    return rc_ns_version(ns) == 1u &&
           !atomic_load_explicit(&ns->configured, memory_order_relaxed) &&
           rc_ns_counter(ns, RC_NS_CTR_ENTRIES) == 0 && rc_ns_counter(ns, RC_NS_CTR_LEASES) == 0 &&
           atomic_load_explicit(&ns->suppress, memory_order_acquire) == NULL;
}

/* rc__rebuild_slots_exclusive - re-insert every live namespace into a cleared slot table. */
static void rc__rebuild_slots_exclusive(rc_ns_registry *reg)
{
    memset(reg->slots, 0, (reg->slot_mask + 1u) * sizeof(*reg->slots));
    for (uint32_t id = 0; id < reg->next_id; id++) {
        rc_ns *ns = atomic_load_explicit(&reg->by_id[id], memory_order_relaxed);
        rc_ns *found;
        if (ns) {
            uint32_t slot = rc__probe(reg, ns->name, ns->name_len, &found);
            atomic_store_explicit(&reg->slots[slot], ns, memory_order_relaxed);
        }
    }
}

uint32_t rc_ns_reclaim(rc_ns_registry *reg)
{
    uint32_t freed = 0;
    /* Stripes first, then create_lock: the order a creating reader takes them in. */
    for (unsigned i = 0; i < RC__READ_STRIPES; i++)
        pthread_rwlock_wrlock(&reg->stripes[i].lock);
    pthread_mutex_lock(&reg->create_lock);
    for (uint32_t id = 0; id < reg->next_id; id++) {
        rc_ns *ns = atomic_load_explicit(&reg->by_id[id], memory_order_relaxed);
        if (!ns || !rc_ns_reclaimable(ns))
            continue;
        atomic_store_explicit(&reg->by_id[id], NULL, memory_order_relaxed);
        reg->free_ids[reg->nfree++] = id;
        free(ns->alloc);
        freed++;
    }
    if (freed > 0) {
        rc__rebuild_slots_exclusive(reg);
        atomic_fetch_sub_explicit(&reg->live, freed, memory_order_relaxed);
        atomic_fetch_add_explicit(&reg->reclaimed, freed, memory_order_relaxed);
    }
    pthread_mutex_unlock(&reg->create_lock);
    for (unsigned i = 0; i < RC__READ_STRIPES; i++)
        pthread_rwlock_unlock(&reg->stripes[i].lock);
    return freed;
}

bool rc_ns_advance(rc_ns *ns, uint64_t to, uint64_t *now_version)
{
    uint64_t cur = atomic_load_explicit(&ns->version, memory_order_acquire);
    for (;;) {
        /* Saturate: the version never passes RC_NS_VERSION_MAX, so it can never wrap. */
        uint64_t target = to ? to : (cur < RC_NS_VERSION_MAX ? cur + 1u : cur);
        if (target > RC_NS_VERSION_MAX)
            target = RC_NS_VERSION_MAX;
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

const uint64_t RC_NS_AGE_BOUNDS_MS[RC_NS_AGE_NBOUNDS] = {
    1, 10, 100, 1000, 10000, 60000, 300000, 3600000, 21600000, 86400000,
};

void rc_ns_observe_age(rc_ns *ns, unsigned stripe, uint64_t age_ms)
{
    unsigned b = 0;
    while (b < RC_NS_AGE_NBOUNDS && age_ms > RC_NS_AGE_BOUNDS_MS[b])
        b++;
    rc_ns_stripe *s = &ns->stripes[stripe & (RC_NS_STRIPES - 1u)];
    atomic_fetch_add_explicit(&s->age[b], 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&s->age_sum_ms, age_ms, memory_order_relaxed);
}

void rc_ns_ages(const rc_ns *ns, uint64_t buckets[RC_NS_AGE_NBOUNDS + 1u], uint64_t *sum_ms)
{
    *sum_ms = 0;
    for (unsigned b = 0; b <= RC_NS_AGE_NBOUNDS; b++)
        buckets[b] = 0;
    for (unsigned s = 0; s < RC_NS_STRIPES; s++) {
        for (unsigned b = 0; b <= RC_NS_AGE_NBOUNDS; b++)
            buckets[b] += atomic_load_explicit(&ns->stripes[s].age[b], memory_order_relaxed);
        *sum_ms += atomic_load_explicit(&ns->stripes[s].age_sum_ms, memory_order_relaxed);
    }
}

void rc_ns_registry_foreach(const rc_ns_registry *reg, void (*fn)(void *ctx, const rc_ns *ns),
                            void *ctx)
{
    for (uint32_t id = 0; id < reg->max; id++) {
        rc_ns *ns = atomic_load_explicit(&reg->by_id[id], memory_order_acquire);
        if (ns != NULL)
            fn(ctx, ns);
    }
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

int rc_ns_configure(rc_ns *ns, const uint8_t *text, size_t len, uint64_t max_value_limit, char *err,
                    size_t errlen)
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
    if (given[RC_NS_SET_MAX_VALUE] && values[RC_NS_SET_MAX_VALUE] > max_value_limit) {
        snprintf(err, errlen, "max-value must not exceed the server's max-value (%" PRIu64 ")",
                 max_value_limit);
        return RC_EBAD_ARGUMENT;
    }
    for (int s = 0; ns && s < RC_NS_NSETTINGS; s++)
        if (given[s])
            atomic_store_explicit(&ns->settings[s], values[s], memory_order_relaxed);
    if (ns)
        atomic_store_explicit(&ns->configured, true, memory_order_relaxed);
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
    rc_suppress *sup = atomic_load_explicit(&((rc_ns *)ns)->suppress, memory_order_acquire);
    rc_ns_text_line(buf, cap, &pos, "suppressed", sup ? rc_suppress_active(sup) : 0);
    rc_ns_text_line(buf, cap, &pos, "suppress_bytes", sup ? rc_suppress_bytes(sup) : 0);
    return (long)pos;
}
