/*
 * gcstate.c - see gcstate.h: the collector's counts and states, read.
 */
#include "gcstate.h"

/* The main interpreter, or 0. */
static uint64_t main_interp(const struct ct_pyver *v, const struct ct_memread *m, uint64_t runtime)
{
    uint64_t interp = 0;
    if (!runtime || ct_mem_u64(m, runtime + v->L.rt_interpreters_head, &interp))
        return 0;
    return interp;
}

int64_t ct_py_full_collections(const struct ct_pyver *v, const struct ct_memread *m, uint64_t runtime)
{
    uint64_t interp, n = 0;
    if (!v->L.is_gc_full_collections || !(interp = main_interp(v, m, runtime)) ||
        ct_mem_u64(m, interp + v->L.is_gc_full_collections, &n) || n > INT64_MAX)
        return -1;
    return (int64_t)n;
}

/* Free-threaded: the frozen bit of an object every interpreter has from
 * its start (see pyver.h, is_sysdict). */
static bool sysdict_frozen(const struct ct_pyver *v, const struct ct_memread *m, uint64_t runtime)
{
    uint64_t interp, sysdict = 0;
    uint8_t bits = 0;
    if (!v->L.is_sysdict || !v->L.gc_bits_frozen || !(interp = main_interp(v, m, runtime)) ||
        ct_mem_u64(m, interp + v->L.is_sysdict, &sysdict) || !sysdict ||
        ct_mem_read(m, sysdict + v->L.ob_gc_bits, &bits, 1))
        return false;
    return (bits & v->L.gc_bits_frozen) != 0;
}

bool ct_py_gc_frozen(const struct ct_pyver *v, const struct ct_memread *m, uint64_t runtime)
{
    switch (v->header) {
    case CT_OBJHEAD_GIL:
        break;
    case CT_OBJHEAD_FREE_THREADED:
        return sysdict_frozen(v, m, runtime);
    }
    uint64_t interp, next = 0;
    if (!v->L.is_gc_permanent_head || !(interp = main_interp(v, m, runtime)))
        return false;
    uint64_t head = interp + v->L.is_gc_permanent_head, at = head;
    for (int n = 0; n < CT_PY_FROZEN_MIN; n++) {
        if (ct_mem_u64(m, at, &next) || !next || next == head)
            return false;
        at = next;
    }
    return true;
}

bool ct_py_finalizing(const struct ct_pyver *v, const struct ct_memread *m, uint64_t runtime)
{
    uint64_t f = 0;
    return v->L.rt_finalizing && runtime && !ct_mem_u64(m, runtime + v->L.rt_finalizing, &f) && f;
}
