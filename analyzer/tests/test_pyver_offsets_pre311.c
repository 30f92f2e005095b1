/*
 * test_pyver_offsets_pre311.c - common/pyver's 3.9 and 3.10 tables,
 * recomputed with offsetof and sizeof from the headers of the interpreter
 * it is compiled against (pyenv's, internal ones included, Py_BUILD_CORE;
 * analyzer/tests/meson.build builds it once per version it finds).
 *
 * Promise: a wrong number among those the tables use for causes and types
 * (object header, GC head, type fields and flags) fails here, and so do
 * the thread, frame, code and string offsets of the frame walk. pymalloc's
 * pool header and sizes are private to Objects/obmalloc.c: not checked
 * here (the versions-* tests read pools with them). Skips (77) for any
 * other CPython.
 */
#define Py_BUILD_CORE 1
#include <Python.h>
#include <stddef.h>
#include <string.h>

#include "frameobject.h"
#include "internal/pycore_gc.h"
#include "internal/pycore_interp.h"
#include "internal/pycore_runtime.h"

#include "check.h"
#include "pyver.h"

#if PY_VERSION_HEX >= 0x03090000 && PY_VERSION_HEX < 0x030b0000

static unsigned state_bit(PyASCIIObject *o)
{
    uint32_t w;
    memcpy(&w, (const char *)o + offsetof(PyASCIIObject, state), sizeof w);
    return w ? (unsigned)__builtin_ctz(w) : 99;
}

static void check_pre311(const struct ct_pyver *v)
{
    const struct ct_pylayout *L = &v->L;
    CHECK(v->major == PY_MAJOR_VERSION && v->minor == PY_MINOR_VERSION);
    CHECK_U64(L->ob_refcnt, offsetof(PyObject, ob_refcnt));
    CHECK_U64(L->ob_type, offsetof(PyObject, ob_type));
    CHECK_U64(L->ob_size, offsetof(PyVarObject, ob_size));
    CHECK_U64(L->object_size, sizeof(PyObject));
    CHECK_U64(L->gc_head_size, sizeof(PyGC_Head));
    CHECK_U64(L->managed_dict_preheader, 0);
    CHECK_U64(L->tpflags_managed_dict, 0);
    CHECK_U64(L->tp_name, offsetof(PyTypeObject, tp_name));
    CHECK_U64(L->tp_basicsize, offsetof(PyTypeObject, tp_basicsize));
    CHECK_U64(L->tp_itemsize, offsetof(PyTypeObject, tp_itemsize));
    CHECK_U64(L->tp_flags, offsetof(PyTypeObject, tp_flags));
    CHECK_U64(L->tpflags_have_gc, Py_TPFLAGS_HAVE_GC);
    CHECK_U64(L->tpflags_heaptype, Py_TPFLAGS_HEAPTYPE);
    CHECK_U64(L->tpflags_type_subclass, Py_TPFLAGS_TYPE_SUBCLASS);
    CHECK_U64(L->tpflags_ready, Py_TPFLAGS_READY);
    CHECK_U64(L->rt_interpreters_head, offsetof(_PyRuntimeState, interpreters.head));
    CHECK_U64(L->rt_finalizing, offsetof(_PyRuntimeState, _finalizing));
    CHECK_U64(L->is_gc_permanent_head, offsetof(PyInterpreterState, gc.permanent_generation.head));
    CHECK_U64(L->rt_tstate_current, offsetof(_PyRuntimeState, gilstate.tstate_current));
    CHECK_U64(L->is_next, offsetof(PyInterpreterState, next));
    CHECK_U64(L->is_threads_head, offsetof(PyInterpreterState, tstate_head));
    CHECK_U64(L->is_gc_full_collections, offsetof(PyInterpreterState, gc.generation_stats[NUM_GENERATIONS - 1].collections));
    CHECK_U64(L->ts_next, offsetof(PyThreadState, next));
    CHECK_U64(L->ts_native_thread_id, 0);   /* none: found by thread_id */
    CHECK_U64(L->ts_pthread_id, offsetof(PyThreadState, thread_id));
    CHECK_U64(sizeof(((PyThreadState *)0)->thread_id), 8);
    CHECK_U64(L->ts_current_frame, offsetof(PyThreadState, frame));
    CHECK_U64(L->fr_previous, offsetof(PyFrameObject, f_back));
    CHECK_U64(L->fr_code, offsetof(PyFrameObject, f_code));
    CHECK_U64(L->fr_prev_instr, offsetof(PyFrameObject, f_lasti));
    CHECK_U64(sizeof(((PyFrameObject *)0)->f_lasti), 4);
    CHECK_U64(L->code_unit, sizeof(_Py_CODEUNIT));
    CHECK_U64(L->co_qualname, offsetof(PyCodeObject, co_name));
    CHECK_U64(L->co_filename, offsetof(PyCodeObject, co_filename));
    CHECK_U64(L->co_name, offsetof(PyCodeObject, co_name));
    CHECK_U64(L->co_firstlineno, offsetof(PyCodeObject, co_firstlineno));
#if PY_VERSION_HEX >= 0x030a0000
    CHECK_U64(L->co_linetable, offsetof(PyCodeObject, co_linetable));
#else
    CHECK_U64(L->co_linetable, offsetof(PyCodeObject, co_lnotab));
#endif
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
    CHECK(ct_pyver_has_stacks(v));
#if PY_VERSION_HEX >= 0x030a0000
    CHECK(v->frame_chain == CT_PYCHAIN_FRAMEOBJECT_310 && v->linetable == CT_LINETABLE_PEP626);
#else
    CHECK(v->frame_chain == CT_PYCHAIN_FRAMEOBJECT_39 && v->linetable == CT_LINETABLE_LNOTAB);
#endif
}

int main(void)
{
    const struct ct_pyver *v = ct_pyver_for(PY_VERSION_HEX);
    CHECK(v != NULL);
    if (v)
        check_pre311(v);
    return check_done("pyver-offsets-" PY_VERSION);
}

#else

int main(void)
{
    printf("pyver-offsets-pre311: not a 3.9 or 3.10 header set (%s)\n", PY_VERSION);
    return 77;
}

#endif
