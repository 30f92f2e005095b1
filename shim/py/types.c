/*
 * types.c - the types the evidence names: validated once each (by the
 * decoder, common/pyver/decode.c), cached in an open-addressing set in the
 * arena, and recorded on first sight (CT_REC_PYTYPE). Lock-free: threads
 * race to claim a slot; the loser of a race validates on its own.
 */
#include "py.h"

struct ct_pyinfo *ct_py;

static void write_pytype(struct ct_state *st, uintptr_t t, const struct ct_typeent *e)
{
    const struct ct_pylayout *L = &ct_py->v->L;
    const struct ct_memread *m = &ct_py->mem;
    char name[160];
    size_t len = 0;
    uint64_t name_ptr = 0;
    if (ct_mem_u64(m, t + L->tp_name, &name_ptr) == 0 && name_ptr) {
        /* Read in small steps: the string may end just before unmapped memory. */
        while (len < sizeof name) {
            char chunk[16];
            size_t want = sizeof name - len < sizeof chunk ? sizeof name - len : sizeof chunk;
            if (ct_mem_read(m, name_ptr + len, chunk, want))
                break;
            size_t k = 0;
            while (k < want && chunk[k] >= 0x20 && chunk[k] < 0x7f)
                name[len++] = chunk[k++];
            if (k < want)
                break;
        }
    }
    int64_t itemsize = 0;
    ct_mem_read(m, t + L->tp_itemsize, &itemsize, sizeof itemsize);
    ct_rec_pytype(&st->w, t, e->info.index, e->info.flags, e->info.basicsize, itemsize, name, len);
}

/* The cached entry for type pointer t, validating and recording it on first
 * sight; *scratch (index 0) when another thread is recording it; NULL if t
 * is not a type. */
const struct ct_pytypeinfo *ct_py_type_cached(void *ctx, uintptr_t t, struct ct_pytypeinfo *scratch)
{
    struct ct_pyinfo *py = ctx;
    if (!t)
        return NULL;
    uint32_t mask = CT_TYPESET_SIZE - 1;
    uint32_t h = (uint32_t)((t >> 4) * 0x9E3779B1u) & mask;
    for (uint32_t i = 0; i < CT_TYPESET_SIZE; i++, h = (h + 1) & mask) {
        struct ct_typeent *e = &py->types[h];
        uintptr_t cur = atomic_load_explicit(&e->addr, memory_order_acquire);
        if (cur == t) {
            if (atomic_load_explicit(&e->ready, memory_order_acquire))
                return &e->info;
            break;   /* being filled by another thread: validate on our own */
        }
        if (cur != 0)
            continue;
        /* Validate before claiming the slot: the set holds only types. */
        if (!ct_py_read_type(&py->dec, t, scratch))
            return NULL;
        uintptr_t expected = 0;
        if (!atomic_compare_exchange_strong(&e->addr, &expected, t)) {
            if (expected == t)
                return scratch;
            continue;
        }
        e->info = *scratch;
        e->info.index = atomic_fetch_add(&py->ntypes, 1) + 1;
        atomic_store_explicit(&e->ready, 1, memory_order_release);
        write_pytype(py->st, t, e);
        return &e->info;
    }
    return ct_py_read_type(&py->dec, t, scratch) ? scratch : NULL;
}
