/*
 * faultfloor - what the kernel's write-tracking mechanism alone costs per
 * page, without cowtrace: the floor under the precise modes' overhead.
 *   usage: faultfloor [--pages N] [--reps R] [METHOD...]
 *
 * Promise: maps N anonymous pages (default 47000, about what a child
 * iterating 6,000,000 Python ints copies) and fills them, then for each
 * METHOD forks a child that writes one word to every page and reports how
 * long the writes took; prints one line per method,
 *   METHOD wall_us_per_page cpu_us_per_page
 * each the median of R children (default 3; the CPU time is the writing
 * thread's, user and system, which a loaded machine inflates less than the
 * wall time). Methods:
 *   none               nothing: one copy-on-write fault per page
 *   uffd               userfaultfd write-protection with UFFD_FEATURE_SIGBUS;
 *                      a SIGBUS handler that only lifts the protection of the
 *                      page (UFFDIO_WRITEPROTECT), then the write retries
 *   uffd-populate      the same, and the handler also faults the page in for
 *                      writing (MADV_POPULATE_WRITE): the copy is made in the
 *                      system call instead of in a second fault
 *   mprotect           PROT_READ and a SIGSEGV handler that only makes the
 *                      page writable again (mprotect)
 *   mprotect-populate  the same with MADV_POPULATE_WRITE
 * Without METHOD, all five. The handlers run on an alternate signal stack,
 * as cowtrace's do. Each child's set-up (protecting the pages) is outside
 * the timed part. Exit status 2 when a method cannot be set up (the line
 * then says "unavailable" and why).
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <fcntl.h>
#include <linux/userfaultfd.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#ifndef MADV_POPULATE_WRITE
#define MADV_POPULATE_WRITE 23
#endif
#ifndef UFFD_USER_MODE_ONLY
#define UFFD_USER_MODE_ONLY 1
#endif
#ifndef UFFD_FEATURE_WP_UNPOPULATED
#define UFFD_FEATURE_WP_UNPOPULATED (1 << 13)
#endif

static const char *methods[] = {"none", "uffd", "uffd-populate", "mprotect", "mprotect-populate"};
enum { M_NONE, M_UFFD, M_UFFD_POP, M_MPROTECT, M_MPROTECT_POP, M_COUNT };

static long page_size;
static int uffd = -1;
static int populate;

static void on_uffd_fault(int sig, siginfo_t *si, void *uc)
{
    (void)sig, (void)uc;
    uintptr_t page = (uintptr_t)si->si_addr & ~(uintptr_t)(page_size - 1);
    struct uffdio_writeprotect wp = {.range = {.start = page, .len = (uint64_t)page_size},
                                     .mode = UFFDIO_WRITEPROTECT_MODE_DONTWAKE};
    if (ioctl(uffd, UFFDIO_WRITEPROTECT, &wp))
        _exit(3);
    if (populate)
        madvise((void *)page, (size_t)page_size, MADV_POPULATE_WRITE);
}

static void on_segv_fault(int sig, siginfo_t *si, void *uc)
{
    (void)sig, (void)uc;
    uintptr_t page = (uintptr_t)si->si_addr & ~(uintptr_t)(page_size - 1);
    if (mprotect((void *)page, (size_t)page_size, PROT_READ | PROT_WRITE))
        _exit(3);
    if (populate)
        madvise((void *)page, (size_t)page_size, MADV_POPULATE_WRITE);
}

static int take(int sig, void (*fn)(int, siginfo_t *, void *))
{
    static char altstack[256 << 10];
    stack_t alt = {.ss_sp = altstack, .ss_size = sizeof altstack};
    struct sigaction sa = {.sa_sigaction = fn, .sa_flags = SA_SIGINFO | SA_ONSTACK | SA_RESTART};
    sigemptyset(&sa.sa_mask);
    return sigaltstack(&alt, NULL) || sigaction(sig, &sa, NULL) ? -1 : 0;
}

/* In the child: protect [mem, mem + len) as the method says; 0 or an error. */
static const char *protect(int method, char *mem, size_t len)
{
    populate = method == M_UFFD_POP || method == M_MPROTECT_POP;
    if (method == M_MPROTECT || method == M_MPROTECT_POP) {
        if (take(SIGSEGV, on_segv_fault))
            return "sigaction failed";
        return mprotect(mem, len, PROT_READ) ? "mprotect failed" : NULL;
    }
    uffd = (int)syscall(SYS_userfaultfd, O_CLOEXEC | UFFD_USER_MODE_ONLY);
    if (uffd < 0)
        return "userfaultfd denied";
    struct uffdio_api api = {.api = UFFD_API, .features = UFFD_FEATURE_SIGBUS | UFFD_FEATURE_WP_UNPOPULATED};
    if (ioctl(uffd, UFFDIO_API, &api))
        return "UFFDIO_API: features missing";
    struct uffdio_register reg = {.range = {.start = (uintptr_t)mem, .len = len}, .mode = UFFDIO_REGISTER_MODE_WP};
    if (ioctl(uffd, UFFDIO_REGISTER, &reg))
        return "UFFDIO_REGISTER failed";
    struct uffdio_writeprotect wp = {.range = {.start = (uintptr_t)mem, .len = len},
                                     .mode = UFFDIO_WRITEPROTECT_MODE_WP};
    if (ioctl(uffd, UFFDIO_WRITEPROTECT, &wp))
        return "UFFDIO_WRITEPROTECT failed";
    return take(SIGBUS, on_uffd_fault) ? "sigaction failed" : NULL;
}

static double now_us(clockid_t clock)
{
    struct timespec ts;
    clock_gettime(clock, &ts);
    return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

/* One child: microseconds per page, wall and CPU (*cpu), or a negative
 * number (error in *why). */
static double one_run(int method, char *mem, long pages, double *cpu, char *why, size_t whylen)
{
    int fds[2];
    if (pipe(fds))
        return -1;
    pid_t pid = fork();
    if (pid < 0)
        return -1;
    if (pid == 0) {
        char msg[128];
        const char *err = method == M_NONE ? NULL : protect(method, mem, (size_t)(pages * page_size));
        if (err) {
            snprintf(msg, sizeof msg, "E %s: %s", err, strerror(errno));
        } else {
            double t0 = now_us(CLOCK_MONOTONIC), c0 = now_us(CLOCK_THREAD_CPUTIME_ID);
            for (long i = 0; i < pages; i++)
                ((volatile long *)(mem + i * page_size))[0] += 1;
            double c1 = now_us(CLOCK_THREAD_CPUTIME_ID), t1 = now_us(CLOCK_MONOTONIC);
            snprintf(msg, sizeof msg, "T %.6f %.6f", (t1 - t0) / (double)pages, (c1 - c0) / (double)pages);
        }
        if (write(fds[1], msg, strlen(msg) + 1) < 0)
            _exit(1);
        _exit(0);
    }
    close(fds[1]);
    char buf[128] = {0};
    ssize_t n = read(fds[0], buf, sizeof buf - 1);
    close(fds[0]);
    int status;
    waitpid(pid, &status, 0);
    if (n > 2 && buf[0] == 'T' && WIFEXITED(status) && WEXITSTATUS(status) == 0) {
        char *end;
        double wall = strtod(buf + 2, &end);
        *cpu = strtod(end, NULL);
        return wall;
    }
    snprintf(why, whylen, "%s", n > 2 && buf[0] == 'E' ? buf + 2 : "the child failed");
    return -1;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

int main(int argc, char **argv)
{
    long pages = 47000;
    int reps = 3;
    int chosen[M_COUNT] = {0}, any = 0;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            printf("usage: faultfloor [--pages N] [--reps R] [METHOD...]\n"
                   "Per page, what writing one word to each of N inherited pages costs in a forked child\n"
                   "(wall and CPU microseconds, medians of R children) with each METHOD:\n"
                   "  none               the copy-on-write fault alone\n"
                   "  uffd               userfaultfd write-protection, SIGBUS, a handler that only un-protects\n"
                   "  uffd-populate      the same, and MADV_POPULATE_WRITE of the page in the handler\n"
                   "  mprotect           PROT_READ, SIGSEGV, a handler that only calls mprotect\n"
                   "  mprotect-populate  the same, and MADV_POPULATE_WRITE of the page in the handler\n"
                   "Default: --pages 47000 --reps 3, all five methods.\n");
            return 0;
        } else if (!strcmp(argv[i], "--pages") && i + 1 < argc) {
            pages = atol(argv[++i]);
        } else if (!strcmp(argv[i], "--reps") && i + 1 < argc) {
            reps = atoi(argv[++i]);
        } else {
            int m;
            for (m = 0; m < M_COUNT && strcmp(argv[i], methods[m]); m++)
                ;
            if (m == M_COUNT) {
                fprintf(stderr, "faultfloor: unknown argument %s\n"
                                "usage: faultfloor [--pages N] [--reps R] [none|uffd|uffd-populate|mprotect|"
                                "mprotect-populate...]\n", argv[i]);
                return 2;
            }
            chosen[m] = any = 1;
        }
    }
    if (pages < 1 || reps < 1 || reps > 99) {
        fprintf(stderr, "faultfloor: --pages must be >= 1 and --reps 1..99\n");
        return 2;
    }
    page_size = sysconf(_SC_PAGESIZE);
    char *mem = mmap(NULL, (size_t)(pages * page_size), PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (mem == MAP_FAILED) {
        perror("faultfloor: mmap");
        return 2;
    }
    madvise(mem, (size_t)(pages * page_size), MADV_NOHUGEPAGE);   /* one copy per 4 KiB page, as in a heap */
    for (long i = 0; i < pages; i++)
        memset(mem + i * page_size, (int)(i & 0xff) | 1, (size_t)page_size);
    int rc = 0;
    double t[99], c[99];
    /* Interleaved: every repetition runs each method once. */
    double all[M_COUNT][99], all_cpu[M_COUNT][99];
    char why[M_COUNT][160] = {{0}};
    for (int r = 0; r < reps; r++)
        for (int m = 0; m < M_COUNT; m++)
            if (!any || chosen[m])
                all[m][r] = why[m][0] ? -1 : one_run(m, mem, pages, &all_cpu[m][r], why[m], sizeof why[m]);
    for (int m = 0; m < M_COUNT; m++) {
        if (any && !chosen[m])
            continue;
        if (why[m][0]) {
            printf("%s unavailable (%s)\n", methods[m], why[m]);
            rc = 2;
            continue;
        }
        memcpy(t, all[m], (size_t)reps * sizeof t[0]);
        memcpy(c, all_cpu[m], (size_t)reps * sizeof c[0]);
        qsort(t, (size_t)reps, sizeof t[0], cmp_double);
        qsort(c, (size_t)reps, sizeof c[0], cmp_double);
        printf("%s %.3f %.3f\n", methods[m], t[reps / 2], c[reps / 2]);
    }
    return rc;
}
