/*
 * leb128.c - see leb128.h. The encoding itself lives in common/ct_wire.h,
 * shared with the shim's writer; this file gives it the analyzer's names
 * and words for its errors.
 */
#include "leb128.h"

#include "ct_wire.h"

_Static_assert(LEB_MAX_BYTES == CT_WIRE_ULEB_MAX_BYTES, "one LEB128 length limit");
_Static_assert(LEB_MAX_VALUE == CT_WIRE_ULEB_MAX_VALUE, "one LEB128 value limit");
_Static_assert((int)LEB_OK == (int)CT_WIRE_ULEB_OK && (int)LEB_TRUNCATED == (int)CT_WIRE_ULEB_TRUNCATED &&
               (int)LEB_TOO_LONG == (int)CT_WIRE_ULEB_TOO_LONG && (int)LEB_TOO_BIG == (int)CT_WIRE_ULEB_TOO_BIG,
               "one set of LEB128 errors");

enum leb_status leb128_read(const uint8_t **pp, const uint8_t *end, uint64_t *out)
{
    return (enum leb_status)ct_wire_get_uleb(pp, end, out);
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
    return ct_wire_put_uleb(out, v);
}
