/*
 * rc_export.h - which symbols librecache exports.
 *
 * librecache.so is built with hidden visibility by default
 * (-fvisibility=hidden), so only declarations marked RC_EXPORT become part
 * of its dynamic symbol table: the public API of recache/recache.h and
 * recache/rc_errors.h.  Everything else compiled into the library, the wire
 * codec (rc_encode*, rc_decode*) and the rc__* internals, stays private and
 * may change in any release without touching the ABI.  In a static build
 * the attribute changes nothing.
 */
#ifndef RECACHE_RC_EXPORT_H
#define RECACHE_RC_EXPORT_H

#if defined(__GNUC__) || defined(__clang__)
#define RC_EXPORT __attribute__((visibility("default")))
#else
#define RC_EXPORT
#endif

#endif /* RECACHE_RC_EXPORT_H */
