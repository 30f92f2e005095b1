/*
 * gcstate.h - what the cycle collector of a CPython process has done: how
 * many full collections it ran, whether objects are frozen, whether the
 * interpreter is shutting down.
 *
 * Promise: each answer reads a few words of the main interpreter (found
 * from _PyRuntime) through struct ct_memread, with the version's offsets;
 * nothing allocates or calls libc, so the shim's flusher runs it and the
 * analyzer runs it on another process (cowtrace snapshot) alike. No offset
 * for the version, or an unreadable word, gives the "unknown" answer each
 * function names.
 */
#ifndef COWTRACE_PYVER_GCSTATE_H
#define COWTRACE_PYVER_GCSTATE_H

#include <stdbool.h>
#include <stdint.h>

#include "memread.h"
#include "pyver.h"

/* Full collections the interpreter ran
 * (gc.generation_stats[oldest].collections); -1 unknown. */
int64_t ct_py_full_collections(const struct ct_pyver *v, const struct ct_memread *m, uint64_t runtime);

/* The program froze its objects: the permanent generation holds at least
 * CT_PY_FROZEN_MIN of them. Not "any": 3.12.1 itself leaves 375 objects of
 * its start-up there (gc.get_freeze_count() in a bare interpreter), while a
 * gc.freeze() after a program's imports moves tens of thousands. Walks
 * _gc_next at most CT_PY_FROZEN_MIN steps. A free-threaded build has no
 * permanent generation: there the frozen bit of the interpreter's sys dict
 * says it (gc.freeze() sets it in every object). Unknown: false. */
#define CT_PY_FROZEN_MIN 2000
bool ct_py_gc_frozen(const struct ct_pyver *v, const struct ct_memread *m, uint64_t runtime);

/* Py_FinalizeEx has begun (_PyRuntime._finalizing: set before
 * finalization's own collections, never cleared). Unknown: false. */
bool ct_py_finalizing(const struct ct_pyver *v, const struct ct_memread *m, uint64_t runtime);

#endif
