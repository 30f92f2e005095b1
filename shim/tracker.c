/*
 * tracker.c - tracking in a forked child: set-up, backend choice, the end.
 *
 * ct_child_after_fork runs in the child from the fork handler, before fork()
 * returns there. It discards what a grandchild inherited from its traced
 * parent, chooses a backend (uffd-async, then uffd, then mprotect, unless
 * one is forced), opens the trace file, protects the regions and records
 * what was present. If anything fails the child runs on untraced after one
 * line on stderr. ct_finish writes the end record from exit and _exit.
 */
#include <errno.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/prctl.h>

#include "ct_shim.h"
#include "kernel_compat.h"

struct ct_state *ct_st;

/* ---- the shim at work --------------------------------------------------------
 *
 * Threads inside the shim's own work: capturing a stack, setting up. The
 * unwinder writes caches in memory it mapped in an ancestor - inherited, so
 * tracked here - and a fault on it must not re-enter the unwinder: it is the
 * shim writing, not the program, so the page is opened and nothing is
 * recorded. A small set of thread ids rather than a thread-local: TLS may
 * itself be tracked.
 */
#define CT_BUSY_SLOTS 64
static _Atomic int busy_tids[CT_BUSY_SLOTS];

int ct_busy_enter(void)
{
    int tid = ct_gettid();
    for (int i = 0; i < CT_BUSY_SLOTS; i++) {
        int expected = 0;
        if (atomic_compare_exchange_strong(&busy_tids[i], &expected, tid))
            return i;
    }
    return -1;   /* more threads at once than slots: the extras skip the work */
}

void ct_busy_leave(int slot)
{
    if (slot >= 0)
        atomic_store(&busy_tids[slot], 0);
}

int ct_shim_busy(void)
{
    int tid = 0;
    for (int i = 0; i < CT_BUSY_SLOTS; i++) {
        int t = atomic_load_explicit(&busy_tids[i], memory_order_relaxed);
        if (t) {
            if (!tid)
                tid = ct_gettid();
            if (t == tid)
                return 1;
        }
    }
    return 0;
}



void ct_signal_give_back(int sig);

static void discard_inherited(void)
{
    struct ct_state *old = ct_st;
    if (!old)
        return;
    ct_sync_forget_inherited();
    ct_writer_abandon(&old->w);
    if (old->uffd >= 0)
        ct_close(old->uffd);
    if (old->pagemap_fd >= 0)
        ct_close(old->pagemap_fd);
    if (old->flusher_stack)
        ct_munmap(old->flusher_stack, old->flusher_stack_size);
    ct_st = NULL;
    ct_arena_discard();
}

/* Pick the backend; on success st->mode, st->mode_reason and st->uffd are set. */
static int choose_mode(struct ct_state *st, char *reason, size_t cap)
{
    const char *why_async = NULL, *why_uffd = NULL;
    (void)why_async;
    int req = ct_cfg.requested_mode;
    char *p = reason, *end = reason + cap - 1;
#define SAY(s) do { for (const char *q_ = (s); *q_ && p < end; q_++) *p++ = *q_; *p = 0; } while (0)
    /* auto means precise: a backend that sees each first write. uffd-async
     * (page sets only, nearly free) runs when asked for. */
    if (req == CT_MODE_UFFD_ASYNC) {
        st->uffd = ct_uffd_async_probe(&why_async);
        if (st->uffd >= 0) {
            st->mode = CT_MODE_UFFD_ASYNC;
            SAY("requested");
            return 0;
        }
        SAY("uffd-async unavailable: ");
        SAY(why_async);
        return -1;
    }
    if (req == CT_MODE_NONE || req == CT_MODE_UFFD) {
        st->uffd = ct_uffd_sync_probe(&why_uffd);
        if (st->uffd >= 0) {
            st->mode = CT_MODE_UFFD;
            SAY(req ? "requested" : "auto: userfaultfd write-protection available (precise)");
            return 0;
        }
        if (req) {
            SAY("uffd unavailable: ");
            SAY(why_uffd);
            return -1;
        }
    }
    st->mode = CT_MODE_MPROTECT;
    if (req) {
        SAY("requested");
    } else {
        SAY("auto: uffd unavailable (");
        SAY(why_uffd);
        SAY("), mprotect (precise)");
    }
    return 0;
#undef SAY
}

static int write_process(struct ct_state *st)
{
    char exe[PATH_MAX] = "";
    long n = ct_sys4(SYS_readlinkat, AT_FDCWD, "/proc/self/exe", exe, sizeof exe - 1);
    if (!ct_is_err(n))
        exe[n] = 0;
    char comm[17] = "";
    ct_sys2(SYS_prctl, PR_GET_NAME, comm);
    return ct_rec_process(&st->w, (uint32_t)st->mode, st->mode == CT_MODE_UFFD_ASYNC ? ct_cfg.flush_ms : 0,
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
    st->ppid = ct_cfg.fork_parent;
    st->uffd = -1;
    st->w.fd = -1;
    st->mode_reason = reason;
    long pm = ct_openat(AT_FDCWD, "/proc/self/pagemap", O_RDONLY | O_CLOEXEC, 0);
    if (ct_is_err(pm)) {
        ct_warn("cannot read /proc/self/pagemap", NULL, -pm);
        ct_arena_discard();
        return;
    }
    st->pagemap_fd = (int)pm;
    if (choose_mode(st, reason, 1024)) {
        ct_warn(reason, NULL, 0);
        ct_close(st->pagemap_fd);
        ct_arena_discard();
        return;
    }
    int r = ct_maps_read(&st->regions, &st->nregions);
    if (r) {
        ct_warn("cannot read /proc/self/maps", NULL, -r);
        goto fail;
    }
    if (st->mode == CT_MODE_UFFD_ASYNC) {
        for (uint32_t i = 0; i < st->nregions; i++)
            st->regions[i].tracking = CT_TRACK_UFFD_ASYNC;
    } else {
        ct_sync_plan(st);
    }

    struct ct_header h = {
        .version = CT_FORMAT_VERSION,
        .header_size = CT_HEADER_SIZE,
        .page_size = (uint32_t)ct_cfg.page_size,
        .pid = st->pid,
        .ppid = st->ppid,
        .mode = (uint32_t)st->mode,
        .fork_time_ns = ct_clock_ns(0 /* CLOCK_REALTIME */),
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
    if (st->mode == CT_MODE_UFFD_ASYNC && ct_uffd_async_start_flusher(st) != 0) {
        ct_warn("cannot start the flusher thread", NULL, 0);
        goto fail_file;
    }
    if (ct_pagemap_record_present(st)) {
        ct_warn("trace file", st->w.path, ENOSPC);
        goto fail_file;
    }
    /* Published before protection: the fault handler looks regions up here. */
    ct_st = st;
    r = st->mode == CT_MODE_UFFD_ASYNC ? ct_uffd_async_start(st) : ct_sync_start(st);
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
    if (st->uffd >= 0)
        ct_close(st->uffd);
    ct_close(st->pagemap_fd);
    ct_arena_discard();
}

void ct_child_after_fork(void)
{
    atomic_store(&ct_async_watch, 0);
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
    if (st->mode == CT_MODE_UFFD_ASYNC) {
        ct_uffd_async_stop(st);
    } else {
        ct_sync_release_all(st);
        if (st->uffd >= 0)
            ct_close(st->uffd);
        st->uffd = -1;
    }
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
    if (st->mode == CT_MODE_UFFD_ASYNC)
        ct_uffd_async_final_scan(st, 1);
    atomic_store(&st->active, 0);
    ct_rec_end(&st->w, how, status, ct_clock_ns(0), atomic_load(&st->faults), atomic_load(&st->scans));
    ct_writer_finish(&st->w);
}

void ct_before_exec(const char *path)
{
    struct ct_state *st = ct_st;
    if (!st || st->pid != ct_getpid() || atomic_load(&st->finishing))
        return;
    if (st->mode == CT_MODE_UFFD_ASYNC)
        ct_uffd_async_final_scan(st, 0);
    ct_rec_exec(&st->w, path ? path : "");
}

void ct_after_failed_exec(void)
{
    struct ct_state *st = ct_st;
    if (!st || st->pid != ct_getpid() || atomic_load(&st->finishing))
        return;
    ct_rec_note(&st->w, CT_NOTE_INFO, "exec failed; tracing goes on");
}
