/*
 * hooks_exit.c - how a traced process ends, and how its parent learns it.
 *
 *   _exit, _Exit   the end record, then the real call (os._exit, and every
 *                  multiprocessing worker, end here; exit() is seen through
 *                  on_exit in config.c)
 *   exec*          a last scan and an EXEC record: the new program is not
 *                  traced unless it forks itself
 *   wait*          the parent writes the reaped status into the child's
 *                  trace header, so a child killed by a signal still has its
 *                  exit in the report
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "ct_shim.h"

CT_EXPORT void _exit(int status)
{
    ct_finish(CT_END__EXIT, status);
    ct_sys1(SYS_exit_group, status);
    __builtin_unreachable();
}

CT_EXPORT void _Exit(int status)
{
    _exit(status);
}

/* ---- exec ------------------------------------------------------------- */

typedef int execve_fn(const char *, char *const[], char *const[]);
typedef int execvpe_fn(const char *, char *const[], char *const[]);
typedef int fexecve_fn(int, char *const[], char *const[]);
typedef int execveat_fn(int, const char *, char *const[], char *const[], int);

#define REAL(type, name) \
    static type *real_p; \
    if (!real_p) \
        real_p = (type *)ct_real(name)

CT_EXPORT int execve(const char *path, char *const argv[], char *const envp[])
{
    REAL(execve_fn, "execve");
    ct_before_exec(path);
    int r = real_p(path, argv, envp);
    int e = errno;
    ct_after_failed_exec();
    errno = e;
    return r;
}

CT_EXPORT int execvpe(const char *file, char *const argv[], char *const envp[])
{
    REAL(execvpe_fn, "execvpe");
    ct_before_exec(file);
    int r = real_p(file, argv, envp);
    int e = errno;
    ct_after_failed_exec();
    errno = e;
    return r;
}

CT_EXPORT int fexecve(int fd, char *const argv[], char *const envp[])
{
    REAL(fexecve_fn, "fexecve");
    ct_before_exec("(fexecve)");
    int r = real_p(fd, argv, envp);
    int e = errno;
    ct_after_failed_exec();
    errno = e;
    return r;
}

CT_EXPORT int execveat(int dirfd, const char *path, char *const argv[], char *const envp[], int flags)
{
    REAL(execveat_fn, "execveat");
    ct_before_exec(path);
    int r = real_p(dirfd, path, argv, envp, flags);
    int e = errno;
    ct_after_failed_exec();
    errno = e;
    return r;
}

CT_EXPORT int execv(const char *path, char *const argv[])
{
    return execve(path, argv, environ);
}

CT_EXPORT int execvp(const char *file, char *const argv[])
{
    return execvpe(file, argv, environ);
}

/* The variadic forms, built on the ones above (libc's own would bypass us). */
#define COLLECT_ARGS(first, last_named, argv_out)                      \
    va_list ap;                                                        \
    size_t argc = 1;                                                   \
    va_start(ap, last_named);                                          \
    while (va_arg(ap, char *))                                         \
        argc++;                                                        \
    va_end(ap);                                                        \
    char *argv_out[argc + 1];                                          \
    argv_out[0] = (char *)(first);                                     \
    va_start(ap, last_named);                                          \
    for (size_t i_ = 1; i_ <= argc; i_++)                              \
        argv_out[i_] = va_arg(ap, char *)

CT_EXPORT int execl(const char *path, const char *arg, ...)
{
    COLLECT_ARGS(arg, arg, argv);
    va_end(ap);
    return execve(path, argv, environ);
}

CT_EXPORT int execlp(const char *file, const char *arg, ...)
{
    COLLECT_ARGS(arg, arg, argv);
    va_end(ap);
    return execvpe(file, argv, environ);
}

CT_EXPORT int execle(const char *path, const char *arg, ...)
{
    COLLECT_ARGS(arg, arg, argv);
    char *const *envp = va_arg(ap, char *const *);
    va_end(ap);
    return execve(path, argv, envp);
}

/* ---- reaping ---------------------------------------------------------- */

static void note_reaped(pid_t pid, int status)
{
    if (!ct_cfg.enabled || pid <= 0)
        return;
    ct_trace_mark_reaped(ct_cfg.dir, pid, ct_getpid(), status);
}

typedef pid_t waitpid_fn(pid_t, int *, int);
typedef pid_t wait4_fn(pid_t, int *, int, struct rusage *);
typedef int waitid_fn(idtype_t, id_t, siginfo_t *, int);

static int reaped(int status)
{
    return WIFEXITED(status) || WIFSIGNALED(status);
}

CT_EXPORT pid_t waitpid(pid_t pid, int *wstatus, int options)
{
    REAL(waitpid_fn, "waitpid");
    int st = 0;
    pid_t r = real_p(pid, &st, options);
    if (r > 0) {
        if (reaped(st))
            note_reaped(r, st);
        if (wstatus)
            *wstatus = st;   /* a user-mode store: a sync backend sees it like any other */
    }
    return r;
}

CT_EXPORT pid_t wait(int *wstatus)
{
    return waitpid(-1, wstatus, 0);
}

CT_EXPORT pid_t wait4(pid_t pid, int *wstatus, int options, struct rusage *ru)
{
    REAL(wait4_fn, "wait4");
    int st = 0;
    ct_kwrite_begin(ru, ru ? sizeof *ru : 0);
    pid_t r = real_p(pid, &st, options, ru);
    ct_kwrite_end(ru, ru ? sizeof *ru : 0, r >= 0 ? sizeof *ru : 0, SYS_wait4, __builtin_return_address(0));
    if (r > 0) {
        if (reaped(st))
            note_reaped(r, st);
        if (wstatus)
            *wstatus = st;
    }
    return r;
}

CT_EXPORT pid_t wait3(int *wstatus, int options, struct rusage *ru)
{
    return wait4(-1, wstatus, options, ru);
}

CT_EXPORT int waitid(idtype_t idtype, id_t id, siginfo_t *info, int options)
{
    REAL(waitid_fn, "waitid");
    ct_kwrite_begin(info, info ? sizeof *info : 0);
    int r = real_p(idtype, id, info, options);
    ct_kwrite_end(info, info ? sizeof *info : 0, r == 0 ? sizeof *info : 0, SYS_waitid,
                  __builtin_return_address(0));
    if (r == 0 && info && !(options & WNOWAIT) && info->si_pid > 0 &&
        (info->si_code == CLD_EXITED || info->si_code == CLD_KILLED || info->si_code == CLD_DUMPED)) {
        int status = info->si_code == CLD_EXITED ? (info->si_status & 0xff) << 8
                   : (info->si_status & 0x7f) | (info->si_code == CLD_DUMPED ? 0x80 : 0);
        note_reaped(info->si_pid, status);
    }
    return r;
}
