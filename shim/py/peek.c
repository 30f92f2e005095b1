/*
 * peek.c - reads of our own memory that cannot fault and copy nothing: the
 * struct ct_memread the CPython decoder uses in the shim.
 *
 * Promise: a read returns the bytes or fails; it never faults, never
 * copies a page still shared with the parent, allocates nothing and makes
 * no system call. The region table describes memory at fork; since then
 * the program may have unmapped some of it (Python frees empty arenas), so
 * a plain load could fault. The obvious fault-proof reads copy memory:
 * process_vm_readv pins the pages it reads, and pinning a page still shared
 * with the parent makes the kernel copy it; reads through /proc/self/mem
 * measurably copied pages too (the perturbation test counts them). So every
 * read is a guarded load: a plain load that, if it faults, is abandoned -
 * our SIGSEGV/SIGBUS handler sees the probe and jumps back
 * (ct_probe_recover). The precise backends' fault handler does that from
 * set-up on; a scanning backend (uffd-async) installs ct_py_probe_handler
 * and switches reads on (ct_py_guarded_reads) before it starts tracking.
 * Until then a read is refused: nothing reads before then, and an
 * unguarded load must not happen by mistake.
 *
 * The jump back is the shim's own (jump.c), not glibc's siglongjmp, which
 * touches the calling thread's thread block: uffd-async's flusher reads
 * too, and has none of its own (backend_uffd_async.c).
 */
#include <ucontext.h>
#include <sys/uio.h>

#include "py.h"

#define CT_PROBE_SLOTS 64
/* A probe is known by its stack frame rather than its thread id: finding
 * the id is a system call, and reads come by the hundred thousand. The
 * faulting context's stack pointer lies just below the probe's frame. */
static struct {
    _Atomic uintptr_t frame;     /* 0 = free */
    void **volatile jb;          /* a ct_jump_save buffer */
} probes[CT_PROBE_SLOTS];

static void copy_words(void *out, uintptr_t addr, size_t n)
{
    /* Word loads where aligned: summaries read hundreds of thousands. */
    uint8_t *dst = out;
    size_t i = 0;
    if (!(addr & 7) && !((uintptr_t)dst & 7))
        for (; i + 8 <= n; i += 8)
            *(uint64_t *)(dst + i) = *(volatile const uint64_t *)(addr + i);
    for (; i < n; i++)
        dst[i] = *(volatile const uint8_t *)(addr + i);
}

static int probe_claim(uintptr_t frame)
{
    for (int i = 0; i < CT_PROBE_SLOTS; i++) {
        uintptr_t expected = 0;
        if (atomic_compare_exchange_strong(&probes[i].frame, &expected, frame))
            return i;
    }
    return -1;
}

static void probe_release(int slot)
{
    probes[slot].jb = NULL;
    atomic_store(&probes[slot].frame, 0);
}

/* Copy n pieces; a piece whose read faults is zeroed. One probe for the
 * lot. Returns the pieces read whole (0 when no probe slot was free). */
static __attribute__((noinline)) size_t guarded_copy_many(struct iovec *local, const struct iovec *remote,
                                                         size_t n)
{
    volatile int slot = probe_claim((uintptr_t)__builtin_frame_address(0));
    if (slot < 0)
        return 0;
    volatile size_t i = 0, good = 0;
    void *jb[CT_JUMP_WORDS];
    if (ct_jump_save(jb) != 0) {
        /* piece i faulted: zero it and go on with the next */
        ct_memset(local[i].iov_base, 0, local[i].iov_len);
        i = i + 1;
    }
    probes[slot].jb = jb;
    while (i < n) {
        copy_words(local[i].iov_base, (uintptr_t)remote[i].iov_base, local[i].iov_len);
        i = i + 1;
        good = good + 1;
    }
    probe_release(slot);
    return good;
}

void ct_py_guarded_copy_many(struct iovec *local, const struct iovec *remote, size_t n)
{
    if (ct_py && ct_py->guarded) {
        guarded_copy_many(local, remote, n);
        return;
    }
    for (size_t i = 0; i < n; i++)
        ct_memset(local[i].iov_base, 0, local[i].iov_len);
}

int ct_py_guarded_read(void *ctx, uintptr_t addr, void *dst, size_t len)
{
    const struct ct_pyinfo *info = ctx;
    if (addr < 4096 || addr + len < addr || !info || !info->guarded)
        return -1;
    struct iovec l = {.iov_base = dst, .iov_len = len}, r = {.iov_base = (void *)addr, .iov_len = len};
    return guarded_copy_many(&l, &r, 1) == 1 ? 0 : -1;
}

int ct_py_read(uintptr_t addr, void *out, size_t n)
{
    return ct_py_guarded_read(ct_py, addr, out, n);
}

/* From the SIGSEGV/SIGBUS handler: a fault inside a guarded load returns
 * to it as a failed read. */
void ct_probe_recover(void *uc)
{
    ucontext_t *u = uc;
#if defined(__x86_64__)
    uintptr_t sp = (uintptr_t)u->uc_mcontext.gregs[REG_RSP];
#else
    uintptr_t sp = (uintptr_t)u->uc_mcontext.sp;
#endif
    for (int i = 0; i < CT_PROBE_SLOTS; i++) {
        uintptr_t f = atomic_load_explicit(&probes[i].frame, memory_order_relaxed);
        if (f && sp <= f && f - sp < 4096 && probes[i].jb) {
            /* Our handlers block every asynchronous signal (hooks_signal.c)
             * and the jump does not restore the mask (a sigsetjmp that
             * saved it would cost a system call per read): give the read's
             * thread back the mask it had when the load faulted. */
            ct_sys4(SYS_rt_sigprocmask, SIG_SETMASK, &u->uc_sigmask, NULL, _NSIG / 8);
            ct_jump_back(probes[i].jb, 1);
        }
    }
}

/* In a child, from the fork handler: the slots the parent's other threads
 * held when the program forked (its uffd-async flusher in the middle of a
 * read) name frames of threads that do not exist here. Their stacks may
 * be reused (glibc hands a dead thread's stack to the next thread created;
 * the child's own flusher maps its stack where the parent's may have been),
 * so a read at the same depth can fault within 4096 bytes of a stale frame, and ct_probe_recover, which takes the first slot
 * that fits, would jump through a jump buffer that stack has overwritten
 * (CPython 3.13's TestForkAwareThreadLock, five generations of
 * multiprocessing children under uffd-async: SIGSEGV in __longjmp). Only
 * the forking thread is left, and it is in no read. */
void ct_probes_forget(void)
{
    for (int i = 0; i < CT_PROBE_SLOTS; i++) {
        probes[i].jb = NULL;
        atomic_store(&probes[i].frame, 0);
    }
}

/* uffd-async, at start: our probe handler is in, reads may begin. */
void ct_py_guarded_reads(int on)
{
    if (ct_py)
        ct_py->guarded = on;
    if (on)
        ct_py_collections_start();   /* before tracking: the count at the fork */
}

static void probe_fault(int sig, siginfo_t *si, void *uc)
{
    ct_probe_recover(uc);
    ct_chain_signal(sig, si, uc);
}

void *ct_py_probe_handler(void)
{
    return (void *)probe_fault;
}
