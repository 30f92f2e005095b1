/*
 * test_corrupt.c - every kind of damage gives a clean error naming the byte
 * offset, and 20,000 random mutations of a valid trace give either a report
 * or a clean error: no crash, no sanitizer finding, no runaway memory.
 */
#include <stdlib.h>

#include "analysis.h"
#include "check.h"
#include "mktrace.h"
#include "render.h"
#include "symbolize.h"

#define PG 4096ull
#define A0 0x10000ull
#define A1 0x40000ull

static size_t region1_off;

static void base(struct mkt *m)
{
    mkt_init(m, 42, 41, CT_MODE_UFFD, PG);
    mkt_process(m, CT_MODE_UFFD, "chosen", "/usr/bin/python3", "python3");
    mkt_region(m, 0, CT_KIND_HEAP, A0, A0 + 16 * PG, CT_TRACK_UFFD, "[heap]");
    region1_off = m->len;
    mkt_region(m, 1, CT_KIND_ANON, A1, A1 + 16 * PG, CT_TRACK_UFFD, "");
}

/* Expects an error at `off` whose message contains `what`. */
static void expect_err(const char *name, struct mkt *m, size_t len, uint64_t off, const char *what)
{
    struct ct_trace t;
    struct ct_err err;
    int rc = ct_trace_parse(name, m->buf, len, &t, &err);
    check_count++;
    if (rc == 0) {
        check_failures++;
        fprintf(stderr, "%s: parsed, expected an error at offset %llu\n", name, (unsigned long long)off);
        ct_trace_free(&t);
        return;
    }
    check_count++;
    if (!err.has_offset || err.offset != off || !strstr(err.msg, what)) {
        check_failures++;
        fprintf(stderr, "%s: got offset %llu \"%s\", want offset %llu \"%s\"\n", name,
                (unsigned long long)err.offset, err.msg, (unsigned long long)off, what);
    }
}

static void expect_ok(const char *name, struct mkt *m)
{
    struct ct_trace t;
    struct ct_err err;
    int rc = ct_trace_parse(name, m->buf, m->len, &t, &err);
    check_count++;
    if (rc) {
        check_failures++;
        fprintf(stderr, "%s: unexpected error at %llu: %s\n", name, (unsigned long long)err.offset, err.msg);
        return;
    }
    ct_trace_free(&t);
}

static void test_header(void)
{
    struct mkt m;
    base(&m);
    expect_ok("valid", &m);
    expect_err("empty", &m, 0, 0, "empty file");
    expect_err("short", &m, 5, 0, "truncated header");
    expect_err("half header", &m, 64, 64, "truncated header");
    m.buf[3] ^= 0x20;
    expect_err("bad magic", &m, m.len, 0, "bad magic");
    m.buf[3] ^= 0x20;
    mkt_put16(&m, 8, 2);
    expect_err("future version", &m, m.len, 8, "unsupported trace format version 2");
    mkt_put16(&m, 8, 0);
    expect_err("version 0", &m, m.len, 8, "version 0");
    mkt_put16(&m, 8, 1);
    mkt_put16(&m, 10, 64);
    expect_err("header size", &m, m.len, 10, "bad header size 64");
    mkt_put16(&m, 10, 128);
    mkt_put32(&m, 12, 3000);
    expect_err("page size", &m, m.len, 12, "bad page size 3000");
    mkt_put32(&m, 12, 2u << 20);
    expect_err("page size big", &m, m.len, 12, "bad page size");
    mkt_put32(&m, 12, 4096);
    mkt_put32(&m, 16, 0);
    expect_err("pid", &m, m.len, 16, "bad pid 0");
    mkt_free(&m);
}

static void test_records(void)
{
    struct mkt m;
    size_t at;

    base(&m);
    at = m.len;
    mkt_record(&m, CT_REC_WRITE, 3, NULL, 0);
    mkt_bytes(&m, NULL, 8);
    expect_err("size 3", &m, m.len, at, "bad record size 3");
    mkt_free(&m);

    base(&m);
    at = m.len;
    mkt_record(&m, CT_REC_NOTE, 20, NULL, 12);
    mkt_bytes(&m, NULL, 8);
    expect_err("size 20", &m, m.len, at, "bad record size 20");
    mkt_free(&m);

    base(&m);
    at = m.len;
    mkt_record(&m, CT_REC_WRITE, 4096, NULL, 32);
    m.len = at + 40;
    expect_err("past EOF", &m, m.len, at, "extends past the end of the file");
    mkt_free(&m);

    /* a page record whose size disagrees with its run list, cut by EOF */
    base(&m);
    at = m.len;
    mkt_record(&m, CT_REC_PRESENT, 1 << 20, (uint8_t[]){ 0, 0, 0, 0, 8, 0, 0, 0 }, 8);
    m.len = at + 64;
    expect_err("past EOF pages", &m, m.len, at, "extends past the end of the file");
    mkt_free(&m);

    base(&m);
    at = m.len;
    mkt_record(&m, CT_REC_WRITE, 16, NULL, 8);
    expect_err("small write", &m, m.len, at, "write record too small");
    mkt_free(&m);

    base(&m);
    at = m.len;
    mkt_pages(&m, CT_REC_PRESENT, 5, 0, (uint64_t[]){ 0, 1 }, 2);
    expect_err("region id", &m, m.len, at + 8, "bad region id 5");
    mkt_free(&m);

    base(&m);
    at = m.len;
    mkt_region(&m, 3, CT_KIND_ANON, 0x100000, 0x200000, CT_TRACK_UFFD, "");
    expect_err("region id order", &m, m.len, at + 8, "bad region id 3");
    mkt_free(&m);

    base(&m);
    at = m.len;
    mkt_region(&m, 2, CT_KIND_ANON, A1 + 8 * PG, A1 + 64 * PG, CT_TRACK_UFFD, "");
    expect_err("overlap", &m, m.len, at + 16, "overlaps");
    mkt_free(&m);

    base(&m);
    at = m.len;
    mkt_region(&m, 2, CT_KIND_ANON, A0 - 4 * PG, A0, CT_TRACK_UFFD, "");
    expect_err("unsorted", &m, m.len, at + 16, "overlaps or precedes");
    mkt_free(&m);

    base(&m);
    at = m.len;
    mkt_region(&m, 2, CT_KIND_ANON, 0x100100, 0x200000, CT_TRACK_UFFD, "");
    expect_err("unaligned", &m, m.len, at + 16, "not page aligned");
    mkt_free(&m);

    base(&m);
    at = m.len;
    mkt_region(&m, 2, CT_KIND_ANON, 0x100000, 1ull << 60, CT_TRACK_UFFD, "");
    expect_err("huge region", &m, m.len, at + 16, "bad range");
    mkt_free(&m);

    base(&m);
    at = m.len;
    mkt_region(&m, 2, CT_KIND_ANON, 0x100000, 0x100000, CT_TRACK_UFFD, "");
    expect_err("empty region", &m, m.len, at + 16, "bad range");
    mkt_free(&m);

    base(&m);
    at = m.len;
    mkt_region(&m, 2, CT_KIND_ANON, 0x100000, 0x200000, 9, "");
    expect_err("tracking", &m, m.len, at + 36, "unknown tracking method 9");
    mkt_free(&m);

    /* region name length beyond the record */
    base(&m);
    mkt_put16(&m, region1_off + 64, 1000);
    expect_err("name length", &m, m.len, region1_off + 64, "runs past the end of the record");
    mkt_free(&m);

    base(&m);
    at = m.len;
    mkt_pages_raw(&m, CT_REC_WRITTEN, 1, 0,
                  (uint8_t[]){ 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x01, 0x01 }, 12);
    expect_err("leb too long", &m, m.len, at + 24, "longer than 10 bytes");
    mkt_free(&m);

    base(&m);
    at = m.len;
    mkt_pages_raw(&m, CT_REC_WRITTEN, 1, 0,
                  (uint8_t[]){ 0x00, 0x01, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01 }, 12);
    expect_err("leb too big", &m, m.len, at + 26, "larger than 2^63");
    mkt_free(&m);

    base(&m);
    at = m.len;
    mkt_pages_raw(&m, CT_REC_WRITTEN, 1, 0, (uint8_t[]){ 0x02, 0x81 }, 2);
    expect_err("leb truncated", &m, m.len, at + 25, "runs past the end of the run list");
    mkt_free(&m);

    base(&m);
    at = m.len;
    mkt_pages(&m, CT_REC_PRESENT, 1, 0, (uint64_t[]){ 4, 2, 1, 10 }, 4);
    expect_err("run past end", &m, m.len, at + 27, "run of 10 pages at page 7 goes past the end of region 1");
    mkt_free(&m);

    base(&m);
    at = m.len;
    mkt_pages(&m, CT_REC_PRESENT, 1, 0, (uint64_t[]){ 17, 1 }, 2);
    expect_err("gap past end", &m, m.len, at + 24, "gap of 17 pages");
    mkt_free(&m);

    base(&m);
    at = m.len;
    mkt_pages(&m, CT_REC_PRESENT, 1, 0, (uint64_t[]){ 1, UINT64_C(1) << 63 }, 2);
    expect_err("huge run", &m, m.len, at + 25, "goes past the end");
    mkt_free(&m);

    base(&m);
    at = m.len;
    mkt_pages(&m, CT_REC_PRESENT, 1, 0, (uint64_t[]){ 1, 1, UINT64_C(1) << 63, 1 }, 4);
    expect_err("huge gap", &m, m.len, at + 26, "goes past the end");
    mkt_free(&m);

    base(&m);
    at = m.len;
    mkt_pages(&m, CT_REC_PRESENT, 1, UINT64_MAX, (uint64_t[]){ 0, 1 }, 2);
    expect_err("huge first page", &m, m.len, at + 16, "first page");
    mkt_free(&m);

    base(&m);
    at = m.len;
    mkt_pages(&m, CT_REC_PRESENT, 1, 0, (uint64_t[]){ 1, 1, 3 }, 3);
    expect_err("odd run list", &m, m.len, at + 27, "gap and no run");
    mkt_free(&m);

    base(&m);
    at = m.len;
    mkt_pages(&m, CT_REC_PRESENT, 1, 0, (uint64_t[]){ 1, 1 }, 2);
    mkt_put32(&m, at + 12, 100);
    expect_err("nbytes", &m, m.len, at + 12, "does not fit");
    mkt_free(&m);

    base(&m);
    at = m.len;
    mkt_untrack(&m, 0x5000, 0x4000, CT_UNTRACK_STOPPED);
    expect_err("untrack range", &m, m.len, at + 8, "bad range");
    mkt_free(&m);

    /* a torn record at the end is not an error */
    base(&m);
    mkt_write(&m, A0, 0, 1, 0);
    m.len -= 12;
    {
        struct ct_trace t;
        struct ct_err err;
        CHECK(ct_trace_parse("torn", m.buf, m.len, &t, &err) == 0);
        CHECK(t.torn && t.nwrites == 0);
        if (t.file)
            ct_trace_free(&t);
    }
    mkt_free(&m);
}


/* The records added for causes: sizes, strings, indexes, LEB128. */
static void test_python_records(void)
{
    struct mkt m;
    size_t at;

    base(&m);
    at = m.len;
    mkt_record(&m, CT_REC_PYTHON, 16, NULL, 8);
    expect_err("small python", &m, m.len, at, "python record too small");
    mkt_free(&m);

    base(&m);
    at = m.len;
    mkt_python(&m, 0x30b07f0, 1, 0, "3.11.2", "/usr/lib/libpython3.11.so");
    mkt_put16(&m, at + 32, 500);
    expect_err("python version length", &m, m.len, at + 32, "python version string of 500 bytes");
    mkt_free(&m);

    base(&m);
    at = m.len;
    mkt_python(&m, 0x30b07f0, 1, 0, "3.11.2", "/usr/lib/libpython3.11.so");
    mkt_put16(&m, at + 32 + 2 + 6, 300);
    expect_err("python path length", &m, m.len, at + 40, "python path string of 300 bytes");
    mkt_free(&m);

    base(&m);
    at = m.len;
    mkt_pytype(&m, 0x1000, 0, 0, 16, 0, "int");
    expect_err("pytype index 0", &m, m.len, at + 16, "pytype index 0");
    mkt_free(&m);

    base(&m);
    mkt_pytype(&m, 0x1000, 3, 0, 16, 0, "int");
    mkt_pytype(&m, 0x2000, 4, 0, 16, 0, "str");
    at = m.len;
    mkt_pytype(&m, 0x3000, 3, 0, 16, 0, "list");
    expect_err("pytype index repeats", &m, m.len, at + 16, "pytype index 3 repeats");
    mkt_free(&m);

    base(&m);
    at = m.len;
    mkt_pytype(&m, 0x1000, 1, 0, 16, 0, "int");
    mkt_put16(&m, at + 48, 9);
    expect_err("pytype name length", &m, m.len, at + 48, "type name string of 9 bytes");
    mkt_free(&m);

    base(&m);
    at = m.len;
    mkt_record(&m, CT_REC_PYTYPE, 40, NULL, 32);
    expect_err("small pytype", &m, m.len, at, "pytype record too small");
    mkt_free(&m);

    base(&m);
    at = m.len;
    mkt_module(&m, 0, 0x2000, 0x1000, "/lib/x.so");
    expect_err("module range", &m, m.len, at + 16, "module record has a bad range");
    mkt_free(&m);

    base(&m);
    at = m.len;
    mkt_module(&m, 0, 0x1000, 0x2000, "/lib/x.so");
    mkt_put32(&m, at + 52, 21);
    expect_err("module build id", &m, m.len, at + 52, "build id of 21 bytes");
    mkt_free(&m);

    /* page summaries */
    base(&m);
    at = m.len;
    mkt_page_summary(&m, A0, (uint64_t[]){ 0, 1, 2, 3 }, 1);
    mkt_put32(&m, at + 20, 64);
    expect_err("summary nbytes", &m, m.len, at + 20, "does not fit");
    mkt_free(&m);

    base(&m);
    at = m.len;
    mkt_page_summary(&m, A0, (uint64_t[]){ 0, 1, 2, 3 }, 1);
    mkt_put32(&m, at + 16, 2);
    expect_err("summary count", &m, m.len, at + 16, "2 entries cannot fit in 4 bytes");
    mkt_free(&m);

    base(&m);
    at = m.len;
    mkt_page_summary(&m, A0, (uint64_t[]){ 0, 1, 2, 3, 200, 1, 2, 3 }, 2);   /* 200: two bytes */
    mkt_put32(&m, at + 20, 8);              /* the second entry is cut before its last number */
    expect_err("summary truncated", &m, m.len, at + 32, "page summary object count: ");
    mkt_free(&m);

    base(&m);
    at = m.len;
    mkt_page_summary(&m, A0 + 8, (uint64_t[]){ 0, 1, 2, 3 }, 1);
    expect_err("summary base", &m, m.len, at + 8, "not a page address");
    mkt_free(&m);

    base(&m);
    at = m.len;
    mkt_page_summary(&m, A0, (uint64_t[]){ UINT64_C(1) << 50, 0, 0, 0 }, 1);
    expect_err("summary delta", &m, m.len, at + 24, "page delta");
    mkt_free(&m);

    base(&m);
    at = m.len;
    mkt_page_summary(&m, A0, (uint64_t[]){ (UINT64_C(1) << 45) - 100, 0, 0, 0, 200, 0, 0, 0 }, 2);
    expect_err("summary overflow", &m, m.len, at + 24 + 10, "past the end of the address space");
    mkt_free(&m);

    base(&m);
    at = m.len;
    mkt_page_summary(&m, A0, (uint64_t[]){ 0, UINT64_C(1) << 32, 0, 0 }, 1);
    expect_err("summary type index", &m, m.len, at + 25, "type index 4294967296 is too large");
    mkt_free(&m);

    base(&m);
    at = m.len;
    mkt_page_summary(&m, A0, (uint64_t[]){ 0, 0, 0, 4097 }, 1);
    expect_err("summary objects", &m, m.len, at + 27, "object count 4097");
    mkt_free(&m);

    base(&m);
    at = m.len;
    mkt_page_summary(&m, A0, (uint64_t[]){ 0, 0, 0, 0 }, 1);
    mkt_put32(&m, at + 4, 1 << 20);         /* cut by the end of the file, size disagrees */
    expect_err("summary past EOF", &m, m.len, at, "extends past the end of the file");
    mkt_free(&m);

    /* WRITE records of the first version, and of a size between the two,
     * read with zero evidence; a longer one is read. */
    base(&m);
    mkt_pages(&m, CT_REC_PRESENT, 0, 0, (uint64_t[]){ 0, 4 }, 2);
    mkt_write(&m, A0 + 16, 0, 1, 0);
    mkt_record(&m, CT_REC_WRITE, 48, (uint8_t[]){ 0x10, 0x10, 1, 0, 0, 0, 0, 0 }, 8);
    mkt_write_ev(&m, &(struct mkt_ev){ .addr = A0 + 2 * PG, .obj = A0 + 2 * PG, .type = 0x99, .where = 200,
                                       .obj_how = 99 });
    {
        struct ct_trace t;
        struct ct_err err;
        CHECK(ct_trace_parse("v1 writes", m.buf, m.len, &t, &err) == 0);
        CHECK_U64(t.nevents, 3);
        if (t.nevents == 3) {
            CHECK(t.events[0].obj == 0 && t.events[0].where == 0);
            CHECK(t.events[1].obj == 0 && t.events[1].pg == (A0 + PG) / PG);
            CHECK(t.events[2].obj == A0 + 2 * PG && t.events[2].where == 200);
        }
        if (t.file)
            ct_trace_free(&t);
    }
    mkt_free(&m);
}

/* STACK and PYCODE records: ids, depths and lengths against their record,
 * and write events naming stacks that do not exist. */
static void test_stack_records(void)
{
    struct mkt m;
    size_t at;
    const uint64_t ips[3] = { 0x401000, 0x401100, 0x401200 };
    const struct ct_pyframe py[2] = { { 0xc0de, 4, 0 }, { 0xc1de, -1, 0 } };

    base(&m);
    at = m.len;
    mkt_record(&m, CT_REC_STACK, 16, NULL, 8);
    expect_err("small stack", &m, m.len, at, "stack record too small");
    mkt_free(&m);

    base(&m);
    at = m.len;
    mkt_stack(&m, 0, 0, ips, 3, py, 2);
    expect_err("stack id 0", &m, m.len, at + 8, "stack id 0");
    mkt_free(&m);

    base(&m);
    mkt_stack(&m, 5, 0, ips, 3, py, 2);
    mkt_stack(&m, 6, 0, ips, 1, NULL, 0);
    at = m.len;
    mkt_stack(&m, 5, 0, NULL, 0, py, 1);
    expect_err("stack id repeats", &m, m.len, at + 8, "stack id 5 repeats");
    mkt_free(&m);

    /* depths claiming more frames than the record holds: a native depth one
     * too many, a Python depth one too many, the largest depths */
    base(&m);
    at = m.len;
    mkt_stack(&m, 1, 0, ips, 3, py, 2);
    mkt_put16(&m, at + 12, 4);
    expect_err("native depth", &m, m.len, at + 12, "stack of 4 native and 2 Python frames needs");
    mkt_put16(&m, at + 12, 3);
    mkt_put16(&m, at + 14, 3);
    expect_err("python depth", &m, m.len, at + 12, "stack of 3 native and 3 Python frames needs");
    mkt_put16(&m, at + 12, 0xffff);
    mkt_put16(&m, at + 14, 0xffff);
    expect_err("huge depths", &m, m.len, at + 12, "needs 1572864 bytes");
    mkt_free(&m);

    /* a stack record cut by the end of the file: torn if what shows is
     * consistent, corrupt if the size disagrees with the depths */
    base(&m);
    at = m.len;
    mkt_stack(&m, 1, 0, ips, 3, py, 2);
    {
        struct ct_trace t;
        struct ct_err err;
        CHECK(ct_trace_parse("torn stack", m.buf, m.len - 8, &t, &err) == 0);
        if (t.file) {
            CHECK(t.torn && t.nstacks == 0);
            ct_trace_free(&t);
        }
    }
    mkt_put32(&m, at + 4, 1 << 20);
    expect_err("stack past EOF", &m, m.len, at, "extends past the end of the file");
    mkt_free(&m);

    base(&m);
    at = m.len;
    mkt_record(&m, CT_REC_PYCODE, 16, NULL, 8);
    expect_err("small pycode", &m, m.len, at, "pycode record too small");
    mkt_free(&m);

    base(&m);
    at = m.len;
    mkt_pycode(&m, 0xc0de, 10, "f", "/app/x.py", "\x80\x00", 2);
    mkt_put16(&m, at + 24, 200);
    expect_err("pycode qualname", &m, m.len, at + 24, "code qualname string of 200 bytes");
    mkt_free(&m);

    base(&m);
    at = m.len;
    mkt_pycode(&m, 0xc0de, 10, "f", "/app/x.py", "\x80\x00", 2);
    mkt_put16(&m, at + 27, 60);
    expect_err("pycode filename", &m, m.len, at + 27, "code filename string of 60 bytes");
    mkt_free(&m);

    base(&m);
    at = m.len;
    mkt_pycode(&m, 0xc0de, 10, "f", "/app/x.py", "\x80\x00", 2);
    mkt_put32(&m, at + 20, 0);              /* 24 + 3 + 11 + 2 = 40 bytes: the table ends the record */
    expect_ok("pycode shorter table", &m);
    mkt_put32(&m, at + 20, 3);
    expect_err("pycode table length", &m, m.len, at + 20, "line table of 3 bytes does not fit");
    mkt_put32(&m, at + 20, 0xffffffffu);
    expect_err("pycode huge table", &m, m.len, at + 20, "line table of 4294967295 bytes");
    mkt_free(&m);

    /* write events: a stack id no record defines is no stack, counted;
     * one that exists is kept; a 72-byte record has none */
    base(&m);
    mkt_pages(&m, CT_REC_PRESENT, 0, 0, (uint64_t[]){ 0, 4 }, 2);
    mkt_stack(&m, 3, 0, ips, 1, NULL, 0);
    mkt_write_ev(&m, &(struct mkt_ev){ .addr = A0, .stack = 3 });
    mkt_write_ev(&m, &(struct mkt_ev){ .addr = A0 + PG, .stack = 4 });
    mkt_write_ev(&m, &(struct mkt_ev){ .addr = A0 + 2 * PG, .stack = 0xffffffffu });
    mkt_write_ev(&m, &(struct mkt_ev){ .addr = A0 + 3 * PG });
    {
        struct ct_trace t;
        struct ct_err err;
        CHECK(ct_trace_parse("stack ids", m.buf, m.len, &t, &err) == 0);
        CHECK_U64(t.stacks_missing, 2);
        CHECK_U64(t.nevents, 4);
        if (t.nevents == 4)
            CHECK(t.events[0].stack == 1 && !t.events[1].stack && !t.events[2].stack && !t.events[3].stack);
        struct ct_proc p;
        ct_analyze(&t, false, &p);
        char w[16][160];
        size_t nw = ct_proc_warnings(&p, w, 16);
        int found = 0;
        for (size_t i = 0; i < nw; i++)
            found += strstr(w[i], "2 write events name a stack the trace does not hold") != NULL;
        CHECK(found == 1);
        struct ct_run r;
        ct_run_of_proc(&r, "stack ids", &p, &(struct ct_load_opts){ .resolve = true });
        ct_run_free(&r);
    }
    mkt_free(&m);
}

/* A valid trace that uses every record type. */
static void rich(struct mkt *m)
{
    base(m);
    mkt_pages(m, CT_REC_PRESENT, 0, 0, (uint64_t[]){ 0, 4, 2, 3, 1, 5 }, 6);
    mkt_pages(m, CT_REC_PRESENT, 1, 2, (uint64_t[]){ 0, 8 }, 2);
    mkt_pages(m, CT_REC_EARLY, 0, 1, (uint64_t[]){ 0, 1 }, 2);
    mkt_pages(m, CT_REC_WRITTEN, 1, 0, (uint64_t[]){ 3, 2, 4, 4 }, 4);
    mkt_write(m, A0 + 5 * PG + 17, 0x401000, 42, 0);
    mkt_write(m, A1 + 15 * PG, 0x401000, 42, CT_WRITE_KERNEL | (17u << CT_WRITE_SYSCALL_SHIFT));
    mkt_python(m, 0x30b07f0, 1, CT_PY_SHARED, "3.11.2", "/usr/lib/libpython3.11.so");
    mkt_pytype(m, 0x7f0000001000ull, 1, 1ull << 14, 32, 0, "list");
    mkt_pytype(m, 0x7f0000002000ull, 2, 0, 32, 8, "int");
    mkt_module(m, 0x7f0000000000ull, 0x7f0000000000ull, 0x7f0000100000ull, "/usr/lib/libpython3.11.so");
    mkt_write_ev(m, &(struct mkt_ev){ .addr = A0 + 6 * PG + 16, .obj = A0 + 6 * PG + 32,
                                      .type = 0x7f0000001000ull, .block = A0 + 6 * PG, .block_size = 64,
                                      .where = CT_WHERE_POOL_BLOCK, .obj_how = CT_OBJ_GC_NEXT });
    mkt_write_ev(m, &(struct mkt_ev){ .addr = A1 + 3 * PG, .obj = A1 + 3 * PG, .type = 0x7f0000002000ull,
                                      .where = CT_WHERE_POOL_BLOCK, .obj_how = CT_OBJ_AT, .time_ns = 5 });
    mkt_page_summary(m, A1, (uint64_t[]){ 3, 2, 2 | 4 << 2, 3, 1, 0, 1, 0, 2, 7, 2, 1 }, 3);
    mkt_pycode(m, 0x7f0000c00000ull, 3, "load", "/app/w.py", "\x80\x00\xd8\x04\x05\x80", 6);
    mkt_stack(m, 1, 0, (uint64_t[]){ 0x7f0000001234ull, 0x7f0000002345ull, 0x401000 }, 3,
              (struct ct_pyframe[]){ { 0x7f0000c00000ull, 1, 0 }, { 0x7f0000c00000ull, 0, 0 } }, 2);
    mkt_stack(m, 2, CT_STACK_NO_PYTHON | CT_STACK_NATIVE_TRUNCATED, (uint64_t[]){ 0x7f0000001234ull }, 1, NULL, 0);
    mkt_write_ev(m, &(struct mkt_ev){ .addr = A0 + 7 * PG + 64, .obj = A0 + 7 * PG + 64, .type = 0x7f0000002000ull,
                                      .where = CT_WHERE_POOL_BLOCK, .obj_how = CT_OBJ_AT, .stack = 1 });
    mkt_write_ev(m, &(struct mkt_ev){ .addr = A0 + 8 * PG, .where = CT_WHERE_OUTSIDE, .stack = 2 });
    mkt_note(m, CT_NOTE_WARNING, "a warning \xff with \"bytes\"");
    mkt_untrack(m, A1 + 12 * PG, A1 + 16 * PG, CT_UNTRACK_STOPPED);
    mkt_exec(m, "/bin/sh");
    mkt_end(m, CT_END_EXIT, 0);
    mkt_set_reap(m, 0);
}

static uint64_t xorshift(uint64_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return *s;
}

static void test_fuzz(int iterations)
{
    struct mkt m;
    rich(&m);
    size_t len0 = m.len;
    uint8_t *orig = xmalloc(len0);
    memcpy(orig, m.buf, len0);
    mkt_bytes(&m, NULL, 256);                 /* room to grow by a few bytes */
    FILE *devnull = fopen("/dev/null", "w");
    uint64_t seed = 0x9e3779b97f4a7c15ull;
    int ok = 0, errs = 0, bad_err = 0, bad_sum = 0, attributed = 0, with_stacks = 0;
    static const uint32_t interesting[] = { 0, 1, 7, 8, 16, 24, 0x7f, 0x80, 0xff, 0x100, 0xffff, 0x10000,
                                            0x7fffffff, 0x80000000u, 0xfffffff8u, 0xffffffffu };
    for (int it = 0; it < iterations; it++) {
        memcpy(m.buf, orig, len0);
        memset(m.buf + len0, 0, 256);
        size_t len = len0;
        int nmut = 1 + (int)(xorshift(&seed) % 4);
        for (int k = 0; k < nmut; k++) {
            uint64_t r = xorshift(&seed);
            /* Most mutations hit the records, not the header, which would
             * mostly just fail the magic check. */
            size_t pos = (r >> 8) % 8 ? CT_HEADER_SIZE + (r >> 16) % (len - CT_HEADER_SIZE) : (r >> 16) % len;
            switch (r % 6) {
            case 0: m.buf[pos] ^= (uint8_t)(1u << ((r >> 40) % 8)); break;
            case 1: m.buf[pos] = (uint8_t)(r >> 40); break;
            case 2:
                if (pos + 4 <= len)
                    mkt_put32(&m, pos & ~(size_t)3, interesting[(r >> 40) % 16]);
                break;
            case 3: len = CT_HEADER_SIZE + (r >> 16) % (len - CT_HEADER_SIZE + 1); break;
            case 4: {
                size_t grow = 8 * (1 + (r >> 40) % 3);
                if (len + grow <= len0 + 256)
                    len += grow;
                break;
            }
            case 5:
                if (pos + 8 <= len)
                    mkt_put64(&m, pos & ~(size_t)7, (r >> 40) % 2 ? UINT64_MAX : UINT64_C(1) << ((r >> 41) % 64));
                break;
            }
            if (len < CT_HEADER_SIZE + 1)
                break;
        }
        struct ct_trace t;
        struct ct_err err;
        if (ct_trace_parse("fuzz", m.buf, len, &t, &err)) {
            errs++;
            bad_err += !err.has_offset || err.offset > len || !err.msg[0];
            continue;
        }
        ok++;
        struct ct_proc p;
        ct_analyze(&t, true, &p);
        uint64_t cow = 0, fresh = 0, tracked = 0;
        for (size_t i = 0; i < p.t.nregions; i++) {
            cow += p.rs[i].cow;
            fresh += p.rs[i].fresh;
            tracked += p.rs[i].tracked;
        }
        bad_sum += cow != p.cow || fresh != p.fresh || tracked != p.tracked
                || ivl_count(&p.cow_set) != p.cow || ivl_count(&p.fresh_set) != p.fresh;
        /* causes and types each sum to the copied pages, whatever the evidence */
        uint64_t causes = 0, types = 0;
        for (int c = 0; c < CT_NCAUSES; c++)
            causes += p.causes[c];
        for (size_t i = 0; i < p.ntypes; i++)
            types += p.types[i].pages;
        bad_sum += causes != p.cow || types != p.cow;
        attributed += p.layout && p.causes[CT_CAUSE_UNKNOWN] < p.cow;
        /* and so do the (stack, cause, type) counts */
        uint64_t stacked = 0, with = 0;
        for (size_t i = 0; i < p.nstack_counts; i++) {
            stacked += p.stack_counts[i].pages;
            with += p.stack_counts[i].stack ? p.stack_counts[i].pages : 0;
            bad_sum += p.stack_counts[i].stack > p.t.nstacks;
        }
        bad_sum += stacked != p.cow;
        with_stacks += with > 0;
        /* Listing a hostile 2^28 pages one by one is slow, not wrong. */
        bool pages = p.cow + p.fresh < (1u << 20);
        /* Module files named by a mutated trace are not opened. */
        struct ct_run rep;
        ct_run_of_proc(&rep, "fuzz", &p, &(struct ct_load_opts){ .keep_pages = true, .resolve = true });
        /* Every format, each iteration with another of its option sets. */
        for (size_t i = 0; ct_renderers[i]; i++) {
            const struct ct_renderer *R = ct_renderers[i];
            struct ct_render_opts o = ct_render_opts_nth(R, (size_t)it % ct_render_opts_count(R));
            o.pages = o.pages && pages;
            R->run(devnull, &rep, &o);
        }
        ct_run_free(&rep);
    }
    fclose(devnull);
    fprintf(stderr, "fuzz: %d iterations, %d parsed (%d with causes, %d with stacks), %d clean errors\n",
            iterations, ok, attributed, with_stacks, errs);
    CHECK(with_stacks > iterations / 50);
    CHECK(attributed > iterations / 50);     /* the new records survive mutation often enough to matter */
    CHECK_U64(bad_err, 0);
    CHECK_U64(bad_sum, 0);
    CHECK(ok > iterations / 20);              /* the mutator must not only break the header */
    CHECK(errs > iterations / 20);
    free(orig);
    mkt_free(&m);
}

int main(int argc, char **argv)
{
    test_header();
    test_records();
    test_python_records();
    test_stack_records();
    test_fuzz(argc > 1 ? atoi(argv[1]) : 20000);
    return check_done("test_corrupt");
}
