/*
 * lifecycle.c - tracking in a forked child: set-up, the end, exec.
 *
 * ct_child_after_fork runs in the child from the fork handler, before fork()
 * returns there. It discards what a grandchild inherited from its traced
 * parent, chooses a backend (backends.c: the one COWTRACE_MODE names, or
 * the first of the auto order that can run), opens the trace file, records
 * what was present and what the child had already written, and protects
 * the regions. If anything fails the child runs on untraced after one line
 * on stderr. ct_finish writes the end record from exit and _exit.
 *
 * The parent's fork() waits (entry.c) only until the child has read its
 * page sets (pagemap.c): a page the parent writes after that turns
 * exclusive in the child, but is no longer looked at; protection, the
 * REGION records and the page sets' copy into the file follow while the
 * parent runs on. So that the child itself writes no inherited page between
 * that reading and protection, that part runs on a stack the shim maps
 * for it, the page sets go to a memory writer (the REGION records they
 * refer to come after protection, and a trace cut short must never hold a
 * page record of a region it lacks), and everything that writes libc's or
 * the loader's memory (the flusher's pthread_create, dl_iterate_phdr) runs
 * before the reading. Without room in the arena for the memory writer (a
 * huge address space) the page sets go straight to the file and the parent
 * waits to the end, as it did before; without that stack the child runs
 * untraced.
 *
 * Promise: this file drives every backend through struct ct_backend_ops
 * (backend.h) in the documented order and names none of them; the parent is
 * released exactly once, on every path.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <time.h>
#include <ucontext.h>

#include "ct_shim.h"

struct ct_state *ct_st;
const struct ct_backend_ops *_Atomic ct_active_backend;

#define CT_SETUP_STACK (256u << 10)
#define CT_PAGES_BUF_MAX (256u << 20)   /* of the 1 GiB arena */

/* The parent's end of the wait (entry.c), -1 once released. */
static int release_fd = -1;

static void release_parent(void)
{
    if (release_fd < 0)
        return;
    ct_write(release_fd, "", 1);
    ct_close(release_fd);
    release_fd = -1;
}

static void discard_inherited(void)
{
    struct ct_state *old = ct_st;
    if (!old)
        return;
    old->backend->forget_inherited(old);
    ct_writer_abandon(&old->w);
    if (old->backend_fd >= 0)
        ct_close(old->backend_fd);
    if (old->pagemap_fd >= 0)
        ct_close(old->pagemap_fd);
    ct_st = NULL;
    ct_arena_discard();
}

static int write_process(struct ct_state *st)
{
    char exe[PATH_MAX] = "";
    long n = ct_sys4(SYS_readlinkat, AT_FDCWD, "/proc/self/exe", exe, sizeof exe - 1);
    if (!ct_is_err(n))
        exe[n] = 0;
    char comm[17] = "";
    ct_sys2(SYS_prctl, PR_GET_NAME, comm);
    /* A backend that scans (not precise) does so every flush_ms. */
    return ct_rec_process(&st->w, st->backend->mode, st->backend->precise ? 0 : ct_cfg.flush_ms,
                          st->mode_reason, exe, comm);
}

static int write_regions(struct ct_state *st)
{
    for (uint32_t i = 0; i < st->nregions; i++) {
        const struct ct_region *r = &st->regions[i];
        struct ct_region_desc d = {
            .id = r->id, .kind = r->kind, .prot = r->prot, .tracking = r->tracking,
            .untracked_reason = r->untracked_reason, .start = r->start, .end = r->end,
            .file_offset = r->file_offset, .inode = r->inode, .name = r->name,
        };
        if (ct_rec_region(&st->w, &d))
            return -ENOSPC;
    }
    return 0;
}

static void close_descriptors(struct ct_state *st)
{
    if (st->backend_fd >= 0)
        ct_close(st->backend_fd);
    ct_close(st->pagemap_fd);
}

/* The set-up failed after it made the trace file: the file goes, with the
 * descriptors. After b->prepare (`prepared`) the backend stops first, and
 * the arena stays: a flusher thread may run, and reads the arena until it
 * sees b->stop's word. */
static void fail_file(struct ct_state *st, bool prepared)
{
    if (prepared && st->backend->stop)
        st->backend->stop(st);
    ct_sys1(SYS_unlink, st->w.path);
    ct_writer_abandon(&st->w);
    close_descriptors(st);
    if (!prepared)
        ct_arena_discard();
}

/* What runs once the page sets can be read: on the set-up stack. */
static struct ct_state *late_st;
static struct ct_writer *late_pages;   /* a memory writer, or NULL: the file, and a late release */

static void read_protect_record(void)
{
    struct ct_state *st = late_st;
    const struct ct_backend_ops *b = st->backend;
    struct ct_writer *pw = late_pages ? late_pages : &st->w;
    const char *failed;
    int r = ct_pagemap_record_setup(st, pw, &failed);
    if (r) {
        if (failed)
            ct_warn(failed, NULL, -r);
        else if (late_pages)   /* more than ct_pagemap_setup_bytes said: a bug of ours */
            ct_warn("the page sets outgrew their buffer", NULL, 0);
        else
            ct_warn("trace file", st->w.path, -r);
        fail_file(st, true);
        return;
    }
    if (late_pages)
        release_parent();
    /* Published before protection: the fault handler looks regions up here,
     * and the interposers must call the backend from the first protected
     * page on. */
    ct_st = st;
    atomic_store(&ct_active_backend, b);
    if (b->start(st)) {
        ct_stop_tracking("cannot protect memory");
        return;
    }
    if (write_regions(st) || (late_pages && ct_rec_copy(&st->w, late_pages))) {
        ct_stop_tracking("the trace file cannot grow");
        return;
    }
    atomic_store(&st->active, 1);
}

/* Runs read_protect_record on a stack of our own, mapped after the regions
 * were listed (so it is none of them) and unmapped before the child goes
 * on (so no grandchild inherits it), with every asynchronous signal held
 * back: a program handler run in there would write inherited pages that
 * neither the reading nor protection sees. 0, or -1 if there is no stack. */
static int on_setup_stack(void)
{
    static ucontext_t setup_ctx, caller_ctx;   /* the shim's memory, not the program's */
    size_t guard = (size_t)ct_cfg.page_size;
    char *stack = ct_mmap(NULL, guard + CT_SETUP_STACK, PROT_READ | PROT_WRITE,
                          MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (!stack)
        return -1;
    sigset_t held, old;
    sigfillset(&held);
    static const int synchronous[] = {SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGTRAP, SIGSYS};
    for (unsigned i = 0; i < sizeof synchronous / sizeof *synchronous; i++)
        sigdelset(&held, synchronous[i]);
    ct_sys4(SYS_rt_sigprocmask, SIG_BLOCK, &held, &old, _NSIG / 8);
    int r = -1;
    if (!ct_is_err(ct_mprotect(stack, guard, PROT_NONE)) && !getcontext(&setup_ctx)) {
        setup_ctx.uc_stack.ss_sp = stack + guard;
        setup_ctx.uc_stack.ss_size = CT_SETUP_STACK;
        setup_ctx.uc_link = &caller_ctx;
        makecontext(&setup_ctx, read_protect_record, 0);
        r = swapcontext(&caller_ctx, &setup_ctx);
    }
    ct_sys4(SYS_rt_sigprocmask, SIG_SETMASK, &old, NULL, _NSIG / 8);
    ct_munmap(stack, guard + CT_SETUP_STACK);
    return r ? -1 : 0;
}

static void setup(void)
{
    if (ct_arena_init()) {
        ct_warn("cannot map memory for tracking", NULL, ENOMEM);
        return;
    }
    struct ct_state *st = ct_arena_alloc(sizeof *st);
    char *reason = ct_arena_alloc(1024);
    if (!st || !reason) {
        ct_arena_discard();
        return;
    }
    st->pid = ct_getpid();
    ct_tid_learn();   /* fork gave this thread a new id: learn where glibc keeps it */
    st->ppid = ct_cfg.fork_parent;
    st->backend_fd = -1;
    st->w.fd = -1;
    st->mode_reason = reason;
    long pm = ct_openat(AT_FDCWD, "/proc/self/pagemap", O_RDONLY | O_CLOEXEC, 0);
    if (ct_is_err(pm)) {
        ct_warn("cannot read /proc/self/pagemap", NULL, -pm);
        ct_arena_discard();
        return;
    }
    st->pagemap_fd = (int)pm;
    if (ct_backend_choose(st, ct_cfg.requested_backend, reason, 1024)) {
        ct_warn(reason, NULL, 0);
        ct_close(st->pagemap_fd);
        ct_arena_discard();
        return;
    }
    const struct ct_backend_ops *b = st->backend;
    if (b->state_size && !(st->backend_state = ct_arena_alloc(b->state_size))) {
        ct_warn("cannot map memory for tracking", NULL, ENOMEM);
        goto fail;
    }
    int r = ct_maps_read(&st->regions, &st->nregions);
    if (r) {
        ct_warn("cannot read /proc/self/maps", NULL, -r);
        goto fail;
    }
    b->plan(st);

    struct ct_header h = {
        .version = CT_FORMAT_VERSION,
        .header_size = CT_HEADER_SIZE,
        .page_size = (uint32_t)ct_cfg.page_size,
        .pid = st->pid,
        .ppid = st->ppid,
        .mode = st->backend->mode,
        .fork_time_ns = ct_clock_ns(CLOCK_REALTIME),
        .fork_nonce = ct_cfg.fork_counter,
        .flags = ct_cfg.capture_pages ? CT_HDR_RAW_PAGES : 0,
    };
    ct_memcpy(h.magic, CT_MAGIC, 8);
    r = ct_writer_create(&st->w, ct_cfg.dir, &h);
    if (r) {
        ct_warn("cannot create a trace file in", ct_cfg.dir, -r);
        goto fail;
    }
    if (write_process(st) || ct_py_setup(st) || ct_modules_record(st) || ct_stacks_setup(st)) {
        ct_warn("trace file", st->w.path, ENOSPC);
        fail_file(st, false);
        return;
    }
    /* The page sets' memory writer: fresh arena pages, touched only as far
     * as records reach. Too big for the arena (a huge address space), the
     * page sets go straight to the file and the parent waits to the end. */
    static struct ct_writer pages_w;
    size_t bound = sizeof(struct ct_header) + ct_pagemap_setup_bytes(st) + CT_WRITER_FINAL_RESERVE;
    void *buf = bound <= CT_PAGES_BUF_MAX ? ct_arena_alloc(bound) : NULL;
    late_pages = NULL;
    if (buf) {
        ct_writer_init_zeroed(&pages_w, buf, bound, &h);
        late_pages = &pages_w;
    }
    const char *failed = b->prepare ? b->prepare(st) : NULL;
    if (failed) {
        ct_warn(failed, NULL, 0);
        fail_file(st, false);
        return;
    }
    late_st = st;
    if (on_setup_stack()) {
        ct_warn("cannot map memory for tracking", NULL, ENOMEM);
        fail_file(st, true);
    }
    return;

fail:
    close_descriptors(st);
    ct_arena_discard();
}

void ct_child_after_fork(int parent_waits_on)
{
    release_fd = parent_waits_on;
    atomic_store(&ct_active_backend, NULL);
    ct_probes_forget();
    ct_kerndat_forget();
    discard_inherited();
    if (ct_cfg.enabled)
        setup();
    release_parent();
}

void ct_stop_tracking(const char *why)
{
    struct ct_state *st = ct_st;
    if (!st || atomic_exchange(&st->stopped, 1))
        return;
    atomic_store(&st->active, 0);
    atomic_store(&ct_active_backend, NULL);
    st->backend->stop(st);
    if (st->backend_fd >= 0)
        ct_close(st->backend_fd);   /* a userfaultfd: unregisters every range */
    st->backend_fd = -1;
    char text[256];
    char *p = ct_stpcpy(text, "tracing stopped: ");
    ct_stpcpy(p, why);
    ct_rec_note(&st->w, CT_NOTE_INCOMPLETE, text);
    ct_warn(text, NULL, 0);
}

void ct_finish(uint32_t how, int status)
{
    struct ct_state *st = ct_st;
    if (!st || st->pid != ct_getpid() || atomic_exchange(&st->finishing, 1))
        return;
    if (st->backend->flush)
        st->backend->flush(st, 1);
    atomic_store(&st->active, 0);
    ct_rec_end(&st->w, how, status, ct_clock_ns(CLOCK_REALTIME), atomic_load(&st->faults), atomic_load(&st->scans));
    ct_writer_finish(&st->w);
}

void ct_before_exec(const char *path)
{
    struct ct_state *st = ct_st;
    if (!st || st->pid != ct_getpid() || atomic_load(&st->finishing))
        return;
    if (st->backend->flush)
        st->backend->flush(st, 0);
    ct_rec_exec(&st->w, path ? path : "");
}

void ct_after_failed_exec(void)
{
    struct ct_state *st = ct_st;
    if (!st || st->pid != ct_getpid() || atomic_load(&st->finishing))
        return;
    if (st->backend->resume_helpers)
        st->backend->resume_helpers(st);
    ct_rec_note(&st->w, CT_NOTE_INFO, "exec failed; tracing goes on");
}

void ct_pause_helpers(void)
{
    struct ct_state *st = ct_st;
    if (st && st->pid == ct_getpid() && !atomic_load(&st->finishing) && st->backend->pause_helpers)
        st->backend->pause_helpers(st);
}

void ct_resume_helpers(void)
{
    struct ct_state *st = ct_st;
    if (st && st->pid == ct_getpid() && !atomic_load(&st->finishing) && st->backend->resume_helpers)
        st->backend->resume_helpers(st);
}
