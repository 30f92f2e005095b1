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
 * locks of our own; Python structures are read by common/pyver's frame
 * walk through the shim's guarded loads (shim/py/peek.c), because a frame
 * pointer could be stale. libunwind keeps its caches in its own data,
 * which the sync backends leave untracked.
 */
#define UNW_LOCAL_ONLY
#include <libunwind.h>
#include <pthread.h>
#include <sys/uio.h>

#include "ct_shim.h"
#include "frames.h"
#include "py/py.h"

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

static uint64_t mix(uint64_t h, uint64_t v)
{
    h ^= v + 0x9E3779B97F4A7C15ull + (h << 6) + (h >> 2);
    return h * 0xff51afd7ed558ccdull;
}

/* ---- code objects ---------------------------------------------------------- */

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
    const struct ct_pydecoder *d = ct_py_decoder();
    struct ct_pycodeinfo ci;
    if (ct_py_read_code(d, code, &ci))
        return;
    int32_t firstlineno = ci.firstlineno;
    char qn[256], fn[1024];
    size_t qlen = ct_py_read_ascii(d, ci.qualname, qn, sizeof qn);
    size_t flen = ct_py_read_ascii(d, ci.filename, fn, sizeof fn);
    uintptr_t linetable = ci.linetable;
    int64_t ltlen = ct_py_bytes_len(d, linetable);
    if (ltlen < 0)
        ltlen = 0;
    if (ltlen > 16384)
        ltlen = 0;   /* a huge function: lines unknown rather than a huge record */
    ct_rec_pycode(&st->w, code, firstlineno, qn, qlen, fn, flen, ct_py_bytes_data(d, linetable), (uint32_t)ltlen,
                  ct_py_read);
}

/* ---- the Python stack of this thread -------------------------------------- */

static int python_frames(struct ct_state *st, struct ct_pyframe *out, int max, uint32_t *flags)
{
    const struct ct_pydecoder *d = ct_py_decoder();
    /* pthread_self() reads the thread pointer (no call into libc state):
     * how 3.9 and 3.10 name a thread state's thread */
    uintptr_t ts = ct_py_thread_state(d, ct_cfg.py_runtime, ct_tid(), (uint64_t)pthread_self());
    int truncated = 0;
    int n = ts ? ct_py_frames(d, ts, out, max, &truncated) : 0;
    for (int i = 0; i < n; i++)
        note_code(st, (uintptr_t)out[i].code);
    if (truncated)
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
    if (stk->python && ct_py_decoder())
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
