/*
 * rc_alloc.h - the server's one allocation wrapper.
 *
 * Out-of-memory policy: inside the server, failing to allocate a few bytes of
 * bookkeeping leaves no sane way forward, so every allocation goes through
 * these wrappers, which log one line and abort() on failure.  This is
 * distinct from the configured memory *limit*, which the store enforces
 * itself and reports as RC_ENO_MEMORY.  protocol/ and the client library do
 * not use this file: they return RC_ENOMEM instead.
 */
#ifndef RECACHE_RC_ALLOC_H
#define RECACHE_RC_ALLOC_H

#include <stddef.h>

void *rc_xmalloc(size_t size);
void *rc_xcalloc(size_t count, size_t size);
void *rc_xrealloc(void *ptr, size_t size);
char *rc_xstrdup(const char *s);
/* rc_xcalloc_aligned - zeroed memory aligned to align (a power of two); freed with free(). */
void *rc_xcalloc_aligned(size_t align, size_t size);
char *rc_xstrndup(const char *s, size_t n);

/* Bytes the allocator really reserved for ptr (malloc_usable_size); 0 for NULL. */
size_t rc_alloc_usable(const void *ptr);

#endif /* RECACHE_RC_ALLOC_H */
