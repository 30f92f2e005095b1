/*
 * hooks_fd.c - the shim's own descriptors survive the program closing
 * "all" of them (os.closerange, close_range, closefrom, a loop of close).
 *
 * The userfaultfd, /proc/self/pagemap and trace-file descriptors of a
 * traced child are not the program's to close: closing the userfaultfd
 * would silently end tracking. A close of one of them reports success and
 * leaves it open; a range close skips them. The program never knew these
 * descriptors existed, so it cannot tell.
 */
#include <errno.h>
#include <unistd.h>

#include "ct_shim.h"

static int own_fd(int fd)
{
    struct ct_state *st = ct_st;
    if (!st || fd < 0 || st->pid != ct_getpid())
        return 0;
    return fd == st->backend_fd || fd == st->pagemap_fd || fd == st->w.fd;
}

CT_EXPORT int close(int fd)
{
    if (ct_unlikely(own_fd(fd)))
        return 0;
    long r = ct_sys1(SYS_close, fd);
    if (ct_is_err(r)) {
        errno = (int)-r;
        return -1;
    }
    return 0;
}

static int close_span(unsigned first, unsigned last, int flags)
{
    long r = ct_sys3(SYS_close_range, first, last, flags);
    if (ct_is_err(r)) {
        errno = (int)-r;
        return -1;
    }
    return 0;
}

CT_EXPORT int close_range(unsigned first, unsigned last, int flags)
{
    struct ct_state *st = ct_st;
    if (!st || st->pid != ct_getpid())
        return close_span(first, last, flags);
    int mine[3] = {st->backend_fd, st->pagemap_fd, st->w.fd};
    /* Close [first, last] around our descriptors, in ascending order. */
    for (unsigned lo = first;;) {
        unsigned next = last;
        int hit = -1;
        for (int i = 0; i < 3; i++)
            if (mine[i] >= 0 && (unsigned)mine[i] >= lo && (unsigned)mine[i] <= next && (hit < 0 || (unsigned)mine[i] < (unsigned)hit))
                hit = mine[i];
        if (hit < 0)
            return close_span(lo, last, flags);
        if ((unsigned)hit > lo && close_span(lo, (unsigned)hit - 1, flags) < 0)
            return -1;
        if ((unsigned)hit >= last)
            return 0;
        lo = (unsigned)hit + 1;
    }
}

CT_EXPORT void closefrom(int lowfd)
{
    close_range(lowfd < 0 ? 0 : (unsigned)lowfd, ~0u, 0);
}
