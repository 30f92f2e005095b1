/*
 * ct_wire.h - the byte encodings of the trace format (common/ct_format.h):
 * little-endian integers, strings, unsigned LEB128.
 *
 * Promise: the one definition of each encoding, shared by the shim's record
 * encoders (shim/trace_records.c, shim/runs.c), the analyzer and its test
 * trace builder. Every function is inline and pure: it touches only the
 * memory it is given, allocates nothing, calls nothing and never sets
 * errno, so the shim may use it in a signal handler. Decoders take an end
 * pointer and never read past it.
 *
 *   integers  little-endian, any alignment
 *   string    uint16_t length, then that many bytes, no terminator
 *   ULEB128   7 bits a byte, low first, high bit = more; at most 10 bytes
 *             and at most 2^63 (headroom for the reader's page arithmetic)
 */
#ifndef COWTRACE_CT_WIRE_H
#define COWTRACE_CT_WIRE_H

#include <stddef.h>
#include <stdint.h>

/* ---- little-endian integers -------------------------------------------- */

static inline void ct_wire_put16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
}

static inline void ct_wire_put32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static inline void ct_wire_put64(uint8_t *p, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static inline uint16_t ct_wire_get16(const uint8_t *p)
{
    return (uint16_t)(p[0] | p[1] << 8);
}

static inline uint32_t ct_wire_get32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static inline uint64_t ct_wire_get64(const uint8_t *p)
{
    return ct_wire_get32(p) | (uint64_t)ct_wire_get32(p + 4) << 32;
}

/* ---- strings ------------------------------------------------------------- */

#define CT_WIRE_STR_MAX 65535u     /* the longest string a length word holds */

/* Bytes a string of n bytes takes in a record (n already capped). */
static inline size_t ct_wire_str_size(size_t n)
{
    return 2 + n;
}

/* Writes n bytes of s (n <= CT_WIRE_STR_MAX: callers cap first, because
 * they size the record) with their length word; returns the end. */
static inline uint8_t *ct_wire_put_str(uint8_t *p, const void *s, size_t n)
{
    const uint8_t *src = s;
    ct_wire_put16(p, (uint16_t)n);
    for (size_t i = 0; i < n; i++)
        p[2 + i] = src[i];
    return p + 2 + n;
}

/* ---- records ------------------------------------------------------------- */

/* A record's size: its fixed part and payload, padded to a multiple of 8. */
static inline size_t ct_wire_rec_size(size_t bytes)
{
    return (bytes + 7) & ~(size_t)7;
}

/* ---- unsigned LEB128 ------------------------------------------------------- */

#define CT_WIRE_ULEB_MAX_BYTES 10
#define CT_WIRE_ULEB_MAX_VALUE (UINT64_C(1) << 63)

/* Encodes v at p (room for CT_WIRE_ULEB_MAX_BYTES); returns bytes written. */
static inline size_t ct_wire_put_uleb(uint8_t *p, uint64_t v)
{
    size_t n = 0;
    do {
        uint8_t b = v & 0x7f;
        v >>= 7;
        p[n++] = b | (v ? 0x80 : 0);
    } while (v);
    return n;
}

enum ct_wire_uleb_status {
    CT_WIRE_ULEB_OK = 0,
    CT_WIRE_ULEB_TRUNCATED = 1,   /* the bytes ended inside a number */
    CT_WIRE_ULEB_TOO_LONG = 2,    /* more than 10 bytes */
    CT_WIRE_ULEB_TOO_BIG = 3,     /* value above 2^63 */
};

/* Decodes one number at *pp (reading nothing at or past end). On OK
 * advances *pp past it; otherwise leaves *pp at the start of the bad
 * number. The 10th byte may carry only bit 63, so its value is checked
 * before shifting: bits shifted past 63 would be lost silently. */
static inline enum ct_wire_uleb_status ct_wire_get_uleb(const uint8_t **pp, const uint8_t *end, uint64_t *out)
{
    const uint8_t *p = *pp;
    uint64_t v = 0;
    for (unsigned i = 0;; i++) {
        if (i == CT_WIRE_ULEB_MAX_BYTES)
            return CT_WIRE_ULEB_TOO_LONG;
        if (p + i >= end)
            return CT_WIRE_ULEB_TRUNCATED;
        uint8_t b = p[i];
        if (i == CT_WIRE_ULEB_MAX_BYTES - 1 && (b & 0x7f) > 1)
            return (b & 0x80) ? CT_WIRE_ULEB_TOO_LONG : CT_WIRE_ULEB_TOO_BIG;
        v |= (uint64_t)(b & 0x7f) << (7 * i);
        if (!(b & 0x80)) {
            if (v > CT_WIRE_ULEB_MAX_VALUE)
                return CT_WIRE_ULEB_TOO_BIG;
            *out = v;
            *pp = p + i + 1;
            return CT_WIRE_ULEB_OK;
        }
    }
}

#endif
