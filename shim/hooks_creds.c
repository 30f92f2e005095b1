/*
 * hooks_creds.c - changes of credentials: setuid and its kin, setgroups.
 *
 * glibc applies these to every thread of the process (its setxid
 * broadcast); a backend's helper process (uffd-async's flusher) is none of
 * them, and would keep the old credentials - root, say, beside a program
 * that dropped them while sharing its memory. So the helper ends before the
 * call and a new one starts after it, created by the calling thread with
 * whatever credentials the call left (ct_pause_helpers, ct_resume_helpers).
 * Raw system calls, and capset, are not seen (a raw setuid changes only the
 * calling thread anyway).
 *
 * Promise: each hook behaves as the call it wraps (result and errno); when
 * no backend tracks this process it adds two loads and two branches.
 */
#include <errno.h>
#include <grp.h>
#include <unistd.h>

#include "ct_shim.h"

#define CT_CRED_HOOK(name, params, args)        \
    CT_EXPORT int name params                   \
    {                                           \
        CT_REAL(name);                          \
        ct_pause_helpers();                     \
        int ret_ = real_##name args;            \
        int errno_ = errno;                     \
        ct_resume_helpers();                    \
        errno = errno_;                         \
        return ret_;                            \
    }

CT_CRED_HOOK(setuid, (uid_t u), (u))
CT_CRED_HOOK(setgid, (gid_t g), (g))
CT_CRED_HOOK(seteuid, (uid_t u), (u))
CT_CRED_HOOK(setegid, (gid_t g), (g))
CT_CRED_HOOK(setreuid, (uid_t r, uid_t e), (r, e))
CT_CRED_HOOK(setregid, (gid_t r, gid_t e), (r, e))
CT_CRED_HOOK(setresuid, (uid_t r, uid_t e, uid_t s), (r, e, s))
CT_CRED_HOOK(setresgid, (gid_t r, gid_t e, gid_t s), (r, e, s))
CT_CRED_HOOK(setgroups, (size_t n, const gid_t *list), (n, list))
