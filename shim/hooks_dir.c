/*
 * hooks_dir.c - directory streams, whose buffer libc fills by itself.
 *
 * readdir refills the DIR's buffer with getdents64 from inside libc, past
 * every wrapper of hooks_io.c. Under a sync backend, a DIR that malloc
 * placed on inherited heap pages would make that call fail with EFAULT
 * (seen: importlib's os.listdir of a path entry, "Bad address"). So a
 * stream's block is opened for the kernel when the stream is made, and
 * when it is closed the pages the stream's life left exclusively mapped
 * are recorded as written by getdents64 (the rest protected again).
 * When no backend watches kernel writes each hook is one load and a call.
 */
#include <dirent.h>
#include <malloc.h>
#include <sys/syscall.h>

#include "ct_shim.h"

static void opened(DIR *d)
{
    if (d && ct_kwrites_watched())
        ct_kwrite_begin(d, malloc_usable_size(d));
}

CT_EXPORT DIR *opendir(const char *name)
{
    CT_REAL(opendir);
    DIR *d = real_opendir(name);
    opened(d);
    return d;
}

CT_EXPORT DIR *fdopendir(int fd)
{
    CT_REAL(fdopendir);
    DIR *d = real_fdopendir(fd);
    opened(d);
    return d;
}

CT_EXPORT int closedir(DIR *d)
{
    CT_REAL(closedir);
    if (ct_kwrites_watched())   /* (NULL has no usable size: nothing to do) */
        ct_kwrite_end_probe(d, malloc_usable_size(d), SYS_getdents64, __builtin_return_address(0));
    return real_closedir(d);
}
