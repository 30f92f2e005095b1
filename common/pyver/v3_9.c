/*
 * v3_9.c - CPython 3.9 (64-bit, release build).
 *
 * Every offset with a struct in the 3.9.18 headers (pyenv's
 * include/python3.9, internal/ included, compiled with Py_BUILD_CORE) was
 * measured with offsetof/sizeof on 2026-12-01 (and is checked by
 * analyzer/tests/test_pyver_offsets_pre311.c); they equal 3.10's except
 * f_lasti and the line table. pymalloc's pool header
 * is private to Objects/obmalloc.c; its layout is 3.12's (the struct text
 * is the same). 3.9 has no radix tree: its pools are 4 KiB in 256 KiB
 * arenas (shared/notes/cpython-versions.md section 5: pool headers read
 * consistently only at 4 KiB alignment in a live 3.9).
 * What differs from 3.11, and how it is expressed here:
 *  - no managed-dict pre-header: instance attributes live in a dict
 *    (tpflags_managed_dict 0, managed_dict_preheader 0);
 *  - PyDictKeysObject has the 3.6-3.10 shape (a Py_ssize_t dk_size and a
 *    lookup function pointer), which decode.c does not know:
 *    CT_DICTKEYS_NONE, so a dict-keys block is not recognised;
 *  - frames are PyFrameObjects chained by f_back from tstate->frame
 *    (CT_PYCHAIN_FRAMEOBJECT_39: f_lasti counts bytes), with co_lnotab
 *    line tables (CT_LINETABLE_LNOTAB); a thread state names its thread
 *    by pthread_self() only (thread_id), and code objects have no
 *    co_qualname (frames are named by co_name);
 *  - PyASCIIObject is 48 bytes (wstr), the state bits as in 3.11.
 */
#include "pyver.h"

const struct ct_pyver ct_pyver_3_9 = {
    .name = "3.9",
    .major = 3,
    .minor = 9,
    .L = {
        .ob_refcnt = 0,
        .ob_type = 8,
        .ob_size = 16,
        .object_size = 16,
        .gc_head_size = 16,
        .managed_dict_preheader = 0,        /* none before 3.11 */

        .tp_name = 24,
        .tp_basicsize = 32,
        .tp_itemsize = 40,
        .tp_flags = 168,
        .tpflags_managed_dict = 0,
        .tpflags_have_gc = 1ull << 14,
        .tpflags_heaptype = 1ull << 9,
        .tpflags_type_subclass = 1ull << 31,
        .tpflags_ready = 1ull << 12,

        .pool_size = 4096,                  /* no radix tree: small pools */
        .arena_size = 1 << 18,
        .pool_overhead = 48,
        .alignment = 16,
        .small_request_threshold = 512,
        .pool_count = 0,
        .pool_szidx = 36,
        .pool_nextoffset = 40,
        .pool_maxnextoffset = 44,

        /* dk_*: unused (CT_DICTKEYS_NONE) */

        .rt_interpreters_head = 32,
        .is_gc_full_collections = 792,     /* gc.generation_stats[2].collections */
        .rt_finalizing = 16,            /* _PyRuntime._finalizing */
        .is_gc_permanent_head = 720,    /* gc.permanent_generation.head */
        .rt_tstate_current = 568,
        .is_next = 0,
        .is_threads_head = 8,
        .ts_next = 8,
        .ts_pthread_id = 176,               /* thread_id: no native_thread_id before 3.11 */
        .ts_current_frame = 24,             /* PyThreadState.frame */
        .fr_previous = 24,                  /* PyFrameObject.f_back */
        .fr_code = 32,                      /* f_code */
        .fr_prev_instr = 104,             /* f_lasti, an int: bytes */
        .code_unit = 2,
        .co_filename = 104,
        .co_name = 112,
        .co_qualname = 112,                 /* no co_qualname: the function's bare name */
        .co_firstlineno = 40,
        .co_linetable = 120,                /* co_lnotab */
        .ascii_length = 16,
        .ascii_state = 32,
        .ascii_size = 48,
        .compact_size = 72,
        .bytes_sval = 32,
        .unicode_kind_shift = 2,
        .unicode_compact_bit = 5,
        .unicode_ascii_bit = 6,
    },
    .frame_chain = CT_PYCHAIN_FRAMEOBJECT_39,
    .linetable = CT_LINETABLE_LNOTAB,
    .dict_keys = CT_DICTKEYS_NONE,
    .immortal = CT_IMMORTAL_NONE,
    .eval_funcs = {"_PyEval_EvalFrameDefault", 0},
    .source = CT_PYVER_TABLE,
};
