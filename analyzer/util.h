/*
 * util.h - allocation that cannot fail silently, and the error record every
 * reader function fills in.
 *
 * Promise: x*alloc either returns memory or ends the process with a message
 * (an analyzer that runs out of memory has nothing useful left to do), and
 * struct ct_err always carries a byte offset so a user can find the damage
 * in the file with a hex dump.
 */
#ifndef COWTRACE_UTIL_H
#define COWTRACE_UTIL_H

#include <stddef.h>
#include <stdint.h>

#define CT_ERR_MSG 256

struct ct_err {
    uint64_t offset;          /* byte offset in the file the message is about */
    int has_offset;           /* 0 for errors that are about the file as a whole (open, mmap) */
    char msg[CT_ERR_MSG];
};

/* Sets err and returns -1, so parsers can write `return ct_fail(...)`. */
int ct_fail(struct ct_err *err, uint64_t offset, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
int ct_fail_nooff(struct ct_err *err, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

void *xmalloc(size_t n);
void *xcalloc(size_t n, size_t size);
void *xrealloc(void *p, size_t n);
/* realloc for arrays: aborts on n * size overflow instead of wrapping. */
void *xreallocarray(void *p, size_t n, size_t size);
char *xstrdup(const char *s);
/* Copies len bytes and adds a terminator; the copy may contain NULs. */
char *xmemdup0(const void *p, size_t len);

/* The last component of the path s[0, *len): after the last '/', unless
 * that leaves nothing (then all of s). Sets *len to its length. */
const char *ct_basename(const char *s, size_t *len);

/* Prints "cowtrace: " + message to stderr. */
void ct_warnx(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
