/*
 * uffd_async.c - backend uffd-async: userfaultfd write-protection with
 * UFFD_FEATURE_WP_ASYNC, read back with the PAGEMAP_SCAN ioctl (Linux 6.7+).
 *
 * The kernel resolves every write fault itself (it clears the page's
 * write-protect bit and goes on), so the traced program pays nothing beyond
 * the copy-on-write fault it would take anyway, and writes made by the kernel
 * (read(2) into a buffer, signal frames) work unchanged. The price is that
 * we learn only *which* pages were written, never by whom: PAGEMAP_SCAN with
 * PM_SCAN_WP_MATCHING returns the pages written since the last scan and
 * re-protects them in one atomic step.
 *
 * A flusher thread scans every flush_ms so a child killed by SIGKILL loses at
 * most that much; exit, _exit and exec scan one last time.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/uio.h>
#include <time.h>

#include "ct_shim.h"
#include "kernel_compat.h"

void ct_signal_take(int sig, void (*handler)(int, siginfo_t *, void *));

#define CT_SCAN_VEC 1024u
#define CT_FLUSHER_STACK (256u << 10)
#define CT_SEEN_MAX_BYTES (16u << 20)   /* a bitmap per region up to 512 GiB */

int ct_uffd_open(uint64_t features, const char **why)
{
    long fd = ct_sys1(SYS_userfaultfd, O_CLOEXEC | O_NONBLOCK | UFFD_USER_MODE_ONLY);
    if (ct_is_err(fd)) {
        *why = fd == -ENOSYS ? "userfaultfd: not in this kernel"
             : fd == -EPERM  ? "userfaultfd: not permitted"
                             : "userfaultfd: refused";
        return -1;
    }
    struct uffdio_api api = {.api = UFFD_API, .features = features};
    if (ct_is_err(ct_ioctl((int)fd, UFFDIO_API, &api)) || (api.features & features) != features) {
        ct_close((int)fd);
        *why = "userfaultfd: feature missing";
        return -1;
    }
    return (int)fd;
}

int ct_uffd_async_probe(const char **why)
{
    int fd = ct_uffd_open(UFFD_FEATURE_WP_ASYNC | UFFD_FEATURE_WP_UNPOPULATED, why);
    if (fd < 0) {
        if (!ct_strcmp(*why, "userfaultfd: feature missing"))
            *why = "kernel lacks UFFD_FEATURE_WP_ASYNC (Linux 6.7+)";
        return -1;
    }
    /* An empty scan tells whether PAGEMAP_SCAN exists (ENOTTY if not). */
    struct pm_scan_arg arg = {.size = sizeof arg};
    long pm = ct_openat(AT_FDCWD, "/proc/self/pagemap", O_RDONLY | O_CLOEXEC, 0);
    long r = ct_is_err(pm) ? pm : ct_ioctl((int)pm, PAGEMAP_SCAN, &arg);
    if (!ct_is_err(pm))
        ct_close((int)pm);
    if (ct_is_err(r)) {
        ct_close(fd);
        *why = r == -ENOTTY ? "kernel lacks PAGEMAP_SCAN (Linux 6.7+)" : "PAGEMAP_SCAN refused";
        return -1;
    }
    return fd;
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
    if (ct_is_err(ct_ioctl(st->uffd, UFFDIO_REGISTER, &reg)) ||
        ct_is_err(ct_ioctl(st->uffd, UFFDIO_WRITEPROTECT, &wp)))
        return -1;
    return 0;
}

int ct_uffd_async_start(struct ct_state *st)
{
    /* Page summaries read the program's memory with plain loads, which may
     * meet memory unmapped meanwhile: our SIGSEGV handler turns such a fault
     * into a failed read (and hands every other fault to the program's
     * handler, as the sync backends do). Plain loads, because the fault-proof
     * system call, process_vm_readv, pins pages and so copies shared ones. */
    /* SIGBUS too: a stale pointer can land in a file mapping past its end. */
    ct_signal_take(SIGSEGV, (void (*)(int, siginfo_t *, void *))ct_py_probe_handler());
    ct_signal_take(SIGBUS, (void (*)(int, siginfo_t *, void *))ct_py_probe_handler());
    ct_py_guarded_reads(1);
    atomic_store(&ct_async_watch, 1);
    st->scan_vec_len = CT_SCAN_VEC;
    st->scan_vec = ct_arena_alloc(CT_SCAN_VEC * sizeof(struct page_region));
    if (!st->scan_vec)
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
    if (!st->capture_buf && !(st->capture_buf = ct_arena_alloc((size_t)ct_cfg.page_size)))
        return;
    struct iovec local = {.iov_base = st->capture_buf, .iov_len = (size_t)ct_cfg.page_size};
    struct iovec remote = {.iov_base = (void *)page, .iov_len = (size_t)ct_cfg.page_size};
    if (ct_sys6(SYS_process_vm_readv, ct_getpid(), (long)&local, 1, (long)&remote, 1, 0) == ct_cfg.page_size)
        ct_rec_page_data(&st->w, page, CT_PAGE_AT_SCAN, st->capture_buf, (uint32_t)ct_cfg.page_size);
}

/* Pages of r in [lo, hi) written since the last scan; the scan protects
 * them again as it reads them. A page is recorded (a run, a summary) the
 * first time only: hot pages, written again after every scan, would
 * otherwise be summarized again and again. 0, or -1 if the trace is full. */
static int scan_span(struct ct_state *st, struct ct_region *r, uintptr_t lo, uintptr_t hi)
{
    struct ct_runs *runs = &st->scan_runs;
    ct_runs_begin(runs, &st->w, CT_REC_WRITTEN, r->id);
    uint64_t at = lo;
    while (at < hi) {
        struct pm_scan_arg arg = {
            .size = sizeof arg,
            .flags = PM_SCAN_WP_MATCHING,
            .start = at,
            .end = hi,
            .vec = (uintptr_t)st->scan_vec,
            .vec_len = st->scan_vec_len,
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
            struct page_region *pr = &st->scan_vec[k];
            for (uintptr_t pg = pr->start; pg < pr->end; pg += (uintptr_t)ct_cfg.page_size) {
                size_t i = (pg - r->start) >> ct_cfg.page_shift;
                if (r->seen && ct_bit_test_and_set(r->seen, i))
                    continue;
                ct_runs_add(runs, i, 1);
                ct_sums_add(&st->sums, st, pg);
                if (ct_cfg.capture_pages)
                    capture(st, pg);
            }
        }
        if (arg.walk_end <= at || arg.walk_end >= hi)
            break;
        at = arg.walk_end;
    }
    return ct_runs_end(runs) || ct_sums_end(&st->sums) ? -1 : 0;
}

void ct_uffd_async_scan(struct ct_state *st)
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
    return atomic_compare_exchange_strong(&st->scan_lock, &expected, 1);
}

CT_HIDDEN _Atomic int ct_async_watch;

/* PAGEMAP_SCAN sees a written page only while it is mapped: memory about to
 * be unmapped, discarded or moved away (hooks_release.c) is scanned first.
 * Any thread of the program, never a signal handler of ours. */
void ct_uffd_async_before_release(uintptr_t lo, uintptr_t hi)
{
    struct ct_state *st = ct_st;
    if (!st || st->mode != CT_MODE_UFFD_ASYNC || !atomic_load(&st->active) || hi <= lo ||
        st->pid != ct_getpid())
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
            atomic_store(&st->scan_lock, 0);
            ct_stop_tracking("the trace file cannot grow");
            goto out;
        }
    }
    atomic_store(&st->scan_lock, 0);
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
    ct_sys2(SYS_prctl, 15 /* PR_SET_NAME */, "cowtrace");
    /* Created with every signal blocked; a synchronous SIGSEGV or SIGBUS
     * from a guarded read must reach our handler, or the kernel kills. */
    sigset_t faults;
    sigemptyset(&faults);
    sigaddset(&faults, SIGSEGV);
    sigaddset(&faults, SIGBUS);
    pthread_sigmask(SIG_UNBLOCK, &faults, NULL);
    while (!atomic_load(&st->flusher_stop)) {
        /* The program's last thread may have left with pthread_exit: the
         * process must end as it would have, not live on in us. */
        if (only_thread_left()) {
            ct_finish(CT_END_EXIT, 0);
            ct_sys1(SYS_exit_group, 0);
        }
        struct timespec ts = {.tv_sec = ct_cfg.flush_ms / 1000,
                              .tv_nsec = (long)(ct_cfg.flush_ms % 1000) * 1000000L};
        ct_sys4(SYS_clock_nanosleep, CLOCK_MONOTONIC, 0, &ts, NULL);
        if (atomic_load(&st->flusher_stop) || !atomic_load(&st->active))
            continue;
        if (scan_trylock(st)) {
            ct_uffd_async_scan(st);
            atomic_store(&st->scan_lock, 0);
        }
    }
    atomic_store(&st->flusher_running, 0);
    return NULL;
}

/* Called before the regions are protected: pthread_create's own writes (its
 * thread list, the new thread's TLS vector) must not count as the program's. */
int ct_uffd_async_start_flusher(struct ct_state *st)
{
    if (!ct_cfg.flush_ms)
        return 0;
    st->flusher_stack_size = CT_FLUSHER_STACK;
    st->flusher_stack = ct_mmap(NULL, CT_FLUSHER_STACK, PROT_READ | PROT_WRITE,
                                MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (!st->flusher_stack)
        return -ENOMEM;
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setstack(&attr, st->flusher_stack, CT_FLUSHER_STACK);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    /* The flusher must never run the program's signal handlers. glibc keeps
     * its own internal signals (setuid broadcast) deliverable regardless. */
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    pthread_t t;
    atomic_store(&st->flusher_running, 1);
    int r = pthread_create(&t, &attr, flusher_main, st);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    pthread_attr_destroy(&attr);
    if (r) {
        atomic_store(&st->flusher_running, 0);
        ct_munmap(st->flusher_stack, CT_FLUSHER_STACK);
        st->flusher_stack = NULL;
        return -r;
    }
    return 0;
}

/* Final scan: wait out a scan in progress, then keep the lock so the flusher
 * never writes after the end record. */
void ct_uffd_async_final_scan(struct ct_state *st, int keep_lock)
{
    while (!scan_trylock(st))
        ct_sys0(SYS_sched_yield);
    if (atomic_load(&st->active))
        ct_uffd_async_scan(st);
    if (!keep_lock)
        atomic_store(&st->scan_lock, 0);
}

void ct_uffd_async_stop(struct ct_state *st)
{
    atomic_store(&st->flusher_stop, 1);
    if (st->uffd >= 0)
        ct_close(st->uffd);   /* unregisters every range */
    st->uffd = -1;
}
