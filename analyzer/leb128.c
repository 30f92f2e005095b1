/*
 * leb128.c - see leb128.h. The 10th byte may carry only bit 63, which is why
 * its value is checked before shifting: shifting bits past 63 is undefined
 * and would silently drop data.
 */
#include "leb128.h"

enum leb_status leb128_read(const uint8_t **pp, const uint8_t *end, uint64_t *out)
{
    const uint8_t *p = *pp;
    uint64_t v = 0;
    for (unsigned i = 0;; i++) {
        if (i == LEB_MAX_BYTES)
            return LEB_TOO_LONG;
        if (p + i >= end)
            return LEB_TRUNCATED;
        uint8_t b = p[i];
        if (i == LEB_MAX_BYTES - 1 && (b & 0x7f) > 1)
            return (b & 0x80) ? LEB_TOO_LONG : LEB_TOO_BIG;
        v |= (uint64_t)(b & 0x7f) << (7 * i);
        if (!(b & 0x80)) {
            if (v > LEB_MAX_VALUE)
                return LEB_TOO_BIG;
            *out = v;
            *pp = p + i + 1;
            return LEB_OK;
        }
    }
}

const char *leb128_strerror(enum leb_status st)
{
    switch (st) {
    case LEB_OK: return "ok";
    case LEB_TRUNCATED: return "LEB128 number runs past the end of the run list";
    case LEB_TOO_LONG: return "LEB128 number longer than 10 bytes";
    case LEB_TOO_BIG: return "LEB128 number larger than 2^63";
    }
    return "bad LEB128 number";
}

size_t leb128_write(uint64_t v, uint8_t out[LEB_MAX_BYTES])
{
    size_t n = 0;
    do {
        uint8_t b = v & 0x7f;
        v >>= 7;
        out[n++] = b | (v ? 0x80 : 0);
    } while (v);
    return n;
}
