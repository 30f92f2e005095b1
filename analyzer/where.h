/*
 * where.h - the stacks of a process's first writes, resolved for reports:
 * native frames symbolized (symbolize.h), Python frames named and given a
 * line (common/pyver/linetable.h), and the rules that merge the two.
 *
 * Promise: resolution never guesses. A native frame whose module could not
 * be used (missing, changed, unreadable) is module+offset, and the module
 * is listed in `bad` so the report can say why; an address outside every
 * module is just the address; a Python frame whose code object has no
 * PYCODE record is "?" with its code address; a line the table does not
 * give is -1.
 *
 * Frames are stored innermost first, as in the trace. ips[0] is the
 * faulting instruction and is looked up as is; ips[1..] are return
 * addresses, looked up at ip-1 (the call instruction), as every
 * symbolizer does, so a call that ends a function is not attributed to the
 * next one.
 */
#ifndef COWTRACE_WHERE_H
#define COWTRACE_WHERE_H

#include <stdbool.h>
#include <stdint.h>

#include "analysis.h"
#include "symbolize.h"

struct ct_nframe {
    uint64_t ip;
    int32_t module;           /* index into t.modules, -1: in no module */
    const char *module_path;  /* the module's path (NULL: in no module), not cleaned */
    size_t module_path_len;
    const char *module_base;  /* its base name, for module+offset */
    size_t module_base_len;
    uint64_t module_start, module_end; /* the module's address range [start, end) */
    const uint8_t *build_id;  /* its GNU build id (build_id_len bytes, 0: none) */
    uint32_t build_id_len;
    uint8_t state;            /* enum ct_modstate of the module (CT_MOD_OK if none) */
    bool eval;                /* the function is CPython's evaluation loop */
    const char *func;         /* NULL: unknown (owned by the symbolizer) */
    uint64_t off;             /* ip - function start, or ip - load bias when func is NULL */
    const char *file;         /* NULL: no line information */
    int line;
};

struct ct_pframe {
    int32_t pycode;           /* index into t.pycodes, -1: no record names the code */
    const char *qualname;     /* the code's names (NULL when pycode < 0), not cleaned */
    size_t qualname_len;
    const char *filename;
    size_t filename_len;
    uint64_t code;
    int line;                 /* -1: unknown */
    bool entry;               /* CT_PYFRAME_ENTRY: the first frame its C call of the
                               * evaluation loop ran (frames up to it, from the
                               * innermost, belong to that call) */
};

struct ct_rstack {
    size_t n0, nn;            /* native frames: nframes[n0, n0 + nn) */
    size_t p0, np;            /* Python frames: pframes[p0, p0 + np) */
    uint32_t flags;           /* CT_STACK_* */
    uint32_t id;              /* the file's id */
};

/* Does the stack hold a Python frame that ran (not a marker of none)? */
static inline bool ct_rstack_has_python(const struct ct_rstack *rs)
{
    return rs->np > 0 && !(rs->flags & CT_STACK_NO_PYTHON);
}

/* A module some frame fell into and that could not be used. */
struct ct_badmod {
    int32_t module;
    const char *path;         /* the module's path, not cleaned */
    size_t path_len;
    uint8_t state;
    const char *why;          /* owned by the symbolizer */
    uint64_t frames;          /* frames of this process's stacks inside it */
};

struct ct_resolved {
    struct ct_rstack *stacks; /* parallel to t.stacks */
    size_t nstacks;
    struct ct_nframe *nframes;
    struct ct_pframe *pframes;
    struct ct_badmod *bad;
    size_t nbad;
};

/* Resolves every stack of p (once; p->where). S must outlive p->where. */
void ct_where_resolve(struct ct_proc *p, struct ct_symbolizer *S);
void ct_where_free(struct ct_resolved *w);

/* Is this function name CPython's evaluation loop (also its .cold part)? */
bool ct_is_eval_loop(const char *func);

/* The base name of module m's path (for module+offset), not cleaned. */
const char *ct_module_basename(const struct ct_module *m, size_t *len);

#endif
