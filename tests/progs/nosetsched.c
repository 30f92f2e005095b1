/*
 * nosetsched - run a command with the scheduling-policy system calls
 * (sched_setscheduler, sched_setattr) denied (EPERM) by a seccomp filter,
 * as a locked-down container's profile can, so that `cowtrace snapshot`
 * and `cowtrace watch` must fall back from SCHED_IDLE to nice 19
 * (analyzer/lowprio.h; tests/test_live_priority.py).
 *   usage: nosetsched CMD [ARGS...]
 * Promise: CMD runs with exactly those two calls failing with EPERM, on
 * this machine's native system-call ABI; setpriority, ioprio_set and
 * every other call are untouched. A call made through another ABI (a
 * 32-bit or x32 call from a 64-bit process, which cowtrace never makes)
 * kills the process rather than slip past the filter. Sets
 * PR_SET_NO_NEW_PRIVS (so no privilege is needed), installs the classic
 * BPF filter, then execs CMD. Exit 125 and a line on stderr on an
 * architecture it does not know (the test then skips), 126 when the
 * filter cannot be installed, 127 when CMD is not found.
 */
#include <errno.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

/* The AUDIT_ARCH_* value seccomp_data.arch carries for this build's own
 * calls. */
#if defined(__x86_64__) && defined(__ILP32__)
#define NATIVE_ARCH 0u /* x32: not handled */
#elif defined(__x86_64__)
#define NATIVE_ARCH AUDIT_ARCH_X86_64
#elif defined(__aarch64__)
#define NATIVE_ARCH AUDIT_ARCH_AARCH64
#elif defined(__i386__)
#define NATIVE_ARCH AUDIT_ARCH_I386
#elif defined(__riscv) && __riscv_xlen == 64
#define NATIVE_ARCH AUDIT_ARCH_RISCV64
#elif defined(__powerpc64__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
#define NATIVE_ARCH AUDIT_ARCH_PPC64LE
#elif defined(__s390x__)
#define NATIVE_ARCH AUDIT_ARCH_S390X
#else
#define NATIVE_ARCH 0u
#endif

/* On x86-64 the x32 ABI's calls share AUDIT_ARCH_X86_64 and are told
 * apart by this bit in the number: every number at or above it is not a
 * native call. Elsewhere no number reaches it. */
#ifndef __X32_SYSCALL_BIT
#define __X32_SYSCALL_BIT 0x40000000
#endif

#ifndef __NR_sched_setattr
#error "no __NR_sched_setattr: kernel headers older than Linux 3.14"
#endif

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: nosetsched CMD [ARGS...]\n");
        return 2;
    }
    if (NATIVE_ARCH == 0u) {
        fprintf(stderr, "nosetsched: this architecture's seccomp arch value is not known here\n");
        return 125;
    }
    struct sock_filter filter[] = {
        /* [0] */ BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch)),
        /* [1] */ BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, NATIVE_ARCH, 1, 0),
        /* [2] */ BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS),
        /* [3] */ BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
        /* [4] */ BPF_JUMP(BPF_JMP | BPF_JGE | BPF_K, __X32_SYSCALL_BIT, 0, 1),
        /* [5] */ BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS),
        /* [6] */ BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_sched_setscheduler, 2, 0),
        /* [7] */ BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_sched_setattr, 1, 0),
        /* [8] */ BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
        /* [9] */ BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | (EPERM & SECCOMP_RET_DATA)),
    };
    struct sock_fprog prog = {.len = sizeof filter / sizeof filter[0], .filter = filter};
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) {
        perror("nosetsched: prctl(PR_SET_NO_NEW_PRIVS)");
        return 126;
    }
    if (prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog) != 0) {
        perror("nosetsched: prctl(PR_SET_SECCOMP)");
        return 126;
    }
    execvp(argv[1], argv + 1);
    fprintf(stderr, "nosetsched: %s: %s\n", argv[1], strerror(errno));
    return errno == ENOENT ? 127 : 126;
}
