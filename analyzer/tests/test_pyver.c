/*
 * test_pyver.c - common/pyver/: the registry, the PYLAYOUT fields and the
 * reader's handling of the record (preferred over the table, hostile
 * values rejected with their offsets), the object decoder on objects built
 * in this process's memory, and the process_vm_readv reader on a child.
 */
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "analysis.h"
#include "check.h"
#include "decode.h"
#include "fields.h"
#include "frames.h"
#include "memread.h"
#include "mktrace.h"
#include "pyver.h"

#define PY309 0x030912f0ull
#define PY310 0x030a0df0ull
#define PY311 0x030b07f0ull
#define PY312 0x030c01f0ull
#define PY313 0x030d00f0ull
#define PY399 0x036300f0ull
#define PG 4096ull
#define H0 0x10000ull
#define T_LIST 0x7f0000100000ull

static void test_registry(void)
{
    const struct ct_pyver *v = ct_pyver_for(PY311);
    CHECK(v != NULL);
    if (!v)
        return;
    CHECK_STR(v->name, "3.11");
    CHECK(v->linetable == CT_LINETABLE_PEP657 && v->frame_chain == CT_PYCHAIN_CFRAME_311);
    CHECK(ct_pyver_for(0x030b0000) == v);
    const struct ct_pyver *v12 = ct_pyver_for(PY312);
    CHECK(v12 != NULL && v12 != v && !strcmp(v12->name, "3.12") && v12->frame_chain == CT_PYCHAIN_CFRAME_312 &&
          v12->immortal == CT_IMMORTAL_LOW32_ALL_ONES && v->immortal == CT_IMMORTAL_NONE);
    CHECK(ct_pyver_for(PY399) == NULL && ct_pyver_for(0) == NULL);
    char buf[32];
    CHECK(ct_pyversion_format(PY311, buf, sizeof buf) == 6 && !strcmp(buf, "3.11.7"));
    CHECK(ct_pyversion_format(PY311, buf, 4) == 3 && !strcmp(buf, "3.1"));
    struct ct_pyversion pv = ct_pyversion_of(PY399);
    CHECK(pv.major == 3 && pv.minor == 99 && pv.micro == 0);
    CHECK(ct_pyver_is_eval_func(v, "_PyEval_EvalFrameDefault"));
    /* 3.10: frame objects, no managed dicts */
    const struct ct_pyver *v10 = ct_pyver_for(PY310);
    CHECK(v10 != NULL && !strcmp(v10->name, "3.10") && v10->frame_chain == CT_PYCHAIN_FRAMEOBJECT_310 &&
          ct_pyver_has_stacks(v10) && v10->L.managed_dict_preheader == 0 && v10->L.pool_size == 16384);
    CHECK(ct_pyver_has_stacks(v) && ct_pyver_has_stacks(v12));
    /* 3.9: the same, with 4 KiB pools in 256 KiB arenas */
    const struct ct_pyver *v9 = ct_pyver_for(PY309);
    CHECK(v9 != NULL && !strcmp(v9->name, "3.9") && ct_pyver_has_stacks(v9) && v9->L.pool_size == 4096 &&
          v9->L.arena_size == 256 * 1024);
    /* without a walker the report says so */
    struct ct_pyver none = *v;
    none.frame_chain = CT_PYCHAIN_NONE;
    CHECK(!ct_pyver_has_stacks(&none));
    /* Py_GetVersion()'s text, for interpreters without Py_Version */
    CHECK(ct_pyversion_parse("3.10.13 (main, Dec  1 2026, 10:00:00) [GCC 12.2.0]") == PY310);
    CHECK(ct_pyversion_parse("3.11.7") == PY311);
    CHECK(ct_pyversion_parse("3.13.0rc2 (main)") == 0x030d00c2ull);
    CHECK(ct_pyversion_parse("3.14.0a7+") == 0x030e00a7ull && ct_pyversion_parse("3.12.0b1") == 0x030c00b1ull);
    CHECK(ct_pyversion_parse(NULL) == 0 && ct_pyversion_parse("") == 0 && ct_pyversion_parse("3.10") == 0 &&
          ct_pyversion_parse("3..1") == 0 && ct_pyversion_parse("3.1000.1") == 0 &&
          ct_pyversion_parse("3.10.1rc") == 0 && ct_pyversion_parse("x3.10.1") == 0);
    CHECK(ct_pyver_is_eval_func(NULL, "_PyEval_EvalFrameDefault.cold"));
    CHECK(!ct_pyver_is_eval_func(v, "_PyEval_EvalFrameDefaultX"));
    CHECK(!ct_pyver_is_eval_func(v, "_PyEval_EvalFrame") && !ct_pyver_is_eval_func(v, NULL));
}

/* Every field survives encoding and decoding; ids are unique. */
static void test_fields(void)
{
    const struct ct_pyver *v = ct_pyver_for(PY311);
    struct ct_pyver back = {0};
    size_t n = ct_pyver_nfields();
    CHECK(n > 60);
    for (size_t i = 0; i < n; i++) {
        uint32_t id;
        uint64_t value;
        ct_pyver_field(v, i, &id, &value);
        size_t idx = n;
        CHECK(ct_pyver_set_field(&back, id, value, &idx) == 1 && idx == i);
        for (size_t j = 0; j < i; j++) {
            uint32_t id2;
            uint64_t v2;
            ct_pyver_field(v, j, &id2, &v2);
            CHECK(id2 != id);
        }
    }
    CHECK(!memcmp(&back.L, &v->L, sizeof v->L));
    CHECK(back.major == 3 && back.minor == 11 && back.frame_chain == v->frame_chain &&
          back.linetable == v->linetable && back.dict_keys == v->dict_keys);
    CHECK(ct_pyver_set_field(&back, 60000, 1, NULL) == 0);
    CHECK(ct_pyver_set_field(&back, CT_PYF_OB_TYPE, 1u << 16, NULL) == -1);
    CHECK(ct_pyver_set_field(&back, CT_PYF_DK_KIND, 255, NULL) == 1 && back.L.dk_kind == 255);
    CHECK(ct_pyver_set_field(&back, CT_PYF_TPFLAGS_READY, UINT64_MAX, NULL) == 1);
    CHECK_STR(ct_pyver_field_name(CT_PYF_GC_HEAD_SIZE), "gc_head_size");
}

/* A PYLAYOUT record: the 3.11 table's fields with some changed, plus
 * `extra` (id, value) pairs, minus the field with id `drop`. */
static void mkt_pylayout(struct mkt *m, const char *name, uint32_t gc_head, uint32_t drop,
                         const uint32_t (*extra)[2], size_t nextra)
{
    const struct ct_pyver *v = ct_pyver_for(PY311);
    size_t n = ct_pyver_nfields();
    size_t nl = strlen(name);
    uint8_t *p = calloc(1, 8 + 16 * (n + nextra) + 2 + nl + 8);
    size_t at = 8, count = 0;
    for (size_t i = 0; i < n; i++) {
        uint32_t id;
        uint64_t value;
        ct_pyver_field(v, i, &id, &value);
        if (id == drop)
            continue;
        if (id == CT_PYF_GC_HEAD_SIZE)
            value = gc_head;
        memcpy(p + at, &id, 4);
        memcpy(p + at + 8, &value, 8);
        at += 16;
        count++;
    }
    for (size_t i = 0; i < nextra; i++) {
        uint64_t value = extra[i][1];
        memcpy(p + at, &extra[i][0], 4);
        memcpy(p + at + 8, &value, 8);
        at += 16;
        count++;
    }
    uint32_t c = (uint32_t)count;
    memcpy(p, &c, 4);
    p[at] = (uint8_t)nl;
    memcpy(p + at + 2, name, nl);
    at += 2 + nl;
    mkt_record(m, CT_REC_PYLAYOUT, (uint32_t)((8 + at + 7) & ~(size_t)7), p, at);
    free(p);
}

static void py_trace(struct mkt *m, uint64_t hex)
{
    mkt_init(m, 50, 49, CT_MODE_UFFD, PG);
    mkt_process(m, CT_MODE_UFFD, "test", "/usr/bin/python3", "python3");
    mkt_python(m, hex, 1, 0, "3.x", "/usr/lib/libpython3.so");
}

static void rest_of_trace(struct mkt *m)
{
    mkt_pytype(m, T_LIST, 1, ct_pyver_for(PY311)->L.tpflags_have_gc, 40, 0, "list");
    mkt_region(m, 0, CT_KIND_HEAP, H0, H0 + 4 * PG, CT_TRACK_UFFD, "[heap]");
    mkt_pages(m, CT_REC_PRESENT, 0, 0, (uint64_t[]){ 0, 4 }, 2);
    /* a write 24 bytes before a list: its GC head only if the head is 24 bytes */
    struct mkt_ev e = { .addr = H0 + 0x100 - 24, .time_ns = 1, .obj = H0 + 0x100, .type = T_LIST,
                        .block = H0 + 0x100 - 32, .block_size = 64, .where = CT_WHERE_POOL_BLOCK,
                        .obj_how = CT_OBJ_BLOCK };
    mkt_write_ev(m, &e);
    mkt_end(m, CT_END_EXIT, 0);
}

static int analyze(struct mkt *m, struct ct_proc *p, struct ct_err *err)
{
    struct ct_trace t;
    if (ct_trace_parse("test", m->buf, m->len, &t, err))
        return -1;
    ct_analyze(&t, false, p);
    return 0;
}

static void test_record_preferred(void)
{
    struct mkt m;
    struct ct_proc p;
    struct ct_err err;
    char note[400];

    /* Without the record: the 3.11 table, 16-byte GC head: unknown. */
    py_trace(&m, PY311);
    rest_of_trace(&m);
    CHECK(analyze(&m, &p, &err) == 0);
    CHECK(p.layout == ct_pyver_for(PY311));
    CHECK_U64(p.causes[CT_CAUSE_UNKNOWN], 1);
    ct_proc_free(&p);
    mkt_free(&m);

    /* With it: the recorded 24-byte GC head decides: gc. Unknown ids are
     * skipped. */
    static const uint32_t extra[][2] = { { 60000, 7 }, { 0, 1 } };
    py_trace(&m, PY311);
    mkt_pylayout(&m, "3.11-test", 24, 0, extra, 2);
    rest_of_trace(&m);
    CHECK(analyze(&m, &p, &err) == 0);
    CHECK(p.layout != NULL && p.layout != ct_pyver_for(PY311));
    if (p.layout) {
        CHECK_STR(p.layout->name, "3.11-test");
        CHECK(p.layout->L.gc_head_size == 24 && p.layout->source == CT_PYVER_TABLE);
    }
    CHECK_U64(p.causes[CT_CAUSE_GC], 1);
    /* The layout outlives a move of the process (reports sort them). */
    struct ct_proc *moved = malloc(sizeof *moved);
    memcpy(moved, &p, sizeof p);
    memset(&p, 0xa5, sizeof p);
    CHECK(moved->layout && moved->layout->L.gc_head_size == 24 && !strcmp(moved->layout->name, "3.11-test"));
    ct_proc_free(moved);
    free(moved);
    mkt_free(&m);

    /* A version this build has no table for, analyzed with its record. */
    py_trace(&m, PY399);
    mkt_pylayout(&m, "3.99", 24, 0, NULL, 0);
    rest_of_trace(&m);
    CHECK(analyze(&m, &p, &err) == 0);
    CHECK(p.layout != NULL && ct_cause_note(&p, note, sizeof note) == NULL);
    CHECK_U64(p.causes[CT_CAUSE_GC], 1);
    ct_proc_free(&p);
    mkt_free(&m);

    /* A minor known only by its _Py_DebugOffsets (3.14): the layout is
     * kept (its stacks and lines) but no cause is decided from evidence
     * decoded without the unpublished facts; the note says why. */
    static const uint32_t unknown[][2] = { { CT_PYF_UNKNOWN_FACTS, CT_PYFACTS_OBJECTS } };
    py_trace(&m, 0x030e00f0);
    mkt_pylayout(&m, "3.14", 24, CT_PYF_UNKNOWN_FACTS, unknown, 1);
    rest_of_trace(&m);
    CHECK(analyze(&m, &p, &err) == 0);
    CHECK(p.layout != NULL && !ct_pyver_knows_objects(p.layout));
    CHECK(ct_cause_note(&p, note, sizeof note) != NULL && strstr(note, "Python 3.14: causes unknown") &&
          strstr(note, "_Py_DebugOffsets"));
    CHECK_U64(p.causes[CT_CAUSE_GC], 0);
    CHECK_U64(p.causes[CT_CAUSE_UNKNOWN], 1);
    ct_proc_free(&p);
    mkt_free(&m);

    /* An incomplete record is not used: no table for 3.99 either. */
    py_trace(&m, PY399);
    mkt_pylayout(&m, "3.99", 24, CT_PYF_TP_FLAGS, NULL, 0);
    rest_of_trace(&m);
    CHECK(analyze(&m, &p, &err) == 0);
    CHECK(p.layout == NULL);
    CHECK(ct_cause_note(&p, note, sizeof note) != NULL && strstr(note, "Python 3.99") != NULL);
    CHECK_U64(p.causes[CT_CAUSE_UNKNOWN], 1);
    ct_proc_free(&p);
    mkt_free(&m);

    /* The free-threaded fields are optional (a record older than them is a
     * GIL build's): without one, the record is still used. */
    py_trace(&m, PY399);
    mkt_pylayout(&m, "3.99", 24, CT_PYF_OBJECT_HEADER, NULL, 0);
    rest_of_trace(&m);
    CHECK(analyze(&m, &p, &err) == 0);
    CHECK(p.layout != NULL && p.layout->header == CT_OBJHEAD_GIL);
    CHECK_U64(p.causes[CT_CAUSE_GC], 1);
    ct_proc_free(&p);
    mkt_free(&m);

    /* A free-threaded interpreter's trace without the record: its own
     * table, never the GIL build's. */
    mkt_init(&m, 50, 49, CT_MODE_UFFD, PG);
    mkt_process(&m, CT_MODE_UFFD, "test", "/usr/bin/python3", "python3");
    mkt_python(&m, PY313, 1, CT_PY_FREE_THREADED, "3.13.5 free-threaded", "/usr/lib/libpython3.13t.so");
    rest_of_trace(&m);
    CHECK(analyze(&m, &p, &err) == 0);
    CHECK(p.layout != NULL && p.layout == ct_pyver_for_build(PY313, 1) && p.layout != ct_pyver_for(PY313));
    ct_proc_free(&p);
    mkt_free(&m);
}

static void test_record_hostile(void)
{
    struct mkt m;
    struct ct_proc p;
    struct ct_err err;

    /* A value too large for its field: the error names the value's offset. */
    static const uint32_t big[][2] = { { CT_PYF_OB_TYPE, 70000 } };
    py_trace(&m, PY311);
    size_t rec = m.len;
    mkt_pylayout(&m, "x", 16, CT_PYF_OB_TYPE, big, 1);
    rest_of_trace(&m);
    CHECK(analyze(&m, &p, &err) == -1);
    size_t nf = ct_pyver_nfields();
    CHECK_U64(err.offset, rec + 16 + 16 * (nf - 1) + 8);
    CHECK(strstr(err.msg, "ob_type") != NULL);
    mkt_free(&m);

    /* A field given twice. */
    static const uint32_t twice[][2] = { { CT_PYF_OB_TYPE, 8 } };
    py_trace(&m, PY311);
    rec = m.len;
    mkt_pylayout(&m, "x", 16, 0, twice, 1);
    rest_of_trace(&m);
    CHECK(analyze(&m, &p, &err) == -1);
    CHECK_U64(err.offset, rec + 16 + 16 * nf);
    CHECK(strstr(err.msg, "twice") != NULL);
    mkt_free(&m);

    /* More fields than the record holds. */
    py_trace(&m, PY311);
    rec = m.len;
    mkt_record(&m, CT_REC_PYLAYOUT, 64, (uint8_t[]){ 4, 0, 0, 0 }, 4);
    rest_of_trace(&m);
    CHECK(analyze(&m, &p, &err) == -1);
    CHECK_U64(err.offset, rec + 8);
    mkt_free(&m);

    /* No room for the name. */
    py_trace(&m, PY311);
    rec = m.len;
    mkt_record(&m, CT_REC_PYLAYOUT, 32, (uint8_t[]){ 1, 0, 0, 0 }, 4);
    rest_of_trace(&m);
    CHECK(analyze(&m, &p, &err) == -1);
    CHECK_U64(err.offset, rec + 32);
    mkt_free(&m);
}

/* ---- the decoder, on objects built in this process's memory -------------- */

static int read_self(void *ctx, uintptr_t addr, void *dst, size_t len)
{
    (void)ctx;
    if (addr < 4096)
        return -1;
    memcpy(dst, (const void *)addr, len);
    return 0;
}

struct fake_type {
    uint8_t b[256];
};

static void put64(void *base, size_t off, uint64_t v) { memcpy((uint8_t *)base + off, &v, 8); }
static void put32(void *base, size_t off, uint32_t v) { memcpy((uint8_t *)base + off, &v, 4); }

static void test_decoder(void)
{
    const struct ct_pyver *v = ct_pyver_for(PY311);
    const struct ct_pylayout *L = &v->L;
    struct ct_memread mem = { read_self, NULL };
    struct ct_pydecoder d = { .v = v, .mem = &mem };
    /* type, its metatype (its own type, like PyType_Type), and a name */
    static struct fake_type meta, list;
    static const char name[] = "list";
    put64(&meta, L->ob_type, (uintptr_t)&meta);
    put64(&meta, L->tp_flags, L->tpflags_type_subclass | L->tpflags_ready);
    put64(&meta, L->tp_name, (uintptr_t)"type");
    put64(&meta, L->tp_basicsize, 880);
    put64(&list, L->ob_type, (uintptr_t)&meta);
    put64(&list, L->tp_flags, L->tpflags_have_gc | L->tpflags_ready);
    put64(&list, L->tp_name, (uintptr_t)name);
    put64(&list, L->tp_basicsize, 40);
    struct ct_pytypeinfo ti;
    CHECK(ct_py_read_type(&d, (uintptr_t)&list, &ti) && ti.basicsize == 40 && ti.index == 0);
    CHECK(!ct_py_read_type(&d, (uintptr_t)&list + 8, &ti));
    static struct fake_type junk = { "list" };                 /* readable, not a type */
    CHECK(!ct_py_read_type(&d, (uintptr_t)&junk, &ti));

    /* a pool of 64-byte blocks: block 2 holds a GC object of that type */
    uint8_t *pool = aligned_alloc(L->pool_size, L->pool_size);
    memset(pool, 0, L->pool_size);
    put32(pool, L->pool_count, 3);
    put32(pool, L->pool_szidx, 64 / L->alignment - 1);
    put32(pool, L->pool_nextoffset, L->pool_overhead + 3 * 64);
    put32(pool, L->pool_maxnextoffset, L->pool_size - 64);
    uintptr_t block = (uintptr_t)pool + L->pool_overhead + 2 * 64;
    uintptr_t obj = block + L->gc_head_size;
    put64((void *)obj, L->ob_refcnt, 5);
    put64((void *)obj, L->ob_type, (uintptr_t)&list);
    CHECK(ct_py_pool_block_size(v, &mem, (uintptr_t)pool) == 64);
    CHECK(ct_py_pool_block_size(v, &mem, (uintptr_t)pool + PG) == 0);

    struct ct_pyfound f;
    ct_py_find(&d, &mem, obj + 3, 0, &f);                  /* the reference count */
    CHECK(f.where == CT_WHERE_POOL_BLOCK && f.block == block && f.block_size == 64);
    CHECK(f.obj == obj && f.type == (uintptr_t)&list && f.obj_how == CT_OBJ_BLOCK);
    CHECK(ct_py_part_of(v, obj + 3, f.obj) == CT_PYPART_REFCNT);
    ct_py_find(&d, &mem, block + 8, 0, &f);                /* its GC head */
    CHECK(f.obj == obj && ct_py_part_of(v, block + 8, f.obj) == CT_PYPART_GC_HEAD);
    CHECK(ct_py_part_of(v, obj + L->ob_type, obj) == CT_PYPART_FIELDS);
    CHECK(ct_py_part_of(v, obj - L->gc_head_size - 8, obj) == CT_PYPART_PREHEADER);
    CHECK(ct_py_part_of(v, obj - 64, obj) == CT_PYPART_BEFORE);
    /* an immortal count (3.12's rule): not a reference-count write, so the
     * object is not named for it; its GC head still is. 3.11 has no rule. */
    const struct ct_pyver *v12 = ct_pyver_for(PY312);
    struct ct_pydecoder d12 = { .v = v12, .mem = &mem };
    CHECK(!ct_py_is_immortal(v, 0xFFFFFFFFull) && ct_py_is_immortal(v12, 0xFFFFFFFFull) &&
          !ct_py_is_immortal(v12, 5) && !ct_py_is_immortal(v12, 0xFFFFFFFEull));
    put64((void *)obj, L->ob_refcnt, 0xFFFFFFFFull);
    ct_py_find(&d12, &mem, obj + 3, 0, &f);
    CHECK(f.where == CT_WHERE_POOL_BLOCK && f.block == block && f.obj == 0 && f.type == 0 &&
          f.obj_how == CT_OBJ_NONE);
    ct_py_find(&d12, &mem, block + 8, 0, &f);
    CHECK(f.obj == obj && f.obj_how == CT_OBJ_BLOCK);
    ct_py_find(&d, &mem, obj + 3, 0, &f);
    CHECK(f.obj == obj && f.obj_how == CT_OBJ_BLOCK);
    put64((void *)obj, L->ob_refcnt, 5);

    ct_py_find(&d, &mem, (uintptr_t)pool + 8, 0, &f);      /* the pool header */
    CHECK(f.where == CT_WHERE_POOL_HEADER);
    ct_py_find(&d, &mem, block - 64 + 8, 0, &f);           /* an empty block */
    CHECK(f.where == CT_WHERE_POOL_BLOCK && f.obj == 0 && f.obj_how == CT_OBJ_NONE);

    /* a dict's keys table in block 0, named by the dict type */
    uintptr_t keys = (uintptr_t)pool + L->pool_overhead;
    put64((void *)keys, L->dk_refcnt, 1);
    ((uint8_t *)keys)[L->dk_log2_size] = 3;
    ((uint8_t *)keys)[L->dk_log2_index_bytes] = 3;
    ((uint8_t *)keys)[L->dk_kind] = 1;
    put64((void *)keys, L->dk_usable, 4);
    put64((void *)keys, L->dk_nentries, 1);
    CHECK(ct_py_looks_like_dict_keys(v, &mem, keys, 64));
    ct_py_find(&d, &mem, keys + 40, (uintptr_t)&list, &f);
    CHECK(f.obj == keys && f.type == (uintptr_t)&list && f.obj_how == CT_OBJ_DICT_KEYS);
    put64((void *)keys, L->dk_usable, 6);                  /* 6 + 1 > USABLE_FRACTION(8) */
    CHECK(!ct_py_looks_like_dict_keys(v, &mem, keys, 64));
    put64((void *)keys, L->dk_usable, 4);

    /* an instance's values array in block 1 (3.11, 3.12): an 8-byte prefix
     * (order bytes 0 then 1 backwards from byte 5, count 2, prefix size 8),
     * then 7 slots of which 0 and 1 hold objects */
    uint8_t *vals = pool + L->pool_overhead + 64;
    vals[7] = 8;
    vals[6] = 2;
    vals[5] = 0;
    vals[4] = 1;
    put64(vals, 8, obj);
    put64(vals, 16, obj);
    CHECK(ct_py_looks_like_values(&d, &mem, (uintptr_t)vals, 64));
    ct_py_find(&d, &mem, (uintptr_t)vals + 16, (uintptr_t)&list, &f);
    CHECK(f.where == CT_WHERE_POOL_BLOCK && f.obj == (uintptr_t)vals && f.type == 0 && f.obj_how == CT_OBJ_VALUES);
    CHECK(ct_py_looks_like_values(&d12, &mem, (uintptr_t)vals, 64));
    const struct ct_pyver *v10 = ct_pyver_for(PY310);      /* 3.10 keeps values in a dict's array */
    struct ct_pydecoder d10 = { .v = v10, .mem = &mem };
    CHECK(!ct_py_looks_like_values(&d10, &mem, (uintptr_t)vals, 64));
    vals[4] = 0;                                            /* an index twice */
    CHECK(!ct_py_looks_like_values(&d, &mem, (uintptr_t)vals, 64));
    vals[4] = 7;                                            /* past the slots */
    CHECK(!ct_py_looks_like_values(&d, &mem, (uintptr_t)vals, 64));
    vals[4] = 1;
    put64(vals, 16, 0);                                     /* an inserted attribute without a value */
    CHECK(!ct_py_looks_like_values(&d, &mem, (uintptr_t)vals, 64));
    put64(vals, 16, obj);
    put64(vals, 8, (uintptr_t)&junk);                       /* not an object */
    CHECK(!ct_py_looks_like_values(&d, &mem, (uintptr_t)vals, 64));
    put64(vals, 8, obj);
    vals[6] = 7;                                            /* more order bytes than the prefix holds */
    CHECK(!ct_py_looks_like_values(&d, &mem, (uintptr_t)vals, 64));
    vals[6] = 2;
    vals[7] = 16;                                           /* no prefix size where it must be */
    CHECK(!ct_py_looks_like_values(&d, &mem, (uintptr_t)vals, 64));
    memset(vals, 0, 64);
    ct_py_find(&d, &mem, (uintptr_t)vals + 16, (uintptr_t)&list, &f);
    CHECK(f.where == CT_WHERE_POOL_BLOCK && f.obj == 0 && f.obj_how == CT_OBJ_NONE);
    /* an array of object pointers (3.10's split dict values, a list's
     * items): the word written points to a live object, so it is not a
     * free block's link; a link to a free block (whose first word is a
     * link) or to an object with no count is not */
    put64(vals, 8, obj);
    CHECK(ct_py_points_to_object(&d, &mem, (uintptr_t)vals + 8) && !ct_py_points_to_object(&d, &mem, (uintptr_t)vals));
    ct_py_find(&d10, &mem, (uintptr_t)vals + 12, (uintptr_t)&list, &f);
    CHECK(f.obj == (uintptr_t)vals && f.type == 0 && f.obj_how == CT_OBJ_POINTERS);
    uint8_t *freeb = pool + L->pool_overhead + 3 * 64;       /* past nextoffset: free */
    put64(freeb, 0, (uintptr_t)pool + L->pool_overhead + 4 * 64);
    put64(vals, 8, (uintptr_t)freeb);
    CHECK(!ct_py_points_to_object(&d, &mem, (uintptr_t)vals + 8));
    put64(vals, 8, obj);
    put64((void *)obj, L->ob_refcnt, 0);                     /* a dead object */
    CHECK(!ct_py_points_to_object(&d, &mem, (uintptr_t)vals + 8));
    put64((void *)obj, L->ob_refcnt, 5);
    memset(vals, 0, 64);
    memset(freeb, 0, 64);

    /* Offsets from a hostile layout that lie past the bytes read: no
     * answer, and no read outside the decoder's buffers (ASan). */
    struct ct_pyver hv = *v;
    hv.L.pool_szidx = 200;
    CHECK(ct_py_pool_header_len(&hv) == 0 && ct_py_pool_block_size(&hv, &mem, (uintptr_t)pool) == 0);
    hv = *v;
    hv.L.dk_usable = 100;
    CHECK(ct_py_looks_like_dict_keys(v, &mem, keys, 64) && !ct_py_looks_like_dict_keys(&hv, &mem, keys, 64));

    /* a view answers inside its window and passes the rest on */
    uint8_t copy[64];
    memcpy(copy, (void *)block, sizeof copy);
    struct ct_memview view = { .base = block, .len = sizeof copy, .data = copy, .outside = NULL };
    struct ct_memread vr = ct_memview_reader(&view);
    uintptr_t o;
    CHECK(ct_py_block_object(&d, &vr, block, 64, &o, &ti) && o == obj);
    uint64_t x;
    CHECK(ct_mem_u64(&vr, block + 60, &x) == -1);
    view.outside = &mem;
    CHECK(ct_mem_u64(&vr, block + 64, &x) == 0);
    free(pool);
}

/* ct_py_block_object_memo: the same answers as ct_py_block_object, block
 * after block, with type_of asked once for a run of objects of one type. */
struct counting_types {
    const struct ct_pydecoder *plain;
    unsigned asked;
    uintptr_t addr[4];
    struct ct_pytypeinfo info[4];
    size_t n;
};

static const struct ct_pytypeinfo *counting_type_of(void *ctx, uintptr_t t, struct ct_pytypeinfo *scratch)
{
    (void)scratch;
    struct counting_types *c = ctx;
    c->asked++;
    for (size_t i = 0; i < c->n; i++)
        if (c->addr[i] == t)
            return &c->info[i];
    if (c->n == 4 || !ct_py_read_type(c->plain, t, &c->info[c->n]))
        return NULL;
    c->addr[c->n] = t;
    return &c->info[c->n++];
}

static void test_block_memo(void)
{
    const struct ct_pyver *v = ct_pyver_for(PY311);
    const struct ct_pylayout *L = &v->L;
    struct ct_memread mem = { read_self, NULL };
    struct ct_pydecoder plain = { .v = v, .mem = &mem };
    static struct fake_type meta, intt, listt;
    put64(&meta, L->ob_type, (uintptr_t)&meta);
    put64(&meta, L->tp_flags, L->tpflags_type_subclass | L->tpflags_ready);
    put64(&meta, L->tp_name, (uintptr_t)"type");
    put64(&meta, L->tp_basicsize, 880);
    put64(&intt, L->ob_type, (uintptr_t)&meta);
    put64(&intt, L->tp_flags, L->tpflags_ready);             /* no GC head */
    put64(&intt, L->tp_name, (uintptr_t)"int");
    put64(&intt, L->tp_basicsize, 24);
    put64(&listt, L->ob_type, (uintptr_t)&meta);
    put64(&listt, L->tp_flags, L->tpflags_have_gc | L->tpflags_ready);
    put64(&listt, L->tp_name, (uintptr_t)"list");
    put64(&listt, L->tp_basicsize, 40);
    /* 32-byte blocks: ints, a GC object after its head, a list's type word
     * at a block's start (no object there: the head is missing), free */
    enum { N = 12 };
    /* (and room after the last: the decoder looks past a small block's
     * end for a pre-header's object, as in a pool) */
    uint8_t *blocks = aligned_alloc(64, N * 32 + 256);
    memset(blocks, 0, N * 32 + 256);
    const uintptr_t kinds[N] = {
        (uintptr_t)&intt, (uintptr_t)&intt, (uintptr_t)&intt, 1, 0, (uintptr_t)&intt,
        (uintptr_t)&listt, (uintptr_t)&intt, 0, (uintptr_t)&intt, (uintptr_t)&intt, 0,
    };
    for (size_t k = 0; k < N; k++) {
        uint8_t *b = blocks + k * 32;
        if (kinds[k] == 1)                                   /* a list after its GC head */
            put64(b + L->gc_head_size, L->ob_type, (uintptr_t)&listt);
        else if (kinds[k])
            put64(b, L->ob_type, kinds[k]);
    }
    struct counting_types with = { .plain = &plain }, without = { .plain = &plain }, inhand = { .plain = &plain };
    struct ct_pydecoder dm = { .v = v, .mem = &mem, .type_of = counting_type_of, .type_ctx = &with };
    struct ct_pydecoder dh = { .v = v, .mem = &mem, .type_of = counting_type_of, .type_ctx = &inhand };
    /* the same bytes in hand (a copy: a load from them, not from memory) */
    uint8_t *copy = malloc(N * 32);
    memcpy(copy, blocks, N * 32);
    struct ct_py_block_memo memoh = { .bytes = copy, .base = (uintptr_t)blocks, .len = N * 32 };
    struct ct_pydecoder dp = { .v = v, .mem = &mem, .type_of = counting_type_of, .type_ctx = &without };
    struct ct_py_block_memo memo = {0};
    struct ct_pytypeinfo scratch;
    unsigned found = 0;
    for (size_t k = 0; k < N; k++) {
        uintptr_t b = (uintptr_t)blocks + k * 32, om = 0, op = 0;
        const struct ct_pytypeinfo *em = ct_py_block_object_memo(&dm, &mem, b, 32, &om, &scratch, &memo);
        const struct ct_pytypeinfo *ep = ct_py_block_object(&dp, &mem, b, 32, &op, &scratch);
        uintptr_t oh = 0;
        const struct ct_pytypeinfo *eh = ct_py_block_object_memo(&dh, &mem, b, 32, &oh, &scratch, &memoh);
        CHECK((em == NULL) == (ep == NULL) && (eh == NULL) == (ep == NULL));
        if (em && ep && eh) {
            CHECK(om == op && em->flags == ep->flags && em->basicsize == ep->basicsize);
            CHECK(oh == op && eh->flags == ep->flags && eh->basicsize == ep->basicsize);
            found++;
        }
    }
    CHECK(found == 8);                                       /* 7 ints, the list after its head */
    CHECK(without.asked > with.asked + 4);                   /* the ints in a row: asked once */
    CHECK(inhand.asked == with.asked);
    /* a block of another size class is not answered from the memo */
    uintptr_t o = 0;
    memo = (struct ct_py_block_memo){0};
    CHECK(ct_py_block_object_memo(&dm, &mem, (uintptr_t)blocks, 32, &o, &scratch, &memo) && memo.e);
    CHECK(!ct_py_block_object_memo(&dm, &mem, (uintptr_t)blocks, 8, &o, &scratch, &memo));
    free(copy);
    free(blocks);
}

/* ---- the frame walk, on interpreter structures built here ------------------ */

/* 3.12: no current thread state in the runtime, and no is_entry: each C
 * call of the evaluation loop links a frame owned by the C stack (owner 3)
 * after the first frame it runs, which is skipped and marks that frame. */
static void test_frames_312(void)
{
    const struct ct_pyver *v = ct_pyver_for(PY312);
    const struct ct_pylayout *L = &v->L;
    struct ct_memread mem = { read_self, NULL };
    struct ct_pydecoder d = { .v = v, .mem = &mem };
    static struct { uint8_t b[1024]; } rt;
    static struct fake_type interp, ts1, cframe, f1, shim1, f2, f3, shim2, code;
    CHECK(L->rt_tstate_current == 0);
    memset(&rt, 0xff, sizeof rt);                          /* no word of the runtime is a tstate */
    put64(&rt, L->rt_interpreters_head, (uintptr_t)&interp);
    put64(&interp, L->is_next, 0);
    put64(&interp, L->is_threads_head, (uintptr_t)&ts1);
    put64(&ts1, L->ts_native_thread_id, 111);
    put64(&ts1, L->ts_cframe, (uintptr_t)&cframe);
    put64(&cframe, L->cframe_current_frame, (uintptr_t)&f1);
    CHECK(ct_py_thread_state(&d, (uintptr_t)&rt, 111, 0) == (uintptr_t)&ts1);
    CHECK(ct_py_thread_state(&d, (uintptr_t)&rt, 222, 0) == 0);
    /* f1 (entry of the inner call) -> shim1 -> f2 -> f3 (entry of the outer call) -> shim2 */
    struct fake_type *chain[] = {&f1, &shim1, &f2, &f3, &shim2};
    for (size_t i = 0; i < sizeof chain / sizeof chain[0]; i++) {
        put64(chain[i], L->fr_code, (uintptr_t)&code);
        put64(chain[i], L->fr_prev_instr, (uintptr_t)&code + L->co_code_adaptive + i * L->code_unit);
        put64(chain[i], L->fr_previous, i + 1 < sizeof chain / sizeof chain[0] ? (uintptr_t)chain[i + 1] : 0);
    }
    shim1.b[L->fr_owner] = 3;
    shim2.b[L->fr_owner] = 3;
    struct ct_pyframe fr[8];
    int truncated = -1;
    CHECK(ct_py_frames(&d, (uintptr_t)&ts1, fr, 8, &truncated) == 3 && truncated == 0);
    CHECK(fr[0].lasti == 0 && fr[0].flags == CT_PYFRAME_ENTRY);
    CHECK(fr[1].lasti == 2 && fr[1].flags == 0);
    CHECK(fr[2].lasti == 3 && fr[2].flags == CT_PYFRAME_ENTRY);

    /* 3.13: the same chain, reached from the thread state directly */
    const struct ct_pyver *v13 = ct_pyver_for(PY313);
    CHECK(v13 != NULL && v13->frame_chain == CT_PYCHAIN_TSTATE_313);
    if (!v13)
        return;
    const struct ct_pylayout *M = &v13->L;
    static struct fake_type ts13;
    static struct { uint8_t b[256]; } g1, gshim, g2, code13;
    struct ct_pydecoder d13 = { .v = v13, .mem = &mem };
    put64(&ts13, M->ts_current_frame, (uintptr_t)&g1);
    put64(&g1, M->fr_code, (uintptr_t)&code13);
    put64(&g1, M->fr_prev_instr, (uintptr_t)&code13 + M->co_code_adaptive + 7 * M->code_unit);
    put64(&g1, M->fr_previous, (uintptr_t)&gshim);
    gshim.b[M->fr_owner] = 3;
    put64(&gshim, M->fr_previous, (uintptr_t)&g2);
    put64(&g2, M->fr_code, (uintptr_t)&code13);
    put64(&g2, M->fr_prev_instr, (uintptr_t)&code13 + M->co_code_adaptive);
    CHECK(ct_py_frames(&d13, (uintptr_t)&ts13, fr, 8, &truncated) == 2 && truncated == 0);
    CHECK(fr[0].code == (uintptr_t)&code13 && fr[0].lasti == 7 && fr[0].flags == CT_PYFRAME_ENTRY);
    CHECK(fr[1].lasti == 0 && fr[1].flags == 0);
}

/* 3.9, 3.10: PyFrameObjects chained by f_back from tstate->frame; a
 * thread state is known by its pthread_self() only; every frame is its own
 * C call of the evaluation loop; f_lasti counts bytes (3.9) or code units
 * (3.10). */
static void test_frames_pre311(uint64_t hexversion, int lasti_scale)
{
    const struct ct_pyver *v = ct_pyver_for(hexversion);
    CHECK(v != NULL);
    if (!v)
        return;
    const struct ct_pylayout *L = &v->L;
    struct ct_memread mem = { read_self, NULL };
    struct ct_pydecoder d = { .v = v, .mem = &mem };
    static struct { uint8_t b[1024]; } rt;
    static struct { uint8_t b[512]; } interp, ts1, ts2, f1, f2, code;
    memset(&rt, 0, sizeof rt);
    memset(&ts1, 0, sizeof ts1);
    memset(&ts2, 0, sizeof ts2);
    put64(&rt, L->rt_tstate_current, (uintptr_t)&ts1);     /* the GIL holder is not the one asked for */
    put64(&rt, L->rt_interpreters_head, (uintptr_t)&interp);
    put64(&interp, L->is_next, 0);
    put64(&interp, L->is_threads_head, (uintptr_t)&ts1);
    put64(&ts1, L->ts_next, (uintptr_t)&ts2);
    put64(&ts1, L->ts_pthread_id, 0x7f0000001111);
    put64(&ts2, L->ts_pthread_id, 0x7f0000002222);
    put64(&ts2, L->ts_current_frame, (uintptr_t)&f1);
    CHECK(ct_py_thread_state(&d, (uintptr_t)&rt, 1, 0x7f0000001111) == (uintptr_t)&ts1);
    CHECK(ct_py_thread_state(&d, (uintptr_t)&rt, 1, 0x7f0000002222) == (uintptr_t)&ts2);
    CHECK(ct_py_thread_state(&d, (uintptr_t)&rt, 1, 0x7f0000003333) == 0);
    CHECK(ct_py_thread_state(&d, (uintptr_t)&rt, 1, 0) == 0);
    put64(&f1, L->fr_code, (uintptr_t)&code);
    put64(&f1, L->fr_previous, (uintptr_t)&f2);
    int32_t lasti = 9 * lasti_scale, unstarted = -1;
    memcpy(f1.b + L->fr_prev_instr, &lasti, 4);
    put64(&f2, L->fr_code, (uintptr_t)&code);
    put64(&f2, L->fr_previous, 0);
    memcpy(f2.b + L->fr_prev_instr, &unstarted, 4);
    struct ct_pyframe fr[4];
    int truncated = -1;
    CHECK(ct_py_frames(&d, (uintptr_t)&ts2, fr, 4, &truncated) == 2 && truncated == 0);
    CHECK(fr[0].code == (uintptr_t)&code && fr[0].lasti == 9 && fr[0].flags == CT_PYFRAME_ENTRY);
    CHECK(fr[1].code == (uintptr_t)&code && fr[1].lasti == -1 && fr[1].flags == CT_PYFRAME_ENTRY);
    CHECK(ct_py_frames(&d, (uintptr_t)&ts2, fr, 1, &truncated) == 1 && truncated == 1);
    CHECK(ct_py_frames(&d, (uintptr_t)&ts1, fr, 4, &truncated) == 0 && truncated == 0);   /* no frame */
}

static void test_frames(void)
{
    const struct ct_pyver *v = ct_pyver_for(PY311);
    const struct ct_pylayout *L = &v->L;
    struct ct_memread mem = { read_self, NULL };
    struct ct_pydecoder d = { .v = v, .mem = &mem };
    static struct { uint8_t b[1024]; } rt;                 /* _PyRuntime: tstate_current is far in */
    static struct fake_type interp, ts1, ts2, cframe, f1, f2, code, qualname, filename, lines;
    /* two threads; the GIL holder is not the one asked for */
    put64(&rt, L->rt_tstate_current, (uintptr_t)&ts1);
    put64(&rt, L->rt_interpreters_head, (uintptr_t)&interp);
    put64(&interp, L->is_threads_head, (uintptr_t)&ts1);
    put64(&ts1, L->ts_next, (uintptr_t)&ts2);
    put64(&ts1, L->ts_native_thread_id, 111);
    put64(&ts2, L->ts_native_thread_id, 222);
    put64(&ts2, L->ts_cframe, (uintptr_t)&cframe);
    put64(&cframe, L->cframe_current_frame, (uintptr_t)&f1);
    /* f1 runs instruction 5 of code; f2 (the entry frame) has not started */
    put64(&f1, L->fr_code, (uintptr_t)&code);
    put64(&f1, L->fr_previous, (uintptr_t)&f2);
    put64(&f1, L->fr_prev_instr, (uintptr_t)&code + L->co_code_adaptive + 5 * L->code_unit);
    put64(&f2, L->fr_code, (uintptr_t)&code);
    put64(&f2, L->fr_prev_instr, (uintptr_t)&code + L->co_code_adaptive - L->code_unit);
    f2.b[L->fr_is_entry] = 1;
    CHECK(ct_py_thread_state(&d, (uintptr_t)&rt, 111, 0) == (uintptr_t)&ts1);
    CHECK(ct_py_thread_state(&d, (uintptr_t)&rt, 222, 0) == (uintptr_t)&ts2);
    CHECK(ct_py_thread_state(&d, (uintptr_t)&rt, 333, 0) == 0);
    struct ct_pyframe fr[4];
    int truncated = -1;
    CHECK(ct_py_frames(&d, (uintptr_t)&ts2, fr, 4, &truncated) == 2 && truncated == 0);
    CHECK(fr[0].code == (uintptr_t)&code && fr[0].lasti == 5 && fr[0].flags == 0);
    CHECK(fr[1].code == (uintptr_t)&code && fr[1].lasti == -1 && fr[1].flags == CT_PYFRAME_ENTRY);
    CHECK(ct_py_frames(&d, (uintptr_t)&ts2, fr, 1, &truncated) == 1 && truncated == 1);
    CHECK(ct_py_frames(&d, (uintptr_t)&ts1, fr, 4, &truncated) == 0 && truncated == 0);   /* no cframe */

    /* the code object: names (compact ASCII str), first line, line table (bytes) */
    put64(&code, L->co_qualname, (uintptr_t)&qualname);
    put64(&code, L->co_filename, (uintptr_t)&filename);
    put64(&code, L->co_linetable, (uintptr_t)&lines);
    put32(&code, L->co_firstlineno, 42);
    uint32_t ascii_state = 1u << L->unicode_kind_shift | 1u << L->unicode_compact_bit | 1u << L->unicode_ascii_bit;
    put64(&qualname, L->ascii_length, 5);
    put32(&qualname, L->ascii_state, ascii_state);
    memcpy(qualname.b + L->ascii_size, "outer", 5);
    put64(&filename, L->ascii_length, 4);
    put32(&filename, L->ascii_state, ascii_state & ~(1u << L->unicode_compact_bit));   /* not compact */
    put64(&lines, L->ob_size, 3);
    memcpy(lines.b + L->bytes_sval, "\x80\x81\x82", 3);
    struct ct_pycodeinfo ci;
    CHECK(ct_py_read_code(&d, (uintptr_t)&code, &ci) == 0);
    CHECK(ci.firstlineno == 42 && ci.qualname == (uintptr_t)&qualname && ci.linetable == (uintptr_t)&lines);
    char text[16];
    CHECK(ct_py_read_ascii(&d, ci.qualname, text, sizeof text) == 5 && !memcmp(text, "outer", 5));
    CHECK(ct_py_read_ascii(&d, ci.qualname, text, 3) == 3);
    CHECK(ct_py_read_ascii(&d, ci.filename, text, sizeof text) == 0);
    CHECK(ct_py_bytes_len(&d, ci.linetable) == 3);
    CHECK(!memcmp((const void *)ct_py_bytes_data(&d, ci.linetable), "\x80\x81\x82", 3));

    /* A layout from a trace may put a field past the bytes a structure is
     * read into: the decoder declines (under ASan, an overread would fail). */
    struct ct_pyver hv = *v;
    struct ct_pydecoder hd = { .v = &hv, .mem = &mem };
    hv.L.fr_code = 4000;
    CHECK(ct_py_frames(&hd, (uintptr_t)&ts2, fr, 4, &truncated) == 0);
    hv = *v;
    hv.L.co_filename = 1000;
    CHECK(ct_py_read_code(&hd, (uintptr_t)&code, &ci) == -1);
    hv = *v;
    hv.L.ascii_state = 500;
    CHECK(ct_py_read_ascii(&hd, (uintptr_t)&qualname, text, sizeof text) == 0);
}

/* ---- process_vm_readv, on a child ------------------------------------------ */

static char child_data[64] = "the parent's bytes";

static void test_remote(void)
{
    int ready[2], done[2];
    if (pipe(ready) || pipe(done)) {
        CHECK(0);
        return;
    }
    pid_t pid = fork();
    if (pid == 0) {
        strcpy(child_data, "the child's bytes");
        char c = 1;
        if (write(ready[1], &c, 1) != 1 || read(done[0], &c, 1) < 0)
            _exit(1);
        _exit(0);
    }
    char c;
    CHECK(pid > 0 && read(ready[0], &c, 1) == 1);
    struct ct_memread_remote r = { .pid = pid };
    struct ct_memread m = ct_memread_remote(&r);
    char buf[sizeof child_data] = {0};
    CHECK(ct_mem_read(&m, (uintptr_t)child_data, buf, sizeof buf) == 0);
    CHECK_STR(buf, "the child's bytes");
    CHECK_STR(child_data, "the parent's bytes");
    uint64_t x;
    CHECK(ct_mem_u64(&m, 8, &x) == -1);                    /* unmapped */
    CHECK(ct_mem_u64(&m, UINTPTR_MAX - 3, &x) == -1);      /* wraps */
    if (write(done[1], &c, 1) != 1)
        kill(pid, SIGKILL);
    int st;
    CHECK(waitpid(pid, &st, 0) == pid && WIFEXITED(st) && WEXITSTATUS(st) == 0);
    r.pid = pid;                                            /* reaped: gone */
    CHECK(ct_mem_read(&m, (uintptr_t)child_data, buf, 8) == -1);
    close(ready[0]);
    close(ready[1]);
    close(done[0]);
    close(done[1]);
}


/* A free-threaded 3.13 (3.13t): objects in a mimalloc segment built here,
 * found through its segment header and page descriptors; the parts of the
 * free-threaded header. */
static void test_decoder_313t(void)
{
    const struct ct_pyver *v = ct_pyver_for_build(PY313, 1);
    CHECK(v != NULL && v != ct_pyver_for(PY313) && ct_pyver_for_build(PY313, 0) == ct_pyver_for(PY313));
    CHECK(ct_pyver_for_build(PY312, 1) == NULL);
    if (!v)
        return;
    CHECK_STR(v->name, "3.13t");
    /* _Py_DebugOffsets at the start of _PyRuntime says which build */
    uint8_t head[CT_PY_RUNTIME_HEAD] = {'x', 'd', 'e', 'b', 'u', 'g', 'p', 'y'};
    uint64_t hex = PY313, one = 1;
    memcpy(head + 8, &hex, 8);
    CHECK(ct_pyver_free_threaded(head, PY313) == 0);
    memcpy(head + 16, &one, 8);
    CHECK(ct_pyver_free_threaded(head, PY313) == 1);
    CHECK(ct_pyver_free_threaded(head, PY313 + 0x100) == -1);      /* another version */
    head[0] = 'y';
    CHECK(ct_pyver_free_threaded(head, PY313) == -1);              /* no cookie */
    CHECK(ct_pyver_can_be_free_threaded(PY313) && !ct_pyver_can_be_free_threaded(PY312));
    CHECK(v->header == CT_OBJHEAD_FREE_THREADED && ct_pyver_for(PY313)->header == CT_OBJHEAD_GIL);
    const struct ct_pylayout *L = &v->L;
    /* by process_vm_readv on ourselves: the decoder reads at 32 MiB
     * boundaries that may be unmapped */
    struct ct_memread_remote self = { .pid = getpid() };
    struct ct_memread mem = ct_memread_remote(&self);
    struct ct_pydecoder d = { .v = v, .mem = &mem };
    static struct fake_type meta, list, node;
    put64(&meta, L->ob_type, (uintptr_t)&meta);
    put64(&meta, L->tp_flags, L->tpflags_type_subclass | L->tpflags_ready);
    put64(&meta, L->tp_name, (uintptr_t)"type");
    put64(&meta, L->tp_basicsize, 928);
    put64(&list, L->ob_type, (uintptr_t)&meta);
    put64(&list, L->tp_flags, L->tpflags_have_gc | L->tpflags_ready);
    put64(&list, L->tp_name, (uintptr_t)"list");
    put64(&list, L->tp_basicsize, 56);
    put64(&node, L->ob_type, (uintptr_t)&meta);
    put64(&node, L->tp_flags, L->tpflags_have_gc | L->tpflags_ready | L->tpflags_managed_dict);
    put64(&node, L->tp_name, (uintptr_t)"Node");
    put64(&node, L->tp_basicsize, 32);

    size_t segsize = (size_t)1 << L->mi_segment_shift, slice = (size_t)1 << L->mi_slice_shift;
    uint8_t *seg = aligned_alloc(segsize, segsize);     /* untouched pages cost nothing */
    CHECK(seg != NULL);
    if (!seg)
        return;
    memset(seg, 0, 8 * slice);
    put32(seg, L->mi_segment_kind, 0);
    put64(seg, L->mi_segment_slice_entries, segsize / slice);
    put64(seg, L->mi_segment_info_slices, 1);
    uint8_t *slices = seg + L->mi_segment_slices;
    /* slices 2-3: a page of 48-byte GC blocks (heap 2); 4: GC with the
     * pre-header (heap 3), 64 bytes; 5: PyMem (heap 0), 64 bytes */
    put32(slices + 2 * L->mi_page_size, L->mi_page_slice_count, 2);
    put32(slices + 2 * L->mi_page_size, L->mi_page_xblock_size, 48);
    slices[2 * L->mi_page_size + L->mi_page_tag_byte] = (uint8_t)(2 << L->mi_page_tag_shift) | 1;
    put32(slices + 3 * L->mi_page_size, L->mi_page_slice_offset, L->mi_page_size);
    put32(slices + 4 * L->mi_page_size, L->mi_page_slice_count, 1);
    put32(slices + 4 * L->mi_page_size, L->mi_page_xblock_size, 64);
    slices[4 * L->mi_page_size + L->mi_page_tag_byte] = (uint8_t)(3 << L->mi_page_tag_shift);
    put32(slices + 5 * L->mi_page_size, L->mi_page_slice_count, 1);
    put32(slices + 5 * L->mi_page_size, L->mi_page_xblock_size, 64);

    /* small blocks start 3 blocks into their page (mimalloc's segment.c) */
    uintptr_t block = (uintptr_t)seg + 2 * slice + 3 * 48 + 5 * 48, obj = block;
    put64((void *)obj, L->ob_refcnt, 7);
    put64((void *)obj, L->ob_type, (uintptr_t)&list);
    struct ct_pyfound f;
    ct_py_find(&d, &mem, obj + L->ob_refcnt + 1, 0, &f);        /* ob_ref_local */
    CHECK(f.where == CT_WHERE_POOL_BLOCK && f.block == block && f.block_size == 48);
    CHECK(f.obj == obj && f.type == (uintptr_t)&list && f.obj_how == CT_OBJ_BLOCK);
    CHECK(ct_py_part_of(v, obj + L->ob_refcnt, obj) == CT_PYPART_REFCNT);
    CHECK(ct_py_part_of(v, obj + 16, obj) == CT_PYPART_REFCNT);           /* ob_ref_shared */
    CHECK(ct_py_part_of(v, obj + L->ob_tid, obj) == CT_PYPART_GC_HEAD);
    CHECK(ct_py_part_of(v, obj + L->ob_gc_bits, obj) == CT_PYPART_GC_HEAD);
    CHECK(ct_py_part_of(v, obj + L->ob_mutex, obj) == CT_PYPART_FIELDS);
    CHECK(ct_py_part_of(v, obj + L->ob_type, obj) == CT_PYPART_FIELDS);
    CHECK(ct_py_part_of(v, obj - 8, obj) == CT_PYPART_PREHEADER);
    ct_py_find(&d, &mem, obj + L->ob_tid, 0, &f);
    CHECK(f.obj == obj);
    /* the page's second slice finds its descriptor through slice_offset */
    uintptr_t far = (uintptr_t)seg + 3 * slice + 1000;
    uintptr_t far_block = (uintptr_t)seg + 2 * slice + 3 * 48 + ((far - (uintptr_t)seg - 2 * slice - 3 * 48) / 48) * 48;
    put64((void *)far_block, L->ob_refcnt, 1);
    put64((void *)far_block, L->ob_type, (uintptr_t)&list);
    ct_py_find(&d, &mem, far, 0, &f);
    CHECK(f.where == CT_WHERE_POOL_BLOCK && f.block == far_block && f.obj == far_block);
    /* the segment header is mimalloc's page metadata */
    ct_py_find(&d, &mem, (uintptr_t)seg + L->mi_segment_slices + 2 * L->mi_page_size + 16, 0, &f);
    CHECK(f.where == CT_WHERE_POOL_HEADER && f.obj == 0);
    /* before the page's first block: no block, nothing claimed */
    ct_py_find(&d, &mem, (uintptr_t)seg + 2 * slice + 8, 0, &f);
    CHECK(f.where == CT_WHERE_UNKNOWN && f.block == 0 && f.obj == 0);
    /* an immortal (ob_ref_local UINT32_MAX): no refcount write names it */
    put32((void *)obj, L->ob_refcnt, 0xFFFFFFFFu);
    ct_py_find(&d, &mem, obj + L->ob_refcnt, 0, &f);
    CHECK(f.obj == 0 && f.block == block);
    ct_py_find(&d, &mem, obj + L->ob_gc_bits, 0, &f);
    CHECK(f.obj == obj);
    /* the heap with the pre-header: the object 16 bytes into its block */
    uintptr_t pblock = (uintptr_t)seg + 4 * slice + 64 + 2 * 64, pobj = pblock + L->managed_dict_preheader;
    put64((void *)pobj, L->ob_refcnt, 3);
    put64((void *)pobj, L->ob_type, (uintptr_t)&node);
    ct_py_find(&d, &mem, pblock + 8, 0, &f);                        /* its managed dict pointer */
    CHECK(f.obj == pobj && f.type == (uintptr_t)&node && ct_py_part_of(v, pblock + 8, pobj) == CT_PYPART_PREHEADER);
    /* a PyMem block holding what looks like an object: not an object, and
     * nothing is claimed about it */
    uintptr_t mblock = (uintptr_t)seg + 5 * slice + 64 + 64;
    put64((void *)mblock, L->ob_type, (uintptr_t)&list);
    ct_py_find(&d, &mem, mblock, 0, &f);
    CHECK(f.obj == 0 && f.where == CT_WHERE_UNKNOWN);
    /* not a segment: nothing */
    static uint64_t elsewhere[8];
    ct_py_find(&d, &mem, (uintptr_t)elsewhere, 0, &f);
    CHECK(f.where == CT_WHERE_OUTSIDE && f.obj == 0);
    free(seg);
}

int main(void)
{
    test_registry();
    test_fields();
    test_record_preferred();
    test_record_hostile();
    test_decoder();
    test_block_memo();
    test_decoder_313t();
    test_frames();
    test_frames_312();
    test_frames_pre311(PY309, 2);
    test_frames_pre311(PY310, 1);
    test_remote();
    return check_done("test_pyver");
}
