/*
 * v3_12.c - CPython 3.12 (64-bit, release build, GIL).
 *
 * Every offset below was measured with offsetof/sizeof against the 3.12.1
 * headers (pyenv's include/python3.12, internal/ included, compiled with
 * Py_BUILD_CORE) on 2026-12-01. What changed from 3.11, and how it is
 * expressed here:
 *  - the pre-header: 16 bytes before the GC head when the type has
 *    Py_TPFLAGS_MANAGED_DICT (1<<4) or Py_TPFLAGS_MANAGED_WEAKREF (1<<3)
 *    (Py_TPFLAGS_PREHEADER), so tpflags_managed_dict is that mask;
 *  - frames: _PyCFrame.current_frame moved to 0, is_entry is gone and
 *    _PyEval_EvalFrameDefault links a shim frame owned by the C stack into
 *    the chain instead (CT_PYCHAIN_CFRAME_312); owner moved to 70;
 *  - the current thread state is thread-local (_Py_tss_tstate), not in
 *    _PyRuntime: rt_tstate_current is 0 and the thread list is walked;
 *  - code objects: co_firstlineno 68, co_code_adaptive 192; the location
 *    table format is 3.11's;
 *  - PyASCIIObject is 40 bytes (wstr gone), PyCompactUnicodeObject 56;
 *  - pymalloc: the same pools (16 KiB, 48-byte header) in 1 MiB arenas;
 *    its state moved into the interpreter, which the decoder does not read
 *    (pools are recognised by their headers);
 *  - immortal objects: the low 32 bits of ob_refcnt all ones
 *    (_Py_IMMORTAL_REFCNT = 0xFFFFFFFF); Py_INCREF and Py_DECREF leave such
 *    an object's count alone (CT_IMMORTAL_LOW32_ALL_ONES).
 * The unicode state bits keep their places (interned:2 kind:3 compact:1
 * ascii:1; statically_allocated replaced ready).
 */
#include "pyver.h"

const struct ct_pyver ct_pyver_3_12 = {
    .name = "3.12",
    .major = 3,
    .minor = 12,
    .L = {
        .ob_refcnt = 0,
        .ob_type = 8,
        .ob_size = 16,
        .object_size = 16,
        .gc_head_size = 16,
        .managed_dict_preheader = 16,       /* weakref list, then dict-or-values */

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

        .rt_interpreters_head = 40,
        .is_gc_full_collections = 288,     /* gc.generation_stats[2].collections */
        .rt_finalizing = 24,            /* _PyRuntime._finalizing */
        .is_gc_permanent_head = 216,    /* gc.permanent_generation.head */
        .rt_tstate_current = 0,             /* thread-local in 3.12 */
        .is_next = 0,
        .is_threads_head = 72,
        .code_unit = 2,
        .ts_next = 8,
        .ts_cframe = 56,
        .ts_native_thread_id = 144,
        .cframe_current_frame = 0,
        .fr_code = 0,
        .fr_previous = 8,
        .fr_prev_instr = 56,
        .fr_owner = 70,
        .fr_is_entry = 0,                   /* none: see CT_PYCHAIN_CFRAME_312 */
        .co_filename = 112,
        .co_name = 120,
        .co_qualname = 128,
        .co_firstlineno = 68,
        .co_linetable = 136,
        .co_code_adaptive = 192,
        .ascii_length = 16,
        .ascii_state = 32,
        .ascii_size = 40,
        .compact_size = 56,
        .bytes_sval = 32,
        .unicode_kind_shift = 2,
        .unicode_compact_bit = 5,
        .unicode_ascii_bit = 6,
    },
    .frame_chain = CT_PYCHAIN_CFRAME_312,
    .linetable = CT_LINETABLE_PEP657,
    .dict_keys = CT_DICTKEYS_311,
    .immortal = CT_IMMORTAL_LOW32_ALL_ONES,
    .values = CT_VALUES_PREFIX_311,        /* an instance's values array: decode.c */
    .eval_funcs = {"_PyEval_EvalFrameDefault", 0},
    .source = CT_PYVER_TABLE,
};
