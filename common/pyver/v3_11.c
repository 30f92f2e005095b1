/*
 * v3_11.c - CPython 3.11 (64-bit, release build).
 *
 * analyzer/tests/test_pyver_offsets.c recomputes every offset that has a
 * struct in the installed 3.11's headers (internal ones included) with
 * offsetof; pymalloc's pool header and the managed-dict pre-header have
 * none (the where-* and cause scenario tests would fail on a wrong one).
 * Debian's 3.11.2 shares the layout: the 3.11 ABI froze at 3.11.0.
 */
#include "pyver.h"

const struct ct_pyver ct_pyver_3_11 = {
    .name = "3.11",
    .major = 3,
    .minor = 11,
    .L = {
        .ob_refcnt = 0,
        .ob_type = 8,
        .ob_size = 16,
        .object_size = 16,
        .gc_head_size = 16,
        .managed_dict_preheader = 16,       /* dict pointer and values pointer */

        .tp_name = 24,
        .tp_basicsize = 32,
        .tp_itemsize = 40,
        .tp_flags = 168,
        .tpflags_managed_dict = 1ull << 4,
        .tpflags_have_gc = 1ull << 14,
        .tpflags_heaptype = 1ull << 9,
        .tpflags_type_subclass = 1ull << 31,
        .tpflags_ready = 1ull << 12,

        .pool_size = 16384,                 /* USE_LARGE_POOLS on 64-bit with the radix tree */
        .arena_size = 1 << 20,
        .pool_overhead = 48,                /* sizeof(struct pool_header) rounded to ALIGNMENT */
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
        .is_gc_full_collections = 824,     /* gc.generation_stats[2].collections */
        .rt_finalizing = 24,            /* _PyRuntime._finalizing */
        .is_gc_permanent_head = 752,    /* gc.permanent_generation.head */
        .rt_tstate_current = 576,
        .is_next = 0,
        .is_threads_head = 16,
        .code_unit = 2,
        .ts_next = 8,
        .ts_cframe = 56,
        .ts_native_thread_id = 160,
        .cframe_current_frame = 8,
        .fr_code = 32,
        .fr_previous = 48,
        .fr_prev_instr = 56,
        .fr_owner = 69,
        .fr_is_entry = 68,
        .co_filename = 112,
        .co_name = 120,
        .co_qualname = 128,
        .co_firstlineno = 72,
        .co_linetable = 136,
        .co_code_adaptive = 184,
        .ascii_length = 16,
        .ascii_state = 32,
        .ascii_size = 48,
        .compact_size = 72,
        .bytes_sval = 32,
        /* state bits: interned:2 kind:3 compact:1 ascii:1 ready:1 */
        .unicode_kind_shift = 2,
        .unicode_compact_bit = 5,
        .unicode_ascii_bit = 6,
    },
    .frame_chain = CT_PYCHAIN_CFRAME_311,
    .linetable = CT_LINETABLE_PEP657,
    .dict_keys = CT_DICTKEYS_311,
    .immortal = CT_IMMORTAL_NONE,           /* every reference writes the count */
    .values = CT_VALUES_PREFIX_311,        /* an instance's values array: decode.c */
    .eval_funcs = {"_PyEval_EvalFrameDefault", 0},
    .source = CT_PYVER_TABLE,
};
