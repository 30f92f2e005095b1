/*
 * v3_13.c - CPython 3.13 (64-bit, release build, GIL; not the free-threaded
 * 3.13t, whose object header differs).
 *
 * Every offset below was measured with offsetof/sizeof against the 3.13.0
 * headers (pyenv's include/python3.13, internal/ included, compiled with
 * Py_BUILD_CORE) on 2026-12-01. What changed from 3.12:
 *  - frames: no _PyCFrame; PyThreadState.current_frame (72) points at the
 *    innermost frame (CT_PYCHAIN_TSTATE_313); the code object is
 *    f_executable (0), the instruction instr_ptr (56), the C stack's shim
 *    frames are still owner 3;
 *  - the runtime and interpreter grew: interpreters.head 632, next 7264,
 *    threads.head 7344; native_thread_id 160;
 *  - co_code_adaptive 200;
 *  - instance values inline after the header (Py_TPFLAGS_INLINE_VALUES,
 *    1<<2): writes there are fields of the instance (`object`);
 *  - pymalloc's state moved behind a pointer in the interpreter; pools are
 *    still recognised by their headers (16 KiB, 48 bytes).
 * The same as 3.12: object header, GC head, pre-header (MANAGED_DICT or
 * MANAGED_WEAKREF), type offsets, dict keys, location table, unicode
 * state bits, immortality (_Py_IMMORTAL_REFCNT = UINT_MAX on 64-bit).
 * The thread state is thread-local, as in 3.12.
 *
 * 3.13 also publishes _Py_DebugOffsets at the start of _PyRuntime: the
 * shim and `cowtrace snapshot` take from it every offset it publishes
 * (debug_offsets.c) and this table's for the rest; the thread, frame, code
 * and string offsets below are what a 3.13.0 process publishes (the
 * test dbgoff-live compares them), and used when a process's published
 * offsets fail the plausibility checks.
 */
#include "pyver.h"

const struct ct_pyver ct_pyver_3_13 = {
    .name = "3.13",
    .major = 3,
    .minor = 13,
    .L = {
        .ob_refcnt = 0,
        .ob_type = 8,
        .ob_size = 16,
        .object_size = 16,
        .gc_head_size = 16,
        .managed_dict_preheader = 16,       /* weakref list, then managed dict pointer */

        .tp_name = 24,
        .tp_basicsize = 32,
        .tp_itemsize = 40,
        .tp_flags = 168,
        .tpflags_managed_dict = (1ull << 4) | (1ull << 3),   /* Py_TPFLAGS_PREHEADER */
        .tpflags_have_gc = 1ull << 14,
        .tpflags_heaptype = 1ull << 9,
        .tpflags_type_subclass = 1ull << 31,
        .tpflags_ready = 1ull << 12,

        .pool_size = 16384,
        .arena_size = 1 << 20,
        .pool_overhead = 48,
        .alignment = 16,
        .small_request_threshold = 512,
        .pool_count = 0,
        .pool_szidx = 36,
        .pool_nextoffset = 40,
        .pool_maxnextoffset = 44,

        .dk_refcnt = 0,
        .dk_log2_size = 8,
        .dk_log2_index_bytes = 9,
        .dk_kind = 10,
        .dk_usable = 16,
        .dk_nentries = 24,
        .dk_indices = 32,

        .rt_interpreters_head = 632,
        .is_gc_full_collections = 7576,     /* gc.generation_stats[2].collections */
        .rt_finalizing = 608,           /* _PyRuntime._finalizing */
        .is_gc_permanent_head = 7504,   /* gc.permanent_generation.head */
        .is_gc = 7400,
        .rt_tstate_current = 0,             /* thread-local */
        .is_next = 7264,
        .is_threads_head = 7344,
        .code_unit = 2,
        .ts_next = 8,
        .ts_cframe = 0,                     /* none: see ts_current_frame */
        .ts_current_frame = 72,
        .ts_native_thread_id = 160,
        .cframe_current_frame = 0,
        .fr_code = 0,                       /* f_executable */
        .fr_previous = 8,
        .fr_prev_instr = 56,                /* instr_ptr */
        .fr_owner = 70,
        .fr_is_entry = 0,                   /* none */
        .co_filename = 112,
        .co_name = 120,
        .co_qualname = 128,
        .co_firstlineno = 68,
        .co_linetable = 136,
        .co_code_adaptive = 200,
        .ascii_length = 16,
        .ascii_state = 32,
        .ascii_size = 40,
        .compact_size = 56,
        .bytes_sval = 32,
        .unicode_kind_shift = 2,
        .unicode_compact_bit = 5,
        .unicode_ascii_bit = 6,
    },
    .frame_chain = CT_PYCHAIN_TSTATE_313,
    .linetable = CT_LINETABLE_PEP657,
    .dict_keys = CT_DICTKEYS_311,
    .immortal = CT_IMMORTAL_LOW32_ALL_ONES,
    .eval_funcs = {"_PyEval_EvalFrameDefault", 0},
    .source = CT_PYVER_TABLE,
};
