/*
 * timeline.h - a watch directory's DIR/timeline.jsonl (written by
 * `cowtrace watch -o DIR`, format in docs/trace-format.md, "The timeline")
 * read into a compact series per worker, for the model (run.h).
 *
 * Promise: the file is hostile input and reading it never fails the report.
 * Lines are bounded (CT_TIMELINE_MAX_LINE bytes; longer ones are skipped
 * without being held), so are the lines read (CT_TIMELINE_MAX_LINES) and
 * the workers kept (CT_TIMELINE_MAX_WORKERS); every number is range-checked
 * (times within Unix seconds 0..1e11, byte counts integers within 2^53,
 * pids within 1..2^31-1). A line that is not one well-formed object of
 * the format is skipped and counted, and the first such line is named by
 * its number, so the renderers can say what was left out. A worker is
 * kept only from its first sample on, so every worker has one.
 */
#ifndef COWTRACE_TIMELINE_H
#define COWTRACE_TIMELINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define CT_TIMELINE_FILE "timeline.jsonl"
#define CT_TIMELINE_MAX_LINE (64 * 1024)
#define CT_TIMELINE_MAX_LINES 4000000
#define CT_TIMELINE_MAX_WORKERS 100000
#define CT_TIMELINE_COMM_MAX 64

/* One sample of one worker: when, and its memory in bytes. */
struct ct_tl_sample {
    double t;
    uint64_t shared, copied, fresh;
};

/* A worker: (pid, start) names it (a reused pid gets a new start). */
struct ct_tl_worker {
    int32_t pid, ppid;
    double start;             /* Unix seconds */
    char comm[CT_TIMELINE_COMM_MAX + 1]; /* raw bytes, NUL-ended; clean before printing */
    size_t comm_len;
    struct ct_tl_sample *samples; /* in file order, times never decreasing; never empty */
    size_t nsamples, cap;
    double gone;              /* when its "gone" line came; < 0: never */
};

struct ct_timeline {
    struct ct_tl_worker *workers; /* in order of first appearance */
    size_t nworkers, workers_cap;
    size_t lines;             /* lines read (not counting the empty ones) */
    size_t lineno;            /* the line being read (1-based, empty ones counted) */
    size_t samples;           /* samples kept, over all workers */
    size_t skipped;           /* lines skipped as not of the format */
    size_t first_skipped;     /* its line number (1-based), if skipped */
    char first_why[64];       /* what was wrong with it */
    bool truncated;           /* stopped at CT_TIMELINE_MAX_LINES */
    double t_first, t_last;   /* over the samples kept (0 if none) */
};

/* Reads dir/timeline.jsonl if there is one: 1 and *out filled (even if
 * every line was skipped), 0 if the file does not exist (or dir is not a
 * directory), -1 with why (a sentence) if it exists but cannot be opened. */
int ct_timeline_load(const char *dir, struct ct_timeline *out, char *why, size_t whylen);

/* Reads one JSON Lines text from f (for tests and the fuzzer). */
void ct_timeline_read(FILE *f, struct ct_timeline *out);

void ct_timeline_free(struct ct_timeline *tl);

#endif
