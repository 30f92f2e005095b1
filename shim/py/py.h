/*
 * py.h - the shim's CPython part (shim/py/), internal to it and stacks.c.
 *
 * What a write hit, in CPython's terms. At fork the parent's interpreter is
 * identified (identify.c); in the child its version's data comes from
 * common/pyver/ (setup.c, which also records it: PYTHON and PYLAYOUT). For
 * the first write to a page (sync backends: evidence.c) or for each written
 * page (uffd-async: summary.c) the memory around the address is decoded by
 * common/pyver's decoder, reading through guarded loads (peek.c), and types
 * seen are cached and recorded once each (types.c). Deciding the cause from
 * that evidence is the analyzer's job. gc_freeze.c runs gc.freeze() in the
 * parent when asked.
 *
 * No file here knows a CPython offset or compares a version: that is all
 * in common/pyver/.
 *
 * Promise: in a traced child, shim/py/ reads the program's memory only
 * where a read can neither fault nor copy a shared page (the page being
 * written, in place; everything else by guarded loads, peek.c), allocates
 * only from the arena and only at set-up, and is async-signal-safe.
 * identify.c and gc_freeze.c run in the parent, inside fork(), and may use
 * libc.
 */
#ifndef COWTRACE_SHIM_PY_H
#define COWTRACE_SHIM_PY_H

#include <sys/uio.h>

#include "ct_shim.h"
#include "debug_offsets.h"
#include "decode.h"
#include "memread.h"
#include "pyver.h"

#define CT_TYPESET_SIZE 16384u   /* power of two */

struct ct_typeent {
    _Atomic uintptr_t addr;      /* 0 = empty */
    _Atomic int ready;
    struct ct_pytypeinfo info;   /* index: 1-based, the PYTYPE record's */
};

/* Per-child state, in the arena; ct_py is NULL when there is no layout. */
struct ct_pyinfo {
    const struct ct_pyver *v;
    struct ct_memread mem;       /* guarded loads of our own memory (peek.c) */
    struct ct_pydecoder dec;     /* v, &mem, the type cache below */
    int guarded;                 /* our probe handler stands by: reads allowed */
    struct ct_state *st;         /* for the type cache's PYTYPE records */
    struct ct_typeent *types;
    _Atomic uint32_t ntypes;
    int64_t gc_at_fork;          /* full collections at the fork; -1 unknown, or objects were
                                    frozen before the fork (collections.c) */
    int64_t gc_recorded;         /* the count the last PYGC record gave (or gc_at_fork) */
};
extern struct ct_pyinfo *ct_py;

/* identify.c: the layout chosen for the interpreter at its identification
 * (NULL: none), and how _Py_DebugOffsets was used (3.13+). */
const struct ct_pyver *ct_py_layout(const struct ct_discovery **d);

/* collections.c: the count of full collections when reads begin. */
void ct_py_collections_start(void);

/* peek.c: the guarded reader, and many pieces in one probe (a piece that
 * faults is zeroed). */
int ct_py_guarded_read(void *ctx, uintptr_t addr, void *dst, size_t len);
void ct_py_guarded_copy_many(struct iovec *local, const struct iovec *remote, size_t n);

/* types.c: the decoder's type lookup, caching and recording (PYTYPE). */
const struct ct_pytypeinfo *ct_py_type_cached(void *info, uintptr_t t, struct ct_pytypeinfo *scratch);

/* summary.c: its working memory, allocated at set-up when wanted. */
void ct_py_summary_setup(int wanted);

/* For stacks.c: the decoder in use (NULL: no layout), and its guarded read
 * as a trace_records.h ct_rec_read_fn (a line table read into its record). */
const struct ct_pydecoder *ct_py_decoder(void);
int ct_py_read(uintptr_t addr, void *out, size_t n);

#endif
