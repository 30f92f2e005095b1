/*
 * glibc_heap.c - when glibc's free() may give memory back to the kernel.
 *
 * free() of a glibc block can unmap or trim memory through glibc's own
 * internal calls, which no interposer sees. The caller (hooks_release.c)
 * asks here, before the real free, which range could go, and scans it.
 * The answer leans on facts of glibc's malloc that have held since long
 * before 2.17 and still hold in 2.36 (malloc/malloc.c, malloc/arena.c):
 *   - a block p has its chunk header at p - 16: prev_size, then the size
 *     with flag bits PREV_INUSE (1), IS_MMAPPED (2), NON_MAIN_ARENA (4);
 *   - an mmapped chunk is its own mapping, from chunk - prev_size for
 *     chunk + size bytes, unmapped (or mremapped) when freed;
 *   - a freed chunk is merged with free neighbours, and only a merged chunk
 *     of FASTBIN_CONSOLIDATION_THRESHOLD (64 KiB) or more leads to
 *     trimming: the main arena's top above the break's last page, or a
 *     thread arena's heap (HEAP_MAX_SIZE, 64 MiB, aligned) from its end;
 *   - the main arena's top chunk ends at the program break.
 * A false "may release" costs one scan of a small range; a false "keeps"
 * would lose writes, so every doubt answers "may release".
 * Used only when the next free() is glibc's own (libc.so.6): with another
 * allocator preloaded, the header means nothing and nothing is asked.
 */
#include <dlfcn.h>
#include <malloc.h>

#include "ct_shim.h"

#define CT_PREV_INUSE 1u
#define CT_IS_MMAPPED 2u
#define CT_NON_MAIN_ARENA 4u
#define CT_FLAG_BITS 7u
#define CT_CONSOLIDATE (64u << 10)
#define CT_HEAP_MAX (64ul << 20)
/* Fastbin chunks consolidated into the top along with a large free. */
#define CT_TOP_SLACK (256ul << 10)

extern void *__curbrk;   /* glibc's program break (exported since 2.2.5) */

static int is_glibc(void *fn)
{
    static _Atomic int known;   /* 0 not yet, 1 glibc, 2 another allocator */
    int k = atomic_load_explicit(&known, memory_order_relaxed);
    if (ct_likely(k))
        return k == 1;
    Dl_info info;
    k = 2;
    if (fn && dladdr(fn, &info) && info.dli_fname) {
        const char *s = info.dli_fname, *base = s;
        for (; *s; s++)
            if (*s == '/')
                base = s + 1;
        if (!ct_strncmp(base, "libc.so.", 8))
            k = 1;
    }
    atomic_store_explicit(&known, k, memory_order_relaxed);
    return k == 1;
}

/* The top chunk's size: mallinfo2's keepcost. Only asked after a large
 * free, so its walk of the bins does not matter. */
static size_t main_top_size(void)
{
    typedef struct mallinfo2 mallinfo2_fn(void);
    static mallinfo2_fn *mi;
    if (!mi)
        mi = (mallinfo2_fn *)ct_real("mallinfo2");
    return mi ? mi().keepcost : CT_HEAP_MAX;
}

int ct_glibc_release_range(void *real_free, void *p, uintptr_t *lo, uintptr_t *hi)
{
    if (!is_glibc(real_free))
        return 0;
    uintptr_t chunk = (uintptr_t)p - 16;
    size_t prev = ((const size_t *)chunk)[0], raw = ((const size_t *)chunk)[1];
    size_t size = raw & ~(size_t)CT_FLAG_BITS;
    if (raw & CT_IS_MMAPPED) {
        *lo = chunk - prev;
        *hi = chunk + size;
        return *hi > *lo;
    }
    size_t merged = size;
    uintptr_t start = chunk;
    if (!(raw & CT_PREV_INUSE)) {
        merged += prev;
        start -= prev;
    }
    if (raw & CT_NON_MAIN_ARENA) {
        uintptr_t next = chunk + size;
        merged += ((const size_t *)next)[1] & ~(size_t)CT_FLAG_BITS;   /* if free, it merges */
        if (merged < CT_CONSOLIDATE)
            return 0;
        *lo = chunk & ~(CT_HEAP_MAX - 1);
        *hi = *lo + CT_HEAP_MAX;
        return 1;
    }
    uintptr_t brk = (uintptr_t)__curbrk, next = chunk + size;
    if (next < brk) {
        size_t next_size = ((const size_t *)next)[1] & ~(size_t)CT_FLAG_BITS;
        if (next + next_size == brk) {   /* next is the top chunk: they merge */
            if (merged + next_size < CT_CONSOLIDATE)
                return 0;
            *lo = start;
            *hi = brk;
            return 1;
        }
    }
    if (merged < CT_CONSOLIDATE)
        return 0;
    /* A large free elsewhere still consolidates and may trim the top. */
    size_t top = main_top_size() + CT_TOP_SLACK;
    *lo = brk > top ? brk - top : 0;
    *hi = brk;
    return brk != 0;
}
