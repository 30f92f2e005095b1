/*
 * linetable.c - see linetable.h. The 3.11 format follows CPython 3.11's Objects/codeobject.c
 * (advance(), get_line_delta(), scan_varint()) step by step, so that the
 * two agree on every table CPython writes; analyzer/tests/test_linetable.py checks
 * it against co_lines() for every instruction of thousands of real code
 * objects. The 3.9 and 3.10 formats follow those versions'
 * PyCode_Addr2Line, and test_linetable.py checks them against it, called
 * through ctypes, in 3.9.18 and 3.10.13.
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

/* 3.9's PyCode_Addr2Line (Objects/codeobject.c): co_lnotab is (byte
 * delta, signed line delta) pairs; the line is co_firstlineno plus the line
 * deltas of every pair whose running byte offset is at most the
 * instruction's. Every instruction has a line. */
static int lnotab_line(const uint8_t *tab, size_t len, int32_t firstlineno, int32_t lasti)
{
    if (lasti < 0)
        return firstlineno;           /* f_lasti -1: addr 0 > -1 stops at once */
    int64_t addrq = (int64_t)lasti * 2, addr = 0, line = firstlineno;
    for (size_t i = 0; i + 1 < len; i += 2) {
        addr += tab[i];
        if (addr > addrq)
            break;
        line += (int8_t)tab[i + 1];
    }
    return line < INT32_MIN || line > INT32_MAX ? -1 : (int)line;
}

/* 3.10's PyCode_Addr2Line (PEP 626, Objects/lnotab_notes.txt): co_linetable
 * is (byte delta, signed line delta) pairs, each a range of bytecode that
 * starts where the last ended; line delta -128 is a range without a line
 * (and adds nothing). The instruction's range gives its line; past the
 * table there is none. */
static int pep626_line(const uint8_t *tab, size_t len, int32_t firstlineno, int32_t lasti)
{
    if (lasti < 0)
        return firstlineno;
    int64_t addrq = (int64_t)lasti * 2, end = 0, line = firstlineno;
    for (size_t i = 0; i + 1 < len; i += 2) {
        int64_t start = end;
        end += tab[i];
        int8_t ldelta = (int8_t)tab[i + 1];
        if (ldelta != -128)
            line += ldelta;
        if (start <= addrq && addrq < end)
            return ldelta == -128 || line < INT32_MIN || line > INT32_MAX ? -1 : (int)line;
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
    case CT_LINETABLE_LNOTAB:
        return lnotab_line(tab, len, firstlineno, lasti);
    case CT_LINETABLE_PEP626:
        return pep626_line(tab, len, firstlineno, lasti);
    }
    return -1;   /* a value from a hostile PYLAYOUT record */
}
