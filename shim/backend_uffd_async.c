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
 * A flusher thread scans every flush_ms so a child killed by SIGKILL loses at
 * most that much; exit, _exit and exec scan one last time.
 *
 * Promise: the ops table of mode uffd-async. A page the child writes is in
 * the trace (a WRITTEN run and, in a Python process, a page summary) after
 * the next scan: every flush_ms, before memory leaves through an interposed
 * call (hooks_release.c), and at exit, _exit and exec. It never learns who
 * wrote, where in the page, or the stack (not precise, no stacks).
 *
 * Locks: scan_lock (a compare-and-swap spin) lets one scan run at a time -
 * the flusher's, a release's or the final one - and guards the scan buffers
 * and the page summaries; the final scan keeps it, so nothing is recorded
 * after the end record.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/uio.h>
#include <time.h>

#include "ct_shim.h"
#include "kernel_compat.h"

#define CT_SCAN_VEC 1024u
#define CT_FLUSHER_STACK (256u << 10)
#define CT_CHUNK_PAGES 512u            /* scans skip chunks all recorded (2 MiB) */
#define CT_SEEN_MAX_BYTES (16u << 20)   /* a bitmap per region up to 512 GiB */
#define UFFD_ASYNC_FEATURES (UFFD_FEATURE_WP_ASYNC | UFFD_FEATURE_WP_UNPOPULATED)

/* This backend's private state (st->backend_state). */
struct async_state {
    _Atomic int scan_lock;     /* one PAGEMAP_SCAN pass at a time */
    _Atomic int flusher_stop;
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
    uint64_t have;
    if (ct_kerndat_uffd_features(&have, why))
        return -1;
    if ((have & UFFD_ASYNC_FEATURES) != UFFD_ASYNC_FEATURES) {
        *why = "kernel lacks UFFD_FEATURE_WP_ASYNC (Linux 6.7+)";
        return -1;
    }
    if (ct_kerndat_pagemap_scan(why))
        return -1;
    int fd = ct_uffd_open(UFFD_ASYNC_FEATURES, why);
    if (fd < 0)
        return -1;
    st->backend_fd = fd;
    return 0;
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

static int scan_trylock(struct ct_state *st)
{
    int expected = 0;
    return atomic_compare_exchange_strong(&async_state(st)->scan_lock, &expected, 1);
}

static void scan_unlock(struct ct_state *st)
{
    atomic_store(&async_state(st)->scan_lock, 0);
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
    while (!scan_trylock(st)) {
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

/* Threads counted by /proc/self/status, and the state of the thread group
 * leader in /proc/self/stat ('Z' once it has left with pthread_exit; it
 * stays counted until the whole group exits). */
static int read_proc(const char *path, char *text, size_t cap)
{
    long fd = ct_openat(AT_FDCWD, path, O_RDONLY | O_CLOEXEC, 0);
    if (ct_is_err(fd))
        return -1;
    long n = ct_read((int)fd, text, cap - 1);
    ct_close((int)fd);
    if (n <= 0)
        return -1;
    text[n] = 0;
    return 0;
}

static int only_thread_left(void)
{
    char text[2048];
    if (read_proc("/proc/self/status", text, sizeof text))
        return 0;
    long threads = -1;
    for (char *p = text; *p; p++) {
        if (!ct_strncmp(p, "\nThreads:", 9)) {
            p += 9;
            while (*p == ' ' || *p == '\t')
                p++;
            threads = 0;
            while (*p >= '0' && *p <= '9')
                threads = threads * 10 + (*p++ - '0');
            break;
        }
    }
    if (threads == 1)
        return 1;
    if (threads != 2 || read_proc("/proc/self/stat", text, sizeof text))
        return 0;
    char *close_paren = NULL;
    for (char *p = text; *p; p++)
        if (*p == ')')
            close_paren = p;
    return close_paren && close_paren[1] == ' ' && close_paren[2] == 'Z';
}

static void *flusher_main(void *arg)
{
    struct ct_state *st = arg;
    struct async_state *as = async_state(st);
    ct_sys2(SYS_prctl, PR_SET_NAME, "cowtrace");
    /* Created with every signal blocked; a synchronous SIGSEGV or SIGBUS
     * from a guarded read must reach our handler, or the kernel kills. */
    sigset_t faults;
    sigemptyset(&faults);
    sigaddset(&faults, SIGSEGV);
    sigaddset(&faults, SIGBUS);
    pthread_sigmask(SIG_UNBLOCK, &faults, NULL);
    while (!atomic_load(&as->flusher_stop)) {
        /* The program's last thread may have left with pthread_exit: the
         * process must end as it would have, not live on in us. */
        if (only_thread_left()) {
            ct_finish(CT_END_EXIT, 0);
            ct_sys1(SYS_exit_group, 0);
        }
        struct timespec ts = {.tv_sec = ct_cfg.flush_ms / 1000,
                              .tv_nsec = (long)(ct_cfg.flush_ms % 1000) * 1000000L};
        ct_sys4(SYS_clock_nanosleep, CLOCK_MONOTONIC, 0, &ts, NULL);
        if (atomic_load(&as->flusher_stop) || !atomic_load(&st->active))
            continue;
        if (scan_trylock(st)) {
            scan_all(st);
            scan_unlock(st);
        }
    }
    return NULL;
}

/* The flusher starts before the regions are protected: pthread_create's own
 * writes (its thread list, the new thread's TLS vector) must not count as
 * the program's. */
static const char *prepare(struct ct_state *st)
{
    struct async_state *as = async_state(st);
    if (!ct_cfg.flush_ms)
        return NULL;
    as->flusher_stack_size = CT_FLUSHER_STACK;
    as->flusher_stack = ct_mmap(NULL, CT_FLUSHER_STACK, PROT_READ | PROT_WRITE,
                                MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (!as->flusher_stack)
        return "cannot start the flusher thread";
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setstack(&attr, as->flusher_stack, CT_FLUSHER_STACK);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    /* The flusher must never run the program's signal handlers. glibc keeps
     * its own internal signals (setuid broadcast) deliverable regardless. */
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    pthread_t t;
    int r = pthread_create(&t, &attr, flusher_main, st);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    pthread_attr_destroy(&attr);
    if (r) {
        ct_munmap(as->flusher_stack, CT_FLUSHER_STACK);
        as->flusher_stack = NULL;
        return "cannot start the flusher thread";
    }
    return NULL;
}

/* Final scan: wait out a scan in progress, then keep the lock so the flusher
 * never writes after the end record. */
static void flush(struct ct_state *st, int keep_lock)
{
    while (!scan_trylock(st))
        ct_sys0(SYS_sched_yield);
    if (atomic_load(&st->active))
        scan_all(st);
    if (!keep_lock)
        scan_unlock(st);
}

/* The lifecycle then closes the userfaultfd, which unregisters every range. */
static void stop(struct ct_state *st)
{
    atomic_store(&async_state(st)->flusher_stop, 1);
}

/* In a grandchild: the flusher did not survive fork, its stack did. */
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
    .stop = stop,
    .forget_inherited = forget_inherited,
};
