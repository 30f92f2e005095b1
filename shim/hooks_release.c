/*
 * hooks_release.c - inherited memory leaving a traced child.
 *
 * A backend that learns which pages were written by scanning page tables
 * (uffd-async, PAGEMAP_SCAN) loses a page unmapped, discarded or moved
 * before the next scan, and its written bit with it. So every way memory
 * leaves that passes through an interposable call tells the backend first
 * (ct_before_release, backend.h):
 *   munmap, mremap, madvise (the discarding advice), brk/sbrk shrinking,
 *   mmap with MAP_FIXED over a tracked range (hooks_mmap.c), malloc_trim,
 *   and free/realloc of a glibc block whose release may unmap or trim
 *   memory (glibc_heap.c says when).
 * Everything else passes straight through: when no backend watches
 * releases the cost is one load of a pointer. Under a backend whose first
 * writes are signals, free and realloc also keep those signals deliverable
 * for the call (see unblock_faults).
 *
 * What stays out of reach: glibc's internal calls (its own munmap, sbrk and
 * madvise, free called from inside libc), raw syscall(), and allocators
 * other than glibc's. README (Limits) says so.
 */
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <sys/mman.h>

#include "ct_shim.h"
#include "kernel_compat.h"

typedef void free_fn(void *);
typedef void *realloc_fn(void *, size_t);

CT_EXPORT int munmap(void *addr, size_t len)
{
    CT_REAL(munmap);
    ct_before_release(addr, len);
    return real_munmap(addr, len);
}

CT_EXPORT void *mremap(void *old, size_t old_len, size_t new_len, int flags, ...)
{
    CT_REAL(mremap);
    void *new_addr = NULL;
    if (flags & MREMAP_FIXED) {
        va_list ap;
        va_start(ap, flags);
        new_addr = va_arg(ap, void *);
        va_end(ap);
    }
    /* The pages move (and leave tracking, see README) or, shrinking, the
     * tail goes; a fixed target replaces what was there. */
    ct_before_release(old, old_len);
    if (flags & MREMAP_FIXED)
        ct_before_release(new_addr, new_len);
    return real_mremap(old, old_len, new_len, flags, new_addr);
}

static int discards(int advice)
{
    switch (advice) {
    case MADV_DONTNEED:
    case MADV_FREE:
    case MADV_REMOVE:
    case MADV_DONTNEED_LOCKED:
        return 1;
    default:
        return 0;
    }
}

CT_EXPORT int madvise(void *addr, size_t len, int advice)
{
    CT_REAL(madvise);
    if (discards(advice))
        ct_before_release(addr, len);
    return real_madvise(addr, len, advice);
}

/* glibc's sbrk(0) is the current break; it only reads. */
CT_EXPORT void *sbrk(intptr_t increment)
{
    CT_REAL(sbrk);
    if (increment < 0 && ct_releases_watched()) {
        uintptr_t cur = (uintptr_t)real_sbrk(0);
        if (cur != (uintptr_t)-1 && cur >= (uintptr_t)-increment)
            ct_before_release((void *)(cur + (uintptr_t)increment), (size_t)-increment);
    }
    return real_sbrk(increment);
}

CT_EXPORT int brk(void *end)
{
    CT_REAL(brk);
    CT_REAL(sbrk);
    if (ct_releases_watched()) {
        uintptr_t cur = (uintptr_t)real_sbrk(0);
        if (cur != (uintptr_t)-1 && (uintptr_t)end < cur)
            ct_before_release(end, cur - (uintptr_t)end);
    }
    return real_brk(end);
}

CT_EXPORT int malloc_trim(size_t pad)
{
    CT_REAL(malloc_trim);
    ct_before_release((void *)0x1000, ~(uintptr_t)0 - 0x1000);   /* it may trim any arena */
    return real_malloc_trim(pad);
}

/* free and realloc are resolved once, by the shim's constructor: dlsym
 * itself frees (a previous error string), and a free that called dlsym
 * could free that string twice. Until then glibc's own are used. */
void __libc_free(void *);
void *__libc_realloc(void *, size_t);
static free_fn *next_free = __libc_free;
static realloc_fn *next_realloc = __libc_realloc;

void ct_release_hooks_init(void)
{
    free_fn *f = (free_fn *)ct_real("free");
    realloc_fn *r = (realloc_fn *)ct_real("realloc");
    if (f && r) {
        next_free = f;
        next_realloc = r;
    }
}

/* A thread on its way out frees with every signal blocked: glibc blocks
 * them in start_thread before it trims its stack cache, and the loader then
 * frees the cached stacks' TLS vectors, which live on inherited heap pages.
 * Under a backend whose first writes are signals that first write would be
 * a fault the kernel cannot deliver, so those signals are let through for
 * the call. */
static int unblock_faults(const struct ct_backend_ops *b, sigset_t *old)
{
    if (!b->fault_signals)
        return 0;
    sigset_t faults;
    sigemptyset(&faults);
    sigaddset(&faults, SIGSEGV);
    sigaddset(&faults, SIGBUS);
    if (ct_is_err(ct_sys4(SYS_rt_sigprocmask, SIG_UNBLOCK, &faults, old, _NSIG / 8)))
        return 0;
    return sigismember(old, SIGSEGV) == 1 || sigismember(old, SIGBUS) == 1;
}

static void restore_mask(int changed, const sigset_t *old)
{
    if (ct_unlikely(changed))
        ct_sys4(SYS_rt_sigprocmask, SIG_SETMASK, old, NULL, _NSIG / 8);
}

/* What free or realloc of p needs from the backend b, before the call. */
static int before_free(const struct ct_backend_ops *b, free_fn *real_free, void *p, sigset_t *old)
{
    uintptr_t lo, hi;
    if (b->before_release && ct_glibc_release_range(real_free, p, &lo, &hi))
        ct_before_release_range(lo, hi);
    return unblock_faults(b, old);
}

CT_EXPORT void free(void *p)
{
    free_fn *real_free = next_free;
    const struct ct_backend_ops *b = ct_backend_active();
    if (ct_likely(!b) || !p) {
        real_free(p);
        return;
    }
    sigset_t old;
    int changed = before_free(b, real_free, p, &old);
    real_free(p);
    restore_mask(changed, &old);
}

CT_EXPORT void *realloc(void *p, size_t size)
{
    realloc_fn *real_realloc = next_realloc;
    const struct ct_backend_ops *b = ct_backend_active();
    if (ct_likely(!b))
        return real_realloc(p, size);
    /* Growing may move the block and free the old one; shrinking frees the
     * tail: either may unmap or trim as free would. realloc(NULL) may
     * allocate, which may write the heap: the signals stay deliverable. */
    sigset_t old;
    int changed = p ? before_free(b, next_free, p, &old) : unblock_faults(b, &old);
    void *q = real_realloc(p, size);
    restore_mask(changed, &old);
    return q;
}
