/*
 * allocator.h - which memory allocator a CPython's object domain uses, by
 * the name CPython itself gives it (PYTHONMALLOC's values, and what
 * _PyMem_GetCurrentAllocatorName returns), as the PYTHON record's
 * CT_PY_NO_PYMALLOC / CT_PY_ALLOC_* flags (common/ct_format.h).
 *
 * Promise: one table for the shim (which asks the interpreter for the name)
 * and the analyzer (cowtrace snapshot, which reads it from the process's
 * environment); pure, async-signal-safe, no libc.
 */
#ifndef COWTRACE_PYVER_ALLOCATOR_H
#define COWTRACE_PYVER_ALLOCATOR_H

#include <stdbool.h>
#include <stdint.h>

/* The flags for an allocator name ("pymalloc", "malloc_debug", ...).
 * "default" and "debug" (PYTHONMALLOC's) are the build's default allocator
 * without or with the debug hooks: pymalloc, or mimalloc in a free-threaded
 * build. *known is false for a name CPython does not have (flags 0:
 * pymalloc, the default of every GIL build). */
uint32_t ct_py_allocator_flags(const char *name, bool free_threaded, bool *known);

#endif
