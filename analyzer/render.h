/*
 * render.h - the one interface of every output format, and the table that
 * registers them (render.c).
 *
 * Promise: a renderer reads only the finished model (run.h, diff.h) and
 * the resolved stacks (where.h); it never reads a trace itself and
 * computes no total the model already has. `cowtrace report --format` and
 * `cowtrace diff --format` accept exactly the names in ct_renderers[],
 * their --help lists them with their help lines, and an option a format
 * does not accept is rejected by one generic check from `accepts`.
 * Adding a format is one file defining a struct ct_renderer and one line
 * in ct_renderers[]; the fuzzers (analyzer/tests/fuzz_trace.c on traces,
 * fuzz_timeline.c on watch timelines) then run it with every option it
 * accepts.
 */
#ifndef COWTRACE_RENDER_H
#define COWTRACE_RENDER_H

#include <stdbool.h>
#include <stdio.h>

#include "diff.h"
#include "run.h"

/* Folded stacks: which frames, and what ends each line. */
enum ct_frames { CT_FRAMES_AUTO, CT_FRAMES_PYTHON, CT_FRAMES_NATIVE, CT_FRAMES_BOTH };
enum ct_leaf { CT_LEAF_NONE, CT_LEAF_CAUSE, CT_LEAF_TYPE, CT_LEAF_BOTH };

struct ct_render_opts {
    bool pages;               /* --pages: list every cow and fresh page */
    bool stacks;              /* false with --no-stacks: leave out the stack table */
    enum ct_frames frames;    /* --frames */
    enum ct_leaf leaf;        /* --leaf */
    bool proc_locations;      /* false: json leaves out each process's locations
                               * (no option; the HTML page's data, which shows
                               * the run's only) */
};
#define CT_RENDER_OPTS_DEFAULT ((struct ct_render_opts){ false, true, CT_FRAMES_AUTO, CT_LEAF_CAUSE, true })

/* The options of `report` that only some formats take (bits of accepts). */
enum {
    CT_OPT_PAGES = 1u << 0,
    CT_OPT_NO_STACKS = 1u << 1,
    CT_OPT_FRAMES = 1u << 2,
    CT_OPT_LEAF = 1u << 3,
};
#define CT_OPT_ALL (CT_OPT_PAGES | CT_OPT_NO_STACKS | CT_OPT_FRAMES | CT_OPT_LEAF)

/* What the model must hold for the renderer (bits of needs). */
enum {
    CT_NEED_STACKS = 1u << 0, /* resolved stacks (ct_load_opts.resolve) */
    CT_NEED_PAGES = 1u << 1,  /* page sets (ct_load_opts.keep_pages), e.g. to draw them */
};

struct ct_renderer {
    const char *name;         /* --format NAME */
    const char *help;         /* what it is, for --help (may hold "\n") */
    unsigned accepts;         /* CT_OPT_* of `report` it takes */
    unsigned needs;           /* CT_NEED_* */
    void (*run)(FILE *f, const struct ct_run *r, const struct ct_render_opts *o);
    /* `cowtrace diff --format NAME`; NULL: this format has no diff. */
    void (*diff)(FILE *f, const struct ct_diff *d);
};

/* The lines of --format folded (report_folded.c): each distinct stack of
 * first writes over all processes with its copied pages, as `frames` and
 * `leaf` say, sorted; emit is called once per line (line has no newline
 * and is not NUL-terminated at len). Shared by every format that draws
 * stacks, so they all fold them the same way. */
void ct_folded_lines(const struct ct_run *r, enum ct_frames frames, enum ct_leaf leaf,
                     void (*emit)(const char *line, size_t len, uint64_t pages, void *ctx), void *ctx);

extern const struct ct_renderer ct_render_text, ct_render_json, ct_render_folded,
    ct_render_pprof, ct_render_html;

/* Every format, NULL-terminated, in the order --help lists them; the
 * first is the default. */
extern const struct ct_renderer *const ct_renderers[];

/* The renderer named name; NULL if none. */
const struct ct_renderer *ct_renderer_find(const char *name);

/* The option that is bit `opt` of accepts ("--pages"), for messages. */
const char *ct_opt_name(unsigned opt);

/* Every combination of the options r accepts (the others at their
 * defaults), numbered 0 .. ct_render_opts_count(r) - 1: what the fuzzer
 * runs each format with. */
size_t ct_render_opts_count(const struct ct_renderer *r);
struct ct_render_opts ct_render_opts_nth(const struct ct_renderer *r, size_t n);

/* Prints the formats (for report, or those with a diff) as --help lines. */
void ct_render_usage(FILE *f, bool diff);

#endif
