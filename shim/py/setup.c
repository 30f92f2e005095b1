/*
 * setup.c - in the child, at set-up: the interpreter's version data
 * (common/pyver/), the PYTHON record, the PYLAYOUT record (the layout the
 * evidence will be decoded with, so the analyzer uses the same), and the
 * per-child state of shim/py/.
 */
#include "fields.h"
#include "py.h"

static void put_str(uint8_t *s, const char *text, size_t n)
{
    s[0] = (uint8_t)(n & 0xff);
    s[1] = (uint8_t)(n >> 8);
    ct_memcpy(s + 2, text, n);
}

static int write_python(struct ct_state *st, const struct ct_pyver *v)
{
    char version[32];
    size_t vlen = ct_pyversion_format(ct_cfg.py_hexversion, version, sizeof version);
    size_t plen = ct_strlen(ct_cfg.py_path);
    size_t size = (sizeof(struct ct_rec_python) + 4 + vlen + plen + 7) & ~(size_t)7;
    struct ct_rec_python *rec = ct_writer_reserve(&st->w, size, 0);
    if (!rec)
        return -1;
    rec->hexversion = ct_cfg.py_hexversion;
    rec->runtime = ct_cfg.py_runtime;
    rec->layout_known = v != NULL;
    rec->flags = (ct_cfg.py_shared ? CT_PY_SHARED : 0) | ct_cfg.gc_freeze_flags;
    put_str((uint8_t *)(rec + 1), version, vlen);
    put_str((uint8_t *)(rec + 1) + 2 + vlen, ct_cfg.py_path, plen);
    ct_writer_publish(rec, CT_REC_PYTHON, (uint32_t)size);
    return 0;
}

static int write_pylayout(struct ct_state *st, const struct ct_pyver *v)
{
    size_t n = ct_pyver_nfields(), nlen = ct_strlen(v->name);
    size_t size = (sizeof(struct ct_rec_pylayout) + n * sizeof(struct ct_pylayout_field) + 2 + nlen + 7) & ~(size_t)7;
    struct ct_rec_pylayout *rec = ct_writer_reserve(&st->w, size, 0);
    if (!rec)
        return -1;
    rec->nfields = (uint32_t)n;
    rec->reserved = 0;
    struct ct_pylayout_field *f = (struct ct_pylayout_field *)(rec + 1);
    for (size_t i = 0; i < n; i++) {
        ct_pyver_field(v, i, &f[i].id, &f[i].value);
        f[i].reserved = 0;
    }
    put_str((uint8_t *)(f + n), v->name, nlen);
    ct_writer_publish(rec, CT_REC_PYLAYOUT, (uint32_t)size);
    return 0;
}

int ct_py_setup(struct ct_state *st)
{
    ct_py = NULL;
    if (!ct_cfg.py_hexversion)
        return 0;   /* not a Python process */
    const struct ct_pyver *v = ct_pyver_for(ct_cfg.py_hexversion);
    if (write_python(st, v))
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
    info->dec = (struct ct_pydecoder){.v = v, .mem = &info->mem, .type_of = ct_py_type_cached, .type_ctx = info};
    info->guarded = st->mode != CT_MODE_UFFD_ASYNC;   /* uffd-async: once its handler is in */
    ct_py_summary_setup(st->mode == CT_MODE_UFFD_ASYNC);
    ct_py = info;
    return 0;
}

const struct ct_pydecoder *ct_py_decoder(void)
{
    return ct_py ? &ct_py->dec : NULL;
}
