/*
 * entry.c - where the shim enters a process: its constructor, the fork
 * handlers and the exit hook.
 *
 * Promise: every process that loads the shim reads its configuration once
 * (config.c) and registers the fork handlers; nothing else happens in the
 * original process, which is never tracked, so everything here may use
 * libc. The only state written after start-up is the fork counter, in the
 * parent, before fork: a child never writes this module's memory. In the
 * child, fork() returns only after its tracking is set up (lifecycle.c);
 * in the parent, once the child has read the page sets that the parent's
 * own writes could blur.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdlib.h>

#include "ct_shim.h"

/* The parent waits (briefly) until the child has read which pages it
 * already wrote (lifecycle.c): a page the parent writes meanwhile would
 * turn exclusive in the child and read as written there before tracking
 * began. Per thread, because threads may fork at once. Created in the
 * parent, so a thread-local is fine. */
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

/* The child hands its end of the pipe to the lifecycle, which writes and
 * closes it when the parent may go on. */
static void fork_child(void)
{
    if (setup_pipe[0] >= 0)
        ct_close(setup_pipe[0]);
    ct_child_after_fork(setup_pipe[1]);
}

/* exit() hands on_exit handlers the status; atexit would not. Registered
 * before the program's own handlers, so it runs after them. */
static void at_exit(int status, void *arg)
{
    (void)arg;
    if (ct_traced_here())
        ct_finish(CT_END_EXIT, status);
}

__attribute__((constructor)) static void ct_init(void)
{
    int saved_errno = errno;
    ct_release_hooks_init();
    ct_signal_hooks_init();
    if (ct_config_read() == 0) {
        if (pthread_atfork(fork_prepare, fork_parent, fork_child) != 0) {
            ct_warn("cannot register fork handlers", NULL, 0);
        } else {
            on_exit(at_exit, NULL);
            ct_cfg.enabled = 1;
        }
    }
    errno = saved_errno;
}
