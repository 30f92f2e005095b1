/*
 * pylayout.h - what cowtrace knows about CPython's memory layout.
 *
 * Every offset and constant of a CPython version lives in one file,
 * common/pylayout_<major>_<minor>.c, as one struct ct_pylayout. The shim uses
 * it to find the object a write hit (and, for stacks, the frames of the
 * faulting thread); the analyzer uses the same table to decide what part of
 * the object was written. Supporting a new version is one new file and one
 * line in pylayout.c; a trace from a version without a layout still gets its
 * page sets, with causes "unknown".
 *
 * Offsets are in bytes, for 64-bit builds without Py_TRACE_REFS or
 * Py_DEBUG (a debug build has a different object header).
 */
#ifndef COWTRACE_PYLAYOUT_H
#define COWTRACE_PYLAYOUT_H

#include <stdint.h>

struct ct_pylayout {
    const char *name;              /* "3.11" */
    uint32_t major, minor;

    /* PyObject / PyVarObject */
    uint16_t ob_refcnt, ob_type, ob_size;
    uint16_t object_size;          /* sizeof(PyObject) */
    /* Memory before a GC object: PyGC_Head, and for types with
     * Py_TPFLAGS_MANAGED_DICT the managed-dict pre-header before that. */
    uint16_t gc_head_size;
    uint16_t managed_dict_preheader;

    /* PyTypeObject */
    uint16_t tp_name, tp_basicsize, tp_itemsize, tp_flags;
    uint64_t tpflags_managed_dict, tpflags_have_gc, tpflags_heaptype, tpflags_type_subclass, tpflags_ready;

    /* obmalloc: pools of one size class inside arenas */
    uint32_t pool_size, arena_size, pool_overhead, alignment, small_request_threshold;
    uint16_t pool_count, pool_szidx, pool_nextoffset, pool_maxnextoffset; /* pool_header fields */

    /* PyDictKeysObject: not a PyObject, recognised by its shape */
    uint16_t dk_refcnt, dk_log2_size, dk_log2_index_bytes, dk_kind, dk_usable, dk_nentries, dk_indices;

    /* Thread and frame state, for Python stacks */
    uint16_t rt_interpreters_head, rt_tstate_current;
    uint16_t is_next, is_threads_head, ts_next, ts_cframe, ts_native_thread_id;
    uint16_t code_unit;            /* bytes per instruction unit (2) */
    uint16_t cframe_current_frame;
    uint16_t fr_code, fr_previous, fr_prev_instr, fr_owner, fr_is_entry;
    uint16_t co_filename, co_name, co_qualname, co_firstlineno, co_linetable, co_code_adaptive;
    uint16_t ascii_length, ascii_state, ascii_size, compact_size;   /* PyASCIIObject, PyCompactUnicodeObject */
};

/* The layout for a hexversion (PY_VERSION_HEX), or NULL. */
const struct ct_pylayout *ct_pylayout_for(uint64_t hexversion);

#endif
