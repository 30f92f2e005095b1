/*
 * loc.h - where copied pages were written, ranked: the Python source lines
 * and the native functions of first writes, with their main cause.
 *
 * Promise: a location is the INNERMOST frame of a first write's stack: for
 * Python, the line that was running (file:line in function); for native
 * code, the function holding the faulting instruction. Locations with the
 * same name merge across processes. Each comes with its pages and its main
 * (cause, type): the pair with the most pages there (ties: cause order,
 * then type name). Pages whose stack has no Python frame, and pages
 * without a stack, are counted apart (no_python, no_stack), so
 * sum(pages) + no_python + no_stack = cow for the Python list, and
 * sum(pages) + no_native + no_stack = cow for the native one.
 */
#ifndef COWTRACE_LOC_H
#define COWTRACE_LOC_H

#include <stdbool.h>
#include <stdint.h>

#include "run.h"

struct ct_loc {
    /* Strings point into the report (traces, symbolizer); not cleaned. */
    const char *func;         /* Python qualname or native function; NULL: unknown */
    size_t func_len;
    const char *file;         /* Python: co_filename; native: source file or NULL */
    size_t file_len;
    int line;                 /* -1: unknown (Python), 0: none (native) */
    const char *module;       /* native: base name of the module, NULL: in no module */
    size_t module_len;
    uint64_t off;             /* native without a function: offset in the module, or the address */
    uint64_t code;            /* Python without a code record: the code address */
    uint64_t pages;
    uint32_t cause;           /* main cause */
    const char *type;         /* main type, NULL: none */
    size_t type_len;
    uint64_t main_pages;      /* pages of the main (cause, type) */
};

struct ct_locs {
    struct ct_loc *v;         /* sorted by pages, descending, then name */
    size_t n;
    uint64_t no_stack, no_frame; /* pages without a stack; with one but no frame of the kind */
};

/* The locations of process `proc` of r, or of all processes if proc < 0;
 * python selects Python lines, else native functions. r must be resolved
 * (ct_run_load resolves them). */
void ct_locations(const struct ct_run *r, long proc, bool python, struct ct_locs *out);
void ct_locs_free(struct ct_locs *l);

/* The name memory of region r goes by: the file's base name, "[heap]" and
 * the like as they are, or the kind ("anon") for anonymous memory;
 * printable (textsafe.h), truncated to outlen. */
void ct_region_label(const struct ct_region *r, char *out, size_t outlen);

#endif
