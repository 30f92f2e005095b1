/*
 * shim_path.h - where libcowtrace.so is.
 *
 * Promise: the returned path is absolute, readable, and safe to put in
 * LD_PRELOAD (no ':' or whitespace, which the dynamic loader would split
 * on). Search order: $COWTRACE_SHIM (if set, it is the only candidate, so a
 * typo is an error instead of a silent fallback), then the build tree next
 * to this binary (../shim/ relative to /proc/self/exe), then the install
 * directory.
 */
#ifndef COWTRACE_SHIM_PATH_H
#define COWTRACE_SHIM_PATH_H

#include "util.h"

/* Returns a malloc'd path, or NULL with err set. */
char *ct_find_shim(struct ct_err *err);

#endif
