/*
 * linetable.h - the source line of a Python instruction, offline, from the
 * code object's line table as the shim recorded it (CT_REC_PYCODE).
 *
 * Promise: ct_py_line gives exactly the line CPython itself gives for that
 * instruction (PyCode_Addr2Line, which is what tracebacks and co_lines()
 * use), for the line-table formats it knows, and never reads past the table
 * whatever its bytes: a malformed table gives "no line", not a crash.
 *
 * Formats (enum ct_linetable_format, pyver.h): CT_LINETABLE_PEP657 is the location table of CPython 3.11
 * (Objects/locations.md): entries of one start byte
 * 1kkkk(len-1) — kind kkkk, covering len code units — then kind-specific
 * varints (6 bits per byte, bit 6 = more follows, least significant
 * first). Kinds: 15 no location; 14 long form (signed line delta, end-line
 * delta, column, end column); 13 line delta only; 10..12 line delta 0..2
 * plus two column bytes; 0..9 same line, one column byte. Line deltas
 * accumulate from co_firstlineno. CT_LINETABLE_LNOTAB (3.9's co_lnotab)
 * and CT_LINETABLE_PEP626 (3.10's co_linetable) are (byte delta, signed
 * line delta) pairs; in PEP 626's a line delta of -128 marks bytecode with
 * no line. lasti is in code units for every format.
 */
#ifndef COWTRACE_PYVER_LINETABLE_H
#define COWTRACE_PYVER_LINETABLE_H

#include <stddef.h>
#include <stdint.h>

#include "pyver.h"

/* The format of co_linetable for an interpreter (NULL: unknown): the
 * version's data decides (struct ct_pyver.linetable). */
enum ct_linetable_format ct_linetable_format_of(const struct ct_pyver *v);

/* The line of the instruction at index `lasti` (code units) of a code
 * object whose table is tab[0, len) and first line firstlineno. lasti < 0
 * (a frame that has not started) gives firstlineno, as CPython does.
 * Returns the line, or -1 when the instruction has no line (CPython's
 * None) or the table does not cover it. */
int ct_py_line(enum ct_linetable_format fmt, const uint8_t *tab, size_t len, int32_t firstlineno,
               int32_t lasti);

#endif
