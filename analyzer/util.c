/*
 * util.c - see util.h. Allocation failure ends the process: the analyzer holds
 * no state worth saving, and a clear message beats a NULL dereference later.
 */
#include "util.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

__attribute__((format(printf, 4, 0)))
static int vfail(struct ct_err *err, int has_off, uint64_t off, const char *fmt, va_list ap)
{
    if (err) {
        err->offset = off;
        err->has_offset = has_off;
        vsnprintf(err->msg, sizeof err->msg, fmt, ap);
    }
    return -1;
}

int ct_fail(struct ct_err *err, uint64_t offset, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vfail(err, 1, offset, fmt, ap);
    va_end(ap);
    return -1;
}

int ct_fail_nooff(struct ct_err *err, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vfail(err, 0, 0, fmt, ap);
    va_end(ap);
    return -1;
}

static void oom(size_t n)
{
    fprintf(stderr, "cowtrace: out of memory (allocating %zu bytes)\n", n);
    exit(2);
}

void *xmalloc(size_t n)
{
    void *p = malloc(n ? n : 1);
    if (!p)
        oom(n);
    return p;
}

void *xcalloc(size_t n, size_t size)
{
    void *p = calloc(n ? n : 1, size ? size : 1);
    if (!p)
        oom(n * size);
    return p;
}

void *xrealloc(void *p, size_t n)
{
    p = realloc(p, n ? n : 1);
    if (!p)
        oom(n);
    return p;
}

void *xreallocarray(void *p, size_t n, size_t size)
{
    size_t bytes;
    if (__builtin_mul_overflow(n, size, &bytes))
        oom(SIZE_MAX);
    return xrealloc(p, bytes);
}

char *xstrdup(const char *s)
{
    return xmemdup0(s, strlen(s));
}

char *xmemdup0(const void *p, size_t len)
{
    char *s = xmalloc(len + 1);
    if (len)
        memcpy(s, p, len);
    s[len] = '\0';
    return s;
}

void ct_warnx(const char *fmt, ...)
{
    va_list ap;
    fputs("cowtrace: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
}

const char *ct_basename(const char *s, size_t *len)
{
    const char *slash = memrchr(s, '/', *len);
    if (slash && (size_t)(slash - s) + 1 < *len) {
        *len -= (size_t)(slash - s) + 1;
        s = slash + 1;
    }
    return s;
}
