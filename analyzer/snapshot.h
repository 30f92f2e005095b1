/*
 * snapshot.h - one running process against its parent, written as a trace
 * file of mode `snapshot` (ct_format.h), so that report and diff read it
 * as they read a traced run.
 *
 * Promise: the process is only read (procmem.h, and its memory by
 * /proc/PID/mem); the records are laid out only by the shim's own
 * encoders (shim/trace_records.c) into the shim's file writer, created
 * 0600 with O_EXCL|O_NOFOLLOW. Per copy-on-write region (private,
 * writable) of the process the trace holds:
 *   PRESENT  pages at addresses where the parent has a page of the same
 *            mapping (inherited across the fork) and the process has a
 *            page: still shared, or copied;
 *   WRITTEN  pages that are the process's own: copied (the parent has a
 *            page there) and fresh (it has none);
 *   WRITE    one per copied page whose contents differ from the parent's
 *            page at the same address: the evidence (ct_py_find) of the
 *            word that speaks for most of the page's differing words;
 *   PAGE_SUMMARY  the copied pages that differ in no word: what they hold,
 *            for the inferred rules (cause.h).
 * So cow = copied, fresh = fresh, and shared = tracked - cow. Siblings
 * written together (ct_snapshot_write_siblings) get the same files, for
 * less: the parent's pages are read once for all of them. Errors
 * found before anything is written (the process cannot be read) leave no
 * file; a process that exits while it is read leaves its file with an
 * INCOMPLETE note.
 */
#ifndef COWTRACE_SNAPSHOT_H
#define COWTRACE_SNAPSHOT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "procmem.h"

struct ct_snap_result {
    uint64_t shared, copied, fresh;   /* pages */
    uint64_t differing, inferred;     /* copied pages with a differing word / without */
    bool python, incomplete, compared;
    char path[4096];                  /* the file written */
};

/* Frame numbers readable (root): the comparison is exact. */
bool ct_snapshot_exact(void);

/* Can p be read (maps, pagemap, memory)? 0, or -1 with the reason in why. */
int ct_snapshot_check(const struct ct_live_proc *p, char *why, size_t whylen);

/* Writes dir/<pid>.cowtrace for p against parent (NULL: no parent to
 * compare with; only the page set is written). 0, or -1 with why (then
 * no file is left). */
int ct_snapshot_write(const struct ct_live_proc *p, const struct ct_live_proc *parent, const char *dir,
                      bool exact, struct ct_snap_result *res, char *why, size_t whylen);

/* The same for n siblings, procs[0..n), all forked from parent (NULL: none
 * to compare with), each into its own file exactly as ct_snapshot_write
 * would write it; the parent's copy of a page they copied is read once for
 * all of them, and a page none of them changed is summarized once. rc[i]
 * and why + i * whylen: each one's result. 0 if every one succeeded. */
int ct_snapshot_write_siblings(const struct ct_live_proc *procs, size_t n, const struct ct_live_proc *parent,
                               const char *dir, bool exact, struct ct_snap_result *res, int *rc, char *why,
                               size_t whylen);

#endif
