/*
 * test_analysis.c - known synthetic traces must give exact counts, exit
 * strings and completeness; the building blocks (interval algebra, LEB128,
 * JSON escaping) are checked against brute force or exact expected bytes.
 */
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "analysis.h"
#include "cause.h"
#include "check.h"
#include "ivl.h"
#include "jsonw.h"
#include "leb128.h"
#include "mktrace.h"
#include "pgsort.h"
#include "pyver.h"
#include "run.h"

#define PG 4096ull
#define R0 0x10000ull                 /* heap, 16 pages */
#define R1 0x20000ull                 /* anon, 16 pages, adjacent to R0 */
#define R2 0x100000ull                /* stack, untracked */
#define R3 0x10000000000ull           /* 1 TiB reservation, tracked, nearly empty */
#define R3_PAGES (1ull << 28)

static int parse(struct mkt *m, struct ct_proc *p, bool keep)
{
    struct ct_trace t;
    struct ct_err err;
    if (ct_trace_parse("test", m->buf, m->len, &t, &err)) {
        fprintf(stderr, "unexpected parse error at %llu: %s\n", (unsigned long long)err.offset, err.msg);
        return -1;
    }
    ct_analyze(&t, keep, p);
    return 0;
}

static void build_main(struct mkt *m)
{
    mkt_init(m, 42, 41, CT_MODE_UFFD_ASYNC, PG);
    mkt_process(m, CT_MODE_UFFD_ASYNC, "kernel has WP_ASYNC", "/usr/bin/python3", "python3");
    mkt_region(m, 0, CT_KIND_HEAP, R0, R0 + 16 * PG, CT_TRACK_UFFD_ASYNC, "[heap]");
    mkt_region(m, 1, CT_KIND_ANON, R1, R1 + 16 * PG, CT_TRACK_UFFD_ASYNC, "");
    mkt_region(m, 2, CT_KIND_STACK, R2, R2 + 16 * PG, CT_TRACK_NONE, "[stack]");
    mkt_region(m, 3, CT_KIND_ANON, R3, R3 + R3_PAGES * PG, CT_TRACK_UFFD_ASYNC, "");
    /* present: R0 8..15 and R1 0..3 (one run across the region boundary
     * once merged), all of R2, three pages near the end of R3 */
    mkt_pages(m, CT_REC_PRESENT, 0, 0, (uint64_t[]){ 8, 8 }, 2);
    mkt_pages(m, CT_REC_PRESENT, 1, 0, (uint64_t[]){ 0, 4 }, 2);
    mkt_pages(m, CT_REC_PRESENT, 2, 0, (uint64_t[]){ 0, 16 }, 2);
    mkt_pages(m, CT_REC_PRESENT, 3, R3_PAGES - 10, (uint64_t[]){ 0, 3 }, 2);
    /* early: R0 page 9 */
    mkt_pages(m, CT_REC_EARLY, 0, 9, (uint64_t[]){ 0, 1 }, 2);
    /* written: R0 0,1 (fresh) and 10..13 (cow); R3 page 2^28-9 (cow) */
    mkt_pages(m, CT_REC_WRITTEN, 0, 0, (uint64_t[]){ 0, 2, 8, 4 }, 4);
    mkt_pages(m, CT_REC_WRITTEN, 3, R3_PAGES - 10, (uint64_t[]){ 1, 1 }, 2);
    /* events: R1 page 2 twice (cow), R1 page 10 (fresh), R3 page 5 (fresh),
     * R2 (untracked, ignored), and one outside every region */
    mkt_write(m, R1 + 2 * PG + 123, 0x401000, 42, 0);
    mkt_write(m, R1 + 2 * PG + 8, 0x401000, 42, 0);
    mkt_write(m, R1 + 10 * PG, 0x401000, 42, CT_WRITE_KERNEL | (0u << CT_WRITE_SYSCALL_SHIFT));
    mkt_write(m, R3 + 5 * PG + 4095, 0x401000, 42, 0);
    mkt_write(m, R2 + 3 * PG, 0x401000, 42, 0);
    mkt_write(m, 0x5000, 0x401000, 42, 0);
    mkt_note(m, CT_NOTE_INFO, "flushed 3 times");
    mkt_untrack(m, R1 + 12 * PG, R1 + 16 * PG, CT_UNTRACK_REGISTER);
    mkt_end(m, CT_END_EXIT, 0);
}

static void test_counts(void)
{
    struct mkt m;
    struct ct_proc p;
    build_main(&m);
    if (parse(&m, &p, true)) {
        CHECK(0);
        mkt_free(&m);
        return;
    }
    CHECK_U64(p.tracked, 15);
    CHECK_U64(p.cow, 7);
    CHECK_U64(p.fresh, 4);
    CHECK_U64(p.early, 1);
    CHECK_U64(p.t.writes_outside, 1);
    CHECK_U64(p.t.nwrites, 6);
    CHECK_U64(p.t.nregions, 4);
    CHECK_U64(p.t.nnotes, 1);
    CHECK_U64(p.t.nuntracks, 1);
    CHECK_STR(p.exit, "exit 0");
    CHECK(p.complete);
    CHECK_STR(p.t.mode_reason.s, "kernel has WP_ASYNC");
    /* per region: tracked, cow, fresh, early */
    static const uint64_t want[4][5] = {
        /* present tracked cow fresh early */
        { 8, 8, 5, 2, 1 },
        { 4, 4, 1, 1, 0 },
        { 16, 0, 0, 0, 0 },
        { 3, 3, 1, 1, 0 },
    };
    for (int i = 0; i < 4; i++) {
        CHECK_U64(p.rs[i].present, want[i][0]);
        CHECK_U64(p.rs[i].tracked, want[i][1]);
        CHECK_U64(p.rs[i].cow, want[i][2]);
        CHECK_U64(p.rs[i].fresh, want[i][3]);
        CHECK_U64(p.rs[i].early, want[i][4]);
    }
    /* the page sets, exactly */
    CHECK_U64(p.cow_set.n, 3);
    if (p.cow_set.n == 3) {
        CHECK_U64(p.cow_set.v[0].start, R0 / PG + 9);
        CHECK_U64(p.cow_set.v[0].end, R0 / PG + 14);
        CHECK_U64(p.cow_set.v[1].start, R1 / PG + 2);
        CHECK_U64(p.cow_set.v[1].end, R1 / PG + 3);
        CHECK_U64(p.cow_set.v[2].start, R3 / PG + R3_PAGES - 9);
    }
    CHECK_U64(ivl_count(&p.fresh_set), 4);
    ct_proc_free(&p);
    mkt_free(&m);
}

/* An early page that was not present still counts as copied, not fresh. */
static void test_early_not_present(void)
{
    struct mkt m;
    struct ct_proc p;
    mkt_init(&m, 7, 1, CT_MODE_MPROTECT, PG);
    mkt_region(&m, 0, CT_KIND_DATA, R0, R0 + 4 * PG, CT_TRACK_MPROTECT, "/usr/lib/libc.so.6");
    mkt_pages(&m, CT_REC_PRESENT, 0, 0, (uint64_t[]){ 0, 2 }, 2);
    mkt_pages(&m, CT_REC_EARLY, 0, 0, (uint64_t[]){ 3, 1 }, 2);
    mkt_write(&m, R0 + 3 * PG, 0, 7, 0);
    mkt_end(&m, CT_END__EXIT, 3);
    if (!parse(&m, &p, false)) {
        CHECK_U64(p.cow, 1);
        CHECK_U64(p.fresh, 0);
        CHECK_U64(p.early, 1);
        CHECK_U64(p.tracked, 2);
        CHECK_STR(p.exit, "exit 3");
        ct_proc_free(&p);
    } else
        CHECK(0);
    mkt_free(&m);
}

static void exit_case(int reap, int32_t reap_status, int end_how, int32_t end_status, int exec,
                      int write_after, const char *want, int want_complete, int incomplete_note)
{
    struct mkt m;
    struct ct_proc p;
    mkt_init(&m, 9, 1, CT_MODE_UFFD, PG);
    mkt_region(&m, 0, CT_KIND_ANON, R0, R0 + 4 * PG, CT_TRACK_UFFD, "");
    if (exec)
        mkt_exec(&m, "/bin/true");
    if (write_after)
        mkt_write(&m, R0, 0, 9, 0);
    if (incomplete_note)
        mkt_note(&m, CT_NOTE_INCOMPLETE, "lost events");
    if (end_how)
        mkt_end(&m, (uint32_t)end_how, end_status);
    if (reap)
        mkt_set_reap(&m, reap_status);
    if (!parse(&m, &p, false)) {
        CHECK_STR(p.exit, want);
        CHECK_U64(p.complete, want_complete);
        ct_proc_free(&p);
    } else
        CHECK(0);
    mkt_free(&m);
}

static void test_exit_strings(void)
{
    exit_case(1, 3 << 8, 0, 0, 0, 0, "exit 3", 0, 0);          /* reaped, no end record */
    exit_case(1, 9, 0, 0, 0, 0, "signal 9", 0, 0);
    exit_case(1, 11 | 0x80, 0, 0, 0, 0, "signal 11 (core)", 0, 0);
    exit_case(1, 0, CT_END_EXIT, 5, 0, 0, "exit 0", 1, 0);     /* reap status wins */
    exit_case(0, 0, CT_END_EXIT, 5, 0, 0, "exit 5", 1, 0);
    exit_case(0, 0, CT_END__EXIT, 1, 0, 0, "exit 1", 1, 0);
    exit_case(0, 0, CT_END_STOPPED, 0, 0, 0, "unknown", 1, 0);
    exit_case(0, 0, 0, 0, 1, 0, "exec", 1, 0);
    exit_case(0, 0, 0, 0, 1, 1, "unknown", 1, 0);             /* exec failed, went on */
    exit_case(0, 0, 0, 0, 0, 0, "unknown", 0, 0);
    exit_case(0, 0, CT_END_EXIT, 0, 0, 0, "exit 0", 0, 1);     /* incomplete note */
    exit_case(1, 0x137f, 0, 0, 0, 0, "unknown", 0, 0);        /* a stop status is not a death */
    exit_case(1, 0, 0, 0, 1, 0, "exec", 1, 0);                /* exec wins over the reap slot */
    exit_case(1, 9, 0, 0, 1, 1, "signal 9", 1, 0);            /* ... unless the exec failed */
}

/* Kill safety: a stream that stops at a record boundary, at a zero type
 * word, or inside a record (torn) is read up to what is whole. */
static void test_truncation(void)
{
    struct mkt m;
    struct ct_trace t;
    struct ct_err err;
    build_main(&m);
    size_t full = m.len;
    /* Cut at every byte from the end of the header: never an error, and
     * torn exactly when the cut is not at a record boundary. */
    size_t boundaries[64], nb = 0;
    for (size_t off = CT_HEADER_SIZE; off < full && nb < 64;) {
        boundaries[nb++] = off;
        off += m.buf[off + 4] | (size_t)m.buf[off + 5] << 8;
    }
    int errors = 0, torn_wrong = 0;
    for (size_t cut = CT_HEADER_SIZE; cut <= full; cut++) {
        int at_boundary = cut == full;
        for (size_t i = 0; i < nb; i++)
            at_boundary |= boundaries[i] == cut;
        if (ct_trace_parse("cut", m.buf, cut, &t, &err)) {
            errors++;
            continue;
        }
        torn_wrong += t.torn == at_boundary;
        ct_trace_free(&t);
    }
    CHECK_U64(errors, 0);
    CHECK_U64(torn_wrong, 0);

    /* A zero-filled tail ends the stream cleanly. */
    mkt_bytes(&m, NULL, 4096);
    CHECK(ct_trace_parse("tail", m.buf, m.len, &t, &err) == 0);
    CHECK(t.ended_by_zero && !t.torn && t.have_end);
    ct_trace_free(&t);
    mkt_free(&m);
}

static void test_unknown_record(void)
{
    struct mkt m;
    struct ct_proc p;
    mkt_init(&m, 5, 1, CT_MODE_UFFD_ASYNC, 16384);
    mkt_region(&m, 0, CT_KIND_ANON, 0x40000, 0x40000 + 8 * 16384, CT_TRACK_UFFD_ASYNC, "");
    mkt_record(&m, 99, 32, "future", 6);
    mkt_pages(&m, CT_REC_PRESENT, 0, 0, (uint64_t[]){ 0, 8 }, 2);
    mkt_record(&m, 0x7fffffff, 8, NULL, 0);
    mkt_write(&m, 0x40000 + 3 * 16384 + 5, 0, 5, 0);
    mkt_end(&m, CT_END_EXIT, 0);
    if (!parse(&m, &p, false)) {
        CHECK_U64(p.t.unknown_records, 2);
        CHECK_U64(p.cow, 1);
        CHECK_U64(p.tracked, 8);
        CHECK_U64(p.t.page_size, 16384);
        ct_proc_free(&p);
    } else
        CHECK(0);
    mkt_free(&m);
}

/* Interval algebra against a brute-force bitmap. */
static void test_ivl(void)
{
    enum { N = 600 };
    unsigned seed = 12345;
    int bad = 0;
    for (int round = 0; round < 300; round++) {
        bool a[N] = {0}, b[N] = {0};
        struct ivl A, B, U, I, D;
        ivl_init(&A); ivl_init(&B); ivl_init(&U); ivl_init(&I); ivl_init(&D);
        for (int k = 0; k < 40; k++) {
            unsigned s = (unsigned)rand_r(&seed) % N, l = 1 + (unsigned)rand_r(&seed) % 20;
            if (s + l > N)
                l = N - s;
            bool *x = k % 2 ? a : b;
            ivl_add(k % 2 ? &A : &B, s, s + l);
            for (unsigned j = s; j < s + l; j++)
                x[j] = true;
        }
        ivl_normalize(&A);
        ivl_normalize(&B);
        ivl_union(&A, &B, &U);
        ivl_intersect(&A, &B, &I);
        ivl_subtract(&A, &B, &D);
        uint64_t nu = 0, ni = 0, nd = 0, na = 0, r100 = 0;
        for (int j = 0; j < N; j++) {
            nu += a[j] || b[j];
            ni += a[j] && b[j];
            nd += a[j] && !b[j];
            na += a[j];
            r100 += a[j] && j >= 100 && j < 250;
        }
        bad += ivl_count(&U) != nu || ivl_count(&I) != ni || ivl_count(&D) != nd
            || ivl_count(&A) != na || ivl_count_range(&A, 100, 250) != r100;
        /* normalized: sorted, non-adjacent */
        for (size_t j = 1; j < U.n; j++)
            bad += U.v[j].start <= U.v[j - 1].end;
        ivl_free(&A); ivl_free(&B); ivl_free(&U); ivl_free(&I); ivl_free(&D);
    }
    CHECK_U64(bad, 0);

    /* Compaction keeps repeated reports of the same pages small. */
    struct ivl s;
    ivl_init(&s);
    for (int rep = 0; rep < 1000; rep++)
        for (uint64_t p = 0; p < 1000; p += 2)
            ivl_add(&s, p, p + 1);
    ivl_normalize(&s);
    CHECK_U64(s.n, 500);
    CHECK(s.cap <= 4096);
    ivl_free(&s);
}

static void test_leb128(void)
{
    uint8_t b[16];
    const uint8_t *p;
    uint64_t v;
    size_t n = leb128_write(UINT64_C(1) << 63, b);
    CHECK_U64(n, 10);
    p = b;
    CHECK(leb128_read(&p, b + n, &v) == LEB_OK && v == UINT64_C(1) << 63 && p == b + 10);
    /* 2^63 + 1 */
    n = leb128_write((UINT64_C(1) << 63) + 1, b);
    p = b;
    CHECK(leb128_read(&p, b + n, &v) == LEB_TOO_BIG && p == b);
    /* 11 bytes */
    memset(b, 0x80, 10);
    b[10] = 0;
    p = b;
    CHECK(leb128_read(&p, b + 11, &v) == LEB_TOO_LONG);
    /* the 10th byte carrying more than bit 63 */
    memset(b, 0xff, 9);
    b[9] = 0x02;
    p = b;
    CHECK(leb128_read(&p, b + 10, &v) == LEB_TOO_BIG);
    p = b;
    CHECK(leb128_read(&p, b + 3, &v) == LEB_TRUNCATED);
    b[0] = 0x7f;
    p = b;
    CHECK(leb128_read(&p, b + 1, &v) == LEB_OK && v == 127);
}

static void test_json_escape(void)
{
    char *out = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&out, &len);
    static const char in[] = "a\"b\\c\n\x01\x7f" "\xc3\xa9" "\xe2\x82\xac" "\xf0\x9f\x98\x80"
                             "\xff" "\xc0\xaf" "\xed\xa0\x80" "\xe2\x82" "\xf4\x90\x80\x80" "z";
    json_str(f, in, sizeof in - 1);
    json_str(f, "nul\0x", 5);
    fclose(f);
    CHECK_STR(out, "\"a\\\"b\\\\c\\n\\u0001\\u007f\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80"
                   "\\u00ff\\u00c0\\u00af\\u00ed\\u00a0\\u0080\\u00e2\\u0082\\u00f4\\u0090\\u0080\\u0080z\""
                   "\"nul\\u0000x\"");
    free(out);
}

/* A directory of traces: sorted by pid, a bad file reported with its
 * offset, the good ones still there. */
static void test_report_dir(void)
{
    char dir[] = "/tmp/ct-test-XXXXXX";
    if (!mkdtemp(dir)) {
        CHECK(0);
        return;
    }
    char path[256];
    int pids[] = { 300, 4, 1000 };
    for (int i = 0; i < 3; i++) {
        struct mkt m;
        mkt_init(&m, pids[i], 1, CT_MODE_UFFD_ASYNC, PG);
        mkt_region(&m, 0, CT_KIND_ANON, R0, R0 + 4 * PG, CT_TRACK_UFFD_ASYNC, "");
        mkt_pages(&m, CT_REC_PRESENT, 0, 0, (uint64_t[]){ 0, 4 }, 2);
        mkt_pages(&m, CT_REC_WRITTEN, 0, 0, (uint64_t[]){ 0, (uint64_t)i + 1 }, 2);
        mkt_end(&m, CT_END_EXIT, 0);
        snprintf(path, sizeof path, "%s/%d.cowtrace", dir, pids[i]);
        CHECK(mkt_save(&m, path) == 0);
        mkt_free(&m);
    }
    snprintf(path, sizeof path, "%s/77.cowtrace", dir);
    FILE *f = fopen(path, "w");
    fputs("COWTRACX and more", f);
    fclose(f);
    snprintf(path, sizeof path, "%s/notes.txt", dir);
    f = fopen(path, "w");
    fclose(f);

    struct ct_run r;
    struct ct_err err;
    CHECK(ct_run_load(dir, &(struct ct_load_opts){ 0 }, &r, &err) == 0);
    CHECK_U64(r.nprocs, 3);
    CHECK_U64(r.nerrors, 1);
    if (r.nprocs == 3) {
        CHECK_U64(r.procs[0].t.pid, 4);
        CHECK_U64(r.procs[1].t.pid, 300);
        CHECK_U64(r.procs[2].t.pid, 1000);
        CHECK_U64(r.procs[0].cow, 2);
        CHECK_U64(r.procs[1].cow, 1);
    }
    if (r.nerrors == 1)
        CHECK_STR(r.errors[0].msg, "offset 0: bad magic, not a cowtrace trace");
    ct_run_free(&r);
    CHECK(ct_run_load("/nonexistent/dir", &(struct ct_load_opts){ 0 }, &r, &err) == -1);
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    CHECK(system(cmd) == 0);
}

/* ---- causes (cause.h, attrib.c) ---- */

#define PY311 0x30b07f0ull
#define LIBPY "/usr/lib/libpython3.11.so.1.0"
#define T_INT 0x7f00aa000000ull     /* no gc */
#define T_LIST 0x7f00aa001000ull    /* gc */
#define T_MODEL 0x7f00aa002000ull   /* gc, managed dict */
#define T_DICT 0x7f00aa003000ull
#define T_MISSING 0x7f00aa00f000ull /* no PYTYPE record */

static struct ct_event ev(uint64_t addr, uint64_t obj, uint64_t type, uint8_t where, uint8_t how)
{
    return (struct ct_event){ .pg = addr / PG, .addr = addr, .obj = obj, .type = type, .where = where,
                              .obj_how = how };
}

/* Each rule of cause.h on its own, against the 3.11 table. */
/* The PYTHON record's allocator flags, named as CPython names them. */
static void test_allocator_names(void)
{
    CHECK(!strcmp(ct_python_allocator_name(CT_PY_SHARED), "pymalloc") && !*ct_python_allocator_note(0));
    CHECK(!strcmp(ct_python_allocator_name(CT_PY_NO_PYMALLOC), "malloc"));
    CHECK(strstr(ct_python_allocator_note(CT_PY_NO_PYMALLOC), "allocator malloc, not pymalloc"));
    CHECK(!strcmp(ct_python_allocator_name(CT_PY_NO_PYMALLOC | CT_PY_ALLOC_DEBUG), "malloc_debug"));
    CHECK(!strcmp(ct_python_allocator_name(CT_PY_NO_PYMALLOC | CT_PY_ALLOC_DEBUG | CT_PY_ALLOC_PYMALLOC),
                  "pymalloc_debug"));
    CHECK(!strcmp(ct_python_allocator_name(CT_PY_NO_PYMALLOC | CT_PY_ALLOC_MIMALLOC), "mimalloc"));
    CHECK(!strcmp(ct_python_allocator_name(CT_PY_NO_PYMALLOC | CT_PY_ALLOC_MIMALLOC | CT_PY_ALLOC_DEBUG),
                  "mimalloc_debug"));
    CHECK(strstr(ct_python_allocator_note(CT_PY_NO_PYMALLOC | CT_PY_ALLOC_MIMALLOC), "mimalloc"));
}

static void test_cause_rules(void)
{
    const struct ct_pyver *L = ct_pyver_for(PY311);
    CHECK(L != NULL);
    if (!L)
        return;
    struct ct_region heap = { .kind = CT_KIND_HEAP }, stack = { .kind = CT_KIND_STACK },
                     lib = { .kind = CT_KIND_DATA, .name = { (char *)"/lib/libc.so.6", 14 } };
    struct ct_pytype tint = { .addr = T_INT, .flags = 0 }, tlist = { .addr = T_LIST, .flags = L->L.tpflags_have_gc },
                     tmodel = { .addr = T_MODEL, .flags = L->L.tpflags_have_gc | L->L.tpflags_managed_dict };
    uint64_t o = 0x10040;                     /* an object */
    struct ct_event e;
#define CAUSE(ev_, r_, interp_, t_) ct_cause_of_write(L, &(ev_), &(r_), interp_, t_)
    /* 1: interpreter static data wins over everything */
    e = ev(o, o, T_INT, CT_WHERE_POOL_HEADER, CT_OBJ_AT);
    CHECK(CAUSE(e, heap, true, &tint).cause == CT_CAUSE_INTERPRETER && CAUSE(e, heap, true, &tint).typed);
    e = ev(o, 0, 0, CT_WHERE_OUTSIDE, CT_OBJ_NONE);
    CHECK(CAUSE(e, heap, true, NULL).cause == CT_CAUSE_INTERPRETER && !CAUSE(e, heap, true, NULL).typed);
    /* 2: pool header, even with an object */
    e = ev(o, o, T_INT, CT_WHERE_POOL_HEADER, CT_OBJ_AT);
    CHECK(CAUSE(e, heap, false, &tint).cause == CT_CAUSE_ALLOCATOR);
    /* 3: the refcount word, every byte of it; the next word is the type */
    for (uint64_t b = 0; b < 8; b++) {
        e = ev(o + b, o, T_INT, CT_WHERE_POOL_BLOCK, CT_OBJ_AT);
        CHECK(CAUSE(e, heap, false, &tint).cause == CT_CAUSE_REFCOUNT);
    }
    e = ev(o + 8, o, T_INT, CT_WHERE_POOL_BLOCK, CT_OBJ_BLOCK);
    CHECK(CAUSE(e, heap, false, &tint).cause == CT_CAUSE_OBJECT && CAUSE(e, heap, false, &tint).typed);
    e = ev(o + 24, o, T_INT, CT_WHERE_OUTSIDE, CT_OBJ_BLOCK);
    CHECK(CAUSE(e, heap, false, &tint).cause == CT_CAUSE_OBJECT);
    /* 3: PyGC_Head of a gc type, both words; not for a non-gc type */
    e = ev(o - 16, o, T_LIST, CT_WHERE_POOL_BLOCK, CT_OBJ_GC_NEXT);
    CHECK(CAUSE(e, heap, false, &tlist).cause == CT_CAUSE_GC);
    e = ev(o - 8, o, T_LIST, CT_WHERE_POOL_BLOCK, CT_OBJ_GC_PREV);
    CHECK(CAUSE(e, heap, false, &tlist).cause == CT_CAUSE_GC);
    e = ev(o - 8, o, T_INT, CT_WHERE_POOL_BLOCK, CT_OBJ_BLOCK);
    CHECK(CAUSE(e, heap, false, &tint).cause == CT_CAUSE_UNKNOWN);
    /* an undefined type: the shim's own GC finding decides */
    e = ev(o - 16, o, T_MISSING, CT_WHERE_POOL_BLOCK, CT_OBJ_GC_NEXT);
    CHECK(CAUSE(e, heap, false, NULL).cause == CT_CAUSE_GC && CAUSE(e, heap, false, NULL).typed);
    e = ev(o - 16, o, T_MISSING, CT_WHERE_POOL_BLOCK, CT_OBJ_BLOCK);
    CHECK(CAUSE(e, heap, false, NULL).cause == CT_CAUSE_UNKNOWN);
    /* 3: managed-dict pre-header only for types that have one */
    e = ev(o - 24, o, T_MODEL, CT_WHERE_POOL_BLOCK, CT_OBJ_BLOCK);
    CHECK(CAUSE(e, heap, false, &tmodel).cause == CT_CAUSE_OBJECT);
    e = ev(o - 32, o, T_MODEL, CT_WHERE_POOL_BLOCK, CT_OBJ_BLOCK);
    CHECK(CAUSE(e, heap, false, &tmodel).cause == CT_CAUSE_OBJECT);
    e = ev(o - 24, o, T_LIST, CT_WHERE_POOL_BLOCK, CT_OBJ_BLOCK);
    CHECK(CAUSE(e, heap, false, &tlist).cause == CT_CAUSE_UNKNOWN);
    e = ev(o - 40, o, T_MODEL, CT_WHERE_POOL_BLOCK, CT_OBJ_BLOCK);
    CHECK(CAUSE(e, heap, false, &tmodel).cause == CT_CAUSE_UNKNOWN);
    /* 3: a dict keys table is the dict's internals, even at its start */
    e = ev(o, o, T_DICT, CT_WHERE_POOL_BLOCK, CT_OBJ_DICT_KEYS);
    CHECK(CAUSE(e, heap, false, NULL).cause == CT_CAUSE_OBJECT);
    /* 3: an instance's values array: object, its owner (type) not known */
    e = ev(o + 16, o, 0, CT_WHERE_POOL_BLOCK, CT_OBJ_VALUES);
    CHECK(CAUSE(e, heap, false, NULL).cause == CT_CAUSE_OBJECT && !CAUSE(e, heap, false, NULL).typed);
    /* 3: an array of object pointers, even at the block's start (no link) */
    e = ev(o, o, 0, CT_WHERE_POOL_BLOCK, CT_OBJ_POINTERS);
    e.block = o;
    CHECK(CAUSE(e, heap, false, NULL).cause == CT_CAUSE_OBJECT && !CAUSE(e, heap, false, NULL).typed);
    /* 3: obj set but obj_how NONE is no object */
    e = ev(o, o, T_INT, CT_WHERE_OUTSIDE, CT_OBJ_NONE);
    CHECK(CAUSE(e, heap, false, &tint).cause == CT_CAUSE_OTHER);
    /* 4: a free block's link word, else unknown */
    e = ev(o + 7, 0, 0, CT_WHERE_POOL_BLOCK, CT_OBJ_NONE);
    e.block = o;
    CHECK(CAUSE(e, heap, false, NULL).cause == CT_CAUSE_ALLOCATOR);
    e.addr = o + 8;
    CHECK(CAUSE(e, heap, false, NULL).cause == CT_CAUSE_UNKNOWN);
    e.block = 0;
    e.addr = o;
    CHECK(CAUSE(e, heap, false, NULL).cause == CT_CAUSE_UNKNOWN);
    /* 5: the kernel */
    e = ev(o, 0, 0, CT_WHERE_UNKNOWN, CT_OBJ_NONE);
    e.flags = CT_WRITE_KERNEL | 0u << CT_WRITE_SYSCALL_SHIFT;
    CHECK(CAUSE(e, heap, false, NULL).cause == CT_CAUSE_OTHER);
    /* 6: stacks and other libraries; heap by where; unknown where values */
    e = ev(o, 0, 0, CT_WHERE_UNKNOWN, CT_OBJ_NONE);
    CHECK(CAUSE(e, stack, false, NULL).cause == CT_CAUSE_OTHER);
    CHECK(CAUSE(e, lib, false, NULL).cause == CT_CAUSE_OTHER);
    CHECK(CAUSE(e, heap, false, NULL).cause == CT_CAUSE_UNKNOWN);
    e.where = CT_WHERE_OUTSIDE;
    CHECK(CAUSE(e, heap, false, NULL).cause == CT_CAUSE_OTHER);
    e.where = 77;
    CHECK(CAUSE(e, heap, false, NULL).cause == CT_CAUSE_UNKNOWN);
#undef CAUSE
    /* inferred */
#define SUM(su, r, interp) ct_cause_of_summary(L, &(su), &(r), interp, NULL, false)
    struct ct_summary su = { .type_index = 3, .code = CT_WHERE_POOL_BLOCK | 2 << 2, .objects = 5 };
    CHECK(SUM(su, heap, true).cause == CT_CAUSE_INTERPRETER);
    CHECK(SUM(su, heap, false).cause == CT_CAUSE_REFCOUNT);
    /* a GC type in a process that ran a full collection since the fork: gc;
     * without the collection, or a type without GC: refcount */
    struct ct_pytype gct = { .flags = L->L.tpflags_have_gc }, plain = { .flags = 0 };
    CHECK(ct_cause_of_summary(L, &su, &heap, false, &gct, true).cause == CT_CAUSE_GC);
    CHECK(ct_cause_of_summary(L, &su, &heap, false, &gct, true).typed);
    CHECK(ct_cause_of_summary(L, &su, &heap, false, &gct, false).cause == CT_CAUSE_REFCOUNT);
    CHECK(ct_cause_of_summary(L, &su, &heap, false, &plain, true).cause == CT_CAUSE_REFCOUNT);
    CHECK(ct_cause_of_summary(L, &su, &heap, true, &gct, true).cause == CT_CAUSE_INTERPRETER);
    su.type_index = 0;
    CHECK(SUM(su, heap, false).cause == CT_CAUSE_UNKNOWN);
    su.objects = 0;
    CHECK(SUM(su, heap, false).cause == CT_CAUSE_ALLOCATOR);
    su.code = CT_WHERE_POOL_HEADER;
    CHECK(SUM(su, heap, false).cause == CT_CAUSE_ALLOCATOR);
    su.code = CT_WHERE_OUTSIDE;
    CHECK(SUM(su, heap, false).cause == CT_CAUSE_OTHER);
    su.code = CT_WHERE_UNKNOWN;
    CHECK(SUM(su, stack, false).cause == CT_CAUSE_OTHER);
#undef SUM
    /* interpreter region: the name with or without " (bss)", data only */
    struct ct_python py = { .path = { (char *)LIBPY, sizeof LIBPY - 1 } };
    struct ct_region r1 = { .kind = CT_KIND_DATA, .name = { (char *)LIBPY " (bss)", sizeof LIBPY + 5 } };
    struct ct_region r2 = { .kind = CT_KIND_DATA, .name = { (char *)LIBPY, sizeof LIBPY - 1 } };
    struct ct_region r3 = { .kind = CT_KIND_ANON, .name = { (char *)LIBPY, sizeof LIBPY - 1 } };
    struct ct_region r4 = { .kind = CT_KIND_DATA, .name = { (char *)LIBPY ".x", sizeof LIBPY + 1 } };
    CHECK(ct_region_is_interpreter(&r1, &py) && ct_region_is_interpreter(&r2, &py));
    CHECK(!ct_region_is_interpreter(&r3, &py) && !ct_region_is_interpreter(&r4, &py));
}

#define H0 0x10000ull      /* heap, 64 pages */
#define D0 0x100000ull     /* libpython data, 4 pages */
#define D1 0x104000ull     /* libpython bss, 4 pages */

static void py_trace(struct mkt *m, uint32_t mode, uint64_t hex, uint32_t layout_known)
{
    const struct ct_pyver *L = ct_pyver_for(PY311);
    mkt_init(m, 50, 49, mode, PG);
    mkt_process(m, mode, "test", "/usr/bin/python3", "python3");
    mkt_python(m, hex, layout_known, CT_PY_SHARED | CT_PY_GC_FROZEN, "3.11.2 (main)", LIBPY);
    mkt_pytype(m, T_INT, 1, 0, 32, 4, "int");
    mkt_pytype(m, T_LIST, 2, L->L.tpflags_have_gc, 40, 0, "list");
    mkt_pytype(m, T_MODEL, 3, L->L.tpflags_have_gc | L->L.tpflags_managed_dict, 16, 0, "Model");
    mkt_module(m, 0x7f0000000000ull, 0x7f0000000000ull, 0x7f0000400000ull, LIBPY);
    mkt_region(m, 0, CT_KIND_HEAP, H0, H0 + 64 * PG, mode, "[heap]");
    mkt_region(m, 1, CT_KIND_DATA, D0, D0 + 4 * PG, mode, LIBPY);
    mkt_region(m, 2, CT_KIND_DATA, D1, D1 + 4 * PG, mode, LIBPY " (bss)");
    mkt_pages(m, CT_REC_PRESENT, 0, 0, (uint64_t[]){ 0, 64 }, 2);
    mkt_pages(m, CT_REC_PRESENT, 1, 0, (uint64_t[]){ 0, 4 }, 2);
    mkt_pages(m, CT_REC_PRESENT, 2, 0, (uint64_t[]){ 0, 4 }, 2);
}

static void w(struct mkt *m, uint64_t addr, uint64_t obj, uint64_t type, uint8_t where, uint8_t how,
              uint64_t time, uint32_t flags)
{
    struct mkt_ev e = { .addr = addr, .time_ns = time, .flags = flags, .obj = obj, .type = type,
                        .block = obj ? obj - 16 : 0, .block_size = obj ? 64 : 0, .where = where,
                        .obj_how = how };
    mkt_write_ev(m, &e);
}

static uint64_t type_pages(const struct ct_proc *p, const char *name, int cause)
{
    for (size_t i = 0; i < p->ntypes; i++)
        if (p->types[i].cause == (uint32_t)cause
            && (name ? p->types[i].name && p->types[i].len == strlen(name)
                           && !memcmp(p->types[i].name, name, p->types[i].len)
                     : !p->types[i].name))
            return p->types[i].pages;
    return 0;
}

static void check_sums(const struct ct_proc *p)
{
    uint64_t c = 0, t = 0;
    for (int k = 0; k < CT_NCAUSES; k++)
        c += p->causes[k];
    for (size_t i = 0; i < p->ntypes; i++)
        t += p->types[i].pages;
    CHECK_U64(c, p->cow);
    CHECK_U64(t, p->cow);
}

/* A precise trace where every rule fires once on a known page. */
static void test_attribution_precise(void)
{
    struct mkt m;
    struct ct_proc p;
    py_trace(&m, CT_MODE_UFFD, PY311, 1);
    mkt_pages(&m, CT_REC_EARLY, 0, 20, (uint64_t[]){ 0, 2 }, 2);             /* 2 early */
    /* page 0: two events, the EARLIER by time (second in the file) decides */
    w(&m, H0 + 0x100, H0 + 0x100, T_INT, CT_WHERE_POOL_BLOCK, CT_OBJ_AT, 200, 0);
    w(&m, H0 + 0x0f0, H0 + 0x100, T_LIST, CT_WHERE_POOL_BLOCK, CT_OBJ_GC_NEXT, 100, 0);
    w(&m, H0 + 1 * PG + 16, H0 + 1 * PG + 16, T_INT, CT_WHERE_POOL_BLOCK, CT_OBJ_AT, 300, 0);
    w(&m, H0 + 2 * PG + 32, H0 + 2 * PG + 16, T_MODEL, CT_WHERE_POOL_BLOCK, CT_OBJ_BLOCK, 300, 0);
    w(&m, H0 + 3 * PG, 0, 0, CT_WHERE_POOL_HEADER, CT_OBJ_NONE, 300, 0);
    w(&m, H0 + 4 * PG + 16, H0 + 4 * PG + 16, T_MISSING, CT_WHERE_POOL_BLOCK, CT_OBJ_AT, 300, 0);
    w(&m, H0 + 5 * PG, 0, 0, CT_WHERE_OUTSIDE, CT_OBJ_NONE, 300, CT_WRITE_KERNEL | 17u << CT_WRITE_SYSCALL_SHIFT);
    w(&m, H0 + 6 * PG, 0, 0, CT_WHERE_UNKNOWN, CT_OBJ_NONE, 300, 0);
    w(&m, D0 + 8, D0 + 8, T_INT, CT_WHERE_OUTSIDE, CT_OBJ_AT, 300, 0);             /* static int */
    w(&m, D1 + 8, 0, 0, CT_WHERE_OUTSIDE, CT_OBJ_NONE, 300, 0);                     /* bss */
    w(&m, H0 + 21 * PG, H0 + 21 * PG, T_INT, CT_WHERE_POOL_BLOCK, CT_OBJ_AT, 300, 0); /* early wins */
    mkt_write(&m, H0 + 7 * PG, 0, 1, 0);                                          /* V1: no evidence */
    mkt_pages(&m, CT_REC_WRITTEN, 0, 8, (uint64_t[]){ 0, 2 }, 2);                 /* no event at all */
    mkt_end(&m, CT_END_EXIT, 0);
    if (parse(&m, &p, true)) {
        CHECK(0);
        mkt_free(&m);
        return;
    }
    CHECK_U64(p.cow, 14);
    CHECK(p.layout != NULL && !p.causes_inferred);
    CHECK_U64(p.causes[CT_CAUSE_GC], 1);
    CHECK_U64(p.causes[CT_CAUSE_REFCOUNT], 2);          /* page 1 int, page 4 "?" */
    CHECK_U64(p.causes[CT_CAUSE_OBJECT], 1);            /* Model pre-header */
    CHECK_U64(p.causes[CT_CAUSE_ALLOCATOR], 1);
    CHECK_U64(p.causes[CT_CAUSE_INTERPRETER], 2);
    CHECK_U64(p.causes[CT_CAUSE_OTHER], 3);             /* kernel + 2 early */
    CHECK_U64(p.causes[CT_CAUSE_UNKNOWN], 4);           /* where unknown, V1, 2 without events */
    CHECK_U64(type_pages(&p, "list", CT_CAUSE_GC), 1);
    CHECK_U64(type_pages(&p, "int", CT_CAUSE_REFCOUNT), 1);
    CHECK_U64(type_pages(&p, "?", CT_CAUSE_REFCOUNT), 1);
    CHECK_U64(type_pages(&p, "Model", CT_CAUSE_OBJECT), 1);
    CHECK_U64(type_pages(&p, "int", CT_CAUSE_INTERPRETER), 1);
    CHECK_U64(type_pages(&p, NULL, CT_CAUSE_INTERPRETER), 1);
    CHECK_U64(type_pages(&p, "(before tracking)", CT_CAUSE_OTHER), 2);
    CHECK_U64(type_pages(&p, NULL, CT_CAUSE_UNKNOWN), 4);
    check_sums(&p);
    /* the page listing agrees, and names the syscall */
    size_t n;
    struct ct_seg *seg = ct_page_segments(&p, &n);
    uint64_t per[CT_NCAUSES] = {0};
    bool syscall = false;
    for (size_t i = 0; i < n; i++) {
        if (seg[i].cow)
            per[seg[i].cause] += seg[i].end - seg[i].start;
        if (seg[i].start == (H0 + 5 * PG) / PG)
            syscall = seg[i].flags >> CT_WRITE_SYSCALL_SHIFT == 17;
    }
    for (int c = 0; c < CT_NCAUSES; c++)
        CHECK_U64(per[c], p.causes[c]);
    CHECK(syscall);
    free(seg);
    char buf[200];
    CHECK(ct_cause_note(&p, buf, sizeof buf) == NULL);
    ct_proc_free(&p);
    mkt_free(&m);
}

/* uffd-async: the latest summary of a page decides, marked inferred. */
static void test_attribution_inferred(void)
{
    struct mkt m;
    struct ct_proc p;
    py_trace(&m, CT_MODE_UFFD_ASYNC, PY311, 1);
    mkt_pages(&m, CT_REC_WRITTEN, 0, 0, (uint64_t[]){ 0, 6 }, 2);
    mkt_pages(&m, CT_REC_WRITTEN, 1, 0, (uint64_t[]){ 0, 1 }, 2);
    /* pages 0..4 of H0: int, then page 0 again as allocator (latest wins),
     * undefined type 9, pool header, outside; page 5 has none; D0 page 0 */
    mkt_page_summary(&m, H0, (uint64_t[]){ 0, 1, 2, 4,   1, 9, 2, 1,   1, 0, 1, 0,   1, 0, 3, 0 }, 4);
    mkt_page_summary(&m, H0, (uint64_t[]){ 0, 0, 2, 0,   (D0 - H0) / PG, 2, 2, 3 }, 2);
    mkt_end(&m, CT_END_EXIT, 0);
    if (parse(&m, &p, false)) {
        CHECK(0);
        mkt_free(&m);
        return;
    }
    CHECK_U64(p.cow, 7);
    CHECK(p.causes_inferred);
    CHECK_U64(p.causes[CT_CAUSE_ALLOCATOR], 2);
    CHECK_U64(p.causes[CT_CAUSE_REFCOUNT], 1);
    CHECK_U64(type_pages(&p, "?", CT_CAUSE_REFCOUNT), 1);
    CHECK_U64(p.causes[CT_CAUSE_OTHER], 1);
    CHECK_U64(p.causes[CT_CAUSE_INTERPRETER], 1);
    CHECK_U64(type_pages(&p, "list", CT_CAUSE_INTERPRETER), 1);
    CHECK_U64(p.causes[CT_CAUSE_UNKNOWN], 2);            /* pages 4 and 5: no summary */
    check_sums(&p);
    char buf[200];
    CHECK(ct_cause_note(&p, buf, sizeof buf) && strstr(buf, "inferred"));
    ct_proc_free(&p);
    mkt_free(&m);
}

/* No layout: page sets as ever, every cause unknown, and a note. */
static void test_attribution_no_layout(void)
{
    static const struct { uint64_t hex; uint32_t known; const char *note; } cases[] = {
        { PY311, 0, "the shim knows no memory layout for Python 3.11" },
        { 0x30e00f0, 1, "this cowtrace knows no memory layout for Python 3.14" },
    };
    for (size_t k = 0; k < 2; k++) {
        struct mkt m;
        struct ct_proc p;
        py_trace(&m, CT_MODE_MPROTECT, cases[k].hex, cases[k].known);
        mkt_pages(&m, CT_REC_EARLY, 0, 20, (uint64_t[]){ 0, 1 }, 2);
        w(&m, H0 + 0x100, H0 + 0x100, T_INT, CT_WHERE_POOL_BLOCK, CT_OBJ_AT, 1, 0);
        w(&m, H0 + PG, 0, 0, CT_WHERE_POOL_HEADER, CT_OBJ_NONE, 1, 0);
        mkt_end(&m, CT_END_EXIT, 0);
        if (parse(&m, &p, true)) {
            CHECK(0);
            mkt_free(&m);
            continue;
        }
        CHECK_U64(p.cow, 3);
        CHECK_U64(p.causes[CT_CAUSE_UNKNOWN], 3);
        CHECK(!p.layout && !p.causes_inferred);
        check_sums(&p);
        char buf[200];
        CHECK(ct_cause_note(&p, buf, sizeof buf) && strstr(buf, cases[k].note));
        ct_proc_free(&p);
        mkt_free(&m);
    }
    /* not a Python process at all */
    struct mkt m;
    struct ct_proc p;
    build_main(&m);
    if (!parse(&m, &p, false)) {
        CHECK_U64(p.causes[CT_CAUSE_UNKNOWN], p.cow);
        char buf[200];
        CHECK(ct_cause_note(&p, buf, sizeof buf) && strstr(buf, "no Python interpreter"));
        ct_proc_free(&p);
    }
    mkt_free(&m);
}

/* ct_pgsort against the definition: by page, equal pages in their order. */
static int cmp_pgkey(const void *x, const void *y)
{
    const struct ct_pgkey *a = x, *b = y;
    if (a->pg != b->pg)
        return a->pg < b->pg ? -1 : 1;
    return a->idx < b->idx ? -1 : a->idx > b->idx;
}

static void test_pgsort(void)
{
    uint64_t seed = 12345;
    for (size_t round = 0; round < 6; round++) {
        size_t n = round < 2 ? round : 1000u << round;
        struct ct_pgkey *v = calloc(n ? n : 1, sizeof *v), *want = calloc(n ? n : 1, sizeof *v);
        for (size_t i = 0; i < n; i++) {
            seed = seed * 6364136223846793005ull + 1442695040888963407ull;
            /* few distinct pages (ties), or any page up to 2^45, or both halves of user space */
            uint64_t r = seed >> 11;
            uint64_t pg = round % 3 == 0 ? r % 97 : round % 3 == 1 ? r & ((1ull << 45) - 1)
                                                                   : (r & 1 ? 0x7f0000000ull : 0x550000000ull) + (r >> 1) % 5000;
            v[i] = (struct ct_pgkey){ .pg = pg, .idx = (uint32_t)i };
        }
        memcpy(want, v, n * sizeof *v);
        qsort(want, n, sizeof *want, cmp_pgkey);
        ct_pgsort(v, n);
        size_t bad = 0;
        for (size_t i = 0; i < n; i++)
            bad += v[i].pg != want[i].pg || v[i].idx != want[i].idx;
        CHECK_U64(bad, 0);
        free(v);
        free(want);
    }
}

int main(void)
{
    test_counts();
    test_early_not_present();
    test_exit_strings();
    test_truncation();
    test_unknown_record();
    test_ivl();
    test_leb128();
    test_json_escape();
    test_report_dir();
    test_cause_rules();
    test_allocator_names();
    test_attribution_precise();
    test_attribution_inferred();
    test_attribution_no_layout();
    test_pgsort();
    return check_done("test_analysis");
}
