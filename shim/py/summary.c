/*
 * summary.c - uffd-async: what written pages hold.
 *
 * Runs in the flusher process and at exit, while other threads may unmap
 * memory: reads are guarded plain loads (peek.c; a fault abandons the
 * read). Per written page: its pool header, shared by the pages of one
 * pool, and the first bytes of up to CT_SAMPLES blocks spread over the
 * page, enough to name its dominant type. Four, not more: the loads are
 * this backend's main cost (measured on the 2,000,000-int benchmark: 6 ms
 * of a child's 210 ms of CPU with four samples a page, 10 ms with eight).
 * Pieces are copied out in two batches (headers, then samples), one probe
 * each, then decoded from the copies. A free-threaded build's objects are
 * in mimalloc's heaps instead: each sample is looked up in its segment.
 */
#include <sys/uio.h>

#include "py.h"

#define CT_SAMPLES 4
#define CT_SAMPLE_MAX 64     /* room for sample_len() */

/* Working memory for one batch, in the arena: this runs on the program's
 * stack at exit, whose pages we must not dirty. Used under scan_lock. */
struct ct_sum_scratch {
    uint8_t hdrs[CT_SUM_BATCH][CT_PY_POOL_HEADER_MAX];
    struct iovec lv[CT_SUM_BATCH * CT_SAMPLES], rv[CT_SUM_BATCH * CT_SAMPLES];
    uint8_t samples[CT_SUM_BATCH][CT_SAMPLES][CT_SAMPLE_MAX];
    uintptr_t where_at[CT_SUM_BATCH][CT_SAMPLES];
    uint32_t size_of[CT_SUM_BATCH];
    int same_pool[CT_SUM_BATCH];   /* index of the page whose pool header this one shares */
};
static struct ct_sum_scratch *sum_scratch;

/* A block's first bytes, enough for ob_type behind a GC head and a
 * managed-dict pre-header (48 on 3.11). */
static uint32_t sample_len(const struct ct_pylayout *L)
{
    uint32_t n = (uint32_t)L->gc_head_size + L->managed_dict_preheader + L->ob_type + 8;
    return n < CT_SAMPLE_MAX ? n : CT_SAMPLE_MAX;
}

void ct_py_summary_setup(int wanted)
{
    /* Without it (arena full) summaries go without verdicts. */
    sum_scratch = wanted ? ct_arena_alloc(sizeof *sum_scratch) : NULL;
}

/* The dominant type of a page's samples, immortal objects left out. */
struct type_votes {
    struct { uintptr_t t; uint32_t n; } seen[CT_SAMPLES];
};

static void vote(struct type_votes *tv, uintptr_t t)
{
    for (int j = 0; j < CT_SAMPLES; j++) {
        if (tv->seen[j].t == t || !tv->seen[j].t) {
            tv->seen[j].t = t;
            tv->seen[j].n++;
            return;
        }
    }
}

static void elect(const struct type_votes *tv, struct ct_py_summary *out)
{
    uint32_t best = 0;
    for (int j = 0; j < CT_SAMPLES; j++) {
        if (tv->seen[j].n > best) {
            best = tv->seen[j].n;
            out->type = tv->seen[j].t;
        }
    }
    if (out->type) {
        struct ct_pytypeinfo scratch;
        const struct ct_pytypeinfo *e = ct_py_type(&ct_py->dec, out->type, &scratch);
        out->type_index = e ? e->index : 0;
    }
}

/* Free-threaded builds: no pool headers to batch; each sample asks
 * mimalloc's segment header (guarded loads) which block and heap it is
 * in. Samples are spread over the page as in the pymalloc case. */
static void summarize_free_threaded(const uintptr_t *pages, size_t n, struct ct_py_summary *out)
{
    const struct ct_pyver *v = ct_py->v;
    const struct ct_pydecoder *d = &ct_py->dec;
    uintptr_t psize = (uintptr_t)ct_cfg.page_size;
    struct ct_pytypeinfo scratch;
    for (size_t i = 0; i < n; i++) {
        struct type_votes tv = {{{0, 0}}};
        out[i].where = CT_WHERE_OUTSIDE;
        for (int k = 0; k < CT_SAMPLES; k++) {
            uintptr_t at = pages[i] + (psize / CT_SAMPLES) * (uintptr_t)k, obj = 0;
            struct ct_pyfound f;
            const struct ct_pytypeinfo *type;
            bool object_heap;
            if (!ct_py_mi_block(d, &ct_py->mem, at, &f, &obj, &type, &scratch, &object_heap))
                break;      /* not in a mimalloc segment: nor the rest of the page */
            if (f.where == CT_WHERE_POOL_BLOCK && !object_heap && !type) {
                /* PyMem's heap (buffers, item arrays, dict keys): not the
                 * allocator's metadata, and not an object: unknown */
                if (k == 0)
                    out[i].where = CT_WHERE_UNKNOWN;
                continue;
            }
            if (k == 0 || out[i].where != CT_WHERE_POOL_BLOCK) {
                out[i].where = f.where;
                out[i].block_size = f.block_size;
            }
            if (!type)
                continue;
            out[i].objects++;
            uint64_t t = 0, refcnt = 0;
            if (!ct_mem_u64(&ct_py->mem, obj + v->L.ob_refcnt, &refcnt) && ct_py_is_immortal(v, refcnt))
                continue;
            if (!ct_mem_u64(&ct_py->mem, obj + v->L.ob_type, &t))
                vote(&tv, (uintptr_t)t);
        }
        elect(&tv, &out[i]);
    }
}

void ct_py_summarize_batch(struct ct_state *st, const uintptr_t *pages, size_t n, struct ct_py_summary *out)
{
    (void)st;   /* types are recorded through ct_py->st */
    for (size_t i = 0; i < n; i++)
        ct_memset(&out[i], 0, sizeof out[i]);
    if (!ct_py || !n || !sum_scratch || !ct_pyver_knows_objects(ct_py->v))
        return;
    switch (ct_py->v->header) {
    case CT_OBJHEAD_GIL:
        break;
    case CT_OBJHEAD_FREE_THREADED:
        summarize_free_threaded(pages, n, out);
        return;
    }
    if (ct_py->dec.no_pymalloc)
        return;   /* no pools to sample: what the pages hold is not examined (CT_WHERE_UNKNOWN) */
    const struct ct_pyver *v = ct_py->v;
    const struct ct_pylayout *L = &v->L;
    const struct ct_pydecoder *d = &ct_py->dec;
    uintptr_t psize = (uintptr_t)ct_cfg.page_size;
    uint32_t hlen = ct_py_pool_header_len(v), slen = sample_len(L);
    uint8_t (*hdrs)[CT_PY_POOL_HEADER_MAX] = sum_scratch->hdrs;
    struct iovec *lv = sum_scratch->lv, *rv = sum_scratch->rv;
    size_t nh = 0;
    int *same_pool = sum_scratch->same_pool;
    for (size_t i = 0; i < n; i++) {
        uintptr_t pool = ct_py_pool_of(v, pages[i]);
        /* Pages come in address order: a pool's later pages reuse the header
         * its first one read, a cache miss on another page saved. */
        same_pool[i] = -1;
        if (i && ct_py_pool_of(v, pages[i - 1]) == pool) {
            same_pool[i] = same_pool[i - 1] >= 0 ? same_pool[i - 1] : (int)i - 1;
            continue;
        }
        ct_memset(hdrs[i], 0, sizeof hdrs[i]);
        /* Guarded loads copy nothing: any pool header may be read, written
         * or not. */
        lv[nh].iov_base = hdrs[i];
        lv[nh].iov_len = hlen;
        rv[nh].iov_base = (void *)pool;
        rv[nh].iov_len = hlen;
        nh++;
    }
    if (nh)
        ct_py_guarded_copy_many(lv, rv, nh);
    for (size_t i = 0; i < n; i++)
        if (same_pool[i] >= 0)
            ct_memcpy(hdrs[i], hdrs[same_pool[i]], sizeof hdrs[i]);

    uint8_t (*samples)[CT_SAMPLES][CT_SAMPLE_MAX] = sum_scratch->samples;
    uintptr_t (*where_at)[CT_SAMPLES] = sum_scratch->where_at;
    uint32_t *size_of = sum_scratch->size_of;
    size_t nv = 0;
    for (size_t i = 0; i < n; i++) {
        uintptr_t pool = ct_py_pool_of(v, pages[i]);
        struct ct_memview hv = {.base = pool, .len = hlen, .data = hdrs[i]};
        struct ct_memread hr = ct_memview_reader(&hv);
        uint32_t size = ct_py_pool_block_size(v, &hr, pool);
        size_of[i] = size;
        out[i].where = size ? CT_WHERE_POOL_BLOCK : CT_WHERE_OUTSIDE;
        out[i].block_size = size;
        for (int k = 0; k < CT_SAMPLES; k++)
            where_at[i][k] = 0;
        if (!size)
            continue;
        uintptr_t first = pool + L->pool_overhead;
        if (pages[i] > first)
            first += ((pages[i] - first + size - 1) / size) * size;
        uintptr_t end = pages[i] + psize < pool + L->pool_size ? pages[i] + psize : pool + L->pool_size;
        uintptr_t nblocks = end > first ? (end - first) / size : 0;
        uintptr_t stride = (nblocks + CT_SAMPLES - 1) / CT_SAMPLES * size;
        /* An odd number of blocks apart: objects often alternate with a
         * block of another kind in one size class (3.10: each instance,
         * then its dict's values array, 48 bytes each), and an even stride
         * would sample only one of the two. */
        if (stride >= 2 * size && (stride / size) % 2 == 0)
            stride -= size;
        if (!stride)
            stride = size;
        int k = 0;
        for (uintptr_t b = first; b + size <= end && k < CT_SAMPLES; b += stride, k++) {
            where_at[i][k] = b;
            lv[nv].iov_base = samples[i][k];
            lv[nv].iov_len = slen;
            rv[nv].iov_base = (void *)b;
            rv[nv].iov_len = slen;
            nv++;
        }
    }
    if (nv)
        ct_py_guarded_copy_many(lv, rv, nv);

    struct ct_pytypeinfo scratch;
    for (size_t i = 0; i < n; i++) {
        if (!size_of[i])
            continue;
        struct { uintptr_t t; uint32_t n; } seen[CT_SAMPLES] = {{0, 0}};
        for (int k = 0; k < CT_SAMPLES && where_at[i][k]; k++) {
            uintptr_t b = where_at[i][k];
            /* The sample only: the block's start, as copied out above. */
            struct ct_memview sv = {.base = b, .len = slen, .data = samples[i][k], .outside = &ct_py->mem};
            struct ct_memread sr = ct_memview_reader(&sv);
            uintptr_t obj;
            if (!ct_py_block_object(d, &sr, b, size_of[i], &obj, &scratch))
                continue;
            out[i].objects++;
            /* An immortal object's count is never written: it does not
             * say why the page was copied (its type would be charged
             * `refcount`). */
            uint64_t t = 0, refcnt = 0;
            if (!ct_mem_u64(&sr, obj + L->ob_refcnt, &refcnt) && ct_py_is_immortal(v, refcnt))
                continue;
            ct_mem_u64(&sr, obj + L->ob_type, &t);
            for (int j = 0; j < CT_SAMPLES; j++) {
                if (seen[j].t == t || !seen[j].t) {
                    seen[j].t = (uintptr_t)t;
                    seen[j].n++;
                    break;
                }
            }
        }
        uintptr_t pool = ct_py_pool_of(v, pages[i]);
        if (!out[i].objects && pages[i] == pool)
            out[i].where = CT_WHERE_POOL_HEADER;
        uint32_t best = 0;
        for (int j = 0; j < CT_SAMPLES; j++) {
            if (seen[j].n > best) {
                best = seen[j].n;
                out[i].type = seen[j].t;
            }
        }
        if (out[i].type) {
            const struct ct_pytypeinfo *e = ct_py_type(d, out[i].type, &scratch);
            out[i].type_index = e ? e->index : 0;
        }
    }
}
