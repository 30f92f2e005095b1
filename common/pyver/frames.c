/*
 * frames.c - see frames.h.
 */
#include "frames.h"

static uint64_t get_u64(const uint8_t *p)
{
    uint64_t v;
    __builtin_memcpy(&v, p, sizeof v);
    return v;
}

/* Is ts the thread state of the thread (tid, pthread)? By its native
 * thread id where the version has one, else by its pthread_self(). */
static int is_thread(const struct ct_pydecoder *d, uint64_t ts, int tid, uint64_t pthread)
{
    const struct ct_pylayout *L = &d->v->L;
    uint64_t id = 0;
    if (L->ts_native_thread_id)
        return !ct_mem_u64(d->mem, ts + L->ts_native_thread_id, &id) && id == (uint64_t)tid;
    if (L->ts_pthread_id)
        return pthread && !ct_mem_u64(d->mem, ts + L->ts_pthread_id, &id) && id == pthread;
    return 0;
}

uintptr_t ct_py_thread_state(const struct ct_pydecoder *d, uintptr_t rt, int tid, uint64_t pthread)
{
    const struct ct_pylayout *L = &d->v->L;
    const struct ct_memread *m = d->mem;
    uint64_t t = 0;
    /* Usually the writing thread holds the GIL: try that first, where the
     * runtime records it. */
    if (L->rt_tstate_current && !ct_mem_u64(m, rt + L->rt_tstate_current, &t) && t &&
        is_thread(d, t, tid, pthread))
        return (uintptr_t)t;
    uint64_t interp = 0;
    if (ct_mem_u64(m, rt + L->rt_interpreters_head, &interp))
        return 0;
    for (int ni = 0; interp && ni < 64; ni++) {
        uint64_t ts = 0;
        ct_mem_u64(m, interp + L->is_threads_head, &ts);
        for (int nt = 0; ts && nt < 4096; nt++) {
            if (is_thread(d, ts, tid, pthread))
                return (uintptr_t)ts;
            if (ct_mem_u64(m, ts + L->ts_next, &ts))
                break;
        }
        if (ct_mem_u64(m, interp + L->is_next, &interp))
            break;
    }
    return 0;
}

int ct_pyver_has_stacks(const struct ct_pyver *v)
{
    switch (v->frame_chain) {
    case CT_PYCHAIN_NONE:
        return 0;
    case CT_PYCHAIN_CFRAME_311:
    case CT_PYCHAIN_CFRAME_312:
    case CT_PYCHAIN_TSTATE_313:
    case CT_PYCHAIN_FRAMEOBJECT_39:
    case CT_PYCHAIN_FRAMEOBJECT_310:
    case CT_PYCHAIN_TSTATE_314:
        return 1;
    }
    return 0;   /* a value from a hostile PYLAYOUT record */
}

/* The thread's innermost frame, or 0. */
static uint64_t current_frame(const struct ct_pydecoder *d, uintptr_t ts)
{
    const struct ct_pylayout *L = &d->v->L;
    switch (d->v->frame_chain) {
    case CT_PYCHAIN_NONE:
        return 0;
    case CT_PYCHAIN_CFRAME_311:
    case CT_PYCHAIN_CFRAME_312: {
        uint64_t cframe = 0, frame = 0;
        if (!ts || ct_mem_u64(d->mem, ts + L->ts_cframe, &cframe) || !cframe ||
            ct_mem_u64(d->mem, cframe + L->cframe_current_frame, &frame))
            return 0;
        return frame;
    }
    case CT_PYCHAIN_TSTATE_313:
    case CT_PYCHAIN_FRAMEOBJECT_39:
    case CT_PYCHAIN_FRAMEOBJECT_310:
    case CT_PYCHAIN_TSTATE_314: {
        uint64_t frame = 0;
        if (!ts || ct_mem_u64(d->mem, ts + L->ts_current_frame, &frame))
            return 0;
        return frame;
    }
    }
    return 0;
}

enum frame_kind { FRAME_PYTHON, FRAME_PYTHON_ENTRY, FRAME_SHIM };

/* The instruction frame f (as frame_kind reads it) is at, in code units
 * of code; -1 when it has not started, or the number makes no sense. */
static int32_t frame_lasti(const struct ct_pyver *v, const uint8_t *f, uint64_t code)
{
    const struct ct_pylayout *L = &v->L;
    int64_t lasti = -1;
    int32_t f_lasti;
    switch (v->frame_chain) {
    case CT_PYCHAIN_NONE:
        break;
    case CT_PYCHAIN_CFRAME_311:
    case CT_PYCHAIN_CFRAME_312:
    case CT_PYCHAIN_TSTATE_313:
    case CT_PYCHAIN_TSTATE_314:
        /* prev_instr points into the code object's own bytecode */
        lasti = ((int64_t)get_u64(f + L->fr_prev_instr) - (int64_t)(code + L->co_code_adaptive)) / L->code_unit;
        break;
    case CT_PYCHAIN_FRAMEOBJECT_39:
        __builtin_memcpy(&f_lasti, f + L->fr_prev_instr, 4);
        lasti = f_lasti < 0 ? -1 : f_lasti / L->code_unit;    /* bytes */
        break;
    case CT_PYCHAIN_FRAMEOBJECT_310:
        __builtin_memcpy(&f_lasti, f + L->fr_prev_instr, 4);
        lasti = f_lasti;                                       /* code units */
        break;
    }
    return lasti < -1 || lasti > (1 << 30) ? -1 : (int32_t)lasti;
}

/* What the frame f (its first fr_owner + 1 bytes) is, by the chain's rules. */
static enum frame_kind frame_kind(const struct ct_pyver *v, const uint8_t *f)
{
    const struct ct_pylayout *L = &v->L;
    switch (v->frame_chain) {
    case CT_PYCHAIN_NONE:
        break;
    case CT_PYCHAIN_CFRAME_311:
        return f[L->fr_is_entry] ? FRAME_PYTHON_ENTRY : FRAME_PYTHON;
    case CT_PYCHAIN_CFRAME_312:
    case CT_PYCHAIN_TSTATE_313:
        /* FRAME_OWNED_BY_CSTACK (3.12, 3.13): the shim frame
         * _PyEval_EvalFrameDefault links in before the frames it runs */
        return f[L->fr_owner] == 3 ? FRAME_SHIM : FRAME_PYTHON;
    case CT_PYCHAIN_FRAMEOBJECT_39:
    case CT_PYCHAIN_FRAMEOBJECT_310:
        /* _PyEval_EvalFrameDefault runs one frame object per C call */
        return FRAME_PYTHON_ENTRY;
    case CT_PYCHAIN_TSTATE_314:
        /* 3.14: FRAME_OWNED_BY_INTERPRETER 3 (the evaluation loop's entry
         * frame), FRAME_OWNED_BY_CSTACK 4; 3.15: INTERPRETER 3 and the
         * thread state's base sentinel 4 (FRAME_OWNED_BY_THREAD_STATE) */
        return f[L->fr_owner] >= 3 ? FRAME_SHIM : FRAME_PYTHON;
    }
    return FRAME_PYTHON;
}

/* The code object of a Python frame: 3.14's f_executable is a _PyStackRef
 * whose low 2 bits are tags (Py_TAG_BITS). */
static uint64_t frame_code(const struct ct_pyver *v, uint64_t executable)
{
    return v->frame_chain == CT_PYCHAIN_TSTATE_314 ? executable & ~(uint64_t)3 : executable;
}

int ct_py_frames(const struct ct_pydecoder *d, uintptr_t ts, struct ct_pyframe *out, int max, int *truncated)
{
    const struct ct_pylayout *L = &d->v->L;
    uint64_t frame = current_frame(d, ts);
    *truncated = 0;
    int n = 0;
    uint8_t f[128];
    const uint32_t fields[][2] = {{L->fr_code, 8}, {L->fr_previous, 8}, {L->fr_prev_instr, 8},
                                  {L->fr_is_entry, 1}, {L->fr_owner, 1}};
    size_t flen = ct_py_fields_end(fields, sizeof fields / sizeof fields[0]);
    if (flen > sizeof f)
        return 0;
    while (frame && n < max) {
        if (ct_mem_read(d->mem, frame, f, flen))
            break;
        uint64_t code = frame_code(d->v, get_u64(f + L->fr_code)), prev = get_u64(f + L->fr_previous);
        switch (frame_kind(d->v, f)) {
        case FRAME_SHIM:
            /* 3.12: the C call's own frame, after the first frame it ran */
            if (n)
                out[n - 1].flags |= CT_PYFRAME_ENTRY;
            break;
        case FRAME_PYTHON:
        case FRAME_PYTHON_ENTRY:
            if (!code)
                break;
            out[n].code = code;
            out[n].lasti = frame_lasti(d->v, f, code);
            out[n].flags = frame_kind(d->v, f) == FRAME_PYTHON_ENTRY ? CT_PYFRAME_ENTRY : 0;
            n++;
            break;
        }
        frame = prev;
    }
    *truncated = frame != 0;
    return n;
}

size_t ct_py_read_ascii(const struct ct_pydecoder *d, uintptr_t obj, char *out, size_t cap)
{
    const struct ct_pylayout *L = &d->v->L;
    uint8_t hdr[128];
    const uint32_t fields[][2] = {{L->ascii_length, 8}, {L->ascii_state, 4}};
    if (!obj || L->compact_size > sizeof hdr || ct_py_fields_end(fields, 2) > L->compact_size ||
        ct_mem_read(d->mem, obj, hdr, L->compact_size))
        return 0;
    int64_t len = (int64_t)get_u64(hdr + L->ascii_length);
    uint32_t state;
    __builtin_memcpy(&state, hdr + L->ascii_state, 4);
    unsigned kind = (state >> L->unicode_kind_shift) & 7, compact = (state >> L->unicode_compact_bit) & 1,
             ascii = (state >> L->unicode_ascii_bit) & 1;
    if (!compact || kind != 1 || len < 0)   /* kind 1: PyUnicode_1BYTE_KIND */
        return 0;
    size_t n = (size_t)len < cap ? (size_t)len : cap;
    uintptr_t data = obj + (ascii ? L->ascii_size : L->compact_size);
    return ct_mem_read(d->mem, data, out, n) ? 0 : n;
}

int ct_py_read_code(const struct ct_pydecoder *d, uintptr_t code, struct ct_pycodeinfo *out)
{
    const struct ct_pylayout *L = &d->v->L;
    uint8_t co[256];
    const uint32_t fields[][2] = {{L->co_filename, 8}, {L->co_qualname, 8}, {L->co_linetable, 8},
                                  {L->co_firstlineno, 4}};
    size_t len = ct_py_fields_end(fields, 4);
    if (len > sizeof co || ct_mem_read(d->mem, code, co, len))
        return -1;
    out->filename = (uintptr_t)get_u64(co + L->co_filename);
    out->qualname = (uintptr_t)get_u64(co + L->co_qualname);
    out->linetable = (uintptr_t)get_u64(co + L->co_linetable);
    __builtin_memcpy(&out->firstlineno, co + L->co_firstlineno, 4);
    return 0;
}

int64_t ct_py_bytes_len(const struct ct_pydecoder *d, uintptr_t bytes)
{
    int64_t len = -1;
    if (!bytes || ct_mem_read(d->mem, bytes + d->v->L.ob_size, &len, sizeof len))
        return -1;
    return len;
}

uintptr_t ct_py_bytes_data(const struct ct_pydecoder *d, uintptr_t bytes)
{
    return bytes + d->v->L.bytes_sval;
}
