/*
 * cause.h - why one copied page was copied: the decision rules, and nothing
 * else (attrib.c applies them to a whole process).
 *
 * Promise: the cause of a page is a pure function of its evidence, its
 * region, the interpreter record and the CPython version's data
 * (common/pyver/: its layout and the decoder's ct_py_part_of; no CPython
 * offset is written here). The rules, for
 * the FIRST write event of a copied page at address A in region R:
 *
 *  1. R is the interpreter's static data (a DATA region whose name, without
 *     a trailing " (bss)", is the PYTHON record's path) -> interpreter
 *     (typed with the object's type if the shim found an object);
 *  2. where == POOL_HEADER -> allocator;
 *  3. the shim found a dict's keys table (obj_how == DICT_KEYS: obj is the
 *     block, type the dict type) -> object, typed;
 *     an instance's attribute values array (obj_how == VALUES, 3.11 and
 *     3.12: obj is the block; nothing in it leads back to the instance)
 *     -> object, untyped (attrib.c names it "(instance values)");
 *     a block without a header whose written word points to a live object
 *     (obj_how == POINTERS: a split dict's values before 3.11, a list's
 *     items; not a free block's link) -> object, untyped ("(object
 *     pointers)");
 *     else an object was found (obj != 0, obj_how != NONE): off = A - obj
 *       off in the ob_refcnt word                  -> refcount
 *       any other off >= 0                         -> object
 *       -gc_head_size <= off < 0, and the type has Py_TPFLAGS_HAVE_GC (or
 *         the type is undefined and the shim found it by its PyGC_Head)
 *                                                  -> gc
 *       the managed-dict pre-header just before the PyGC_Head, type has
 *         Py_TPFLAGS_MANAGED_DICT                  -> object
 *       anything else before the object            -> unknown (the evidence
 *                                                     contradicts itself)
 *     all typed with the object's type;
 *  4. where == POOL_BLOCK, no object: A in the block's first 8 bytes (the
 *     free-list link) -> allocator, else unknown;
 *  5. a write by the kernel in a system call -> other;
 *  6. R is a stack or a data region (not the interpreter's) -> other;
 *     else where == OUTSIDE -> other, where UNKNOWN or a value this reader
 *     does not know -> unknown.
 *
 * Inferred (uffd-async and snapshot, from the page's latest PAGE_SUMMARY
 * entry): interpreter region -> interpreter; a type whose objects the
 * collector tracks (Py_TPFLAGS_HAVE_GC), in a process that ran a full
 * collection since the fork (snapshot: CT_PY_GC_COLLECTED; uffd-async: a
 * PYGC record) -> gc with that type (a
 * collection rewrites every tracked object's GC links and restores most
 * of them); another type -> refcount with that type (what most likely
 * copied a page holding objects: reading them);
 * POOL_HEADER, or POOL_BLOCK with no object header -> allocator; OUTSIDE
 * -> other; a stack or data region -> other (as rule 6); else unknown.
 *
 * Early pages, pages without evidence and unknown layouts are attrib.c's
 * business: they never reach these functions.
 */
#ifndef COWTRACE_CAUSE_H
#define COWTRACE_CAUSE_H

#include <stdbool.h>

#include "pyver.h"
#include "trace.h"

/* In report order: the order of the JSON "causes" keys and the text table. */
enum ct_cause {
    CT_CAUSE_REFCOUNT,
    CT_CAUSE_GC,
    CT_CAUSE_OBJECT,
    CT_CAUSE_ALLOCATOR,
    CT_CAUSE_INTERPRETER,
    CT_CAUSE_OTHER,
    CT_CAUSE_UNKNOWN,
    CT_NCAUSES
};

struct ct_verdict {
    enum ct_cause cause;
    bool typed;               /* the page is attributed to the evidence's type */
};

const char *ct_cause_name(enum ct_cause c);

/* The interpreter's allocator from a PYTHON record's flags when it is not
 * pymalloc ("malloc", "malloc_debug", "pymalloc_debug", "mimalloc",
 * "mimalloc_debug"), else "pymalloc"; and the report's note on it ("" for
 * pymalloc): the shim looked up no pool, so no page is `allocator` from a
 * pool header. */
const char *ct_python_allocator_name(uint32_t py_flags);
const char *ct_python_allocator_note(uint32_t py_flags);

/* Rule 1's test. */
bool ct_region_is_interpreter(const struct ct_region *r, const struct ct_python *py);

/* type: the PYTYPE record for e->type, or NULL if none defines it. */
struct ct_verdict ct_cause_of_write(const struct ct_pyver *pv, const struct ct_event *e,
                                    const struct ct_region *r, bool interp,
                                    const struct ct_pytype *type);

/* type: the PYTYPE record the summary names, or NULL; gc_collected: the
 * process ran a full collection since the fork (its PYTHON record says
 * CT_PY_GC_COLLECTED, or it has a PYGC record). */
struct ct_verdict ct_cause_of_summary(const struct ct_pyver *pv, const struct ct_summary *s,
                                      const struct ct_region *r, bool interp, const struct ct_pytype *type,
                                      bool gc_collected);

#endif
