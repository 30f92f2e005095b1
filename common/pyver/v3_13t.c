/*
 * v3_13t.c - CPython 3.13 free-threaded (configure --disable-gil,
 * Py_GIL_DISABLED; 64-bit, release build). Not the GIL 3.13 (v3_13.c):
 * the object header differs, so ct_pyver_for_build() hands this table out
 * only for an interpreter the shim found to be free-threaded.
 *
 * Promise: every offset below was measured with offsetof/sizeof against
 * the 3.13.5 sources configured with --disable-gil (Include/, internal/
 * and internal/mimalloc/, Py_BUILD_CORE) on 2026-12-02;
 * analyzer/tests/test_pyver_offsets_313t.c checks them again wherever such
 * headers are installed. What differs from the GIL 3.13:
 *  - the header (Include/object.h): ob_tid 0, _padding 8, ob_mutex 10,
 *    ob_gc_bits 11, ob_ref_local 12, ob_ref_shared 16, ob_type 24, 32
 *    bytes; the reference count is ob_ref_local and ob_ref_shared
 *    (ob_refcnt = 12: the count runs to ob_type), immortal when
 *    ob_ref_local is UINT32_MAX (_Py_IsImmortal: the low-32 rule of 3.12
 *    read at ob_ref_local);
 *  - no PyGC_Head: the collector keeps its marks in ob_gc_bits and reuses
 *    ob_tid as a link and for its counts (Python/gc_free_threading.c); the
 *    pre-header (MANAGED_DICT_OFFSET -8, MANAGED_WEAKREF_OFFSET -16) is
 *    still 16 bytes before the object;
 *  - every field of PyTypeObject and PyCodeObject after the header moved
 *    by 16;
 *  - PyASCIIObject, PyBytesObject: +16 likewise;
 *  - no pymalloc: objects live in mimalloc heaps (pycore_mimalloc.h), one
 *    per kind (PyMem, non-GC objects, GC objects, GC objects with the
 *    pre-header), told apart by the tag of the page (mi_page_t) holding
 *    them; page metadata lives in the segment header at the start of each
 *    32 MiB segment;
 *  - the collector does not use the permanent generation list: gc.freeze()
 *    sets _PyGC_BITS_FROZEN in every object instead, so "frozen" is read
 *    from the bits of the interpreter's sys dict (is_sysdict,
 *    gc_bits_frozen; is_gc_permanent_head 0).
 * The same as the GIL 3.13: runtime, interpreter and thread states (the
 * offsets cowtrace reads), interpreter frames, the location table, the
 * dict-keys offsets (dk_mutex fills byte 11), the unicode state bits.
 */
#include "pyver.h"

const struct ct_pyver ct_pyver_3_13t = {
    .name = "3.13t",
    .major = 3,
    .minor = 13,
    .L = {
        .ob_refcnt = 12,                    /* ob_ref_local; ob_ref_shared follows */
        .ob_type = 24,
        .ob_size = 32,
        .object_size = 32,
        .gc_head_size = 0,                  /* no PyGC_Head */
        .managed_dict_preheader = 16,       /* weakref list, then managed dict pointer */
        .ob_tid = 0,
        .ob_mutex = 10,
        .ob_gc_bits = 11,

        .tp_name = 40,
        .tp_basicsize = 48,
        .tp_itemsize = 56,
        .tp_flags = 184,
        .tpflags_managed_dict = (1ull << 4) | (1ull << 3),   /* Py_TPFLAGS_PREHEADER */
        .tpflags_have_gc = 1ull << 14,
        .tpflags_heaptype = 1ull << 9,
        .tpflags_type_subclass = 1ull << 31,
        .tpflags_ready = 1ull << 12,

        /* no pymalloc: every pool field 0 (decode.c looks at mimalloc) */
        .alignment = 16,

        .mi_segment_shift = 25,             /* MI_SEGMENT_SHIFT: 32 MiB */
        .mi_slice_shift = 16,               /* MI_SEGMENT_SLICE_SHIFT: 64 KiB */
        .mi_segment_slices = 264,           /* offsetof(mi_segment_t, slices) */
        .mi_segment_info_slices = 232,      /* size_t segment_info_slices */
        .mi_segment_slice_entries = 248,    /* size_t slice_entries */
        .mi_segment_kind = 240,             /* mi_segment_kind_t kind: 0 normal, 1 huge */
        .mi_page_size = 96,                 /* sizeof(mi_page_t) */
        .mi_page_slice_count = 0,           /* uint32_t */
        .mi_page_slice_offset = 4,          /* uint32_t, in bytes */
        .mi_page_xblock_size = 28,          /* uint32_t */
        .mi_page_tag_byte = 8,              /* is_committed:1, is_zero_init:1, use_qsbr:1, tag:4 */
        .mi_page_tag_shift = 3,

        .dk_refcnt = 0,
        .dk_log2_size = 8,
        .dk_log2_index_bytes = 9,
        .dk_kind = 10,
        .dk_usable = 16,
        .dk_nentries = 24,
        .dk_indices = 32,

        .rt_interpreters_head = 632,
        .is_gc_full_collections = 7576,     /* gc.generation_stats[2].collections */
        .rt_finalizing = 608,
        .is_gc_permanent_head = 0,          /* not used by the free-threaded collector */
        .is_sysdict = 7648,                 /* frozen or not: gcstate.c */
        .gc_bits_frozen = 8,                /* _PyGC_BITS_FROZEN (pycore_gc.h) */
        .rt_tstate_current = 0,             /* thread-local */
        .is_next = 7264,
        .is_threads_head = 7344,
        .code_unit = 2,
        .ts_next = 8,
        .ts_cframe = 0,
        .ts_current_frame = 72,
        .ts_native_thread_id = 160,
        .cframe_current_frame = 0,
        .fr_code = 0,                       /* f_executable */
        .fr_previous = 8,
        .fr_prev_instr = 56,                /* instr_ptr */
        .fr_owner = 70,
        .fr_is_entry = 0,
        .co_filename = 128,
        .co_name = 136,
        .co_qualname = 144,
        .co_firstlineno = 84,
        .co_linetable = 152,
        .co_code_adaptive = 216,
        .ascii_length = 32,
        .ascii_state = 48,
        .ascii_size = 56,
        .compact_size = 72,
        .bytes_sval = 48,
        .unicode_kind_shift = 2,
        .unicode_compact_bit = 5,
        .unicode_ascii_bit = 6,
    },
    .frame_chain = CT_PYCHAIN_TSTATE_313,
    .linetable = CT_LINETABLE_PEP657,
    .dict_keys = CT_DICTKEYS_311,
    .immortal = CT_IMMORTAL_LOW32_ALL_ONES,  /* read at ob_refcnt = ob_ref_local */
    .header = CT_OBJHEAD_FREE_THREADED,
    .eval_funcs = {"_PyEval_EvalFrameDefault", 0},
    .source = CT_PYVER_TABLE,
};
