/*
 * backend_uffd_async.c - backend uffd-async: userfaultfd write-protection
 * with UFFD_FEATURE_WP_ASYNC, read back with the PAGEMAP_SCAN ioctl (Linux
 * 6.7+).
 *
 * The kernel resolves every write fault itself (it clears the page's
 * write-protect bit and goes on), so the traced program pays nothing beyond
 * the copy-on-write fault it would take anyway, and writes made by the kernel
 * (read(2) into a buffer, signal frames) work unchanged. The price is that
 * we learn only *which* pages were written, never by whom: PAGEMAP_SCAN
 * returns the pages no longer write-protected, and the region's seen bitmap
 * keeps those already in the trace out of it. A written page stays
 * writable: each page costs the program at most one write-protect fault.
 *
 * A flusher scans every flush_ms so a child killed by SIGKILL loses at most
 * that much; exit, _exit and exec scan one last time. The flusher is not a
 * thread of the program: a thread would show in /proc/PID/stat and
 * /proc/PID/task, and CPython 3.12+ warns when a process with more than one
 * thread forks (do no harm). It is a process of its own that shares the
 * program's memory, descriptors and signal handlers (clone with CLONE_VM |
 * CLONE_FILES | CLONE_SIGHAND, not CLONE_FS or CLONE_SYSVSEM, so setns and
 * SEM_UNDO stay the program's alone), on a stack of ours, with every
 * signal blocked but the faults of its guarded reads. Its exit signal is 0:
 * the program's wait(), waitpid(-1) and SIGCHLD never see it (only a
 * __WALL or __WCLONE wait would); PR_SET_PDEATHSIG kills it with the
 * program. It never leaves on its own: exit, _exit and exec end it and
 * reap it (flusher_end), so no zombie is left and no process outlives the
 * program's memory; setuid and its kin end it before the call and start a
 * new one, with the new credentials, after (pause, resume). It has no
 * thread block: it runs on that of the program thread that created it
 * (the fs base is inherited), so everything it runs keeps off TLS - raw
 * system calls, the shim's own jumps (jump.c), no errno, no libc at all
 * (tests/test_flusher_tls.py checks the disassembly); the stack
 * protector's read of the canary is harmless. What shows: a child process
 * named cowtrace in `ps` (and to a __WALL wait); if the thread that created
 * it leaves with pthread_exit while others go on, PDEATHSIG kills it and
 * the child is scanned only at releases and at its end; a child killed by
 * SIGKILL leaves it, killed too, to the nearest subreaper or init to reap.
 *
 * Promise: the ops table of mode uffd-async. A page the child writes is in
 * the trace (a WRITTEN run and, in a Python process, a page summary) after
 * the next scan: every flush_ms, before memory leaves through an interposed
 * call (hooks_release.c), and at exit, _exit and exec. It never learns who
 * wrote, where in the page, or the stack (not precise, no stacks). It adds
 * no thread to the child, and nothing its wait() or SIGCHLD would see.
 *
 * Locks: scan_lock (a compare-and-swap spin) lets one scan run at a time -
 * the flusher's, a release's or the final one - and guards the scan buffers
 * and the page summaries; the final scan keeps it, so nothing is recorded
 * after the end record. Its value says who holds it: a flusher killed while
 * scanning (the thread that created it left with pthread_exit, and
 * PDEATHSIG fired) does not hold it forever.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/futex.h>
#include <sched.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <time.h>

#include "ct_shim.h"
#include "kernel_compat.h"

#define CT_SCAN_VEC 1024u
#define CT_FLUSHER_STACK (256u << 10)
#define CT_CHUNK_PAGES 512u            /* scans skip chunks all recorded (2 MiB) */
#define CT_SEEN_MAX_BYTES (16u << 20)   /* a bitmap per region up to 512 GiB */
#define UFFD_ASYNC_FEATURES (UFFD_FEATURE_WP_ASYNC | UFFD_FEATURE_WP_UNPOPULATED)

/* This backend's private state (st->backend_state). */
enum { SCAN_FREE, SCAN_BY_PROGRAM, SCAN_BY_FLUSHER };   /* scan_lock's values */

struct async_state {
    _Atomic int scan_lock;     /* one PAGEMAP_SCAN pass at a time: SCAN_* */
    _Atomic int flusher_stop;  /* tracking stopped: scan no more */
    _Atomic int flusher_exit;  /* leave (flusher_end waits for it) */
    _Atomic int flusher_wake;  /* futex: a flusher asleep wakes when it turns 1 */
    _Atomic int flusher_tid;   /* its id while it lives; the kernel zeroes it at its
                                * exit (CLONE_CHILD_CLEARTID) and wakes waiters */
    int flusher_pid;           /* to reap; 0 when there is none */
    void *flusher_stack;
    size_t flusher_stack_size;
    struct ct_runs scan_runs;  /* under scan_lock */
    struct ct_sums sums;       /* under scan_lock */
    void *capture_buf;         /* --capture-pages, under scan_lock */
    struct page_region *scan_vec;
    size_t scan_vec_len;
};

static inline struct async_state *async_state(const struct ct_state *st)
{
    return st->backend_state;
}

static int probe(struct ct_state *st, const char **why)
{
    return ct_uffd_probe(st, UFFD_ASYNC_FEATURES, "kernel lacks UFFD_FEATURE_WP_ASYNC (Linux 6.7+)",
                         ct_kerndat_pagemap_scan, why);
}

/* Everything the child inherited: the kernel resolves the faults itself, so
 * stacks and the unwinder's pages are as safe to track as any other. */
static void plan(struct ct_state *st)
{
    for (uint32_t i = 0; i < st->nregions; i++)
        st->regions[i].tracking = CT_TRACK_UFFD_ASYNC;
}

static int protect_span(struct ct_state *st, uintptr_t start, uintptr_t end)
{
    struct uffdio_register reg = {
        .range = {.start = start, .len = end - start},
        .mode = UFFDIO_REGISTER_MODE_WP,
    };
    struct uffdio_writeprotect wp = {
        .range = {.start = start, .len = end - start},
        .mode = UFFDIO_WRITEPROTECT_MODE_WP,
    };
    if (ct_is_err(ct_ioctl(st->backend_fd, UFFDIO_REGISTER, &reg)) ||
        ct_is_err(ct_ioctl(st->backend_fd, UFFDIO_WRITEPROTECT, &wp)))
        return -1;
    return 0;
}

static int start(struct ct_state *st)
{
    struct async_state *as = async_state(st);
    /* Page summaries read the program's memory with plain loads, which may
     * meet memory unmapped meanwhile: our SIGSEGV handler turns such a fault
     * into a failed read (and hands every other fault to the program's
     * handler, as the sync backends do). Plain loads, because the fault-proof
     * system call, process_vm_readv, pins pages and so copies shared ones. */
    /* SIGBUS too: a stale pointer can land in a file mapping past its end. */
    ct_signal_take(SIGSEGV, (void (*)(int, siginfo_t *, void *))ct_py_probe_handler());
    ct_signal_take(SIGBUS, (void (*)(int, siginfo_t *, void *))ct_py_probe_handler());
    ct_py_guarded_reads(1);
    as->scan_vec_len = CT_SCAN_VEC;
    as->scan_vec = ct_arena_alloc(CT_SCAN_VEC * sizeof(struct page_region));
    if (!as->scan_vec)
        return -ENOMEM;
    /* Without its bitmap (a huge region) a region is still tracked; its
     * pages are merely recorded again each time they are written anew. */
    for (uint32_t i = 0; i < st->nregions; i++) {
        struct ct_region *r = &st->regions[i];
        size_t bytes = (r->npages + 63) / 64 * sizeof(uint64_t);
        if (r->tracking == CT_TRACK_UFFD_ASYNC && bytes <= CT_SEEN_MAX_BYTES)
            r->seen = ct_arena_alloc(bytes);
    }
    /* Adjacent regions (a library's data and bss, neighbouring arenas) are
     * registered and protected in one call each: set-up time is what a
     * short-lived child pays, and the parent waits for it. */
    for (uint32_t i = 0; i < st->nregions;) {
        struct ct_region *r = &st->regions[i];
        if (r->tracking != CT_TRACK_UFFD_ASYNC) {
            i++;
            continue;
        }
        uint32_t j = i + 1;
        while (j < st->nregions && st->regions[j].tracking == CT_TRACK_UFFD_ASYNC &&
               st->regions[j].start == st->regions[j - 1].end)
            j++;
        if (protect_span(st, r->start, st->regions[j - 1].end)) {
            /* Something in the span refused (hugetlb, a special mapping):
             * one by one, so only that region goes untracked. */
            for (uint32_t k = i; k < j; k++) {
                struct ct_region *q = &st->regions[k];
                if (protect_span(st, q->start, q->end)) {
                    q->tracking = CT_TRACK_NONE;
                    q->untracked_reason = CT_UNTRACK_REGISTER;
                }
            }
        }
        i = j;
    }
    return 0;
}

/* --capture-pages: the page as the scan found it. The child wrote it, so it
 * is its own copy now and reading it (process_vm_readv pins) copies nothing;
 * other threads may unmap it meanwhile, which a plain load would not survive. */
static void capture(struct ct_state *st, uintptr_t page)
{
    struct async_state *as = async_state(st);
    if (!as->capture_buf && !(as->capture_buf = ct_arena_alloc((size_t)ct_cfg.page_size)))
        return;
    struct iovec local = {.iov_base = as->capture_buf, .iov_len = (size_t)ct_cfg.page_size};
    struct iovec remote = {.iov_base = (void *)page, .iov_len = (size_t)ct_cfg.page_size};
    if (ct_sys6(SYS_process_vm_readv, ct_getpid(), (long)&local, 1, (long)&remote, 1, 0) == ct_cfg.page_size)
        ct_rec_page_data(&st->w, page, CT_PAGE_AT_SCAN, as->capture_buf, (uint32_t)ct_cfg.page_size);
}

/* One PAGEMAP_SCAN walk of [lo, hi) in r, pages already recorded skipped,
 * the others added to the scan's run list and summaries. */
static void scan_range(struct ct_state *st, struct ct_region *r, uintptr_t lo, uintptr_t hi)
{
    struct async_state *as = async_state(st);
    struct ct_runs *runs = &as->scan_runs;
    uint64_t at = lo;
    while (at < hi) {
        struct pm_scan_arg arg = {
            .size = sizeof arg,
            .flags = r->seen ? 0 : PM_SCAN_WP_MATCHING,
            .start = at,
            .end = hi,
            .vec = (uintptr_t)as->scan_vec,
            .vec_len = as->scan_vec_len,
            /* Both: a VMA the program replaced with an unprotected one
             * would otherwise read as entirely written. */
            .category_mask = PAGE_IS_WRITTEN | PAGE_IS_WPALLOWED,
            .return_mask = PAGE_IS_WRITTEN,
        };
        long n = ct_ioctl(st->pagemap_fd, PAGEMAP_SCAN, &arg);
        if (n == -EINTR || n == -EAGAIN)
            continue;
        if (ct_is_err(n))
            break;   /* the range is gone (munmap): nothing left to find */
        for (long k = 0; k < n; k++) {
            struct page_region *pr = &as->scan_vec[k];
            size_t first = (pr->start - r->start) >> ct_cfg.page_shift;
            size_t end = (pr->end - r->start) >> ct_cfg.page_shift;
            for (size_t i = first; i < end; i++) {
                /* Most of what a scan reports was recorded by an earlier
                 * one: skip 64 recorded pages at a time. */
                if (r->seen && !(i & 63) && i + 64 <= end &&
                    atomic_load_explicit(&r->seen[i >> 6], memory_order_relaxed) == ~0ull) {
                    i += 63;
                    continue;
                }
                if (r->seen && ct_bit_test_and_set(r->seen, i))
                    continue;
                uintptr_t pg = r->start + (i << ct_cfg.page_shift);
                ct_runs_add(runs, i, 1);
                ct_sums_add(&as->sums, st, pg);
                if (ct_cfg.capture_pages)
                    capture(st, pg);
            }
        }
        if (arg.walk_end <= at || arg.walk_end >= hi)
            break;
        at = arg.walk_end;
    }
}

/* Is every page of the chunk holding page i (a whole chunk, or its part
 * before end) recorded? */
static int chunk_recorded(const struct ct_region *r, size_t i, size_t end)
{
    size_t c = i / CT_CHUNK_PAGES * CT_CHUNK_PAGES;
    size_t c_end = c + CT_CHUNK_PAGES < end ? c + CT_CHUNK_PAGES : end;
    size_t k = c;
    for (; k + 64 <= c_end; k += 64)
        if (atomic_load_explicit(&r->seen[k >> 6], memory_order_relaxed) != ~0ull)
            return 0;
    for (; k < c_end; k++)
        if (!ct_bit_test(r->seen, k))
            return 0;
    return 1;
}

/* Pages of r in [lo, hi) written since the last scan that are not yet in
 * the trace. A page is recorded (a run, a summary) the first time only, and
 * then left writable: the kernel reports it as written at every later scan
 * (the seen bitmap drops it), but the program never faults on it again.
 * Protecting it anew (PM_SCAN_WP_MATCHING) would make a long-lived child
 * that keeps rewriting the same pages (reference counts) fault on each of
 * them after every scan: 2-3x its untraced time (issue 12). Only a region
 * without a bitmap (too large) is re-protected, so that its scans report
 * what is new rather than everything written so far. 0, or -1 if the trace
 * is full. */
static int scan_span(struct ct_state *st, struct ct_region *r, uintptr_t lo, uintptr_t hi)
{
    struct async_state *as = async_state(st);
    struct ct_runs *runs = &as->scan_runs;
    ct_runs_begin(runs, &st->w, CT_REC_WRITTEN, r->id);
    if (!r->seen) {
        scan_range(st, r, lo, hi);
    } else {
        /* Chunks whose every page is recorded have nothing left to tell:
         * the kernel walks only the others (a long-lived child has written
         * most of its heap, and each scan would walk it all again). */
        size_t first = (lo - r->start) >> ct_cfg.page_shift;
        size_t end = (hi - r->start + (uintptr_t)ct_cfg.page_size - 1) >> ct_cfg.page_shift;
        size_t i = first;
        while (i < end) {
            while (i < end && chunk_recorded(r, i, end))
                i = (i / CT_CHUNK_PAGES + 1) * CT_CHUNK_PAGES;
            if (i >= end)
                break;
            size_t j = i;
            while (j < end && !chunk_recorded(r, j, end))
                j = (j / CT_CHUNK_PAGES + 1) * CT_CHUNK_PAGES;
            uintptr_t from = r->start + (i << ct_cfg.page_shift);
            uintptr_t to = j >= end ? hi : r->start + (j << ct_cfg.page_shift);
            scan_range(st, r, from < lo ? lo : from, to);
            i = j;
        }
    }
    return ct_runs_end(runs) || ct_sums_end(&as->sums) ? -1 : 0;
}

/* Every tracked region; under scan_lock. */
static void scan_all(struct ct_state *st)
{
    for (uint32_t i = 0; i < st->nregions; i++) {
        struct ct_region *r = &st->regions[i];
        if (r->tracking == CT_TRACK_UFFD_ASYNC && scan_span(st, r, r->start, r->end)) {
            ct_stop_tracking("the trace file cannot grow");
            return;
        }
    }
    atomic_fetch_add(&st->scans, 1);
}

static int scan_trylock(struct ct_state *st, int who)
{
    struct async_state *as = async_state(st);
    int expected = SCAN_FREE;
    if (atomic_compare_exchange_strong(&as->scan_lock, &expected, who))
        return 1;
    /* A flusher that died holding it (killed: nothing else ends it while
     * it scans) left its scan half done; the lock is free to take. */
    expected = SCAN_BY_FLUSHER;
    return who == SCAN_BY_PROGRAM && as->flusher_pid && !atomic_load(&as->flusher_tid) &&
           atomic_compare_exchange_strong(&as->scan_lock, &expected, who);
}

static void scan_unlock(struct ct_state *st)
{
    atomic_store(&async_state(st)->scan_lock, SCAN_FREE);
}

/* PAGEMAP_SCAN sees a written page only while it is mapped: memory about to
 * be unmapped, discarded or moved away (hooks_release.c) is scanned first.
 * Any thread of the program, never a signal handler of ours. */
static void before_release(uintptr_t lo, uintptr_t hi)
{
    struct ct_state *st = ct_st;
    if (!st || !atomic_load(&st->active) || hi <= lo || st->pid != ct_getpid())
        return;
    /* The first region ending above lo; nothing to do if none starts below hi. */
    uint32_t a = 0, b = st->nregions;
    while (a < b) {
        uint32_t mid = (a + b) / 2;
        if (st->regions[mid].end <= lo)
            a = mid + 1;
        else
            b = mid;
    }
    if (a == st->nregions || st->regions[a].start >= hi)
        return;
    /* The program's own signal handlers may unmap too: none may run while
     * this thread holds the scan lock. A guarded read's fault must still
     * reach our handler (blocked, the kernel would kill). */
    sigset_t all, old;
    sigfillset(&all);
    sigdelset(&all, SIGSEGV);
    sigdelset(&all, SIGBUS);
    ct_sys4(SYS_rt_sigprocmask, SIG_SETMASK, &all, &old, sizeof(uint64_t));
    while (!scan_trylock(st, SCAN_BY_PROGRAM)) {
        if (!atomic_load(&st->active))   /* the final scan keeps the lock */
            goto out;
        ct_sys0(SYS_sched_yield);
    }
    for (uint32_t i = a; i < st->nregions && st->regions[i].start < hi && atomic_load(&st->active); i++) {
        struct ct_region *r = &st->regions[i];
        if (r->tracking != CT_TRACK_UFFD_ASYNC)
            continue;
        uintptr_t mask = (uintptr_t)ct_cfg.page_size - 1;
        uintptr_t from = (lo & ~mask) > r->start ? lo & ~mask : r->start;
        uintptr_t to = hi < r->end - mask ? (hi + mask) & ~mask : r->end;
        if (scan_span(st, r, from, to)) {
            scan_unlock(st);
            ct_stop_tracking("the trace file cannot grow");
            goto out;
        }
    }
    scan_unlock(st);
out:
    ct_sys4(SYS_rt_sigprocmask, SIG_SETMASK, &old, NULL, sizeof(uint64_t));
}

static long futex(_Atomic int *word, int op, int val, const struct timespec *timeout)
{
    return ct_sys4(SYS_futex, word, op, val, timeout);
}

/* The flusher's body, in a process of its own (see the header): raw system
 * calls only, nothing that touches TLS. It leaves only when flusher_end
 * asks, so that no zombie waits for a reaper; tracking stopped, it sleeps. */
static int flusher_main(void *arg)
{
    struct ct_state *st = arg;
    struct async_state *as = async_state(st);
    ct_sys2(SYS_prctl, PR_SET_NAME, "cowtrace");
    /* Dies with the thread that created it. Had that thread died already,
     * the parent is someone else now: nothing to flush for. */
    ct_sys2(SYS_prctl, PR_SET_PDEATHSIG, SIGKILL);
    if (ct_sys0(SYS_getppid) != st->pid)
        return 0;
    /* Created with every signal blocked; a synchronous SIGSEGV or SIGBUS
     * from a guarded read must reach our handler, or the kernel kills. */
    uint64_t faults = (1ull << (SIGSEGV - 1)) | (1ull << (SIGBUS - 1));
    ct_sys4(SYS_rt_sigprocmask, SIG_UNBLOCK, &faults, NULL, sizeof faults);
    while (!atomic_load(&as->flusher_exit)) {
        struct timespec ts = {.tv_sec = ct_cfg.flush_ms / 1000,
                              .tv_nsec = (long)(ct_cfg.flush_ms % 1000) * 1000000L};
        futex(&as->flusher_wake, FUTEX_WAIT_PRIVATE, 0, atomic_load(&as->flusher_stop) ? NULL : &ts);
        if (atomic_load(&as->flusher_exit))
            break;
        if (atomic_load(&as->flusher_stop) || !atomic_load(&st->active))
            continue;
        if (scan_trylock(st, SCAN_BY_FLUSHER)) {
            scan_all(st);
            scan_unlock(st);
        }
    }
    return 0;
}

/* Start a flusher (at set-up, and again after a failed exec or a change of
 * credentials). From a program thread; errno as it was. */
static const char *flusher_begin(struct ct_state *st)
{
    struct async_state *as = async_state(st);
    if (!ct_cfg.flush_ms || !as->flusher_stack || as->flusher_pid)
        return NULL;
    atomic_store(&as->flusher_exit, 0);
    atomic_store(&as->flusher_wake, 0);
    uint64_t all = ~0ull, old;
    ct_sys4(SYS_rt_sigprocmask, SIG_SETMASK, &all, &old, sizeof all);
    int saved_errno = errno;
    /* Exit signal 0, in the low byte of the flags: no SIGCHLD, and only a
     * __WALL or __WCLONE wait sees it. */
    int pid = clone(flusher_main, (char *)as->flusher_stack + as->flusher_stack_size,
                    CLONE_VM | CLONE_FILES | CLONE_SIGHAND | CLONE_PARENT_SETTID | CLONE_CHILD_CLEARTID,
                    st, (int *)&as->flusher_tid, NULL, (int *)&as->flusher_tid);
    errno = saved_errno;
    ct_sys4(SYS_rt_sigprocmask, SIG_SETMASK, &old, NULL, sizeof old);
    if (pid <= 0) {
        atomic_store(&as->flusher_tid, 0);
        return "cannot start the flusher";
    }
    as->flusher_pid = pid;
    return NULL;
}

/* Ask the flusher to leave, wait for it (a second at most, then kill it)
 * and reap it. From a program thread, never the flusher. */
static void flusher_end(struct ct_state *st)
{
    struct async_state *as = async_state(st);
    int pid = as->flusher_pid;
    if (!pid || ct_getpid() != st->pid)
        return;
    atomic_store(&as->flusher_exit, 1);
    atomic_store(&as->flusher_wake, 1);
    futex(&as->flusher_wake, FUTEX_WAKE_PRIVATE, 1, NULL);
    for (int i = 0; i < 10; i++) {
        int tid = atomic_load(&as->flusher_tid);
        if (!tid)
            break;
        /* not _PRIVATE: the kernel's wake at exit uses the shared key */
        struct timespec ts = {.tv_sec = 0, .tv_nsec = 100000000L};
        futex(&as->flusher_tid, FUTEX_WAIT, tid, &ts);
    }
    if (atomic_load(&as->flusher_tid))
        ct_sys2(SYS_kill, pid, SIGKILL);   /* stopped (SIGSTOP) or stuck */
    while (ct_sys4(SYS_wait4, pid, NULL, __WALL, NULL) == -EINTR)
        ;
    as->flusher_pid = 0;
}

/* The flusher's stack is mapped before the regions are protected, so that
 * the mapping is not among them. */
static const char *prepare(struct ct_state *st)
{
    struct async_state *as = async_state(st);
    if (!ct_cfg.flush_ms)
        return NULL;
    as->flusher_stack_size = CT_FLUSHER_STACK;
    as->flusher_stack = ct_mmap(NULL, CT_FLUSHER_STACK, PROT_READ | PROT_WRITE,
                                MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (!as->flusher_stack)
        return "cannot start the flusher";
    return flusher_begin(st);
}

/* Final scan: wait out a scan in progress, then keep the lock so that
 * nothing is recorded after the end record (exit) or the EXEC record. The
 * flusher leaves before the program does: an exec would not end it, and it
 * would keep the old memory alive. */
static void flush(struct ct_state *st, int keep_lock)
{
    while (!scan_trylock(st, SCAN_BY_PROGRAM))
        ct_sys0(SYS_sched_yield);
    if (atomic_load(&st->active))
        scan_all(st);
    flusher_end(st);
    if (!keep_lock)
        scan_unlock(st);
}

/* Around exec and changes of credentials (a helper must not keep the old
 * ones, nor outlive the program's memory): end the flusher, then start a
 * new one if the call failed or is done. */
static void pause_helpers(struct ct_state *st)
{
    flusher_end(st);
}

static void resume_helpers(struct ct_state *st)
{
    if (!atomic_load(&async_state(st)->flusher_stop))
        flusher_begin(st);
}

/* The lifecycle then closes the userfaultfd, which unregisters every range.
 * Any thread, the flusher too: it only tells the flusher to sleep. */
static void stop(struct ct_state *st)
{
    atomic_store(&async_state(st)->flusher_stop, 1);
}

/* In a grandchild: the flusher is its parent's child, not its own; the
 * flusher's stack came along. */
static void forget_inherited(struct ct_state *old)
{
    struct async_state *as = async_state(old);
    if (as->flusher_stack)
        ct_munmap(as->flusher_stack, as->flusher_stack_size);
}

const struct ct_backend_ops ct_backend_uffd_async = {
    .mode = CT_MODE_UFFD_ASYNC,
    .precise = false,
    .stacks = false,
    .fault_signals = false,
    .auto_says = "uffd-async (page sets)",
    .state_size = sizeof(struct async_state),
    .probe = probe,
    .plan = plan,
    .prepare = prepare,
    .start = start,
    .before_release = before_release,
    .flush = flush,
    .pause_helpers = pause_helpers,
    .resume_helpers = resume_helpers,
    .stop = stop,
    .forget_inherited = forget_inherited,
};
