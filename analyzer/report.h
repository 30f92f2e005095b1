/*
 * report.h - a report over all traces of a run, and its two renderings.
 *
 * Promise: building a report never stops at a bad file. Each file either
 * becomes a process (sorted by pid, then fork time) or an error naming the
 * file and offset; the caller decides the exit status. The JSON rendering is
 * a contract (keys documented in docs/trace-format.md): keys may be added,
 * never renamed or removed.
 */
#ifndef COWTRACE_REPORT_H
#define COWTRACE_REPORT_H

#include <stdio.h>

#include "analysis.h"

struct ct_file_error {
    char *file;
    char *msg;                /* "offset N: ..." or a plain message */
};

struct ct_report {
    char *source;             /* the DIR or file given */
    struct ct_proc *procs;
    size_t nprocs;
    struct ct_file_error *errors;
    size_t nerrors;
};

/* Reads and analyzes every trace under path. Returns -1 (with err) only when
 * path itself cannot be listed. */
int ct_report_build(const char *path, bool keep_pages, struct ct_report *r, struct ct_err *err);
void ct_report_free(struct ct_report *r);

/* "FILE: offset N: message" into buf. */
void ct_format_error(const char *file, const struct ct_err *err, char *buf, size_t len);

/* Warnings the reader found, as sentences; returns how many were written
 * (at most max). Shared by both renderings so they say the same thing. */
size_t ct_proc_warnings(const struct ct_proc *p, char out[][160], size_t max);

/* The types of all processes merged by (name, cause), sorted by pages
 * descending; the caller frees the array (names stay owned by r). */
struct ct_type_count *ct_report_types(const struct ct_report *r, size_t *n);

void ct_report_json(FILE *f, const struct ct_report *r, bool pages);
void ct_report_text(FILE *f, const struct ct_report *r, bool pages);

#endif
