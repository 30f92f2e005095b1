/*
 * seccomp_deny - run a command with one system call failing (a seccomp
 * filter), to test what the shim does when the kernel says no.
 *   usage: seccomp_deny CALL ERRNO CMD [ARGS...]
 * CALL is one of
 *   userfaultfd   every userfaultfd(2), as a container runtime's default
 *                 profile denies it (opening /dev/userfaultfd is left alone:
 *                 the filter denies what such a profile denies, the call);
 *   pread64-far   pread64 at an offset of 4 GiB or more: the shim's reads of
 *                 /proc/self/pagemap (offset = address / 512, and user
 *                 memory lies above 2 TiB), while the loader's and the
 *                 program's reads of ordinary files go through.
 * It fails with ERRNO (a number). Sets PR_SET_NO_NEW_PRIVS (so no
 * privilege is needed), installs the filter (x86-64 calls only; every other
 * call, and other architectures' calls, are allowed), then execs CMD.
 */
#include <errno.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

static const struct {
    const char *name;
    int nr;
    bool far_only;   /* only at an offset (args[3]) of 4 GiB or more */
} calls[] = {
    {"userfaultfd", __NR_userfaultfd, false},
    {"pread64-far", __NR_pread64, true},
};

#define ARG_HIGH_WORD(i) (offsetof(struct seccomp_data, args[i]) + 4)   /* little-endian */

int main(int argc, char **argv)
{
    if (argc < 4) {
        fprintf(stderr, "usage: seccomp_deny CALL ERRNO CMD [ARGS...]\n");
        return 2;
    }
    int which = -1;
    for (unsigned i = 0; i < sizeof calls / sizeof calls[0]; i++)
        if (!strcmp(argv[1], calls[i].name))
            which = (int)i;
    char *end;
    long err = strtol(argv[2], &end, 10);
    if (which < 0 || *end || err <= 0 || err > SECCOMP_RET_DATA) {
        fprintf(stderr, "seccomp_deny: unknown call %s or bad errno %s\n", argv[1], argv[2]);
        return 2;
    }
    /* Every jump that lets the call through lands on the last instruction. */
    struct sock_filter filter[8];
    unsigned n = 0;
    filter[n++] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch));
    unsigned arch_jump = n++;
    filter[n++] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr));
    unsigned nr_jump = n++;
    unsigned far_jump = 0;
    if (calls[which].far_only) {
        filter[n++] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS, ARG_HIGH_WORD(3));
        far_jump = n++;
    }
    filter[n++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | (uint32_t)err);
    unsigned allow = n;
    filter[n++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW);
    /* jt/jf count the instructions skipped after the jump */
    filter[arch_jump] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_X86_64, 0,
                                                     (unsigned char)(allow - arch_jump - 1));
    filter[nr_jump] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, (uint32_t)calls[which].nr, 0,
                                                   (unsigned char)(allow - nr_jump - 1));
    if (far_jump)
        filter[far_jump] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 0,
                                                        (unsigned char)(allow - far_jump - 1), 0);
    struct sock_fprog prog = {.len = (unsigned short)n, .filter = filter};
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) {
        perror("seccomp_deny: prctl(PR_SET_NO_NEW_PRIVS)");
        return 126;
    }
    if (prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog) != 0) {
        perror("seccomp_deny: prctl(PR_SET_SECCOMP)");
        return 126;
    }
    execvp(argv[3], argv + 3);
    fprintf(stderr, "seccomp_deny: %s: %s\n", argv[3], strerror(errno));
    return errno == ENOENT ? 127 : 126;
}
