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
 * Frames (docs/trace-format.md, "Flame graphs"):
 *   python  Python frames, outermost first; under the innermost one the
 *           native frames the interpreter's evaluation loop had called
 *           (those inside the innermost _PyEval_EvalFrameDefault: the
 *           collector, a C extension, the allocator), all native frames if
 *           no evaluation loop was captured;
 *   native  native frames only;
 *   both    native frames, each Python frame under the evaluation-loop
 *           frame (_PyEval_EvalFrameDefault) that ran it. In 3.11 one C
 *           call of the loop runs several Python frames (calls between
 *           Python functions do not recurse in C); the shim marks the
 *           first frame each call ran (CT_PYFRAME_ENTRY), so, from the
 *           innermost, the frames up to the first mark belong to the
 *           innermost loop frame, those up to the next mark to the next
 *           one, and so on. Frames whose loop frame was not captured (the
 *           native stack cut at its depth limit) come first; with no loop
 *           frame at all, Python frames come first, as in `python`.
 * Default (auto): python if any stack of the report has a Python frame,
 * else native. Pages without a stack are the line "(no stack)"; a stack
 * taken while no Python frame ran starts with "(no python frame)" in
 * python mode; a stack the shim cut at its depth limit starts with
 * "(truncated)" (its outermost frames are missing). --leaf appends
 * "cause:refcount", "type:int" ("type:(none)"), or both, to every line.
 */
#include <stdlib.h>
#include <string.h>
#include <uthash.h>

#include "render.h"
#include "strbuf.h"
#include "textsafe.h"
#include "where.h"

static void sep(struct strbuf *b)
{
    if (b->len)
        sb_add(b, ";", 1);
}

static void native_frame(struct strbuf *b, const struct ct_nframe *f)
{
    sep(b);
    if (f->func)
        ct_frame_clean(b, f->func, strlen(f->func));
    else if (f->module >= 0) {
        ct_frame_clean(b, f->module_base, f->module_base_len);
        sb_addf(b, "+0x%llx", (unsigned long long)f->off);
    } else
        sb_addf(b, "0x%llx", (unsigned long long)f->ip);
}

static void python_frame(struct strbuf *b, const struct ct_pframe *f)
{
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

static void marker(struct strbuf *b, const char *m)
{
    sep(b);
    sb_adds(b, m);
}

/* Native frames [lo, hi) of rs (innermost-first indexes), outermost first. */
static void natives(struct strbuf *b, const struct ct_proc *p, const struct ct_rstack *rs, size_t lo, size_t hi)
{
    for (size_t k = hi; k-- > lo;)
        native_frame(b, &p->where->nframes[rs->n0 + k]);
}

static void pythons(struct strbuf *b, const struct ct_proc *p, const struct ct_rstack *rs)
{
    for (size_t k = rs->np; k-- > 0;)
        python_frame(b, &p->where->pframes[rs->p0 + k]);
}

/* Python frames [lo, hi) of rs (innermost-first indexes), outermost first. */
static void python_range(struct strbuf *b, const struct ct_proc *p, const struct ct_rstack *rs, size_t lo, size_t hi)
{
    for (size_t k = hi; k-- > lo;)
        python_frame(b, &p->where->pframes[rs->p0 + k]);
}

/* End (exclusive, innermost-first index) of the group of Python frames
 * that starts at lo: up to and including the next CT_PYFRAME_ENTRY. */
static size_t group_end(const struct ct_proc *p, const struct ct_rstack *rs, size_t lo)
{
    size_t k = lo;
    while (k < rs->np && !p->where->pframes[rs->p0 + k].entry)
        k++;
    return k < rs->np ? k + 1 : rs->np;
}

/* --frames both with an evaluation-loop frame: natives outermost first,
 * each loop frame followed by its group of Python frames (the j-th loop
 * frame from the innermost runs the j-th group); groups beyond the loop
 * frames captured come first. */
static void interleaved(struct strbuf *b, const struct ct_proc *p, const struct ct_rstack *rs)
{
    const struct ct_nframe *nf = &p->where->nframes[rs->n0];
    size_t nev = 0;
    for (size_t k = 0; k < rs->nn; k++)
        nev += nf[k].eval;
    /* group_lo[j]: where group j starts; ngroups of them. Groups are at
     * least one frame each, so np + 1 bounds them. */
    size_t *group_lo = xmalloc((rs->np + 1) * sizeof *group_lo), ngroups = 0;
    for (size_t lo = 0; lo < rs->np; lo = group_end(p, rs, lo))
        group_lo[ngroups++] = lo;
    group_lo[ngroups] = rs->np;
    /* Groups whose loop frame is missing: the outermost ones. */
    if (ngroups > nev)
        python_range(b, p, rs, group_lo[nev], rs->np);
    size_t j = nev;                     /* loop frames left, counting from the innermost */
    for (size_t k = rs->nn; k-- > 0;) {
        native_frame(b, &nf[k]);
        if (!nf[k].eval)
            continue;
        j--;
        if (j < ngroups)
            python_range(b, p, rs, group_lo[j], group_lo[j + 1]);
    }
    free(group_lo);
}

/* Index of the innermost evaluation-loop frame, or nn if none. */
static size_t innermost_eval(const struct ct_proc *p, const struct ct_rstack *rs)
{
    for (size_t k = 0; k < rs->nn; k++)
        if (p->where->nframes[rs->n0 + k].eval)
            return k;
    return rs->nn;
}

static void fold(struct strbuf *b, const struct ct_proc *p, uint32_t stack, enum ct_frames mode)
{
    if (!stack || !p->where) {
        marker(b, "(no stack)");
        return;
    }
    const struct ct_rstack *rs = &p->where->stacks[stack - 1];
    bool py = ct_rstack_has_python(rs);
    bool ntrunc = rs->flags & CT_STACK_NATIVE_TRUNCATED, ptrunc = rs->flags & CT_STACK_PY_TRUNCATED;
    size_t ev = innermost_eval(p, rs);
    switch (mode) {
    case CT_FRAMES_NATIVE:
        if (!rs->nn) {
            marker(b, "(no native frames)");
            return;
        }
        if (ntrunc)
            marker(b, "(truncated)");
        natives(b, p, rs, 0, rs->nn);
        return;
    case CT_FRAMES_BOTH:
        if (!py) {
            if (!rs->nn)
                marker(b, "(no native frames)");
            else if (ntrunc)
                marker(b, "(truncated)");
            natives(b, p, rs, 0, rs->nn);
            return;
        }
        if (ev < rs->nn) {
            if (ntrunc)
                marker(b, "(truncated)");
            interleaved(b, p, rs);
            return;
        }
        if (ptrunc)
            marker(b, "(truncated)");
        pythons(b, p, rs);
        natives(b, p, rs, 0, rs->nn);
        return;
    default:
        if (!py) {
            marker(b, "(no python frame)");
            if (ntrunc)
                marker(b, "(truncated)");
            natives(b, p, rs, 0, rs->nn);
            return;
        }
        if (ptrunc)
            marker(b, "(truncated)");
        pythons(b, p, rs);
        natives(b, p, rs, 0, ev);
        return;
    }
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
    if (frames == CT_FRAMES_AUTO)
        frames = r->python_stacks ? CT_FRAMES_PYTHON : CT_FRAMES_NATIVE;
    struct line *lines = NULL, *e, *tmp;
    struct strbuf b;
    sb_init(&b);
    for (size_t i = 0; i < r->nprocs; i++) {
        const struct ct_proc *p = &r->procs[i];
        for (size_t k = 0; k < p->nstack_counts; k++) {
            const struct ct_stack_count *sc = &p->stack_counts[k];
            sb_reset(&b);
            fold(&b, p, sc->stack, frames);
            if (leaf == CT_LEAF_CAUSE || leaf == CT_LEAF_BOTH)
                sb_addf(&b, ";cause:%s", ct_cause_name(sc->cause));
            if (leaf == CT_LEAF_TYPE || leaf == CT_LEAF_BOTH) {
                size_t tlen;
                const char *tname = ct_type_name(p, sc->type, &tlen);
                sb_adds(&b, ";type:");
                if (tname)
                    ct_frame_clean(&b, tname, tlen);
                else
                    sb_adds(&b, "(none)");
            }
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
