/*
 * cause.c - see cause.h. Every branch below is one rule of the header, in
 * the same order; a change of rules is a change of both.
 */
#include "cause.h"

#include <string.h>

#include "decode.h"

const char *ct_cause_name(enum ct_cause c)
{
    static const char *const names[CT_NCAUSES] = {
        "refcount", "gc", "object", "allocator", "interpreter", "other", "unknown",
    };
    return (unsigned)c < CT_NCAUSES ? names[c] : "unknown";
}

bool ct_region_is_interpreter(const struct ct_region *r, const struct ct_python *py)
{
    static const char bss[] = " (bss)";
    if (r->kind != CT_KIND_DATA || !py || !py->path.len)
        return false;
    size_t len = r->name.len;
    if (len >= sizeof bss - 1 && !memcmp(r->name.s + len - (sizeof bss - 1), bss, sizeof bss - 1))
        len -= sizeof bss - 1;
    return len == py->path.len && !memcmp(r->name.s, py->path.s, len);
}

const char *ct_python_allocator_name(uint32_t f)
{
    if (!(f & CT_PY_NO_PYMALLOC))
        return "pymalloc";
    if (f & CT_PY_ALLOC_MIMALLOC)
        return f & CT_PY_ALLOC_DEBUG ? "mimalloc_debug" : "mimalloc";
    if (f & CT_PY_ALLOC_PYMALLOC)
        return "pymalloc_debug";
    return f & CT_PY_ALLOC_DEBUG ? "malloc_debug" : "malloc";
}

const char *ct_python_allocator_note(uint32_t f)
{
    if (!(f & CT_PY_NO_PYMALLOC))
        return "";
    if (f & CT_PY_ALLOC_DEBUG)
        return f & CT_PY_ALLOC_MIMALLOC ? "; allocator mimalloc_debug, not pymalloc: no cause is inferred from pools"
               : f & CT_PY_ALLOC_PYMALLOC ? "; allocator pymalloc_debug: objects are not where pymalloc's blocks "
                                            "start, no cause is inferred from pools"
                                          : "; allocator malloc_debug, not pymalloc: no cause is inferred from pools";
    return f & CT_PY_ALLOC_MIMALLOC ? "; allocator mimalloc, not pymalloc: no cause is inferred from pools"
                                    : "; allocator malloc, not pymalloc: no cause is inferred from pools";
}

static struct ct_verdict v(enum ct_cause c, bool typed)
{
    return (struct ct_verdict){ c, typed };
}

/* Rule 3: the write hit an object (or the memory the allocator put before
 * it for the collector and the managed dict). */
static struct ct_verdict object_part(const struct ct_pyver *pv, const struct ct_event *e,
                                     const struct ct_pytype *type)
{
    switch (ct_py_part_of(pv, e->addr, e->obj)) {
    case CT_PYPART_REFCNT:
        return v(CT_CAUSE_REFCOUNT, true);
    case CT_PYPART_FIELDS:
        return v(CT_CAUSE_OBJECT, true);
    case CT_PYPART_GC_HEAD: {
        bool gc = type ? ct_pytype_has_gc(pv, type->flags)
                       : e->obj_how == CT_OBJ_GC_NEXT || e->obj_how == CT_OBJ_GC_PREV;
        return gc ? v(CT_CAUSE_GC, true) : v(CT_CAUSE_UNKNOWN, false);
    }
    case CT_PYPART_PREHEADER:
        if (type && ct_pytype_has_managed_dict(pv, type->flags))
            return v(CT_CAUSE_OBJECT, true);
        return v(CT_CAUSE_UNKNOWN, false);
    case CT_PYPART_BEFORE:
        break;
    }
    return v(CT_CAUSE_UNKNOWN, false);
}

struct ct_verdict ct_cause_of_write(const struct ct_pyver *pv, const struct ct_event *e,
                                    const struct ct_region *r, bool interp,
                                    const struct ct_pytype *type)
{
    bool has_obj = e->obj != 0 && e->obj_how != CT_OBJ_NONE;
    if (interp)                                                  /* 1 */
        return v(CT_CAUSE_INTERPRETER, has_obj);
    if (e->where == CT_WHERE_POOL_HEADER)                        /* 2 */
        return v(CT_CAUSE_ALLOCATOR, false);
    if (has_obj && e->obj_how == CT_OBJ_DICT_KEYS)                /* 3, a dict's keys table */
        return v(CT_CAUSE_OBJECT, true);
    if (has_obj && (e->obj_how == CT_OBJ_VALUES ||                /* 3, an instance's values, */
                    e->obj_how == CT_OBJ_POINTERS))               /* an array of objects */
        return v(CT_CAUSE_OBJECT, false);
    if (has_obj)                                                 /* 3 */
        return object_part(pv, e, type);
    if (e->where == CT_WHERE_POOL_BLOCK)                         /* 4 */
        return e->block && e->addr >= e->block && e->addr - e->block < 8 ? v(CT_CAUSE_ALLOCATOR, false)
                                                                        : v(CT_CAUSE_UNKNOWN, false);
    if (e->flags & CT_WRITE_KERNEL)                              /* 5 */
        return v(CT_CAUSE_OTHER, false);
    if (r->kind == CT_KIND_STACK || r->kind == CT_KIND_DATA)     /* 6 */
        return v(CT_CAUSE_OTHER, false);
    return e->where == CT_WHERE_OUTSIDE ? v(CT_CAUSE_OTHER, false) : v(CT_CAUSE_UNKNOWN, false);
}

struct ct_verdict ct_cause_of_summary(const struct ct_pyver *pv, const struct ct_summary *s,
                                      const struct ct_region *r, bool interp, const struct ct_pytype *type,
                                      bool gc_collected)
{
    uint32_t where = s->code & 3;
    if (interp)
        return v(CT_CAUSE_INTERPRETER, s->type_index != 0);
    if (s->type_index && gc_collected && type && ct_pytype_has_gc(pv, type->flags))
        return v(CT_CAUSE_GC, true);
    if (s->type_index)
        return v(CT_CAUSE_REFCOUNT, true);
    if (where == CT_WHERE_POOL_HEADER || (where == CT_WHERE_POOL_BLOCK && s->objects == 0))
        return v(CT_CAUSE_ALLOCATOR, false);
    if (where == CT_WHERE_OUTSIDE || r->kind == CT_KIND_STACK || r->kind == CT_KIND_DATA)
        return v(CT_CAUSE_OTHER, false);
    return v(CT_CAUSE_UNKNOWN, false);
}
