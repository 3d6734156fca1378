/*
 * rc_lease_client.c - librecache: lease reads (LGET), lease fills (SET with
 * a token) and the read-through helper rc_get_or_fill.
 *
 * Design.  Nothing here touches the socket: rc_lget and rc_fill build an
 * rc_msg and go through rc__call(), the library's one request path, which
 * extends its I/O deadline by an LGET's wait_ms so a long server-side park
 * is not mistaken for a dead connection.  rc_get_or_fill is a small state
 * machine over those two calls: one lease read per attempt, then, depending
 * on the outcome, return the value, run the caller's callback and fill, or
 * read again.  The single flight itself happens on the server (it parks the
 * readers that lose the lease race and answers them with the winner's
 * fill); the helper only has to be the well-behaved lease holder and retry
 * the outcomes that mean "nobody filled in time".
 *
 * Failure model: as the rest of the library (0 or RC_E*; RC_ENOMEM, never
 * an abort).  A fill that is not stored is not an error for the caller who
 * computed the value (see rc_get_or_fill in recache.h).  Threading: one
 * thread per client, as everywhere; the callback runs on that thread.
 */
#include <stdlib.h>
#include <string.h>

#include "rc_client_int.h"

/* ---- raw lease operations ------------------------------------------------------------------- */

int rc__prepare_lget(rc_msg *req, const char *ns, const void *key, size_t key_len,
                     const rc_lget_options *opts)
{
    int err = rc__prepare_keyed(req, RC_OP_LGET, ns, key, key_len, opts ? opts->version : 0);
    if (err)
        return err;
    req->min_version = opts ? opts->min_version : 0;
    req->wait_ms = opts ? opts->wait_ms : 0;
    return 0;
}

void rc_lease_result_free(rc_lease_result *r)
{
    if (r == NULL)
        return;
    rc_value_free(&r->value);
    memset(r, 0, sizeof *r);
}

/* rc__is_outcome - whether a return code is a server outcome whose response has the op's layout. */
static int rc__is_outcome(int rc)
{
    return rc < 0 && -rc < RC_STATUS_FIRST_ERROR;
}

int rc_lget(rc_client *c, const char *ns, const void *key, size_t key_len,
            const rc_lget_options *opts, rc_lease_result *out)
{
    rc_msg req;
    if (out == NULL)
        return RC_EINVAL;
    memset(out, 0, sizeof *out);
    int err = rc__prepare_lget(&req, ns, key, key_len, opts);
    return err ? err : rc__lease_call(c, &req, out);
}

int rc__lease_call(rc_client *c, rc_msg *req, rc_lease_result *out)
{
    rc_msg resp;
    memset(out, 0, sizeof *out);
    int err = rc__call(c, req, &resp);
    if (err != 0 && !rc__is_outcome(err))
        return err;
    out->lease = resp.lease;
    memcpy(out->token.bytes, resp.token, RC_TOKEN_SIZE);
    out->value.ns_version = resp.ns_version;
    if (err != 0)
        return err; /* MISS, LEASE_HELD, WAIT_TIMEOUT, TOO_MANY_WAITERS: no value */
    int copy_err = rc__value_copy(&out->value, &resp);
    if (copy_err) {
        memset(out, 0, sizeof *out);
        return copy_err;
    }
    out->hit = 1;
    return 0;
}

/* rc__token_is_zero - an all-zero token means "no lease" on the wire. */
static int rc__token_is_zero(const rc_lease_token *t)
{
    for (size_t i = 0; i < RC_LEASE_TOKEN_SIZE; i++)
        if (t->bytes[i] != 0)
            return 0;
    return 1;
}

int rc_fill(rc_client *c, const char *ns, const void *key, size_t key_len,
            const rc_lease_token *token, const void *value, size_t value_len,
            const rc_set_options *opts, rc_write_info *info)
{
    if (token == NULL || rc__token_is_zero(token))
        return RC_EINVAL; /* a zero token would silently turn the fill into a plain set */
    return rc__set_call(c, ns, key, key_len, value, value_len, opts, token->bytes, info);
}

/* ---- rc_get_or_fill ---------------------------------------------------------------------------
 */

/* Everything one rc_get_or_fill call carries between its steps. */
typedef struct rc__gof {
    rc_client *c;
    const char *ns;
    const void *key;
    size_t key_len;
    rc_lget_options lget;
    int max_attempts;
    rc_fill_fn fill;
    void *ctx;
    rc_get_or_fill_report *report; /* never NULL (the caller's or a local one) */
    int list;                      /* 1: LIST_LGET and LIST_SET, the bytes are encoded items */
} rc__gof;

/*
 * rc__gof_compute - run the callback into *fo and make its value
 * NUL-terminated (the rc_value convention).  On success fo->data is a
 * malloc'ed buffer of fo->len + 1 bytes owned by the caller of this
 * function; on failure nothing is left to free.  Returns 0, the callback's
 * code, RC_EINVAL (data NULL with len > 0) or RC_ENOMEM.
 */
static int rc__gof_compute(const rc__gof *g, rc_fill_output *fo)
{
    memset(fo, 0, sizeof *fo);
    fo->set.stale_ms = RC_STALE_DEFAULT;
    int err = g->fill(g->ctx, g->ns, g->key, g->key_len, fo);
    if (err == 0 && fo->data == NULL && fo->len > 0)
        err = RC_EINVAL;
    if (err == 0 && fo->len == SIZE_MAX)
        err = RC_EVALUE_TOO_LARGE;
    if (err == 0) {
        uint8_t *p = realloc(fo->data, fo->len + 1);
        if (p == NULL)
            err = RC_ENOMEM;
        else
            fo->data = p;
    }
    if (err) {
        free(fo->data);
        fo->data = NULL;
        return err;
    }
    fo->data[fo->len] = '\0';
    return 0;
}

/*
 * rc__gof_store - fill the computed value under token and record the
 * outcome in the report.  The fill writes the version the read addressed,
 * whatever the callback put in set.version.  Returns the fill's code
 * (callers decide whether it matters) and *wi on success.
 */
static int rc__gof_store(const rc__gof *g, const rc_lease_token *token, const rc_fill_output *fo,
                         rc_write_info *wi)
{
    rc_set_options set = fo->set;
    set.version = g->lget.version;
    int rc = g->list ? rc__write_call(g->c, RC_OP_LIST_SET, g->ns, g->key, g->key_len, fo->data,
                                      fo->len, &set, token->bytes, wi)
                     : rc_fill(g->c, g->ns, g->key, g->key_len, token, fo->data, fo->len, &set, wi);
    g->report->filled = 1;
    g->report->fill_status = rc;
    g->report->fill_rejected = rc != 0;
    return rc;
}

/*
 * rc__gof_compute_and_fill - this reader holds the lease: compute, fill,
 * and hand the computed value to the caller in *out (ownership moves).
 * A fill that is not stored still returns the value (see recache.h).
 * Returns 0 or the callback's (or allocation's) error.
 */
static int rc__gof_compute_and_fill(const rc__gof *g, const rc_lease_token *token,
                                    uint64_t read_version, rc_value *out)
{
    rc_fill_output fo;
    int err = rc__gof_compute(g, &fo);
    if (err)
        return err;
    rc_write_info wi;
    if (rc__gof_store(g, token, &fo, &wi) != 0) { /* not stored: describe what was computed */
        wi.ns_version = read_version;
        wi.entry_version = fo.set.entry_version;
    }
    out->data = fo.data;
    out->len = fo.len;
    out->client_flags = fo.set.client_flags;
    out->entry_version = wi.entry_version;
    out->ns_version = wi.ns_version;
    out->ttl_left_ms = fo.set.ttl_ms;
    out->stale = 0;
    return 0;
}

/*
 * rc__gof_refresh - early refresh of a fresh value this reader was handed
 * a lease for: compute and fill, then drop the computed copy (the caller
 * gets the value it read, which is fresh).  Failures are only reported:
 * the lease then expires and a later reader refreshes.
 */
static void rc__gof_refresh(const rc__gof *g, const rc_lease_token *token)
{
    rc_fill_output fo;
    g->report->refresh = 1;
    int err = rc__gof_compute(g, &fo);
    if (err) {
        g->report->fill_status = err;
        g->report->fill_rejected = 1;
        return;
    }
    rc_write_info wi;
    rc__gof_store(g, token, &fo, &wi);
    free(fo.data);
}

/*
 * rc__gof_hit - act on a lease read that returned a value (ownership of
 * lr->value moves to *out or is released here).  Returns 0 or an error.
 */
static int rc__gof_hit(const rc__gof *g, rc_lease_result *lr, rc_value *out)
{
    if (lr->lease == RC_LGET_LEASE_GRANTED && lr->value.stale) {
        uint64_t version = lr->value.ns_version;
        rc_value_free(&lr->value);
        return rc__gof_compute_and_fill(g, &lr->token, version, out);
    }
    *out = lr->value;
    memset(&lr->value, 0, sizeof lr->value);
    if (lr->lease == RC_LGET_LEASE_GRANTED)
        rc__gof_refresh(g, &lr->token);
    return 0; /* fresh, or stale while another reader refreshes */
}

/*
 * rc__gof_attempt - one lease read and what follows from it.  Returns the
 * final code with *retry = 0, or the status that may be retried with
 * *retry = 1 (nothing to free then).
 */
static int rc__gof_attempt(const rc__gof *g, rc_value *out, int *retry)
{
    rc_lease_result lr;
    *retry = 0;
    g->report->attempts++;
    int rc = g->list ? rc__list_lget_raw(g->c, g->ns, g->key, g->key_len, &g->lget, &lr)
                     : rc_lget(g->c, g->ns, g->key, g->key_len, &g->lget, &lr);
    if (rc == 0)
        return rc__gof_hit(g, &lr, out);
    if (rc == RC_EMISS && lr.lease == RC_LGET_LEASE_GRANTED)
        return rc__gof_compute_and_fill(g, &lr.token, lr.value.ns_version, out);
    /* Nobody filled in time, or the lease vanished while parked: read again. */
    *retry = rc == RC_EMISS || rc == RC_EWAIT_TIMEOUT || rc == RC_ELEASE_HELD;
    return rc;
}

int rc_get_or_fill(rc_client *c, const char *ns, const void *key, size_t key_len,
                   const rc_get_or_fill_options *opts, rc_fill_fn fill, void *ctx, rc_value *out)
{
    return rc__get_or_fill_kind(c, 0, ns, key, key_len, opts, fill, ctx, out);
}

int rc__get_or_fill_kind(rc_client *c, int list, const char *ns, const void *key, size_t key_len,
                         const rc_get_or_fill_options *opts, rc_fill_fn fill, void *ctx,
                         rc_value *out)
{
    rc_get_or_fill_report local;
    if (out == NULL)
        return RC_EINVAL;
    memset(out, 0, sizeof *out);
    if (fill == NULL)
        return RC_EINVAL;
    rc__gof g = {
        .c = c, .ns = ns, .key = key, .key_len = key_len, .fill = fill, .ctx = ctx, .list = list};
    g.report = opts && opts->report ? opts->report : &local;
    memset(g.report, 0, sizeof *g.report);
    g.lget.version = opts ? opts->version : 0;
    g.lget.min_version = opts ? opts->min_version : 0;
    g.lget.wait_ms = opts && opts->wait_ms ? opts->wait_ms : RC_GET_OR_FILL_DEFAULT_WAIT_MS;
    g.max_attempts =
        opts && opts->max_attempts > 0 ? opts->max_attempts : RC_GET_OR_FILL_DEFAULT_ATTEMPTS;
    int rc = RC_EINVAL, retry = 1;
    for (int i = 0; i < g.max_attempts && retry; i++)
        rc = rc__gof_attempt(&g, out, &retry);
    if (rc != 0)
        rc_value_free(out);
    return rc;
}
