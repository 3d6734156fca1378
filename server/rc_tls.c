/*
 * rc_tls.c - TLS policy and memory-buffered sessions on mbedTLS 2.28 (see
 * rc_tls.h for the policy).
 *
 * The session's BIO callbacks read ciphertext from s->in and append it to
 * s->out; reading an empty s->in answers MBEDTLS_ERR_SSL_WANT_READ, which
 * the callers turn into "need more input".  Writing never blocks: s->out
 * grows (bounded in practice by what the admin connection sends, which is
 * one response at a time).
 */
#define _POSIX_C_SOURCE 200809L

#include "rc_tls.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <mbedtls/ctr_drbg.h>
#include <mbedtls/entropy.h>
#include <mbedtls/error.h>
#include <mbedtls/pk.h>
#include <mbedtls/x509_crt.h>

#include "rc_alloc.h"
#include "recache/rc_errors.h"

/* Key exchange groups: X25519 and the NIST curves every client has (no Brainpool, no P-521). */
static const mbedtls_ecp_group_id rc__curves[] = {
    MBEDTLS_ECP_DP_CURVE25519,
    MBEDTLS_ECP_DP_SECP256R1,
    MBEDTLS_ECP_DP_SECP384R1,
    MBEDTLS_ECP_DP_NONE,
};

/* ECDHE key exchange with AEAD ciphers only, strongest first. */
static const int rc__ciphersuites[] = {
    MBEDTLS_TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,
    MBEDTLS_TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,
    MBEDTLS_TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256,
    MBEDTLS_TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256,
    MBEDTLS_TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
    MBEDTLS_TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
    0,
};

struct rc_tls {
    mbedtls_entropy_context entropy;
    mbedtls_ctr_drbg_context drbg;
    mbedtls_x509_crt cert; /* server certificate (and chain) */
    mbedtls_x509_crt ca;   /* CA(s) that sign client certificates */
    mbedtls_pk_context key;
    mbedtls_ssl_config conf;
    char *allow; /* owned copy of the allow-list text ("" = any) */
};

static int rc__fail(char *err, size_t errlen, int mbed, const char *what, const char *path)
{
    char why[160];
    mbedtls_strerror(mbed, why, sizeof(why));
    snprintf(err, errlen, "%s '%s': %s", what, path, why);
    return RC_EINVAL;
}

int rc_tls_create(const char *cert, const char *key, const char *ca, const char *allow, char *err,
                  size_t errlen, rc_tls **out)
{
    rc_tls *t = rc_xcalloc(1, sizeof(*t));
    mbedtls_entropy_init(&t->entropy);
    mbedtls_ctr_drbg_init(&t->drbg);
    mbedtls_x509_crt_init(&t->cert);
    mbedtls_x509_crt_init(&t->ca);
    mbedtls_pk_init(&t->key);
    mbedtls_ssl_config_init(&t->conf);
    t->allow = rc_xstrdup(allow != NULL ? allow : "");
    static const char pers[] = "recache-admin";
    int rc = mbedtls_ctr_drbg_seed(&t->drbg, mbedtls_entropy_func, &t->entropy,
                                   (const unsigned char *)pers, sizeof(pers) - 1);
    if (rc != 0) {
        rc = rc__fail(err, errlen, rc, "cannot seed the random generator for", "admin port");
    } else if ((rc = mbedtls_x509_crt_parse_file(&t->cert, cert)) != 0) {
        rc = rc__fail(err, errlen, rc, "admin-cert: cannot load", cert);
    } else if ((rc = mbedtls_pk_parse_keyfile(&t->key, key, NULL)) != 0) {
        rc = rc__fail(err, errlen, rc, "admin-key: cannot load", key);
    } else if ((rc = mbedtls_x509_crt_parse_file(&t->ca, ca)) != 0) {
        rc = rc__fail(err, errlen, rc, "admin-ca: cannot load", ca);
    } else if ((rc = mbedtls_ssl_config_defaults(&t->conf, MBEDTLS_SSL_IS_SERVER,
                                                 MBEDTLS_SSL_TRANSPORT_STREAM,
                                                 MBEDTLS_SSL_PRESET_DEFAULT)) != 0) {
        rc = rc__fail(err, errlen, rc, "cannot configure TLS for", "admin port");
    } else if ((rc = mbedtls_ssl_conf_own_cert(&t->conf, &t->cert, &t->key)) != 0) {
        rc = rc__fail(err, errlen, rc, "admin-key does not match admin-cert", key);
    }
    if (rc != 0) {
        rc_tls_destroy(t);
        return RC_EINVAL;
    }
    mbedtls_ssl_conf_rng(&t->conf, mbedtls_ctr_drbg_random, &t->drbg);
    mbedtls_ssl_conf_min_version(&t->conf, MBEDTLS_SSL_MAJOR_VERSION_3,
                                 MBEDTLS_SSL_MINOR_VERSION_3);
    mbedtls_ssl_conf_max_version(&t->conf, MBEDTLS_SSL_MAJOR_VERSION_3,
                                 MBEDTLS_SSL_MINOR_VERSION_3);
    mbedtls_ssl_conf_ciphersuites(&t->conf, rc__ciphersuites);
    mbedtls_ssl_conf_curves(&t->conf, rc__curves);
    mbedtls_ssl_conf_authmode(&t->conf, MBEDTLS_SSL_VERIFY_REQUIRED);
    mbedtls_ssl_conf_ca_chain(&t->conf, &t->ca, NULL);
#if defined(MBEDTLS_SSL_RENEGOTIATION)
    mbedtls_ssl_conf_renegotiation(&t->conf, MBEDTLS_SSL_RENEGOTIATION_DISABLED);
    mbedtls_ssl_conf_legacy_renegotiation(&t->conf, MBEDTLS_SSL_LEGACY_NO_RENEGOTIATION);
#endif
#if defined(MBEDTLS_SSL_SESSION_TICKETS)
    mbedtls_ssl_conf_session_tickets(&t->conf, MBEDTLS_SSL_SESSION_TICKETS_DISABLED);
#endif
    *out = t;
    return 0;
}

void rc_tls_destroy(rc_tls *t)
{
    if (t == NULL)
        return;
    mbedtls_ssl_config_free(&t->conf);
    mbedtls_pk_free(&t->key);
    mbedtls_x509_crt_free(&t->ca);
    mbedtls_x509_crt_free(&t->cert);
    mbedtls_ctr_drbg_free(&t->drbg);
    mbedtls_entropy_free(&t->entropy);
    free(t->allow);
    free(t);
}

/* ---- sessions ---------------------------------------------------------------------------------
 */

static void rc__buf_append(rc_tls_buf *b, const uint8_t *data, size_t len)
{
    if (b->off > 0 && b->off == b->len) /* fully consumed: start over */
        b->off = b->len = 0;
    if (len > b->cap - b->len) {
        if (b->off > 0) { /* compact before growing */
            memmove(b->data, b->data + b->off, b->len - b->off);
            b->len -= b->off;
            b->off = 0;
        }
        if (len > b->cap - b->len) {
            size_t cap = b->cap != 0 ? b->cap : 4096u;
            while (cap - b->len < len)
                cap *= 2u;
            b->data = rc_xrealloc(b->data, cap);
            b->cap = cap;
        }
    }
    memcpy(b->data + b->len, data, len);
    b->len += len;
}

static int rc__bio_send(void *ctx, const unsigned char *buf, size_t len)
{
    rc_tls_session *s = ctx;
    rc__buf_append(&s->out, buf, len);
    return (int)len;
}

static int rc__bio_recv(void *ctx, unsigned char *buf, size_t len)
{
    rc_tls_session *s = ctx;
    size_t avail = s->in.len - s->in.off;
    if (avail == 0)
        return MBEDTLS_ERR_SSL_WANT_READ;
    size_t n = avail < len ? avail : len;
    memcpy(buf, s->in.data + s->in.off, n);
    s->in.off += n;
    return (int)n;
}

int rc_tls_session_init(rc_tls *tls, rc_tls_session *s)
{
    memset(s, 0, sizeof(*s));
    mbedtls_ssl_init(&s->ssl);
    if (mbedtls_ssl_setup(&s->ssl, &tls->conf) != 0) {
        mbedtls_ssl_free(&s->ssl);
        return RC_ENOMEM;
    }
    mbedtls_ssl_set_bio(&s->ssl, s, rc__bio_send, rc__bio_recv, NULL);
    return 0;
}

void rc_tls_session_free(rc_tls_session *s)
{
    mbedtls_ssl_free(&s->ssl);
    free(s->in.data);
    free(s->out.data);
    memset(s, 0, sizeof(*s));
}

void rc_tls_feed(rc_tls_session *s, const uint8_t *data, size_t len)
{
    rc__buf_append(&s->in, data, len);
}

int rc_tls_handshake(rc_tls_session *s, char *err, size_t errlen)
{
    int rc = mbedtls_ssl_handshake(&s->ssl);
    if (rc == 0) {
        s->handshake_done = true;
        return 1;
    }
    if (rc == MBEDTLS_ERR_SSL_WANT_READ || rc == MBEDTLS_ERR_SSL_WANT_WRITE)
        return 0;
    mbedtls_strerror(rc, err, errlen);
    uint32_t flags = mbedtls_ssl_get_verify_result(&s->ssl);
    if (flags != 0 && flags != (uint32_t)-1) {
        char why[256];
        if (mbedtls_x509_crt_verify_info(why, sizeof(why), "", flags) > 0) {
            size_t n = strlen(why);
            while (n > 0 && why[n - 1] == '\n')
                why[--n] = '\0';
            for (char *p = why; *p != '\0'; p++)
                if (*p == '\n')
                    *p = ';';
            size_t used = strlen(err);
            snprintf(err + used, errlen - used, " (client certificate: %s)", why);
        }
    }
    return rc < 0 ? rc : -1;
}

long rc_tls_read(rc_tls_session *s, uint8_t *buf, size_t cap)
{
    int rc = mbedtls_ssl_read(&s->ssl, buf, cap);
    if (rc > 0)
        return rc;
    if (rc == MBEDTLS_ERR_SSL_WANT_READ || rc == MBEDTLS_ERR_SSL_WANT_WRITE)
        return 0;
    if (rc == 0 || rc == MBEDTLS_ERR_SSL_PEER_CLOSE_NOTIFY)
        return RC_TLS_CLOSED;
    return rc < 0 ? rc : RC_TLS_CLOSED;
}

int rc_tls_write(rc_tls_session *s, const uint8_t *data, size_t len)
{
    while (len > 0) {
        int rc = mbedtls_ssl_write(&s->ssl, data, len);
        if (rc < 0)
            return rc;
        data += rc;
        len -= (size_t)rc;
    }
    return 0;
}

void rc_tls_close_notify(rc_tls_session *s)
{
    if (s->handshake_done)
        mbedtls_ssl_close_notify(&s->ssl);
}

void rc_tls_subject(const rc_tls_session *s, char *buf, size_t cap)
{
    const mbedtls_x509_crt *peer = mbedtls_ssl_get_peer_cert(&s->ssl);
    if (cap == 0)
        return;
    buf[0] = '\0';
    if (peer != NULL && mbedtls_x509_dn_gets(buf, cap, &peer->subject) < 0)
        buf[0] = '\0';
}

/* The value of the subject's CN ("CN=x, O=y" -> "x"), into buf; false when it has none. */
static bool rc__subject_cn(const char *subject, char *buf, size_t cap)
{
    const char *p = subject;
    while (p != NULL && *p != '\0') {
        while (*p == ' ')
            p++;
        const char *end = strstr(p, ", ");
        size_t len = end != NULL ? (size_t)(end - p) : strlen(p);
        if (len > 3 && strncmp(p, "CN=", 3) == 0 && len - 3 < cap) {
            memcpy(buf, p + 3, len - 3);
            buf[len - 3] = '\0';
            return true;
        }
        p = end != NULL ? end + 2 : NULL;
    }
    return false;
}

bool rc_tls_subject_allowed(const rc_tls *tls, const char *subject)
{
    if (tls->allow[0] == '\0')
        return true;
    char cn[256];
    bool has_cn = rc__subject_cn(subject, cn, sizeof(cn));
    const char *p = tls->allow;
    while (*p != '\0') {
        const char *end = strchr(p, ';');
        size_t len = end != NULL ? (size_t)(end - p) : strlen(p);
        while (len > 0 && *p == ' ') {
            p++;
            len--;
        }
        while (len > 0 && p[len - 1] == ' ')
            len--;
        if (len > 0 && strlen(subject) == len && memcmp(p, subject, len) == 0)
            return true;
        if (has_cn && len > 3 && strncmp(p, "CN=", 3) == 0 && strlen(cn) == len - 3 &&
            memcmp(p + 3, cn, len - 3) == 0)
            return true;
        if (end == NULL)
            break;
        p = end + 1;
    }
    return false;
}

void rc_tls_version(const rc_tls_session *s, char *buf, size_t cap)
{
    snprintf(buf, cap, "%s %s", mbedtls_ssl_get_version(&s->ssl),
             mbedtls_ssl_get_ciphersuite(&s->ssl));
}
