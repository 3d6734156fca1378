/*
 * rb_json.h - a minimal streaming JSON writer for the bench report.
 *
 * Design.  The writer only tracks, per nesting level, whether a member has
 * been written yet, so it can place commas; it never buffers.  Keys are
 * NULL inside arrays.  Strings are escaped per RFC 8259.  Not thread-safe:
 * one writer per report.
 */
#ifndef RB_JSON_H
#define RB_JSON_H

#include <stdio.h>

#define RB_JSON_MAX_DEPTH 16

typedef struct rb_json {
    FILE *out;
    int depth;
    int count[RB_JSON_MAX_DEPTH]; /* members written at each level */
} rb_json;

void rb_json_init(rb_json *j, FILE *out);
/* Open an object ('{') or array ('[') as member `key` (NULL in arrays or at top level). */
void rb_json_open(rb_json *j, const char *key, char bracket);
void rb_json_close(rb_json *j, char bracket);
void rb_json_int(rb_json *j, const char *key, long long v);
void rb_json_u64(rb_json *j, const char *key, unsigned long long v);
/* Non-finite doubles are written as null (JSON has no NaN). */
void rb_json_dbl(rb_json *j, const char *key, double v);
void rb_json_str(rb_json *j, const char *key, const char *v);
void rb_json_bool(rb_json *j, const char *key, int v);

#endif
