/*
 * report_stack.c - see report_stack.h: the frames of a stack, as --frames
 * and --leaf choose, for every stack format.
 */
#include "report_stack.h"

#include <stdlib.h>
#include <string.h>

#include "util.h"

enum ct_frames ct_frames_resolve(const struct ct_run *r, enum ct_frames asked)
{
    if (asked == CT_FRAMES_AUTO)
        return r->python_stacks ? CT_FRAMES_PYTHON : CT_FRAMES_NATIVE;
    return asked;
}

/* Native frames [lo, hi) of rs (innermost-first indexes), outermost first. */
static void natives(const struct ct_frame_sink *s, const struct ct_proc *p, const struct ct_rstack *rs,
                    size_t lo, size_t hi)
{
    for (size_t k = hi; k-- > lo;)
        s->native(s->ctx, &p->where->nframes[rs->n0 + k]);
}

static void pythons(const struct ct_frame_sink *s, const struct ct_proc *p, const struct ct_rstack *rs)
{
    for (size_t k = rs->np; k-- > 0;)
        s->python(s->ctx, &p->where->pframes[rs->p0 + k]);
}

/* Python frames [lo, hi) of rs (innermost-first indexes), outermost first. */
static void python_range(const struct ct_frame_sink *s, const struct ct_proc *p, const struct ct_rstack *rs,
                         size_t lo, size_t hi)
{
    for (size_t k = hi; k-- > lo;)
        s->python(s->ctx, &p->where->pframes[rs->p0 + k]);
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
static void interleaved(const struct ct_frame_sink *s, const struct ct_proc *p, const struct ct_rstack *rs)
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
        python_range(s, p, rs, group_lo[nev], rs->np);
    size_t j = nev;                     /* loop frames left, counting from the innermost */
    for (size_t k = rs->nn; k-- > 0;) {
        s->native(s->ctx, &nf[k]);
        if (!nf[k].eval)
            continue;
        j--;
        if (j < ngroups)
            python_range(s, p, rs, group_lo[j], group_lo[j + 1]);
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

void ct_stack_frames(const struct ct_proc *p, uint32_t stack, enum ct_frames mode, const struct ct_frame_sink *s)
{
    if (!stack || !p->where) {
        s->marker(s->ctx, "(no stack)");
        return;
    }
    const struct ct_rstack *rs = &p->where->stacks[stack - 1];
    bool py = ct_rstack_has_python(rs);
    bool ntrunc = rs->flags & CT_STACK_NATIVE_TRUNCATED, ptrunc = rs->flags & CT_STACK_PY_TRUNCATED;
    size_t ev = innermost_eval(p, rs);
    switch (mode) {
    case CT_FRAMES_NATIVE:
        if (!rs->nn) {
            s->marker(s->ctx, "(no native frames)");
            return;
        }
        if (ntrunc)
            s->marker(s->ctx, "(truncated)");
        natives(s, p, rs, 0, rs->nn);
        return;
    case CT_FRAMES_BOTH:
        if (!py) {
            if (!rs->nn)
                s->marker(s->ctx, "(no native frames)");
            else if (ntrunc)
                s->marker(s->ctx, "(truncated)");
            natives(s, p, rs, 0, rs->nn);
            return;
        }
        if (ev < rs->nn) {
            if (ntrunc)
                s->marker(s->ctx, "(truncated)");
            interleaved(s, p, rs);
            return;
        }
        if (ptrunc)
            s->marker(s->ctx, "(truncated)");
        pythons(s, p, rs);
        natives(s, p, rs, 0, rs->nn);
        return;
    default:
        if (!py) {
            s->marker(s->ctx, "(no python frame)");
            if (ntrunc)
                s->marker(s->ctx, "(truncated)");
            natives(s, p, rs, 0, rs->nn);
            return;
        }
        if (ptrunc)
            s->marker(s->ctx, "(truncated)");
        pythons(s, p, rs);
        natives(s, p, rs, 0, ev);
        return;
    }
}

void ct_stack_leaves(const struct ct_proc *p, const struct ct_stack_count *sc, enum ct_leaf leaf,
                     const struct ct_frame_sink *s)
{
    if (leaf == CT_LEAF_CAUSE || leaf == CT_LEAF_BOTH) {
        const char *cause = ct_cause_name(sc->cause);
        s->leaf(s->ctx, "cause:", cause, strlen(cause));
    }
    if (leaf == CT_LEAF_TYPE || leaf == CT_LEAF_BOTH) {
        size_t tlen = 0;
        const char *tname = ct_type_name(p, sc->type, &tlen);
        s->leaf(s->ctx, "type:", tname, tlen);
    }
}
