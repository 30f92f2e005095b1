/*
 * where.c - see where.h. Modules are searched by address with one sorted
 * table per process; symbols are cached per module by the symbolizer, so a
 * process costs one binary search per frame plus one lookup per distinct
 * address.
 */
#include "where.h"

#include <stdlib.h>
#include <string.h>

#include "linetable.h"

bool ct_is_eval_loop(const char *func)
{
    /* Any interpreter's: a process without a usable layout still has
     * native stacks worth merging with its Python frames. */
    return ct_pyver_is_eval_func(NULL, func);
}

const char *ct_module_basename(const struct ct_module *m, size_t *len)
{
    *len = m->path.len;
    return ct_basename(m->path.s ? m->path.s : "", len);
}

struct mod_key {
    uint64_t start, end;
    int32_t idx;
};

static int cmp_mod(const void *x, const void *y)
{
    const struct mod_key *a = x, *b = y;
    if (a->start != b->start)
        return a->start < b->start ? -1 : 1;
    return a->idx < b->idx ? -1 : a->idx > b->idx;
}

/* The module whose [start, end) holds ip: of those starting at or below
 * ip, the one starting highest (modules do not overlap in a real process;
 * in a hostile trace any answer is as good as another). */
static int32_t find_module(const struct mod_key *v, size_t n, uint64_t ip)
{
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (v[mid].start <= ip)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo > 0 && ip < v[lo - 1].end ? v[lo - 1].idx : -1;
}

static void note_bad(struct ct_resolved *w, size_t *cap, int32_t module, uint8_t state, const char *why)
{
    for (size_t i = 0; i < w->nbad; i++)
        if (w->bad[i].module == module) {
            w->bad[i].frames++;
            return;
        }
    if (w->nbad == *cap) {
        *cap = *cap ? 2 * *cap : 8;
        w->bad = xreallocarray(w->bad, *cap, sizeof *w->bad);
    }
    w->bad[w->nbad++] = (struct ct_badmod){ module, NULL, 0, state, why, 1 };
}

void ct_where_resolve(struct ct_proc *p, struct ct_symbolizer *S)
{
    if (p->where)
        return;
    const struct ct_trace *t = &p->t;
    struct ct_resolved *w = xcalloc(1, sizeof *w);
    p->where = w;
    w->stacks = xcalloc(t->nstacks ? t->nstacks : 1, sizeof *w->stacks);
    w->nstacks = t->nstacks;
    w->nframes = xcalloc(t->nstack_ips ? t->nstack_ips : 1, sizeof *w->nframes);
    w->pframes = xcalloc(t->nstack_py ? t->nstack_py : 1, sizeof *w->pframes);
    struct mod_key *mods = xmalloc((t->nmodules ? t->nmodules : 1) * sizeof *mods);
    for (size_t i = 0; i < t->nmodules; i++)
        mods[i] = (struct mod_key){ t->modules[i].start, t->modules[i].end, (int32_t)i };
    qsort(mods, t->nmodules, sizeof *mods, cmp_mod);
    enum ct_linetable_format fmt = ct_linetable_format_of(p->layout);
    size_t badcap = 0;

    for (size_t s = 0; s < t->nstacks; s++) {
        const struct ct_stack *st = &t->stacks[s];
        struct ct_rstack *rs = &w->stacks[s];
        *rs = (struct ct_rstack){ st->ips, st->native_depth, st->py, st->py_depth, st->flags, st->id };
        for (size_t k = 0; k < st->native_depth; k++) {
            struct ct_nframe *f = &w->nframes[st->ips + k];
            uint64_t ip = t->stack_ips[st->ips + k];
            *f = (struct ct_nframe){ .ip = ip, .module = find_module(mods, t->nmodules, ip), .off = ip };
            if (f->module < 0)
                continue;
            const struct ct_module *m = &t->modules[f->module];
            f->module_path = m->path.s ? m->path.s : "";
            f->module_path_len = m->path.len;
            f->module_base = ct_module_basename(m, &f->module_base_len);
            f->module_start = m->start;
            f->module_end = m->end;
            f->build_id = m->build_id;
            f->build_id_len = m->build_id_len <= sizeof m->build_id ? m->build_id_len : sizeof m->build_id;
            f->off = ip - m->base;
            /* A return address is looked up at the call before it. */
            uint64_t look = k > 0 && f->off > 0 ? f->off - 1 : f->off;
            struct ct_sym sym;
            f->state = (uint8_t)ct_symbolize(S, m, look, &sym);
            if (f->state != CT_MOD_OK) {
                const char *why;
                ct_module_state(S, m, &why);
                note_bad(w, &badcap, f->module, f->state, why);
                continue;
            }
            if (sym.func) {
                f->func = sym.func;
                f->off = f->off - sym.func_addr;
                f->eval = ct_is_eval_loop(sym.func);
            }
            f->file = sym.file;
            f->line = sym.line;
        }
        for (size_t k = 0; k < st->py_depth; k++) {
            const struct ct_pyframe_r *fr = &t->stack_py[st->py + k];
            struct ct_pframe *f = &w->pframes[st->py + k];
            *f = (struct ct_pframe){ .pycode = fr->pycode, .code = fr->code, .line = -1,
                                     .entry = fr->flags & CT_PYFRAME_ENTRY };
            if (fr->pycode >= 0) {
                const struct ct_pycode *pc = &t->pycodes[fr->pycode];
                f->qualname = pc->qualname.s;
                f->qualname_len = pc->qualname.len;
                f->filename = pc->filename.s;
                f->filename_len = pc->filename.len;
                f->line = ct_py_line(fmt, pc->linetable, pc->linetable_len, pc->firstlineno, fr->lasti);
            }
        }
    }
    free(mods);
    for (size_t i = 0; i < w->nbad; i++) {
        const struct ct_module *m = &t->modules[w->bad[i].module];
        w->bad[i].path = m->path.s ? m->path.s : "";
        w->bad[i].path_len = m->path.len;
    }
}

void ct_where_free(struct ct_resolved *w)
{
    if (!w)
        return;
    free(w->stacks);
    free(w->nframes);
    free(w->pframes);
    free(w->bad);
    free(w);
}
