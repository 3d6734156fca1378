/*
 * rb_json.c - see rb_json.h.  Output errors are left to the caller, who
 * checks ferror()/fclose() once at the end of the report.
 */
#include "rb_json.h"

#include <math.h>

void rb_json_init(rb_json *j, FILE *out)
{
    j->out = out;
    j->depth = 0;
    j->count[0] = 0;
}

static void rb__json_string(FILE *out, const char *s)
{
    fputc('"', out);
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p == '"' || *p == '\\')
            fprintf(out, "\\%c", *p);
        else if (*p < 0x20)
            fprintf(out, "\\u%04x", *p);
        else
            fputc(*p, out);
    }
    fputc('"', out);
}

/* Comma and key for the next member of the current level. */
static void rb__json_member(rb_json *j, const char *key)
{
    if (j->count[j->depth]++ > 0)
        fputc(',', j->out);
    if (key) {
        rb__json_string(j->out, key);
        fputc(':', j->out);
    }
}

void rb_json_open(rb_json *j, const char *key, char bracket)
{
    rb__json_member(j, key);
    fputc(bracket, j->out);
    if (j->depth + 1 < RB_JSON_MAX_DEPTH)
        j->depth++;
    j->count[j->depth] = 0;
}

void rb_json_close(rb_json *j, char bracket)
{
    fputc(bracket, j->out);
    if (j->depth > 0)
        j->depth--;
}

void rb_json_int(rb_json *j, const char *key, long long v)
{
    rb__json_member(j, key);
    fprintf(j->out, "%lld", v);
}

void rb_json_u64(rb_json *j, const char *key, unsigned long long v)
{
    rb__json_member(j, key);
    fprintf(j->out, "%llu", v);
}

void rb_json_dbl(rb_json *j, const char *key, double v)
{
    rb__json_member(j, key);
    if (isfinite(v))
        fprintf(j->out, "%.6g", v);
    else
        fputs("null", j->out);
}

void rb_json_str(rb_json *j, const char *key, const char *v)
{
    rb__json_member(j, key);
    rb__json_string(j->out, v ? v : "");
}

void rb_json_bool(rb_json *j, const char *key, int v)
{
    rb__json_member(j, key);
    fputs(v ? "true" : "false", j->out);
}
