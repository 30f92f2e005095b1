/*
 * procmem.h - a running process's memory as the kernel shows it, read from
 * /proc without stopping the process: the process tree, the mappings, and
 * each page's state against the parent it was forked from.
 *
 * Promise: read-only and signal-free (no ptrace, no signal; /proc/PID/maps,
 * /proc/PID/stat and /proc/PID/pagemap are read, with PAGEMAP_SCAN on the
 * other process's pagemap to skip absent pages where the kernel has it).
 * Every /proc file is hostile input: a line that does not parse is skipped,
 * a process that vanishes is an error value, never a crash. A process is
 * named by (pid, start time): ct_live_same() says whether a pid still
 * names the process first seen, so a pid reused in between is detected.
 * Used by `cowtrace snapshot` (cmd_snapshot.c) and meant for `watch`: the
 * classification below is cheap (page maps only, no memory contents).
 */
#ifndef COWTRACE_PROCMEM_H
#define COWTRACE_PROCMEM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* One process as /proc/PID/stat shows it. */
struct ct_live_proc {
    pid_t pid, ppid;
    uid_t uid;                /* owner of /proc/PID/stat (root's if not dumpable) */
    uint64_t start;           /* starttime, clock ticks since boot */
    char state;               /* R, S, D, Z, ... */
    char comm[64];
};

/* Reads /proc/PID/stat (and the owner of /proc/PID). 0, or -errno
 * (ENOENT: no such process). */
int ct_live_stat(pid_t pid, struct ct_live_proc *out);
/* Does pid still name the process p was read from (same start time)? */
bool ct_live_same(const struct ct_live_proc *p);
/* Has p exited: its pid gone, naming another process, or p a zombie (its
 * memory is gone though its /proc entry stays until it is reaped, and a
 * read of its pagemap then finds no page rather than failing)? */
bool ct_live_exited(const struct ct_live_proc *p);
/* The wall-clock time of a start time (clock ticks since boot, as
 * /proc/PID/stat field 22 gives it): nanoseconds since the epoch, from
 * /proc/stat's btime; 0 when that cannot be read. */
uint64_t ct_live_start_realtime_ns(uint64_t start_ticks);
/* Who pid runs as: the real uid of its credentials (/proc/PID/status).
 * Not the owner of its /proc files (struct ct_live_proc.uid): the kernel
 * gives a non-dumpable process's files to root. 0, or -errno. */
int ct_live_owner(pid_t pid, uid_t *uid);

/* pids and all their descendants (pids first, in the order given, then
 * descendants breadth first), from one scan of /proc/[0-9]*. Processes
 * whose stat cannot be read are left out. *out is malloc'ed. */
size_t ct_live_tree(const struct ct_live_proc *roots, size_t nroots, struct ct_live_proc **out);

/* Was a forked from b without running a program since (the same
 * executable mapped at the same address)? Used by snapshot and watch to
 * pick the parent a process is compared with. */
bool ct_live_forked_from(pid_t a, pid_t b);

/* One line of /proc/PID/maps. */
struct ct_vma {
    uint64_t start, end, offset, inode;
    uint32_t prot;            /* PROT_* */
    bool private_;            /* 'p' */
    char *name;               /* path, "[heap]", "[stack]", ... or "" (malloc'ed) */
};

/* 0 or -errno; *out malloc'ed, sorted by address (as the kernel lists it). */
int ct_live_maps(pid_t pid, struct ct_vma **out, size_t *n);
void ct_live_maps_free(struct ct_vma *v, size_t n);

/* Memory a fork copies on write: private, writable. */
bool ct_vma_cow(const struct ct_vma *v);

/* Are the parent's mapping q and a child's mapping w, which overlap, one
 * mapping inherited across the fork? Both copy on write; a file mapping
 * must be the same file at the same offset for the same address. An
 * anonymous mapping needs only the same name ("", "[heap]", "[anon:x]"):
 * maps shows no offset for it, and its bounds move after the fork without
 * it ceasing to be inherited (a child's munmap of part of it splits it;
 * the parent's new neighbouring mapping merges into the parent's). What
 * this cannot tell: anonymous memory unmapped and mapped anew at the same
 * address after the fork still counts as inherited. */
bool ct_vma_inherited(const struct ct_vma *q, const struct ct_vma *w);

/* /proc/PID/pagemap, open. */
struct ct_pagemap {
    int fd;
    bool scan;                /* PAGEMAP_SCAN works on it */
};
int ct_pagemap_open(pid_t pid, struct ct_pagemap *pm);
void ct_pagemap_close(struct ct_pagemap *pm);

/* Bits of a pagemap entry. */
#define CT_PM_PRESENT   (1ull << 63)
#define CT_PM_SWAPPED   (1ull << 62)
#define CT_PM_EXCLUSIVE (1ull << 56)
#define CT_PM_PFN_MASK  ((1ull << 55) - 1)

/* The entries of pages [start, end) into e[] (one per page; absent pages
 * read as 0; with PAGEMAP_SCAN only present ranges are read at all, and
 * pages mapping the shared zero page read as absent too: without it, as
 * on kernels before 6.7, they read as present and exclusive).
 * 0 or -errno. */
int ct_pagemap_read(struct ct_pagemap *pm, uint64_t start, uint64_t end, unsigned page_shift, uint64_t *e);

/* What a worker's page is, against its parent. */
enum ct_page_class {
    CT_PAGE_ABSENT = 0,       /* not present in the worker (or the zero page) */
    CT_PAGE_SHARED,           /* still the parent's page */
    CT_PAGE_COPIED,           /* the worker's own copy of a page the parent has */
    CT_PAGE_FRESH,            /* the worker's own page, where the parent has none */
};

/* Classifies one page from the worker's entry w and the parent's entry p
 * (0 when the parent has no inherited mapping there). exact: frame numbers
 * are readable (root): shared iff the same frame. Otherwise the
 * exclusively-mapped bit decides: a page mapped by the worker alone is
 * copied (parent present) or fresh; any other page counts as shared, which
 * cannot tell "shared with the parent" from "shared with a sibling or a
 * child only". */
enum ct_page_class ct_page_classify(uint64_t w, uint64_t p, bool exact);

#endif
