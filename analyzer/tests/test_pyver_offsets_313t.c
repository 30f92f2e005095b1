/*
 * test_pyver_offsets_313t.c - common/pyver's table for the free-threaded
 * CPython 3.13 (v3_13t.c), recomputed from a free-threaded interpreter's
 * own headers (internal/ and internal/mimalloc/ included, Py_BUILD_CORE)
 * with offsetof and sizeof, field by field.
 *
 * Promise: a wrong offset in the 3.13t table fails here. Built only when
 * meson finds such headers (an interpreter named by COWTRACE_TEST_PYTHONS
 * at setup whose sysconfig says Py_GIL_DISABLED; CI machines have none);
 * skips (77) when the headers are not 3.13 free-threaded ones. The start
 * offset of small blocks in a mimalloc page is a formula in
 * Objects/mimalloc/segment.c (not a struct), so it is not checked here;
 * the scenario tests (tests/test_versions.py) find objects through it.
 */
#define Py_BUILD_CORE 1
#include <Python.h>
#include <stddef.h>
#include <string.h>

#include "internal/pycore_code.h"
#include "internal/pycore_dict.h"
#include "internal/pycore_frame.h"
#include "internal/pycore_gc.h"
#include "internal/pycore_interp.h"
#include "internal/pycore_mimalloc.h"
#include "internal/pycore_runtime.h"

#include "check.h"
#include "pyver.h"

#if PY_VERSION_HEX >= 0x030d0000 && PY_VERSION_HEX < 0x030e0000 && defined(Py_GIL_DISABLED)

static unsigned state_bit(PyASCIIObject *o)
{
    uint32_t w;
    memcpy(&w, (const char *)o + offsetof(PyASCIIObject, state), sizeof w);
    return w ? (unsigned)__builtin_ctz(w) : 99;
}

/* The byte and bit of mi_page_t's 4-bit tag, found by setting it. */
static void tag_place(unsigned *byte, unsigned *shift)
{
    mi_page_t pg;
    memset(&pg, 0, sizeof pg);
    pg.tag = 1;
    const unsigned char *b = (const unsigned char *)&pg;
    *byte = *shift = 999;
    for (unsigned i = 0; i < sizeof pg; i++)
        if (b[i]) {
            *byte = i;
            *shift = (unsigned)__builtin_ctz(b[i]);
        }
}

static void check_3_13t(const struct ct_pyver *v)
{
    const struct ct_pylayout *L = &v->L;
    CHECK(v->header == CT_OBJHEAD_FREE_THREADED);
    CHECK(v->immortal == CT_IMMORTAL_LOW32_ALL_ONES);
    CHECK_U64(L->ob_tid, offsetof(PyObject, ob_tid));
    CHECK_U64(L->ob_mutex, offsetof(PyObject, ob_mutex));
    CHECK_U64(L->ob_gc_bits, offsetof(PyObject, ob_gc_bits));
    CHECK_U64(L->ob_refcnt, offsetof(PyObject, ob_ref_local));
    /* the count is ob_ref_local then ob_ref_shared, up to ob_type */
    CHECK_U64(offsetof(PyObject, ob_ref_shared), offsetof(PyObject, ob_ref_local) + sizeof(uint32_t));
    CHECK_U64(offsetof(PyObject, ob_type), offsetof(PyObject, ob_ref_shared) + sizeof(Py_ssize_t));
    CHECK_U64(UINT32_MAX, _Py_IMMORTAL_REFCNT_LOCAL);
    CHECK_U64(L->ob_type, offsetof(PyObject, ob_type));
    CHECK_U64(L->ob_size, offsetof(PyVarObject, ob_size));
    CHECK_U64(L->object_size, sizeof(PyObject));
    CHECK_U64(L->gc_head_size, 0);
    /* the pre-header: weakref list at -16, managed dict at -8 */
    CHECK_U64(L->managed_dict_preheader, (uint64_t)-MANAGED_WEAKREF_OFFSET);
    CHECK_U64(L->managed_dict_preheader - 8, (uint64_t)-MANAGED_DICT_OFFSET);

    CHECK_U64(L->tp_name, offsetof(PyTypeObject, tp_name));
    CHECK_U64(L->tp_basicsize, offsetof(PyTypeObject, tp_basicsize));
    CHECK_U64(L->tp_itemsize, offsetof(PyTypeObject, tp_itemsize));
    CHECK_U64(L->tp_flags, offsetof(PyTypeObject, tp_flags));
    CHECK_U64(L->tpflags_managed_dict, Py_TPFLAGS_PREHEADER);
    CHECK_U64(L->tpflags_have_gc, Py_TPFLAGS_HAVE_GC);
    CHECK_U64(L->tpflags_heaptype, Py_TPFLAGS_HEAPTYPE);
    CHECK_U64(L->tpflags_type_subclass, Py_TPFLAGS_TYPE_SUBCLASS);
    CHECK_U64(L->tpflags_ready, Py_TPFLAGS_READY);

    CHECK_U64(L->mi_segment_shift, MI_SEGMENT_SHIFT);
    CHECK_U64(L->mi_slice_shift, MI_SEGMENT_SLICE_SHIFT);
    CHECK_U64(L->mi_segment_slices, offsetof(mi_segment_t, slices));
    CHECK_U64(L->mi_segment_info_slices, offsetof(mi_segment_t, segment_info_slices));
    CHECK_U64(L->mi_segment_slice_entries, offsetof(mi_segment_t, slice_entries));
    CHECK_U64(L->mi_segment_kind, offsetof(mi_segment_t, kind));
    CHECK_U64(sizeof(((mi_segment_t *)0)->kind), 4);
    CHECK_U64(MI_SEGMENT_NORMAL, 0);
    CHECK_U64(L->mi_page_size, sizeof(mi_page_t));
    CHECK_U64(L->mi_page_slice_count, offsetof(mi_page_t, slice_count));
    CHECK_U64(L->mi_page_slice_offset, offsetof(mi_page_t, slice_offset));
    CHECK_U64(L->mi_page_xblock_size, offsetof(mi_page_t, xblock_size));
    unsigned byte, shift;
    tag_place(&byte, &shift);
    CHECK_U64(L->mi_page_tag_byte, byte);
    CHECK_U64(L->mi_page_tag_shift, shift);
    /* decode.c's heap numbers */
    CHECK_U64(_Py_MIMALLOC_HEAP_MEM, 0);
    CHECK_U64(_Py_MIMALLOC_HEAP_OBJECT, 1);
    CHECK_U64(_Py_MIMALLOC_HEAP_GC, 2);
    CHECK_U64(_Py_MIMALLOC_HEAP_GC_PRE, 3);

    CHECK_U64(L->dk_refcnt, offsetof(PyDictKeysObject, dk_refcnt));
    CHECK_U64(L->dk_log2_size, offsetof(PyDictKeysObject, dk_log2_size));
    CHECK_U64(L->dk_log2_index_bytes, offsetof(PyDictKeysObject, dk_log2_index_bytes));
    CHECK_U64(L->dk_kind, offsetof(PyDictKeysObject, dk_kind));
    CHECK_U64(L->dk_usable, offsetof(PyDictKeysObject, dk_usable));
    CHECK_U64(L->dk_nentries, offsetof(PyDictKeysObject, dk_nentries));
    CHECK_U64(L->dk_indices, offsetof(PyDictKeysObject, dk_indices));

    CHECK_U64(L->rt_interpreters_head, offsetof(_PyRuntimeState, interpreters.head));
    CHECK_U64(L->rt_finalizing, offsetof(_PyRuntimeState, _finalizing));
    CHECK_U64(L->is_gc_full_collections,
              offsetof(PyInterpreterState, gc.generation_stats[NUM_GENERATIONS - 1].collections));
    CHECK_U64(L->is_gc_permanent_head, 0);     /* not used by the free-threaded collector */
    CHECK_U64(L->is_sysdict, offsetof(PyInterpreterState, sysdict));
    CHECK_U64(L->gc_bits_frozen, _PyGC_BITS_FROZEN);
    CHECK_U64(L->rt_tstate_current, 0);
    CHECK_U64(L->is_next, offsetof(PyInterpreterState, next));
    CHECK_U64(L->is_threads_head, offsetof(PyInterpreterState, threads.head));
    CHECK_U64(L->ts_next, offsetof(PyThreadState, next));
    CHECK_U64(L->ts_current_frame, offsetof(PyThreadState, current_frame));
    CHECK_U64(L->ts_native_thread_id, offsetof(PyThreadState, native_thread_id));
    CHECK_U64(L->code_unit, sizeof(_Py_CODEUNIT));
    CHECK_U64(L->fr_code, offsetof(_PyInterpreterFrame, f_executable));
    CHECK_U64(L->fr_previous, offsetof(_PyInterpreterFrame, previous));
    CHECK_U64(L->fr_prev_instr, offsetof(_PyInterpreterFrame, instr_ptr));
    CHECK_U64(L->fr_owner, offsetof(_PyInterpreterFrame, owner));
    CHECK_U64(FRAME_OWNED_BY_CSTACK, 3);        /* frames.c skips owner 3 */

    CHECK_U64(L->co_filename, offsetof(PyCodeObject, co_filename));
    CHECK_U64(L->co_name, offsetof(PyCodeObject, co_name));
    CHECK_U64(L->co_qualname, offsetof(PyCodeObject, co_qualname));
    CHECK_U64(L->co_firstlineno, offsetof(PyCodeObject, co_firstlineno));
    CHECK_U64(L->co_linetable, offsetof(PyCodeObject, co_linetable));
    CHECK_U64(L->co_code_adaptive, offsetof(PyCodeObject, co_code_adaptive));

    CHECK_U64(L->ascii_length, offsetof(PyASCIIObject, length));
    CHECK_U64(L->ascii_state, offsetof(PyASCIIObject, state));
    CHECK_U64(L->ascii_size, sizeof(PyASCIIObject));
    CHECK_U64(L->compact_size, sizeof(PyCompactUnicodeObject));
    CHECK_U64(L->bytes_sval, offsetof(PyBytesObject, ob_sval));

    PyASCIIObject o;
    memset(&o, 0, sizeof o);
    o.state.kind = 1;
    CHECK_U64(L->unicode_kind_shift, state_bit(&o));
    memset(&o, 0, sizeof o);
    o.state.compact = 1;
    CHECK_U64(L->unicode_compact_bit, state_bit(&o));
    memset(&o, 0, sizeof o);
    o.state.ascii = 1;
    CHECK_U64(L->unicode_ascii_bit, state_bit(&o));
}

int main(void)
{
    const struct ct_pyver *v = ct_pyver_for_build(PY_VERSION_HEX, 1);
    CHECK(v != NULL);
    /* and never the GIL build's table */
    CHECK(v != ct_pyver_for(PY_VERSION_HEX));
    if (v)
        check_3_13t(v);
    return check_done("pyver-offsets-3.13t");
}

#else

int main(void)
{
    printf("pyver-offsets-3.13t: these headers are not a free-threaded 3.13's (%s): nothing to check\n",
           PY_VERSION);
    return 77;
}

#endif
