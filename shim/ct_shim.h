/*
 * ct_shim.h - the shim's one internal header.
 *
 * libcowtrace.so is preloaded into an unmodified program. In the original
 * process it only reads its configuration and registers fork handlers. In each
 * child made by fork() it write-tracks the memory the child inherited and logs
 * the pages the child writes into a trace file (common/ct_format.h).
 * docs/architecture.md follows the whole path, from fork to report.
 *
 * Modules:
 *   entry.c       the constructor, the fork handlers, the exit hook
 *   config.c      configuration from the environment
 *   warn.c        the one-line warning when tracing cannot happen
 *   maps.c        /proc/self/maps -> the regions a child inherited
 *   trace_file.c  the trace file: a preallocated file mapped MAP_SHARED, so
 *                 records survive SIGKILL and writing one is a memory store
 *   trace_records.c  the only code that lays out records: one encoder each
 *   runs.c        run-list encoding of page sets
 *   pagemap.c     pages present at fork, and pages written before tracking
 *   lifecycle.c   setting tracking up in a child, ending it, exec
 *   busy.c        which threads are inside the shim's own work
 *   backend.h     the backend interface: struct ct_backend_ops, call wrappers
 *   backends.c    the table of backends and the choice of one (auto order)
 *   kerndat.c     kernel features, probed once per child; the uffd backends' probe
 *   backend_uffd_async.c  uffd-async: WP_ASYNC + PAGEMAP_SCAN, flusher process
 *   backend_sync.c        the core of uffd and mprotect: first-write faults,
 *                         kernel writes (backend_sync.h is its interface to
 *                         backend_uffd.c and backend_mprotect.c, their ops
 *                         tables)
 *   kernel_compat.h  userfaultfd and PAGEMAP_SCAN definitions newer than the
 *                 system headers
 *   py/           CPython: which interpreter, and what object a write hit
 *                 (py/py.h; the version knowledge is common/pyver/)
 *   modules.c     the ELF objects mapped at fork, for offline symbolization
 *   stacks.c      native and Python stacks of first writes, deduplicated
 *   arena.c       the child's own memory
 *   glibc_heap.c  when glibc's free() may give memory back to the kernel
 *   hooks_*.c     interposed libc functions (exit/exec/wait, signals, I/O,
 *                 memory leaving the process, changes of credentials)
 *   sys.h, sys.c  raw system calls and string helpers that never touch errno
 *   jump.c        setjmp/longjmp of our own (registers only, no TLS)
 *
 * Invariants every module keeps:
 *   - After tracking starts, shim code never writes memory the child
 *     inherited: state lives in mappings the child made itself (the arena),
 *     system calls go through sys.h (no errno), nothing calls malloc.
 *   - Code reachable from a signal handler or the flusher is
 *     async-signal-safe, and the flusher's touches no TLS (it has no thread
 *     block of its own: backend_uffd_async.c). The locks it takes are compare-and-swap spins:
 *     uffd-async's scan_lock (held with the program's signals blocked, so
 *     no handler of ours waits for its own thread); the writer's grow_lock
 *     (held by a thread id: a handler that interrupted its own thread's
 *     growing refuses its record instead, trace_file.c); the wait for a
 *     stack id's record (stacks.c: a capture runs inside ct_busy_enter, so
 *     a fault nested in it is the shim's own and captures nothing); and, in
 *     the sync fault handler, the dynamic loader's lock, which libunwind takes
 *     (dl_iterate_phdr) - the loader's pages are never protected for that
 *     reason (backend_sync.c).
 */
#ifndef COWTRACE_CT_SHIM_H
#define COWTRACE_CT_SHIM_H

#include <limits.h>
#include <signal.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "ct_format.h"
#include "sys.h"
#include "trace_file.h"
#include "trace_records.h"

#define CT_EXPORT __attribute__((visibility("default")))
#define ct_likely(x) __builtin_expect(!!(x), 1)
#define ct_unlikely(x) __builtin_expect(!!(x), 0)

struct ct_state;

/* ---- configuration (config.c), warnings (warn.c) ------------------------ */

struct ct_config {
    int enabled;               /* tracing may start in children */
    const struct ct_backend_ops *requested_backend;   /* NULL = auto */
    unsigned flush_ms;         /* uffd-async scan interval; 0 = at exit only */
    long page_size;
    int page_shift;
    char dir[PATH_MAX];        /* absolute trace directory */
    uintptr_t self_start, self_end; /* the shim's own mappings */
    int gc_freeze;             /* COWTRACE_GC_FREEZE: gc.freeze() before each fork */
    int stack_mode;            /* COWTRACE_STACKS: bit 0 native, bit 1 python */
    int capture_pages;         /* COWTRACE_CAPTURE_PAGES: raw page contents in the trace */
    int stack_depth;           /* COWTRACE_STACK_DEPTH: native frames kept */
    /* Written in the parent by the fork prepare handler, read by the child. */
    uint64_t fork_counter;
    int fork_parent;
    uint32_t gc_freeze_flags;  /* CT_PY_GC_FROZEN, CT_PY_GC_NOGIL or CT_PY_GC_FREEZE_FT for this fork */
    uint64_t py_hexversion;    /* the interpreter, once identified */
    uintptr_t py_runtime;
    uintptr_t py_dict_type;    /* &PyDict_Type: names dict keys tables */
    int py_shared;
    uint32_t py_alloc_flags;   /* CT_PY_NO_PYMALLOC etc.: the allocator at the last fork */
    int py_free_threaded;      /* Py_GIL_DISABLED build (identify.c) */
    char py_path[PATH_MAX];
};
extern struct ct_config ct_cfg;
int ct_config_read(void);   /* constructor: environment -> ct_cfg; 0 if tracing may start */

void ct_warn(const char *msg, const char *detail, long err);   /* one line on stderr */

/* ---- regions (maps.c) --------------------------------------------------- */

struct ct_region {
    uintptr_t start, end;
    uint32_t id;
    uint32_t kind;             /* enum ct_region_kind */
    uint32_t prot;             /* PROT_* at fork (the program's, not ours) */
    uint32_t tracking;         /* enum ct_tracking */
    uint32_t untracked_reason; /* enum ct_untrack_reason */
    uint32_t is_file;          /* file-backed private mapping */
    uint64_t file_offset, inode;
    const char *name;
    size_t npages;
    _Atomic uint64_t *seen;    /* page's first write recorded (uffd-async: its
                                * run and summary are in the trace) */
};

/* Page bitmaps of a region (seen, a backend's own): lock-free, any thread. */
static inline int ct_bit_test(_Atomic uint64_t *bm, size_t i)
{
    return (int)((atomic_load_explicit(&bm[i >> 6], memory_order_relaxed) >> (i & 63)) & 1);
}

static inline int ct_bit_test_and_set(_Atomic uint64_t *bm, size_t i)
{
    uint64_t m = 1ull << (i & 63);
    return (atomic_fetch_or_explicit(&bm[i >> 6], m, memory_order_relaxed) & m) != 0;
}

static inline void ct_bit_clear(_Atomic uint64_t *bm, size_t i)
{
    atomic_fetch_and_explicit(&bm[i >> 6], ~(1ull << (i & 63)), memory_order_relaxed);
}

/* Reads /proc/self/maps into regions allocated from the arena. */
int ct_maps_read(struct ct_region **out, uint32_t *count);

/* ---- arena: the child's own memory ---------------------------------------- */

int ct_arena_init(void);
void ct_arena_discard(void);
void *ct_arena_alloc(size_t size);     /* zeroed, 16-byte aligned; NULL when out */
int ct_arena_contains(uintptr_t a, uintptr_t *start, uintptr_t *end);

/* ---- run lists (runs.c) ------------------------------------------------- */

struct ct_runs {
    struct ct_writer *w;
    uint32_t type, region;
    uint64_t first_page;       /* of the record being built */
    uint64_t cursor;           /* page after the last emitted run */
    uint64_t run_start, run_len;
    size_t n;
    uint8_t buf[4000];
    int failed;
};

struct ct_py_summary {
    uintptr_t type;
    uint32_t type_index;
    uint32_t block_size;
    uint32_t objects;
    uint8_t where;
};

/* Page summaries (uffd-async): what each written page holds. Pages are
 * examined in batches (ct_py_summarize_batch), then encoded. */
#define CT_SUM_BATCH 64
struct ct_sums {
    struct ct_writer *w;
    struct ct_state *st;
    uint64_t base, last;       /* page addresses */
    uint32_t count;
    size_t n;
    uint8_t buf[4000];
    int failed;
    size_t npending;
    uintptr_t pending[CT_SUM_BATCH];
    struct ct_py_summary results[CT_SUM_BATCH];
};

void ct_sums_add(struct ct_sums *s, struct ct_state *st, uintptr_t page);
int ct_sums_end(struct ct_sums *s);

void ct_runs_begin(struct ct_runs *r, struct ct_writer *w, uint32_t type, uint32_t region);
void ct_runs_add(struct ct_runs *r, uint64_t page, uint64_t count);  /* increasing order */
int ct_runs_end(struct ct_runs *r);

/* ---- the traced child's state (lifecycle.c) ----------------------------- */

struct ct_state {
    int pid, ppid;
    const struct ct_backend_ops *backend;
    void *backend_state;       /* the backend's own, opaque to everyone else */
    int backend_fd;            /* the backend's descriptor (a userfaultfd), -1 if none */
    const char *mode_reason;
    int pagemap_fd;
    struct ct_writer w;
    struct ct_region *regions;
    uint32_t nregions;
    _Atomic int active;        /* tracking on; writes are being recorded */
    _Atomic int forking;       /* between our fork prepare and parent handlers */
    _Atomic int finishing;     /* the first finisher wins */
    _Atomic uint64_t faults;
    _Atomic uint64_t scans;
    _Atomic int stopped;       /* tracing gave up; protections are gone */
    struct ct_runs setup_runs; /* set-up only: PRESENT */
    struct ct_runs early_runs; /* set-up only: EARLY */
    uint64_t *pm_buf;          /* pagemap entries, set-up only */
    size_t pm_buf_len;
};

extern struct ct_state *ct_st;      /* NULL unless this process is traced */

/* Fork child handler: start tracking. Writes a byte to release_fd and
 * closes it (the parent's fork() then returns) as soon as the parent's
 * writes can no longer be mistaken for the child's; -1 for none. */
void ct_child_after_fork(int release_fd);
void ct_finish(uint32_t how, int status); /* exit/_exit: final records */
void ct_before_exec(const char *path);
void ct_after_failed_exec(void);
void ct_pause_helpers(void);    /* before a change of credentials: no helper keeps the old */
void ct_resume_helpers(void);   /* after it, done or failed */
void ct_stop_tracking(const char *why);   /* give up, leave the program alone */
struct ct_region *ct_region_of(uintptr_t addr);

static inline int ct_traced_here(void)
{
    struct ct_state *st = ct_st;
    return st && st->pid == ct_getpid();
}

/* ---- the shim at work (busy.c) and its own mappings (hooks_mmap.c) ------ */

int ct_busy_enter(void);             /* a slot, or -1 */
void ct_busy_leave(int slot);
int ct_shim_busy(void);              /* is this thread inside the shim's work? */
int ct_busy_enter_in_handler(void);  /* the same, from a fault handler of ours */
int ct_busy_in_handler(void);        /* inside the shim's work, in its fault handler? */
#define CT_OWN_MAPS 256
int ct_own_mapping(int i, uintptr_t *start, uintptr_t *end);   /* 0 past the last */

/* ---- stacks (stacks.c) -------------------------------------------------- */

#define CT_MAX_STACK_DEPTH 128
int ct_stacks_setup(struct ct_state *st);            /* child set-up */
uint32_t ct_stack_capture(struct ct_state *st, void *uc);   /* fault handler: a stack id or 0 */

/* ---- modules (modules.c) ------------------------------------------------ */

int ct_modules_record(struct ct_state *st);          /* child set-up, before protection */

/* ---- pagemap (pagemap.c) ------------------------------------------------ */

/* PRESENT and EARLY run lists into w, before protection: 0, or -errno and
 * *failed naming the step that failed, for the warning (the read of the
 * pagemap with its own errno, or memory for its buffer); *failed is NULL
 * when w had no room (-ENOSPC). */
int ct_pagemap_record_setup(struct ct_state *st, struct ct_writer *w, const char **failed);
/* The bound of the bytes ct_pagemap_record_setup may write. */
size_t ct_pagemap_setup_bytes(const struct ct_state *st);

/* ---- memory leaving the process (hooks_release.c, glibc_heap.c) ---------- */

/* glibc_heap.c: may free(p) unmap or trim memory? Then [*lo, *hi) is what
 * could go. 0 if not, or if `real_free` is not glibc's. */
int ct_glibc_release_range(void *real_free, void *p, uintptr_t *lo, uintptr_t *hi);
void ct_release_hooks_init(void);     /* constructor: find the next free/realloc */
void ct_signal_hooks_init(void);      /* constructor: find the next sigaction */

/* ---- jumps out of a fault handler (jump.c) ------------------------------- */

/* Like setjmp/longjmp on buf, which touch nothing but registers and buf (no
 * thread block, no signal mask): 0 when saving, val when jumped back to. */
#define CT_JUMP_WORDS 21
int ct_jump_save(void **buf) __attribute__((returns_twice));
__attribute__((noreturn)) void ct_jump_back(void **buf, int val);

/* ---- CPython (shim/py/; the version knowledge is in common/pyver/) ------ */

/* struct ct_py_evidence: in trace_records.h, beside the WRITE record it fills. */

void ct_py_identify(void);                  /* parent, before fork */
void ct_probe_recover(void *uc);            /* fault handler: abandon a guarded read */
void ct_probes_forget(void);                /* child after fork: no thread is in a read */
void ct_py_guarded_reads(int on);           /* on once a fault handler of ours stands by: reads may begin */
void *ct_py_probe_handler(void);            /* a SIGSEGV/SIGBUS handler for just that */
void ct_py_gc_freeze(void);                 /* parent, before fork, if asked */
int ct_py_setup(struct ct_state *st);       /* child: PYTHON record, layout */
void ct_py_examine(struct ct_state *st, uintptr_t addr, struct ct_py_evidence *ev);
void ct_py_summarize_batch(struct ct_state *st, const uintptr_t *pages, size_t n, struct ct_py_summary *out);
/* uffd-async, after a scan: a PYGC record if the count of full
 * collections grew since the last one written (or since the fork); -1 if
 * the trace is full. */
int ct_py_collections_record(void);

/* ---- signals seen by the program (hooks_signal.c) ---------------------- */

void ct_chain_signal(int sig, siginfo_t *si, void *uc);  /* to the program's handler */
/* Our handler for sig, the program's kept for ct_chain_signal; and back. */
void ct_signal_take(int sig, void (*handler)(int, siginfo_t *, void *));
void ct_signal_give_back(int sig);

/* real libc functions behind our interposers */
void *ct_real(const char *name);
/* In an interposer: `real_NAME`, the next definition of NAME, found on
 * first use (dlsym is safe there: first calls come before protection). */
#define CT_REAL(name)                                           \
    static __typeof__(&name) real_##name;                      \
    if (ct_unlikely(!real_##name))                             \
        real_##name = (__typeof__(&name))ct_real(#name)

#include "backend.h"

#endif
