/*
 * report_stack.h - the frames of a first write's stack as the stack
 * formats show them: one walk, shared by the folded stacks
 * (report_folded.c) and the pprof profile (report_pprof.c), so --frames
 * and --leaf mean the same in both.
 *
 * Promise: ct_stack_frames hands a sink the frames of one stack of the
 * model, outermost first, each exactly once, as --frames chooses
 * (docs/trace-format.md, "Flame graphs"):
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
 * Markers are frames of their own: "(no stack)" for pages without a
 * stack; "(no python frame)" first in python mode for a stack taken while
 * no Python frame ran; "(no native frames)" for a stack without any in
 * native mode; "(truncated)" first for a stack the shim cut at its depth
 * limit (its outermost frames are missing). ct_stack_leaves then gives
 * the --leaf frames, innermost: "cause:" and/or "type:" with the name
 * (NULL for no type). Names are not cleaned: each sink cleans for its
 * format.
 */
#ifndef COWTRACE_REPORT_STACK_H
#define COWTRACE_REPORT_STACK_H

#include "render.h"
#include "where.h"

struct ct_frame_sink {
    void (*native)(void *ctx, const struct ct_nframe *f);
    void (*python)(void *ctx, const struct ct_pframe *f);
    void (*marker)(void *ctx, const char *m);           /* "(no stack)", ... */
    /* prefix "cause:" or "type:"; name NULL: no type. */
    void (*leaf)(void *ctx, const char *prefix, const char *name, size_t len);
    void *ctx;
};

/* The --frames of a report: auto is python if any stack of r has a Python
 * frame, else native. */
enum ct_frames ct_frames_resolve(const struct ct_run *r, enum ct_frames asked);

/* The frames of stack `stack` of p (index + 1, 0: none), outermost first;
 * mode is python, native or both (not auto). */
void ct_stack_frames(const struct ct_proc *p, uint32_t stack, enum ct_frames mode, const struct ct_frame_sink *s);

/* The --leaf frames of the pages sc counts. */
void ct_stack_leaves(const struct ct_proc *p, const struct ct_stack_count *sc, enum ct_leaf leaf,
                     const struct ct_frame_sink *s);

#endif
