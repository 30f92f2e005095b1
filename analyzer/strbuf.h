/*
 * strbuf.h - a growable byte string, for building frame names and folded
 * stack lines whose length the trace decides.
 *
 * Promise: s is always NUL-terminated (after the first append or init) and
 * never overflows; growth is geometric.
 */
#ifndef COWTRACE_STRBUF_H
#define COWTRACE_STRBUF_H

#include <stddef.h>

struct strbuf {
    char *s;
    size_t len, cap;
};

void sb_init(struct strbuf *b);
void sb_free(struct strbuf *b);
void sb_reset(struct strbuf *b);
void sb_add(struct strbuf *b, const void *p, size_t n);
void sb_adds(struct strbuf *b, const char *s);
void sb_addf(struct strbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
