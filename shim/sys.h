/*
 * sys.h - raw system calls and libc-free helpers for the shim.
 *
 * Everything the shim runs after a child's memory is write-protected must be
 * async-signal-safe and must not write memory the program owns. libc's
 * syscall wrappers write errno, which lives in the thread's TLS block: memory
 * the child inherited and that a sync backend may have write-protected. A
 * fault there from inside our own fault handler would kill the process. So
 * the shim makes its system calls through these inline wrappers, which return
 * -errno and never touch errno, and uses its own tiny string helpers.
 */
#ifndef COWTRACE_SYS_H
#define COWTRACE_SYS_H

#include <stddef.h>
#include <stdint.h>
#include <sys/syscall.h>

#if defined(__x86_64__)
static inline long ct_sys6(long n, long a, long b, long c, long d, long e, long f)
{
    register long r10 __asm__("r10") = d;
    register long r8 __asm__("r8") = e;
    register long r9 __asm__("r9") = f;
    long ret;
    __asm__ volatile("syscall"
                     : "=a"(ret)
                     : "a"(n), "D"(a), "S"(b), "d"(c), "r"(r10), "r"(r8), "r"(r9)
                     : "rcx", "r11", "memory");
    return ret;
}
#elif defined(__aarch64__)
static inline long ct_sys6(long n, long a, long b, long c, long d, long e, long f)
{
    register long x8 __asm__("x8") = n;
    register long x0 __asm__("x0") = a;
    register long x1 __asm__("x1") = b;
    register long x2 __asm__("x2") = c;
    register long x3 __asm__("x3") = d;
    register long x4 __asm__("x4") = e;
    register long x5 __asm__("x5") = f;
    __asm__ volatile("svc 0"
                     : "+r"(x0)
                     : "r"(x8), "r"(x1), "r"(x2), "r"(x3), "r"(x4), "r"(x5)
                     : "memory");
    return x0;
}
#else
#error "cowtrace's shim supports x86-64 and aarch64"
#endif

#define ct_sys0(n) ct_sys6((n), 0, 0, 0, 0, 0, 0)
#define ct_sys1(n, a) ct_sys6((n), (long)(a), 0, 0, 0, 0, 0)
#define ct_sys2(n, a, b) ct_sys6((n), (long)(a), (long)(b), 0, 0, 0, 0)
#define ct_sys3(n, a, b, c) ct_sys6((n), (long)(a), (long)(b), (long)(c), 0, 0, 0)
#define ct_sys4(n, a, b, c, d) ct_sys6((n), (long)(a), (long)(b), (long)(c), (long)(d), 0, 0)
#define ct_sys5(n, a, b, c, d, e) ct_sys6((n), (long)(a), (long)(b), (long)(c), (long)(d), (long)(e), 0)

static inline int ct_is_err(long r) { return (unsigned long)r > -4096UL; }

static inline int ct_getpid(void) { return (int)ct_sys0(SYS_getpid); }
static inline int ct_gettid(void) { return (int)ct_sys0(SYS_gettid); }

static inline void *ct_mmap(void *addr, size_t len, int prot, int flags, int fd, long off)
{
    long r = ct_sys6(SYS_mmap, (long)addr, (long)len, prot, flags, fd, off);
    return ct_is_err(r) ? NULL : (void *)r;
}
static inline long ct_munmap(void *addr, size_t len) { return ct_sys2(SYS_munmap, addr, len); }
static inline long ct_mprotect(void *addr, size_t len, int prot) { return ct_sys3(SYS_mprotect, addr, len, prot); }
static inline long ct_close(int fd) { return ct_sys1(SYS_close, fd); }
static inline long ct_read(int fd, void *buf, size_t n) { return ct_sys3(SYS_read, fd, buf, n); }
static inline long ct_pread(int fd, void *buf, size_t n, long off) { return ct_sys4(SYS_pread64, fd, buf, n, off); }
static inline long ct_pwrite(int fd, const void *buf, size_t n, long off) { return ct_sys4(SYS_pwrite64, fd, buf, n, off); }
static inline long ct_write(int fd, const void *buf, size_t n) { return ct_sys3(SYS_write, fd, buf, n); }
static inline long ct_ioctl(int fd, unsigned long req, void *arg) { return ct_sys3(SYS_ioctl, fd, req, arg); }
static inline long ct_openat(int dirfd, const char *path, int flags, int mode) { return ct_sys4(SYS_openat, dirfd, path, flags, mode); }

uint64_t ct_clock_ns(int clock);

/* The calling thread's id without a system call when glibc's thread block
 * says it (ct_tid_learn found where), else by gettid. A system call costs
 * microseconds under some hypervisors, and the fault path needs the id. */
void ct_tid_learn(void);
int ct_tid(void);

/* String helpers (no locale, no errno, no allocation). */
size_t ct_strlen(const char *s);
int ct_strcmp(const char *a, const char *b);
int ct_strncmp(const char *a, const char *b, size_t n);
char *ct_stpcpy(char *dst, const char *src);
char *ct_utoa(char *dst, unsigned long v);  /* decimal; returns end (NUL written) */
void ct_memcpy(void *dst, const void *src, size_t n);
void ct_memset(void *dst, int c, size_t n);

#endif
