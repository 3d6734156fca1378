/*
 * rc_l1_list.c - lists in the L1 near-cache.
 *
 * Design.  The L1 caches a list as the server served it to a plain list
 * read: the whole list, the namespace's suppressions already applied, in
 * wire encoding (12 bytes per item), in an ordinary L1 entry flagged as a
 * list (rc__l1_entry.is_list) so byte reads never see it.  A read's top N
 * and exclude set are applied to a copy, so one cached list serves every
 * variant of the read.
 *
 * Coherence.  KEY events (a write, an in-place removal) drop the list like
 * any entry, so the next read refetches it.  A SUPPRESS event removes its
 * item ids from every cached list of its namespace in place: no drop and
 * no refetch, which is the point of suppression.  An UNSUPPRESS event
 * drops the namespace's cached lists (they lack the item now visible
 * again).  Both advance the global invalidation counter, so a read-through
 * fill that read from the server before the event was applied is refused
 * (the race rule of rc_l1.c): it may hold a list filtered with the old set.
 *
 * Locking: rc__l1_apply_ids_locked runs under l1->mu (the channel thread);
 * rc_l1_list_get takes it through rc__l1_get_kind.
 */
#include <stdlib.h>
#include <string.h>

#include "rc_l1_int.h"

/* Whether id is among the event's ids. */
static int rc__ev_has_id(const rc_event *ev, size_t n, uint64_t id)
{
    for (size_t i = 0; i < n; i++)
        if (rc_event_id(ev, i) == id)
            return 1;
    return 0;
}

/* Remove the event's ids from e's items in place (the charge stays: the allocation does). */
static void rc__l1_filter_entry(rc__l1_entry *e, const rc_event *ev, size_t n)
{
    uint8_t *items = e->data + e->ns_len + e->key_len;
    size_t count = e->value_len / RC_ITEM_SIZE, kept = 0;
    for (size_t i = 0; i < count; i++) {
        uint8_t *item = items + i * RC_ITEM_SIZE;
        if (rc__ev_has_id(ev, n, rc_id_get(item)))
            continue;
        if (kept != i)
            memmove(items + kept * RC_ITEM_SIZE, item, RC_ITEM_SIZE);
        kept++;
    }
    e->value_len = kept * RC_ITEM_SIZE;
    items[e->value_len] = '\0';
}

void rc__l1_apply_ids_locked(rc_l1 *l1, const rc_event *ev)
{
    size_t n = rc_event_id_count(ev);
    rc__l1_entry *e = l1->lru_head;
    while (e) {
        rc__l1_entry *next = e->next;
        if (e->is_list && e->ns_len == ev->ns_len && memcmp(e->data, ev->ns, e->ns_len) == 0) {
            if (ev->kind == RC_EVENT_SUPPRESS) {
                rc__l1_filter_entry(e, ev, n);
            } else {
                rc__l1_remove_locked(l1, e);
                l1->invalidations++;
            }
        }
        e = next;
    }
    l1->global_gen = ++l1->gen;
}

int rc_l1_list_get(rc_l1 *l1, rc_client *c, const char *ns, const void *key, size_t key_len,
                   const rc_list_get_options *opts, rc_list *out)
{
    if (out == NULL)
        return RC_EINVAL;
    memset(out, 0, sizeof *out);
    if (opts != NULL && (opts->version != 0 || opts->min_version != 0))
        return rc_list_get(c, ns, key, key_len, opts, out); /* the L1 holds current lists only */
    if (opts != NULL && opts->nexclude > 0 && opts->exclude == NULL)
        return RC_EINVAL;
    rc_value v;
    int err = rc__l1_get_kind(l1, c, 1, ns, key, key_len, &v);
    if (err == RC_EMISS)
        out->ns_version = v.ns_version;
    if (err)
        return err;
    err = rc__list_from_value(&v, opts, out);
    rc_value_free(&v);
    return err;
}
