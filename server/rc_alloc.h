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

/*
 * rc_alloc_heap_usable - the usable size glibc malloc gives a request of n
 * bytes served from its heap: n plus one size word rounded up to 16 bytes
 * (at least four words), less the size word.
 */
size_t rc_alloc_heap_usable(size_t n);

/*
 * Large arrays (the store's index buckets and CLOCK rings).  From
 * RC_ARRAY_MAP_MIN bytes up, an array is a private anonymous mapping of its
 * own, so freeing one (when it is replaced by one twice the size) gives its
 * pages back to the system at once, instead of leaving a hole of that size
 * in the heap among the entries; below that it comes from calloc.  The
 * caller remembers the byte count: it is needed to free and to charge.
 */
#define RC_ARRAY_MAP_MIN ((size_t)32 * 1024)

/* rc_xcalloc_array - a zeroed array of `bytes`; aborts on failure.  Free with rc_array_free. */
void *rc_xcalloc_array(size_t bytes);

/* rc_array_free - free an rc_xcalloc_array(bytes) block (NULL is fine). */
void rc_array_free(void *ptr, size_t bytes);

/* rc_array_usable - bytes an rc_xcalloc_array(bytes) block really holds (0 for NULL). */
size_t rc_array_usable(const void *ptr, size_t bytes);

/* rc_array_estimate - rc_array_usable of a block not allocated yet (page size: the system's). */
size_t rc_array_estimate(size_t bytes, size_t page_size);

#endif /* RECACHE_RC_ALLOC_H */
