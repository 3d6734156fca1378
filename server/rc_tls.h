/*
 * rc_tls.h - the admin port's TLS policy and its per-connection sessions,
 * on mbedTLS 2.28.
 *
 * Design.  One rc_tls holds everything shared by the admin connections:
 * the server certificate and key, the CA that must sign client
 * certificates, the random generator and the mbedTLS configuration.  The
 * policy is fixed here and nowhere else:
 *   - TLS 1.2 only (mbedTLS 2.28 has no production TLS 1.3 server); SSL 3,
 *     TLS 1.0 and 1.1 handshakes fail;
 *   - ECDHE key exchange (X25519, P-256, P-384) with AEAD ciphers only
 *     (AES-GCM, ChaCha20-Poly1305);
 *   - renegotiation disabled, no compression (mbedTLS 2.28 is built
 *     without it), no session tickets;
 *   - a client certificate is required and must chain to the configured CA
 *     (MBEDTLS_SSL_VERIFY_REQUIRED): without one the handshake fails with
 *     an alert and no application byte is ever sent;
 *   - an optional allow-list of client subjects, checked right after the
 *     handshake (rc_tls_subject_allowed).
 *
 * A session (rc_tls_session) moves ciphertext through two memory buffers
 * instead of a socket, so it fits a libuv loop: the caller appends what it
 * read to `in`, drives the session, and writes out whatever appeared in
 * `out`.  Nothing here does I/O or touches libuv.
 *
 * Threads.  The shared rc_tls is read-only after creation except for the
 * random generator, which mbedTLS locks itself only with MBEDTLS_THREADING;
 * so a rc_tls is used by one thread (the admin listener's).  Sessions belong
 * to one connection.
 */
#ifndef RECACHE_RC_TLS_H
#define RECACHE_RC_TLS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <mbedtls/ssl.h>

typedef struct rc_tls rc_tls;

/* A growable byte buffer of ciphertext (rc_xrealloc'ed). */
typedef struct rc_tls_buf {
    uint8_t *data;
    size_t len, cap;
    size_t off; /* bytes already consumed from the front */
} rc_tls_buf;

typedef struct rc_tls_session {
    mbedtls_ssl_context ssl;
    rc_tls_buf in;  /* ciphertext received, not yet consumed by mbedTLS */
    rc_tls_buf out; /* ciphertext produced, to be written to the socket */
    bool handshake_done;
} rc_tls_session;

/*
 * rc_tls_create - load cert, key and ca (PEM file paths) and build the
 * policy above.  allow is the admin-allow-subject text (';'-separated
 * entries; "" allows every certificate the CA signed).  Returns 0 and
 * *out, or RC_EINVAL with a sentence naming the file and mbedTLS's reason
 * in err.
 */
int rc_tls_create(const char *cert, const char *key, const char *ca, const char *allow, char *err,
                  size_t errlen, rc_tls **out);

/* rc_tls_destroy - free everything; no session may still use it.  NULL is a no-op. */
void rc_tls_destroy(rc_tls *tls);

/* rc_tls_session_init - set up s for a new connection.  0, or RC_ENOMEM. */
int rc_tls_session_init(rc_tls *tls, rc_tls_session *s);

/* rc_tls_session_free - release s (its buffers and mbedTLS state). */
void rc_tls_session_free(rc_tls_session *s);

/* rc_tls_feed - append len received ciphertext bytes to s->in. */
void rc_tls_feed(rc_tls_session *s, const uint8_t *data, size_t len);

/*
 * rc_tls_handshake - advance the handshake with the ciphertext in s->in.
 * Returns 1 when done, 0 when more input is needed, or a negative mbedTLS
 * error (the handshake failed: write out what is in s->out, the alert,
 * and close).  err receives mbedTLS's description on failure.
 */
int rc_tls_handshake(rc_tls_session *s, char *err, size_t errlen);

/*
 * rc_tls_read - decrypt application data into buf.  Returns the bytes
 * read (> 0), 0 when more ciphertext is needed, RC_TLS_CLOSED when the
 * peer sent close_notify, or another negative mbedTLS error.
 */
#define RC_TLS_CLOSED (-1)
long rc_tls_read(rc_tls_session *s, uint8_t *buf, size_t cap);

/* rc_tls_write - encrypt len bytes into s->out.  0, or a negative mbedTLS error. */
int rc_tls_write(rc_tls_session *s, const uint8_t *data, size_t len);

/* rc_tls_close_notify - queue a close_notify alert in s->out (best effort). */
void rc_tls_close_notify(rc_tls_session *s);

/*
 * rc_tls_subject - the peer certificate's subject DN as mbedTLS prints it
 * ("CN=ops, O=example"), into buf.  "" when there is none.
 */
void rc_tls_subject(const rc_tls_session *s, char *buf, size_t cap);

/*
 * rc_tls_subject_allowed - whether subject passes tls's allow-list: true
 * when the list is empty, or when an entry equals the whole subject or,
 * for an entry "CN=name", the subject's CN.
 */
bool rc_tls_subject_allowed(const rc_tls *tls, const char *subject);

/* rc_tls_version - the negotiated protocol and cipher suite ("TLSv1.2 ..."), for logs. */
void rc_tls_version(const rc_tls_session *s, char *buf, size_t cap);

#endif /* RECACHE_RC_TLS_H */
