/*
 * rc_alloc.c - the server's allocation wrappers.
 *
 * Design.  The server treats failure to obtain a few bytes of bookkeeping as
 * fatal: there is no way to continue serving correctly, and every caller
 * checking for NULL would multiply the untested error paths.  So each
 * wrapper logs one line naming the request on stderr and aborts.  The
 * configured memory *limit* is a different matter, enforced by the store
 * before it allocates (RC_ENO_MEMORY), so hitting this path means the
 * machine itself is out of memory.  A zero-byte request is served as one
 * byte so that a non-NULL result always means success.
 */
#define _GNU_SOURCE
#include "rc_alloc.h"

#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

/* rc__alloc_failed - report which request failed, then abort (never returns). */
static _Noreturn void rc__alloc_failed(const char *what, size_t size)
{
    fprintf(stderr, "recache: fatal: %s of %zu bytes failed: out of memory\n", what, size);
    abort();
}

void *rc_xmalloc(size_t size)
{
    void *p = malloc(size ? size : 1);
    if (!p)
        rc__alloc_failed("malloc", size);
    return p;
}

void *rc_xcalloc(size_t count, size_t size)
{
    void *p = calloc(count ? count : 1, size ? size : 1);
    if (!p)
        rc__alloc_failed("calloc", count * size);
    return p;
}

void *rc_xcalloc_aligned(size_t align, size_t size)
{
    size_t rounded = (size + align - 1u) / align * align; /* aligned_alloc needs a multiple */
    void *p = aligned_alloc(align, rounded ? rounded : align);
    if (!p)
        rc__alloc_failed("aligned_alloc", rounded);
    memset(p, 0, rounded ? rounded : align);
    return p;
}

/* rc_xrealloc - like realloc, but a zero size keeps a one-byte block instead of freeing. */
void *rc_xrealloc(void *ptr, size_t size)
{
    void *p = realloc(ptr, size ? size : 1);
    if (!p)
        rc__alloc_failed("realloc", size);
    return p;
}

char *rc_xstrdup(const char *s)
{
    size_t n = strlen(s);
    char *p = rc_xmalloc(n + 1);
    memcpy(p, s, n + 1);
    return p;
}

/* rc_xstrndup - copy at most n bytes of s (stopping at a NUL) and terminate the copy. */
char *rc_xstrndup(const char *s, size_t n)
{
    size_t len = strnlen(s, n);
    char *p = rc_xmalloc(len + 1);
    memcpy(p, s, len);
    p[len] = '\0';
    return p;
}

size_t rc_alloc_usable(const void *ptr)
{
    return ptr ? malloc_usable_size((void *)ptr) : 0;
}

size_t rc_alloc_heap_usable(size_t n)
{
    const size_t word = sizeof(size_t);
    size_t chunk = (n + word + 15u) / 16u * 16u;
    return (chunk < 4u * word ? 4u * word : chunk) - word;
}

/* The system's page size (arrays are allocated rarely: no need to cache it). */
static size_t rc__page_size(void)
{
    long p = sysconf(_SC_PAGESIZE);
    return p > 0 ? (size_t)p : 4096u;
}

size_t rc_array_estimate(size_t bytes, size_t page_size)
{
    if (bytes < RC_ARRAY_MAP_MIN)
        return rc_alloc_heap_usable(bytes);
    return (bytes + page_size - 1u) / page_size * page_size;
}

void *rc_xcalloc_array(size_t bytes)
{
    if (bytes < RC_ARRAY_MAP_MIN)
        return rc_xcalloc(1, bytes);
    size_t len = rc_array_estimate(bytes, rc__page_size());
    void *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED)
        rc__alloc_failed("mmap", len);
    return p; /* anonymous mappings are zero-filled */
}

void rc_array_free(void *ptr, size_t bytes)
{
    if (!ptr)
        return;
    if (bytes < RC_ARRAY_MAP_MIN)
        free(ptr);
    else
        munmap(ptr, rc_array_estimate(bytes, rc__page_size()));
}

size_t rc_array_usable(const void *ptr, size_t bytes)
{
    if (!ptr)
        return 0;
    return bytes < RC_ARRAY_MAP_MIN ? malloc_usable_size((void *)ptr)
                                    : rc_array_estimate(bytes, rc__page_size());
}
