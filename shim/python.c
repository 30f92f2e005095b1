/*
 * python.c - what a write hit, in CPython's terms.
 *
 * At fork the parent's interpreter is identified (Py_Version, _PyRuntime)
 * and its layout looked up in common/pylayout_*.c. In the child, for the
 * first write to a page (sync backends) or for each written page
 * (uffd-async), the shim reads the memory around the address - before the
 * write lands - and records evidence: the pymalloc pool and block holding
 * it, and the object header found there with its type. Deciding the cause
 * (reference count, GC link, ...) from that evidence is the analyzer's job.
 *
 * Everything here runs in signal handlers or the flusher thread: reads only
 * (of memory that is mapped: checked against the region table, or done
 * with process_vm_readv, which fails cleanly where a load would fault),
 * allocation-free, lock-free. Types are cached in an open-addressing set in
 * the arena; the first sight of a type writes its CT_REC_PYTYPE record.
 */
#include <dlfcn.h>
#include <fcntl.h>
#include <setjmp.h>
#include <ucontext.h>
#include <link.h>
#include <sys/mman.h>
#include <sys/uio.h>

#include "ct_shim.h"
#include "pylayout.h"

#define CT_TYPESET_SIZE 16384u   /* power of two */

struct ct_typeent {
    _Atomic uintptr_t addr;      /* 0 = empty */
    _Atomic int ready;
    uint32_t index;
    uint64_t flags;
    int64_t basicsize;
};

struct ct_pyinfo {
    const struct ct_pylayout *L;
    int guarded;                 /* reads by guarded loads (sync backends) */
    struct ct_typeent *types;
    _Atomic uint32_t ntypes;
};

static struct ct_pyinfo *py;   /* in the arena; NULL when no layout */

/* ---- the parent: which interpreter is this? ------------------------------ */

struct find_object {
    uintptr_t addr;
    int found;
    int main_program;
    char path[PATH_MAX];
};

static int find_defining_object(struct dl_phdr_info *info, size_t size, void *data)
{
    (void)size;
    struct find_object *f = data;
    for (int i = 0; i < info->dlpi_phnum; i++) {
        const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
        uintptr_t lo = info->dlpi_addr + ph->p_vaddr;
        if (ph->p_type == PT_LOAD && f->addr >= lo && f->addr < lo + ph->p_memsz) {
            f->found = 1;
            f->main_program = !info->dlpi_name || !info->dlpi_name[0];
            if (!f->main_program) {
                size_t n = ct_strlen(info->dlpi_name);
                if (n >= sizeof f->path)
                    n = sizeof f->path - 1;
                ct_memcpy(f->path, info->dlpi_name, n);
                f->path[n] = 0;
            }
            return 1;
        }
    }
    return 0;
}

/* In the parent, before fork: which interpreter is this, and where is it?
 * Libraries can still be loaded later (an embedding host dlopens its
 * Python plugin), so a miss is retried at the next fork. */
void ct_py_identify(void)
{
    if (ct_cfg.py_hexversion)
        return;
    const unsigned long *ver = dlsym(RTLD_DEFAULT, "Py_Version");
    void *runtime = dlsym(RTLD_DEFAULT, "_PyRuntime");
    if (!ver || !runtime)
        return;
    struct find_object f = {.addr = (uintptr_t)runtime};
    dl_iterate_phdr(find_defining_object, &f);
    if (!f.found)
        return;
    if (f.main_program) {
        long n = ct_sys4(SYS_readlinkat, AT_FDCWD, "/proc/self/exe", f.path, sizeof f.path - 1);
        f.path[ct_is_err(n) ? 0 : n] = 0;
    }
    ct_memcpy(ct_cfg.py_path, f.path, sizeof ct_cfg.py_path);
    ct_cfg.py_runtime = (uintptr_t)runtime;
    ct_cfg.py_dict_type = (uintptr_t)dlsym(RTLD_DEFAULT, "PyDict_Type");
    ct_cfg.py_shared = !f.main_program;
    ct_cfg.py_hexversion = *ver;
}

/* ---- reads that cannot fault, and copy nothing --------------------------------
 *
 * The region table describes memory at fork; since then the program may
 * have unmapped some of it (Python frees empty arenas), so a load from it
 * could fault. And the obvious fault-proof reads copy memory: process_vm_readv
 * pins the pages it reads, and pinning a page still shared with the parent
 * makes the kernel copy it; reads through /proc/self/mem measurably copied
 * pages too (the perturbation test counts them). So:
 *   - inside a view, plain loads: bytes known to be mapped (the page being
 *     written) or already copied out;
 *   - in the fault handler (sync backends), a guarded load: a plain load
 *     that, if it faults, is abandoned - our SIGSEGV handler sees the probe
 *     and jumps back (ct_probe_recover);
 *   - in the uffd-async flusher, which owns no signal handler,
 *     process_vm_readv, limited to pages the child already copied, plus
 *     the few type objects it must validate.
 */
struct ct_view {
    uintptr_t base;
    size_t len;
    const uint8_t *data;
};

#define CT_PROBE_SLOTS 64
/* A probe is known by its stack frame rather than its thread id: finding
 * the id is a system call, and reads come by the hundred thousand. The
 * faulting context's stack pointer lies just below the probe's frame. */
static struct {
    _Atomic uintptr_t frame;     /* 0 = free */
    sigjmp_buf *volatile jb;
} probes[CT_PROBE_SLOTS];

static void copy_words(void *out, uintptr_t addr, size_t n)
{
    /* Word loads where aligned: summaries read hundreds of thousands. */
    uint8_t *dst = out;
    size_t i = 0;
    if (!(addr & 7) && !((uintptr_t)dst & 7))
        for (; i + 8 <= n; i += 8)
            *(uint64_t *)(dst + i) = *(volatile const uint64_t *)(addr + i);
    for (; i < n; i++)
        dst[i] = *(volatile const uint8_t *)(addr + i);
}

static int probe_claim(uintptr_t frame)
{
    for (int i = 0; i < CT_PROBE_SLOTS; i++) {
        uintptr_t expected = 0;
        if (atomic_compare_exchange_strong(&probes[i].frame, &expected, frame))
            return i;
    }
    return -1;
}

static void probe_release(int slot)
{
    probes[slot].jb = NULL;
    atomic_store(&probes[slot].frame, 0);
}

/* Copy n pieces; a piece whose read faults is zeroed and reported in
 * failed[] (if given). One probe for the lot. */
static __attribute__((noinline)) size_t guarded_copy_many(struct iovec *local, const struct iovec *remote,
                                                         size_t n)
{
    volatile int slot = probe_claim((uintptr_t)__builtin_frame_address(0));
    if (slot < 0)
        return 0;
    volatile size_t i = 0, good = 0;
    sigjmp_buf jb;
    if (sigsetjmp(jb, 0) != 0) {
        /* piece i faulted: zero it and go on with the next */
        ct_memset(local[i].iov_base, 0, local[i].iov_len);
        i = i + 1;
    }
    probes[slot].jb = &jb;
    while (i < n) {
        copy_words(local[i].iov_base, (uintptr_t)remote[i].iov_base, local[i].iov_len);
        i = i + 1;
        good = good + 1;
    }
    probe_release(slot);
    return good;
}

static int guarded_copy(void *out, uintptr_t addr, size_t n)
{
    struct iovec l = {.iov_base = out, .iov_len = n}, r = {.iov_base = (void *)addr, .iov_len = n};
    return guarded_copy_many(&l, &r, 1) == 1 ? 0 : -1;
}

/* From the SIGSEGV/SIGBUS handler: a fault inside a guarded load returns
 * to it as a failed read. */
void ct_probe_recover(void *uc)
{
    ucontext_t *u = uc;
#if defined(__x86_64__)
    uintptr_t sp = (uintptr_t)u->uc_mcontext.gregs[REG_RSP];
#else
    uintptr_t sp = (uintptr_t)u->uc_mcontext.sp;
#endif
    for (int i = 0; i < CT_PROBE_SLOTS; i++) {
        uintptr_t f = atomic_load_explicit(&probes[i].frame, memory_order_relaxed);
        if (f && sp <= f && f - sp < 4096 && probes[i].jb)
            siglongjmp(*probes[i].jb, 1);
    }
}

static int safe_peek(uintptr_t addr, void *out, size_t n)
{
    if (addr < 4096 || addr + n < addr || !py)
        return -1;
    if (py->guarded)
        return guarded_copy(out, addr, n);
    struct iovec local = {.iov_base = out, .iov_len = n};
    struct iovec remote = {.iov_base = (void *)addr, .iov_len = n};
    long got = ct_sys6(SYS_process_vm_readv, ct_getpid(), (long)&local, 1, (long)&remote, 1, 0);
    return got == (long)n ? 0 : -1;
}

static int vpeek(const struct ct_view *v, uintptr_t addr, void *out, size_t n)
{
    if (v && addr >= v->base && addr + n <= v->base + v->len && addr + n > addr) {
        ct_memcpy(out, v->data + (addr - v->base), n);
        return 0;
    }
    return safe_peek(addr, out, n);
}

static int peek(uintptr_t addr, void *out, size_t n)
{
    return safe_peek(addr, out, n);
}

/* Reads switch to guarded loads once a SIGSEGV handler of ours stands by
 * (uffd-async turns them on when it starts). */
void ct_py_guarded_reads(int on)
{
    if (py)
        py->guarded = on;
}

static void probe_fault(int sig, siginfo_t *si, void *uc)
{
    ct_probe_recover(uc);
    ct_chain_signal(sig, si, uc);
}

void *ct_py_probe_handler(void)
{
    return (void *)probe_fault;
}

/* For stacks.c: the same fault-proof read, and the layout in use. */
int ct_py_read(uintptr_t addr, void *out, size_t n)
{
    return safe_peek(addr, out, n);
}

const struct ct_pylayout *ct_py_layout(void)
{
    return py ? py->L : NULL;
}

static int peek_u64(uintptr_t addr, uint64_t *v)
{
    return safe_peek(addr, v, sizeof *v);
}

/* ---- types --------------------------------------------------------------- */

static void write_pytype(struct ct_state *st, uintptr_t t, const struct ct_typeent *e)
{
    const struct ct_pylayout *L = py->L;
    char name[160];
    size_t len = 0;
    uint64_t name_ptr = 0;
    if (peek_u64(t + L->tp_name, &name_ptr) == 0 && name_ptr) {
        /* Read in small steps: the string may end just before unmapped memory. */
        while (len < sizeof name) {
            char chunk[16];
            size_t want = sizeof name - len < sizeof chunk ? sizeof name - len : sizeof chunk;
            if (peek(name_ptr + len, chunk, want))
                break;
            size_t k = 0;
            while (k < want && chunk[k] >= 0x20 && chunk[k] < 0x7f)
                name[len++] = chunk[k++];
            if (k < want)
                break;
        }
    }
    int64_t itemsize = 0;
    peek(t + L->tp_itemsize, &itemsize, sizeof itemsize);
    ct_rec_pytype(&st->w, t, e->index, e->flags, e->basicsize, itemsize, name, len);
}

/* Is t a type object? A pointer that merely lands on memory looking like
 * one must not pass: its type and its type's type must be types, it must be
 * initialised (READY), and its name must start like an identifier. */
static int is_metatype(uintptr_t m)
{
    uint64_t f;
    return m && !(m & 7) && peek_u64(m + py->L->tp_flags, &f) == 0 && (f & py->L->tpflags_type_subclass) &&
           (f & py->L->tpflags_ready);
}

static int read_type(uintptr_t t, uint64_t *flags, int64_t *basicsize)
{
    const struct ct_pylayout *L = py->L;
    uint64_t meta, metameta, name_ptr;
    char c;
    if ((t & 7) || t < 4096 || peek_u64(t + L->ob_type, &meta) || !is_metatype(meta) ||
        peek_u64(meta + L->ob_type, &metameta) || !is_metatype(metameta))
        return 0;
    if (peek_u64(t + L->tp_flags, flags) || !(*flags & L->tpflags_ready) ||
        peek(t + L->tp_basicsize, basicsize, sizeof *basicsize) ||
        peek_u64(t + L->tp_name, &name_ptr) || peek(name_ptr, &c, 1) ||
        !((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_'))
        return 0;
    return *basicsize >= (int64_t)L->object_size && *basicsize < (1 << 24) && !(*basicsize & 7);
}

/* The cached entry for type pointer t, validating and recording it on first
 * sight. NULL if t is not a type. */
static const struct ct_typeent *type_of(struct ct_state *st, uintptr_t t, struct ct_typeent *scratch)
{
    if (!t)
        return NULL;
    uint32_t mask = CT_TYPESET_SIZE - 1;
    uint32_t h = (uint32_t)((t >> 4) * 0x9E3779B1u) & mask;
    for (uint32_t i = 0; i < CT_TYPESET_SIZE; i++, h = (h + 1) & mask) {
        struct ct_typeent *e = &py->types[h];
        uintptr_t cur = atomic_load_explicit(&e->addr, memory_order_acquire);
        if (cur == t) {
            if (atomic_load_explicit(&e->ready, memory_order_acquire))
                return e;
            break;   /* being filled by another thread: validate on our own */
        }
        if (cur != 0)
            continue;
        /* Validate before claiming the slot: the set holds only types. */
        if (!read_type(t, &scratch->flags, &scratch->basicsize))
            return NULL;
        uintptr_t expected = 0;
        if (!atomic_compare_exchange_strong(&e->addr, &expected, t)) {
            if (expected == t)
                return scratch;
            continue;
        }
        e->flags = scratch->flags;
        e->basicsize = scratch->basicsize;
        e->index = atomic_fetch_add(&py->ntypes, 1) + 1;
        atomic_store_explicit(&e->ready, 1, memory_order_release);
        write_pytype(st, t, e);
        return e;
    }
    return read_type(t, &scratch->flags, &scratch->basicsize) ? scratch : NULL;
}

/* Bytes in front of an object of this type: GC head, managed-dict pre-header. */
static uint32_t preheader(const struct ct_typeent *e)
{
    const struct ct_pylayout *L = py->L;
    uint32_t n = 0;
    if (e->flags & L->tpflags_have_gc)
        n += L->gc_head_size;
    if (e->flags & L->tpflags_managed_dict)
        n += L->managed_dict_preheader;
    return n;
}

/* An object whose header starts at `obj`? `before` says what must precede
 * it: an exact pre-header size (a pymalloc block's start), or any, or a
 * GC head at least. */
#define CT_BEFORE_ANY (~0u)
#define CT_BEFORE_GC  (~1u)
static const struct ct_typeent *object_at(struct ct_state *st, const struct ct_view *v, uintptr_t obj,
                                          uint32_t before, struct ct_typeent *scratch)
{
    uint64_t t;
    if (vpeek(v, obj + py->L->ob_type, &t, sizeof t))
        return NULL;
    const struct ct_typeent *e = type_of(st, (uintptr_t)t, scratch);
    if (!e)
        return NULL;
    if (before == CT_BEFORE_GC)
        return (e->flags & py->L->tpflags_have_gc) ? e : NULL;
    if (before != CT_BEFORE_ANY && preheader(e) != before)
        return NULL;
    return e;
}

/* ---- pymalloc ------------------------------------------------------------- */

/* The size class of the pool at p, or 0 if p does not hold a pool header. */
static uint32_t pool_block_size(const struct ct_view *v, uintptr_t p)
{
    const struct ct_pylayout *L = py->L;
    uint32_t hdr[12];
    if (vpeek(v, p, hdr, sizeof hdr))
        return 0;
    uint32_t count = hdr[L->pool_count / 4];
    uint32_t szidx = hdr[L->pool_szidx / 4];
    uint32_t next = hdr[L->pool_nextoffset / 4];
    uint32_t maxnext = hdr[L->pool_maxnextoffset / 4];
    if (szidx >= L->small_request_threshold / L->alignment)
        return 0;
    uint32_t size = (szidx + 1) * L->alignment;
    if (maxnext != L->pool_size - size || next < L->pool_overhead || next > L->pool_size ||
        (next - L->pool_overhead) % size != 0 || count > (L->pool_size - L->pool_overhead) / size)
        return 0;
    return size;
}

static void note_object(const struct ct_view *v, struct ct_py_evidence *ev, uintptr_t obj, uint8_t how)
{
    uint64_t t = 0;
    vpeek(v, obj + py->L->ob_type, &t, sizeof t);
    ev->obj = obj;
    ev->type = (uintptr_t)t;
    ev->obj_how = how;
}

/* The object in a pymalloc block, if the block holds a live one. */
static const struct ct_typeent *block_object(struct ct_state *st, const struct ct_view *v, uintptr_t block,
                                             uint32_t size, uintptr_t *obj, struct ct_typeent *scratch)
{
    const struct ct_pylayout *L = py->L;
    static const uint8_t gc_md[3][2] = {{0, 0}, {1, 0}, {1, 1}};
    for (int i = 0; i < 3; i++) {
        uint32_t before = gc_md[i][0] * L->gc_head_size + gc_md[i][1] * L->managed_dict_preheader;
        const struct ct_typeent *e = object_at(st, v, block + before, before, scratch);
        /* Not basicsize: a compact str is smaller than PyUnicode_Type says. */
        if (e && before + py->L->object_size <= size) {
            *obj = block + before;
            return e;
        }
    }
    return NULL;
}

/* A dict's keys table (PyDictKeysObject) has no object header, but a shape
 * that random data rarely has: consistent sizes and a small kind. */
static int looks_like_dict_keys(const struct ct_view *v, uintptr_t block, uint32_t size)
{
    const struct ct_pylayout *L = py->L;
    uint8_t k[40];
    if (vpeek(v, block, k, sizeof k))
        return 0;
    int64_t refcnt, usable, nentries;
    ct_memcpy(&refcnt, k + L->dk_refcnt, 8);
    ct_memcpy(&usable, k + L->dk_usable, 8);
    ct_memcpy(&nentries, k + L->dk_nentries, 8);
    uint8_t log2_size = k[L->dk_log2_size], log2_index = k[L->dk_log2_index_bytes], kind = k[L->dk_kind];
    if (refcnt < 1 || refcnt > (1 << 24) || log2_size < 3 || log2_size > 30 || kind > 2 ||
        log2_index < log2_size || log2_index > log2_size + 3)
        return 0;
    int64_t capacity = ((int64_t)2 << log2_size) / 3;   /* USABLE_FRACTION */
    if (usable < 0 || nentries < 0 || usable + nentries > capacity)
        return 0;
    return (uint64_t)L->dk_indices + (1ull << log2_index) <= size;
}

void ct_py_examine(struct ct_state *st, uintptr_t addr, struct ct_py_evidence *ev)
{
    ct_memset(ev, 0, sizeof *ev);
    if (!py)
        return;
    const struct ct_pylayout *L = py->L;
    struct ct_typeent scratch;
    /* The faulting thread is writing this page: it is mapped. */
    uintptr_t psize = (uintptr_t)ct_cfg.page_size;
    struct ct_view page = {.base = addr & ~(psize - 1), .len = psize, .data = (const uint8_t *)(addr & ~(psize - 1))};
    uintptr_t a = addr & ~(uintptr_t)7;
    uintptr_t pool = a & ~(uintptr_t)(L->pool_size - 1);
    uint32_t size = pool_block_size(&page, pool);
    if (size) {
        if (a < pool + L->pool_overhead) {
            ev->where = CT_WHERE_POOL_HEADER;
            return;
        }
        uintptr_t block = pool + L->pool_overhead + ((a - pool - L->pool_overhead) / size) * size;
        ev->where = CT_WHERE_POOL_BLOCK;
        ev->block = block;
        ev->block_size = size;
        uintptr_t obj;
        if (block_object(st, &page, block, size, &obj, &scratch)) {
            note_object(&page, ev, obj, CT_OBJ_BLOCK);
        } else if (ct_cfg.py_dict_type && looks_like_dict_keys(&page, block, size) &&
                   type_of(st, ct_cfg.py_dict_type, &scratch)) {
            ev->obj = block;
            ev->type = ct_cfg.py_dict_type;
            ev->obj_how = CT_OBJ_DICT_KEYS;
        }
        return;
    }
    ev->where = CT_WHERE_OUTSIDE;
    /* Not pymalloc: a header write is recognisable from the address itself. */
    if (object_at(st, &page, a, CT_BEFORE_ANY, &scratch))
        note_object(&page, ev, a, CT_OBJ_AT);
    else if (object_at(st, &page, a + L->gc_head_size, CT_BEFORE_GC, &scratch))
        note_object(&page, ev, a + L->gc_head_size, CT_OBJ_GC_NEXT);
    else if (object_at(st, &page, a + 8, CT_BEFORE_GC, &scratch))
        note_object(&page, ev, a + 8, CT_OBJ_GC_PREV);
}

/* ---- uffd-async: what written pages hold ------------------------------------
 *
 * Runs in the flusher thread and at exit, while other threads may unmap
 * memory: reads are guarded plain loads (a fault abandons the read; the
 * pinning process_vm_readv would copy shared pages). Per written page: its
 * pool header, shared by the pages of one pool, and the first bytes of up
 * to CT_SAMPLES blocks spread over the page, enough to name its dominant
 * type. Four, not more: the loads are this backend's main cost (measured
 * on the 2,000,000-int benchmark: 6 ms of a child's 210 ms of CPU with
 * four samples a page, 10 ms with eight).
 */
#define CT_SAMPLES 4
#define CT_SAMPLE_BYTES 48   /* a block's start: covers ob_type at +8, +24 and +40 */

static long readv_self(struct iovec *local, struct iovec *remote, size_t n)
{
    return ct_sys6(SYS_process_vm_readv, ct_getpid(), (long)local, (long)n, (long)remote, (long)n, 0);
}

/* Reads each piece separately when a batch fails (one unmapped piece makes
 * process_vm_readv stop there); a piece that cannot be read is zeroed. */
static void read_pieces(struct iovec *local, struct iovec *remote, size_t n)
{
    if (py->guarded) {
        /* With our probe handler installed: plain loads, no pins. */
        guarded_copy_many(local, remote, n);
        return;
    }
    long got = readv_self(local, remote, n);
    size_t ok = 0, total = 0;
    for (size_t i = 0; i < n; i++)
        total += local[i].iov_len;
    if (got == (long)total)
        return;
    for (size_t i = 0; i < n; i++) {
        if (got >= 0 && ok + local[i].iov_len <= (size_t)got) {
            ok += local[i].iov_len;
            continue;
        }
        got = -1;
        if (readv_self(&local[i], &remote[i], 1) != (long)local[i].iov_len)
            ct_memset(local[i].iov_base, 0, local[i].iov_len);
    }
}

/* Working memory for one batch, in the arena: this runs on the program's
 * stack at exit, whose pages we must not dirty. Used under scan_lock. */
struct ct_sum_scratch {
    uint32_t hdrs[CT_SUM_BATCH][12];
    struct iovec lv[CT_SUM_BATCH * CT_SAMPLES], rv[CT_SUM_BATCH * CT_SAMPLES];
    uint8_t samples[CT_SUM_BATCH][CT_SAMPLES][CT_SAMPLE_BYTES];
    uintptr_t where_at[CT_SUM_BATCH][CT_SAMPLES];
    uint32_t size_of[CT_SUM_BATCH];
    int same_pool[CT_SUM_BATCH];   /* index of the page whose pool header this one shares */
};
static struct ct_sum_scratch *sum_scratch;

void ct_py_summarize_batch(struct ct_state *st, const uintptr_t *pages, size_t n, struct ct_py_summary *out)
{
    for (size_t i = 0; i < n; i++)
        ct_memset(&out[i], 0, sizeof out[i]);
    if (!py || !n || !sum_scratch)
        return;
    const struct ct_pylayout *L = py->L;
    uintptr_t psize = (uintptr_t)ct_cfg.page_size;
    uint32_t (*hdrs)[12] = sum_scratch->hdrs;
    struct iovec *lv = sum_scratch->lv, *rv = sum_scratch->rv;
    /* A pool header is read only when its page is in this batch of written
     * pages: already copied by the child, so reading it copies nothing. A
     * page whose pool header was not written gets no verdict. */
    size_t nh = 0;
    int *same_pool = sum_scratch->same_pool;
    for (size_t i = 0; i < n; i++) {
        uintptr_t pool = pages[i] & ~(uintptr_t)(L->pool_size - 1);
        /* Pages come in address order: a pool's later pages reuse the header
         * its first one read, a cache miss on another page saved. */
        same_pool[i] = -1;
        if (i && (pages[i - 1] & ~(uintptr_t)(L->pool_size - 1)) == pool) {
            same_pool[i] = same_pool[i - 1] >= 0 ? same_pool[i - 1] : (int)i - 1;
            continue;
        }
        ct_memset(hdrs[i], 0, sizeof hdrs[i]);
        /* Guarded loads copy nothing: any header will do. */
        int written = py->guarded;
        for (size_t j = 0; j < n && !written; j++)
            written = pages[j] == pool;
        if (!written)
            continue;
        lv[nh].iov_base = hdrs[i];
        lv[nh].iov_len = sizeof hdrs[i];
        rv[nh].iov_base = (void *)pool;
        rv[nh].iov_len = sizeof hdrs[i];
        nh++;
    }
    if (nh)
        read_pieces(lv, rv, nh);
    for (size_t i = 0; i < n; i++)
        if (same_pool[i] >= 0)
            ct_memcpy(hdrs[i], hdrs[same_pool[i]], sizeof hdrs[i]);

    uint8_t (*samples)[CT_SAMPLES][CT_SAMPLE_BYTES] = sum_scratch->samples;
    uintptr_t (*where_at)[CT_SAMPLES] = sum_scratch->where_at;
    uint32_t *size_of = sum_scratch->size_of;
    size_t nv = 0;
    for (size_t i = 0; i < n; i++) {
        uintptr_t pool = pages[i] & ~(uintptr_t)(L->pool_size - 1);
        struct ct_view hv = {.base = pool, .len = sizeof hdrs[i], .data = (const uint8_t *)hdrs[i]};
        uint32_t size = pool_block_size(&hv, pool);
        size_of[i] = size;
        out[i].where = size ? CT_WHERE_POOL_BLOCK : CT_WHERE_OUTSIDE;
        out[i].block_size = size;
        for (int k = 0; k < CT_SAMPLES; k++)
            where_at[i][k] = 0;
        if (!size)
            continue;
        uintptr_t first = pool + L->pool_overhead;
        if (pages[i] > first)
            first += ((pages[i] - first + size - 1) / size) * size;
        uintptr_t end = pages[i] + psize < pool + L->pool_size ? pages[i] + psize : pool + L->pool_size;
        uintptr_t nblocks = end > first ? (end - first) / size : 0;
        uintptr_t stride = (nblocks + CT_SAMPLES - 1) / CT_SAMPLES * size;
        if (!stride)
            stride = size;
        int k = 0;
        for (uintptr_t b = first; b + size <= end && k < CT_SAMPLES; b += stride, k++) {
            where_at[i][k] = b;
            lv[nv].iov_base = samples[i][k];
            lv[nv].iov_len = CT_SAMPLE_BYTES;
            rv[nv].iov_base = (void *)b;
            rv[nv].iov_len = CT_SAMPLE_BYTES;
            nv++;
        }
    }
    if (nv)
        read_pieces(lv, rv, nv);

    struct ct_typeent scratch;
    for (size_t i = 0; i < n; i++) {
        if (!size_of[i])
            continue;
        struct { uintptr_t t; uint32_t n; } seen[CT_SAMPLES] = {{0, 0}};
        for (int k = 0; k < CT_SAMPLES && where_at[i][k]; k++) {
            uintptr_t b = where_at[i][k];
            struct ct_view v = {.base = b, .len = CT_SAMPLE_BYTES, .data = samples[i][k]};
            uintptr_t obj;
            if (!block_object(st, &v, b, size_of[i], &obj, &scratch))
                continue;
            out[i].objects++;
            uint64_t t = 0;
            vpeek(&v, obj + L->ob_type, &t, sizeof t);
            for (int j = 0; j < CT_SAMPLES; j++) {
                if (seen[j].t == t || !seen[j].t) {
                    seen[j].t = (uintptr_t)t;
                    seen[j].n++;
                    break;
                }
            }
        }
        uintptr_t pool = pages[i] & ~(uintptr_t)(L->pool_size - 1);
        if (!out[i].objects && pages[i] == pool)
            out[i].where = CT_WHERE_POOL_HEADER;
        uint32_t best = 0;
        for (int j = 0; j < CT_SAMPLES; j++) {
            if (seen[j].n > best) {
                best = seen[j].n;
                out[i].type = seen[j].t;
            }
        }
        if (out[i].type) {
            const struct ct_typeent *e = type_of(st, out[i].type, &scratch);
            out[i].type_index = e && e != &scratch ? e->index : 0;
        }
    }
}

/* ---- set-up in the child --------------------------------------------------- */

int ct_py_setup(struct ct_state *st)
{
    py = NULL;
    if (!ct_cfg.py_hexversion)
        return 0;   /* not a Python process */
    const struct ct_pylayout *L = ct_pylayout_for(ct_cfg.py_hexversion);
    char version[32];
    char *p = ct_utoa(version, (ct_cfg.py_hexversion >> 24) & 0xff);
    *p++ = '.';
    p = ct_utoa(p, (ct_cfg.py_hexversion >> 16) & 0xff);
    *p++ = '.';
    p = ct_utoa(p, (ct_cfg.py_hexversion >> 8) & 0xff);
    if (ct_rec_python(&st->w, ct_cfg.py_hexversion, ct_cfg.py_runtime, L != NULL,
                      (ct_cfg.py_shared ? CT_PY_SHARED : 0) | ct_cfg.gc_freeze_flags,
                      version, (size_t)(p - version), ct_cfg.py_path))
        return -1;
    if (!L)
        return 0;
    struct ct_pyinfo *info = ct_arena_alloc(sizeof *info);
    struct ct_typeent *types = ct_arena_alloc(CT_TYPESET_SIZE * sizeof *types);
    if (!info || !types)
        return -1;
    info->L = L;
    info->types = types;
    info->guarded = st->backend->precise;   /* scanning backends: once their handler is in */
    sum_scratch = st->backend->precise ? NULL : ct_arena_alloc(sizeof *sum_scratch);
    py = info;
    return 0;
}

/* ---- --gc-freeze: the experiment the user would otherwise edit code for --- */

typedef int int_fn(void);
typedef void *import_fn(const char *);
typedef void *getattr_fn(void *, const char *);
typedef void *call0_fn(void *);
typedef void decref_fn(void *);
typedef void void_fn(void);

/* In the parent, inside fork(): gc.freeze() moves every tracked object to
 * the permanent generation, so the child's collections never touch their
 * GC heads. Only legal with the GIL held; a fork from a thread without it
 * (rare: os.fork holds it) is left alone and recorded as such. */
void ct_py_gc_freeze(void)
{
    ct_cfg.gc_freeze_flags = 0;
    int_fn *initialized = (int_fn *)dlsym(RTLD_DEFAULT, "Py_IsInitialized");
    int_fn *gil_held = (int_fn *)dlsym(RTLD_DEFAULT, "PyGILState_Check");
    import_fn *import = (import_fn *)dlsym(RTLD_DEFAULT, "PyImport_ImportModule");
    getattr_fn *getattr = (getattr_fn *)dlsym(RTLD_DEFAULT, "PyObject_GetAttrString");
    call0_fn *call = (call0_fn *)dlsym(RTLD_DEFAULT, "PyObject_CallNoArgs");
    decref_fn *decref = (decref_fn *)dlsym(RTLD_DEFAULT, "Py_DecRef");
    void_fn *clear = (void_fn *)dlsym(RTLD_DEFAULT, "PyErr_Clear");
    if (!initialized || !gil_held || !import || !getattr || !call || !decref || !clear || !initialized())
        return;
    if (!gil_held()) {
        ct_cfg.gc_freeze_flags = CT_PY_GC_NOGIL;
        return;
    }
    void *gc = import("gc");
    void *freeze = gc ? getattr(gc, "freeze") : NULL;
    void *r = freeze ? call(freeze) : NULL;
    if (r)
        ct_cfg.gc_freeze_flags = CT_PY_GC_FROZEN;
    decref(r);
    decref(freeze);
    decref(gc);
    if (!r)
        clear();
}
