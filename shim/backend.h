/*
 * backend.h - a write-tracking method behind one operations table.
 *
 * Promise: the lifecycle (lifecycle.c) and the interposers (hooks_*.c) reach
 * a backend only through this table and the inline wrappers below; they
 * never name one, and they see no backend's private state. A backend is one
 * `struct ct_backend_ops` (backend_<name>.c) and one line in backends.c's
 * tables; the kernel features it needs are probed once per child
 * (kerndat.c). When no backend tracks this process (the original process,
 * a child whose set-up failed or stopped), every wrapper costs one relaxed
 * load of a pointer and a predictable branch.
 *
 * Order of the calls in a child (lifecycle.c): probe (one backend, or the
 * auto list in order, until one says yes); the private state is allocated;
 * plan; prepare; the PRESENT pages are read; start; then run-time calls
 * until flush (exit, exec) or stop (tracking gives up). forget_inherited
 * runs in a grandchild, on the state its traced parent left it.
 *
 * probe, plan, start, stop and forget_inherited are required; every other
 * function may be NULL (nothing to do). Functions marked HANDLER may run in
 * a signal handler of ours or in the flusher process: they keep sys.h's
 * rules (raw system calls, no errno, no allocation, no locks a handler
 * could re-enter).
 */
#ifndef COWTRACE_BACKEND_H
#define COWTRACE_BACKEND_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct ct_state;

struct ct_backend_ops {
    uint32_t mode;             /* enum ct_mode: the header and PROCESS record; its
                                * name (COWTRACE_MODE) is ct_mode_word(mode) */
    bool precise;              /* sees each first write as it happens (a fault per
                                * page): evidence per write; otherwise it learns
                                * page sets by scanning, summarized per page */
    bool stacks;               /* can capture the stack of a write */
    bool fault_signals;        /* the program's first writes raise SIGSEGV/SIGBUS,
                                * which must stay deliverable in every thread */
    const char *auto_says;     /* the PROCESS reason when the auto walk picks it */
    size_t state_size;         /* its private state (st->backend_state), zeroed */

    /* Set-up, in this order. probe: can it run here? May open a descriptor
     * into st->backend_fd (closed by the lifecycle); on failure *why says
     * why, for the user. plan: each region's tracking before anything is
     * protected. prepare: what must happen before the PRESENT pages are read
     * (NULL, or a failure text). start: protections and handlers in;
     * regions the kernel refuses turn untracked; 0 or -errno. */
    int (*probe)(struct ct_state *st, const char **why);
    void (*plan)(struct ct_state *st);
    const char *(*prepare)(struct ct_state *st);
    int (*start)(struct ct_state *st);

    /* Run time. The kernel is about to write [p,
     * p+len) for the program / has written the first `done` bytes with
     * system call `nr` / has written an unknown part of it. HANDLER. */
    void (*kwrite_begin)(const void *p, size_t len);
    void (*kwrite_end)(const void *p, size_t len, size_t done, long nr, void *caller);
    void (*kwrite_end_probe)(const void *p, size_t len, long nr, void *caller);
    /* [lo, hi) is about to leave the process (munmap, MADV_DONTNEED, a
     * block glibc hands back). Any thread of the program, not a handler. */
    void (*before_release)(uintptr_t lo, uintptr_t hi);

    /* The end. flush: record what is still unrecorded (exit, exec);
     * keep_lock: nothing may be recorded after it. stop: drop every
     * protection, the program runs on untraced. forget_inherited: a
     * grandchild undoes what it inherited (handlers, protections, memory). */
    void (*flush)(struct ct_state *st, int keep_lock);
    /* A helper process of the backend (uffd-async's flusher) must not live
     * through what follows: flush ends it before an exec; pause_helpers
     * before a change of credentials; resume_helpers starts it again after
     * a failed exec or the change. From a program thread, not a handler. */
    void (*pause_helpers)(struct ct_state *st);
    void (*resume_helpers)(struct ct_state *st);
    void (*stop)(struct ct_state *st);
    void (*forget_inherited)(struct ct_state *old);
};

/* ---- the tables (backends.c) ---------------------------------------------- */

/* Every backend by COWTRACE_MODE name; NULL if none is called that. */
const struct ct_backend_ops *ct_backend_named(const char *name);
/* Choose this child's backend: the requested one, or the first of the auto
 * list whose probe succeeds. Sets st->backend, st->backend_fd and
 * writes the reason (for the PROCESS record, or the warning) into
 * reason[cap]. 0, or -1 if none can run. */
int ct_backend_choose(struct ct_state *st, const struct ct_backend_ops *requested, char *reason,
                      size_t cap);

/* ---- kernel features, probed once per child (kerndat.c) ------------------- */

/* A uffd backend's probe: userfaultfd with `features` (UFFD_FEATURE_*)
 * enabled, opened into st->backend_fd. 0, or -1 with *why for the user:
 * `lacking` if the kernel has not all of them, and_needs's reason if that
 * further check (NULL: none; made after the features', before the open)
 * fails, or why userfaultfd cannot be had here. */
int ct_uffd_probe(struct ct_state *st, uint64_t features, const char *lacking, int (*and_needs)(const char **why),
                  const char **why);
/* Does PAGEMAP_SCAN exist? 0, or -1 with *why. */
int ct_kerndat_pagemap_scan(const char **why);
/* 1 if a probe already found PAGEMAP_SCAN; never probes itself. */
int ct_kerndat_pagemap_scan_known(void);
void ct_kerndat_forget(void);          /* a new child: probe again */

/* ---- the backend tracking this process ------------------------------------ */

/* Set by the lifecycle just before start, cleared when tracking stops and in
 * every new child: NULL whenever no backend tracks this process. */
extern const struct ct_backend_ops *_Atomic ct_active_backend;

static inline const struct ct_backend_ops *ct_backend_active(void)
{
    return atomic_load_explicit(&ct_active_backend, memory_order_relaxed);
}

/* Does a backend need the kernel's writes into the program's memory
 * announced (the ct_kwrite_* calls)? The interposers skip their work if not. */
static inline bool ct_kwrites_watched(void)
{
    const struct ct_backend_ops *b = ct_backend_active();
    return __builtin_expect(b != NULL, 0) && b->kwrite_begin;
}

/* Before the kernel writes [p, p+len) for the program: make it writable. */
static inline void ct_kwrite_begin(const void *p, size_t len)
{
    const struct ct_backend_ops *b = ct_backend_active();
    if (__builtin_expect(b != NULL, 0) && b->kwrite_begin)
        b->kwrite_begin(p, len);
}

/* After: the first `done` bytes were written by system call `nr`. */
static inline void ct_kwrite_end(const void *p, size_t len, size_t done, long nr, void *caller)
{
    const struct ct_backend_ops *b = ct_backend_active();
    if (__builtin_expect(b != NULL, 0) && b->kwrite_end)
        b->kwrite_end(p, len, done, nr, caller);
}

/* After, when the count is unknown: pages the call left exclusive were written. */
static inline void ct_kwrite_end_probe(const void *p, size_t len, long nr, void *caller)
{
    const struct ct_backend_ops *b = ct_backend_active();
    if (__builtin_expect(b != NULL, 0) && b->kwrite_end_probe)
        b->kwrite_end_probe(p, len, nr, caller);
}

/* Does a backend need to see memory before it leaves? */
static inline bool ct_releases_watched(void)
{
    const struct ct_backend_ops *b = ct_backend_active();
    return __builtin_expect(b != NULL, 0) && b->before_release;
}

/* [lo, hi) is about to leave the process. */
static inline void ct_before_release_range(uintptr_t lo, uintptr_t hi)
{
    const struct ct_backend_ops *b = ct_backend_active();
    if (__builtin_expect(b != NULL, 0) && b->before_release && hi > lo)
        b->before_release(lo, hi);
}

/* The same for [p, p+len): for interposers of calls that release memory. */
static inline void ct_before_release(const void *p, size_t len)
{
    uintptr_t lo = (uintptr_t)p;
    if (len && lo + len > lo)
        ct_before_release_range(lo, lo + len);
}

#endif
