/*
 * warn.c - the one line a process prints when tracing cannot happen.
 *
 * Promise: ct_warn is async-signal-safe (no stdio, no errno, one write(2))
 * and may be called from any process, traced or not, at any time.
 */
#include <errno.h>
#include <limits.h>

#include "ct_shim.h"

static const char *errno_text(long err)
{
    switch (err) {
    case ENOENT: return "No such file or directory";
    case EACCES: return "Permission denied";
    case EPERM: return "Operation not permitted";
    case ENOSPC: return "No space left on device";
    case EDQUOT: return "Disk quota exceeded";
    case ENOMEM: return "Cannot allocate memory";
    case EINVAL: return "Invalid argument";
    case EEXIST: return "File exists";
    case ELOOP: return "Too many levels of symbolic links (refusing a symlink)";
    case ENOTDIR: return "Not a directory";
    case EROFS: return "Read-only file system";
    case EMFILE: return "Too many open files";
    case ENOSYS: return "Function not implemented";
    case EIO: return "Input/output error";
    default: return NULL;
    }
}

/* Room kept after the message and its detail: " ", ": " and the longest
 * errno_text (54 bytes), "; running untraced\n", the NUL. */
#define CT_WARN_TAIL 96

/* One line, one write(2): lines from many children never interleave. */
void ct_warn(const char *msg, const char *detail, long err)
{
    char line[PATH_MAX + 256];
    char *p = ct_stpcpy(line, "cowtrace: ");
    char *end = line + sizeof line - CT_WARN_TAIL;
    for (const char *s = msg; *s && p < end; s++)
        *p++ = *s;
    if (detail) {
        p = ct_stpcpy(p, " ");
        for (const char *s = detail; *s && p < end; s++)
            *p++ = *s;
    }
    if (err) {
        const char *t = errno_text(err);
        p = ct_stpcpy(p, ": ");
        if (t) {
            p = ct_stpcpy(p, t);
        } else {
            p = ct_stpcpy(p, "error ");
            p = ct_utoa(p, (unsigned long)err);
        }
    }
    p = ct_stpcpy(p, "; running untraced\n");
    ct_write(2, line, (size_t)(p - line));
}
