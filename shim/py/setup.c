/*
 * setup.c - in the child, at set-up: the interpreter's version data
 * (common/pyver/), the PYTHON record, the PYLAYOUT record (the layout the
 * evidence will be decoded with, so the analyzer uses the same; 3.13+: with
 * the offsets the process publishes, identify.c), a NOTE when those were
 * refused, and the per-child state of shim/py/.
 */
#include "fields.h"
#include "py.h"

static int write_python(struct ct_state *st, const struct ct_pyver *v)
{
    static const char ft[] = " free-threaded";
    char version[48];
    size_t vlen = ct_pyversion_format(ct_cfg.py_hexversion, version, sizeof version - (sizeof ft - 1));
    if (ct_cfg.py_free_threaded) {
        ct_memcpy(version + vlen, ft, sizeof ft);    /* "3.13.5 free-threaded", in the report */
        vlen += sizeof ft - 1;
    }
    return ct_rec_python(&st->w, ct_cfg.py_hexversion, ct_cfg.py_runtime, v != NULL,
                         (ct_cfg.py_shared ? CT_PY_SHARED : 0) | (ct_cfg.py_free_threaded ? CT_PY_FREE_THREADED : 0) |
                             ct_cfg.gc_freeze_flags | ct_cfg.py_alloc_flags,
                         version, vlen, ct_cfg.py_path);
}

/* The layout as (id, value) pairs (common/pyver/fields.h). */
static void layout_field(const void *v, size_t i, uint32_t *id, uint64_t *value)
{
    ct_pyver_field(v, i, id, value);
}

static int write_pylayout(struct ct_state *st, const struct ct_pyver *v)
{
    return ct_rec_pylayout(&st->w, (uint32_t)ct_pyver_nfields(), layout_field, v, v->name);
}

int ct_py_setup(struct ct_state *st)
{
    ct_py = NULL;
    if (!ct_cfg.py_hexversion)
        return 0;   /* not a Python process */
    const struct ct_discovery *found;
    const struct ct_pyver *v = ct_py_layout(&found);
    /* A free-threaded build is never decoded with a GIL build's table,
     * whatever discovery fell back to. */
    if (v && ct_cfg.py_free_threaded && v->header != CT_OBJHEAD_FREE_THREADED)
        v = ct_pyver_for_build(ct_cfg.py_hexversion, 1);
    if (write_python(st, v))
        return -1;
    /* Published offsets that failed a check: which, and what was used. */
    if (found->status == CT_DISCOVERY_REFUSED && ct_rec_note(&st->w, CT_NOTE_INFO, found->why))
        return -1;
    if (!v)
        return 0;
    if (write_pylayout(st, v))
        return -1;
    struct ct_pyinfo *info = ct_arena_alloc(sizeof *info);
    struct ct_typeent *types = ct_arena_alloc(CT_TYPESET_SIZE * sizeof *types);
    if (!info || !types)
        return -1;
    info->v = v;
    info->st = st;
    info->types = types;
    info->mem = (struct ct_memread){ct_py_guarded_read, info};
    info->dec = (struct ct_pydecoder){.v = v, .mem = &info->mem, .type_of = ct_py_type_cached, .type_ctx = info,
                                      .no_pymalloc = !!(ct_cfg.py_alloc_flags & CT_PY_NO_PYMALLOC)};
    info->gc_at_fork = info->gc_recorded = -1;   /* until reads begin (collections.c) */
    info->guarded = st->backend->precise;   /* scanning backends: once their handler is in */
    ct_py_summary_setup(!st->backend->precise);
    ct_py = info;
    return 0;
}

const struct ct_pydecoder *ct_py_decoder(void)
{
    return ct_py ? &ct_py->dec : NULL;
}
