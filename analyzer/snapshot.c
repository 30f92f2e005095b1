/*
 * snapshot.c - see snapshot.h.
 *
 * Pages are classified region by region in chunks of CHUNK_PAGES (one
 * pagemap read of the process each; the parent's entries come from its
 * page map read once for all the siblings, parentmap.h, or, for one
 * process alone, from a read of the parent's per chunk), so memory use
 * does not grow with the address space. Causes then look at the copied
 * pages only: the process's page and the parent's at the same address are
 * read whole (/proc/PID/mem) and compared; each differing word is decoded
 * with common/pyver's ct_py_find against the process's memory and judged
 * with the same rules as a traced write (cause.c). Siblings (the workers
 * of one master) are examined together, page-major (snap_causes): the
 * parent's copy of a page is read once for all of them, and a page that
 * differs in no word is summarized once (sum_memo); each file is what it
 * would be if its process were examined alone. With two CPUs or more,
 * threads share the work out (the siblings' page maps; the reading of the
 * pages ahead of their comparison: ct_snapshot_write_siblings,
 * snap_causes) without changing any file. The
 * decoder reads through a small cache of the process's pages (page_cache),
 * so the pool header and type objects a page's blocks share cost one
 * system call, not one per word.
 *
 * A region's name follows the shim's: the file for its data, "FILE (bss)"
 * for the anonymous mapping that directly follows a file's writable data
 * (the shim asks the loader for the bss bounds; from /proc adjacency is
 * what there is).
 */
#include "snapshot.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>
#include <uthash.h>

#include "cause.h"
#include "ct_wire.h"
#include "debug_offsets.h"
#include "decode.h"
#include "fields.h"
#include "gcstate.h"
#include "parentmap.h"
#include "pyremote.h"
#include "testhook.h"
#include "trace_file.h"
#include "trace_records.h"
#include "util.h"

#define CHUNK_PAGES 16384u
#define CACHE_SLOTS 256u
#define RUNS_FLUSH (1u << 20)
#define SUMMARY_BATCH 4096u
#define MAX_VERDICTS 16
#define RUN_PAGES 32u

bool ct_snapshot_exact(void)
{
    static volatile uint64_t probe = 1;
    probe++;
    int fd = open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return false;
    uint64_t e = 0;
    long ps = sysconf(_SC_PAGESIZE);
    ssize_t r = pread(fd, &e, sizeof e, (off_t)((uintptr_t)&probe / (uintptr_t)ps * sizeof e));
    close(fd);
    return r == (ssize_t)sizeof e && (e & CT_PM_PRESENT) && (e & CT_PM_PFN_MASK);
}

/* ---- reading the process's memory ----------------------------------------- */

struct cache_slot {
    uint64_t pg;
    int state;                 /* 0 empty, 1 read, -1 unreadable */
    uint8_t data[];
};

struct page_cache {
    int fd;                    /* /proc/PID/mem */
    int pm_fd;                 /* /proc/PID/pagemap: anonymous pages are read only if present */
    const struct ct_vma *maps; /* the process's mappings, sorted */
    size_t nmaps;
    size_t psize;
    unsigned shift;
    uint8_t *slots;            /* CACHE_SLOTS x (slot header + page) */
    /* pages read ahead (cache_hint): hint_pages from hint_lo, those with
     * hint_have set, in hint_data */
    uint64_t hint_lo;
    size_t hint_pages;
    const uint8_t *hint_data;
    const bool *hint_have;
};

static size_t slot_bytes(const struct page_cache *c)
{
    return sizeof(struct cache_slot) + c->psize;
}

/* Reads through /proc/PID/mem, not process_vm_readv: process_vm_readv
 * pins the pages it reads (FOLL_PIN), and the kernel unshares a pinned
 * anonymous page that is still shared after a fork, which copies it:
 * measured here, a snapshot that read with it made the workers copy the
 * pages it looked at (and the parent too). /proc/PID/mem takes plain
 * references, which leave a shared page shared. */
static int read_remote(int fd, uint64_t addr, void *dst, size_t len)
{
    if (fd < 0 || addr > (uint64_t)INT64_MAX - len)
        return -1;
    size_t done = 0;
    while (done < len) {
        ssize_t r = pread(fd, (char *)dst + done, len - done, (off_t)(addr + done));
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            return -1;
        done += (size_t)r;
    }
    return 0;
}

static int open_mem(pid_t pid)
{
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/mem", (int)pid);
    return open(path, O_RDONLY | O_CLOEXEC);
}

/* The pages of the window being attributed (snap_causes), read ahead by
 * the reader: a miss on one of them is filled from there, not by a
 * system call. */
static const uint8_t *cache_hint(const struct page_cache *c, uint64_t pg)
{
    uint64_t first = c->hint_lo >> c->shift;
    if (!c->hint_data || pg < first || pg - first >= c->hint_pages || !c->hint_have[pg - first])
        return NULL;
    return c->hint_data + (pg - first) * c->psize;
}

/* Is addr in anonymous memory of the process (or in no mapping we know)? */
static bool anonymous_at(const struct page_cache *c, uint64_t addr)
{
    size_t lo = 0, hi = c->nmaps;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (c->maps[mid].end <= addr)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo >= c->nmaps || c->maps[lo].start > addr)
        return true;
    return c->maps[lo].inode == 0;
}

static int cache_read(void *ctx, uintptr_t addr, void *dst, size_t len)
{
    struct page_cache *c = ctx;
    if (addr + len < addr)
        return -1;
    uint8_t *out = dst;
    while (len) {
        uint64_t pg = addr >> c->shift;
        size_t off = addr & (c->psize - 1), n = c->psize - off < len ? c->psize - off : len;
        struct cache_slot *s = (struct cache_slot *)(c->slots + (pg % CACHE_SLOTS) * slot_bytes(c));
        const uint8_t *ahead;
        if ((s->state == 0 || s->pg != pg) && (ahead = cache_hint(c, pg))) {
            /* Read ahead: the bytes asked for, from there (not the whole
             * page into a slot: measured, those copies were 1-2% of a
             * snapshot's CPU time, a pool header's page once per pool and
             * sibling). */
            memcpy(out, ahead + off, n);
            out += n;
            addr += n;
            len -= n;
            continue;
        } else if (s->state == 0 || s->pg != pg) {
            /* A read of anonymous memory the process does not have would
             * fault a page in (the zero page, or a swap-in): look first,
             * and leave it. (A file's page is only mapped from the page
             * cache, as any read would; fork does not copy those page
             * table entries, so they are often absent.) */
            uint64_t e = 0;
            s->pg = pg;
            bool ok = true;
            if (anonymous_at(c, pg << c->shift))
                ok = c->pm_fd >= 0 && pread(c->pm_fd, &e, sizeof e, (off_t)(pg * sizeof e)) == (ssize_t)sizeof e &&
                     (e & CT_PM_PRESENT);
            s->state = ok && read_remote(c->fd, pg << c->shift, s->data, c->psize) == 0 ? 1 : -1;
        }
        if (s->state < 0)
            return -1;
        memcpy(out, s->data + off, n);
        out += n;
        addr += n;
        len -= n;
    }
    return 0;
}

/* ---- types seen ----------------------------------------------------------- */

struct type_entry {
    uint64_t addr;
    bool valid;
    struct ct_pytypeinfo info;
    int64_t itemsize;
    char name[200];
    size_t name_len;
    UT_hash_handle hh;
};

#define TYPE_MISS_SLOTS 512u

struct types {
    struct type_entry *h;
    /* The decoder asks about the same few addresses over and over (every
     * block of a page of ints names int): the last type found, and a
     * bounded table of addresses that were no type, answer without a hash
     * lookup or a remote read (measured: the hash lookups were 15% of a
     * snapshot's time). */
    struct type_entry *last;
    uint64_t miss[TYPE_MISS_SLOTS];
    uint32_t next_index;
    const struct ct_pyver *v;
    const struct ct_memread *mem;
};

static struct type_entry *type_lookup(struct types *ts, uint64_t t)
{
    struct type_entry *e;
    if (ts->last && ts->last->addr == t)
        return ts->last;
    uint64_t *miss = &ts->miss[(t >> 3) % TYPE_MISS_SLOTS];
    if (t && *miss == t)
        return NULL;
    HASH_FIND(hh, ts->h, &t, sizeof t, e);
    if (e)
        return ts->last = e;
    /* Only types are kept: the decoder asks about every candidate pointer
     * it meets, and keeping the misses would grow without bound. */
    struct ct_pytypeinfo info;
    struct ct_pydecoder plain = {.v = ts->v, .mem = ts->mem};
    if (!t || !ct_py_read_type(&plain, t, &info)) {
        *miss = t;
        return NULL;
    }
    e = xcalloc(1, sizeof *e);
    e->addr = t;
    e->info = info;
    e->valid = true;
    {
        const struct ct_pylayout *L = &ts->v->L;
        e->info.index = ++ts->next_index;
        ct_mem_read(ts->mem, t + L->tp_itemsize, &e->itemsize, sizeof e->itemsize);
        uint64_t np = 0;
        if (ct_mem_u64(ts->mem, t + L->tp_name, &np) == 0)
            for (size_t i = 0; i < sizeof e->name; i++) {
                char ch;
                if (ct_mem_read(ts->mem, np + i, &ch, 1) || !ch)
                    break;
                e->name[e->name_len++] = ch;
            }
    }
    HASH_ADD(hh, ts->h, addr, sizeof e->addr, e);
    return ts->last = e;
}

static const struct ct_pytypeinfo *type_of(void *ctx, uintptr_t t, struct ct_pytypeinfo *scratch)
{
    (void)scratch;
    struct type_entry *e = type_lookup(ctx, t);
    return e ? &e->info : NULL;
}

static int types_write(struct types *ts, struct ct_writer *w)
{
    struct type_entry *e, *tmp;
    int rc = 0;
    HASH_ITER(hh, ts->h, e, tmp) {
        if (e->valid && !rc && w)
            rc = ct_rec_pytype(w, e->addr, e->info.index, e->info.flags, e->info.basicsize, e->itemsize, e->name,
                               e->name_len);
        HASH_DEL(ts->h, e);
        free(e);
    }
    ts->last = NULL;
    return rc;
}

/* ---- run lists ------------------------------------------------------------ */

struct runs {
    uint8_t *b;
    size_t n, cap;
    uint64_t rec_first;        /* first_page of the record being built */
    uint64_t prev_end;         /* end of the last run encoded */
    uint64_t start, len;       /* the run being extended */
};

static void runs_reset(struct runs *r)
{
    r->n = 0;
    r->rec_first = r->prev_end = r->start = r->len = 0;
}

static void runs_put(struct runs *r, uint64_t v)
{
    if (r->n + 10 > r->cap) {
        r->cap = r->cap ? 2 * r->cap : 4096;
        r->b = xreallocarray(r->b, r->cap, 1);
    }
    r->n += ct_wire_put_uleb(r->b + r->n, v);
}

static int runs_emit(struct runs *r, struct ct_writer *w, uint32_t type, uint32_t region)
{
    int rc = r->n ? ct_rec_pages(w, type, region, r->rec_first, r->b, r->n) : 0;
    r->n = 0;
    r->rec_first = r->prev_end;
    return rc;
}

static int runs_close(struct runs *r, struct ct_writer *w, uint32_t type, uint32_t region)
{
    if (r->len) {
        runs_put(r, r->start - r->prev_end);
        runs_put(r, r->len);
        r->prev_end = r->start + r->len;
        r->len = 0;
    }
    return r->n >= RUNS_FLUSH ? runs_emit(r, w, type, region) : 0;
}

static int runs_add(struct runs *r, struct ct_writer *w, uint32_t type, uint32_t region, uint64_t pg)
{
    if (r->len && pg == r->start + r->len) {
        r->len++;
        return 0;
    }
    int rc = runs_close(r, w, type, region);
    r->start = pg;
    r->len = 1;
    return rc;
}

/* ---- regions -------------------------------------------------------------- */

struct region {
    const struct ct_vma *vma;
    uint64_t start, end;       /* a mapping, or the part of one that is a file's bss */
    uint32_t kind;
    char *name;                /* owned */
    bool interp;
};

static uint32_t kind_of(const struct ct_vma *m)
{
    if (!strcmp(m->name, "[heap]"))
        return CT_KIND_HEAP;
    if (!strncmp(m->name, "[stack", 6))
        return CT_KIND_STACK;
    if (m->name[0] == '/')
        return CT_KIND_DATA;
    return m->name[0] ? CT_KIND_OTHER : CT_KIND_ANON;
}

static char *str_copy(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    char *s = xmalloc(la + lb + 1);
    memcpy(s, a, la);
    memcpy(s + la, b, lb + 1);
    return s;
}

/* An anonymous mapping right after a file's writable data begins with that
 * file's bss, up to the end of its last PT_LOAD segment; the kernel may
 * have merged more anonymous memory (pymalloc arenas) into it. */
static size_t build_regions(pid_t pid, const struct ct_vma *maps, size_t n, const char *pypath,
                            struct region **out)
{
    struct region *r = xcalloc(2 * n + 1, sizeof *r);
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        const struct ct_vma *m = &maps[i];
        if (!ct_vma_cow(m))
            continue;
        const struct ct_vma *prev = i ? &maps[i - 1] : NULL;
        uint64_t at = m->start;
        if (!m->name[0] && prev && prev->end == m->start && prev->name[0] == '/' && ct_vma_cow(prev)) {
            uint64_t bss_end = ct_elf_load_end(pid, maps, n, prev->name);
            if (bss_end > m->start) {
                uint64_t e = bss_end < m->end ? bss_end : m->end;
                r[k++] = (struct region){m, m->start, e, CT_KIND_DATA, str_copy(prev->name, " (bss)"), false};
                at = e;
            }
        }
        if (at < m->end)
            r[k++] = (struct region){m, at, m->end, kind_of(m), str_copy(m->name, ""), false};
    }
    for (size_t i = 0; pypath && i < k; i++)
        if (r[i].kind == CT_KIND_DATA) {
            size_t pl = strlen(pypath);
            r[i].interp = !strncmp(r[i].name, pypath, pl) && (!r[i].name[pl] || !strcmp(r[i].name + pl, " (bss)"));
        }
    *out = r;
    return k;
}

/* Where inherited() is in the parent's mappings, and its verdict on the
 * last of them it judged (asked per page: the verdict, string compares
 * included, is the same for every page of one mapping). */
struct parent_cursor {
    size_t cur;
    const struct ct_vma *judged_q, *judged_p;
    bool verdict;
};

/* Does the parent have, at addr, the mapping p inherited across the fork
 * (ct_vma_inherited)? c->cur only moves forward: callers ask in address
 * order. */
static bool inherited(const struct ct_vma *q, size_t nq, struct parent_cursor *c, const struct ct_vma *p,
                      uint64_t addr)
{
    while (c->cur < nq && q[c->cur].end <= addr)
        c->cur++;
    if (c->cur >= nq || q[c->cur].start > addr)
        return false;
    if (c->judged_q != &q[c->cur] || c->judged_p != p) {
        c->judged_q = &q[c->cur];
        c->judged_p = p;
        c->verdict = ct_vma_inherited(&q[c->cur], p);
    }
    return c->verdict;
}

/* ---- causes of copied pages ----------------------------------------------- */

struct copied {
    uint64_t addr;
    uint32_t region;
};

struct verdict_tally {
    enum ct_cause cause;
    uint64_t type;             /* 0: untyped */
    uint32_t count;
    uint64_t addr;             /* the first word with this verdict */
    struct ct_pyfound found;
};

struct attrib_ctx {
    const struct ct_pyver *v;
    struct ct_pydecoder dec;
    struct ct_memread mem;
    struct types types;
    uint64_t dict_type;
    int fd, parent_fd;         /* /proc/PID/mem of the process and its parent */
    pid_t pid;
    size_t psize;
    uint8_t *mine, *theirs;
    /* summaries being built */
    uint8_t *sb;
    size_t sn, scap;
    uint32_t scount;
    uint64_t sbase, slast;
};

static void sum_put(struct attrib_ctx *a, uint64_t v)
{
    if (a->sn + 10 > a->scap) {
        a->scap = a->scap ? 2 * a->scap : 4096;
        a->sb = xreallocarray(a->sb, a->scap, 1);
    }
    a->sn += ct_wire_put_uleb(a->sb + a->sn, v);
}

static int sum_flush(struct attrib_ctx *a, struct ct_writer *w)
{
    int rc = a->scount ? ct_rec_page_summary(w, a->sbase, a->scount, a->sb, a->sn) : 0;
    a->sn = 0;
    a->scount = 0;
    return rc;
}

/* A free-threaded build's page (mimalloc, not pymalloc): every block the
 * page holds, through its segment's page descriptors. False when the page
 * is not in a mimalloc segment the layout describes (a GIL build's never
 * is). */
struct vote {
    uint64_t t;
    uint32_t n;
};

static void vote_for(struct vote *seen, uint64_t t)
{
    for (int j = 0; j < MAX_VERDICTS; j++)
        if (seen[j].t == t || !seen[j].t) {
            seen[j].t = t;
            seen[j].n++;
            break;
        }
}

static bool summarize_mimalloc(struct attrib_ctx *a, uint64_t page, uint32_t *where, uint32_t *objects,
                               struct vote *seen)
{
    const struct ct_pylayout *L = &a->v->L;
    struct ct_pyfound f;
    struct ct_pytypeinfo scratch;
    const struct ct_pytypeinfo *type;
    uintptr_t obj = 0;
    bool object_heap;
    if (!ct_py_mi_block(&a->dec, &a->mem, page, &f, &obj, &type, &scratch, &object_heap))
        return false;
    *where = f.where;
    bool object_blocks = false;
    for (uint64_t at = page; f.where == CT_WHERE_POOL_BLOCK && at < page + a->psize;) {
        if (!ct_py_mi_block(&a->dec, &a->mem, at, &f, &obj, &type, &scratch, &object_heap) ||
            f.where != CT_WHERE_POOL_BLOCK)
            break;
        if (!f.block) {         /* the page's lead-in, before its first block */
            at += 16;
            continue;
        }
        object_blocks |= object_heap;
        if (type) {
            (*objects)++;
            uint64_t refcnt = 0, t = 0;
            if (!(!ct_mem_u64(&a->mem, obj + L->ob_refcnt, &refcnt) && ct_py_is_immortal(a->v, refcnt)) &&
                !ct_mem_u64(&a->mem, obj + L->ob_type, &t))
                vote_for(seen, t);
        }
        at = f.block + f.block_size;
    }
    /* PyMem's blocks only (buffers, item arrays): they claim nothing */
    if (*where == CT_WHERE_POOL_BLOCK && !object_blocks)
        *where = CT_WHERE_UNKNOWN;
    return true;
}

/* ---- summaries of pages that differ in no word ------------------------------ */

#define MEMO_TYPES 16

enum { MEMO_NONE, MEMO_READY, MEMO_UNUSABLE };

/* What a page that differs in no word holds (the entry uffd-async's
 * summaries have; cause.h's inferred rules read it), and what working it
 * out asked of the process's memory beyond the page's own bytes: its
 * pool's size class, and the types table's answers in the order asked.
 * Siblings that copied the same page of their parent and changed no word
 * of it hold the same bytes: when a sibling's pool header and types table
 * answer the same, the decoder would do exactly the same work there, so
 * the summary is taken over (measured: summaries were half a snapshot's
 * user time, each computed once per worker). */
struct sum_memo {
    uint8_t state;             /* MEMO_* */
    uint8_t nasked;
    uint32_t size, objects, where;
    uint64_t best_t;
    struct {
        uint64_t t;
        bool valid;
        uint64_t flags;
        int64_t basicsize;
    } asked[MEMO_TYPES];
};

/* The decoder's type lookups while a summary is worked out, noted in the
 * memo (distinct addresses, first-asked order). */
struct sum_recorder {
    struct types *types;
    struct sum_memo *memo;
    bool overflow;
};

static const struct ct_pytypeinfo *recorded_type_of(void *ctx, uintptr_t t, struct ct_pytypeinfo *scratch)
{
    (void)scratch;
    struct sum_recorder *r = ctx;
    struct type_entry *e = type_lookup(r->types, t);
    struct sum_memo *m = r->memo;
    for (unsigned i = m->nasked; i-- > 0;)
        if (m->asked[i].t == t)
            return e ? &e->info : NULL;
    if (m->nasked == MEMO_TYPES)
        r->overflow = true;
    else
        m->asked[m->nasked++] = (typeof(m->asked[0])){t, e != NULL, e ? e->info.flags : 0, e ? e->info.basicsize : 0};
    return e ? &e->info : NULL;
}

/* The page's bytes in hand, read in place; a read beyond them goes to the
 * process (and makes the summary this process's own: see sum_memo). */
struct page_view {
    uint64_t base;
    const uint8_t *data;
    size_t len;
    const struct ct_memread *outside;
    bool went_outside;
};

static int page_view_read(void *ctx, uintptr_t addr, void *dst, size_t len)
{
    struct page_view *v = ctx;
    if (addr >= v->base && len <= v->len && addr - v->base <= v->len - len) {
        /* A word (most reads here: a reference count, a type) by a plain
         * load, not a call of memcpy (measured: the calls were 3% of a
         * snapshot's CPU time). */
        if (len == sizeof(uint64_t))
            memcpy(dst, v->data + (addr - v->base), sizeof(uint64_t));
        else
            memcpy(dst, v->data + (addr - v->base), len);
        return 0;
    }
    v->went_outside = true;
    return ct_mem_read(v->outside, addr, dst, len);
}

/* page_view_read of a word, without the call through the reader (a
 * summary reads two words of every block: measured, 4% of a snapshot's
 * CPU time went to the calls). */
static inline int view_u64(struct page_view *v, const struct ct_memread *m, uint64_t addr, uint64_t *out)
{
    if (addr >= v->base && v->len >= sizeof *out && addr - v->base <= v->len - sizeof *out) {
        memcpy(out, v->data + (addr - v->base), sizeof *out);
        return 0;
    }
    return ct_mem_u64(m, addr, out);
}

/* Every block of the page at `page`, whose bytes are data. */
static void summary_compute(struct attrib_ctx *a, uint64_t page, const uint8_t *data, struct sum_memo *m)
{
    const struct ct_pylayout *L = &a->v->L;
    m->state = MEMO_UNUSABLE;
    m->nasked = 0;
    struct sum_recorder rec = {&a->types, m, false};
    struct ct_pydecoder dec = {.v = a->v, .mem = &a->mem, .type_of = recorded_type_of, .type_ctx = &rec};
    struct page_view view = {page, data, a->psize, &a->mem, false};
    struct ct_memread pmem = {page_view_read, &view};
    uint64_t pool = ct_py_pool_of(a->v, page);
    uint32_t size = 0, objects = 0, where = CT_WHERE_OUTSIDE;
    struct vote seen[MAX_VERDICTS] = {{0, 0}};
    /* mimalloc's pages (free-threaded) read beyond the page: not shared */
    bool mimalloc = summarize_mimalloc(a, page, &where, &objects, seen);
    if (!mimalloc && a->dec.no_pymalloc) {
        where = CT_WHERE_UNKNOWN;   /* no pools to read (as the shim's summaries: py/summary.c) */
    } else if (!mimalloc) {
        size = ct_py_pool_block_size(a->v, &a->mem, pool);
        where = size ? CT_WHERE_POOL_BLOCK : CT_WHERE_OUTSIDE;
    }
    if (size) {
        uint64_t first = pool + L->pool_overhead;
        if (page > first)
            first += ((page - first + size - 1) / size) * size;
        uint64_t end = page + a->psize < pool + L->pool_size ? page + a->psize : pool + L->pool_size;
        struct ct_pytypeinfo scratch;
        /* a page's blocks mostly hold objects of one type: asked once
         * (measured: the type lookups were a third of a summary's work) */
        struct ct_py_block_memo bm = {.bytes = data, .base = page, .len = a->psize};
        for (uint64_t b = first; b + size <= end; b += size) {
            uintptr_t obj;
            if (!ct_py_block_object_memo(&dec, &pmem, b, size, &obj, &scratch, &bm))
                continue;
            objects++;
            uint64_t refcnt = 0, t = 0;
            if (!view_u64(&view, &pmem, obj + L->ob_refcnt, &refcnt) && ct_py_is_immortal(a->v, refcnt))
                continue;
            view_u64(&view, &pmem, obj + L->ob_type, &t);
            vote_for(seen, t);
        }
        if (!objects && page == pool)
            where = CT_WHERE_POOL_HEADER;
    }
    uint64_t best_t = 0;
    uint32_t best = 0;
    for (int j = 0; j < MAX_VERDICTS; j++)
        if (seen[j].n > best) {
            best = seen[j].n;
            best_t = seen[j].t;
        }
    m->size = size;
    m->objects = objects;
    m->where = where;
    m->best_t = best_t;
    if (!rec.overflow && !view.went_outside && !mimalloc)
        m->state = MEMO_READY;
}

/* Would summary_compute in this process find what m says? The page's
 * bytes are the same (the caller compared them); the rest it reads is the
 * pool header and the types table, asked again here in the same order. */
static bool summary_memo_fits(struct attrib_ctx *a, uint64_t page, const struct sum_memo *m)
{
    if (m->state != MEMO_READY || ct_py_pool_block_size(a->v, &a->mem, ct_py_pool_of(a->v, page)) != m->size)
        return false;
    for (unsigned i = 0; i < m->nasked; i++) {
        struct type_entry *e = type_lookup(&a->types, m->asked[i].t);
        if ((e != NULL) != m->asked[i].valid ||
            (e && (e->info.flags != m->asked[i].flags || e->info.basicsize != m->asked[i].basicsize)))
            return false;
    }
    return true;
}

static int summary_emit(struct attrib_ctx *a, struct ct_writer *w, uint64_t page, const struct sum_memo *m)
{
    uint32_t index = 0;
    if (m->best_t) {
        struct type_entry *e = type_lookup(&a->types, m->best_t);
        index = e ? e->info.index : 0;
    }
    if (!a->scount) {
        a->sbase = page;
        a->slast = page;
    }
    sum_put(a, (page - a->slast) / a->psize);
    sum_put(a, index);
    sum_put(a, m->where | (m->size / 16) << 2);
    sum_put(a, m->objects);
    a->slast = page;
    a->scount++;
    return a->scount >= SUMMARY_BATCH ? sum_flush(a, w) : 0;
}

/* The summary of the page at `page` (bytes: data), taken over from a
 * sibling's through *shared when it fits, else worked out (and left in
 * *shared for the next sibling when that is still empty). */
static int summarize(struct attrib_ctx *a, struct ct_writer *w, uint64_t page, const uint8_t *data,
                     struct sum_memo *shared)
{
    if (shared && summary_memo_fits(a, page, shared))
        return summary_emit(a, w, page, shared);
    struct sum_memo own;
    summary_compute(a, page, data, &own);
    if (shared && shared->state == MEMO_NONE)
        *shared = own;
    return summary_emit(a, w, page, &own);
}

/* The verdict of one differing word, as if a traced write had hit it. */
static void judge(struct attrib_ctx *a, const struct region *r, uint64_t addr, const struct ct_pyfound *f,
                  struct verdict_tally *tally, size_t *nt)
{
    struct ct_event e = {
        .addr = addr, .obj = f->obj, .type = f->type, .block = f->block, .block_size = f->block_size,
        .where = f->where, .obj_how = f->obj_how,
    };
    struct ct_pytype tp = {0}, *tpp = NULL;
    if (f->type) {
        struct type_entry *te = type_lookup(&a->types, f->type);
        if (te) {
            tp.addr = f->type;
            tp.flags = te->info.flags;
            tpp = &tp;
        }
    }
    struct ct_region reg = {.kind = r->kind};
    struct ct_verdict vd = ct_cause_of_write(a->v, &e, &reg, r->interp, tpp);
    uint64_t type = vd.typed ? f->type : 0;
    for (size_t i = 0; i < *nt; i++)
        if (tally[i].cause == vd.cause && tally[i].type == type) {
            tally[i].count++;
            return;
        }
    if (*nt < MAX_VERDICTS)
        tally[(*nt)++] = (struct verdict_tally){vd.cause, type, 1, addr, *f};
}

/* 1: the page was judged (WRITE or summary); 0: it could not be read in
 * the process (gone, or unmapped since); -1: the trace is full. mine: the
 * process's page as read ahead (NULL: read it here); theirs: the parent's
 * page, read once for all the siblings examined together (NULL: read it
 * here), with the summary memo its siblings share. */
static int attribute_page(struct attrib_ctx *a, struct ct_writer *w, const struct region *r, uint64_t page,
                          const uint8_t *mine, const uint8_t *theirs, struct sum_memo *memo, uint64_t *differing)
{
    /* The process's page as read ahead (NULL: read it here). */
    if (!mine) {
        if (ct_mem_read(&a->mem, page, a->mine, a->psize) != 0)
            return 0;
        mine = a->mine;
    }
    bool have_parent = theirs != NULL;
    if (!have_parent) {
        memo = NULL;
        have_parent = read_remote(a->parent_fd, page, a->theirs, a->psize) == 0;
        theirs = a->theirs;
    }
    /* Most copied pages differ in no word (a reference taken and given
     * back): one memcmp says so, and the parent's bytes are the page's. */
    if (have_parent && !memcmp(mine, theirs, a->psize))
        return summarize(a, w, page, theirs, memo) ? -1 : 1;
    /* Decoding reads other pages through the cache, which may reuse the
     * slot: from here on, the page's own copy. */
    if (mine != a->mine)
        mine = memcpy(a->mine, mine, a->psize);
    struct verdict_tally tally[MAX_VERDICTS];
    size_t nt = 0;
    if (have_parent) {
        const uint64_t *m = (const uint64_t *)mine, *t = (const uint64_t *)theirs;
        struct ct_pyfound f = {0};
        for (size_t i = 0; i < a->psize / 8; i++) {
            if (m[i] == t[i])
                continue;
            uint64_t addr = page + i * 8;
            /* Words of one pymalloc block share its object: decode once. */
            if (!(f.where == CT_WHERE_POOL_BLOCK && f.block && addr >= f.block && addr < f.block + f.block_size))
                ct_py_find(&a->dec, &a->mem, addr, a->dict_type, &f);
            judge(a, r, addr, &f, tally, &nt);
        }
    }
    if (!nt)
        return summarize(a, w, page, mine, NULL) ? -1 : 1;
    size_t best = 0;
    for (size_t i = 1; i < nt; i++)
        if (tally[i].count > tally[best].count ||
            (tally[i].count == tally[best].count && tally[i].cause < tally[best].cause))
            best = i;
    const struct ct_pyfound *f = &tally[best].found;
    struct ct_py_evidence ev = {
        .obj = f->obj, .type = f->type, .block = f->block, .block_size = f->block_size,
        .where = f->where, .obj_how = f->obj_how,
    };
    (*differing)++;
    return ct_rec_write(w, tally[best].addr, 0, 0, (uint32_t)a->pid, 0, &ev, 0) ? -1 : 1;
}

/* ---- one process ----------------------------------------------------------- */

static void say(char *why, size_t len, const char *fmt, const char *detail)
{
    snprintf(why, len, fmt, detail);
}

int ct_snapshot_check(const struct ct_live_proc *p, char *why, size_t whylen)
{
    struct ct_vma *maps;
    size_t n;
    if (p->state == 'Z' || p->state == 'X') {
        say(why, whylen, "has exited (a zombie its parent has not reaped)%s", "");
        return -1;
    }
    int r = ct_live_maps(p->pid, &maps, &n);
    if (r == -ENOENT || r == -ESRCH) {
        say(why, whylen, "no such process%s", "");
        return -1;
    }
    uid_t me = geteuid(), owner = p->uid;
    /* Who it runs as, from its credentials: the kernel gives a
     * non-dumpable process's /proc files to root, which p->uid shows. */
    bool undumpable = ct_live_owner(p->pid, &owner) == 0 && owner != p->uid;
    if (r) {
        if (me != 0 && owner != me)
            snprintf(why, whylen, "belongs to another user (uid %u): cannot read its memory map", (unsigned)owner);
        else if (undumpable)
            say(why, whylen, "is not dumpable (prctl PR_SET_DUMPABLE 0, or a set-user-ID program): cannot read its "
                             "memory map (%s)", strerror(-r));
        else
            say(why, whylen, "cannot read its memory map (%s: not dumpable, or ptrace_scope forbids it)",
                strerror(-r));
        return -1;
    }
    struct ct_pagemap pm;
    r = ct_pagemap_open(p->pid, &pm);
    if (r) {
        say(why, whylen, "cannot open its pagemap (%s)", strerror(-r));
        ct_live_maps_free(maps, n);
        return -1;
    }
    ct_pagemap_close(&pm);
    /* Its memory: the first readable private mapping. */
    r = -1;
    int err = 0, fd = open_mem(p->pid);
    if (fd < 0)
        err = errno;
    for (size_t i = 0; i < n && r && fd >= 0; i++)
        if ((maps[i].prot & PROT_READ) && strcmp(maps[i].name, "[vvar]") && strcmp(maps[i].name, "[vsyscall]")) {
            uint64_t word;
            errno = 0;
            r = read_remote(fd, maps[i].start, &word, sizeof word);
            err = errno;
            if (r && err != EIO && err != EFAULT && err != 0)
                break;
        }
    if (fd >= 0)
        close(fd);
    ct_live_maps_free(maps, n);
    if (r) {
        if (err == ESRCH)
            say(why, whylen, "no such process%s", "");
        else
            say(why, whylen, "cannot read its memory (%s: not dumpable, another user's, or "
                             "kernel.yama.ptrace_scope forbids it)", strerror(err));
        return -1;
    }
    return 0;
}

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void layout_field(const void *ctx, size_t i, uint32_t *id, uint64_t *value)
{
    ct_pyver_field(ctx, i, id, value);
}

/* Exited, or its pid names another process now: what is read from here
 * on is not its memory. A zombie counts (its pagemap reads as no page). */
static bool gone(const struct ct_live_proc *p)
{
    return ct_live_exited(p);
}

/* One process being written: the three steps below (snap_begin,
 * snap_causes over it and its siblings, snap_end) share this. */
struct snap_state {
    const struct ct_live_proc *p, *parent;
    const char *dir;
    bool exact;
    struct ct_snap_result *res;
    char *why;
    size_t whylen;
    int rc;                    /* -1: failed before anything was written (why says) */
    int wr;                    /* a record did not fit */
    size_t psize;
    unsigned shift;
    struct ct_vma *maps, *qmaps;
    size_t nmaps, nq;
    struct ct_pagemap pm, qpm;
    const struct ct_parentmap *pmap;   /* the parent's page map, read once for the group (NULL: read here) */
    struct page_cache cache;
    int parent_fd;
    struct ct_memread mem;
    struct ct_pyremote py;
    const struct ct_pyver *pv;
    struct ct_pyver discovered;    /* pv points here when the process published its offsets */
    struct ct_discovery disc;
    struct region *regs;
    size_t nregs;
    struct ct_writer w;
    int64_t mine_full, parent_full;
    struct copied *cop;
    size_t ncop, next;         /* next: the first copied page not yet attributed */
    bool causes;               /* a is set up: its copied pages are to be attributed */
    struct attrib_ctx a;
};

/* Everything up to the causes: the file, its process, interpreter and
 * regions, and the page sets (the copied pages kept for snap_causes). */
static void snap_begin(struct snap_state *s)
{
    const struct ct_live_proc *p = s->p;
    struct ct_snap_result *res = s->res;
    memset(res, 0, sizeof *res);
    long psz = sysconf(_SC_PAGESIZE);
    size_t psize = s->psize = psz > 0 ? (size_t)psz : 4096;
    unsigned shift = s->shift = (unsigned)__builtin_ctzl(psize);
    s->pm.fd = s->qpm.fd = s->cache.fd = s->parent_fd = -1;

    int r = ct_live_maps(p->pid, &s->maps, &s->nmaps);
    if (r) {
        say(s->why, s->whylen, "cannot read its memory map (%s)", strerror(-r));
        s->rc = -1;
        return;
    }
    if ((r = ct_pagemap_open(p->pid, &s->pm))) {
        say(s->why, s->whylen, "cannot open its pagemap (%s)", strerror(-r));
        s->rc = -1;
        return;
    }
    if (s->parent && (ct_live_maps(s->parent->pid, &s->qmaps, &s->nq) || ct_pagemap_open(s->parent->pid, &s->qpm)))
        s->parent = NULL;      /* the caller checked it; it went away since */
    const struct ct_live_proc *parent = s->parent;
    res->compared = parent != NULL;

    s->cache = (struct page_cache){
        .fd = open_mem(p->pid), .pm_fd = s->pm.fd, .maps = s->maps, .nmaps = s->nmaps, .psize = psize,
        .shift = shift,
    };
    s->parent_fd = parent ? open_mem(parent->pid) : -1;
    s->cache.slots = xcalloc(CACHE_SLOTS, sizeof(struct cache_slot) + psize);
    s->mem = (struct ct_memread){cache_read, &s->cache};
    ct_pyremote_find(p->pid, s->maps, s->nmaps, &s->mem, &s->py);
    /* 3.13+: the offsets the process publishes (_Py_DebugOffsets), checked */
    s->disc = (struct ct_discovery){0};
    const struct ct_pyver *pv = s->pv =
        s->py.found ? ct_pyver_discover(&s->mem, s->py.runtime, s->py.hexversion, &s->discovered, &s->disc) : NULL;
    /* A free-threaded build is never decoded with a GIL build's table,
     * whatever discovery fell back to. */
    if (pv && s->py.free_threaded && pv->header != CT_OBJHEAD_FREE_THREADED)
        pv = s->pv = ct_pyver_for_build(s->py.hexversion, 1);
    res->python = s->py.found;

    s->nregs = build_regions(p->pid, s->maps, s->nmaps, s->py.found ? s->py.path : NULL, &s->regs);

    struct ct_header h = {
        .version = CT_FORMAT_VERSION, .header_size = CT_HEADER_SIZE, .page_size = (uint32_t)psize,
        .pid = p->pid, .ppid = p->ppid, .mode = CT_MODE_SNAPSHOT,
        .fork_time_ns = ct_live_start_realtime_ns(p->start),
    };
    memcpy(h.magic, CT_MAGIC, 8);
    struct ct_writer *w = &s->w;
    if ((r = ct_writer_create(w, s->dir, &h))) {
        say(s->why, s->whylen, "cannot create its trace file in the output directory (%s)", strerror(-r));
        s->rc = -1;
        return;
    }
    snprintf(res->path, sizeof res->path, "%s", w->path);

    char exe[4096] = "", link[64], reason[512];
    snprintf(link, sizeof link, "/proc/%d/exe", (int)p->pid);
    ssize_t el = readlink(link, exe, sizeof exe - 1);
    exe[el > 0 ? el : 0] = 0;
    if (parent)
        snprintf(reason, sizeof reason, "snapshot of a running process against its parent %d (%s)", (int)parent->pid,
                 s->exact ? "frame numbers: exact" : "not root: the exclusively-mapped bit, no frame numbers");
    else
        snprintf(reason, sizeof reason, "snapshot of a running process (no parent to compare with)");
    int wr = ct_rec_process(w, CT_MODE_SNAPSHOT, 0, reason, exe, p->comm);
    /* Has it run a full collection since the fork? Its count against the
     * parent's, read the same way (the parent's interpreter is at the same
     * address: it was inherited). */
    uint32_t pyflags = s->py.shared ? CT_PY_SHARED : 0;
    s->mine_full = s->parent_full = -1;
    if (pv && parent) {
        struct page_cache pc = {
            .fd = s->parent_fd, .pm_fd = s->qpm.fd, .maps = s->qmaps, .nmaps = s->nq, .psize = psize, .shift = shift,
        };
        pc.slots = xcalloc(CACHE_SLOTS, sizeof(struct cache_slot) + psize);
        struct ct_memread pmem = {cache_read, &pc};
        s->mine_full = ct_py_full_collections(pv, &s->mem, s->py.runtime);
        s->parent_full = ct_py_full_collections(pv, &pmem, s->py.runtime);
        free(pc.slots);
        if (s->mine_full >= 0 && s->parent_full >= 0 && s->mine_full > s->parent_full)
            pyflags |= CT_PY_GC_COLLECTED;
    }
    if (!wr && s->py.found) {
        char version[64] = "";
        ct_pyversion_format(s->py.hexversion, version, sizeof version - 16);
        if (s->py.free_threaded) {
            strcat(version, " free-threaded");
            pyflags |= CT_PY_FREE_THREADED;
        }
        pyflags |= s->py.alloc_flags;
        wr = ct_rec_python(w, s->py.hexversion, s->py.runtime, pv != NULL, pyflags, version,
                           strlen(version), s->py.path);
        if (!wr && pv)
            wr = ct_rec_pylayout(w, (uint32_t)ct_pyver_nfields(), layout_field, pv, pv->name);
        if (!wr && s->disc.status == CT_DISCOVERY_REFUSED)
            wr = ct_rec_note(w, CT_NOTE_INFO, s->disc.why);
        if (!wr && s->py.alloc_why[0]) {
            char note[160];
            snprintf(note, sizeof note, "allocator %s: %s", ct_python_allocator_name(s->py.alloc_flags),
                     s->py.alloc_why);
            wr = ct_rec_note(w, CT_NOTE_INFO, note);
        }
    }
    for (size_t i = 0; i < s->nregs && !wr; i++) {
        const struct ct_vma *m = s->regs[i].vma;
        struct ct_region_desc d = {
            .id = (uint32_t)i, .kind = s->regs[i].kind, .prot = m->prot, .tracking = CT_TRACK_SNAPSHOT,
            .start = s->regs[i].start, .end = s->regs[i].end,
            .file_offset = m->offset + (s->regs[i].start - m->start), .inode = m->inode, .name = s->regs[i].name,
        };
        wr = ct_rec_region(w, &d);
    }

    /* Page sets, region by region. */
    struct copied *cop = NULL;
    size_t ncop = 0, copcap = 0;
    struct parent_cursor qcur = {0};
    uint64_t *we = xmalloc(CHUNK_PAGES * sizeof *we), *qe = xmalloc(CHUNK_PAGES * sizeof *qe);
    struct runs present = {0}, written = {0};
    for (size_t i = 0; i < s->nregs && !wr && !res->incomplete; i++) {
        const struct ct_vma *m = s->regs[i].vma;
        runs_reset(&present);
        runs_reset(&written);
        uint64_t lo = s->regs[i].start, hi = s->regs[i].end;
        for (uint64_t a = lo; a < hi && !wr; a += (uint64_t)CHUNK_PAGES << shift) {
            uint64_t b = hi - a > ((uint64_t)CHUNK_PAGES << shift) ? a + ((uint64_t)CHUNK_PAGES << shift) : hi;
            size_t n = (size_t)((b - a) >> shift);
            if (ct_pagemap_read(&s->pm, a, b, shift, we)) {
                res->incomplete = true;
                break;
            }
            if (parent && s->pmap)
                ct_parentmap_fill(s->pmap, a, b, shift, qe);
            else if (!parent || ct_pagemap_read(&s->qpm, a, b, shift, qe))
                memset(qe, 0, n * sizeof *qe);
            for (size_t k = 0; k < n && !wr; k++) {
                uint64_t addr = a + ((uint64_t)k << shift), pg = (addr - lo) >> shift;
                if (!parent) {
                    /* Nothing to compare with: its resident pages, as "tracked". */
                    if (we[k] & CT_PM_PRESENT)
                        wr = runs_add(&present, w, CT_REC_PRESENT, (uint32_t)i, pg);
                    continue;
                }
                uint64_t q = parent && inherited(s->qmaps, s->nq, &qcur, m, addr) ? qe[k] : 0;
                enum ct_page_class c = ct_page_classify(we[k], q, s->exact);
                if (c == CT_PAGE_SHARED || c == CT_PAGE_COPIED)
                    wr = runs_add(&present, w, CT_REC_PRESENT, (uint32_t)i, pg);
                if (!wr && (c == CT_PAGE_COPIED || c == CT_PAGE_FRESH))
                    wr = runs_add(&written, w, CT_REC_WRITTEN, (uint32_t)i, pg);
                res->shared += c == CT_PAGE_SHARED;
                res->copied += c == CT_PAGE_COPIED;
                res->fresh += c == CT_PAGE_FRESH;
                if (c == CT_PAGE_COPIED) {
                    if (ncop == copcap) {
                        copcap = copcap ? 2 * copcap : 1024;
                        cop = xreallocarray(cop, copcap, sizeof *cop);
                    }
                    cop[ncop++] = (struct copied){addr, (uint32_t)i};
                }
            }
        }
        if (!wr)
            wr = runs_close(&present, w, CT_REC_PRESENT, (uint32_t)i);
        if (!wr)
            wr = runs_emit(&present, w, CT_REC_PRESENT, (uint32_t)i);
        if (!wr)
            wr = runs_close(&written, w, CT_REC_WRITTEN, (uint32_t)i);
        if (!wr)
            wr = runs_emit(&written, w, CT_REC_WRITTEN, (uint32_t)i);
        qcur = (struct parent_cursor){0};
    }
    free(present.b);
    free(written.b);
    free(we);
    free(qe);
    s->cop = cop;
    s->ncop = ncop;
    s->wr = wr;

    ct_test_pause(CT_PAUSE_PAGES, p->pid);

    /* The causes of the copied pages come next (snap_causes). */
    if (ct_pyver_knows_objects(pv) && parent && !wr && !res->incomplete) {
        struct attrib_ctx *a = &s->a;
        *a = (struct attrib_ctx){
            .v = pv, .mem = s->mem, .dict_type = s->py.dict_type, .fd = s->cache.fd, .parent_fd = s->parent_fd,
            .pid = p->pid, .psize = psize,
        };
        a->types = (struct types){.v = pv, .mem = &a->mem};
        a->dec = (struct ct_pydecoder){.v = pv, .mem = &a->mem, .type_of = type_of, .type_ctx = &a->types,
                                       .no_pymalloc = !!(s->py.alloc_flags & CT_PY_NO_PYMALLOC)};
        a->mine = xmalloc(psize);
        a->theirs = xmalloc(psize);
        s->causes = true;
    }
}

static bool attributing(const struct snap_state *s)
{
    return s->rc == 0 && s->causes && !s->wr && !s->res->incomplete && s->next < s->ncop;
}

/* The causes of the copied pages of n siblings (processes of one parent),
 * in address order, a window of RUN_PAGES pages at a time: the parent's
 * pages that any of them copied there are read once, with one system call
 * per run, and each sibling's copied pages there (one call per run); then
 * each sibling's pages are compared with the parent's, and a page that
 * differs in no word is summarized once for all of them (sum_memo). Each
 * sibling's records still go to its own file in address order.
 *
 * With two CPUs or more the reading (system time, most of a snapshot) is
 * done by a reader thread up to RING_WINDOWS windows ahead of the
 * comparing and summarizing (user time) in this one: a pipeline, where
 * neither waits for the other unless the ring is full or empty (measured:
 * threads that met at a barrier every window were slower than one thread
 * on a loaded machine, each meeting a wake-up that waited for a core).
 * The reader inherits the command's priority. Only the reader reads
 * ahead; everything a sibling's file holds is decided here, in the same
 * order as without it. (Measured on 4 workers that each copied the same
 * 823 MiB: README, issue 10.) */
#define RING_WINDOWS 4u

struct ring_window {
    uint64_t lo;
    size_t *begin, *end;       /* each sibling's copied pages here: cop[begin, end) */
    bool ok[RUN_PAGES];        /* the parent's copy of the page was read */
    uint8_t *theirs;           /* the parent's copies, RUN_PAGES pages */
    uint8_t *mine;             /* sibling i's copies at i * RUN_PAGES pages */
    bool *have;                /* sibling i's page j read: have[i * RUN_PAGES + j] */
};

struct causes_ring {
    struct snap_state **g;
    size_t n, psize;
    int parent_fd;
    size_t *rnext;             /* the reader's next copied page, per sibling */
    bool *active;              /* attributing when the causes began */
    struct ring_window win[RING_WINDOWS];
    pthread_mutex_t mu;
    pthread_cond_t filled, emptied;
    size_t produced, consumed;
    bool finished, reader_waits, consumer_waits;
};

/* Reads the next window into w; false when no copied page is left. Reads
 * nothing but the siblings' page lists and fds (the attributing side
 * changes neither). */
static bool fill_window(struct causes_ring *r, struct ring_window *w)
{
    size_t n = r->n, psize = r->psize;
    uint64_t lo = UINT64_MAX;
    for (size_t i = 0; i < n; i++)
        if (r->active[i] && r->rnext[i] < r->g[i]->ncop && r->g[i]->cop[r->rnext[i]].addr < lo)
            lo = r->g[i]->cop[r->rnext[i]].addr;
    if (lo == UINT64_MAX)
        return false;
    uint64_t hi = lo + RUN_PAGES * psize;
    if (hi < lo)
        hi = UINT64_MAX;
    w->lo = lo;
    bool need[RUN_PAGES] = {false};
    memset(w->have, 0, n * RUN_PAGES * sizeof *w->have);
    for (size_t i = 0; i < n; i++) {
        const struct snap_state *s = r->g[i];
        size_t k = w->begin[i] = r->rnext[i];
        while (r->active[i] && k < s->ncop && s->cop[k].addr < hi)
            k++;
        w->end[i] = r->rnext[i] = k;
        for (size_t x = w->begin[i]; x < w->end[i];) {
            size_t y = x + 1;
            while (y < w->end[i] && s->cop[y].addr == s->cop[x].addr + (y - x) * psize)
                y++;
            size_t j = (size_t)((s->cop[x].addr - lo) / psize);
            bool got = read_remote(s->cache.fd, s->cop[x].addr, w->mine + (i * RUN_PAGES + j) * psize,
                                   (y - x) * psize) == 0;
            for (size_t z = j; z < j + (y - x); z++) {
                w->have[i * RUN_PAGES + z] = got;
                need[z] = true;
            }
            x = y;
        }
    }
    /* Only pages someone copied: the parent has them (reading one it does
     * not have would fault it in). */
    memset(w->ok, 0, sizeof w->ok);
    for (size_t j = 0; j < RUN_PAGES;) {
        if (!need[j]) {
            j++;
            continue;
        }
        size_t e = j;
        while (e < RUN_PAGES && need[e])
            e++;
        bool got = read_remote(r->parent_fd, lo + j * psize, w->theirs + j * psize, (e - j) * psize) == 0;
        for (; j < e; j++)
            w->ok[j] = got;
    }
    return true;
}

static void attribute_window(struct causes_ring *r, const struct ring_window *w, struct sum_memo *memo)
{
    size_t psize = r->psize;
    for (size_t j = 0; j < RUN_PAGES; j++)
        memo[j].state = MEMO_NONE;
    for (size_t i = 0; i < r->n; i++) {
        struct snap_state *s = r->g[i];
        if (!attributing(s))
            continue;
        /* a read of one of these pages while a page is decoded is served
         * from the window */
        s->cache.hint_lo = w->lo;
        s->cache.hint_pages = RUN_PAGES;
        s->cache.hint_data = w->mine + i * RUN_PAGES * psize;
        s->cache.hint_have = w->have + i * RUN_PAGES;
        for (size_t k = w->begin[i]; k < w->end[i]; k++) {
            size_t j = (size_t)((s->cop[k].addr - w->lo) / psize);
            int got = attribute_page(&s->a, &s->w, &s->regs[s->cop[k].region], s->cop[k].addr,
                                     w->have[i * RUN_PAGES + j] ? w->mine + (i * RUN_PAGES + j) * psize : NULL,
                                     w->ok[j] ? w->theirs + j * psize : NULL, w->ok[j] ? &memo[j] : NULL,
                                     &s->res->differing);
            if (got < 0)
                s->wr = -1;
            else if (got == 0 && gone(s->p))
                s->res->incomplete = true;
            else
                s->res->inferred += got == 1;
            if (s->wr || s->res->incomplete)
                break;
        }
        s->next = w->end[i];
        s->cache.hint_data = NULL;
    }
}

static void *causes_reader(void *arg)
{
    struct causes_ring *r = arg;
    for (;;) {
        pthread_mutex_lock(&r->mu);
        /* full: wait for half of it to be free (a wake-up per half ring,
         * not per window) */
        if (r->produced - r->consumed == RING_WINDOWS) {
            r->reader_waits = true;
            while (r->produced - r->consumed > RING_WINDOWS / 2)
                pthread_cond_wait(&r->emptied, &r->mu);
            r->reader_waits = false;
        }
        struct ring_window *w = &r->win[r->produced % RING_WINDOWS];
        pthread_mutex_unlock(&r->mu);
        bool more = fill_window(r, w);
        pthread_mutex_lock(&r->mu);
        if (more)
            r->produced++;
        else
            r->finished = true;
        if (r->consumer_waits && (!more || r->produced - r->consumed >= RING_WINDOWS / 2))
            pthread_cond_signal(&r->filled);
        pthread_mutex_unlock(&r->mu);
        if (!more)
            return NULL;
    }
}

static void snap_causes(struct snap_state **g, size_t n)
{
    struct causes_ring r = {.g = g, .n = n, .parent_fd = -1};
    bool any = false;
    r.active = xcalloc(n ? n : 1, sizeof *r.active);
    r.rnext = xcalloc(n ? n : 1, sizeof *r.rnext);
    for (size_t i = 0; i < n; i++)
        if ((r.active[i] = attributing(g[i]))) {
            r.rnext[i] = g[i]->next;
            /* The parent's memory (-1 if it could not be opened: then every
             * read of it fails, and each page is summarized from the
             * process's copy, as when its parent's page cannot be read). */
            if (!any)
                r.parent_fd = g[i]->parent_fd;
            any = true;
        }
    if (!any) {
        free(r.active);
        free(r.rnext);
        return;
    }
    size_t psize = r.psize = g[0]->psize;
    long cpus = ct_test_one_thread() ? 1 : sysconf(_SC_NPROCESSORS_ONLN);
    size_t nwin = cpus > 1 ? RING_WINDOWS : 1;
    for (size_t k = 0; k < nwin; k++) {
        struct ring_window *w = &r.win[k];
        w->begin = xcalloc(n, sizeof *w->begin);
        w->end = xcalloc(n, sizeof *w->end);
        w->theirs = xmalloc(RUN_PAGES * psize);
        w->mine = xmalloc(n * RUN_PAGES * psize);
        w->have = xcalloc(n * RUN_PAGES, sizeof *w->have);
    }
    struct sum_memo *memo = xcalloc(RUN_PAGES, sizeof *memo);
    pthread_t reader;
    pthread_mutex_init(&r.mu, NULL);
    pthread_cond_init(&r.filled, NULL);
    pthread_cond_init(&r.emptied, NULL);
    if (nwin > 1 && pthread_create(&reader, NULL, causes_reader, &r) == 0) {
        for (;;) {
            pthread_mutex_lock(&r.mu);
            /* empty: wait for half a ring (or the end) */
            if (r.consumed == r.produced && !r.finished) {
                r.consumer_waits = true;
                while (r.produced - r.consumed < RING_WINDOWS / 2 && !r.finished)
                    pthread_cond_wait(&r.filled, &r.mu);
                r.consumer_waits = false;
            }
            bool have = r.consumed < r.produced;
            const struct ring_window *w = &r.win[r.consumed % RING_WINDOWS];
            pthread_mutex_unlock(&r.mu);
            if (!have)
                break;
            attribute_window(&r, w, memo);
            pthread_mutex_lock(&r.mu);
            r.consumed++;
            if (r.reader_waits && r.produced - r.consumed <= RING_WINDOWS / 2)
                pthread_cond_signal(&r.emptied);
            pthread_mutex_unlock(&r.mu);
        }
        pthread_join(reader, NULL);
    } else
        while (fill_window(&r, &r.win[0]))
            attribute_window(&r, &r.win[0], memo);
    pthread_mutex_destroy(&r.mu);
    pthread_cond_destroy(&r.filled);
    pthread_cond_destroy(&r.emptied);
    for (size_t k = 0; k < nwin; k++) {
        free(r.win[k].begin);
        free(r.win[k].end);
        free(r.win[k].theirs);
        free(r.win[k].mine);
        free(r.win[k].have);
    }
    free(memo);
    free(r.active);
    free(r.rnext);
}

/* The causes' last records, the notes, END; then everything is let go. */
static int snap_end(struct snap_state *s)
{
    const struct ct_live_proc *p = s->p;
    struct ct_snap_result *res = s->res;
    struct ct_writer *w = &s->w;
    int wr = s->wr;
    if (s->rc)
        goto out;
    if (s->causes) {
        struct attrib_ctx *a = &s->a;
        res->inferred -= res->differing;
        if (!wr)
            wr = sum_flush(a, w);
        int tw = types_write(&a->types, wr ? NULL : w);
        if (!wr)
            wr = tw;
        free(a->mine);
        free(a->theirs);
        free(a->sb);
    }
    if (gone(p))
        res->incomplete = true;

    /* What the reader should know about this file. */
    char note[1024];
    if (!s->parent)
        ct_rec_note(w, CT_NOTE_INFO, "no parent to compare with (the parent runs another program, or "
                                     "cannot be read): its resident pages are listed as tracked, none as copied");
    else {
        ct_rec_note(w, CT_NOTE_INFO, "a snapshot sees only the end state: not which write came first, "
                                     "nor its stack; a page the parent itself wrote after the fork counts "
                                     "as copied by this process");
        if (!s->exact)
            ct_rec_note(w, CT_NOTE_INFO, "not root: frame numbers unreadable; a page counts as this process's "
                                         "own when mapped by it alone (exclusively mapped), so a page shared "
                                         "with a sibling or a child but not with the parent counts as shared");
    }
    if (!s->py.found)
        ct_rec_note(w, CT_NOTE_INFO, "not a Python process: page sets only, no causes");
    if (s->mine_full >= 0 && s->parent_full >= 0) {
        snprintf(note, sizeof note, "full garbage collections: %lld in this process, %lld in its parent%s",
                 (long long)s->mine_full, (long long)s->parent_full,
                 s->mine_full > s->parent_full ? " (it ran one since the fork: pages of objects the collector "
                                                 "tracks that differ in no word are inferred gc)" : "");
        ct_rec_note(w, CT_NOTE_INFO, note);
    }
    if (res->inferred) {
        snprintf(note, sizeof note,
                 "%llu of %llu copied pages differ from the parent's in no word (the write was undone: a "
                 "reference count back where it was, GC links restored): their causes are inferred",
                 (unsigned long long)res->inferred, (unsigned long long)res->copied);
        ct_rec_note(w, CT_NOTE_INFO, note);
    }
    if (wr)
        ct_rec_note(w, CT_NOTE_INCOMPLETE, "the trace file is full: records are missing");
    if (res->incomplete)
        ct_rec_note(w, CT_NOTE_INCOMPLETE, "the process exited while it was read: pages and causes are missing");
    /* It runs on: END "stopped". One that exited gets no END (the report
     * then says it ended before its trace was finished, which is so). */
    if (!res->incomplete || wr)
        ct_rec_end(w, CT_END_STOPPED, 0, now_ns(), 0, 0);
    ct_writer_finish(w);
    ct_writer_abandon(w);
out:
    free(s->cop);
    for (size_t i = 0; i < s->nregs; i++)
        free(s->regs[i].name);
    free(s->regs);
    free(s->cache.slots);
    if (s->cache.fd >= 0)
        close(s->cache.fd);
    if (s->parent_fd >= 0)
        close(s->parent_fd);
    ct_pagemap_close(&s->pm);
    ct_pagemap_close(&s->qpm);
    ct_live_maps_free(s->maps, s->nmaps);
    ct_live_maps_free(s->qmaps, s->nq);
    return s->rc;
}

/* Up to SIBLING_THREADS threads (one per online CPU) read the siblings'
 * maps and page maps (snap_begin: mostly the kernel's pagemap walks),
 * each its share of them, nothing shared between them; they inherit the
 * command's priority. */
#define SIBLING_THREADS 8

struct sibling_group {
    struct snap_state **g;
    size_t n;
};

static void *begin_group(void *arg)
{
    struct sibling_group *gr = arg;
    for (size_t i = 0; i < gr->n; i++)
        snap_begin(gr->g[i]);
    return NULL;
}

static size_t sibling_threads(size_t n)
{
    long cpus = ct_test_one_thread() ? 1 : sysconf(_SC_NPROCESSORS_ONLN);
    size_t want = cpus > 1 ? (size_t)cpus : 1;
    if (want > SIBLING_THREADS)
        want = SIBLING_THREADS;
    return want < n ? want : (n ? n : 1);
}

int ct_snapshot_write_siblings(const struct ct_live_proc *procs, size_t n, const struct ct_live_proc *parent,
                               const char *dir, bool exact, struct ct_snap_result *res, int *rc, char *why,
                               size_t whylen)
{
    struct snap_state *st = xcalloc(n ? n : 1, sizeof *st);
    struct snap_state **g = xcalloc(n ? n : 1, sizeof *g);
    for (size_t i = 0; i < n; i++) {
        st[i] = (struct snap_state){
            .p = &procs[i], .parent = parent, .dir = dir, .exact = exact, .res = &res[i], .why = why + i * whylen,
            .whylen = whylen,
        };
        g[i] = &st[i];
    }
    ct_live_start_realtime_ns(0);      /* its boot time, read once, before the threads */
    /* Siblings share their parent's page map: read once here, not once
     * per sibling (measured: the parent's reads were half of the page-map
     * reads). One process alone reads it chunk by chunk (snap_begin). */
    struct ct_parentmap pmap = {0};
    if (parent && n > 1) {
        long psz = sysconf(_SC_PAGESIZE);
        unsigned shift = (unsigned)__builtin_ctzl(psz > 0 ? (size_t)psz : 4096);
        bool have = ct_parentmap_read(parent->pid, shift, exact, &pmap) == 0;
        for (size_t i = 0; i < n && have; i++)
            st[i].pmap = &pmap;
    }
    size_t ngroups = sibling_threads(n);
    struct sibling_group groups[SIBLING_THREADS];
    pthread_t tids[SIBLING_THREADS];
    bool started[SIBLING_THREADS] = {false};
    for (size_t k = 0; k < ngroups; k++) {
        size_t from = k * n / ngroups, to = (k + 1) * n / ngroups;
        groups[k] = (struct sibling_group){g + from, to - from};
        if (k)
            started[k] = pthread_create(&tids[k], NULL, begin_group, &groups[k]) == 0;
    }
    begin_group(&groups[0]);
    for (size_t k = 1; k < ngroups; k++)
        if (started[k])
            pthread_join(tids[k], NULL);
        else
            begin_group(&groups[k]);    /* no thread for it: here */
    ct_parentmap_free(&pmap);
    snap_causes(g, n);
    int failed = 0;
    for (size_t i = 0; i < n; i++)
        failed |= rc[i] = snap_end(&st[i]);
    free(g);
    free(st);
    return failed ? -1 : 0;
}

int ct_snapshot_write(const struct ct_live_proc *p, const struct ct_live_proc *parent, const char *dir,
                      bool exact, struct ct_snap_result *res, char *why, size_t whylen)
{
    int rc;
    return ct_snapshot_write_siblings(p, 1, parent, dir, exact, res, &rc, why, whylen);
}
