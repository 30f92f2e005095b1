/*
 * gc_freeze.c - --gc-freeze: the experiment the user would otherwise edit
 * code for. Runs in the parent, inside fork(), through the C API.
 */
#include <dlfcn.h>

#include "py.h"

typedef int int_fn(void);
typedef void *import_fn(const char *);
typedef void *getattr_fn(void *, const char *);
typedef void *call0_fn(void *);
typedef void decref_fn(void *);
typedef void void_fn(void);

/* In the parent, inside fork(): gc.freeze() moves every tracked object to
 * the permanent generation, so the child's collections never touch their
 * GC heads. Only legal with the GIL held; a fork from a thread without it
 * (rare: os.fork holds it) is left alone and recorded as such, as is a
 * free-threaded interpreter's fork (below). */
void ct_py_gc_freeze(void)
{
    ct_cfg.gc_freeze_flags = 0;
    int_fn *initialized = (int_fn *)dlsym(RTLD_DEFAULT, "Py_IsInitialized");
    int_fn *gil_held = (int_fn *)dlsym(RTLD_DEFAULT, "PyGILState_Check");
    import_fn *import = (import_fn *)dlsym(RTLD_DEFAULT, "PyImport_ImportModule");
    getattr_fn *getattr = (getattr_fn *)dlsym(RTLD_DEFAULT, "PyObject_GetAttrString");
    call0_fn *call = (call0_fn *)dlsym(RTLD_DEFAULT, "PyObject_CallNoArgs");
    decref_fn *decref = (decref_fn *)dlsym(RTLD_DEFAULT, "Py_DecRef");
    void_fn *clear = (void_fn *)dlsym(RTLD_DEFAULT, "PyErr_Clear");
    if (!initialized || !gil_held || !import || !getattr || !call || !decref || !clear || !initialized())
        return;
    if (ct_cfg.py_free_threaded) {
        /* A free-threaded os.fork() stops every other thread before fork()
         * (PyOS_BeforeFork), and gc.freeze() stops them again: called here
         * it waits for that first stop to end, forever (3.13.5t, seen). */
        ct_cfg.gc_freeze_flags = CT_PY_GC_FREEZE_FT;
        return;
    }
    if (!gil_held()) {
        ct_cfg.gc_freeze_flags = CT_PY_GC_NOGIL;
        return;
    }
    void *gc = import("gc");
    void *freeze = gc ? getattr(gc, "freeze") : NULL;
    void *r = freeze ? call(freeze) : NULL;
    if (r)
        ct_cfg.gc_freeze_flags = CT_PY_GC_FROZEN;
    decref(r);
    decref(freeze);
    decref(gc);
    if (!r)
        clear();
}
