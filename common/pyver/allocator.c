/*
 * allocator.c - see allocator.h: CPython's allocator names as PYTHON flags.
 */
#include <stddef.h>

#include "allocator.h"
#include "ct_format.h"

static bool same(const char *a, const char *b)
{
    while (*a && *a == *b)
        a++, b++;
    return *a == *b;
}

uint32_t ct_py_allocator_flags(const char *name, bool free_threaded, bool *known)
{
    static const struct { const char *name; uint32_t flags; } names[] = {
        {"pymalloc", 0},
        {"pymalloc_debug", CT_PY_NO_PYMALLOC | CT_PY_ALLOC_DEBUG | CT_PY_ALLOC_PYMALLOC},
        {"malloc", CT_PY_NO_PYMALLOC},
        {"malloc_debug", CT_PY_NO_PYMALLOC | CT_PY_ALLOC_DEBUG},
        {"mimalloc", CT_PY_NO_PYMALLOC | CT_PY_ALLOC_MIMALLOC},
        {"mimalloc_debug", CT_PY_NO_PYMALLOC | CT_PY_ALLOC_MIMALLOC | CT_PY_ALLOC_DEBUG},
    };
    if (same(name, "default"))
        name = free_threaded ? "mimalloc" : "pymalloc";
    else if (same(name, "debug"))
        name = free_threaded ? "mimalloc_debug" : "pymalloc_debug";
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (same(name, names[i].name)) {
            *known = true;
            return names[i].flags;
        }
    *known = false;
    return 0;
}
