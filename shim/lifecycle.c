/*
 * lifecycle.c - tracking in a forked child: set-up, the end, exec.
 *
 * ct_child_after_fork runs in the child from the fork handler, before fork()
 * returns there. It discards what a grandchild inherited from its traced
 * parent, chooses a backend (backends.c: the one COWTRACE_MODE names, or
 * the first of the auto order that can run), opens the trace file, protects
 * the regions and records what was present. If anything
 * fails the child runs on untraced after one line on stderr. ct_finish
 * writes the end record from exit and _exit.
 *
 * Promise: this file drives every backend through struct ct_backend_ops
 * (backend.h) in the documented order and names none of them.
 */
#include <errno.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <time.h>

#include "ct_shim.h"

struct ct_state *ct_st;
const struct ct_backend_ops *_Atomic ct_active_backend;

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
        goto fail_file;
    }
    const char *failed = b->prepare ? b->prepare(st) : NULL;
    if (failed) {
        ct_warn(failed, NULL, 0);
        goto fail_file;
    }
    if (ct_pagemap_record_present(st)) {
        ct_warn("trace file", st->w.path, ENOSPC);
        goto fail_file;
    }
    /* Published before protection: the fault handler looks regions up here,
     * and the interposers must call the backend from the first protected
     * page on. */
    ct_st = st;
    atomic_store(&ct_active_backend, b);
    r = b->start(st);
    if (r) {
        ct_stop_tracking("cannot protect memory");
        return;
    }
    if (write_regions(st) || ct_pagemap_record_early(st)) {
        ct_stop_tracking("the trace file cannot grow");
        return;
    }
    atomic_store(&st->active, 1);
    return;

fail_file:
    ct_sys1(SYS_unlink, st->w.path);
    ct_writer_abandon(&st->w);
fail:
    if (st->backend_fd >= 0)
        ct_close(st->backend_fd);
    ct_close(st->pagemap_fd);
    ct_arena_discard();
}

void ct_child_after_fork(void)
{
    atomic_store(&ct_active_backend, NULL);
    ct_probes_forget();
    ct_kerndat_forget();
    discard_inherited();
    if (!ct_cfg.enabled)
        return;
    setup();
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
