/*
 * test_stacks.c - stacks from the reader to the folded output, with no
 * file on disk involved (modules are not opened): the line-table decoder
 * against a real CPython 3.11 table and on malformed ones, the reader's
 * stack and code records, the (stack, cause, type) counts, the folding
 * rules of --frames python/native/both, and the location lists.
 */
#include <stdlib.h>

#include "analysis.h"
#include "check.h"
#include "loc.h"
#include "mktrace.h"
#include "pyver.h"
#include "linetable.h"
#include "render.h"
#include "symbolize.h"
#include "where.h"

#define PG 4096ull
#define H0 0x10000ull
#define PY311 0x30b07f0ull
#define T_INT 0x7f00aa000000ull
#define LIB 0x7f0000000000ull

/* From CPython 3.11.7, for
 *   def f(a, b=1):                      # line 2
 *       x = a + b
 *       if x > 3:
 *           y = [i * 2
 *                for i in range(x)]
 *       else:
 *           y = None
 *       try:
 *           z = {k: v for k, v in zip(a, b)}
 *       except Exception:
 *           pass
 *       return x, y
 * f.__code__.co_linetable.hex() and the line of every code unit from
 * co_lines() (-1 for None). It has short, one-line, long and no-location
 * entries and a negative line delta. */
static const char F_TABLE[] =
    "8000d80809884189058041d80708883182758075f002010d20f000010d20dd161b984191689468f003010d20f100010d20"
    "f400010d2088018801f006000d118801f00203050dd80c28d00c289d63a021a05199699c69d00c28d10c28d40c288801"
    "8801f8dd0b14f00001050df00001050df00001050dd8080c8804f00301050df8f8f8e00b0c88618834804b";
static const int F_LINES[88] = {
    2, 3, 3, 3, 3, 3, 4, 4, 4, 4, 4, 4, 5, 5, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 5, 5, 5, 5, 5,
    5, 5, 5, 5, 5, 8, 8, 9, 10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 10,
    10, 10, 10, 10, 10, 10, 10, 10, 10, -1, 11, 11, 11, 11, 11, 11, 11, 11, 11, 12, 12, 11, -1, -1,
    -1, 13, 13, 13, 13,
};

static size_t unhex(const char *h, uint8_t *out)
{
    size_t n = strlen(h) / 2;
    for (size_t i = 0; i < n; i++) {
        unsigned v;
        sscanf(h + 2 * i, "%2x", &v);
        out[i] = (uint8_t)v;
    }
    return n;
}

static void test_pylines(void)
{
    uint8_t tab[256];
    size_t n = unhex(F_TABLE, tab);
    int bad = 0;
    for (int i = 0; i < 88; i++)
        if (ct_py_line(CT_LINETABLE_PEP657, tab, n, 2, i) != F_LINES[i]) {
            fprintf(stderr, "lasti %d: line %d, co_lines says %d\n", i,
                    ct_py_line(CT_LINETABLE_PEP657, tab, n, 2, i), F_LINES[i]);
            bad++;
        }
    CHECK(bad == 0);
    CHECK(ct_py_line(CT_LINETABLE_PEP657, tab, n, 2, -1) == 2);     /* not started: co_firstlineno */
    CHECK(ct_py_line(CT_LINETABLE_PEP657, tab, n, 2, 88) == -1);    /* past the table */
    CHECK(ct_py_line(CT_LINETABLE_PEP657, tab, n, 2, INT32_MAX) == -1);
    CHECK(ct_py_line(CT_LINETABLE_UNKNOWN, tab, n, 2, 3) == -1);
    /* 3.9's lnotab: (bytes, line delta) pairs, every instruction has a line;
     * 3.10's PEP 626: -128 is no line, and past the table there is none.
     * An odd trailing byte is ignored, as CPython's size / 2 does. */
    const uint8_t lnotab[] = {4, 1, 0, 2, 6, (uint8_t)-3, 7};
    CHECK(ct_py_line(CT_LINETABLE_LNOTAB, lnotab, sizeof lnotab, 10, -1) == 10);
    CHECK(ct_py_line(CT_LINETABLE_LNOTAB, lnotab, sizeof lnotab, 10, 1) == 10);    /* byte 2 */
    CHECK(ct_py_line(CT_LINETABLE_LNOTAB, lnotab, sizeof lnotab, 10, 2) == 13);    /* byte 4 */
    CHECK(ct_py_line(CT_LINETABLE_LNOTAB, lnotab, sizeof lnotab, 10, 5) == 10);    /* byte 10 */
    CHECK(ct_py_line(CT_LINETABLE_LNOTAB, lnotab, sizeof lnotab, 10, 500) == 10);
    const uint8_t pep626[] = {4, 1, 0, 2, 6, (uint8_t)-128, 2, (uint8_t)-3};
    CHECK(ct_py_line(CT_LINETABLE_PEP626, pep626, sizeof pep626, 10, -1) == 10);
    CHECK(ct_py_line(CT_LINETABLE_PEP626, pep626, sizeof pep626, 10, 1) == 11);    /* bytes 0..3 */
    CHECK(ct_py_line(CT_LINETABLE_PEP626, pep626, sizeof pep626, 10, 2) == -1);    /* bytes 4..9: none */
    CHECK(ct_py_line(CT_LINETABLE_PEP626, pep626, sizeof pep626, 10, 5) == 10);    /* bytes 10..11 */
    CHECK(ct_py_line(CT_LINETABLE_PEP626, pep626, sizeof pep626, 10, 6) == -1);    /* past the table */
    CHECK(ct_py_line(CT_LINETABLE_PEP626, pep626, 1, 10, 0) == -1);
    /* Malformed tables: every prefix (cut mid-entry or mid-varint), a
     * first byte without bit 7, an endless varint, a huge delta. */
    for (size_t k = 0; k < n; k++)
        for (int i = -1; i < 90; i++) {
            int l = ct_py_line(CT_LINETABLE_PEP657, tab, k, 2, i);
            CHECK(l == -1 || l == 2 || (i >= 0 && i < 88 && l == F_LINES[i]));
        }
    CHECK(ct_py_line(CT_LINETABLE_PEP657, (const uint8_t *)"\x00\x80", 2, 5, 0) == -1);
    const uint8_t endless[] = { 0x80 | 13 << 3, 0x7f, 0x7f, 0x7f, 0x7f, 0x7f, 0x7f, 0x7f, 0x7f, 0x3f };
    CHECK(ct_py_line(CT_LINETABLE_PEP657, endless, sizeof endless, 5, 0) == -1);
    const uint8_t huge[] = { 0x80 | 13 << 3, 0x7e, 0x7f, 0x7f, 0x7f, 0x7f, 0x03 };
    CHECK(ct_py_line(CT_LINETABLE_PEP657, huge, sizeof huge, INT32_MAX - 1, 0) == -1);
    /* no-location entry: None, and the line does not move */
    const uint8_t none_then[] = { 0x80 | 15 << 3, 0x80 | 10 << 3 | 1, 0, 0 };
    CHECK(ct_py_line(CT_LINETABLE_PEP657, none_then, sizeof none_then, 7, 0) == -1);
    CHECK(ct_py_line(CT_LINETABLE_PEP657, none_then, sizeof none_then, 7, 2) == 7);
    const struct ct_pyver *L = ct_pyver_for(PY311);
    CHECK(ct_linetable_format_of(L) == CT_LINETABLE_PEP657);
    CHECK(ct_linetable_format_of(NULL) == CT_LINETABLE_UNKNOWN);
}

/* A precise trace with stacks: pages 0..9 of a heap, written by four
 * stacks, and page 10 by a write naming a stack that does not exist. */
static void stack_trace(struct mkt *m, uint32_t layout_known)
{
    uint8_t tab[256];
    size_t n = unhex(F_TABLE, tab);
    mkt_init(m, 60, 59, CT_MODE_UFFD, PG);
    mkt_process(m, CT_MODE_UFFD, "test", "/usr/bin/python3", "python3");
    mkt_python(m, PY311, layout_known, CT_PY_SHARED, "3.11.7", "/usr/lib/libpython3.11.so.1.0");
    mkt_pytype(m, T_INT, 1, 0, 32, 4, "int");
    static const uint8_t id[4] = { 1, 2, 3, 4 };
    mkt_module_id(m, LIB, LIB, LIB + 0x100000, id, 4, "/nonexistent/libpython3.11.so.1.0");
    mkt_region(m, 0, CT_KIND_HEAP, H0, H0 + 16 * PG, CT_TRACK_UFFD, "[heap]");
    mkt_pages(m, CT_REC_PRESENT, 0, 0, (uint64_t[]){ 0, 16 }, 2);
    /* code 0xc0de0 is recorded twice (the address reused): stack 1 comes
     * after the first record, stack 2 after the second. */
    mkt_pycode(m, 0xc0de0, 2, "f", "/app/t.py", tab, (uint32_t)n);
    mkt_pycode(m, 0xc1000, 40, "main;loop\n", "/app/m y.py", (const uint8_t *)"\x80\x00", 2);
    mkt_stack(m, 1, 0, (uint64_t[]){ LIB + 0x1000, LIB + 0x2005, 0x1234 }, 3,
              (struct ct_pyframe[]){ { 0xc0de0, 6, 0 }, { 0xc1000, 0, 0 }, { 0xbad, 3, 0 } }, 3);
    mkt_pycode(m, 0xc0de0, 100, "g", "/app/u.py", tab, (uint32_t)n);
    mkt_stack(m, 2, CT_STACK_PY_TRUNCATED, NULL, 0, (struct ct_pyframe[]){ { 0xc0de0, 84, 0 } }, 1);
    mkt_stack(m, 7, CT_STACK_NO_PYTHON | CT_STACK_NATIVE_TRUNCATED, (uint64_t[]){ LIB + 0x3000 }, 1, NULL, 0);
    for (int i = 0; i < 11; i++) {
        struct mkt_ev e = { .addr = H0 + (uint64_t)i * PG + 64, .time_ns = 100 + (uint64_t)i,
                            .obj = H0 + (uint64_t)i * PG + 64, .type = T_INT, .block = H0 + (uint64_t)i * PG + 48,
                            .block_size = 32, .where = CT_WHERE_POOL_BLOCK, .obj_how = CT_OBJ_AT,
                            .stack = i < 5 ? 1 : i < 8 ? 2 : i < 9 ? 7 : i < 10 ? 0 : 99 };
        mkt_write_ev(m, &e);
    }
    /* a second event on page 0, later, with another stack: not the first write */
    mkt_write_ev(m, &(struct mkt_ev){ .addr = H0 + 8, .time_ns = 1000, .stack = 7 });
    mkt_end(m, CT_END_EXIT, 0);
}

static int load(struct mkt *m, struct ct_run *r)
{
    struct ct_trace t;
    struct ct_err err;
    memset(r, 0, sizeof *r);
    if (ct_trace_parse("stacks", m->buf, m->len, &t, &err)) {
        fprintf(stderr, "parse error at %llu: %s\n", (unsigned long long)err.offset, err.msg);
        return -1;
    }
    struct ct_proc p;
    ct_analyze(&t, true, &p);
    ct_run_of_proc(r, "stacks", &p, &(struct ct_load_opts){ .keep_pages = true, .resolve = true });
    return 0;
}

static char *folded(struct ct_run *r, enum ct_frames fr, enum ct_leaf leaf)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    struct ct_render_opts o = CT_RENDER_OPTS_DEFAULT;
    o.frames = fr;
    o.leaf = leaf;
    ct_render_folded.run(f, r, &o);
    fclose(f);
    return buf;
}

static void test_reader_and_folding(void)
{
    struct mkt m;
    stack_trace(&m, 1);
    struct ct_run r;
    CHECK(load(&m, &r) == 0);
    if (!r.nprocs)
        return;
    const struct ct_proc *p = &r.procs[0];
    const struct ct_trace *t = &p->t;
    CHECK_U64(t->nstacks, 3);
    CHECK_U64(t->npycodes, 3);
    CHECK_U64(t->nmodules, 1);
    CHECK_U64(t->stacks_missing, 1);
    CHECK(ct_trace_find_stack(t, 7) == 2 && ct_trace_find_stack(t, 3) == -1 && ct_trace_find_stack(t, 0) == -1);
    /* the reused code address: stack 1 means "f", stack 2 means "g" */
    CHECK(t->stack_py[t->stacks[0].py].pycode == 0 && t->stack_py[t->stacks[1].py].pycode == 2);
    CHECK(t->stack_py[t->stacks[0].py + 2].pycode == -1);
    CHECK_U64(p->cow, 11);
    uint64_t sum = 0;
    for (size_t i = 0; i < p->nstack_counts; i++)
        sum += p->stack_counts[i].pages;
    CHECK_U64(sum, p->cow);
    CHECK(p->stack_counts[0].stack == 1 && p->stack_counts[0].pages == 5);

    /* resolved: the module file is not opened, frames are module+offset */
    const struct ct_resolved *w = p->where;
    const struct ct_rstack *rs = &w->stacks[0];
    CHECK(rs->nn == 3 && rs->np == 3 && rs->id == 1);
    CHECK(w->nframes[rs->n0].module == 0 && w->nframes[rs->n0].off == 0x1000 && !w->nframes[rs->n0].func);
    CHECK(w->nframes[rs->n0 + 2].module == -1 && w->nframes[rs->n0 + 2].off == 0x1234);
    CHECK(w->pframes[rs->p0].line == 4);        /* F_LINES[6] */
    CHECK(w->pframes[rs->p0 + 1].line == 40);
    CHECK(w->pframes[rs->p0 + 2].line == -1);
    CHECK(w->pframes[w->stacks[1].p0].line == 100 - 2 + 13); /* "g": same table from line 100 */
    CHECK(w->nbad == 1 && w->bad[0].state == CT_MOD_NOT_OPENED && w->bad[0].frames == 3);

    char *s = folded(&r, CT_FRAMES_AUTO, CT_LEAF_CAUSE);
    CHECK_STR(s, "(no python frame);(truncated);libpython3.11.so.1.0+0x3000;cause:refcount 1\n"
                 "(no stack);cause:refcount 2\n"
                 "(truncated);g (/app/u.py:111);cause:refcount 3\n"
                 "?_(code_0xbad);main_loop? (/app/m_y.py:40);f (/app/t.py:4);0x1234;"
                 "libpython3.11.so.1.0+0x2005;libpython3.11.so.1.0+0x1000;cause:refcount 5\n");
    free(s);
    s = folded(&r, CT_FRAMES_NATIVE, CT_LEAF_TYPE);
    CHECK_STR(s, "(no native frames);type:int 3\n"
                 "(no stack);type:int 2\n"
                 "(truncated);libpython3.11.so.1.0+0x3000;type:int 1\n"
                 "0x1234;libpython3.11.so.1.0+0x2005;libpython3.11.so.1.0+0x1000;type:int 5\n");
    free(s);
    s = folded(&r, CT_FRAMES_BOTH, CT_LEAF_NONE);
    CHECK_STR(s, "(no stack) 2\n"
                 "(truncated);g (/app/u.py:111) 3\n"
                 "(truncated);libpython3.11.so.1.0+0x3000 1\n"
                 "?_(code_0xbad);main_loop? (/app/m_y.py:40);f (/app/t.py:4);0x1234;"
                 "libpython3.11.so.1.0+0x2005;libpython3.11.so.1.0+0x1000 5\n");
    free(s);

    struct ct_locs L;
    ct_locations(&r, -1, true, &L);
    CHECK(L.n == 2 && L.no_stack == 2 && L.no_frame == 1);
    if (L.n == 2) {
        CHECK(L.v[0].pages == 5 && L.v[0].line == 4 && L.v[0].func_len == 1 && !memcmp(L.v[0].func, "f", 1));
        CHECK(L.v[0].cause == CT_CAUSE_REFCOUNT && L.v[0].type_len == 3 && L.v[0].main_pages == 5);
        CHECK(L.v[1].pages == 3 && L.v[1].line == 111);
    }
    ct_locs_free(&L);
    ct_locations(&r, 0, false, &L);
    CHECK(L.n == 2 && L.no_stack == 2 && L.no_frame == 3);
    if (L.n == 2)
        CHECK(L.v[0].pages == 5 && !L.v[0].func && L.v[0].off == 0x1000 && L.v[0].module_len == 20);
    ct_locs_free(&L);
    ct_run_free(&r);
    mkt_free(&m);
}

/* Without a layout causes are unknown, but stacks still say where. */
static void test_no_layout(void)
{
    struct mkt m;
    stack_trace(&m, 0);
    struct ct_run r;
    CHECK(load(&m, &r) == 0);
    if (!r.nprocs)
        return;
    const struct ct_proc *p = &r.procs[0];
    CHECK_U64(p->causes[CT_CAUSE_UNKNOWN], 11);
    uint64_t sum = 0, with = 0;
    for (size_t i = 0; i < p->nstack_counts; i++) {
        sum += p->stack_counts[i].pages;
        with += p->stack_counts[i].stack ? p->stack_counts[i].pages : 0;
        CHECK(p->stack_counts[i].cause == CT_CAUSE_UNKNOWN);
    }
    CHECK_U64(sum, 11);
    CHECK_U64(with, 9);
    /* no layout: no line table format either */
    CHECK(p->where->pframes[p->where->stacks[0].p0].line == -1);
    char *s = folded(&r, CT_FRAMES_PYTHON, CT_LEAF_NONE);
    CHECK(strstr(s, "main_loop? (/app/m_y.py);f (/app/t.py)") != NULL);
    free(s);
    ct_run_free(&r);
    mkt_free(&m);
}

/* Folded output never has an empty frame, a stray separator or a line
 * without a positive count, whatever the names. */
static void test_folded_hostile_names(void)
{
    struct mkt m;
    mkt_init(&m, 61, 60, CT_MODE_UFFD, PG);
    mkt_process(&m, CT_MODE_UFFD, "test", "/x", "x");
    mkt_python(&m, PY311, 1, 0, "3.11.7", "/lib/py");
    mkt_pytype(&m, T_INT, 1, 0, 32, 4, "a b;c\n7");
    mkt_region(&m, 0, CT_KIND_HEAP, H0, H0 + 4 * PG, CT_TRACK_UFFD, "[heap]");
    mkt_pages(&m, CT_REC_PRESENT, 0, 0, (uint64_t[]){ 0, 4 }, 2);
    mkt_pycode(&m, 0x100, 1, "", "", NULL, 0);
    mkt_pycode(&m, 0x200, 1, "x\xff\x1b[0m 9", "a;b\tc", NULL, 0);
    mkt_stack(&m, 1, 0, NULL, 0, (struct ct_pyframe[]){ { 0x100, 0, 0 }, { 0x200, 0, 0 } }, 2);
    struct mkt_ev e = { .addr = H0 + 64, .obj = H0 + 64, .type = T_INT, .where = CT_WHERE_POOL_BLOCK,
                        .obj_how = CT_OBJ_AT, .stack = 1 };
    mkt_write_ev(&m, &e);
    struct ct_run r;
    CHECK(load(&m, &r) == 0);
    char *s = folded(&r, CT_FRAMES_AUTO, CT_LEAF_BOTH);
    CHECK_STR(s, "x??[0m_9 (a_b?c);? (?);cause:refcount;type:a_b_c?7 1\n");
    free(s);
    ct_run_free(&r);
    mkt_free(&m);
}

int main(void)
{
    test_pylines();
    test_reader_and_folding();
    test_no_layout();
    test_folded_hostile_names();
    return check_done("test_stacks");
}
