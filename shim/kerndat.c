/*
 * kerndat.c - what this kernel offers for write tracking, probed once per
 * child, and the userfaultfd probe both uffd backends use.
 *
 * Promise: a feature is probed at most once in a child and the answer
 * (with its reason, for the user) is cached here; backends ask this module
 * instead of probing themselves. The cache is forgotten in every new child
 * (ct_kerndat_forget): a seccomp filter or a credential change in a traced
 * process may deny its own children what it had. Each probe is a few
 * system calls; none happens unless a backend asks. ct_uffd_probe is the
 * whole probe of a uffd backend: the cached features, then its own
 * descriptor with those it needs.
 */
#include <errno.h>
#include <fcntl.h>

#include "ct_shim.h"
#include "kernel_compat.h"

enum { UNKNOWN = 0, YES, NO };

static struct {
    int uffd;                  /* UNKNOWN, YES, NO */
    uint64_t uffd_features;
    const char *uffd_why;
    int pagemap_scan;
    const char *pagemap_scan_why;
} kd;

void ct_kerndat_forget(void)
{
    kd.uffd = UNKNOWN;
    kd.pagemap_scan = UNKNOWN;
}

static long open_uffd(const char **why)
{
    long fd = ct_sys1(SYS_userfaultfd, O_CLOEXEC | O_NONBLOCK | UFFD_USER_MODE_ONLY);
    if (ct_is_err(fd))
        *why = fd == -ENOSYS ? "userfaultfd: not in this kernel"
             : fd == -EPERM  ? "userfaultfd: not permitted"
                             : "userfaultfd: refused";
    return fd;
}

/* UFFDIO_API with no feature asked for answers with every feature the
 * kernel has; the descriptor is of no further use (the API is set once). */
static int uffd_features(uint64_t *features, const char **why)
{
    if (kd.uffd == UNKNOWN) {
        long fd = open_uffd(&kd.uffd_why);
        kd.uffd = NO;
        if (!ct_is_err(fd)) {
            struct uffdio_api api = {.api = UFFD_API, .features = 0};
            if (ct_is_err(ct_ioctl((int)fd, UFFDIO_API, &api))) {
                kd.uffd_why = "userfaultfd: feature missing";
            } else {
                kd.uffd = YES;
                kd.uffd_features = api.features;
            }
            ct_close((int)fd);
        }
    }
    *features = kd.uffd_features;
    *why = kd.uffd_why;
    return kd.uffd == YES ? 0 : -1;
}

/* An empty scan tells whether PAGEMAP_SCAN exists (ENOTTY if not). */
int ct_kerndat_pagemap_scan(const char **why)
{
    if (kd.pagemap_scan == UNKNOWN) {
        struct pm_scan_arg arg = {.size = sizeof arg};
        long pm = ct_openat(AT_FDCWD, "/proc/self/pagemap", O_RDONLY | O_CLOEXEC, 0);
        long r = ct_is_err(pm) ? pm : ct_ioctl((int)pm, PAGEMAP_SCAN, &arg);
        if (!ct_is_err(pm))
            ct_close((int)pm);
        kd.pagemap_scan = ct_is_err(r) ? NO : YES;
        kd.pagemap_scan_why = r == -ENOTTY ? "kernel lacks PAGEMAP_SCAN (Linux 6.7+)" : "PAGEMAP_SCAN refused";
    }
    *why = kd.pagemap_scan_why;
    return kd.pagemap_scan == YES ? 0 : -1;
}

int ct_kerndat_pagemap_scan_known(void)
{
    return kd.pagemap_scan == YES;
}

/* A userfaultfd with `features` enabled; -1 with *why if it cannot be had. */
static int open_uffd_with(uint64_t features, const char **why)
{
    long fd = open_uffd(why);
    if (ct_is_err(fd))
        return -1;
    struct uffdio_api api = {.api = UFFD_API, .features = features};
    if (ct_is_err(ct_ioctl((int)fd, UFFDIO_API, &api)) || (api.features & features) != features) {
        ct_close((int)fd);
        *why = "userfaultfd: feature missing";
        return -1;
    }
    return (int)fd;
}

int ct_uffd_probe(struct ct_state *st, uint64_t features, const char *lacking, int (*and_needs)(const char **why),
                  const char **why)
{
    uint64_t have;
    if (uffd_features(&have, why))
        return -1;
    if ((have & features) != features) {
        *why = lacking;
        return -1;
    }
    if (and_needs && and_needs(why))
        return -1;
    int fd = open_uffd_with(features, why);
    if (fd < 0)
        return -1;
    st->backend_fd = fd;
    return 0;
}
