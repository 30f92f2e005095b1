/*
 * hooks_mmap.c - memory the shim's helpers map for themselves.
 *
 * The unwinder (libunwind) maps memory for its caches while our fault
 * handler runs. In this process that memory is new, hence untracked; but a
 * child forked later inherits it, and there it would be tracked like the
 * program's - and the unwinder writes it with every signal blocked, where a
 * protection fault kills. So mappings made while this thread is inside the
 * shim's own work are remembered (in the shim's data, which children
 * inherit) and cut out of the regions to track, like the shim's arena.
 */
/* Define mmap itself, not the 64-bit-offset rename of it. */
#undef _FILE_OFFSET_BITS

#include <sys/mman.h>

#include "ct_shim.h"

static uintptr_t own_maps[CT_OWN_MAPS][2];
static _Atomic int n_own_maps;

static void remember(void *p, size_t len)
{
    int i = atomic_fetch_add(&n_own_maps, 1);
    if (i >= CT_OWN_MAPS) {
        atomic_store(&n_own_maps, CT_OWN_MAPS);
        return;
    }
    own_maps[i][0] = (uintptr_t)p;
    own_maps[i][1] = (uintptr_t)p + len;
}

int ct_own_mapping(int i, uintptr_t *start, uintptr_t *end)
{
    if (i >= atomic_load(&n_own_maps))
        return 0;
    *start = own_maps[i][0];
    *end = own_maps[i][1];
    return 1;
}

CT_EXPORT void *mmap(void *addr, size_t len, int prot, int flags, int fd, off_t off)
{
    CT_REAL(mmap);
    /* A fixed mapping replaces what was there: a release (hooks_release.c). */
    if (flags & MAP_FIXED)
        ct_before_release(addr, len);
    void *p = real_mmap(addr, len, prot, flags, fd, off);
    if (p != MAP_FAILED && ct_shim_busy())
        remember(p, len);
    return p;
}

CT_EXPORT void *mmap64(void *addr, size_t len, int prot, int flags, int fd, off_t off)
{
    return mmap(addr, len, prot, flags, fd, off);
}
