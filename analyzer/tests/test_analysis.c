/*
 * test_analysis.c - known synthetic traces must give exact counts, exit
 * strings and completeness; the building blocks (interval algebra, LEB128,
 * JSON escaping) are checked against brute force or exact expected bytes.
 */
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "analysis.h"
#include "check.h"
#include "ivl.h"
#include "jsonw.h"
#include "leb128.h"
#include "mktrace.h"
#include "report.h"

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

    struct ct_report r;
    struct ct_err err;
    CHECK(ct_report_build(dir, false, &r, &err) == 0);
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
    ct_report_free(&r);
    CHECK(ct_report_build("/nonexistent/dir", false, &r, &err) == -1);
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    CHECK(system(cmd) == 0);
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
    return check_done("test_analysis");
}
