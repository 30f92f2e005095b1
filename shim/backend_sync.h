/*
 * backend_sync.h - the core the two synchronous backends (uffd, mprotect)
 * share, for backend_uffd.c and backend_mprotect.c only.
 *
 * Promise: a backend built on this core gets the fault handler, the
 * kernel-write protocol and the end of tracking; it supplies a probe and
 * says whether anonymous memory is write-protected with userfaultfd (file
 * mappings always use mprotect: userfaultfd does not protect them).
 */
#ifndef COWTRACE_BACKEND_SYNC_H
#define COWTRACE_BACKEND_SYNC_H

#include "ct_shim.h"

#define CT_MAX_EXCL 8

/* A sync backend's private state (st->backend_state). */
struct ct_sync_state {
    _Atomic long vma_delta;    /* mprotect: VMAs our unprotects added */
    long vma_budget;
    void *altstack;            /* ours, if the program had none */
    size_t altstack_size;
    int nexcl;                 /* ranges never protected (signal stacks, TLS) */
    uintptr_t excl[CT_MAX_EXCL][2];
    _Atomic uint64_t **open;   /* per region (by index): page currently writable */
};

/* Which regions each method takes; uffd_for_anonymous: userfaultfd (in
 * st->backend_fd) protects anonymous memory, mprotect the rest. */
void ct_sync_plan(struct ct_state *st, int uffd_for_anonymous);

/* The rest of the ops are the same for both; fill them in with this. */
#define CT_SYNC_OPS                                     \
    .precise = true,                                    \
    .stacks = true,                                     \
    .fault_signals = true,                              \
    .state_size = sizeof(struct ct_sync_state),         \
    .start = ct_sync_start,                             \
    .kwrite_begin = ct_sync_kwrite_begin,               \
    .kwrite_end = ct_sync_kwrite_end,                   \
    .kwrite_end_probe = ct_sync_kwrite_end_probe,       \
    .stop = ct_sync_stop,                               \
    .forget_inherited = ct_sync_forget_inherited

int ct_sync_start(struct ct_state *st);
void ct_sync_kwrite_begin(const void *p, size_t len);
void ct_sync_kwrite_end(const void *p, size_t len, size_t done, long nr, void *caller);
void ct_sync_kwrite_end_probe(const void *p, size_t len, long nr, void *caller);
void ct_sync_stop(struct ct_state *st);
void ct_sync_forget_inherited(struct ct_state *old);

#endif
