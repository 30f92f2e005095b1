/*
 * backend_sync.c - the core of backends uffd and mprotect: a signal at the
 * first write to each inherited page.
 *
 *   uffd      userfaultfd write-protection with UFFD_FEATURE_SIGBUS: a write
 *             to a protected page raises SIGBUS in the writing thread, and
 *             UFFDIO_WRITEPROTECT lifts the protection of that one page table
 *             entry. No VMA is split, so any number of pages can be tracked.
 *             userfaultfd write-protects anonymous memory only; file-backed
 *             private mappings (library data) use mprotect in this mode.
 *   mprotect  PROT_READ and SIGSEGV, for kernels without userfaultfd or
 *             where it is denied. Each page opened splits a VMA; when the
 *             VMAs we added near half of what vm.max_map_count leaves, all
 *             regions are protected again in one sweep, which merges them
 *             back. Pages already recorded fault once more and are reopened
 *             without a record.
 * backend_uffd.c and backend_mprotect.c are the two ops tables; which
 * method protects a region is decided per region (protect_range).
 *
 * Both record the exact address, instruction pointer and thread of the first
 * write, in the signal handler. The handler runs on the shim's own signal
 * stack and allocates nothing. Besides raw system calls it reads Python
 * objects with guarded loads (shim/py/peek.c, which may recover from a fault
 * with siglongjmp), captures the stack with libunwind (stacks.c; the unwinder
 * takes the dynamic loader's lock in dl_iterate_phdr, which is why the
 * loader's pages are never protected, see shim_dependency), and hands
 * faults that are not first writes to the program's handler (hooks_signal.c).
 *
 * Memory the kernel itself writes must stay writable, because the kernel
 * reports a fault there as EFAULT (system calls) or kills the process
 * (signal frames): stacks and signal stacks are therefore not protected, and
 * the libc functions that write into caller buffers open them first and
 * record what the kernel wrote (ct_kwrite_begin/end, hooks_io.c).
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/mman.h>
#include <time.h>
#include <ucontext.h>

#include "backend_sync.h"
#include "kernel_compat.h"

#define CT_ALTSTACK_SIZE (256u << 10)
#define CT_DEFAULT_MAX_MAP_COUNT 65530   /* the kernel's default */

static inline struct ct_sync_state *sync_state(const struct ct_state *st)
{
    return st->backend_state;
}

/* Region r's bitmap of pages currently writable. */
static inline _Atomic uint64_t *open_bits(const struct ct_state *st, const struct ct_region *r)
{
    return sync_state(st)->open[r - st->regions];
}

static inline int is_sync(const struct ct_region *r)
{
    return r->tracking == CT_TRACK_UFFD || r->tracking == CT_TRACK_MPROTECT;
}

static int sync_prot(const struct ct_region *r)
{
    return PROT_READ | (int)(r->prot & PROT_EXEC);
}

static long protect_range(struct ct_state *st, const struct ct_region *r, uintptr_t a, uintptr_t b, int on)
{
    if (r->tracking == CT_TRACK_MPROTECT)
        return ct_mprotect((void *)a, b - a, on ? sync_prot(r) : (int)r->prot);
    struct uffdio_writeprotect wp = {
        .range = {.start = a, .len = b - a},
        .mode = on ? UFFDIO_WRITEPROTECT_MODE_WP : 0,
    };
    return ct_ioctl(st->backend_fd, UFFDIO_WRITEPROTECT, &wp);
}

static int excluded(const struct ct_state *st, uintptr_t a)
{
    const struct ct_sync_state *ss = sync_state(st);
    for (int i = 0; i < ss->nexcl; i++)
        if (a >= ss->excl[i][0] && a < ss->excl[i][1])
            return 1;
    return 0;
}

/* Protect [r->start, r->end) except the excluded ranges, which are never
 * protected, not even for a moment: the kernel writes the rseq area at any
 * return to user space after preemption, and a write it cannot make there
 * is a SIGSEGV the process does not survive. */
static long protect_region(struct ct_state *st, struct ct_region *r)
{
    const struct ct_sync_state *ss = sync_state(st);
    uintptr_t a = r->start;
    while (a < r->end) {
        uintptr_t skip = 0, b = r->end;
        for (int i = 0; i < ss->nexcl; i++) {
            if (ss->excl[i][0] <= a && a < ss->excl[i][1])
                skip = ss->excl[i][1];
            else if (ss->excl[i][0] > a && ss->excl[i][0] < b)
                b = ss->excl[i][0];
        }
        if (skip) {
            a = skip;
            continue;
        }
        long rc = protect_range(st, r, a, b, 1);
        if (ct_is_err(rc))
            return rc;
        a = b;
    }
    return 0;
}

/* Excluded pages are writable from the start: mark them open. */
static void mark_exclusions_open(struct ct_state *st)
{
    const struct ct_sync_state *ss = sync_state(st);
    for (int i = 0; i < ss->nexcl; i++) {
        for (uintptr_t p = ss->excl[i][0]; p < ss->excl[i][1]; p += (uintptr_t)ct_cfg.page_size) {
            struct ct_region *r = ct_region_of(p);
            if (r && is_sync(r))
                ct_bit_test_and_set(open_bits(st, r), (p - r->start) >> ct_cfg.page_shift);
        }
    }
}

/* Protect every mprotect region again: adjacent VMAs with equal flags merge. */
static void reprotect_round(struct ct_state *st)
{
    for (uint32_t i = 0; i < st->nregions; i++) {
        struct ct_region *r = &st->regions[i];
        if (r->tracking != CT_TRACK_MPROTECT)
            continue;
        protect_region(st, r);
        size_t words = (r->npages + 63) / 64;
        for (size_t w = 0; w < words; w++)
            atomic_store_explicit(&open_bits(st, r)[w], 0, memory_order_relaxed);
    }
    mark_exclusions_open(st);
    atomic_store(&sync_state(st)->vma_delta, 0);
}

static void open_page(struct ct_state *st, struct ct_region *r, size_t pg)
{
    uintptr_t a = r->start + (pg << ct_cfg.page_shift);
    long rc;
    if (r->tracking == CT_TRACK_MPROTECT) {
        struct ct_sync_state *ss = sync_state(st);
        int left = pg > 0 && ct_bit_test(open_bits(st, r), pg - 1);
        int right = pg + 1 < r->npages && ct_bit_test(open_bits(st, r), pg + 1);
        long delta = (!left && !right) ? 2 : (left && right) ? -2 : 0;
        if (delta > 0 && atomic_load(&ss->vma_delta) + delta > ss->vma_budget)
            reprotect_round(st);
        rc = protect_range(st, r, a, a + (uintptr_t)ct_cfg.page_size, 0);
        if (rc == -ENOMEM) {
            reprotect_round(st);
            rc = protect_range(st, r, a, a + (uintptr_t)ct_cfg.page_size, 0);
        }
        if (!ct_is_err(rc))
            atomic_fetch_add(&ss->vma_delta, delta);
    } else {
        rc = protect_range(st, r, a, a + (uintptr_t)ct_cfg.page_size, 0);
    }
    if (ct_is_err(rc)) {
        /* Never leave the program spinning on a write we cannot allow. */
        ct_stop_tracking("cannot lift write protection");
        return;
    }
    ct_bit_test_and_set(open_bits(st, r), pg);
}

static void record_write(struct ct_state *st, uintptr_t addr, uintptr_t ip, uint32_t flags,
                         const struct ct_py_evidence *ev, uint32_t stack)
{
    if (ct_rec_write(&st->w, addr, ip, ct_clock_ns(CLOCK_MONOTONIC), (uint32_t)ct_tid(), flags, ev, stack))
        ct_stop_tracking("the trace file cannot grow");
}

static uintptr_t context_ip(void *uc)
{
    ucontext_t *u = uc;
#if defined(__x86_64__)
    return (uintptr_t)u->uc_mcontext.gregs[REG_RIP];
#else
    return (uintptr_t)u->uc_mcontext.pc;
#endif
}

static void on_fault(int sig, siginfo_t *si, void *uc)
{
    struct ct_state *st = ct_st;
    if (st && si->si_code > 0 &&
        ((sig == SIGSEGV && si->si_code == SEGV_ACCERR) || (sig == SIGBUS && si->si_code == BUS_ADRERR))) {
        uintptr_t addr = (uintptr_t)si->si_addr;
        struct ct_region *r = ct_region_of(addr);
        uint32_t want = sig == SIGSEGV ? CT_TRACK_MPROTECT : CT_TRACK_UFFD;
        if (r && r->tracking == want) {
            if (atomic_load(&st->stopped))
                return;   /* protection is already gone: the write will go through */
            size_t pg = (addr - r->start) >> ct_cfg.page_shift;
            /* A fork child before its own set-up sees our protections but
             * not as its own writes; a vfork child shares our memory, so its
             * writes are ours. */
            int mine = !atomic_load(&st->forking) || st->pid == ct_getpid();
            if (mine && ct_shim_busy()) {
                ct_bit_test_and_set(r->seen, pg);   /* the shim's own write: not recorded */
            } else if (mine && !ct_bit_test_and_set(r->seen, pg) && atomic_load(&st->active)) {
                /* Read the evidence now: the write has not happened yet. */
                struct ct_py_evidence ev;
                ct_py_examine(st, addr, &ev);
                int slot = ct_busy_enter_in_handler();
                uint32_t stack = slot >= 0 ? ct_stack_capture(st, uc) : 0;
                ct_busy_leave(slot);
                record_write(st, addr, context_ip(uc), 0, &ev, stack);
                if (ct_cfg.capture_pages) {
                    /* The faulting page is mapped and still holds what the
                     * parent left there: the write has not happened. */
                    uintptr_t page = addr & ~((uintptr_t)ct_cfg.page_size - 1);
                    ct_rec_page_data(&st->w, page, CT_PAGE_BEFORE_WRITE, (const void *)page,
                                     (uint32_t)ct_cfg.page_size);
                }
            }
            atomic_fetch_add(&st->faults, 1);
            open_page(st, r, pg);
            return;
        }
    }
    /* A guarded read of ours that hit unmapped memory: not the program's. */
    ct_probe_recover(uc);
    ct_chain_signal(sig, si, uc);
}

static void add_exclusion(struct ct_state *st, uintptr_t a, uintptr_t b)
{
    struct ct_sync_state *ss = sync_state(st);
    uintptr_t mask = (uintptr_t)ct_cfg.page_size - 1;
    if (ss->nexcl < CT_MAX_EXCL && b > a) {
        ss->excl[ss->nexcl][0] = a & ~mask;
        ss->excl[ss->nexcl][1] = (b + mask) & ~mask;
        ss->nexcl++;
    }
}

/* Our handler needs a stack the kernel can always write: the program's own
 * signal stack, if it set one (left unprotected), or ours. */
static int setup_altstack(struct ct_state *st)
{
    stack_t cur;
    if (ct_is_err(ct_sys2(SYS_sigaltstack, NULL, &cur)))
        return -1;
    if (!(cur.ss_flags & SS_DISABLE)) {
        add_exclusion(st, (uintptr_t)cur.ss_sp, (uintptr_t)cur.ss_sp + cur.ss_size);
        return 0;
    }
    struct ct_sync_state *ss = sync_state(st);
    ss->altstack = ct_mmap(NULL, CT_ALTSTACK_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (!ss->altstack)
        return -1;
    ss->altstack_size = CT_ALTSTACK_SIZE;
    stack_t alt = {.ss_sp = ss->altstack, .ss_size = CT_ALTSTACK_SIZE, .ss_flags = 0};
    return ct_is_err(ct_sys2(SYS_sigaltstack, &alt, NULL)) ? -1 : 0;
}

/* The kernel writes into the thread's control block behind the program's
 * back: the rseq area at every preemption and signal delivery (glibc 2.35+
 * registers one per thread), the tid word at exit. A failed write there is
 * a SIGSEGV the program cannot survive, so those pages stay writable. */
extern const ptrdiff_t __rseq_offset __attribute__((weak));
extern const unsigned int __rseq_size __attribute__((weak));

static void exclude_thread_block(struct ct_state *st)
{
    uintptr_t tp = (uintptr_t)__builtin_thread_pointer();
    add_exclusion(st, tp, tp + 4096);
    if (&__rseq_offset && &__rseq_size && __rseq_size)
        add_exclusion(st, tp + (uintptr_t)__rseq_offset, tp + (uintptr_t)__rseq_offset + __rseq_size);
}

static long read_max_map_count(void)
{
    char buf[32];
    long fd = ct_openat(AT_FDCWD, "/proc/sys/vm/max_map_count", O_RDONLY, 0);
    if (ct_is_err(fd))
        return CT_DEFAULT_MAX_MAP_COUNT;
    long n = ct_read((int)fd, buf, sizeof buf - 1);
    ct_close((int)fd);
    long v = 0;
    for (long i = 0; i < n && buf[i] >= '0' && buf[i] <= '9'; i++)
        v = v * 10 + (buf[i] - '0');
    return v > 0 ? v : CT_DEFAULT_MAX_MAP_COUNT;
}

/* Libraries our handler writes into: the unwinder's caches (and the
 * compression library it may use), the dynamic loader's lock taken by
 * dl_iterate_phdr during unwinding. A protected page there would fault
 * inside our own handler. */
static int shim_dependency(const char *name)
{
    static const char *deps[] = {"/libunwind", "/liblzma", "/ld-linux", NULL};
    for (int i = 0; deps[i]; i++) {
        size_t n = ct_strlen(deps[i]);
        for (const char *p = name; *p; p++)
            if (!ct_strncmp(p, deps[i], n))
                return 1;
    }
    return 0;
}

/* Decide, before anything is protected, which method takes each region. */
void ct_sync_plan(struct ct_state *st, int uffd_for_anonymous)
{
    for (uint32_t i = 0; i < st->nregions; i++) {
        struct ct_region *r = &st->regions[i];
        if (r->kind == CT_KIND_STACK) {
            r->tracking = CT_TRACK_NONE;
            r->untracked_reason = CT_UNTRACK_STACK;
        } else if (shim_dependency(r->name)) {
            r->tracking = CT_TRACK_NONE;
            r->untracked_reason = CT_UNTRACK_SHIM_DEP;
        } else if (uffd_for_anonymous && !r->is_file) {
            r->tracking = CT_TRACK_UFFD;
        } else {
            r->tracking = CT_TRACK_MPROTECT;
        }
    }
}

int ct_sync_start(struct ct_state *st)
{
    if (setup_altstack(st))
        return -ENOMEM;
    exclude_thread_block(st);
    struct ct_sync_state *ss = sync_state(st);
    long used = st->nregions;   /* roughly the VMAs the program has now */
    ss->vma_budget = (read_max_map_count() - used) / 2;
    if (ss->vma_budget < 64)
        ss->vma_budget = 64;
    ss->open = ct_arena_alloc(st->nregions * sizeof *ss->open);
    if (!ss->open)
        return -ENOMEM;
    for (uint32_t i = 0; i < st->nregions; i++) {
        struct ct_region *r = &st->regions[i];
        if (!is_sync(r))
            continue;
        size_t words = (r->npages + 63) / 64;
        r->seen = ct_arena_alloc(words * sizeof(uint64_t));
        ss->open[i] = ct_arena_alloc(words * sizeof(uint64_t));
        if (!r->seen || !ss->open[i])
            return -ENOMEM;
    }
    /* Handlers first: from the moment a page is protected, a write to it
     * must find our handler. libc's sigaction supplies the x86-64 restorer. */
    /* SIGBUS in mprotect mode too: a guarded read of a stale pointer can
     * land in a file mapping past its end (on_fault hands anything else on). */
    ct_signal_take(SIGSEGV, on_fault);
    ct_signal_take(SIGBUS, on_fault);
    for (uint32_t i = 0; i < st->nregions; i++) {
        struct ct_region *r = &st->regions[i];
        if (!is_sync(r))
            continue;
        if (r->tracking == CT_TRACK_UFFD) {
            struct uffdio_register reg = {
                .range = {.start = r->start, .len = r->end - r->start},
                .mode = UFFDIO_REGISTER_MODE_WP,
            };
            if (ct_is_err(ct_ioctl(st->backend_fd, UFFDIO_REGISTER, &reg)))
                r->tracking = CT_TRACK_MPROTECT;   /* not anonymous after all */
        }
        if (ct_is_err(protect_region(st, r))) {
            r->tracking = CT_TRACK_NONE;
            r->untracked_reason = CT_UNTRACK_REGISTER;
        }
    }
    mark_exclusions_open(st);
    return 0;
}

/* Drop every protection (the lifecycle closes the userfaultfd after). */
void ct_sync_stop(struct ct_state *st)
{
    for (uint32_t i = 0; i < st->nregions; i++) {
        struct ct_region *r = &st->regions[i];
        if (is_sync(r))
            protect_range(st, r, r->start, r->end, 0);
    }
}

void ct_sync_forget_inherited(struct ct_state *st)
{
    struct ct_sync_state *ss = sync_state(st);
    /* Our userfaultfd registrations did not survive fork; mprotect did. */
    for (uint32_t i = 0; i < st->nregions; i++) {
        struct ct_region *r = &st->regions[i];
        if (r->tracking == CT_TRACK_MPROTECT)
            ct_mprotect((void *)r->start, r->end - r->start, (int)r->prot);
    }
    ct_signal_give_back(SIGSEGV);
    ct_signal_give_back(SIGBUS);
    if (ss->altstack) {
        stack_t off = {.ss_flags = SS_DISABLE};
        stack_t cur;
        if (!ct_is_err(ct_sys2(SYS_sigaltstack, NULL, &cur)) && cur.ss_sp == ss->altstack)
            ct_sys2(SYS_sigaltstack, &off, NULL);
        ct_munmap(ss->altstack, ss->altstack_size);
    }
}

/* ---- memory the kernel writes for the program ---------------------------- */

typedef void (*page_fn)(struct ct_state *st, struct ct_region *r, size_t pg, uintptr_t lo, uintptr_t hi,
                        void *arg);

static void for_each_tracked_page(struct ct_state *st, const void *p, size_t len, page_fn fn, void *arg)
{
    uintptr_t lo = (uintptr_t)p, hi = lo + len;
    uintptr_t mask = (uintptr_t)ct_cfg.page_size - 1;
    for (uintptr_t a = lo & ~mask; a < hi;) {
        struct ct_region *r = ct_region_of(a);
        if (!r) {
            a += mask + 1;
            continue;
        }
        uintptr_t end = hi < r->end ? hi : r->end;
        if (is_sync(r)) {
            for (; a < end; a += mask + 1)
                fn(st, r, (a - r->start) >> ct_cfg.page_shift, a > lo ? a : lo,
                   a + mask + 1 < hi ? a + mask + 1 : hi, arg);
        }
        a = (end + mask) & ~mask;
    }
}

static void kw_open(struct ct_state *st, struct ct_region *r, size_t pg, uintptr_t lo, uintptr_t hi, void *arg)
{
    (void)lo, (void)hi, (void)arg;
    if (!ct_bit_test(open_bits(st, r), pg))
        open_page(st, r, pg);
}

struct kw_done {
    uintptr_t done_end;
    uint32_t flags;
    uintptr_t caller;
};

static void kw_close(struct ct_state *st, struct ct_region *r, size_t pg, uintptr_t lo, uintptr_t hi, void *arg)
{
    struct kw_done *d = arg;
    (void)hi;
    if (ct_bit_test(r->seen, pg))
        return;
    if (lo < d->done_end) {
        if (!ct_bit_test_and_set(r->seen, pg) && atomic_load(&st->active))
            record_write(st, lo, d->caller, d->flags, NULL, 0);
        return;
    }
    uintptr_t a = r->start + (pg << ct_cfg.page_shift);
    if (excluded(st, a) || atomic_load(&st->stopped))
        return;
    /* The kernel did not write it: protect it again so a later write counts. */
    if (!ct_is_err(protect_range(st, r, a, a + (uintptr_t)ct_cfg.page_size, 1)))
        ct_bit_clear(open_bits(st, r), pg);
}

void ct_sync_kwrite_begin(const void *p, size_t len)
{
    struct ct_state *st = ct_st;
    if (!len || !st || atomic_load(&st->stopped))
        return;
    for_each_tracked_page(st, p, len, kw_open, NULL);
}

void ct_sync_kwrite_end(const void *p, size_t len, size_t done, long nr, void *caller)
{
    struct ct_state *st = ct_st;
    if (!len || !st || atomic_load(&st->stopped))
        return;
    if (done > len)
        done = len;
    struct kw_done d = {
        .done_end = (uintptr_t)p + done,
        .flags = CT_WRITE_KERNEL | ((uint32_t)nr << CT_WRITE_SYSCALL_SHIFT),
        .caller = (uintptr_t)caller,
    };
    for_each_tracked_page(st, p, len, kw_close, &d);
}

/* The same when nobody can say how much the kernel wrote (libc's readdir
 * refilling a buffer of its own): a page the call left exclusively mapped
 * was written, and is recorded; the others are protected again. */
static void kw_close_probe(struct ct_state *st, struct ct_region *r, size_t pg, uintptr_t lo, uintptr_t hi,
                           void *arg)
{
    if (ct_bit_test(r->seen, pg))
        return;
    uintptr_t a = r->start + (pg << ct_cfg.page_shift);
    uint64_t e = 0;
    long got = ct_pread(st->pagemap_fd, &e, sizeof e, (long)((a >> ct_cfg.page_shift) * sizeof e));
    struct kw_done *d = arg;
    struct kw_done written = *d;
    written.done_end = got == (long)sizeof e && (e & PM_ENTRY_PRESENT) && (e & PM_ENTRY_EXCLUSIVE) ? hi : 0;
    kw_close(st, r, pg, lo, hi, &written);
}

void ct_sync_kwrite_end_probe(const void *p, size_t len, long nr, void *caller)
{
    struct ct_state *st = ct_st;
    if (!len || !st || atomic_load(&st->stopped))
        return;
    struct kw_done d = {
        .flags = CT_WRITE_KERNEL | ((uint32_t)nr << CT_WRITE_SYSCALL_SHIFT),
        .caller = (uintptr_t)caller,
    };
    for_each_tracked_page(st, p, len, kw_close_probe, &d);
}
