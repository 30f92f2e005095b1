/*
 * sys.c - libc-free helpers for code that runs in fault handlers and in the
 * traced child after its memory is protected (see sys.h for why).
 */
#include <time.h>

#include "ct_shim.h"

uint64_t ct_clock_ns(int clock)
{
    struct timespec ts;
    /* The vDSO first: it reads the kernel's clock page with no system call
     * (one costs microseconds under a hypervisor, at every fault). With a
     * valid clock and buffer it cannot fail, so it leaves errno alone; the
     * raw call, which never touches errno, is the fallback. */
    if (clock_gettime(clock, &ts) == 0)
        return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
    if (ct_is_err(ct_sys2(SYS_clock_gettime, clock, &ts)))
        return 0;
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* glibc keeps each thread's id in its thread block (struct pthread, at the
 * thread pointer on x86-64 and aarch64), written by the kernel at clone
 * (CLONE_PARENT_SETTID) and by fork in the child. Its offset is glibc's
 * business, so it is found rather than assumed: the only int within the
 * first CT_TID_WINDOW bytes that equals gettid(). Two matches, or none,
 * and every call asks the kernel. Only read, never written. */
#define CT_TID_WINDOW 1024
static long tid_index = -1;

void ct_tid_learn(void)
{
    int tid = ct_gettid();
    const int *block = (const int *)__builtin_thread_pointer();
    long found = -1;
    tid_index = -1;
    if (!block)
        return;
    for (long i = 0; i < CT_TID_WINDOW / (long)sizeof(int); i++) {
        if (block[i] != tid)
            continue;
        if (found >= 0)
            return;   /* ambiguous: keep the system call */
        found = i;
    }
    tid_index = found;
}

int ct_tid(void)
{
    if (tid_index >= 0) {
        int t = ((const volatile int *)__builtin_thread_pointer())[tid_index];
        if (t > 0)
            return t;   /* 0 or less: the thread is exiting, or not glibc's */
    }
    return ct_gettid();
}

size_t ct_strlen(const char *s)
{
    size_t n = 0;
    while (s[n])
        n++;
    return n;
}

int ct_strncmp(const char *a, const char *b, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (a[i] != b[i] || !a[i])
            return (unsigned char)a[i] - (unsigned char)b[i];
    }
    return 0;
}

int ct_strcmp(const char *a, const char *b)
{
    return ct_strncmp(a, b, (size_t)-1);
}

char *ct_stpcpy(char *dst, const char *src)
{
    while ((*dst = *src++))
        dst++;
    return dst;
}

char *ct_utoa(char *dst, unsigned long v)
{
    char tmp[24];
    int n = 0;
    do {
        tmp[n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    while (n)
        *dst++ = tmp[--n];
    *dst = 0;
    return dst;
}

void ct_memcpy(void *dst, const void *src, size_t n)
{
    char *d = dst;
    const char *s = src;
    while (n--)
        *d++ = *s++;
}

void ct_memset(void *dst, int c, size_t n)
{
    char *d = dst;
    while (n--)
        *d++ = (char)c;
}
