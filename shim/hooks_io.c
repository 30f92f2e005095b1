/*
 * hooks_io.c - system calls that write into the caller's memory.
 *
 * Under a sync backend a write by the kernel into a protected page is not a
 * fault we can catch: the system call fails with EFAULT. These wrappers open
 * the caller's buffer first, make the call, then record the pages the kernel
 * reports having filled (the byte count of read, recv, getdents...) as
 * written by that system call, and protect the rest again. Buffers filled in
 * full (stat, poll, pipe) are recorded whole when the call succeeds.
 * When the backend does not watch kernel writes (one that scans page tables
 * sees them like any other write), or in a process that is not traced, each
 * wrapper is one load and a call.
 *
 * Calls libc makes internally (fread's refill, getpwnam's file reads) do not
 * pass through here: under a sync backend they can still fail with EFAULT
 * if their buffer lies in memory the child inherited. README "Limits".
 */
/* Each wrapper must define the symbol it is named after; with 64-bit file
 * offsets forced, glibc's headers would rename pread to pread64 and so on. */
#undef _FILE_OFFSET_BITS

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/random.h>
#include <sys/select.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include "ct_shim.h"

#define CALLER() __builtin_return_address(0)

/* One buffer, filled from its start: the return value counts units. */
#define FILLS_PREFIX(name, nr, buf, len, call) FILLS_UNITS(name, nr, buf, len, 1, call)
#define FILLS_UNITS(name, nr, buf, len, unit, call)             \
    do {                                                        \
        CT_REAL(name);                                          \
        if (!ct_kwrites_watched())                              \
            return call;                                        \
        ct_kwrite_begin(buf, len);                              \
        __typeof__(call) r_ = call;                             \
        int e_ = errno;                                         \
        ct_kwrite_end(buf, len, r_ > 0 ? (size_t)r_ * (unit) : 0, nr, CALLER()); \
        errno = e_;                                             \
        return r_;                                              \
    } while (0)

/* Up to two buffers filled whole when the call succeeds (returns >= 0). */
#define FILLS_WHOLE(name, nr, b1, l1, b2, l2, call)             \
    do {                                                        \
        CT_REAL(name);                                          \
        if (!ct_kwrites_watched())                              \
            return call;                                        \
        ct_kwrite_begin(b1, l1);                                \
        ct_kwrite_begin(b2, l2);                                \
        __typeof__(call) r_ = call;                             \
        int e_ = errno;                                         \
        ct_kwrite_end(b1, l1, r_ >= 0 ? (size_t)(l1) : 0, nr, CALLER()); \
        ct_kwrite_end(b2, l2, r_ >= 0 ? (size_t)(l2) : 0, nr, CALLER()); \
        errno = e_;                                             \
        return r_;                                              \
    } while (0)

CT_EXPORT ssize_t read(int fd, void *buf, size_t n)
{
    FILLS_PREFIX(read, SYS_read, buf, n, real_read(fd, buf, n));
}

CT_EXPORT ssize_t pread(int fd, void *buf, size_t n, off_t off)
{
    FILLS_PREFIX(pread, SYS_pread64, buf, n, real_pread(fd, buf, n, off));
}

CT_EXPORT ssize_t pread64(int fd, void *buf, size_t n, off_t off)
{
    FILLS_PREFIX(pread64, SYS_pread64, buf, n, real_pread64(fd, buf, n, off));
}

CT_EXPORT ssize_t recv(int fd, void *buf, size_t n, int flags)
{
    FILLS_PREFIX(recv, SYS_recvfrom, buf, n, real_recv(fd, buf, n, flags));
}

CT_EXPORT ssize_t recvfrom(int fd, void *buf, size_t n, int flags, struct sockaddr *addr, socklen_t *alen)
{
    size_t al = addr && alen ? *alen : 0;
    CT_REAL(recvfrom);
    if (!ct_kwrites_watched())
        return real_recvfrom(fd, buf, n, flags, addr, alen);
    ct_kwrite_begin(buf, n);
    if (addr && alen) {
        ct_kwrite_begin(alen, sizeof *alen);
        ct_kwrite_begin(addr, al);
    }
    ssize_t r = real_recvfrom(fd, buf, n, flags, addr, alen);
    int e = errno;
    ct_kwrite_end(buf, n, r > 0 ? (size_t)r : 0, SYS_recvfrom, CALLER());
    if (addr && alen) {
        ct_kwrite_end(addr, al, r >= 0 ? al : 0, SYS_recvfrom, CALLER());
        ct_kwrite_end(alen, sizeof *alen, r >= 0 ? sizeof *alen : 0, SYS_recvfrom, CALLER());
    }
    errno = e;
    return r;
}

CT_EXPORT ssize_t getrandom(void *buf, size_t n, unsigned flags)
{
    FILLS_PREFIX(getrandom, SYS_getrandom, buf, n, real_getrandom(buf, n, flags));
}

CT_EXPORT ssize_t readlink(const char *restrict path, char *restrict buf, size_t n)
{
    FILLS_PREFIX(readlink, SYS_readlinkat, buf, n, real_readlink(path, buf, n));
}

CT_EXPORT ssize_t readlinkat(int dirfd, const char *restrict path, char *restrict buf, size_t n)
{
    FILLS_PREFIX(readlinkat, SYS_readlinkat, buf, n, real_readlinkat(dirfd, path, buf, n));
}

CT_EXPORT ssize_t getdents64(int fd, void *buf, size_t n)
{
    FILLS_PREFIX(getdents64, SYS_getdents64, buf, n, real_getdents64(fd, buf, n));
}

/* Fortified variants (_FORTIFY_SOURCE): same calls after a size check that
 * libc's own version performs (and aborts on). */
ssize_t __read_chk(int fd, void *buf, size_t n, size_t buflen);
ssize_t __pread_chk(int fd, void *buf, size_t n, off_t off, size_t buflen);
ssize_t __pread64_chk(int fd, void *buf, size_t n, off_t off, size_t buflen);
ssize_t __recv_chk(int fd, void *buf, size_t n, size_t buflen, int flags);
ssize_t __recvfrom_chk(int fd, void *buf, size_t n, size_t buflen, int flags, struct sockaddr *addr,
                       socklen_t *alen);

CT_EXPORT ssize_t __read_chk(int fd, void *buf, size_t n, size_t buflen)
{
    CT_REAL(__read_chk);
    if (n > buflen)
        return real___read_chk(fd, buf, n, buflen);
    return read(fd, buf, n);
}

CT_EXPORT ssize_t __pread_chk(int fd, void *buf, size_t n, off_t off, size_t buflen)
{
    CT_REAL(__pread_chk);
    if (n > buflen)
        return real___pread_chk(fd, buf, n, off, buflen);
    return pread(fd, buf, n, off);
}

CT_EXPORT ssize_t __pread64_chk(int fd, void *buf, size_t n, off_t off, size_t buflen)
{
    CT_REAL(__pread64_chk);
    if (n > buflen)
        return real___pread64_chk(fd, buf, n, off, buflen);
    return pread64(fd, buf, n, off);
}

CT_EXPORT ssize_t __recv_chk(int fd, void *buf, size_t n, size_t buflen, int flags)
{
    CT_REAL(__recv_chk);
    if (n > buflen)
        return real___recv_chk(fd, buf, n, buflen, flags);
    return recv(fd, buf, n, flags);
}

CT_EXPORT ssize_t __recvfrom_chk(int fd, void *buf, size_t n, size_t buflen, int flags, struct sockaddr *addr,
                                 socklen_t *alen)
{
    CT_REAL(__recvfrom_chk);
    if (n > buflen)
        return real___recvfrom_chk(fd, buf, n, buflen, flags, addr, alen);
    return recvfrom(fd, buf, n, flags, addr, alen);
}

/* ---- scatter reads: iovecs filled in order ------------------------------ */

static void iov_begin(const struct iovec *iov, int n)
{
    for (int i = 0; i < n; i++)
        ct_kwrite_begin(iov[i].iov_base, iov[i].iov_len);
}

static void iov_end(const struct iovec *iov, int n, ssize_t done, long nr, void *caller)
{
    size_t left = done > 0 ? (size_t)done : 0;
    for (int i = 0; i < n; i++) {
        size_t d = left < iov[i].iov_len ? left : iov[i].iov_len;
        ct_kwrite_end(iov[i].iov_base, iov[i].iov_len, d, nr, caller);
        left -= d;
    }
}

#define FILLS_IOV(name, nr, iov, cnt, call)                     \
    do {                                                        \
        CT_REAL(name);                                          \
        if (!ct_kwrites_watched() || cnt < 0 || cnt > 1024)     \
            return call;                                        \
        iov_begin(iov, cnt);                                    \
        ssize_t r_ = call;                                      \
        int e_ = errno;                                         \
        iov_end(iov, cnt, r_, nr, CALLER());                    \
        errno = e_;                                             \
        return r_;                                              \
    } while (0)

CT_EXPORT ssize_t readv(int fd, const struct iovec *iov, int cnt)
{
    FILLS_IOV(readv, SYS_readv, iov, cnt, real_readv(fd, iov, cnt));
}

CT_EXPORT ssize_t preadv(int fd, const struct iovec *iov, int cnt, off_t off)
{
    FILLS_IOV(preadv, SYS_preadv, iov, cnt, real_preadv(fd, iov, cnt, off));
}

CT_EXPORT ssize_t preadv64(int fd, const struct iovec *iov, int cnt, off_t off)
{
    FILLS_IOV(preadv64, SYS_preadv, iov, cnt, real_preadv64(fd, iov, cnt, off));
}

CT_EXPORT ssize_t preadv2(int fd, const struct iovec *iov, int cnt, off_t off, int flags)
{
    FILLS_IOV(preadv2, SYS_preadv2, iov, cnt, real_preadv2(fd, iov, cnt, off, flags));
}

CT_EXPORT ssize_t preadv64v2(int fd, const struct iovec *iov, int cnt, off_t off, int flags)
{
    FILLS_IOV(preadv64v2, SYS_preadv2, iov, cnt, real_preadv64v2(fd, iov, cnt, off, flags));
}

CT_EXPORT ssize_t recvmsg(int fd, struct msghdr *msg, int flags)
{
    CT_REAL(recvmsg);
    if (!ct_kwrites_watched() || !msg || msg->msg_iovlen > 1024)
        return real_recvmsg(fd, msg, flags);
    struct msghdr copy = *msg;   /* the kernel may shorten the lengths it writes back */
    ct_kwrite_begin(msg, sizeof *msg);
    ct_kwrite_begin(copy.msg_name, copy.msg_namelen);
    ct_kwrite_begin(copy.msg_control, copy.msg_controllen);
    iov_begin(copy.msg_iov, (int)copy.msg_iovlen);
    ssize_t r = real_recvmsg(fd, msg, flags);
    int e = errno;
    iov_end(copy.msg_iov, (int)copy.msg_iovlen, r, SYS_recvmsg, CALLER());
    ct_kwrite_end(copy.msg_name, copy.msg_namelen, r >= 0 ? copy.msg_namelen : 0, SYS_recvmsg, CALLER());
    ct_kwrite_end(copy.msg_control, copy.msg_controllen, r >= 0 ? copy.msg_controllen : 0, SYS_recvmsg,
                  CALLER());
    ct_kwrite_end(msg, sizeof *msg, r >= 0 ? sizeof *msg : 0, SYS_recvmsg, CALLER());
    errno = e;
    return r;
}

/* ---- fixed-size results ------------------------------------------------ */

CT_EXPORT int fstat(int fd, struct stat *sb)
{
    FILLS_WHOLE(fstat, SYS_fstat, sb, sizeof *sb, NULL, 0, real_fstat(fd, sb));
}

CT_EXPORT int stat(const char *restrict path, struct stat *restrict sb)
{
    FILLS_WHOLE(stat, SYS_newfstatat, sb, sizeof *sb, NULL, 0, real_stat(path, sb));
}

CT_EXPORT int lstat(const char *restrict path, struct stat *restrict sb)
{
    FILLS_WHOLE(lstat, SYS_newfstatat, sb, sizeof *sb, NULL, 0, real_lstat(path, sb));
}

CT_EXPORT int fstatat(int dirfd, const char *restrict path, struct stat *restrict sb, int flags)
{
    FILLS_WHOLE(fstatat, SYS_newfstatat, sb, sizeof *sb, NULL, 0, real_fstatat(dirfd, path, sb, flags));
}

CT_EXPORT int statx(int dirfd, const char *restrict path, int flags, unsigned mask, struct statx *restrict sb)
{
    FILLS_WHOLE(statx, SYS_statx, sb, sizeof *sb, NULL, 0, real_statx(dirfd, path, flags, mask, sb));
}

CT_EXPORT int poll(struct pollfd *fds, nfds_t n, int timeout)
{
    FILLS_WHOLE(poll, SYS_poll, fds, n * sizeof *fds, NULL, 0, real_poll(fds, n, timeout));
}

CT_EXPORT int ppoll(struct pollfd *fds, nfds_t n, const struct timespec *t, const sigset_t *mask)
{
    FILLS_WHOLE(ppoll, SYS_ppoll, fds, n * sizeof *fds, NULL, 0, real_ppoll(fds, n, t, mask));
}

CT_EXPORT int epoll_wait(int ep, struct epoll_event *ev, int max, int timeout)
{
    FILLS_UNITS(epoll_wait, SYS_epoll_wait, ev, max > 0 ? (size_t)max * sizeof *ev : 0, sizeof *ev,
                real_epoll_wait(ep, ev, max, timeout));
}

CT_EXPORT int epoll_pwait(int ep, struct epoll_event *ev, int max, int timeout, const sigset_t *mask)
{
    FILLS_UNITS(epoll_pwait, SYS_epoll_pwait, ev, max > 0 ? (size_t)max * sizeof *ev : 0, sizeof *ev,
                real_epoll_pwait(ep, ev, max, timeout, mask));
}

CT_EXPORT int select(int n, fd_set *r, fd_set *w, fd_set *x, struct timeval *t)
{
    CT_REAL(select);
    if (!ct_kwrites_watched())
        return real_select(n, r, w, x, t);
    fd_set *sets[3] = {r, w, x};
    for (int i = 0; i < 3; i++)
        ct_kwrite_begin(sets[i], sets[i] ? sizeof(fd_set) : 0);
    ct_kwrite_begin(t, t ? sizeof *t : 0);
    int ret = real_select(n, r, w, x, t);
    int e = errno;
    for (int i = 0; i < 3; i++)
        ct_kwrite_end(sets[i], sets[i] ? sizeof(fd_set) : 0, ret >= 0 ? sizeof(fd_set) : 0, SYS_select, CALLER());
    ct_kwrite_end(t, t ? sizeof *t : 0, ret >= 0 ? sizeof *t : 0, SYS_select, CALLER());
    errno = e;
    return ret;
}

CT_EXPORT int pipe(int fds[2])
{
    FILLS_WHOLE(pipe, SYS_pipe2, fds, 2 * sizeof(int), NULL, 0, real_pipe(fds));
}

CT_EXPORT int pipe2(int fds[2], int flags)
{
    FILLS_WHOLE(pipe2, SYS_pipe2, fds, 2 * sizeof(int), NULL, 0, real_pipe2(fds, flags));
}

CT_EXPORT int socketpair(int d, int t, int p, int fds[2])
{
    FILLS_WHOLE(socketpair, SYS_socketpair, fds, 2 * sizeof(int), NULL, 0, real_socketpair(d, t, p, fds));
}

#define ADDR_LEN(addr, alen) ((addr) && (alen) ? (size_t)*(alen) : 0)

CT_EXPORT int accept(int fd, struct sockaddr *restrict addr, socklen_t *restrict alen)
{
    FILLS_WHOLE(accept, SYS_accept, addr, ADDR_LEN(addr, alen), alen, alen ? sizeof *alen : 0,
                real_accept(fd, addr, alen));
}

CT_EXPORT int accept4(int fd, struct sockaddr *restrict addr, socklen_t *restrict alen, int flags)
{
    FILLS_WHOLE(accept4, SYS_accept4, addr, ADDR_LEN(addr, alen), alen, alen ? sizeof *alen : 0,
                real_accept4(fd, addr, alen, flags));
}

CT_EXPORT int getsockname(int fd, struct sockaddr *restrict addr, socklen_t *restrict alen)
{
    FILLS_WHOLE(getsockname, SYS_getsockname, addr, ADDR_LEN(addr, alen), alen, alen ? sizeof *alen : 0,
                real_getsockname(fd, addr, alen));
}

CT_EXPORT int getpeername(int fd, struct sockaddr *restrict addr, socklen_t *restrict alen)
{
    FILLS_WHOLE(getpeername, SYS_getpeername, addr, ADDR_LEN(addr, alen), alen, alen ? sizeof *alen : 0,
                real_getpeername(fd, addr, alen));
}

CT_EXPORT int getsockopt(int fd, int level, int name, void *restrict val, socklen_t *restrict len)
{
    FILLS_WHOLE(getsockopt, SYS_getsockopt, val, val && len ? (size_t)*len : 0, len, len ? sizeof *len : 0,
                real_getsockopt(fd, level, name, val, len));
}
