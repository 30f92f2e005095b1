/*
 * decode.h - from an address to what CPython keeps there.
 *
 * Promise: given an address in a CPython process and a reader of its
 * memory, the decoder says whether it lies in a pymalloc pool (header or
 * block, and the block's size class), which object starts in that block or
 * at the address, the object's type (validated: a pointer that merely
 * lands on memory looking like a type does not pass), whether the block
 * holds a dict's keys table, and which part of an object a byte belongs to
 * (reference count, other fields, GC links, managed-dict pre-header).
 * Everything is read through struct ct_memread; nothing here allocates or
 * calls libc, so the shim runs it in its fault handlers.
 */
#ifndef COWTRACE_PYVER_DECODE_H
#define COWTRACE_PYVER_DECODE_H

#include <stdbool.h>

#include "memread.h"
#include "pyver.h"

/* What the decoder knows of a type object. */
struct ct_pytypeinfo {
    uint64_t flags;                /* tp_flags */
    int64_t basicsize;             /* tp_basicsize */
    uint32_t index;                /* the caller's number for it (0: none) */
};

struct ct_pydecoder {
    const struct ct_pyver *v;
    const struct ct_memread *mem;  /* the process's memory */
    /* Type lookup: the info for type pointer t, or NULL if t is not a type.
     * A caller that caches types (the shim) puts its cache here; NULL means
     * ct_py_read_type into *scratch every time. */
    const struct ct_pytypeinfo *(*type_of)(void *ctx, uintptr_t t, struct ct_pytypeinfo *scratch);
    void *type_ctx;
    /* The process allocates objects without pymalloc (PYTHONMALLOC=malloc,
     * mimalloc, or behind the debug hooks): nothing is looked up as a pool,
     * so no write is put in a pool header or block. */
    int no_pymalloc;
};

/* The end of the furthest of n (offset, size) fields of a structure: how
 * many bytes to read so that every field decoded from them lies in them. A
 * layout may come from a trace (CT_REC_PYLAYOUT), so every offset is
 * checked against the buffer it indexes before it is used, never trusted. */
static inline uint32_t ct_py_fields_end(const uint32_t (*f)[2], size_t n)
{
    uint32_t end = 0;
    for (size_t i = 0; i < n; i++)
        if (f[i][0] + f[i][1] > end)
            end = f[i][0] + f[i][1];
    return end;
}

/* Bytes of a pool header to read for ct_py_pool_block_size, at most
 * CT_PY_POOL_HEADER_MAX; 0 when its fields do not fit in that. */
#define CT_PY_POOL_HEADER_MAX 64
uint32_t ct_py_pool_header_len(const struct ct_pyver *v);
/* The pool holding addr. */
uintptr_t ct_py_pool_of(const struct ct_pyver *v, uintptr_t addr);
/* The size class of the pool at p, or 0 if p does not hold a pool header.
 * Reads ct_py_pool_header_len bytes at p through m. */
uint32_t ct_py_pool_block_size(const struct ct_pyver *v, const struct ct_memread *m, uintptr_t p);

/* Is t a type object? Fills *info (index 0). Reads through d->mem. */
bool ct_py_read_type(const struct ct_pydecoder *d, uintptr_t t, struct ct_pytypeinfo *info);

/* The type of t through d->type_of (or ct_py_read_type), or NULL. */
const struct ct_pytypeinfo *ct_py_type(const struct ct_pydecoder *d, uintptr_t t, struct ct_pytypeinfo *scratch);

/* Bytes in front of an object of a type with these flags: GC head,
 * managed-dict pre-header. */
uint32_t ct_py_preheader(const struct ct_pyver *v, uint64_t tp_flags);
bool ct_pytype_has_gc(const struct ct_pyver *v, uint64_t tp_flags);
bool ct_pytype_has_managed_dict(const struct ct_pyver *v, uint64_t tp_flags);

/* An object whose header starts at `obj` (its ob_type read through m)?
 * `before` says what must precede it: an exact pre-header size (a pymalloc
 * block's start), or CT_PY_BEFORE_ANY, or CT_PY_BEFORE_GC (a GC head at
 * least). */
#define CT_PY_BEFORE_ANY (~0u)
#define CT_PY_BEFORE_GC  (~1u)
const struct ct_pytypeinfo *ct_py_object_at(const struct ct_pydecoder *d, const struct ct_memread *m, uintptr_t obj,
                                            uint32_t before, struct ct_pytypeinfo *scratch);

/* The object in a pymalloc block of this size class, if the block holds a
 * live one: its address in *obj. */
const struct ct_pytypeinfo *ct_py_block_object(const struct ct_pydecoder *d, const struct ct_memread *m,
                                               uintptr_t block, uint32_t size, uintptr_t *obj,
                                               struct ct_pytypeinfo *scratch);

/* ct_py_block_object over the blocks of a page in turn, remembering in
 * *memo (zeroed before the first block, then bytes/base/len set if
 * wanted; kept no longer than the decoder's type_of keeps its answers) the
 * type word and answer of the last block whose object began at the
 * block's start: a block of the same size with the same type word there
 * gets the same answer without asking type_of again (type_of answers the
 * same for the same address, and nothing else decides that answer). Same
 * answers as ct_py_block_object, and the same reads through m up to the
 * type word; `bytes`, when set, are what m reads at [base, base + len)
 * (the page in hand): a type word there is loaded from them in place. */
struct ct_py_block_memo {
    uint64_t t;
    uint32_t size;
    const struct ct_pytypeinfo *e;     /* NULL: nothing remembered */
    const uint8_t *bytes;
    uintptr_t base;
    size_t len;
};
const struct ct_pytypeinfo *ct_py_block_object_memo_read(const struct ct_pydecoder *d, const struct ct_memread *m,
                                                         uintptr_t block, uint32_t size, uintptr_t *obj,
                                                         struct ct_pytypeinfo *scratch, struct ct_py_block_memo *memo);

/* The common case inline: a remembered type word, loaded from the bytes
 * in hand (a summary asks this for every block of every page). */
static inline const struct ct_pytypeinfo *ct_py_block_object_memo(const struct ct_pydecoder *d,
                                                                  const struct ct_memread *m, uintptr_t block,
                                                                  uint32_t size, uintptr_t *obj,
                                                                  struct ct_pytypeinfo *scratch,
                                                                  struct ct_py_block_memo *memo)
{
    uintptr_t at = block + d->v->L.ob_type;
    if (memo->e && memo->size == size && memo->bytes && at >= memo->base && memo->len >= sizeof(uint64_t) &&
        at - memo->base <= memo->len - sizeof(uint64_t)) {
        uint64_t t;
        __builtin_memcpy(&t, memo->bytes + (at - memo->base), sizeof t);
        if (t == memo->t) {
            *obj = block;
            return memo->e;
        }
    }
    return ct_py_block_object_memo_read(d, m, block, size, obj, scratch, memo);
}

/* Does the block hold a dict's keys table (PyDictKeysObject has no object
 * header, but a shape random data rarely has)? */
bool ct_py_looks_like_dict_keys(const struct ct_pyver *v, const struct ct_memread *m, uintptr_t block,
                                uint32_t size);

/* Does the block hold an instance's attribute values array (the version's
 * enum ct_values_shape: a prefix of insertion-order bytes, then values
 * that are objects)? Such a block has no header and no pointer back to
 * the instance that owns it. */
bool ct_py_looks_like_values(const struct ct_pydecoder *d, const struct ct_memread *m, uintptr_t block,
                             uint32_t size);

/* Does the word at `word` (8-aligned) point to a live object (a count of
 * at least 1, a type)? In a block without a header that makes the block an
 * array of object pointers, and the word not a free block's link. */
bool ct_py_points_to_object(const struct ct_pydecoder *d, const struct ct_memread *m, uintptr_t word);

/* Does Py_INCREF/Py_DECREF leave an object with this ob_refcnt alone (an
 * immortal object, by the version's enum ct_immortal_rule)? Such an
 * object's count is never written by reference counting, so a write to it
 * is not a refcount write. */
bool ct_py_is_immortal(const struct ct_pyver *v, uint64_t refcnt);

/* What holds the byte at addr (see CT_WHERE_* and CT_OBJ_* in ct_format.h).
 * An immortal object is never named for a write to its reference count:
 * reference counting does not write there, so the object found would
 * explain the write wrongly (the memory is read before the write lands in
 * the precise modes). */
struct ct_pyfound {
    uintptr_t obj, type, block;
    uint32_t block_size;
    uint8_t where, obj_how;
};

/* The whole search for one written address: `near` reads the memory
 * around it (the shim: the page being written, in place), dict_type is
 * &PyDict_Type in the process (0: unknown) and names keys tables. */
void ct_py_find(const struct ct_pydecoder *d, const struct ct_memread *near, uintptr_t addr, uintptr_t dict_type,
                struct ct_pyfound *out);

/* Free-threaded builds (CT_OBJHEAD_FREE_THREADED): the mimalloc block
 * holding addr (out->where CT_WHERE_POOL_BLOCK, out->block, block_size) and
 * the object in it (*type, *obj; *type NULL when none), or the segment's
 * header (CT_WHERE_POOL_HEADER: mimalloc's page metadata). *object_heap:
 * the block is in one of the heaps of objects (not PyMem's: buffers, item
 * arrays, dict keys). False when addr is not in a mimalloc segment this
 * layout recognises. */
bool ct_py_mi_block(const struct ct_pydecoder *d, const struct ct_memread *m, uintptr_t addr,
                    struct ct_pyfound *out, uintptr_t *obj, const struct ct_pytypeinfo **type,
                    struct ct_pytypeinfo *scratch, bool *object_heap);

/* Why a write this layout decodes can stay `unknown` where a GIL build's
 * would not (a sentence for the report), or NULL. */
const char *ct_py_unknown_reason(const struct ct_pyver *v);

/* Which part of an object starting at obj the byte at addr is. In a
 * free-threaded build ob_tid and ob_gc_bits are CT_PYPART_GC_HEAD (the
 * collector's), ob_mutex is CT_PYPART_FIELDS (the object's lock), and the
 * count is ob_ref_local and ob_ref_shared. */
enum ct_pypart {
    CT_PYPART_REFCNT,              /* ob_refcnt */
    CT_PYPART_FIELDS,              /* ob_type and everything after it */
    CT_PYPART_GC_HEAD,             /* PyGC_Head, just before the object (free-threaded:
                                    * ob_tid, ob_gc_bits, in the header) */
    CT_PYPART_PREHEADER,           /* the managed-dict pre-header, before the GC head */
    CT_PYPART_BEFORE,              /* further before: not this object's */
};
enum ct_pypart ct_py_part_of(const struct ct_pyver *v, uint64_t addr, uint64_t obj);

#endif
