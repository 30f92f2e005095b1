/*
 * stacks.c - where a first write came from: the native backtrace from the
 * faulting instruction (libunwind, from the signal's context) and the
 * Python stack of the faulting thread (read from the interpreter's frame
 * structures, never by calling into Python).
 *
 * Stacks are deduplicated: a hash of the frames maps to an id, and the
 * first thread to insert a stack writes its CT_REC_STACK record; a write
 * event carries only the id. Code objects are recorded once each
 * (CT_REC_PYCODE: names, first line, line table) so the analyzer resolves
 * lines offline.
 *
 * Runs in the fault handler: no allocation (tables live in the arena), no
 * locks of our own; Python structures are read with process_vm_readv
 * (python.c), because a frame pointer could be stale. libunwind keeps its
 * caches in its own data, which the sync backends leave untracked.
 */
#define UNW_LOCAL_ONLY
#include <libunwind.h>
#include <sys/uio.h>

#include "ct_shim.h"
#include "pylayout.h"

#define CT_STACKSET_SIZE 65536u   /* power of two */
#define CT_CODESET_SIZE  16384u
#define CT_MAX_PY_DEPTH  128

struct ct_stackent {
    _Atomic uint64_t hash;   /* 0 = empty */
    _Atomic uint32_t id;     /* 0 until its record is written */
};

struct ct_stacks {
    struct ct_stackent *set;
    _Atomic uintptr_t *codes;
    _Atomic uint32_t next_id;
    int native, python, depth;
};

static struct ct_stacks *stk;

int ct_py_read(uintptr_t addr, void *out, size_t n);
const struct ct_pylayout *ct_py_layout(void);

static uint64_t mix(uint64_t h, uint64_t v)
{
    h ^= v + 0x9E3779B97F4A7C15ull + (h << 6) + (h >> 2);
    return h * 0xff51afd7ed558ccdull;
}

/* ---- code objects ---------------------------------------------------------- */

static size_t read_str(uintptr_t obj, char *out, size_t cap)
{
    const struct ct_pylayout *L = ct_py_layout();
    uint8_t hdr[80];
    if (!obj || ct_py_read(obj, hdr, L->compact_size))
        return 0;
    int64_t len;
    uint32_t state;
    ct_memcpy(&len, hdr + L->ascii_length, 8);
    ct_memcpy(&state, hdr + L->ascii_state, 4);
    /* state bits: interned:2 kind:3 compact:1 ascii:1 ready:1 */
    unsigned kind = (state >> 2) & 7, compact = (state >> 5) & 1, ascii = (state >> 6) & 1;
    if (!compact || kind != 1 || len < 0)
        return 0;
    size_t n = (size_t)len < cap ? (size_t)len : cap;
    uintptr_t data = obj + (ascii ? L->ascii_size : L->compact_size);
    return ct_py_read(data, out, n) ? 0 : n;
}

static void note_code(struct ct_state *st, uintptr_t code)
{
    uint32_t mask = CT_CODESET_SIZE - 1;
    uint32_t h = (uint32_t)((code >> 4) * 0x9E3779B1u) & mask;
    for (uint32_t i = 0; i < CT_CODESET_SIZE; i++, h = (h + 1) & mask) {
        uintptr_t cur = atomic_load(&stk->codes[h]);
        if (cur == code)
            return;
        if (cur)
            continue;
        uintptr_t expected = 0;
        if (!atomic_compare_exchange_strong(&stk->codes[h], &expected, code)) {
            if (expected == code)
                return;
            continue;
        }
        break;
    }
    const struct ct_pylayout *L = ct_py_layout();
    uint8_t co[256];
    if (ct_py_read(code, co, L->co_code_adaptive))
        return;
    uint64_t filename, qualname, linetable;
    int32_t firstlineno;
    ct_memcpy(&filename, co + L->co_filename, 8);
    ct_memcpy(&qualname, co + L->co_qualname, 8);
    ct_memcpy(&linetable, co + L->co_linetable, 8);
    ct_memcpy(&firstlineno, co + L->co_firstlineno, 4);
    char qn[256], fn[1024];
    size_t qlen = read_str(qualname, qn, sizeof qn), flen = read_str(filename, fn, sizeof fn);
    /* co_linetable is a bytes object: ob_size at +16, data at +32 */
    int64_t ltlen = 0;
    if (!linetable || ct_py_read(linetable + L->ob_size, &ltlen, 8) || ltlen < 0)
        ltlen = 0;
    if (ltlen > 16384)
        ltlen = 0;   /* a huge function: lines unknown rather than a huge record */
    ct_rec_pycode(&st->w, code, firstlineno, qn, qlen, fn, flen, linetable + 32, (uint32_t)ltlen, ct_py_read);
}

/* ---- the Python stack of this thread -------------------------------------- */

static uintptr_t thread_state(int tid)
{
    const struct ct_pylayout *L = ct_py_layout();
    uint64_t t = 0, native = 0;
    uintptr_t rt = ct_cfg.py_runtime;
    /* Usually the writing thread holds the GIL: try that first. */
    if (!ct_py_read(rt + L->rt_tstate_current, &t, 8) && t &&
        !ct_py_read(t + L->ts_native_thread_id, &native, 8) && native == (uint64_t)tid)
        return (uintptr_t)t;
    uint64_t interp = 0;
    if (ct_py_read(rt + L->rt_interpreters_head, &interp, 8))
        return 0;
    for (int ni = 0; interp && ni < 64; ni++) {
        uint64_t ts = 0;
        ct_py_read(interp + L->is_threads_head, &ts, 8);
        for (int nt = 0; ts && nt < 4096; nt++) {
            if (!ct_py_read(ts + L->ts_native_thread_id, &native, 8) && native == (uint64_t)tid)
                return (uintptr_t)ts;
            if (ct_py_read(ts + L->ts_next, &ts, 8))
                break;
        }
        if (ct_py_read(interp + L->is_next, &interp, 8))
            break;
    }
    return 0;
}

static int python_frames(struct ct_state *st, struct ct_pyframe *out, int max, uint32_t *flags)
{
    const struct ct_pylayout *L = ct_py_layout();
    uintptr_t ts = thread_state(ct_gettid());
    uint64_t cframe = 0, frame = 0;
    if (!ts || ct_py_read(ts + L->ts_cframe, &cframe, 8) || !cframe ||
        ct_py_read(cframe + L->cframe_current_frame, &frame, 8) || !frame) {
        *flags |= CT_STACK_NO_PYTHON;
        return 0;
    }
    int n = 0;
    while (frame && n < max) {
        uint8_t f[80];
        if (ct_py_read(frame, f, (size_t)L->fr_owner + 1))
            break;
        uint64_t code, prev, instr;
        ct_memcpy(&code, f + L->fr_code, 8);
        ct_memcpy(&prev, f + L->fr_previous, 8);
        ct_memcpy(&instr, f + L->fr_prev_instr, 8);
        if (code) {
            int64_t lasti = ((int64_t)instr - (int64_t)(code + L->co_code_adaptive)) / L->code_unit;
            out[n].code = code;
            out[n].lasti = lasti < -1 || lasti > (1 << 30) ? -1 : (int32_t)lasti;
            out[n].flags = f[L->fr_is_entry] ? CT_PYFRAME_ENTRY : 0;
            note_code(st, (uintptr_t)code);
            n++;
        }
        frame = prev;
    }
    if (frame)
        *flags |= CT_STACK_PY_TRUNCATED;
    if (!n)
        *flags |= CT_STACK_NO_PYTHON;
    return n;
}

/* ---- capture --------------------------------------------------------------- */

uint32_t ct_stack_capture(struct ct_state *st, void *uc)
{
    if (!stk)
        return 0;
    uint64_t ips[CT_MAX_STACK_DEPTH];
    struct ct_pyframe frames[CT_MAX_PY_DEPTH];
    int nn = 0, np = 0;
    uint32_t flags = 0;
    if (stk->native) {
        unw_cursor_t cursor;
        if (unw_init_local2(&cursor, (unw_context_t *)uc, UNW_INIT_SIGNAL_FRAME) == 0) {
            int more = 1;
            while (nn < stk->depth && more > 0) {
                unw_word_t ip;
                if (unw_get_reg(&cursor, UNW_REG_IP, &ip) < 0 || !ip)
                    break;
                ips[nn++] = ip;
                more = unw_step(&cursor);
            }
            if (nn == stk->depth && more > 0)
                flags |= CT_STACK_NATIVE_TRUNCATED;
        }
        if (!nn)
            flags |= CT_STACK_NO_NATIVE;
    } else {
        flags |= CT_STACK_NO_NATIVE;
    }
    if (stk->python && ct_py_layout())
        np = python_frames(st, frames, stk->depth < CT_MAX_PY_DEPTH ? CT_MAX_PY_DEPTH : stk->depth, &flags);
    else
        flags |= CT_STACK_NO_PYTHON;

    uint64_t h = mix(0x243F6A8885A308D3ull, flags);
    for (int i = 0; i < nn; i++)
        h = mix(h, ips[i]);
    for (int i = 0; i < np; i++)
        h = mix(mix(h, frames[i].code), (uint64_t)(uint32_t)frames[i].lasti);
    if (!h)
        h = 1;

    uint32_t mask = CT_STACKSET_SIZE - 1;
    uint32_t slot = (uint32_t)(h >> 32) & mask;
    for (uint32_t i = 0; i < CT_STACKSET_SIZE; i++, slot = (slot + 1) & mask) {
        struct ct_stackent *e = &stk->set[slot];
        uint64_t cur = atomic_load(&e->hash);
        if (cur == 0) {
            uint64_t expected = 0;
            if (!atomic_compare_exchange_strong(&e->hash, &expected, h)) {
                if (expected != h)
                    continue;
                cur = h;
            } else {
                uint32_t id = atomic_fetch_add(&stk->next_id, 1) + 1;
                int written = ct_rec_stack(&st->w, id, flags, ips, (uint16_t)nn, frames, (uint16_t)np) == 0;
                atomic_store(&e->id, written ? id : UINT32_MAX);
                return written ? id : 0;
            }
        }
        if (cur == h) {
            uint32_t id;
            while (!(id = atomic_load(&e->id)))
                ;   /* its inserter is writing the record */
            return id == UINT32_MAX ? 0 : id;
        }
    }
    return 0;   /* table full: the event goes without a stack */
}

int ct_stacks_setup(struct ct_state *st)
{
    stk = NULL;
    if (!st->backend->stacks || ct_cfg.stack_mode == 0)
        return 0;
    struct ct_stacks *s = ct_arena_alloc(sizeof *s);
    if (!s)
        return -1;
    s->set = ct_arena_alloc(CT_STACKSET_SIZE * sizeof *s->set);
    s->codes = ct_arena_alloc(CT_CODESET_SIZE * sizeof *s->codes);
    if (!s->set || !s->codes)
        return -1;
    s->native = ct_cfg.stack_mode & 1;
    s->python = (ct_cfg.stack_mode & 2) != 0;
    s->depth = ct_cfg.stack_depth;
    if (s->native) {
        /* First use initialises libunwind (and may take its time): do it
         * here, before any handler needs it. */
        unw_context_t ctx;
        unw_cursor_t cursor;
        int slot = ct_busy_enter();
        unw_getcontext(&ctx);
        if (unw_init_local(&cursor, &ctx) == 0)
            for (int i = 0; i < 64 && unw_step(&cursor) > 0; i++)
                ;
        ct_busy_leave(slot);
    }
    stk = s;
    return 0;
}
