/*
 * nouffd - run a command with the userfaultfd system call denied (EPERM) by
 * a seccomp filter, as a container runtime's default profile does.
 *   usage: nouffd CMD [ARGS...]
 * Sets PR_SET_NO_NEW_PRIVS (so no privilege is needed), installs a BPF
 * filter returning EPERM for __NR_userfaultfd on x86-64 (every other call,
 * and other architectures' calls, are allowed), then execs CMD.
 * Opening /dev/userfaultfd is left alone: the filter denies what a seccomp
 * profile denies, the system call.
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

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: nouffd CMD [ARGS...]\n");
        return 2;
    }
    struct sock_filter filter[] = {
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch)),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_X86_64, 0, 3),
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_userfaultfd, 0, 1),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | (EPERM & SECCOMP_RET_DATA)),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
    };
    struct sock_fprog prog = {.len = sizeof filter / sizeof filter[0], .filter = filter};
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) {
        perror("nouffd: prctl(PR_SET_NO_NEW_PRIVS)");
        return 126;
    }
    if (prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog) != 0) {
        perror("nouffd: prctl(PR_SET_SECCOMP)");
        return 126;
    }
    execvp(argv[1], argv + 1);
    fprintf(stderr, "nouffd: %s: %s\n", argv[1], strerror(errno));
    return errno == ENOENT ? 127 : 126;
}
