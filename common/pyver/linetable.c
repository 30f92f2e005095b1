/*
 * linetable.c - see linetable.h. Follows CPython 3.11's Objects/codeobject.c
 * (advance(), get_line_delta(), scan_varint()) step by step, so that the
 * two agree on every table CPython writes; analyzer/tests/test_linetable.py checks
 * it against co_lines() for every instruction of thousands of real code
 * objects.
 */
#include "linetable.h"

#include <stdbool.h>

enum ct_linetable_format ct_linetable_format_of(const struct ct_pyver *v)
{
    return v ? v->linetable : CT_LINETABLE_UNKNOWN;
}

/* A reader over one entry's bytes that never leaves [p, end). */
struct rd {
    const uint8_t *p, *end;
    bool bad;
};

static unsigned next_byte(struct rd *r)
{
    if (r->p >= r->end) {
        r->bad = true;
        return 0;
    }
    return *r->p++;
}

/* scan_varint: 6 bits per byte, bit 6 says another byte follows. Values
 * past 32 bits are malformed (CPython never writes them). */
static uint32_t varint(struct rd *r)
{
    unsigned b = next_byte(r);
    uint32_t v = b & 63;
    unsigned shift = 0;
    while (b & 64) {
        b = next_byte(r);
        shift += 6;
        if (shift > 30 || r->bad) {
            r->bad = true;
            return 0;
        }
        v |= (uint32_t)(b & 63) << shift;
    }
    return v;
}

static int32_t svarint(struct rd *r)
{
    uint32_t u = varint(r);
    return u & 1 ? -(int32_t)(u >> 1) : (int32_t)(u >> 1);
}

#define KIND_NONE 15
#define KIND_LONG 14
#define KIND_NO_COLUMNS 13
#define KIND_ONE_LINE0 10

static int pep657_line(const uint8_t *tab, size_t len, int32_t firstlineno, int32_t lasti)
{
    if (lasti < 0)
        return firstlineno;           /* PyCode_Addr2Line: addrq < 0 -> co_firstlineno */
    /* Line numbers are kept in 64 bits so a hostile table of huge deltas
     * cannot overflow; a result that does not fit an int is no line. */
    int64_t line = firstlineno;
    uint64_t unit = 0;                /* code units covered before this entry */
    const uint8_t *p = tab, *end = tab + len;
    while (p < end) {
        unsigned first = *p;
        if (!(first & 128))
            return -1;                /* entries start with bit 7 set */
        unsigned kind = first >> 3 & 15;
        uint64_t units = (first & 7) + 1;
        struct rd r = { p + 1, end, false };
        int64_t delta = 0;
        if (kind == KIND_LONG || kind == KIND_NO_COLUMNS)
            delta = svarint(&r);
        else if (kind >= KIND_ONE_LINE0 && kind < KIND_NO_COLUMNS)
            delta = kind - KIND_ONE_LINE0;
        if (r.bad)
            return -1;
        line += delta;
        if ((uint64_t)lasti < unit + units) {
            if (kind == KIND_NONE || line < INT32_MIN || line > INT32_MAX)
                return -1;
            return (int)line;
        }
        unit += units;
        /* The next entry starts at the next byte with bit 7 set (CPython's
         * advance() skips the kind's payload this way too). */
        p++;
        while (p < end && !(*p & 128))
            p++;
    }
    return -1;
}

int ct_py_line(enum ct_linetable_format fmt, const uint8_t *tab, size_t len, int32_t firstlineno,
               int32_t lasti)
{
    switch (fmt) {
    case CT_LINETABLE_UNKNOWN:
        return -1;
    case CT_LINETABLE_PEP657:
        return pep657_line(tab, len, firstlineno, lasti);
    }
    return -1;   /* a value from a hostile PYLAYOUT record */
}
