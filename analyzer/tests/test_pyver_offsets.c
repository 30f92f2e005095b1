/*
 * test_pyver_offsets.c - common/pyver's table for the installed CPython,
 * recomputed from that interpreter's own headers (internal ones included,
 * Py_BUILD_CORE) with offsetof and sizeof, field by field.
 *
 * Promise: a wrong offset in a version's table fails here, not only as a
 * wrong cause in a scenario test. Built only when the headers are there
 * (meson finds them with sysconfig); skips (77) for a CPython this test
 * does not yet describe. pymalloc's pool header and ALIGNMENT are private
 * to Objects/obmalloc.c and the managed-dict pre-header has no struct, so
 * those numbers are not checked here.
 */
#define Py_BUILD_CORE 1
#include <Python.h>
#include <stddef.h>
#include <string.h>

#include "internal/pycore_code.h"
#include "internal/pycore_dict.h"
#include "internal/pycore_frame.h"
#include "internal/pycore_interp.h"
#include "internal/pycore_runtime.h"

#include "check.h"
#include "pyver.h"

#if PY_VERSION_HEX >= 0x030b0000 && PY_VERSION_HEX < 0x030c0000

/* The bit a one-bit (or the low bit of a wider) PyASCIIObject.state field
 * sits at, found by setting it in a zeroed object. */
static unsigned state_bit(PyASCIIObject *o)
{
    uint32_t w;
    memcpy(&w, (const char *)o + offsetof(PyASCIIObject, state), sizeof w);
    return w ? (unsigned)__builtin_ctz(w) : 99;
}

static void check_3_11(const struct ct_pylayout *L)
{
    CHECK_U64(L->ob_refcnt, offsetof(PyObject, ob_refcnt));
    CHECK_U64(L->ob_type, offsetof(PyObject, ob_type));
    CHECK_U64(L->ob_size, offsetof(PyVarObject, ob_size));
    CHECK_U64(L->object_size, sizeof(PyObject));
    CHECK_U64(L->gc_head_size, sizeof(PyGC_Head));

    CHECK_U64(L->tp_name, offsetof(PyTypeObject, tp_name));
    CHECK_U64(L->tp_basicsize, offsetof(PyTypeObject, tp_basicsize));
    CHECK_U64(L->tp_itemsize, offsetof(PyTypeObject, tp_itemsize));
    CHECK_U64(L->tp_flags, offsetof(PyTypeObject, tp_flags));
    CHECK_U64(L->tpflags_managed_dict, Py_TPFLAGS_MANAGED_DICT);
    CHECK_U64(L->tpflags_have_gc, Py_TPFLAGS_HAVE_GC);
    CHECK_U64(L->tpflags_heaptype, Py_TPFLAGS_HEAPTYPE);
    CHECK_U64(L->tpflags_type_subclass, Py_TPFLAGS_TYPE_SUBCLASS);
    CHECK_U64(L->tpflags_ready, Py_TPFLAGS_READY);

    CHECK_U64(L->dk_refcnt, offsetof(PyDictKeysObject, dk_refcnt));
    CHECK_U64(L->dk_log2_size, offsetof(PyDictKeysObject, dk_log2_size));
    CHECK_U64(L->dk_log2_index_bytes, offsetof(PyDictKeysObject, dk_log2_index_bytes));
    CHECK_U64(L->dk_kind, offsetof(PyDictKeysObject, dk_kind));
    CHECK_U64(L->dk_usable, offsetof(PyDictKeysObject, dk_usable));
    CHECK_U64(L->dk_nentries, offsetof(PyDictKeysObject, dk_nentries));
    CHECK_U64(L->dk_indices, offsetof(PyDictKeysObject, dk_indices));

    CHECK_U64(L->rt_interpreters_head, offsetof(_PyRuntimeState, interpreters.head));
    CHECK_U64(L->rt_finalizing, offsetof(_PyRuntimeState, _finalizing));
    CHECK_U64(L->is_gc_permanent_head, offsetof(PyInterpreterState, gc.permanent_generation.head));
    CHECK_U64(L->rt_tstate_current, offsetof(_PyRuntimeState, gilstate.tstate_current));
    CHECK_U64(L->is_next, offsetof(PyInterpreterState, next));
    CHECK_U64(L->is_threads_head, offsetof(PyInterpreterState, threads.head));
    CHECK_U64(L->is_gc_full_collections, offsetof(PyInterpreterState, gc.generation_stats[NUM_GENERATIONS - 1].collections));
    CHECK_U64(L->ts_next, offsetof(PyThreadState, next));
    CHECK_U64(L->ts_cframe, offsetof(PyThreadState, cframe));
    CHECK_U64(L->ts_native_thread_id, offsetof(PyThreadState, native_thread_id));
    CHECK_U64(L->code_unit, sizeof(_Py_CODEUNIT));
    CHECK_U64(L->cframe_current_frame, offsetof(_PyCFrame, current_frame));
    CHECK_U64(L->fr_code, offsetof(_PyInterpreterFrame, f_code));
    CHECK_U64(L->fr_previous, offsetof(_PyInterpreterFrame, previous));
    CHECK_U64(L->fr_prev_instr, offsetof(_PyInterpreterFrame, prev_instr));
    CHECK_U64(L->fr_owner, offsetof(_PyInterpreterFrame, owner));
    CHECK_U64(L->fr_is_entry, offsetof(_PyInterpreterFrame, is_entry));

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
    const struct ct_pyver *v = ct_pyver_for(PY_VERSION_HEX);
    CHECK(v != NULL);
    if (v)
        check_3_11(&v->L);
    return check_done("pyver-offsets");
}

#else

int main(void)
{
    printf("pyver-offsets: no checks for the installed CPython %s yet\n", PY_VERSION);
    return 77;
}

#endif
