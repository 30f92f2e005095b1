/*
 * arena.c - the traced child's own memory.
 *
 * Everything the shim keeps in a child (state, regions, bitmaps, buffers)
 * comes from mappings the child creates after fork, so updating it never
 * copies a page the child shares with its parent. Freed only by exit/exec,
 * or by a grandchild discarding the copy it inherited.
 */
#include <sys/mman.h>

#include "ct_shim.h"

#define CT_ARENA_CAP (1ull << 30)    /* reserved lazily: pages cost only when touched */

static char *arena_base;
static size_t arena_used;

int ct_arena_init(void)
{
    arena_base = ct_mmap(NULL, CT_ARENA_CAP, PROT_READ | PROT_WRITE,
                         MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    arena_used = 0;
    return arena_base ? 0 : -1;
}

/* In a grandchild: the arena is a private copy of the parent's. */
void ct_arena_discard(void)
{
    if (arena_base)
        ct_munmap(arena_base, CT_ARENA_CAP);
    arena_base = NULL;
    arena_used = 0;
}

int ct_arena_contains(uintptr_t a, uintptr_t *start, uintptr_t *end)
{
    *start = (uintptr_t)arena_base;
    *end = *start + CT_ARENA_CAP;
    return arena_base && a >= *start && a < *end;
}

void *ct_arena_alloc(size_t size)
{
    size = (size + 15) & ~(size_t)15;
    if (!arena_base || arena_used + size > CT_ARENA_CAP)
        return NULL;
    void *p = arena_base + arena_used;
    arena_used += size;
    return p;   /* fresh anonymous pages are already zero */
}
