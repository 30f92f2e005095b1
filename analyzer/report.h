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

struct ct_symbolizer;

struct ct_report {
    char *source;             /* the DIR or file given */
    struct ct_symbolizer *sym; /* set by ct_report_resolve; stacks point into it */
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

/* Resolves the stacks of every process (where.h): symbolizes native
 * frames against the module files (open_files false: shows them all as
 * module+offset without touching the file system) and gives Python frames
 * their lines. Renderings show stacks only after this. */
void ct_report_resolve(struct ct_report *r, bool open_files);

/* What JSON includes beyond the summary: every page (--pages), and the table
 * of stacks of first writes (on unless --no-stacks; large with many processes). */
enum { CT_JSON_PAGES = 1, CT_JSON_STACKS = 2 };
void ct_report_json(FILE *f, const struct ct_report *r, unsigned what);
void ct_report_text(FILE *f, const struct ct_report *r, bool pages);

/* Folded stacks (report_folded.c). */
enum ct_frames { CT_FRAMES_AUTO, CT_FRAMES_PYTHON, CT_FRAMES_NATIVE, CT_FRAMES_BOTH };
enum ct_leaf { CT_LEAF_NONE, CT_LEAF_CAUSE, CT_LEAF_TYPE, CT_LEAF_BOTH };
/* What CT_FRAMES_AUTO means for r: python if any stack has a Python frame. */
enum ct_frames ct_frames_auto(const struct ct_report *r);
void ct_report_folded(FILE *f, const struct ct_report *r, enum ct_frames frames, enum ct_leaf leaf);

#endif
