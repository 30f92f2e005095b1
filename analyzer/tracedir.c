/*
 * tracedir.c - see tracedir.h. Names are checked with fstatat on the open
 * directory, so what is judged is what is there now, not what readdir saw.
 * Symlinks to traces are followed for reading (a user may collect traces by
 * linking them) but never for deleting: --force removes the link itself.
 */
#include "tracedir.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ct_format.h"

bool ct_is_trace_name(const char *name)
{
    size_t n = strlen(name), s = strlen(CT_FILE_SUFFIX);
    return n > s && strcmp(name + n - s, CT_FILE_SUFFIX) == 0;
}

static const char *base(const char *p)
{
    const char *s = strrchr(p, '/');
    return s ? s + 1 : p;
}

static int cmp_path(const void *x, const void *y)
{
    const char *a = base(*(char *const *)x), *b = base(*(char *const *)y);
    unsigned long pa = strtoul(a, NULL, 10), pb = strtoul(b, NULL, 10);
    if (pa != pb)
        return pa < pb ? -1 : 1;
    return strverscmp(a, b);
}

int ct_list_traces(const char *path, struct ct_tracelist *out, struct ct_err *err)
{
    struct stat st;
    out->paths = NULL;
    out->n = 0;
    if (stat(path, &st) < 0)
        return ct_fail_nooff(err, "%s", strerror(errno));
    if (!S_ISDIR(st.st_mode)) {
        out->paths = xmalloc(sizeof *out->paths);
        out->paths[0] = xstrdup(path);
        out->n = 1;
        return 0;
    }
    DIR *d = opendir(path);
    if (!d)
        return ct_fail_nooff(err, "cannot open directory: %s", strerror(errno));
    size_t cap = 0;
    struct dirent *de;
    while ((de = readdir(d))) {
        if (!ct_is_trace_name(de->d_name))
            continue;
        if (fstatat(dirfd(d), de->d_name, &st, 0) < 0 || !S_ISREG(st.st_mode))
            continue;
        if (out->n == cap) {
            cap = cap ? cap * 2 : 16;
            out->paths = xreallocarray(out->paths, cap, sizeof *out->paths);
        }
        size_t len = strlen(path) + 1 + strlen(de->d_name) + 1;
        char *p = xmalloc(len);
        snprintf(p, len, "%s%s%s", path, path[strlen(path) - 1] == '/' ? "" : "/", de->d_name);
        out->paths[out->n++] = p;
    }
    closedir(d);
    if (out->n)
        qsort(out->paths, out->n, sizeof *out->paths, cmp_path);
    return 0;
}

void ct_tracelist_free(struct ct_tracelist *l)
{
    for (size_t i = 0; i < l->n; i++)
        free(l->paths[i]);
    free(l->paths);
    l->paths = NULL;
    l->n = 0;
}

long ct_remove_traces(const char *dir, struct ct_err *err)
{
    DIR *d = opendir(dir);
    if (!d)
        return ct_fail_nooff(err, "cannot open directory: %s", strerror(errno));
    long n = 0;
    struct dirent *de;
    while ((de = readdir(d))) {
        struct stat st;
        if (!ct_is_trace_name(de->d_name))
            continue;
        /* Never follow a link here: only the link itself may go. */
        if (fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0
            || !(S_ISREG(st.st_mode) || S_ISLNK(st.st_mode)))
            continue;
        if (unlinkat(dirfd(d), de->d_name, 0) < 0) {
            int e = errno;
            closedir(d);
            return ct_fail_nooff(err, "cannot remove %s: %s", de->d_name, strerror(e));
        }
        n++;
    }
    closedir(d);
    return n;
}
