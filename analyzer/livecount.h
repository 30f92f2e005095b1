/*
 * livecount.h - how many of each running worker's pages are still shared
 * with its parent, copied, or fresh, from the page maps alone.
 *
 * Promise: read-only and cheap: /proc/PID/maps and /proc/PID/pagemap of
 * the workers and their parent (PAGEMAP_SCAN to skip absent pages where
 * the kernel has it), never the memory itself, no signal, no ptrace. The
 * classification is procmem.h's ct_page_classify, page for page, over the
 * regions `cowtrace snapshot` compares (private writable mappings; the
 * parent's page counts where it has the same mapping inherited across the
 * fork: same address, file and offset), so the counts equal a snapshot's
 * taken at the same moment. All workers of one parent are read in
 * lockstep, a few MiB of address space at a time: the kernel looks up
 * each page's struct page to say whether it is exclusively mapped, and
 * siblings share most pages, so the second and later reads of a range
 * find those in the cache (measured: half the CPU time of reading each
 * process whole in turn). A process that vanishes is an error value for
 * that process, never a crash.
 */
#ifndef COWTRACE_LIVECOUNT_H
#define COWTRACE_LIVECOUNT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct ct_live_counts {
    uint64_t shared, copied, fresh;   /* pages */
    uint64_t remembered;              /* of copied: counted from the memo (ct_live_count_siblings_memo) */
    int error;                        /* 0, or -errno: this worker could not be read */
};

/* Counts each of pids[0..n) against their common parent. Returns 0, or
 * -errno when the parent cannot be read (then no count is valid). */
int ct_live_count_siblings(pid_t parent, const pid_t *pids, size_t n, bool exact, struct ct_live_counts *c);

/* The same, remembering between counts which pages each worker (pid,
 * start time) had copied: a range of anonymous memory a worker had copied
 * all of, and that is still present in it and in the parent, is counted
 * copied again from two PAGEMAP_SCAN calls, not read entry by entry (a
 * copy does not turn back into the parent's page there). Only with frame
 * numbers (exact) and without KSM (which merges identical pages back);
 * otherwise, and the first time, every page is read. The counts are those
 * ct_live_count_siblings gives. */
struct ct_live_memo;
struct ct_live_memo *ct_live_memo_new(void);
void ct_live_memo_free(struct ct_live_memo *m);
int ct_live_count_siblings_memo(struct ct_live_memo *memo, pid_t parent, const pid_t *pids, const uint64_t *starts,
                                size_t n, bool exact, struct ct_live_counts *c);

#endif
