/*
 * tracedir.h - finding the trace files of a run.
 *
 * Promise: a trace file is a regular file whose name ends in ".cowtrace" and
 * has something before the suffix; nothing else in a directory is read or,
 * for ct_remove_traces, deleted. Lists come back in a stable order (numeric
 * pid prefix, then name) so reports are reproducible.
 */
#ifndef COWTRACE_TRACEDIR_H
#define COWTRACE_TRACEDIR_H

#include <stdbool.h>
#include <stddef.h>

#include "util.h"

struct ct_tracelist {
    char **paths;
    size_t n;
};

bool ct_is_trace_name(const char *name);

/* If `path` is a directory, lists its trace files; if it is a file, the list
 * is that file alone (whatever its name). */
int ct_list_traces(const char *path, struct ct_tracelist *out, struct ct_err *err);
void ct_tracelist_free(struct ct_tracelist *l);

/* Deletes the trace files in dir; returns how many, or -1 with err set. */
long ct_remove_traces(const char *dir, struct ct_err *err);

#endif
