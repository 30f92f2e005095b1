/*
 * mktrace.c - see mktrace.h. Growth is geometric so a benchmark trace of a
 * million write events is built in well under a second.
 *
 * Valid records that the shim could write come from the shim's own
 * encoders (shim/trace_records.c), so these traces hold the bytes a real
 * run would; byte-level encodings come from common/ct_wire.h. Only what
 * the shim never writes is built here by hand: the older WRITE record
 * versions, values past the shim's limits, and arbitrary records for the
 * corruption tests.
 */
#include "mktrace.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ct_wire.h"
#include "trace_records.h"
#include "util.h"

static void reserve(struct mkt *m, size_t more)
{
    if (m->len + more <= m->cap)
        return;
    size_t cap = m->cap ? m->cap : 4096;
    while (cap < m->len + more)
        cap *= 2;
    m->buf = xrealloc(m->buf, cap);
    m->cap = cap;
}

void mkt_bytes(struct mkt *m, const void *p, size_t n)
{
    reserve(m, n);
    if (p)
        memcpy(m->buf + m->len, p, n);
    else
        memset(m->buf + m->len, 0, n);
    m->len += n;
}

void mkt_put16(struct mkt *m, size_t off, uint16_t v)
{
    ct_wire_put16(m->buf + off, v);
}

void mkt_put32(struct mkt *m, size_t off, uint32_t v)
{
    ct_wire_put32(m->buf + off, v);
}

void mkt_put64(struct mkt *m, size_t off, uint64_t v)
{
    ct_wire_put64(m->buf + off, v);
}

static void add16(struct mkt *m, uint16_t v) { mkt_bytes(m, NULL, 2); mkt_put16(m, m->len - 2, v); }
static void add32(struct mkt *m, uint32_t v) { mkt_bytes(m, NULL, 4); mkt_put32(m, m->len - 4, v); }
static void add64(struct mkt *m, uint64_t v) { mkt_bytes(m, NULL, 8); mkt_put64(m, m->len - 8, v); }

void mkt_init(struct mkt *m, int32_t pid, int32_t ppid, uint32_t mode, uint32_t page_size)
{
    memset(m, 0, sizeof *m);
    mkt_bytes(m, CT_MAGIC, 8);
    add16(m, CT_FORMAT_VERSION);
    add16(m, CT_HEADER_SIZE);
    add32(m, page_size);
    add32(m, (uint32_t)pid);
    add32(m, (uint32_t)ppid);
    add32(m, mode);
    add32(m, 0);                      /* flags */
    add64(m, 1700000000000000000ull); /* fork_time_ns */
    add64(m, 1);                      /* fork_nonce */
    add32(m, 0);                      /* reap_magic */
    add32(m, 0);                      /* reap_status */
    mkt_bytes(m, NULL, CT_HEADER_SIZE - m->len);
}

void mkt_free(struct mkt *m)
{
    free(m->buf);
    memset(m, 0, sizeof *m);
}

void mkt_set_reap(struct mkt *m, int32_t wait_status)
{
    mkt_put32(m, CT_HEADER_REAP_OFFSET, CT_REAP_MAGIC);
    mkt_put32(m, CT_HEADER_REAP_OFFSET + 4, (uint32_t)wait_status);
}

/* ---- records the shim writes: its own encoders ------------------------------ */

/* A memory writer just big enough for one record of at most `size` bytes
 * (plus the room a writer keeps for final records); shim_end appends what
 * the encoder wrote. The scratch buffer lives as long as the program. */
static struct {
    uint8_t *buf;
    size_t cap;
    struct ct_writer w;
} scratch;

static struct ct_writer *shim_begin(size_t size)
{
    static const struct ct_header no_header;   /* the scratch header is not appended */
    size_t cap = CT_HEADER_SIZE + ct_wire_rec_size(size) + CT_WRITER_FINAL_RESERVE;
    if (cap > scratch.cap) {
        scratch.buf = xrealloc(scratch.buf, cap);
        scratch.cap = cap;
    }
    ct_writer_init_memory(&scratch.w, scratch.buf, cap, &no_header);
    return &scratch.w;
}

static void shim_end(struct mkt *m, int rc)
{
    if (rc) {
        fprintf(stderr, "mktrace: a record did not fit the room computed for it\n");
        abort();
    }
    mkt_bytes(m, scratch.buf + CT_HEADER_SIZE, ct_writer_used(&scratch.w) - CT_HEADER_SIZE);
}

/* The traced process's memory, for PYCODE's line table: here, ours. */
static int read_local(uintptr_t addr, void *out, size_t n)
{
    memcpy(out, (const void *)addr, n);
    return 0;
}

/* Record framing: begin writes a placeholder frame, end pads and sets size. */
static size_t begin(struct mkt *m, uint32_t type)
{
    size_t at = m->len;
    add32(m, type);
    add32(m, 0);
    return at;
}

static void end(struct mkt *m, size_t at)
{
    size_t pad = (8 - (m->len - at) % 8) % 8;
    mkt_bytes(m, NULL, pad);
    mkt_put32(m, at + 4, (uint32_t)(m->len - at));
}

/* A string as a record holds it; the length word keeps the low 16 bits of
 * an over-long len, as a broken writer would. */
static void addstr(struct mkt *m, const void *s, size_t len)
{
    add16(m, (uint16_t)len);
    mkt_bytes(m, s, len);
}

void mkt_process(struct mkt *m, uint32_t mode, const char *reason, const char *exe, const char *comm)
{
    struct ct_writer *w = shim_begin(sizeof(struct ct_rec_process) + 6 + strlen(reason) + strlen(exe) + strlen(comm));
    shim_end(m, ct_rec_process(w, mode, 0, reason, exe, comm));
}

void mkt_region(struct mkt *m, uint32_t id, uint32_t kind, uint64_t start, uint64_t endaddr,
                uint32_t tracking, const char *name)
{
    struct ct_region_desc d = {
        .id = id, .kind = kind, .start = start, .end = endaddr,
        .prot = 3,                    /* PROT_READ | PROT_WRITE */
        .tracking = tracking,
        .untracked_reason = tracking == CT_TRACK_NONE ? CT_UNTRACK_STACK : 0,
        .name = name,
    };
    size_t nlen = strlen(name);
    if (nlen > CT_REC_REGION_NAME_MAX) {   /* longer than the shim writes: by hand */
        size_t at = begin(m, CT_REC_REGION);
        add32(m, d.id);
        add32(m, d.kind);
        add64(m, d.start);
        add64(m, d.end);
        add32(m, d.prot);
        add32(m, d.tracking);
        add64(m, 0);
        add64(m, 0);
        add32(m, d.untracked_reason);
        add32(m, 0);
        addstr(m, name, nlen);
        end(m, at);
        return;
    }
    struct ct_writer *w = shim_begin(sizeof(struct ct_rec_region) + 2 + nlen);
    shim_end(m, ct_rec_region(w, &d));
}

void mkt_pages_raw(struct mkt *m, uint32_t type, uint32_t region, uint64_t first_page,
                   const void *bytes, uint32_t nbytes)
{
    struct ct_writer *w = shim_begin(sizeof(struct ct_rec_pages) + nbytes);
    shim_end(m, ct_rec_pages(w, type, region, first_page, bytes, nbytes));
}

void mkt_pages(struct mkt *m, uint32_t type, uint32_t region, uint64_t first_page,
               const uint64_t *nums, size_t n)
{
    uint8_t *b = xmalloc(n * CT_WIRE_ULEB_MAX_BYTES + 1);
    size_t len = 0;
    for (size_t i = 0; i < n; i++)
        len += ct_wire_put_uleb(b + len, nums[i]);
    mkt_pages_raw(m, type, region, first_page, b, (uint32_t)len);
    free(b);
}

/* The first WRITE version (CT_REC_WRITE_V1_SIZE): the shim no longer writes it. */
void mkt_write(struct mkt *m, uint64_t addr, uint64_t ip, uint32_t tid, uint32_t flags)
{
    size_t at = begin(m, CT_REC_WRITE);
    add64(m, addr);
    add64(m, ip);
    add64(m, 0);
    add32(m, tid);
    add32(m, flags);
    end(m, at);
}

/* By hand: without a stack this is the 72-byte version the shim no longer
 * writes, and benchmarks write a million of them. */
void mkt_write_ev(struct mkt *m, const struct mkt_ev *e)
{
    size_t at = begin(m, CT_REC_WRITE);
    add64(m, e->addr);
    add64(m, e->ip);
    add64(m, e->time_ns);
    add32(m, e->tid);
    add32(m, e->flags);
    add64(m, e->obj);
    add64(m, e->type);
    add64(m, e->block);
    add32(m, e->block_size);
    mkt_bytes(m, &e->where, 1);
    mkt_bytes(m, &e->obj_how, 1);
    add16(m, 0);
    if (e->stack) {
        add32(m, e->stack);
        add32(m, 0);
    }
    end(m, at);
}

void mkt_python(struct mkt *m, uint64_t hexversion, uint32_t layout_known, uint32_t flags,
                const char *version, const char *path)
{
    struct ct_writer *w = shim_begin(sizeof(struct ct_rec_python) + 4 + strlen(version) + strlen(path));
    /* _PyRuntime's address: not used by the analyzer */
    shim_end(m, ct_rec_python(w, hexversion, 0x7f0000900000ull, layout_known, flags, version, strlen(version),
                              path));
}

void mkt_pytype(struct mkt *m, uint64_t addr, uint32_t index, uint64_t flags, int64_t basicsize,
                int64_t itemsize, const char *name)
{
    struct ct_writer *w = shim_begin(sizeof(struct ct_rec_pytype) + 2 + strlen(name));
    shim_end(m, ct_rec_pytype(w, addr, index, flags, basicsize, itemsize, name, strlen(name)));
}

void mkt_module(struct mkt *m, uint64_t base, uint64_t start, uint64_t endaddr, const char *path)
{
    static const uint8_t id[4] = {0x12, 0x34, 0x56, 0x78};
    mkt_module_id(m, base, start, endaddr, id, sizeof id, path);
}

void mkt_module_id(struct mkt *m, uint64_t base, uint64_t start, uint64_t endaddr, const uint8_t *id,
                   uint32_t idlen, const char *path)
{
    if (idlen <= 20) {
        struct ct_writer *w = shim_begin(sizeof(struct ct_rec_module) + 2 + strlen(path));
        shim_end(m, ct_rec_module(w, base, start, endaddr, id, idlen, path));
        return;
    }
    /* A build id length past 20: broken, by hand. */
    size_t at = begin(m, CT_REC_MODULE);
    add64(m, base);
    add64(m, start);
    add64(m, endaddr);
    mkt_bytes(m, id, 20);
    add32(m, idlen);
    addstr(m, path, strlen(path));
    end(m, at);
}

void mkt_stack(struct mkt *m, uint32_t id, uint32_t flags, const uint64_t *ips, uint16_t nips,
               const struct ct_pyframe *py, uint16_t npy)
{
    struct ct_writer *w = shim_begin(sizeof(struct ct_rec_stack) + (size_t)nips * 8 + (size_t)npy * sizeof *py);
    shim_end(m, ct_rec_stack(w, id, flags, ips, nips, py, npy));
}

void mkt_pycode(struct mkt *m, uint64_t addr, int32_t firstlineno, const char *qualname, const char *filename,
                const void *linetable, uint32_t ltlen)
{
    size_t qlen = strlen(qualname), flen = strlen(filename);
    struct ct_writer *w = shim_begin(sizeof(struct ct_rec_pycode) + 4 + qlen + flen + ltlen);
    shim_end(m, ct_rec_pycode(w, addr, firstlineno, qualname, qlen, filename, flen, (uintptr_t)linetable, ltlen,
                              read_local));
}

void mkt_page_summary(struct mkt *m, uint64_t base, const uint64_t *nums, uint32_t count)
{
    uint8_t *b = xmalloc((size_t)count * 4 * CT_WIRE_ULEB_MAX_BYTES + 1);
    size_t len = 0;
    for (size_t i = 0; i < (size_t)count * 4; i++)
        len += ct_wire_put_uleb(b + len, nums[i]);
    struct ct_writer *w = shim_begin(sizeof(struct ct_rec_page_summary) + len);
    shim_end(m, ct_rec_page_summary(w, base, count, b, len));
    free(b);
}

void mkt_note_bytes(struct mkt *m, uint32_t type, uint32_t level, const void *text, size_t len)
{
    size_t at = begin(m, type);
    add32(m, level);
    add32(m, 0);
    addstr(m, text, len);
    end(m, at);
}

void mkt_note(struct mkt *m, uint32_t level, const char *text)
{
    size_t len = strlen(text);
    if (len > CT_REC_TEXT_MAX) {   /* longer than the shim writes: by hand */
        mkt_note_bytes(m, CT_REC_NOTE, level, text, len);
        return;
    }
    struct ct_writer *w = shim_begin(sizeof(struct ct_rec_note) + 2 + len);
    shim_end(m, ct_rec_note(w, level, text));
}

void mkt_exec(struct mkt *m, const char *path)
{
    size_t len = strlen(path);
    if (len > CT_REC_TEXT_MAX) {
        mkt_note_bytes(m, CT_REC_EXEC, 0, path, len);
        return;
    }
    struct ct_writer *w = shim_begin(sizeof(struct ct_rec_note) + 2 + len);
    shim_end(m, ct_rec_exec(w, path));
}

void mkt_end(struct mkt *m, uint32_t how, int32_t status)
{
    struct ct_writer *w = shim_begin(sizeof(struct ct_rec_end));
    shim_end(m, ct_rec_end(w, how, status, 1700000001000000000ull, 0, 0));
}

void mkt_untrack(struct mkt *m, uint64_t start, uint64_t endaddr, uint32_t reason)
{
    struct ct_writer *w = shim_begin(sizeof(struct ct_rec_untrack));
    shim_end(m, ct_rec_untrack(w, start, endaddr, reason));
}

void mkt_record(struct mkt *m, uint32_t type, uint32_t size, const void *payload, size_t plen)
{
    add32(m, type);
    add32(m, size);
    mkt_bytes(m, payload, plen);
    if (size > 8 + plen)
        mkt_bytes(m, NULL, size - 8 - plen);
}

int mkt_save(const struct mkt *m, const char *path)
{
    FILE *f = fopen(path, "wb");
    if (!f)
        return -1;
    size_t w = fwrite(m->buf, 1, m->len, f);
    if (fclose(f) != 0 || w != m->len)
        return -1;
    return 0;
}

void mkt_runs_init(struct mkt_runs *r, uint64_t first_page)
{
    memset(r, 0, sizeof *r);
    r->first = r->pos = first_page;
}

static void runs_emit(struct mkt_runs *r)
{
    if (!r->started)
        return;
    if (r->n + 2 * CT_WIRE_ULEB_MAX_BYTES > r->cap) {
        r->cap = r->cap ? r->cap * 2 : 256;
        r->b = xrealloc(r->b, r->cap);
    }
    r->n += ct_wire_put_uleb(r->b + r->n, r->run_start - r->pos);
    r->n += ct_wire_put_uleb(r->b + r->n, r->run_len);
    r->pos = r->run_start + r->run_len;
    r->started = 0;
}

void mkt_runs_add(struct mkt_runs *r, uint64_t page, uint64_t count)
{
    if (r->started && page == r->run_start + r->run_len) {
        r->run_len += count;
        return;
    }
    runs_emit(r);
    r->run_start = page;
    r->run_len = count;
    r->started = 1;
}

size_t mkt_runs_bytes(const struct mkt_runs *r)
{
    return r->n + (r->started ? 2 * CT_WIRE_ULEB_MAX_BYTES : 0);
}

void mkt_runs_flush(struct mkt *m, struct mkt_runs *r, uint32_t type, uint32_t region, uint64_t next_first)
{
    runs_emit(r);
    if (r->n)
        mkt_pages_raw(m, type, region, r->first, r->b, (uint32_t)r->n);
    r->n = 0;
    r->first = r->pos = next_first;
}

void mkt_runs_free(struct mkt_runs *r)
{
    free(r->b);
    memset(r, 0, sizeof *r);
}
