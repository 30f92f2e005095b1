/*
 * diff.h - the model of `cowtrace diff A B`: two complete runs and their
 * types joined on (name, cause).
 *
 * Promise: the join covers every named type of either run, once, with its
 * copied pages in A and in B (0 where it does not occur), largest first
 * (by the larger of the two, then name, then cause). Totals and causes are
 * the runs' own (run.h); renderers show the ratio B / A, "-" when A is 0.
 * A side with a watch timeline (run.h's r->timeline) has a summary of it
 * (ct_tl_summary: its workers and the copied bytes at the end of each
 * worker's series, median and max); a side without has none, and the
 * renderers then write exactly what they wrote before timelines existed.
 */
#ifndef COWTRACE_DIFF_H
#define COWTRACE_DIFF_H

#include "run.h"

struct ct_type_ab {
    const char *name;         /* owned by a run */
    size_t len;
    uint32_t cause;
    uint64_t a, b;
};

/* One side's timeline in a few numbers. */
struct ct_tl_summary {
    bool present;             /* the side has a timeline (the rest is 0 if not) */
    size_t workers, samples;
    double span;              /* seconds from its first sample to its last */
    /* Over the workers, the copied bytes of each one's last sample. */
    uint64_t median_last_copied, max_last_copied;
};

struct ct_diff {
    const struct ct_run *a, *b;
    struct ct_type_ab *types;
    size_t ntypes;
    struct ct_tl_summary tl_a, tl_b;
};

/* Fills the summary of tl (NULL: none). */
void ct_tl_summarize(const struct ct_timeline *tl, struct ct_tl_summary *out);

void ct_diff_build(const struct ct_run *a, const struct ct_run *b, struct ct_diff *d);
void ct_diff_free(struct ct_diff *d);

#endif
