/*
 * mktrace.c - see mktrace.h. Growth is geometric so a benchmark trace of a
 * million write events is built in well under a second.
 */
#include "mktrace.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "leb128.h"
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
    m->buf[off] = (uint8_t)v;
    m->buf[off + 1] = (uint8_t)(v >> 8);
}

void mkt_put32(struct mkt *m, size_t off, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        m->buf[off + i] = (uint8_t)(v >> (8 * i));
}

void mkt_put64(struct mkt *m, size_t off, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        m->buf[off + i] = (uint8_t)(v >> (8 * i));
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
    mkt_put32(m, 48, CT_REAP_MAGIC);
    mkt_put32(m, 52, (uint32_t)wait_status);
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

static void addstr(struct mkt *m, const void *s, size_t len)
{
    add16(m, (uint16_t)len);
    mkt_bytes(m, s, len);
}

void mkt_process(struct mkt *m, uint32_t mode, const char *reason, const char *exe, const char *comm)
{
    size_t at = begin(m, CT_REC_PROCESS);
    add32(m, mode);
    add32(m, 0);
    add64(m, 0);
    addstr(m, reason, strlen(reason));
    addstr(m, exe, strlen(exe));
    addstr(m, comm, strlen(comm));
    end(m, at);
}

void mkt_region(struct mkt *m, uint32_t id, uint32_t kind, uint64_t start, uint64_t endaddr,
                uint32_t tracking, const char *name)
{
    size_t at = begin(m, CT_REC_REGION);
    add32(m, id);
    add32(m, kind);
    add64(m, start);
    add64(m, endaddr);
    add32(m, 3);                      /* PROT_READ | PROT_WRITE */
    add32(m, tracking);
    add64(m, 0);
    add64(m, 0);
    add32(m, tracking == CT_TRACK_NONE ? CT_UNTRACK_STACK : 0);
    add32(m, 0);
    addstr(m, name, strlen(name));
    end(m, at);
}

void mkt_pages_raw(struct mkt *m, uint32_t type, uint32_t region, uint64_t first_page,
                   const void *bytes, uint32_t nbytes)
{
    size_t at = begin(m, type);
    add32(m, region);
    add32(m, nbytes);
    add64(m, first_page);
    mkt_bytes(m, bytes, nbytes);
    end(m, at);
}

void mkt_pages(struct mkt *m, uint32_t type, uint32_t region, uint64_t first_page,
               const uint64_t *nums, size_t n)
{
    uint8_t *b = xmalloc(n * LEB_MAX_BYTES + 1);
    size_t len = 0;
    for (size_t i = 0; i < n; i++)
        len += leb128_write(nums[i], b + len);
    mkt_pages_raw(m, type, region, first_page, b, (uint32_t)len);
    free(b);
}

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
    size_t at = begin(m, CT_REC_PYTHON);
    add64(m, hexversion);
    add64(m, 0x7f0000900000ull);        /* _PyRuntime: not used by the analyzer */
    add32(m, layout_known);
    add32(m, flags);
    addstr(m, version, strlen(version));
    addstr(m, path, strlen(path));
    end(m, at);
}

void mkt_pytype(struct mkt *m, uint64_t addr, uint32_t index, uint64_t flags, int64_t basicsize,
                int64_t itemsize, const char *name)
{
    size_t at = begin(m, CT_REC_PYTYPE);
    add64(m, addr);
    add32(m, index);
    add32(m, 0);
    add64(m, flags);
    add64(m, (uint64_t)basicsize);
    add64(m, (uint64_t)itemsize);
    addstr(m, name, strlen(name));
    end(m, at);
}

void mkt_module(struct mkt *m, uint64_t base, uint64_t start, uint64_t endaddr, const char *path)
{
    size_t at = begin(m, CT_REC_MODULE);
    add64(m, base);
    add64(m, start);
    add64(m, endaddr);
    mkt_bytes(m, "\x12\x34\x56\x78", 4);
    mkt_bytes(m, NULL, 16);
    add32(m, 4);
    addstr(m, path, strlen(path));
    end(m, at);
}

void mkt_module_id(struct mkt *m, uint64_t base, uint64_t start, uint64_t endaddr, const uint8_t *id,
                   uint32_t idlen, const char *path)
{
    size_t at = begin(m, CT_REC_MODULE);
    add64(m, base);
    add64(m, start);
    add64(m, endaddr);
    uint8_t b[20] = {0};
    memcpy(b, id, idlen <= 20 ? idlen : 20);
    mkt_bytes(m, b, 20);
    add32(m, idlen);
    addstr(m, path, strlen(path));
    end(m, at);
}

void mkt_stack(struct mkt *m, uint32_t id, uint32_t flags, const uint64_t *ips, uint16_t nips,
               const struct ct_pyframe *py, uint16_t npy)
{
    size_t at = begin(m, CT_REC_STACK);
    add32(m, id);
    add16(m, nips);
    add16(m, npy);
    add32(m, flags);
    add32(m, 0);
    for (uint16_t i = 0; i < nips; i++)
        add64(m, ips[i]);
    for (uint16_t i = 0; i < npy; i++) {
        add64(m, py[i].code);
        add32(m, (uint32_t)py[i].lasti);
        add32(m, py[i].flags);
    }
    end(m, at);
}

void mkt_pycode(struct mkt *m, uint64_t addr, int32_t firstlineno, const char *qualname, const char *filename,
                const void *linetable, uint32_t ltlen)
{
    size_t at = begin(m, CT_REC_PYCODE);
    add64(m, addr);
    add32(m, (uint32_t)firstlineno);
    add32(m, ltlen);
    addstr(m, qualname, strlen(qualname));
    addstr(m, filename, strlen(filename));
    mkt_bytes(m, linetable, ltlen);
    end(m, at);
}

void mkt_page_summary(struct mkt *m, uint64_t base, const uint64_t *nums, uint32_t count)
{
    uint8_t *b = xmalloc((size_t)count * 4 * LEB_MAX_BYTES + 1);
    size_t len = 0;
    for (size_t i = 0; i < (size_t)count * 4; i++)
        len += leb128_write(nums[i], b + len);
    size_t at = begin(m, CT_REC_PAGE_SUMMARY);
    add64(m, base);
    add32(m, count);
    add32(m, (uint32_t)len);
    mkt_bytes(m, b, len);
    end(m, at);
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
    mkt_note_bytes(m, CT_REC_NOTE, level, text, strlen(text));
}

void mkt_exec(struct mkt *m, const char *path)
{
    mkt_note_bytes(m, CT_REC_EXEC, 0, path, strlen(path));
}

void mkt_end(struct mkt *m, uint32_t how, int32_t status)
{
    size_t at = begin(m, CT_REC_END);
    add32(m, how);
    add32(m, (uint32_t)status);
    add64(m, 1700000001000000000ull);
    add64(m, 0);
    add64(m, 0);
    end(m, at);
}

void mkt_untrack(struct mkt *m, uint64_t start, uint64_t endaddr, uint32_t reason)
{
    size_t at = begin(m, CT_REC_UNTRACK);
    add64(m, start);
    add64(m, endaddr);
    add32(m, reason);
    add32(m, 0);
    end(m, at);
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
    if (r->n + 2 * LEB_MAX_BYTES > r->cap) {
        r->cap = r->cap ? r->cap * 2 : 256;
        r->b = xrealloc(r->b, r->cap);
    }
    r->n += leb128_write(r->run_start - r->pos, r->b + r->n);
    r->n += leb128_write(r->run_len, r->b + r->n);
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
    return r->n + (r->started ? 2 * LEB_MAX_BYTES : 0);
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
