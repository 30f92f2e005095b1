/*
 * config.c - what every process that loads the shim does: read the
 * configuration once, register the fork handlers, and warn when tracing
 * cannot happen.
 *
 * The original process is never tracked, so everything here may use libc.
 * The only state written after start-up is the fork counter, in the parent,
 * before fork: a child never writes this module's memory.
 */
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <link.h>
#include <poll.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ct_shim.h"

struct ct_config ct_cfg;

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
    default: return NULL;
    }
}

/* One line, one write(2): lines from many children never interleave. */
void ct_warn(const char *msg, const char *detail, long err)
{
    char line[PATH_MAX + 256];
    char *p = ct_stpcpy(line, "cowtrace: ");
    char *end = line + sizeof line - 64;
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

/* The parent waits (briefly) until the child has protected its memory:
 * a page the parent writes meanwhile would turn exclusive in the child and
 * read as written there before tracking began. Per thread, because threads
 * may fork at once. Created in the parent, so a thread-local is fine. */
static __thread int setup_pipe[2] = {-1, -1};
#define CT_SETUP_WAIT_MS 500

static void fork_prepare(void)
{
    if (ct_cfg.enabled && ct_is_err(ct_sys2(SYS_pipe2, setup_pipe, O_CLOEXEC)))
        setup_pipe[0] = setup_pipe[1] = -1;
    ct_py_identify();
    if (ct_cfg.gc_freeze)
        ct_py_gc_freeze();
    ct_cfg.fork_counter++;
    ct_cfg.fork_parent = ct_getpid();
    if (ct_traced_here())
        atomic_store(&ct_st->forking, 1);
}

static void fork_parent(void)
{
    if (setup_pipe[0] >= 0) {
        ct_close(setup_pipe[1]);
        struct pollfd pfd = {.fd = setup_pipe[0], .events = POLLIN};
        ct_sys3(SYS_poll, &pfd, 1, CT_SETUP_WAIT_MS);
        ct_close(setup_pipe[0]);
        setup_pipe[0] = setup_pipe[1] = -1;
    }
    if (ct_traced_here())
        atomic_store(&ct_st->forking, 0);
}

static void fork_child(void)
{
    int fds[2] = {setup_pipe[0], setup_pipe[1]};
    if (fds[0] >= 0)
        ct_close(fds[0]);
    ct_child_after_fork();
    if (fds[1] >= 0) {
        ct_write(fds[1], "", 1);
        ct_close(fds[1]);
    }
}

/* exit() hands on_exit handlers the status; atexit would not. Registered
 * before the program's own handlers, so it runs after them. */
static void at_exit(int status, void *arg)
{
    (void)arg;
    if (ct_traced_here())
        ct_finish(CT_END_EXIT, status);
}

static int find_self(struct dl_phdr_info *info, size_t size, void *data)
{
    (void)size;
    uintptr_t me = (uintptr_t)data;
    for (int i = 0; i < info->dlpi_phnum; i++) {
        const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
        if (ph->p_type != PT_LOAD)
            continue;
        uintptr_t lo = info->dlpi_addr + ph->p_vaddr;
        if (me >= lo && me < lo + ph->p_memsz)
            goto found;
    }
    return 0;
found:
    for (int i = 0; i < info->dlpi_phnum; i++) {
        const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
        if (ph->p_type != PT_LOAD)
            continue;
        uintptr_t lo = (info->dlpi_addr + ph->p_vaddr) & ~(uintptr_t)(ct_cfg.page_size - 1);
        uintptr_t hi = (info->dlpi_addr + ph->p_vaddr + ph->p_memsz + ct_cfg.page_size - 1) &
                       ~(uintptr_t)(ct_cfg.page_size - 1);
        if (!ct_cfg.self_start || lo < ct_cfg.self_start)
            ct_cfg.self_start = lo;
        if (hi > ct_cfg.self_end)
            ct_cfg.self_end = hi;
    }
    return 1;
}

static int resolve_dir(const char *dir)
{
    if (dir[0] == '/') {
        if (strlen(dir) >= sizeof ct_cfg.dir)
            return -ENAMETOOLONG;
        strcpy(ct_cfg.dir, dir);
        return 0;
    }
    char cwd[PATH_MAX];
    if (!getcwd(cwd, sizeof cwd))
        return -errno;
    if (strlen(cwd) + 1 + strlen(dir) >= sizeof ct_cfg.dir)
        return -ENAMETOOLONG;
    strcpy(ct_cfg.dir, cwd);
    strcat(ct_cfg.dir, "/");
    strcat(ct_cfg.dir, dir);
    return 0;
}

__attribute__((constructor)) static void ct_init(void)
{
    int saved_errno = errno;
    ct_cfg.page_size = sysconf(_SC_PAGESIZE);
    ct_cfg.page_shift = __builtin_ctzl((unsigned long)ct_cfg.page_size);
    dl_iterate_phdr(find_self, (void *)(uintptr_t)&ct_init);
    ct_release_hooks_init();

    /* A backend's name, or auto (NULL: backends.c walks its auto list). */
    const char *mode = getenv("COWTRACE_MODE");
    ct_cfg.requested_backend = NULL;
    if (mode && *mode && strcmp(mode, "auto") != 0 && !(ct_cfg.requested_backend = ct_backend_named(mode))) {
        ct_warn("unknown COWTRACE_MODE", mode, 0);
        goto out;
    }
    const char *flush = getenv("COWTRACE_FLUSH_MS");
    ct_cfg.flush_ms = 100;
    if (flush && *flush) {
        char *end;
        unsigned long v = strtoul(flush, &end, 10);
        if (*end || v > 3600000) {
            ct_warn("bad COWTRACE_FLUSH_MS", flush, 0);
            goto out;
        }
        ct_cfg.flush_ms = (unsigned)v;
    }

    const char *stacks = getenv("COWTRACE_STACKS");
    ct_cfg.stack_mode = 3;
    if (stacks && *stacks) {
        if (!strcmp(stacks, "none") || !strcmp(stacks, "0"))
            ct_cfg.stack_mode = 0;
        else if (!strcmp(stacks, "native"))
            ct_cfg.stack_mode = 1;
        else if (!strcmp(stacks, "python"))
            ct_cfg.stack_mode = 2;
        else if (strcmp(stacks, "both") != 0) {
            ct_warn("bad COWTRACE_STACKS (none, native, python, both)", stacks, 0);
            goto out;
        }
    }
    const char *depth = getenv("COWTRACE_STACK_DEPTH");
    ct_cfg.stack_depth = 32;
    if (depth && *depth) {
        char *end;
        unsigned long v = strtoul(depth, &end, 10);
        if (*end || v < 1 || v > CT_MAX_STACK_DEPTH) {
            ct_warn("bad COWTRACE_STACK_DEPTH (1 to 128)", depth, 0);
            goto out;
        }
        ct_cfg.stack_depth = (int)v;
    }

    const char *capture = getenv("COWTRACE_CAPTURE_PAGES");
    ct_cfg.capture_pages = capture && *capture && strcmp(capture, "0") != 0;

    const char *freeze = getenv("COWTRACE_GC_FREEZE");
    ct_cfg.gc_freeze = freeze && *freeze && strcmp(freeze, "0") != 0;

    const char *dir = getenv("COWTRACE_DIR");
    if (!dir || !*dir)
        dir = "cowtrace.out";
    int r = resolve_dir(dir);
    if (r < 0) {
        ct_warn("trace directory", dir, -r);
        goto out;
    }
    if (access(ct_cfg.dir, W_OK | X_OK) != 0) {
        ct_warn("trace directory", ct_cfg.dir, errno);
        goto out;
    }
    if (pthread_atfork(fork_prepare, fork_parent, fork_child) != 0) {
        ct_warn("cannot register fork handlers", NULL, 0);
        goto out;
    }
    on_exit(at_exit, NULL);
    ct_cfg.enabled = 1;
out:
    errno = saved_errno;
}
