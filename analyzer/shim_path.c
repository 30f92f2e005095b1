/*
 * shim_path.c - see shim_path.h.
 */
#include "shim_path.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#ifndef COWTRACE_SHIM_INSTALL_PATH
#define COWTRACE_SHIM_INSTALL_PATH "/usr/local/lib/cowtrace/libcowtrace.so"
#endif

static char *usable(const char *path, struct ct_err *err)
{
    char *abs = realpath(path, NULL);
    if (!abs || access(abs, R_OK) != 0) {
        ct_fail_nooff(err, "%s: %s", path, strerror(errno));
        free(abs);
        return NULL;
    }
    if (strpbrk(abs, ": \t\n")) {
        ct_fail_nooff(err, "%s: the shim path contains ':' or whitespace, which LD_PRELOAD cannot express; "
                           "move it or set COWTRACE_SHIM to a copy elsewhere", abs);
        free(abs);
        return NULL;
    }
    return abs;
}

char *ct_find_shim(struct ct_err *err)
{
    const char *env = getenv("COWTRACE_SHIM");
    if (env && *env) {
        char *p = usable(env, err);
        if (!p) {
            char msg[CT_ERR_MSG];
            snprintf(msg, sizeof msg, "%s", err->msg);
            ct_fail_nooff(err, "COWTRACE_SHIM=%s", msg);
        }
        return p;
    }
    char self[PATH_MAX];
    char build[PATH_MAX + 32] = "";
    ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
    if (n > 0) {
        self[n] = '\0';
        char *slash = strrchr(self, '/');
        if (slash) {
            *slash = '\0';
            snprintf(build, sizeof build, "%s/../shim/libcowtrace.so", self);
            if (access(build, R_OK) == 0)
                return usable(build, err);
        }
    }
    if (access(COWTRACE_SHIM_INSTALL_PATH, R_OK) == 0)
        return usable(COWTRACE_SHIM_INSTALL_PATH, err);
    ct_fail_nooff(err, "cannot find libcowtrace.so (looked in %s%s%s); build it or set COWTRACE_SHIM",
                  build, build[0] ? " and " : "", COWTRACE_SHIM_INSTALL_PATH);
    return NULL;
}
