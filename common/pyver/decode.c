/*
 * decode.c - see decode.h. Rules that differ between CPython versions are
 * chosen by the version's data (pyver.h), never by its number.
 */
#include "decode.h"

#include "ct_format.h"

static uint32_t get_u32(const uint8_t *p)
{
    uint32_t v;
    __builtin_memcpy(&v, p, sizeof v);
    return v;
}

static uint64_t get_u64(const uint8_t *p)
{
    uint64_t v;
    __builtin_memcpy(&v, p, sizeof v);
    return v;
}

/* ---- pymalloc ------------------------------------------------------------- */

uint32_t ct_py_pool_header_len(const struct ct_pyver *v)
{
    const struct ct_pylayout *L = &v->L;
    const uint32_t f[][2] = {{L->pool_count, 4}, {L->pool_szidx, 4}, {L->pool_nextoffset, 4},
                             {L->pool_maxnextoffset, 4}};
    uint32_t end = ct_py_fields_end(f, sizeof f / sizeof f[0]);
    return end <= CT_PY_POOL_HEADER_MAX ? end : 0;
}

uintptr_t ct_py_pool_of(const struct ct_pyver *v, uintptr_t addr)
{
    return addr & ~(uintptr_t)(v->L.pool_size - 1);
}

uint32_t ct_py_pool_block_size(const struct ct_pyver *v, const struct ct_memread *m, uintptr_t p)
{
    const struct ct_pylayout *L = &v->L;
    uint8_t hdr[CT_PY_POOL_HEADER_MAX];
    uint32_t len = ct_py_pool_header_len(v);
    if (len < 4 || ct_mem_read(m, p, hdr, len))
        return 0;
    /* pool_header's fields are 32-bit (uint count, szidx, nextoffset, maxnextoffset) */
    uint32_t count = get_u32(hdr + L->pool_count);
    uint32_t szidx = get_u32(hdr + L->pool_szidx);
    uint32_t next = get_u32(hdr + L->pool_nextoffset);
    uint32_t maxnext = get_u32(hdr + L->pool_maxnextoffset);
    if (!L->alignment || szidx >= L->small_request_threshold / L->alignment)
        return 0;
    uint32_t size = (szidx + 1) * L->alignment;
    if (maxnext != L->pool_size - size || next < L->pool_overhead || next > L->pool_size ||
        (next - L->pool_overhead) % size != 0 || count > (L->pool_size - L->pool_overhead) / size)
        return 0;
    return size;
}

/* ---- mimalloc (free-threaded builds) ---------------------------------------- */

/* A plausible mimalloc segment at seg: its kind, the number of slices its
 * header describes and the slices the header itself takes. Random memory
 * at a 32 MiB boundary rarely passes: the segment's first bytes are
 * mimalloc's own, and a pointer that does not lie in mimalloc memory reads
 * nothing (the reader fails). */
struct mi_segment_view {
    uint64_t entries, info_slices;
};

static bool mi_shape_ok(const struct ct_pylayout *L)
{
    return L->mi_segment_shift >= 20 && L->mi_segment_shift <= 40 && L->mi_slice_shift >= 12 &&
           L->mi_slice_shift < L->mi_segment_shift && L->mi_page_size >= 32 && L->mi_segment_slices;
}

static bool mi_segment_at(const struct ct_pylayout *L, const struct ct_memread *m, uintptr_t seg,
                          struct mi_segment_view *s)
{
    uint32_t kind;
    uint64_t max_entries = 1ull << (L->mi_segment_shift - L->mi_slice_shift);
    if (ct_mem_read(m, seg + L->mi_segment_kind, &kind, sizeof kind) ||
        ct_mem_u64(m, seg + L->mi_segment_slice_entries, &s->entries) ||
        ct_mem_u64(m, seg + L->mi_segment_info_slices, &s->info_slices))
        return false;
    /* only normal segments (kind 0): huge ones hold one block of their own size */
    return kind == 0 && s->entries >= 1 && s->entries <= max_entries && s->info_slices >= 1 &&
           s->info_slices < s->entries;
}

/* The block of the mimalloc page holding addr: its start and size, and the
 * heap tag of the page; or the segment header (allocator metadata: the
 * page descriptors). Returns CT_WHERE_POOL_HEADER, CT_WHERE_POOL_BLOCK or
 * CT_WHERE_OUTSIDE (not recognised as mimalloc memory). */
static uint8_t mi_find(const struct ct_pylayout *L, const struct ct_memread *m, uintptr_t addr, uintptr_t *block,
                       uint32_t *size, uint8_t *tag)
{
    if (!mi_shape_ok(L))
        return CT_WHERE_OUTSIDE;
    uintptr_t seg = addr & ~(((uintptr_t)1 << L->mi_segment_shift) - 1);
    struct mi_segment_view s;
    if (!mi_segment_at(L, m, seg, &s))
        return CT_WHERE_OUTSIDE;
    uint64_t idx = (addr - seg) >> L->mi_slice_shift;
    if (idx < s.info_slices)
        return CT_WHERE_POOL_HEADER;
    if (idx >= s.entries)
        return CT_WHERE_OUTSIDE;
    uintptr_t slices = seg + L->mi_segment_slices;
    uint32_t slice_offset, slice_count, xblock;
    uint8_t tagbyte;
    if (ct_mem_read(m, slices + idx * L->mi_page_size + L->mi_page_slice_offset, &slice_offset, 4) ||
        slice_offset % L->mi_page_size || slice_offset / L->mi_page_size > idx)
        return CT_WHERE_OUTSIDE;
    uint64_t pidx = idx - slice_offset / L->mi_page_size;
    uintptr_t page = slices + pidx * L->mi_page_size;
    if (ct_mem_read(m, page + L->mi_page_slice_count, &slice_count, 4) ||
        ct_mem_read(m, page + L->mi_page_xblock_size, &xblock, 4) ||
        ct_mem_read(m, page + L->mi_page_tag_byte, &tagbyte, 1) || !slice_count ||
        pidx + slice_count <= idx || pidx + slice_count > s.entries || xblock < 8 ||
        xblock > ((uint64_t)slice_count << L->mi_slice_shift))
        return CT_WHERE_OUTSIDE;
    /* _mi_segment_page_start_from_slice: small blocks start a few blocks in */
    uint64_t start_offset = xblock <= 64 ? 3ull * xblock : xblock <= 512 ? xblock : 0;
    uintptr_t start = seg + (pidx << L->mi_slice_shift) + start_offset;
    if (addr < start) {
        /* the page's lead-in, before its first block: no block, no object */
        *block = 0;
        *size = 0;
        *tag = 0xff;
        return CT_WHERE_POOL_BLOCK;
    }
    *block = start + ((addr - start) / xblock) * xblock;
    *size = xblock;
    *tag = (uint8_t)((tagbyte >> L->mi_page_tag_shift) & 15);
    return CT_WHERE_POOL_BLOCK;
}

/* The heaps of pycore_mimalloc.h (_Py_mimalloc_heap_id). */
enum { MI_HEAP_MEM = 0, MI_HEAP_OBJECT = 1, MI_HEAP_GC = 2, MI_HEAP_GC_PRE = 3 };

/* The object in a mimalloc block: at its start, or after the pre-header in
 * the heap of GC objects with one. PyMem blocks (tag 0: list item arrays,
 * dict keys) hold no object. */
static const struct ct_pytypeinfo *mi_block_object(const struct ct_pydecoder *d, const struct ct_memread *m,
                                                   uintptr_t block, uint32_t size, uint8_t tag, uintptr_t *obj,
                                                   struct ct_pytypeinfo *scratch)
{
    const struct ct_pylayout *L = &d->v->L;
    uint32_t before;
    if (tag == MI_HEAP_OBJECT || tag == MI_HEAP_GC)
        before = 0;
    else if (tag == MI_HEAP_GC_PRE)
        before = L->managed_dict_preheader;
    else
        return NULL;
    if (before + L->object_size > size)
        return NULL;
    const struct ct_pytypeinfo *e = ct_py_object_at(d, m, block + before, before, scratch);
    if (e)
        *obj = block + before;
    return e;
}

bool ct_py_mi_block(const struct ct_pydecoder *d, const struct ct_memread *m, uintptr_t addr,
                    struct ct_pyfound *out, uintptr_t *obj, const struct ct_pytypeinfo **type,
                    struct ct_pytypeinfo *scratch, bool *object_heap)
{
    uint8_t tag = 0xff;
    *out = (struct ct_pyfound){0};
    *type = NULL;
    out->where = mi_find(&d->v->L, m, addr, &out->block, &out->block_size, &tag);
    *object_heap = tag == MI_HEAP_OBJECT || tag == MI_HEAP_GC || tag == MI_HEAP_GC_PRE;
    if (out->where != CT_WHERE_POOL_BLOCK)
        return out->where == CT_WHERE_POOL_HEADER;
    if (!out->block)
        return true;
    *type = mi_block_object(d, m, out->block, out->block_size, tag, obj, scratch);
    return true;
}

/* ---- types ---------------------------------------------------------------- */

static bool is_metatype(const struct ct_pydecoder *d, uintptr_t m)
{
    const struct ct_pylayout *L = &d->v->L;
    uint64_t f;
    return m && !(m & 7) && ct_mem_u64(d->mem, m + L->tp_flags, &f) == 0 && (f & L->tpflags_type_subclass) &&
           (f & L->tpflags_ready);
}

/* A type must be initialised (READY), its type and its type's type must be
 * types, and its name must start like an identifier. */
bool ct_py_read_type(const struct ct_pydecoder *d, uintptr_t t, struct ct_pytypeinfo *info)
{
    const struct ct_pylayout *L = &d->v->L;
    uint64_t meta, metameta, name_ptr;
    char c;
    info->index = 0;
    if ((t & 7) || t < 4096 || ct_mem_u64(d->mem, t + L->ob_type, &meta) || !is_metatype(d, meta) ||
        ct_mem_u64(d->mem, meta + L->ob_type, &metameta) || !is_metatype(d, metameta))
        return false;
    if (ct_mem_u64(d->mem, t + L->tp_flags, &info->flags) || !(info->flags & L->tpflags_ready) ||
        ct_mem_read(d->mem, t + L->tp_basicsize, &info->basicsize, sizeof info->basicsize) ||
        ct_mem_u64(d->mem, t + L->tp_name, &name_ptr) || ct_mem_read(d->mem, name_ptr, &c, 1) ||
        !((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_'))
        return false;
    return info->basicsize >= (int64_t)L->object_size && info->basicsize < (1 << 24) && !(info->basicsize & 7);
}

const struct ct_pytypeinfo *ct_py_type(const struct ct_pydecoder *d, uintptr_t t, struct ct_pytypeinfo *scratch)
{
    if (d->type_of)
        return d->type_of(d->type_ctx, t, scratch);
    return t && ct_py_read_type(d, t, scratch) ? scratch : NULL;
}

bool ct_pytype_has_gc(const struct ct_pyver *v, uint64_t tp_flags)
{
    return (tp_flags & v->L.tpflags_have_gc) != 0;
}

bool ct_pytype_has_managed_dict(const struct ct_pyver *v, uint64_t tp_flags)
{
    return (tp_flags & v->L.tpflags_managed_dict) != 0;
}

uint32_t ct_py_preheader(const struct ct_pyver *v, uint64_t tp_flags)
{
    uint32_t n = 0;
    if (ct_pytype_has_gc(v, tp_flags))
        n += v->L.gc_head_size;
    if (ct_pytype_has_managed_dict(v, tp_flags))
        n += v->L.managed_dict_preheader;
    return n;
}

/* ---- objects -------------------------------------------------------------- */

const struct ct_pytypeinfo *ct_py_object_at(const struct ct_pydecoder *d, const struct ct_memread *m, uintptr_t obj,
                                            uint32_t before, struct ct_pytypeinfo *scratch)
{
    uint64_t t;
    if (ct_mem_u64(m, obj + d->v->L.ob_type, &t))
        return NULL;
    const struct ct_pytypeinfo *e = ct_py_type(d, (uintptr_t)t, scratch);
    if (!e)
        return NULL;
    if (before == CT_PY_BEFORE_GC)
        return ct_pytype_has_gc(d->v, e->flags) ? e : NULL;
    if (before != CT_PY_BEFORE_ANY && ct_py_preheader(d->v, e->flags) != before)
        return NULL;
    return e;
}

const struct ct_pytypeinfo *ct_py_block_object(const struct ct_pydecoder *d, const struct ct_memread *m,
                                               uintptr_t block, uint32_t size, uintptr_t *obj,
                                               struct ct_pytypeinfo *scratch)
{
    const struct ct_pylayout *L = &d->v->L;
    /* A block starts with the object, or its GC head, or the managed-dict
     * pre-header and the GC head. */
    static const uint8_t gc_md[3][2] = {{0, 0}, {1, 0}, {1, 1}};
    for (int i = 0; i < 3; i++) {
        uint32_t before = gc_md[i][0] * L->gc_head_size + gc_md[i][1] * L->managed_dict_preheader;
        const struct ct_pytypeinfo *e = ct_py_object_at(d, m, block + before, before, scratch);
        /* Not basicsize: a compact str is smaller than PyUnicode_Type says. */
        if (e && before + L->object_size <= size) {
            *obj = block + before;
            return e;
        }
    }
    return NULL;
}

const struct ct_pytypeinfo *ct_py_block_object_memo_read(const struct ct_pydecoder *d, const struct ct_memread *m,
                                                         uintptr_t block, uint32_t size, uintptr_t *obj,
                                                         struct ct_pytypeinfo *scratch, struct ct_py_block_memo *memo)
{
    /* ct_py_block_object's first try (the object at the block's start)
     * reads this word first and is decided by type_of's answer for it. */
    uint64_t t;
    if (memo->e && memo->size == size && ct_mem_u64(m, block + d->v->L.ob_type, &t) == 0 && t == memo->t) {
        *obj = block;
        return memo->e;
    }
    const struct ct_pytypeinfo *e = ct_py_block_object(d, m, block, size, obj, scratch);
    /* An answer in scratch is overwritten by the next question: not kept. */
    if (e && e != scratch && *obj == block && ct_mem_u64(m, block + d->v->L.ob_type, &t) == 0)
        *memo = (struct ct_py_block_memo){t, size, e, memo->bytes, memo->base, memo->len};
    return e;
}

bool ct_py_looks_like_dict_keys(const struct ct_pyver *v, const struct ct_memread *m, uintptr_t block,
                                uint32_t size)
{
    const struct ct_pylayout *L = &v->L;
    switch (v->dict_keys) {
    case CT_DICTKEYS_NONE:
        return false;
    case CT_DICTKEYS_311: {
        uint8_t k[64];
        const uint32_t f[][2] = {{L->dk_refcnt, 8}, {L->dk_log2_size, 1}, {L->dk_log2_index_bytes, 1},
                                 {L->dk_kind, 1}, {L->dk_usable, 8}, {L->dk_nentries, 8}, {L->dk_indices, 8}};
        uint32_t len = ct_py_fields_end(f, sizeof f / sizeof f[0]);
        if (len > sizeof k || ct_mem_read(m, block, k, len))
            return false;
        int64_t refcnt = (int64_t)get_u64(k + L->dk_refcnt);
        int64_t usable = (int64_t)get_u64(k + L->dk_usable);
        int64_t nentries = (int64_t)get_u64(k + L->dk_nentries);
        uint8_t log2_size = k[L->dk_log2_size], log2_index = k[L->dk_log2_index_bytes], kind = k[L->dk_kind];
        if (refcnt < 1 || refcnt > (1 << 24) || log2_size < 3 || log2_size > 30 || kind > 2 ||
            log2_index < log2_size || log2_index > log2_size + 3)
            return false;
        int64_t capacity = ((int64_t)2 << log2_size) / 3;   /* USABLE_FRACTION */
        if (usable < 0 || nentries < 0 || usable + nentries > capacity)
            return false;
        return (uint64_t)L->dk_indices + (1ull << log2_index) <= size;
    }
    }
    return false;
}

bool ct_py_looks_like_values(const struct ct_pydecoder *d, const struct ct_memread *m, uintptr_t block,
                             uint32_t size)
{
    const struct ct_pylayout *L = &d->v->L;
    switch (d->v->values) {
    case CT_VALUES_NONE:
        return false;
    case CT_VALUES_PREFIX_311: {
        /* new_values() and _PyDictValues_AddToInsertionOrder() in
         * Objects/dictobject.c and pycore_dict.h of 3.11 and 3.12 */
        uint8_t b[512];
        if (size < 16 || size > sizeof b || ct_mem_read(m, block, b, size))
            return false;
        uint32_t p = 8;
        while (p + 8 <= size && b[p - 1] != p)
            p += 8;
        if (p + 8 > size || p > 255)
            return false;
        uint32_t count = b[p - 2], slots = (size - p) / 8;
        /* SHARED_KEYS_MAX_SIZE 30: no index reaches it; the count leaves
         * the two bytes of the prefix that are not order bytes */
        if (count < 1 || count + 2 > p || count > slots)
            return false;
        uint32_t seen = 0;
        uint64_t first = 0;
        for (uint32_t k = 1; k <= count; k++) {
            uint32_t ix = b[p - 2 - k];
            if (ix >= 30 || ix >= slots || seen >> ix & 1)
                return false;
            seen |= 1u << ix;
            uint64_t val;
            __builtin_memcpy(&val, b + p + 8 * ix, 8);
            if (!val || val & 7)        /* an inserted attribute has a value */
                return false;
            if (k == 1)
                first = val;
        }
        /* and the first attribute's value is an object */
        struct ct_pytypeinfo scratch;
        uint64_t t = 0;
        return !ct_mem_u64(m, first + L->ob_type, &t) && ct_py_type(d, (uintptr_t)t, &scratch);
    }
    }
    return false;   /* a value from a hostile PYLAYOUT record */
}

bool ct_py_points_to_object(const struct ct_pydecoder *d, const struct ct_memread *m, uintptr_t word)
{
    const struct ct_pylayout *L = &d->v->L;
    uint64_t p = 0, refcnt = 0, t = 0;
    struct ct_pytypeinfo scratch;
    /* A free block's link points to another free block, whose own first
     * word is a link (an address, or 0 at the list's end), never a count. */
    return !ct_mem_u64(m, word & ~(uintptr_t)7, &p) && p && !(p & 7) &&
           !ct_mem_u64(m, p + L->ob_refcnt, &refcnt) && refcnt >= 1 && refcnt < (1ull << 40) &&
           !ct_mem_u64(m, p + L->ob_type, &t) && ct_py_type(d, (uintptr_t)t, &scratch);
}

bool ct_py_is_immortal(const struct ct_pyver *v, uint64_t refcnt)
{
    switch (v->immortal) {
    case CT_IMMORTAL_NONE:
        return false;
    case CT_IMMORTAL_LOW32_ALL_ONES:
        /* Py_INCREF adds to the low 32 bits and does not store a sum that
         * wraps to 0; Py_DECREF tests the sign of the low word first. */
        return (uint32_t)refcnt == UINT32_MAX;
    }
    return false;   /* a value from a hostile PYLAYOUT record */
}

static void note_object(const struct ct_pyver *v, const struct ct_memread *m, struct ct_pyfound *out, uintptr_t obj,
                        uint8_t how)
{
    uint64_t t = 0;
    ct_mem_u64(m, obj + v->L.ob_type, &t);
    out->obj = obj;
    out->type = (uintptr_t)t;
    out->obj_how = how;
}

/* The object found is not what the write at addr hit when addr is its
 * reference count and the object is immortal. */
static void forget_immortal_refcount(const struct ct_pyver *v, const struct ct_memread *m, uintptr_t addr,
                                     struct ct_pyfound *out)
{
    uint64_t refcnt;
    if (out->obj_how == CT_OBJ_NONE || out->obj_how == CT_OBJ_DICT_KEYS || out->obj_how == CT_OBJ_VALUES ||
        out->obj_how == CT_OBJ_POINTERS ||
        ct_py_part_of(v, addr, out->obj) != CT_PYPART_REFCNT ||
        ct_mem_u64(m, out->obj + v->L.ob_refcnt, &refcnt) || !ct_py_is_immortal(v, refcnt))
        return;
    out->obj = 0;
    out->type = 0;
    out->obj_how = CT_OBJ_NONE;
}

static void find_object(const struct ct_pydecoder *d, const struct ct_memread *near, uintptr_t addr,
                        uintptr_t dict_type, struct ct_pyfound *out);

void ct_py_find(const struct ct_pydecoder *d, const struct ct_memread *near, uintptr_t addr, uintptr_t dict_type,
                struct ct_pyfound *out)
{
    find_object(d, near, addr, dict_type, out);
    forget_immortal_refcount(d->v, near, addr, out);
}

static void find_object(const struct ct_pydecoder *d, const struct ct_memread *near, uintptr_t addr,
                        uintptr_t dict_type, struct ct_pyfound *out)
{
    const struct ct_pylayout *L = &d->v->L;
    struct ct_pytypeinfo scratch;
    *out = (struct ct_pyfound){0};
    uintptr_t a = addr & ~(uintptr_t)7;
    switch (d->v->header) {
    case CT_OBJHEAD_GIL:
        break;
    case CT_OBJHEAD_FREE_THREADED: {
        /* mimalloc: the segment header says which block and which heap;
         * outside mimalloc's segments (static objects in libpython, huge
         * blocks) no object is looked for: with no GC head in front of an
         * object, its start cannot be told from the address alone. */
        uintptr_t obj;
        const struct ct_pytypeinfo *type;
        bool object_heap;
        if (!ct_py_mi_block(d, near, a, out, &obj, &type, &scratch, &object_heap) ||
            out->where != CT_WHERE_POOL_BLOCK)
            return;
        if (type)
            note_object(d->v, near, out, obj, CT_OBJ_BLOCK);
        else if (dict_type && out->block && ct_py_looks_like_dict_keys(d->v, near, out->block, out->block_size) &&
                 ct_py_type(d, dict_type, &scratch)) {
            out->obj = out->block;
            out->type = dict_type;
            out->obj_how = CT_OBJ_DICT_KEYS;
        } else if (!object_heap) {
            /* PyMem's heap (buffers, item arrays): a block's first word is
             * the free list's link only once freed, which its contents do
             * not show; claim nothing about it */
            out->where = CT_WHERE_UNKNOWN;
        }
        return;
    }
    }
    uintptr_t pool = ct_py_pool_of(d->v, a);
    uint32_t size = d->no_pymalloc ? 0 : ct_py_pool_block_size(d->v, near, pool);
    if (size) {
        if (a < pool + L->pool_overhead) {
            out->where = CT_WHERE_POOL_HEADER;
            return;
        }
        uintptr_t block = pool + L->pool_overhead + ((a - pool - L->pool_overhead) / size) * size;
        out->where = CT_WHERE_POOL_BLOCK;
        out->block = block;
        out->block_size = size;
        uintptr_t obj;
        if (ct_py_block_object(d, near, block, size, &obj, &scratch)) {
            note_object(d->v, near, out, obj, CT_OBJ_BLOCK);
        } else if (dict_type && ct_py_looks_like_dict_keys(d->v, near, block, size) &&
                   ct_py_type(d, dict_type, &scratch)) {
            out->obj = block;
            out->type = dict_type;
            out->obj_how = CT_OBJ_DICT_KEYS;
        } else if (ct_py_looks_like_values(d, near, block, size)) {
            out->obj = block;
            out->obj_how = CT_OBJ_VALUES;
        } else if (ct_py_points_to_object(d, near, a)) {
            out->obj = block;
            out->obj_how = CT_OBJ_POINTERS;
        }
        return;
    }
    out->where = CT_WHERE_OUTSIDE;
    /* Not pymalloc: a header write is recognisable from the address itself:
     * the object's start, or the first or second word of its GC head. */
    if (ct_py_object_at(d, near, a, CT_PY_BEFORE_ANY, &scratch))
        note_object(d->v, near, out, a, CT_OBJ_AT);
    else if (ct_py_object_at(d, near, a + L->gc_head_size, CT_PY_BEFORE_GC, &scratch))
        note_object(d->v, near, out, a + L->gc_head_size, CT_OBJ_GC_NEXT);
    else if (ct_py_object_at(d, near, a + 8, CT_PY_BEFORE_GC, &scratch))
        note_object(d->v, near, out, a + 8, CT_OBJ_GC_PREV);
}

const char *ct_py_unknown_reason(const struct ct_pyver *v)
{
    switch (v->header) {
    case CT_OBJHEAD_GIL:
        return NULL;
    case CT_OBJHEAD_FREE_THREADED:
        /* under 240 bytes: the report's line */
        return "free-threaded build: unknown = writes to PyMem blocks (buffers, item arrays: no header "
               "names their owner), to the thread id or GC bits of an object without GC, or outside "
               "the mimalloc segments cowtrace recognises";
    }
    return NULL;
}

/* ---- parts of an object --------------------------------------------------- */

/* The reference count is the word at ob_refcnt; ob_type follows it in
 * every CPython the tables describe, so its width is the distance. */
static uint64_t refcnt_size(const struct ct_pylayout *L)
{
    return L->ob_type > L->ob_refcnt ? (uint64_t)(L->ob_type - L->ob_refcnt) : 8;
}

/* The free-threaded header before the count: ob_tid, ob_flags/_padding,
 * ob_mutex, ob_gc_bits. The lock is the object's own (only critical
 * sections write it, to change the object); the rest is the collector's
 * (it sets ob_gc_bits and reuses ob_tid as a link and for its counts). */
static enum ct_pypart free_threaded_head(const struct ct_pylayout *L, uint64_t off)
{
    if (off == L->ob_mutex)
        return CT_PYPART_FIELDS;
    return CT_PYPART_GC_HEAD;
}

enum ct_pypart ct_py_part_of(const struct ct_pyver *v, uint64_t addr, uint64_t obj)
{
    const struct ct_pylayout *L = &v->L;
    if (addr >= obj) {
        uint64_t off = addr - obj;
        if (off >= L->ob_refcnt && off < L->ob_refcnt + refcnt_size(L))
            return CT_PYPART_REFCNT;
        switch (v->header) {
        case CT_OBJHEAD_GIL:
            break;
        case CT_OBJHEAD_FREE_THREADED:
            if (off < L->ob_refcnt)
                return free_threaded_head(L, off);
            break;
        }
        return CT_PYPART_FIELDS;
    }
    uint64_t before = obj - addr;
    if (before <= L->gc_head_size)
        return CT_PYPART_GC_HEAD;
    if (before <= (uint64_t)L->gc_head_size + L->managed_dict_preheader)
        return CT_PYPART_PREHEADER;
    return CT_PYPART_BEFORE;
}
