/*
 * report_folded.c - `cowtrace report --format folded`: copied pages as
 * folded stacks, the input of flamegraph.pl, inferno and speedscope.
 *
 * Promise: one line per distinct stack over all processes, frames joined
 * by ';' outermost first, then one space and the number of copied pages (a
 * positive integer); lines sorted, so equal input gives equal output. Every
 * copied page is on exactly one line: the lines sum to the report's cow
 * pages. No frame is empty or holds ';', whitespace, a control character
 * or invalid UTF-8 (replaced by '_' or '?'), so no tool can misread where
 * a frame or the count starts.
 *
 * Frames are chosen by --frames (report_stack.h, the walk this format
 * shares with pprof), outermost first: default (auto) python if any stack
 * of the report has a Python frame, else native. Pages without a stack
 * are the line "(no stack)"; the other markers ("(no python frame)",
 * "(no native frames)", "(truncated)") are frames as report_stack.h says.
 * --leaf appends "cause:refcount", "type:int" ("type:(none)"), or both,
 * to every line.
 */
#include <stdlib.h>
#include <string.h>
#include <uthash.h>

#include "render.h"
#include "report_stack.h"
#include "strbuf.h"
#include "textsafe.h"
#include "where.h"

static void sep(struct strbuf *b)
{
    if (b->len)
        sb_add(b, ";", 1);
}

static void native_frame(void *ctx, const struct ct_nframe *f)
{
    struct strbuf *b = ctx;
    sep(b);
    if (f->func)
        ct_frame_clean(b, f->func, strlen(f->func));
    else if (f->module >= 0) {
        ct_frame_clean(b, f->module_base, f->module_base_len);
        sb_addf(b, "+0x%llx", (unsigned long long)f->off);
    } else
        sb_addf(b, "0x%llx", (unsigned long long)f->ip);
}

static void python_frame(void *ctx, const struct ct_pframe *f)
{
    struct strbuf *b = ctx;
    sep(b);
    if (f->pycode < 0) {
        sb_addf(b, "?_(code_0x%llx)", (unsigned long long)f->code);
        return;
    }
    ct_frame_clean(b, f->qualname, f->qualname_len);
    sb_add(b, " (", 2);
    ct_frame_clean(b, f->filename, f->filename_len);
    if (f->line >= 0)
        sb_addf(b, ":%d", f->line);
    sb_add(b, ")", 1);
}

static void marker(void *ctx, const char *m)
{
    struct strbuf *b = ctx;
    sep(b);
    sb_adds(b, m);
}

static void leaf_frame(void *ctx, const char *prefix, const char *name, size_t len)
{
    struct strbuf *b = ctx;
    sep(b);
    sb_adds(b, prefix);
    if (name)
        ct_frame_clean(b, name, len);
    else
        sb_adds(b, "(none)");
}

struct line {
    char *key;
    uint64_t pages;
    UT_hash_handle hh;
};

static int cmp_line(const void *x, const void *y)
{
    return strcmp((*(struct line *const *)x)->key, (*(struct line *const *)y)->key);
}

void ct_folded_lines(const struct ct_run *r, enum ct_frames frames, enum ct_leaf leaf,
                     void (*emit)(const char *line, size_t len, uint64_t pages, void *ctx), void *ctx)
{
    frames = ct_frames_resolve(r, frames);
    struct line *lines = NULL, *e, *tmp;
    struct strbuf b;
    sb_init(&b);
    const struct ct_frame_sink sink = { native_frame, python_frame, marker, leaf_frame, &b };
    for (size_t i = 0; i < r->nprocs; i++) {
        const struct ct_proc *p = &r->procs[i];
        for (size_t k = 0; k < p->nstack_counts; k++) {
            const struct ct_stack_count *sc = &p->stack_counts[k];
            sb_reset(&b);
            ct_stack_frames(p, sc->stack, frames, &sink);
            ct_stack_leaves(p, sc, leaf, &sink);
            HASH_FIND(hh, lines, b.s, b.len, e);
            if (!e) {
                e = xcalloc(1, sizeof *e);
                e->key = xmemdup0(b.s, b.len);
                HASH_ADD_KEYPTR(hh, lines, e->key, b.len, e);
            }
            e->pages += sc->pages;
        }
    }
    sb_free(&b);
    size_t n = HASH_COUNT(lines), k = 0;
    struct line **v = xmalloc((n ? n : 1) * sizeof *v);
    HASH_ITER(hh, lines, e, tmp) v[k++] = e;
    qsort(v, n, sizeof *v, cmp_line);
    for (size_t i = 0; i < n; i++)
        if (v[i]->pages)
            emit(v[i]->key, strlen(v[i]->key), v[i]->pages, ctx);
    HASH_ITER(hh, lines, e, tmp) {
        HASH_DEL(lines, e);
        free(e->key);
        free(e);
    }
    free(v);
}

static void print_line(const char *line, size_t len, uint64_t pages, void *ctx)
{
    FILE *f = ctx;
    fwrite(line, 1, len, f);
    fprintf(f, " %llu\n", (unsigned long long)pages);
}

static void folded_run(FILE *f, const struct ct_run *r, const struct ct_render_opts *o)
{
    ct_folded_lines(r, o->frames, o->leaf, print_line, f);
}

const struct ct_renderer ct_render_folded = {
    .name = "folded",
    .help = "one line per stack of first writes and its copied pages,\nfor flamegraph.pl, inferno or speedscope",
    .accepts = CT_OPT_FRAMES | CT_OPT_LEAF,
    .needs = CT_NEED_STACKS,
    .run = folded_run,
    .diff = NULL,
};
