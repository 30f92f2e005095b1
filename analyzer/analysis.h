/*
 * analysis.h - what happened to one process's memory, computed from a parsed
 * trace.
 *
 * Promise: counts follow one definition, in tracked regions only:
 *   present = union of PRESENT run lists            (pages the child shared at fork)
 *   written = union of EARLY, WRITTEN run lists and pages of WRITE events
 *   cow     = (written ∩ present) ∪ early            (pages the kernel had to copy)
 *   fresh   = written − present − early              (new pages, never shared)
 *   tracked = present pages
 * Early pages are always counted as copied: they were written before
 * tracking could see them, and the shim only records them because they were
 * copied. That keeps cow and fresh disjoint.
 */
#ifndef COWTRACE_ANALYSIS_H
#define COWTRACE_ANALYSIS_H

#include "trace.h"

struct ct_region_stats {
    uint64_t present, tracked, cow, fresh, early;
};

struct ct_proc {
    struct ct_trace t;        /* page sets dropped after analysis */
    char exit[40];            /* "exit 0", "signal 9 (core)", "exec", "unknown" */
    bool complete;
    uint64_t tracked, cow, fresh, early;
    struct ct_region_stats *rs; /* one per region */
    /* Kept only when asked for (--pages): absolute page numbers. */
    struct ivl cow_set, fresh_set;
};

/* Takes ownership of *t (which is zeroed). keep_pages keeps cow_set and
 * fresh_set for page listings. */
void ct_analyze(struct ct_trace *t, bool keep_pages, struct ct_proc *p);
void ct_proc_free(struct ct_proc *p);

/* The exit string rules, exposed for tests: an exec that was the last thing
 * the process did, else the reap slot, else the END record, else "unknown". */
void ct_exit_string(const struct ct_trace *t, char *buf, size_t len);
bool ct_trace_complete(const struct ct_trace *t);
/* "exit N" / "signal N[ (core)]" for a wait(2) status; 0 if it is neither. */
int ct_wait_string(int status, char *buf, size_t len);

#endif
