/*
 * test_roundtrip.c - every record the shim can write, read back.
 *
 * Encodes records of every type with the shim's own encoders
 * (shim/trace_records.c, into a memory writer of shim/trace_file.c), parses
 * the result with the analyzer's reader (trace.c) and checks that every
 * field holds what was written: the reader keeps most fields; the few it
 * drops (a WRITE's ip and tid, NOTE levels of EXEC, PAGE_DATA bytes) are
 * checked in the raw record. Strings are tried empty and past their limits.
 *
 * Promise: a record type added to ct_format.h without a case here fails
 * this test (the case table is indexed by type and must be full), so the
 * writer and the reader cannot drift apart unnoticed. The file writer, the
 * trace naming and the reap slot are checked on real files in a temporary
 * directory.
 */
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check.h"
#include "ct_wire.h"
#include "sys.h"
#include "fields.h"
#include "pyver.h"
#include "trace.h"
#include "trace_records.h"

#define PAGE 4096u
#define BUF_CAP (1u << 20)

/* ---- the values written -------------------------------------------------- */

#define R0_START UINT64_C(0x10000000)
#define R0_PAGES 512u
#define R1_START UINT64_C(0x7f0000000000)
#define R1_PAGES 16u
#define WRITE_ADDR (R0_START + 5 * PAGE + 24)
#define WRITE2_ADDR (R0_START + 9 * PAGE)
#define SUM_BASE (R0_START + 8 * PAGE)

static char long_name[5000];        /* region name past CT_REC_REGION_NAME_MAX */
static char long_text[2000];        /* note text past CT_REC_TEXT_MAX */
static char max_str[CT_WIRE_STR_MAX + 100];   /* a string past what a length word holds */
static const uint8_t build_id[20] = {0xde, 0xad, 0xbe, 0xef, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16};
static const uint64_t stack_ips[3] = {0x401000, 0x401234, 0x7f0000123456};
static const struct ct_pyframe stack_frames[2] = {
    {.code = 0x7f1000001000, .lasti = 17, .flags = CT_PYFRAME_ENTRY},
    {.code = 0x7f1000002000, .lasti = -1, .flags = 0},
};
static uint8_t linetable[300];
static uint8_t page_bytes[PAGE];

static void fill(char *s, size_t n, char base)
{
    for (size_t i = 0; i + 1 < n; i++)
        s[i] = (char)(base + i % 26);
    s[n - 1] = 0;
}

static int str_is(const struct ct_str *s, const char *want, size_t len)
{
    return s->len == len && memcmp(s->s, want, len) == 0;
}

/* Record k (0-based) of `type` in buf[0, len), or NULL: for the fields the
 * reader does not keep. */
static const uint8_t *raw_record(const uint8_t *buf, size_t len, uint32_t type, int k)
{
    for (size_t off = CT_HEADER_SIZE; off + 8 <= len;) {
        uint32_t t = ct_wire_get32(buf + off), size = ct_wire_get32(buf + off + 4);
        if (t == 0 || size < 8)
            break;
        if (t == type && k-- == 0)
            return buf + off;
        off += size;
    }
    return NULL;
}

/* A reader of the traced process's memory for PYCODE's line table: here,
 * our own memory; address 1 fails, as an unmapped one would. */
static int read_here(uintptr_t addr, void *out, size_t n)
{
    if (addr == 1)
        return -1;
    memcpy(out, (const void *)addr, n);
    return 0;
}

/* ---- one case per record type: write, then check -------------------------- */

static void w_process(struct ct_writer *w)
{
    CHECK(ct_rec_process(w, CT_MODE_UFFD, 250, "requested", "/usr/bin/python3.11", "python3") == 0);
    /* Only the first PROCESS counts; this one's strings are cut at 65535. */
    CHECK(ct_rec_process(w, CT_MODE_MPROTECT, 0, max_str, "", NULL) == 0);
}

static void c_process(const struct ct_trace *t, const uint8_t *buf, size_t len)
{
    CHECK(t->have_process);
    CHECK_U64(t->proc_mode, CT_MODE_UFFD);
    CHECK_U64(t->flush_interval_ms, 250);
    CHECK_STR(t->mode_reason.s, "requested");
    CHECK_STR(t->exe.s, "/usr/bin/python3.11");
    CHECK_STR(t->comm.s, "python3");
    const uint8_t *r = raw_record(buf, len, CT_REC_PROCESS, 0);
    CHECK(r && ct_wire_get64(r + 16) == 0);   /* tracked_bytes_limit: reserved, 0 */
    r = raw_record(buf, len, CT_REC_PROCESS, 1);
    CHECK(r && ct_wire_get16(r + 24) == CT_WIRE_STR_MAX);
    CHECK(r && memcmp(r + 26, max_str, CT_WIRE_STR_MAX) == 0);
    CHECK(r && ct_wire_get16(r + 26 + CT_WIRE_STR_MAX) == 0);       /* exe "" */
    CHECK(r && ct_wire_get16(r + 26 + CT_WIRE_STR_MAX + 2) == 0);   /* comm NULL: empty */
}

static void w_region(struct ct_writer *w)
{
    struct ct_region_desc r0 = {
        .id = 0, .kind = CT_KIND_HEAP, .prot = 3, .tracking = CT_TRACK_UFFD,
        .start = R0_START, .end = R0_START + R0_PAGES * PAGE, .file_offset = 0x2000, .inode = 12345,
        .name = "[heap]",
    };
    struct ct_region_desc r1 = {
        .id = 1, .kind = CT_KIND_DATA, .prot = 1, .tracking = CT_TRACK_NONE,
        .untracked_reason = CT_UNTRACK_SHIM_DEP,
        .start = R1_START, .end = R1_START + R1_PAGES * PAGE, .name = long_name,
    };
    CHECK(ct_rec_region(w, &r0) == 0);
    CHECK(ct_rec_region(w, &r1) == 0);
}

static void c_region(const struct ct_trace *t, const uint8_t *buf, size_t len)
{
    (void)buf, (void)len;
    CHECK_U64(t->nregions, 2);
    if (t->nregions != 2)
        return;
    const struct ct_region *a = &t->regions[0], *b = &t->regions[1];
    CHECK_U64(a->id, 0);
    CHECK_U64(a->kind, CT_KIND_HEAP);
    CHECK_U64(a->prot, 3);
    CHECK_U64(a->tracking, CT_TRACK_UFFD);
    CHECK_U64(a->untracked_reason, 0);
    CHECK_U64(a->start, R0_START);
    CHECK_U64(a->end, R0_START + R0_PAGES * PAGE);
    CHECK_U64(a->file_offset, 0x2000);
    CHECK_U64(a->inode, 12345);
    CHECK_STR(a->name.s, "[heap]");
    CHECK_U64(b->id, 1);
    CHECK_U64(b->kind, CT_KIND_DATA);
    CHECK_U64(b->prot, 1);
    CHECK_U64(b->tracking, CT_TRACK_NONE);
    CHECK_U64(b->untracked_reason, CT_UNTRACK_SHIM_DEP);
    CHECK_U64(b->start, R1_START);
    CHECK_U64(b->end, R1_START + R1_PAGES * PAGE);
    CHECK(str_is(&b->name, long_name, CT_REC_REGION_NAME_MAX));   /* cut at the limit */
}

/* A run list from (gap, run) numbers, with ct_wire's LEB128, as runs.c builds it. */
static size_t runs(uint8_t *out, const uint64_t *nums, size_t n)
{
    size_t len = 0;
    for (size_t i = 0; i < n; i++)
        len += ct_wire_put_uleb(out + len, nums[i]);
    return len;
}

static uint64_t pg(uint64_t addr)
{
    return addr / PAGE;
}

/* Is the normalized set exactly these absolute [start, end) page runs? */
static int set_is(const struct ivl *s, const uint64_t (*want)[2], size_t n)
{
    if (s->n != n)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (s->v[i].start != want[i][0] || s->v[i].end != want[i][1])
            return 0;
    return 1;
}

static void w_present(struct ct_writer *w)
{
    uint8_t b[64];
    const uint64_t a[] = {2, 3, 5, 3};          /* pages 2, 3, 4 and 10, 11, 12 */
    CHECK(ct_rec_pages(w, CT_REC_PRESENT, 0, 0, b, runs(b, a, 4)) == 0);
    const uint64_t c[] = {0, 1};                 /* from first_page 40: page 40 */
    CHECK(ct_rec_pages(w, CT_REC_PRESENT, 0, 40, b, runs(b, c, 2)) == 0);
    CHECK(ct_rec_pages(w, CT_REC_PRESENT, 1, 0, b, 0) == 0);   /* an empty run list */
    const uint64_t e[] = {0, R1_PAGES};          /* all of region 1 */
    CHECK(ct_rec_pages(w, CT_REC_PRESENT, 1, 0, b, runs(b, e, 2)) == 0);
}

static void c_present(const struct ct_trace *t, const uint8_t *buf, size_t len)
{
    (void)buf, (void)len;
    const uint64_t want[][2] = {
        {pg(R0_START) + 2, pg(R0_START) + 5},
        {pg(R0_START) + 10, pg(R0_START) + 13},
        {pg(R0_START) + 40, pg(R0_START) + 41},
        {pg(R1_START), pg(R1_START) + R1_PAGES},
    };
    CHECK(set_is(&t->present, want, 4));
    const uint8_t *r = raw_record(buf, len, CT_REC_PRESENT, 2);
    CHECK(r && ct_wire_get32(r + 4) == sizeof(struct ct_rec_pages) && ct_wire_get32(r + 12) == 0);
}

static void w_early(struct ct_writer *w)
{
    uint8_t b[32];
    const uint64_t a[] = {1, 2};                 /* from page 2: pages 3, 4 */
    CHECK(ct_rec_pages(w, CT_REC_EARLY, 0, 2, b, runs(b, a, 2)) == 0);
}

static void c_early(const struct ct_trace *t, const uint8_t *buf, size_t len)
{
    (void)buf, (void)len;
    const uint64_t want[][2] = {{pg(R0_START) + 3, pg(R0_START) + 5}};
    CHECK(set_is(&t->early, want, 1));
}

static void w_written(struct ct_writer *w)
{
    uint8_t b[32];
    const uint64_t a[] = {10, 1, 200, 2};        /* pages 10 and 211, 212: a gap of 2 LEB128 bytes */
    CHECK(ct_rec_pages(w, CT_REC_WRITTEN, 0, 0, b, runs(b, a, 4)) == 0);
    const uint64_t c[] = {0, 3};                 /* from page 11: 11-13, merged with 10 */
    CHECK(ct_rec_pages(w, CT_REC_WRITTEN, 0, 11, b, runs(b, c, 2)) == 0);
}

static void c_written(const struct ct_trace *t, const uint8_t *buf, size_t len)
{
    (void)buf, (void)len;
    /* The reader's written set also holds the EARLY pages (3, 4) and the
     * WRITE events' pages (5, 9). */
    const uint64_t want[][2] = {
        {pg(R0_START) + 3, pg(R0_START) + 6},
        {pg(R0_START) + 9, pg(R0_START) + 14},
        {pg(R0_START) + 211, pg(R0_START) + 213},
    };
    CHECK(set_is(&t->written, want, 3));
}

static const struct ct_py_evidence evidence = {
    .obj = WRITE_ADDR - 24, .type = 0x7f2000000100, .block = WRITE_ADDR - 24, .block_size = 48,
    .where = CT_WHERE_POOL_BLOCK, .obj_how = CT_OBJ_BLOCK,
};

static void w_write(struct ct_writer *w)
{
    uint32_t kernel = CT_WRITE_KERNEL | 17u << CT_WRITE_SYSCALL_SHIFT;
    CHECK(ct_rec_write(w, WRITE_ADDR, 0x401234, 111222333, 4242, 0, &evidence, 2) == 0);
    CHECK(ct_rec_write(w, WRITE2_ADDR, 0, 111222444, 4243, kernel, NULL, 0) == 0);
}

static void c_write(const struct ct_trace *t, const uint8_t *buf, size_t len)
{
    CHECK_U64(t->nwrites, 2);
    CHECK_U64(t->nevents, 2);
    CHECK_U64(t->writes_outside, 0);
    if (t->nevents != 2)
        return;
    const struct ct_event *a = &t->events[0], *b = &t->events[1];
    CHECK_U64(a->addr, WRITE_ADDR);
    CHECK_U64(a->pg, pg(WRITE_ADDR));
    CHECK_U64(a->time_ns, 111222333);
    CHECK_U64(a->flags, 0);
    CHECK_U64(a->obj, evidence.obj);
    CHECK_U64(a->type, evidence.type);
    CHECK_U64(a->block, evidence.block);
    CHECK_U64(a->block_size, evidence.block_size);
    CHECK_U64(a->where, evidence.where);
    CHECK_U64(a->obj_how, evidence.obj_how);
    /* stack id 2 is the second STACK record: index 1, stored + 1 */
    CHECK(a->stack != 0 && t->stacks[a->stack - 1].id == 2);
    CHECK_U64(b->addr, WRITE2_ADDR);
    CHECK_U64(b->time_ns, 111222444);
    CHECK_U64(b->flags, CT_WRITE_KERNEL | 17u << CT_WRITE_SYSCALL_SHIFT);
    CHECK(b->obj == 0 && b->type == 0 && b->block == 0 && b->block_size == 0 && b->where == 0 &&
          b->obj_how == 0 && b->stack == 0);
    /* ip and tid: not kept by the reader */
    const uint8_t *r = raw_record(buf, len, CT_REC_WRITE, 0);
    CHECK(r && ct_wire_get32(r + 4) == sizeof(struct ct_rec_write));
    CHECK(r && ct_wire_get64(r + 16) == 0x401234 && ct_wire_get32(r + 32) == 4242);
    r = raw_record(buf, len, CT_REC_WRITE, 1);
    CHECK(r && ct_wire_get64(r + 16) == 0 && ct_wire_get32(r + 32) == 4243);
}

static void w_note(struct ct_writer *w)
{
    CHECK(ct_rec_note(w, CT_NOTE_INFO, "exec failed; tracing goes on") == 0);
    CHECK(ct_rec_note(w, CT_NOTE_WARNING, "") == 0);
    CHECK(ct_rec_note(w, CT_NOTE_INCOMPLETE, long_text) == 0);
}

static void c_note(const struct ct_trace *t, const uint8_t *buf, size_t len)
{
    (void)buf, (void)len;
    CHECK_U64(t->nnotes, 3);
    if (t->nnotes != 3)
        return;
    CHECK_U64(t->notes[0].level, CT_NOTE_INFO);
    CHECK_STR(t->notes[0].text.s, "exec failed; tracing goes on");
    CHECK_U64(t->notes[1].level, CT_NOTE_WARNING);
    CHECK_U64(t->notes[1].text.len, 0);
    CHECK_U64(t->notes[2].level, CT_NOTE_INCOMPLETE);
    CHECK(str_is(&t->notes[2].text, long_text, CT_REC_TEXT_MAX));
}

static void w_exec(struct ct_writer *w)
{
    CHECK(ct_rec_exec(w, "/bin/true") == 0);
}

static void c_exec(const struct ct_trace *t, const uint8_t *buf, size_t len)
{
    CHECK(t->have_exec);
    CHECK_STR(t->exec_path.s, "/bin/true");
    const uint8_t *r = raw_record(buf, len, CT_REC_EXEC, 0);
    CHECK(r && ct_wire_get32(r + 8) == 0);   /* level unused */
}

static void w_end(struct ct_writer *w)
{
    CHECK(ct_rec_end(w, CT_END__EXIT, -3, 1700000000123456789ull, 4231, 7) == 0);
}

static void c_end(const struct ct_trace *t, const uint8_t *buf, size_t len)
{
    (void)buf, (void)len;
    CHECK(t->have_end);
    CHECK_U64(t->end_how, CT_END__EXIT);
    CHECK(t->end_status == -3);
    CHECK_U64(t->end_time_ns, 1700000000123456789ull);
    CHECK_U64(t->end_faults, 4231);
    CHECK_U64(t->end_scans, 7);
}

static void w_untrack(struct ct_writer *w)
{
    CHECK(ct_rec_untrack(w, R0_START + 60 * PAGE, R0_START + R0_PAGES * PAGE, CT_UNTRACK_STOPPED) == 0);
}

static void c_untrack(const struct ct_trace *t, const uint8_t *buf, size_t len)
{
    (void)buf, (void)len;
    CHECK_U64(t->nuntracks, 1);
    if (t->nuntracks != 1)
        return;
    CHECK_U64(t->untracks[0].start, R0_START + 60 * PAGE);
    CHECK_U64(t->untracks[0].end, R0_START + R0_PAGES * PAGE);
    CHECK_U64(t->untracks[0].reason, CT_UNTRACK_STOPPED);
}

static void w_python(struct ct_writer *w)
{
    /* The version is not NUL-terminated where the shim builds it. */
    const char version[] = {'3', '.', '1', '1', '.', '7', 'X'};
    CHECK(ct_rec_python(w, 0x30b07f0, 0x7f3000000000, 1, CT_PY_SHARED | CT_PY_GC_FROZEN, version, 6,
                        "/usr/lib/libpython3.11.so.1.0") == 0);
}

static void c_python(const struct ct_trace *t, const uint8_t *buf, size_t len)
{
    (void)buf, (void)len;
    CHECK(t->have_python);
    CHECK_U64(t->python.hexversion, 0x30b07f0);
    CHECK_U64(t->python.runtime, 0x7f3000000000);
    CHECK_U64(t->python.layout_known, 1);
    CHECK_U64(t->python.flags, CT_PY_SHARED | CT_PY_GC_FROZEN);
    CHECK_STR(t->python.version.s, "3.11.7");
    CHECK_STR(t->python.path.s, "/usr/lib/libpython3.11.so.1.0");
}

static void layout_field(const void *v, size_t i, uint32_t *id, uint64_t *value)
{
    ct_pyver_field(v, i, id, value);
}

static void w_pylayout(struct ct_writer *w)
{
    const struct ct_pyver *v = ct_pyver_for(0x30b07f0);
    CHECK(ct_rec_pylayout(w, (uint32_t)ct_pyver_nfields(), layout_field, v, "3.11-rt") == 0);
}

/* Every field the shim wrote reads back as the table has it. */
static void c_pylayout(const struct ct_trace *t, const uint8_t *buf, size_t len)
{
    (void)buf, (void)len;
    const struct ct_pyver *v = ct_pyver_for(0x30b07f0);
    CHECK(t->pylayout != NULL);
    if (!t->pylayout)
        return;
    CHECK_STR(t->pylayout->name, "3.11-rt");
    CHECK(!memcmp(&t->pylayout->L, &v->L, sizeof v->L));
    CHECK(t->pylayout->major == v->major && t->pylayout->minor == v->minor);
    CHECK(t->pylayout->frame_chain == v->frame_chain && t->pylayout->linetable == v->linetable &&
          t->pylayout->dict_keys == v->dict_keys && t->pylayout->source == v->source);
}

/* Two records: the first one's count at the fork, the last one's now. */
static void w_pygc(struct ct_writer *w)
{
    CHECK(ct_rec_pygc(w, 4, 5) == 0);
    CHECK(ct_rec_pygc(w, 4, 0x100000007ull) == 0);
}

static void c_pygc(const struct ct_trace *t, const uint8_t *buf, size_t len)
{
    (void)buf, (void)len;
    CHECK(t->have_pygc);
    CHECK_U64(t->pygc_at_fork, 4);
    CHECK_U64(t->pygc_now, 0x100000007ull);
}

static void w_pytype(struct ct_writer *w)
{
    CHECK(ct_rec_pytype(w, evidence.type, 1, 0x1234567890ull, 48, 0, "dict", 4) == 0);
    CHECK(ct_rec_pytype(w, 0x7f2000000200, 2, 0, -1, 8, "", 0) == 0);
}

static void c_pytype(const struct ct_trace *t, const uint8_t *buf, size_t len)
{
    (void)buf, (void)len;
    CHECK_U64(t->npytypes, 2);
    if (t->npytypes != 2)
        return;
    const struct ct_pytype *a = &t->pytypes[0], *b = &t->pytypes[1];
    CHECK_U64(a->addr, evidence.type);
    CHECK_U64(a->index, 1);
    CHECK_U64(a->flags, 0x1234567890ull);
    CHECK(a->basicsize == 48 && a->itemsize == 0);
    CHECK_STR(a->name.s, "dict");
    CHECK_U64(b->addr, 0x7f2000000200);
    CHECK_U64(b->index, 2);
    CHECK_U64(b->flags, 0);
    CHECK(b->basicsize == -1 && b->itemsize == 8);
    CHECK_U64(b->name.len, 0);
}

static void w_module(struct ct_writer *w)
{
    CHECK(ct_rec_module(w, 0x7f4000000000, 0x7f4000001000, 0x7f4000009000, build_id, 20,
                        "/usr/lib/x86_64-linux-gnu/libc.so.6") == 0);
    CHECK(ct_rec_module(w, 0, 0x400000, 0x401000, NULL, 0, "/tmp/a.out") == 0);
}

static void c_module(const struct ct_trace *t, const uint8_t *buf, size_t len)
{
    (void)buf, (void)len;
    CHECK_U64(t->nmodules, 2);
    if (t->nmodules != 2)
        return;
    const struct ct_module *a = &t->modules[0], *b = &t->modules[1];
    CHECK_U64(a->base, 0x7f4000000000);
    CHECK_U64(a->start, 0x7f4000001000);
    CHECK_U64(a->end, 0x7f4000009000);
    CHECK_U64(a->build_id_len, 20);
    CHECK(memcmp(a->build_id, build_id, 20) == 0);
    CHECK_STR(a->path.s, "/usr/lib/x86_64-linux-gnu/libc.so.6");
    static const uint8_t zero[20];
    CHECK_U64(b->base, 0);
    CHECK_U64(b->start, 0x400000);
    CHECK_U64(b->end, 0x401000);
    CHECK_U64(b->build_id_len, 0);
    CHECK(memcmp(b->build_id, zero, 20) == 0);
    CHECK_STR(b->path.s, "/tmp/a.out");
}

/* Three pages: base, base + 1 page, base + 300 pages (a two-byte delta). */
static const uint64_t sums[3][4] = {
    {0, 1, CT_WHERE_POOL_BLOCK | (48 / 16) << 2, 4},
    {1, 0, CT_WHERE_OUTSIDE, 0},
    {299, 2, CT_WHERE_POOL_HEADER | (512 / 16) << 2, 1},
};

static void w_page_summary(struct ct_writer *w)
{
    uint8_t b[64];
    size_t n = runs(b, &sums[0][0], 12);
    CHECK(ct_rec_page_summary(w, SUM_BASE, 3, b, n) == 0);
}

static void c_page_summary(const struct ct_trace *t, const uint8_t *buf, size_t len)
{
    (void)buf, (void)len;
    CHECK_U64(t->nsummaries, 3);
    if (t->nsummaries != 3)
        return;
    uint64_t page = pg(SUM_BASE);
    for (int i = 0; i < 3; i++) {
        page += sums[i][0];
        CHECK_U64(t->summaries[i].pg, page);
        CHECK_U64(t->summaries[i].type_index, sums[i][1]);
        CHECK_U64(t->summaries[i].code, sums[i][2]);
        CHECK_U64(t->summaries[i].objects, sums[i][3]);
    }
}

static void w_stack(struct ct_writer *w)
{
    CHECK(ct_rec_stack(w, 1, CT_STACK_NO_PYTHON | CT_STACK_NO_NATIVE, NULL, 0, NULL, 0) == 0);
    CHECK(ct_rec_stack(w, 2, CT_STACK_NATIVE_TRUNCATED, stack_ips, 3, stack_frames, 2) == 0);
}

static void c_stack(const struct ct_trace *t, const uint8_t *buf, size_t len)
{
    (void)buf, (void)len;
    CHECK_U64(t->nstacks, 2);
    if (t->nstacks != 2)
        return;
    const struct ct_stack *a = &t->stacks[0], *b = &t->stacks[1];
    CHECK_U64(a->id, 1);
    CHECK_U64(a->flags, CT_STACK_NO_PYTHON | CT_STACK_NO_NATIVE);
    CHECK(a->native_depth == 0 && a->py_depth == 0);
    CHECK_U64(b->id, 2);
    CHECK_U64(b->flags, CT_STACK_NATIVE_TRUNCATED);
    CHECK_U64(b->native_depth, 3);
    CHECK_U64(b->py_depth, 2);
    if (b->native_depth != 3 || b->py_depth != 2)
        return;
    for (int i = 0; i < 3; i++)
        CHECK_U64(t->stack_ips[b->ips + i], stack_ips[i]);
    for (int i = 0; i < 2; i++) {
        const struct ct_pyframe_r *f = &t->stack_py[b->py + i];
        CHECK_U64(f->code, stack_frames[i].code);
        CHECK(f->lasti == stack_frames[i].lasti);
        CHECK_U64(f->flags, stack_frames[i].flags);
    }
    /* the first frame's code object has a PYCODE record, the second not */
    CHECK(t->stack_py[b->py].pycode >= 0 && t->stack_py[b->py + 1].pycode == -1);
}

static void w_pycode(struct ct_writer *w)
{
    CHECK(ct_rec_pycode(w, stack_frames[0].code, 12, "Pool.worker", 11, "/usr/lib/python3.11/pool.py", 27,
                        (uintptr_t)linetable, sizeof linetable, read_here) == 0);
    /* A line table that cannot be read: the record says "no lines". */
    CHECK(ct_rec_pycode(w, 0x7f1000003000, 1, "<module>", 8, "", 0, 1, 40, read_here) == 0);
}

static void c_pycode(const struct ct_trace *t, const uint8_t *buf, size_t len)
{
    CHECK_U64(t->npycodes, 2);
    if (t->npycodes != 2)
        return;
    const struct ct_pycode *a = &t->pycodes[0], *b = &t->pycodes[1];
    CHECK_U64(a->addr, stack_frames[0].code);
    CHECK(a->firstlineno == 12);
    CHECK_STR(a->qualname.s, "Pool.worker");
    CHECK_STR(a->filename.s, "/usr/lib/python3.11/pool.py");
    CHECK_U64(a->linetable_len, sizeof linetable);
    CHECK(a->linetable && memcmp(a->linetable, linetable, sizeof linetable) == 0);
    CHECK_U64(b->addr, 0x7f1000003000);
    CHECK(b->firstlineno == 1);
    CHECK_STR(b->qualname.s, "<module>");
    CHECK_U64(b->filename.len, 0);
    CHECK_U64(b->linetable_len, 0);
    /* the failed read keeps its room, as the shim has always written it */
    const uint8_t *r = raw_record(buf, len, CT_REC_PYCODE, 1);
    CHECK(r && ct_wire_get32(r + 4) == ct_wire_rec_size(sizeof(struct ct_rec_pycode) + 2 + 8 + 2 + 40));
}

static void w_page_data(struct ct_writer *w)
{
    CHECK(ct_rec_page_data(w, R0_START + 5 * PAGE, CT_PAGE_BEFORE_WRITE, page_bytes, PAGE) == 0);
}

static void c_page_data(const struct ct_trace *t, const uint8_t *buf, size_t len)
{
    CHECK_U64(t->captured_pages, 1);
    const uint8_t *r = raw_record(buf, len, CT_REC_PAGE_DATA, 0);
    CHECK(r && ct_wire_get32(r + 4) == sizeof(struct ct_rec_page_data) + PAGE);
    CHECK(r && ct_wire_get64(r + 8) == R0_START + 5 * PAGE);
    CHECK(r && ct_wire_get32(r + 16) == CT_PAGE_BEFORE_WRITE);
    CHECK(r && ct_wire_get32(r + 20) == PAGE);
    CHECK(r && memcmp(r + 24, page_bytes, PAGE) == 0);
}

struct rt_case {
    void (*write)(struct ct_writer *w);
    void (*check)(const struct ct_trace *t, const uint8_t *buf, size_t len);
};

/* Indexed by record type. A type with no entry fails the test. */
static const struct rt_case cases[CT_REC_TYPE_MAX] = {
    [CT_REC_PROCESS] = {w_process, c_process},
    [CT_REC_REGION] = {w_region, c_region},
    [CT_REC_PRESENT] = {w_present, c_present},
    [CT_REC_EARLY] = {w_early, c_early},
    [CT_REC_WRITTEN] = {w_written, c_written},
    [CT_REC_WRITE] = {w_write, c_write},
    [CT_REC_NOTE] = {w_note, c_note},
    [CT_REC_EXEC] = {w_exec, c_exec},
    [CT_REC_END] = {w_end, c_end},
    [CT_REC_UNTRACK] = {w_untrack, c_untrack},
    [CT_REC_PYTHON] = {w_python, c_python},
    [CT_REC_PYTYPE] = {w_pytype, c_pytype},
    [CT_REC_MODULE] = {w_module, c_module},
    [CT_REC_PAGE_SUMMARY] = {w_page_summary, c_page_summary},
    [CT_REC_STACK] = {w_stack, c_stack},
    [CT_REC_PYCODE] = {w_pycode, c_pycode},
    [CT_REC_PAGE_DATA] = {w_page_data, c_page_data},
    [CT_REC_PYLAYOUT] = {w_pylayout, c_pylayout},
    [CT_REC_PYGC] = {w_pygc, c_pygc},
};

static struct ct_header header(int32_t pid, int32_t ppid)
{
    struct ct_header h = {
        .version = CT_FORMAT_VERSION, .header_size = CT_HEADER_SIZE, .page_size = PAGE,
        .pid = pid, .ppid = ppid, .mode = CT_MODE_UFFD, .flags = CT_HDR_RAW_PAGES,
        .fork_time_ns = 1700000000000000000ull, .fork_nonce = 9,
    };
    memcpy(h.magic, CT_MAGIC, 8);
    return h;
}

static void check_header(const struct ct_trace *t, int32_t pid, int32_t ppid)
{
    CHECK_U64(t->version, CT_FORMAT_VERSION);
    CHECK_U64(t->page_size, PAGE);
    CHECK(t->pid == pid && t->ppid == ppid);
    CHECK_U64(t->mode, CT_MODE_UFFD);
    CHECK_U64(t->flags, CT_HDR_RAW_PAGES);
    CHECK_U64(t->fork_time_ns, 1700000000000000000ull);
    CHECK_U64(t->fork_nonce, 9);
}

/* Every type, in one trace, through the memory writer. */
static void test_all_types(void)
{
    for (uint32_t type = 1; type < CT_REC_TYPE_MAX; type++)
        if (!cases[type].write || !cases[type].check)
            fprintf(stderr, "record type %u (%s) has no round-trip case\n", type, ct_rec_type_name(type));
    uint8_t *buf = malloc(BUF_CAP);
    struct ct_writer w;
    struct ct_header h = header(4242, 4241);
    ct_writer_init_memory(&w, buf, BUF_CAP, &h);
    for (uint32_t type = 1; type < CT_REC_TYPE_MAX; type++) {
        CHECK(cases[type].write != NULL);
        if (cases[type].write)
            cases[type].write(&w);
    }
    size_t len = ct_writer_used(&w);
    CHECK(len % 8 == 0);
    /* every type is in the stream, and the stream is whole */
    uint32_t seen[CT_REC_TYPE_MAX] = {0};
    size_t off = CT_HEADER_SIZE;
    while (off + 8 <= len) {
        uint32_t type = ct_wire_get32(buf + off), size = ct_wire_get32(buf + off + 4);
        CHECK(type > 0 && type < CT_REC_TYPE_MAX && size >= 8 && size % 8 == 0);
        if (!(type > 0 && type < CT_REC_TYPE_MAX) || size < 8)
            break;
        seen[type]++;
        off += size;
    }
    CHECK_U64(off, len);
    for (uint32_t type = 1; type < CT_REC_TYPE_MAX; type++)
        if (!seen[type])
            fprintf(stderr, "record type %u (%s) was not written\n", type, ct_rec_type_name(type));
    for (uint32_t type = 1; type < CT_REC_TYPE_MAX; type++)
        CHECK(seen[type] > 0);

    /* The reader takes it as a file ending in the writer's zero tail. */
    struct ct_trace t;
    struct ct_err err;
    int rc = ct_trace_parse("roundtrip", buf, len + 8, &t, &err);
    if (rc)
        fprintf(stderr, "parse: offset %llu: %s\n", (unsigned long long)err.offset, err.msg);
    CHECK(rc == 0);
    if (rc == 0) {
        check_header(&t, 4242, 4241);
        CHECK(!t.torn && t.ended_by_zero);
        CHECK_U64(t.unknown_records, 0);
        CHECK_U64(t.stacks_missing, 0);
        for (uint32_t type = 1; type < CT_REC_TYPE_MAX; type++)
            if (cases[type].check)
                cases[type].check(&t, buf, len);
        ct_trace_free(&t);
    }
    free(buf);
}

/* A full memory writer refuses ordinary records but keeps room for the end. */
static void test_full(void)
{
    size_t cap = CT_HEADER_SIZE + 4096 + 256;
    uint8_t *buf = malloc(cap);
    struct ct_writer w;
    struct ct_header h = header(7, 6);
    ct_writer_init_memory(&w, buf, cap, &h);
    int refused = 0, n = 0;
    while (!refused && n < 1000) {
        refused = ct_rec_untrack(&w, 0, PAGE, CT_UNTRACK_SPECIAL) != 0;
        n++;
    }
    CHECK(refused);
    CHECK_U64(n - 1, 256 / sizeof(struct ct_rec_untrack));
    CHECK(ct_rec_note(&w, CT_NOTE_INCOMPLETE, "tracing stopped: the trace file cannot grow") == 0);
    CHECK(ct_rec_end(&w, CT_END_EXIT, 0, 1, 0, 0) == 0);
    size_t len = ct_writer_used(&w);
    struct ct_trace t;
    struct ct_err err;
    CHECK(ct_trace_parse("full", buf, len, &t, &err) == 0);
    CHECK_U64(t.nuntracks, (size_t)(n - 1));
    CHECK(t.have_end && t.nnotes == 1);
    ct_trace_free(&t);
    /* A buffer too small for anything: nothing is written, nothing breaks. */
    struct ct_writer tiny;
    ct_writer_init_memory(&tiny, buf, 64, &h);
    CHECK(ct_rec_end(&tiny, CT_END_EXIT, 0, 1, 0, 0) != 0);
    free(buf);
}

/* The shim's file writer: names, a reused pid, the reap slot. */
/* A record written from a signal handler that interrupted its own thread
 * while it grew the trace (the program's handler, then our fault handler):
 * the writer refuses the record rather than wait for itself forever. */
static void test_grow_reentered(void)
{
    size_t cap = CT_HEADER_SIZE + 64;
    uint8_t *buf = malloc(cap);
    struct ct_writer w;
    struct ct_header h = header(7, 6);
    ct_writer_init_memory(&w, buf, cap, &h);
    atomic_store(&w.grow_lock, ct_gettid());   /* this thread, "inside" grow */
    alarm(10);                                  /* a hang fails the test, by SIGALRM */
    CHECK(ct_rec_note(&w, CT_NOTE_INFO, "a note too long for the 64 bytes left in this buffer, so it must grow") != 0);
    alarm(0);
    CHECK(!atomic_load(&w.full));               /* refused, not grown: the outer call decides */
    atomic_store(&w.grow_lock, 0);
    CHECK(ct_rec_note(&w, CT_NOTE_INFO, "a note too long for the 64 bytes left in this buffer, so it must grow") != 0);
    CHECK(atomic_load(&w.full));
    free(buf);
}

static void test_files(void)
{
    char dir[] = "/tmp/ct-roundtrip-XXXXXX";
    if (!mkdtemp(dir)) {
        CHECK(!"mkdtemp");
        return;
    }
    char name[PATH_MAX], name1[PATH_MAX];
    CHECK(ct_trace_name(name, sizeof name, dir, 4242, 0) == 0);
    CHECK(ct_trace_name(name1, sizeof name1, dir, 4242, 1) == 0);
    char want[PATH_MAX];
    snprintf(want, sizeof want, "%s/4242.cowtrace", dir);
    CHECK_STR(name, want);
    snprintf(want, sizeof want, "%s/4242.1.cowtrace", dir);
    CHECK_STR(name1, want);
    CHECK(ct_trace_name(name, 20, dir, 4242, 0) != 0);   /* does not fit */

    /* Two processes with one pid (a reused pid): .cowtrace, then .1.cowtrace. */
    struct ct_header h0 = header(4242, 100), h1 = header(4242, 101);
    struct ct_writer w0 = {.fd = -1}, w1 = {.fd = -1};
    CHECK(ct_writer_create(&w0, dir, &h0) == 0);
    CHECK(ct_writer_create(&w1, dir, &h1) == 0);
    CHECK(ct_trace_name(name, sizeof name, dir, 4242, 0) == 0);
    CHECK_STR(w0.path, name);
    CHECK_STR(w1.path, name1);
    CHECK(ct_rec_process(&w0, CT_MODE_UFFD, 0, "auto", "/bin/x", "x") == 0);
    CHECK(ct_rec_end(&w0, CT_END_EXIT, 0, 5, 0, 0) == 0);
    CHECK(ct_rec_process(&w1, CT_MODE_UFFD, 0, "auto", "/bin/y", "y") == 0);
    ct_writer_finish(&w0);
    ct_writer_finish(&w1);
    struct stat sb;
    CHECK(stat(w0.path, &sb) == 0 && (size_t)sb.st_size == ct_writer_used(&w0));
    CHECK((sb.st_mode & 0777) == 0600);
    ct_writer_abandon(&w0);
    ct_writer_abandon(&w1);

    /* The parent 101 reaps its child 4242: the second file gets the status,
     * the first (another parent's child) does not. */
    ct_trace_mark_reaped(dir, 4242, 101, 9);
    ct_trace_mark_reaped(dir, 4242, 101, 15);   /* once only */
    struct ct_trace t;
    struct ct_err err;
    CHECK(ct_trace_load(name, &t, &err) == 0);
    CHECK(!t.reap_valid && t.have_process && t.have_end);
    CHECK_STR(t.exe.s, "/bin/x");
    check_header(&t, 4242, 100);
    ct_trace_free(&t);
    CHECK(ct_trace_load(name1, &t, &err) == 0);
    CHECK(t.reap_valid && t.reap_status == 9);
    CHECK_STR(t.exe.s, "/bin/y");
    ct_trace_free(&t);
    ct_trace_mark_reaped(dir, 999, 101, 0);      /* no such trace: nothing happens */

    unlink(name);
    unlink(name1);
    rmdir(dir);
}

int main(void)
{
    fill(long_name, sizeof long_name, 'a');
    fill(long_text, sizeof long_text, 'A');
    fill(max_str, sizeof max_str, 'a');
    for (size_t i = 0; i < sizeof linetable; i++)
        linetable[i] = (uint8_t)(i * 7);
    for (size_t i = 0; i < sizeof page_bytes; i++)
        page_bytes[i] = (uint8_t)(i ^ 0x5a);
    test_all_types();
    test_full();
    test_grow_reentered();
    test_files();
    return check_done("roundtrip");
}
