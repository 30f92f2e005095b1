/*
 * diff.h - the model of `cowtrace diff A B`: two complete runs and their
 * types joined on (name, cause).
 *
 * Promise: the join covers every named type of either run, once, with its
 * copied pages in A and in B (0 where it does not occur), largest first
 * (by the larger of the two, then name, then cause). Totals and causes are
 * the runs' own (run.h); renderers show the ratio B / A, "-" when A is 0.
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

struct ct_diff {
    const struct ct_run *a, *b;
    struct ct_type_ab *types;
    size_t ntypes;
};

void ct_diff_build(const struct ct_run *a, const struct ct_run *b, struct ct_diff *d);
void ct_diff_free(struct ct_diff *d);

#endif
