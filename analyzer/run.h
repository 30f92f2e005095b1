/*
 * run.h - the model every renderer receives: all traces of a run, read,
 * analyzed, attributed, their stacks resolved, and the run's totals and
 * merged types computed, once.
 *
 * Promise: loading a run never stops at a bad file. Each file either
 * becomes a process (sorted by pid, then fork time, then file name) or an
 * error naming the file and offset; the caller decides the exit status.
 * When ct_run_load (or ct_run_finish) returns, the run is complete and is
 * not changed again: renderers take it const and compute nothing that
 * another renderer would compute the same way (totals, types, which
 * stacks hold Python frames).
 */
#ifndef COWTRACE_RUN_H
#define COWTRACE_RUN_H

#include <stdio.h>

#include "analysis.h"
#include "timeline.h"

struct ct_file_error {
    char *file;
    char *msg;                /* "offset N: ..." or a plain message */
};

struct ct_symbolizer;

/* Whose causes were inferred from page contents (uffd-async) rather than
 * write addresses, among the processes that copied anything. */
enum ct_inferred { CT_INFERRED_NONE, CT_INFERRED_SOME, CT_INFERRED_ALL };

/* Sums over the processes, in process order (so floating-point sums come
 * out the same wherever they are printed). */
struct ct_totals {
    uint64_t cow, fresh, tracked, early;
    uint64_t causes[CT_NCAUSES];
    double cow_mib, fresh_mib, tracked_mib;
    double cause_mib[CT_NCAUSES];
    size_t incomplete;        /* processes whose trace is not complete */
    enum ct_inferred inferred;
};

struct ct_run {
    char *source;             /* the DIR or file given */
    struct ct_symbolizer *sym; /* resolved stacks point into it */
    struct ct_proc *procs;
    size_t nprocs;
    struct ct_file_error *errors;
    size_t nerrors;
    struct ct_totals total;
    struct ct_type_count *types; /* merged over processes by (name, cause), largest first */
    size_t ntypes;
    uint32_t page_size;       /* of the first process (one run, one page size); 0 if none */
    bool resolved;            /* every process's stacks are resolved (p->where) */
    bool python_stacks;       /* some resolved stack holds a Python frame */
    struct ct_timeline *timeline; /* DIR/timeline.jsonl of cowtrace watch -o DIR; NULL if none */
};

struct ct_load_opts {
    bool keep_pages;          /* keep page sets for page listings (--pages) */
    bool resolve;             /* resolve stacks (where.h) */
    bool open_files;          /* resolving may open the module files the traces name */
};

/* Reads, analyzes and completes every trace under path, and path's
 * timeline.jsonl if it is a directory holding one (a timeline that cannot
 * be opened is one more error). Returns -1 (with err) only when path itself
 * cannot be listed. */
int ct_run_load(const char *path, const struct ct_load_opts *o, struct ct_run *r, struct ct_err *err);

/* Completes a run whose processes were put into r->procs (allocated with
 * xcalloc; r owns them) and r->source (xstrdup) by other means. */
void ct_run_finish(struct ct_run *r, const struct ct_load_opts *o);

/* A complete run of the one analyzed process *p, which it takes over (and
 * zeroes): for tests and the fuzzer. */
void ct_run_of_proc(struct ct_run *r, const char *source, struct ct_proc *p, const struct ct_load_opts *o);

void ct_run_free(struct ct_run *r);

/* Warnings the reader found, as sentences; returns how many were written
 * (at most max). Shared by every renderer so they say the same thing. */
size_t ct_proc_warnings(const struct ct_proc *p, char out[][160], size_t max);

/* MiB of a number of pages. */
double ct_mib(uint64_t pages, uint32_t page_size);

#endif
