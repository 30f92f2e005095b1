/*
 * leb128.h - unsigned LEB128 decoding for run lists.
 *
 * Promise: never reads past `end`, never accepts a number longer than 10
 * bytes or larger than 2^63, and tells the caller which of those happened so
 * the error message can say so. Values up to 2^63 leave headroom for the
 * checked additions the run-list walker does.
 */
#ifndef COWTRACE_LEB128_H
#define COWTRACE_LEB128_H

#include <stddef.h>
#include <stdint.h>

enum leb_status {
    LEB_OK = 0,
    LEB_TRUNCATED = 1,        /* the byte string ended inside a number */
    LEB_TOO_LONG = 2,         /* more than 10 bytes */
    LEB_TOO_BIG = 3,          /* value above 2^63 */
};

#define LEB_MAX_BYTES 10
#define LEB_MAX_VALUE (UINT64_C(1) << 63)

/* Decodes one number at *p (p < end is not required). On LEB_OK advances *p
 * past it; otherwise leaves *p at the start of the bad number. */
enum leb_status leb128_read(const uint8_t **p, const uint8_t *end, uint64_t *out);

const char *leb128_strerror(enum leb_status st);

/* Encodes v; returns the number of bytes written to out (at most 10). */
size_t leb128_write(uint64_t v, uint8_t out[LEB_MAX_BYTES]);

#endif
