/*
 * memread_remote.c - a struct ct_memread over another process's memory,
 * by process_vm_readv (see memread.h).
 *
 * Needs ptrace access to the target (same user and a permissive Yama
 * ptrace_scope, or the target is a descendant, or CAP_SYS_PTRACE). A read
 * of memory that is not mapped fails (-1) rather than faults. Not for the
 * shim reading itself, nor for reading a forked worker or its parent
 * without disturbing them: process_vm_readv pins the pages it reads, and
 * the kernel unshares (copies) a pinned anonymous page still shared after
 * a fork. `cowtrace snapshot` reads /proc/PID/mem instead (snapshot.c).
 */
#include <sys/uio.h>

#include "memread.h"

int ct_memread_remote_read(void *remote, uintptr_t addr, void *dst, size_t len)
{
    const struct ct_memread_remote *r = remote;
    if (addr + len < addr)
        return -1;
    struct iovec local = {.iov_base = dst, .iov_len = len};
    struct iovec far = {.iov_base = (void *)addr, .iov_len = len};
    ssize_t got = process_vm_readv(r->pid, &local, 1, &far, 1, 0);
    return got == (ssize_t)len ? 0 : -1;
}
