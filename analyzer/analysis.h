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
 *
 * Then every cow page gets a cause and maybe a type (attrib.c, rules in
 * cause.h), and the stack of its first write if one was captured:
 * causes[], types[] and stack_counts[] each sum exactly to cow.
 */
#ifndef COWTRACE_ANALYSIS_H
#define COWTRACE_ANALYSIS_H

#include "cause.h"
#include "trace.h"

struct ct_resolved;

struct ct_region_stats {
    uint64_t present, tracked, cow, fresh, early;
};

/* Type ids of an attribution: >= 0 indexes t.pytypes, else one of these. */
#define CT_TYPE_NONE      (-1)  /* no object: allocator headers, other memory, unknown */
#define CT_TYPE_UNDEFINED (-2)  /* the evidence names a type no PYTYPE record defines: "?" */
#define CT_TYPE_EARLY     (-3)  /* written before tracking held: "(before tracking)" */
#define CT_TYPE_VALUES    (-4)  /* an instance's values array, owner not known: "(instance values)" */
#define CT_TYPE_POINTERS  (-5)  /* a headerless array of object pointers: "(object pointers)" */

/* Copied pages of one (type name, cause). */
struct ct_type_count {
    const char *name;         /* NULL: no type; else owned by a trace or static */
    size_t len;
    uint32_t cause;           /* enum ct_cause */
    uint64_t pages;
};

/* Copied pages of one (stack, cause, type). */
struct ct_stack_count {
    uint32_t stack;           /* index into t.stacks + 1; 0 = no stack */
    int32_t type;             /* a type id, as in ct_page_cause */
    uint32_t cause;           /* enum ct_cause */
    uint64_t pages;
};

/* One copied page the evidence attributed (kept for --pages only). */
struct ct_page_cause {
    uint64_t pg;
    int32_t type;
    uint32_t flags;           /* the write's CT_WRITE_* (0 if inferred) */
    uint32_t stack;           /* index into t.stacks + 1; 0 = none */
    uint8_t cause;
};

/* What the trace says about its process, as renderers see it: they read
 * this, never p->t (the reader's tables; frames come resolved, where.h).
 * Strings and arrays point into p->t and live as long as p. */
struct ct_proc_info {
    const char *file;         /* the trace file */
    int32_t pid, ppid;
    uint32_t mode;            /* CT_MODE_* of the header */
    uint32_t page_size, page_shift;
    uint64_t fork_time_ns, fork_nonce;
    bool reap_valid;          /* the parent's wait status was written back */
    int32_t reap_status;
    struct ct_str mode_reason, exe, comm;
    uint32_t flush_interval_ms;
    bool have_exec;
    struct ct_str exec_path;
    const struct ct_note *notes;
    size_t nnotes;
    const struct ct_region *regions;
    size_t nregions;
    const struct ct_untrack *untracks;
    size_t nuntracks;
    bool have_python;
    struct ct_python python;
    uint64_t nwrites, end_faults, end_scans, captured_pages, stacks_missing;
};

struct ct_proc {
    struct ct_trace t;        /* the reader's view; page sets dropped after analysis */
    struct ct_proc_info info;
    char exit[40];            /* "exit 0", "signal 9 (core)", "exec", "unknown" */
    bool complete;
    uint64_t tracked, cow, fresh, early;
    struct ct_region_stats *rs; /* one per region */
    /* Why the cow pages were copied (attrib.c). causes[] sums to cow. */
    uint64_t causes[CT_NCAUSES];
    bool causes_inferred;     /* from page contents (uffd-async), not write addresses */
    const struct ct_pyver *layout;    /* NULL: causes are all unknown */
    struct ct_type_count *types; /* sorted by pages, descending; sums to cow */
    size_t ntypes;
    struct ct_stack_count *stack_counts; /* sorted by pages, descending; sums to cow */
    size_t nstack_counts;
    struct ct_resolved *where;   /* stacks resolved for reports (where.h), or NULL */
    /* Kept only when asked for (--pages, or a format that draws pages):
     * absolute page numbers; present_set is the tracked pages the child
     * shared at fork. */
    struct ivl cow_set, fresh_set, early_set, present_set;
    struct ct_page_cause *pcs; /* attributed cow pages, by page */
    size_t npcs;
};

/* Takes ownership of *t (which is zeroed). keep_pages keeps cow_set and
 * fresh_set for page listings. */
void ct_analyze(struct ct_trace *t, bool keep_pages, struct ct_proc *p);
void ct_proc_free(struct ct_proc *p);

/* attrib.c: fills causes, types and (keep_pages) pcs of p from the evidence
 * still in p->t, for the cow pages `cow`, `early` of them written before
 * tracking. Called by ct_analyze. */
void ct_attribute(struct ct_proc *p, const struct ivl *cow, const struct ivl *early, bool keep_pages);

/* The name of type id `type` in p ("?" and "(before tracking)" for the
 * special ids, NULL for none). */
const char *ct_type_name(const struct ct_proc *p, int32_t type, size_t *len);

/* The order of (type name, cause) keys: no name first, then names by
 * bytes (a prefix first), then cause. */
int ct_type_key_cmp(const char *an, size_t alen, uint32_t acause, const char *bn, size_t blen, uint32_t bcause);

/* Merges entries of equal (name, cause), drops empty ones, and sorts by
 * pages descending (then name, cause). Returns the new count. */
size_t ct_types_merge(struct ct_type_count *v, size_t n);

/* Why the causes of p are what they are, when that needs saying (unknown
 * layout, not a Python process, inferred); NULL if nothing. */
const char *ct_cause_note(const struct ct_proc *p, char *buf, size_t len);

/* A listing of the cow and fresh pages of p (kept with keep_pages) as
 * maximal runs of equal attribution, in address order. */
struct ct_seg {
    uint64_t start, end;      /* absolute pages */
    bool cow;
    uint8_t cause;
    int32_t type;
    uint32_t flags;           /* CT_WRITE_* of an attributed write (kernel, syscall) */
    uint32_t stack;           /* index into t.stacks + 1 of its first write; 0 = none */
};
struct ct_seg *ct_page_segments(const struct ct_proc *p, size_t *n);

/* The exit string rules, exposed for tests: an exec that was the last thing
 * the process did, else the reap slot, else the END record, else "unknown". */
void ct_exit_string(const struct ct_trace *t, char *buf, size_t len);
bool ct_trace_complete(const struct ct_trace *t);
/* "exit N" / "signal N[ (core)]" for a wait(2) status; 0 if it is neither. */
int ct_wait_string(int status, char *buf, size_t len);

#endif
