/*
 * trace.c - see trace.h.
 *
 * The file is read in two passes. The first walks the record stream: it
 * checks the framing of every record, collects everything but page data
 * (regions, notes, process facts, end), reads each write event while its
 * bytes are at hand and notes where the page records are. Then the write
 * events are settled against the now complete region and stack tables, and
 * the second pass decodes the noted page records only. Two passes let a
 * writer emit a region after pages of earlier regions; noting the page
 * records spares the second pass a walk over hundreds of thousands of
 * write records (a big trace is mostly those) that no longer fit in any
 * cache.
 */
#include "trace.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fields.h"
#include "leb128.h"

/* Fixed parts of the records, as the format defines them. */
#define SZ_PROCESS sizeof(struct ct_rec_process)
#define SZ_REGION  sizeof(struct ct_rec_region)
#define SZ_PAGES   sizeof(struct ct_rec_pages)
#define SZ_WRITE_V1 CT_REC_WRITE_V1_SIZE
#define SZ_WRITE   sizeof(struct ct_rec_write)
#define SZ_NOTE    sizeof(struct ct_rec_note)
#define SZ_END     sizeof(struct ct_rec_end)
#define SZ_UNTRACK sizeof(struct ct_rec_untrack)
#define SZ_PYTHON  sizeof(struct ct_rec_python)
#define SZ_PYTYPE  sizeof(struct ct_rec_pytype)
#define SZ_MODULE  sizeof(struct ct_rec_module)
#define SZ_SUMMARY sizeof(struct ct_rec_page_summary)
#define SZ_STACK   sizeof(struct ct_rec_stack)
#define SZ_PYFRAME sizeof(struct ct_pyframe)
#define SZ_PYCODE  sizeof(struct ct_rec_pycode)
#define SZ_PAGEDATA sizeof(struct ct_rec_page_data)
#define SZ_PYLAYOUT sizeof(struct ct_rec_pylayout)
#define SZ_PYLAYOUT_FIELD sizeof(struct ct_pylayout_field)
#define SZ_PYGC    sizeof(struct ct_rec_pygc)
#define SZ_STR_MAX (2 + 65535)

/* The record sizes themselves are asserted in ct_format.h. */

/* Explicit little-endian loads: the file is little-endian whatever the host,
 * and byte loads have no alignment requirement. */
static uint16_t rd16(const uint8_t *p) { return (uint16_t)(p[0] | p[1] << 8); }
static uint32_t rd32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}
static uint64_t rd64(const uint8_t *p) { return rd32(p) | (uint64_t)rd32(p + 4) << 32; }

const char *ct_mode_name(uint32_t mode)
{
    if (mode == CT_MODE_NONE)
        return "none";
    const char *w = ct_mode_word(mode);
    return w ? w : "unknown";
}

const char *ct_kind_name(uint32_t kind)
{
    switch (kind) {
    case CT_KIND_HEAP: return "heap";
    case CT_KIND_ANON: return "anon";
    case CT_KIND_DATA: return "data";
    case CT_KIND_STACK: return "stack";
    }
    return "other";
}

const char *ct_rec_type_name(uint32_t type)
{
    static const char *const names[] = {
        "end-of-stream", "process", "region", "present", "early", "written",
        "write", "note", "exec", "end", "untrack", "python", "pytype", "module",
        "page summary", "stack", "pycode", "page data", "pylayout", "pygc",
    };
    _Static_assert(sizeof names / sizeof names[0] == CT_REC_TYPE_MAX, "a name for every record type");
    return type < sizeof names / sizeof names[0] ? names[type] : "unknown";
}

const char *ct_untrack_reason_name(uint32_t reason)
{
    switch (reason) {
    case CT_UNTRACK_NONE: return "none";
    case CT_UNTRACK_STACK: return "stack";
    case CT_UNTRACK_ALTSTACK: return "signal stack";
    case CT_UNTRACK_REGISTER: return "kernel refused write-protection";
    case CT_UNTRACK_STOPPED: return "tracing stopped";
    case CT_UNTRACK_SPECIAL: return "special memory";
    case CT_UNTRACK_SHIM_DEP: return "written by the shim's own handler";
    }
    return "unknown reason";
}

enum frame { FR_RECORD, FR_END_ZERO, FR_END_EOF, FR_TORN };

static uint64_t align8(uint64_t n) { return (n + 7) & ~UINT64_C(7); }

/* Could a record of this type and size, cut short after `rem` bytes, be the
 * visible part of a whole record a writer was in the middle of? If not, a
 * size past the end of the file is corruption, not truncation. */
static bool torn_plausible(uint32_t type, uint32_t size, const uint8_t *p, size_t rem)
{
    switch (type) {
    case CT_REC_PROCESS: return size >= SZ_PROCESS && size <= align8(SZ_PROCESS + 3 * SZ_STR_MAX) + 8;
    case CT_REC_REGION:  return size >= SZ_REGION && size <= align8(SZ_REGION + SZ_STR_MAX) + 8;
    case CT_REC_NOTE:
    case CT_REC_EXEC:    return size >= SZ_NOTE && size <= align8(SZ_NOTE + SZ_STR_MAX) + 8;
    case CT_REC_WRITE:   return size >= SZ_WRITE_V1 && size <= SZ_WRITE + 64;
    case CT_REC_PYTHON:  return size >= SZ_PYTHON && size <= align8(SZ_PYTHON + 2 * SZ_STR_MAX) + 8;
    case CT_REC_PYTYPE:  return size >= SZ_PYTYPE && size <= align8(SZ_PYTYPE + SZ_STR_MAX) + 8;
    case CT_REC_MODULE:  return size >= SZ_MODULE && size <= align8(SZ_MODULE + SZ_STR_MAX) + 8;
    case CT_REC_PAGE_SUMMARY:
        if (size < SZ_SUMMARY)
            return false;
        if (rem >= 24)
            return size == align8(SZ_SUMMARY + (uint64_t)rd32(p + 20));
        return true;
    case CT_REC_END:     return size >= SZ_END && size <= SZ_END + 64;
    case CT_REC_PYGC:    return size >= SZ_PYGC && size <= SZ_PYGC + 64;
    case CT_REC_STACK:
        if (size < SZ_STACK)
            return false;
        if (rem >= 16) {
            uint64_t n = SZ_STACK + 8 * (uint64_t)rd16(p + 12) + SZ_PYFRAME * (uint64_t)rd16(p + 14);
            return size >= n && size <= n + 64;
        }
        return size <= SZ_STACK + 24 * 65535 + 64;
    case CT_REC_PYCODE: {
        if (size < SZ_PYCODE)
            return false;
        uint64_t lt = rem >= 24 ? rd32(p + 20) : UINT32_MAX;
        return size <= align8(SZ_PYCODE + 2 * SZ_STR_MAX + lt) + 8;
    }
    case CT_REC_UNTRACK: return size >= SZ_UNTRACK && size <= SZ_UNTRACK + 64;
    case CT_REC_PAGE_DATA: return size >= SZ_PAGEDATA && size <= SZ_PAGEDATA + (1u << 20);
    case CT_REC_PYLAYOUT:
        if (size < SZ_PYLAYOUT)
            return false;
        if (rem >= 12)
            return size >= SZ_PYLAYOUT + (uint64_t)rd32(p + 8) * SZ_PYLAYOUT_FIELD + 2 &&
                   size <= align8(SZ_PYLAYOUT + (uint64_t)rd32(p + 8) * SZ_PYLAYOUT_FIELD + SZ_STR_MAX);
        return true;
    case CT_REC_PRESENT:
    case CT_REC_EARLY:
    case CT_REC_WRITTEN:
        if (size < SZ_PAGES)
            return false;
        if (rem >= 16)
            return size == align8(SZ_PAGES + (uint64_t)rd32(p + 12));
        return true;
    }
    return false;
}

/* Reads the frame of the record at off. Fails only on a record that can be
 * neither read nor explained as the torn end of a killed writer. */
static int frame(const uint8_t *buf, size_t len, uint64_t off, uint32_t *type,
                 uint32_t *size, enum frame *fr, struct ct_err *err)
{
    if (off >= len) {
        *fr = FR_END_EOF;
        return 0;
    }
    size_t rem = len - off;
    if (rem < sizeof(struct ct_rec)) {
        *fr = FR_END_ZERO;
        for (size_t i = 0; i < rem; i++)
            if (buf[off + i])
                *fr = FR_TORN;
        return 0;
    }
    *type = rd32(buf + off);
    *size = rd32(buf + off + 4);
    if (*type == CT_REC_END_OF_STREAM) {
        *fr = FR_END_ZERO;
        return 0;
    }
    if (*size < sizeof(struct ct_rec) || *size % 8)
        return ct_fail(err, off, "bad record size %u (type %u)", *size, *type);
    if (*size > rem) {
        if (torn_plausible(*type, *size, buf + off, rem)) {
            *fr = FR_TORN;
            return 0;
        }
        return ct_fail(err, off, "record size %u (type %u) extends past the end of the file (%zu bytes left)",
                       *size, *type, rem);
    }
    *fr = FR_RECORD;
    return 0;
}

/* Reads a length-prefixed string at *pos within the record [rec, rec+size). */
static int read_str(const uint8_t *buf, uint64_t rec, uint32_t size, uint32_t *pos,
                    struct ct_str *out, const char *what, struct ct_err *err)
{
    if (*pos + 2 > size)
        return ct_fail(err, rec + *pos, "%s string length past the end of the record (size %u)", what, size);
    uint32_t n = rd16(buf + rec + *pos);
    if (*pos + 2 + n > size)
        return ct_fail(err, rec + *pos, "%s string of %u bytes runs past the end of the record (size %u)",
                       what, n, size);
    free(out->s);
    out->s = xmemdup0(buf + rec + *pos + 2, n);
    out->len = n;
    *pos += 2 + n;
    return 0;
}

static int need(uint64_t off, uint32_t type, uint32_t size, size_t min, struct ct_err *err)
{
    if (size < min)
        return ct_fail(err, off, "%s record too small: size %u, need at least %zu",
                       ct_rec_type_name(type), size, min);
    return 0;
}

static int parse_header(const uint8_t *buf, size_t len, struct ct_trace *t, uint64_t *hdr_size,
                        struct ct_err *err)
{
    if (len == 0)
        return ct_fail(err, 0, "empty file, not a cowtrace trace");
    if (len < 8)
        return ct_fail(err, 0, "truncated header (%zu bytes; a trace starts with a %d-byte header)",
                       len, CT_HEADER_SIZE);
    if (memcmp(buf, CT_MAGIC, 8) != 0)
        return ct_fail(err, 0, "bad magic, not a cowtrace trace");
    if (len < 12)
        return ct_fail(err, len, "truncated header (%zu bytes, need %d)", len, CT_HEADER_SIZE);
    t->version = rd16(buf + 8);
    if (t->version != CT_FORMAT_VERSION)
        return ct_fail(err, 8, "unsupported trace format version %u (this cowtrace reads version %d%s)",
                       t->version, CT_FORMAT_VERSION,
                       t->version > CT_FORMAT_VERSION ? "; the trace was written by a newer cowtrace" : "");
    if (len < CT_HEADER_SIZE)
        return ct_fail(err, len, "truncated header (%zu bytes, need %d)", len, CT_HEADER_SIZE);
    uint16_t hs = rd16(buf + 10);
    if (hs < CT_HEADER_SIZE || hs % 8)
        return ct_fail(err, 10, "bad header size %u (need a multiple of 8, at least %d)", hs, CT_HEADER_SIZE);
    if (hs > len)
        return ct_fail(err, len, "truncated header (%zu bytes, header size says %u)", len, hs);
    *hdr_size = hs;
    t->page_size = rd32(buf + 12);
    if (t->page_size < 4096 || t->page_size > (1u << 20) || (t->page_size & (t->page_size - 1)))
        return ct_fail(err, 12, "bad page size %u (need a power of two from 4096 to 1048576)", t->page_size);
    t->page_shift = (uint32_t)__builtin_ctz(t->page_size);
    t->pid = (int32_t)rd32(buf + 16);
    t->ppid = (int32_t)rd32(buf + 20);
    if (t->pid <= 0)
        return ct_fail(err, 16, "bad pid %d", t->pid);
    if (t->ppid < 0)
        return ct_fail(err, 20, "bad ppid %d", t->ppid);
    t->mode = rd32(buf + 24);
    t->flags = rd32(buf + 28);
    t->fork_time_ns = rd64(buf + 32);
    t->fork_nonce = rd64(buf + 40);
    t->reap_valid = rd32(buf + 48) == CT_REAP_MAGIC;
    t->reap_status = (int32_t)rd32(buf + 52);
    return 0;
}

static int parse_region(const uint8_t *buf, uint64_t off, uint32_t size, struct ct_trace *t,
                        struct ct_err *err)
{
    const uint8_t *p = buf + off;
    struct ct_region r;
    memset(&r, 0, sizeof r);
    r.id = rd32(p + 8);
    r.kind = rd32(p + 12);
    r.start = rd64(p + 16);
    r.end = rd64(p + 24);
    r.prot = rd32(p + 32);
    r.tracking = rd32(p + 36);
    r.file_offset = rd64(p + 40);
    r.inode = rd64(p + 48);
    r.untracked_reason = rd32(p + 56);
    if (r.id != t->nregions)
        return ct_fail(err, off + 8, "bad region id %u (expected %zu: ids are dense and in address order)",
                       r.id, t->nregions);
    uint64_t mask = t->page_size - 1;
    if ((r.start & mask) || (r.end & mask))
        return ct_fail(err, off + 16, "region %u [0x%llx, 0x%llx) is not page aligned",
                       r.id, (unsigned long long)r.start, (unsigned long long)r.end);
    if (r.start >= r.end || r.end > CT_MAX_ADDR)
        return ct_fail(err, off + 16, "region %u has a bad range [0x%llx, 0x%llx)",
                       r.id, (unsigned long long)r.start, (unsigned long long)r.end);
    if (t->nregions && r.start < t->regions[t->nregions - 1].end)
        return ct_fail(err, off + 16, "region %u at 0x%llx overlaps or precedes region %u ending at 0x%llx",
                       r.id, (unsigned long long)r.start, r.id - 1,
                       (unsigned long long)t->regions[t->nregions - 1].end);
    if (r.tracking > CT_TRACK_SNAPSHOT)
        return ct_fail(err, off + 36, "region %u has an unknown tracking method %u", r.id, r.tracking);
    uint32_t pos = SZ_REGION;
    if (read_str(buf, off, size, &pos, &r.name, "region name", err))
        return -1;
    r.pg0 = r.start >> t->page_shift;
    r.npages = (r.end - r.start) >> t->page_shift;
    /* Regions are at least 64 bytes of file each, so this array is bounded
     * by the file size. */
    t->regions = xreallocarray(t->regions, t->nregions + 1, sizeof *t->regions);
    t->regions[t->nregions++] = r;
    return 0;
}

static int parse_note(const uint8_t *buf, uint64_t off, uint32_t size, struct ct_trace *t,
                      struct ct_err *err)
{
    struct ct_note n = { .level = rd32(buf + off + 8), .offset = off };
    uint32_t pos = SZ_NOTE;
    if (read_str(buf, off, size, &pos, &n.text, "note", err))
        return -1;
    t->notes = xreallocarray(t->notes, t->nnotes + 1, sizeof *t->notes);
    t->notes[t->nnotes++] = n;
    return 0;
}

static int parse_python(const uint8_t *buf, uint64_t off, uint32_t size, struct ct_trace *t,
                        struct ct_err *err)
{
    const uint8_t *p = buf + off;
    struct ct_python py = {
        .hexversion = rd64(p + 8), .runtime = rd64(p + 16),
        .layout_known = rd32(p + 24), .flags = rd32(p + 28),
    };
    uint32_t pos = SZ_PYTHON;
    int rc = read_str(buf, off, size, &pos, &py.version, "python version", err);
    if (!rc)
        rc = read_str(buf, off, size, &pos, &py.path, "python path", err);
    if (rc || t->have_python) {
        /* Like PROCESS: the first one counts, later ones are only checked. */
        free(py.version.s);
        free(py.path.s);
        return rc;
    }
    t->have_python = true;
    t->python = py;
    return 0;
}

/* CT_REC_PYLAYOUT: the layout the shim decoded with. Fields of ids this
 * build does not know are skipped (a newer shim); a known field with a
 * value that does not fit, or given twice, is corruption. The layout is
 * used only when the record sets every required field this build knows: a
 * partial one would mix in zeros (the optional ones, of free-threaded
 * builds, are 0 in a GIL build's layout, and in records older than them).
 * Like PYTHON, the first record counts. */
static int parse_pylayout(const uint8_t *buf, uint64_t off, uint32_t size, struct ct_trace *t,
                          struct ct_err *err)
{
    const uint8_t *p = buf + off;
    uint32_t n = rd32(p + 8);
    if ((uint64_t)n * SZ_PYLAYOUT_FIELD > size - SZ_PYLAYOUT)
        return ct_fail(err, off + 8, "pylayout record of %u fields does not fit in a record of size %u", n, size);
    struct ct_pyver v = {0};
    size_t nknown = ct_pyver_nfields(), nrequired = 0;
    for (size_t i = 0; i < nknown; i++)
        nrequired += ct_pyver_field_required(i) != 0;
    bool *seen = xcalloc(nknown, sizeof *seen);
    size_t nseen = 0;
    int rc = 0;
    for (uint32_t i = 0; i < n && !rc; i++) {
        uint64_t at = off + SZ_PYLAYOUT + (uint64_t)i * SZ_PYLAYOUT_FIELD;
        uint32_t id = rd32(buf + at);
        size_t idx = 0;
        int set = ct_pyver_set_field(&v, id, rd64(buf + at + 8), &idx);
        if (set < 0)
            rc = ct_fail(err, at + 8, "pylayout field %s (id %u) has a value too large for it: %llu",
                         ct_pyver_field_name(id), id, (unsigned long long)rd64(buf + at + 8));
        else if (set > 0 && seen[idx])
            rc = ct_fail(err, at, "pylayout field %s (id %u) given twice", ct_pyver_field_name(id), id);
        else if (set > 0) {
            seen[idx] = true;
            nseen += ct_pyver_field_required(idx) != 0;
        }
    }
    free(seen);
    struct ct_str name = {0};
    uint32_t pos = (uint32_t)(SZ_PYLAYOUT + (uint64_t)n * SZ_PYLAYOUT_FIELD);
    if (!rc)
        rc = read_str(buf, off, size, &pos, &name, "pylayout name", err);
    if (rc || t->pylayout || nseen != nrequired) {
        free(name.s);
        return rc;
    }
    t->pylayout_name = name;
    v.name = name.s;
    t->pylayout = xmalloc(sizeof *t->pylayout);
    *t->pylayout = v;
    return 0;
}

static int parse_pytype(const uint8_t *buf, uint64_t off, uint32_t size, struct ct_trace *t,
                        struct ct_err *err)
{
    const uint8_t *p = buf + off;
    struct ct_pytype ty = {
        .addr = rd64(p + 8), .index = rd32(p + 16), .flags = rd64(p + 24),
        .basicsize = (int64_t)rd64(p + 32), .itemsize = (int64_t)rd64(p + 40), .offset = off,
    };
    if (ty.index == 0)
        return ct_fail(err, off + 16, "pytype index 0 (indexes are 1-based)");
    uint32_t pos = SZ_PYTYPE;
    if (read_str(buf, off, size, &pos, &ty.name, "type name", err))
        return -1;
    /* At least 48 bytes of file each: bounded by the file size. Unique
     * indexes are checked once all are read (check_pytypes). */
    t->pytypes = xreallocarray(t->pytypes, t->npytypes + 1, sizeof *t->pytypes);
    t->pytypes[t->npytypes++] = ty;
    return 0;
}

static int cmp_index(const void *x, const void *y)
{
    const struct ct_pytype *a = *(const struct ct_pytype *const *)x, *b = *(const struct ct_pytype *const *)y;
    if (a->index != b->index)
        return a->index < b->index ? -1 : 1;
    return a->offset < b->offset ? -1 : a->offset > b->offset;
}

/* Page summaries name types by index, so an index must mean one type. */
static int check_pytypes(struct ct_trace *t, struct ct_err *err)
{
    if (t->npytypes < 2)
        return 0;
    const struct ct_pytype **v = xmalloc(t->npytypes * sizeof *v);
    for (size_t i = 0; i < t->npytypes; i++)
        v[i] = &t->pytypes[i];
    qsort(v, t->npytypes, sizeof *v, cmp_index);
    int rc = 0;
    for (size_t i = 1; i < t->npytypes && !rc; i++)
        if (v[i]->index == v[i - 1]->index)
            rc = ct_fail(err, v[i]->offset + 16, "pytype index %u repeats (first at offset %llu)",
                         v[i]->index, (unsigned long long)v[i - 1]->offset);
    free(v);
    return rc;
}

/* Geometric growth for arrays that can hold a record's worth of entries
 * each: a million small records must not mean a million reallocs. */
static void *grow(void *v, size_t *cap, size_t need_n, size_t size)
{
    if (need_n <= *cap)
        return v;
    size_t c = *cap ? *cap : 16;
    while (c < need_n)
        c *= 2;
    *cap = c;
    return xreallocarray(v, c, size);
}

static int parse_stack(const uint8_t *buf, uint64_t off, uint32_t size, struct ct_trace *t,
                       struct ct_err *err)
{
    const uint8_t *p = buf + off;
    struct ct_stack st = {
        .id = rd32(p + 8), .native_depth = rd16(p + 12), .py_depth = rd16(p + 14),
        .flags = rd32(p + 16), .offset = off,
    };
    if (st.id == 0)
        return ct_fail(err, off + 8, "stack id 0 (ids are 1-based)");
    uint64_t n = SZ_STACK + 8 * (uint64_t)st.native_depth + SZ_PYFRAME * (uint64_t)st.py_depth;
    if (n > size)
        return ct_fail(err, off + 12, "stack of %u native and %u Python frames needs %llu bytes, "
                       "the record has %u", st.native_depth, st.py_depth, (unsigned long long)n, size);
    /* Every entry kept is 8 or 16 bytes of file: bounded by the file size. */
    t->stack_ips = grow(t->stack_ips, &t->stack_ips_cap, t->nstack_ips + st.native_depth, sizeof *t->stack_ips);
    t->stack_py = grow(t->stack_py, &t->stack_py_cap, t->nstack_py + st.py_depth, sizeof *t->stack_py);
    st.ips = t->nstack_ips;
    st.py = t->nstack_py;
    const uint8_t *q = p + SZ_STACK;
    for (uint32_t i = 0; i < st.native_depth; i++, q += 8)
        t->stack_ips[t->nstack_ips++] = rd64(q);
    for (uint32_t i = 0; i < st.py_depth; i++, q += SZ_PYFRAME)
        t->stack_py[t->nstack_py++] = (struct ct_pyframe_r){
            .code = rd64(q), .lasti = (int32_t)rd32(q + 8), .flags = rd32(q + 12), .pycode = -1,
        };
    t->stacks = grow(t->stacks, &t->stacks_cap, t->nstacks + 1, sizeof *t->stacks);
    t->stacks[t->nstacks++] = st;
    return 0;
}

static int parse_pycode(const uint8_t *buf, uint64_t off, uint32_t size, struct ct_trace *t,
                        struct ct_err *err)
{
    const uint8_t *p = buf + off;
    struct ct_pycode pc = {
        .addr = rd64(p + 8), .firstlineno = (int32_t)rd32(p + 16), .linetable_len = rd32(p + 20),
        .offset = off,
    };
    uint32_t pos = SZ_PYCODE;
    if (read_str(buf, off, size, &pos, &pc.qualname, "code qualname", err)
        || read_str(buf, off, size, &pos, &pc.filename, "code filename", err)) {
        free(pc.qualname.s);
        return -1;
    }
    if (pc.linetable_len > size - pos) {
        free(pc.qualname.s);
        free(pc.filename.s);
        return ct_fail(err, off + 20, "line table of %u bytes does not fit in a pycode record of size %u "
                       "(%u bytes left after the strings)", pc.linetable_len, size, size - pos);
    }
    pc.linetable = (uint8_t *)xmemdup0(buf + off + pos, pc.linetable_len);
    t->pycodes = grow(t->pycodes, &t->pycodes_cap, t->npycodes + 1, sizeof *t->pycodes);
    t->pycodes[t->npycodes++] = pc;
    return 0;
}

static int cmp_stack_id(const void *x, const void *y)
{
    const struct ct_stack *a = x, *b = y;
    if (a->id != b->id)
        return a->id < b->id ? -1 : 1;
    return a->offset < b->offset ? -1 : a->offset > b->offset;
}

/* Write events name stacks by id, so an id must mean one stack. */
static int check_stacks(struct ct_trace *t, struct ct_err *err)
{
    if (t->nstacks < 2)
        return 0;
    qsort(t->stacks, t->nstacks, sizeof *t->stacks, cmp_stack_id);
    for (size_t i = 1; i < t->nstacks; i++)
        if (t->stacks[i].id == t->stacks[i - 1].id) {
            /* Report the later record, as a reader going through the file would. */
            const struct ct_stack *a = &t->stacks[i - 1], *b = &t->stacks[i];
            return ct_fail(err, b->offset + 8, "stack id %u repeats (first at offset %llu)", b->id,
                           (unsigned long long)a->offset);
        }
    return 0;
}

long ct_trace_find_stack(const struct ct_trace *t, uint32_t id)
{
    size_t lo = 0, hi = t->nstacks;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (t->stacks[mid].id < id)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < t->nstacks && t->stacks[lo].id == id ? (long)lo : -1;
}

struct code_key {
    uint64_t addr, offset;
    int32_t idx;
};

static int cmp_code_key(const void *x, const void *y)
{
    const struct code_key *a = x, *b = y;
    if (a->addr != b->addr)
        return a->addr < b->addr ? -1 : 1;
    return a->offset < b->offset ? -1 : a->offset > b->offset;
}

/* Names each Python frame's code object. The shim writes a code object's
 * record before the first stack that needs it; should an address be reused
 * by another code object (the first one freed) and recorded again, a stack
 * means the latest record before it. A stack that precedes every record of
 * its address (a writer that orders them otherwise) gets the first one. */
static void resolve_codes(struct ct_trace *t)
{
    if (!t->npycodes || !t->nstack_py)
        return;
    struct code_key *v = xmalloc(t->npycodes * sizeof *v);
    for (size_t i = 0; i < t->npycodes; i++)
        v[i] = (struct code_key){ t->pycodes[i].addr, t->pycodes[i].offset, (int32_t)i };
    qsort(v, t->npycodes, sizeof *v, cmp_code_key);
    for (size_t s = 0; s < t->nstacks; s++) {
        const struct ct_stack *st = &t->stacks[s];
        for (size_t k = 0; k < st->py_depth; k++) {
            struct ct_pyframe_r *fr = &t->stack_py[st->py + k];
            size_t lo = 0, hi = t->npycodes;
            while (lo < hi) {         /* first key >= (code, stack offset) */
                size_t mid = lo + (hi - lo) / 2;
                if (v[mid].addr < fr->code || (v[mid].addr == fr->code && v[mid].offset < st->offset))
                    lo = mid + 1;
                else
                    hi = mid;
            }
            if (lo > 0 && v[lo - 1].addr == fr->code)
                fr->pycode = v[lo - 1].idx;
            else if (lo < t->npycodes && v[lo].addr == fr->code)
                fr->pycode = v[lo].idx;
        }
    }
    free(v);
}

/* First pass: everything except page data. */
static int pass1_record(const uint8_t *buf, uint64_t off, uint32_t type, uint32_t size,
                        struct ct_trace *t, struct ct_err *err)
{
    const uint8_t *p = buf + off;
    switch (type) {
    case CT_REC_PROCESS: {
        if (need(off, type, size, SZ_PROCESS, err))
            return -1;
        struct ct_str s[3] = {{0}};
        uint32_t pos = SZ_PROCESS;
        int rc = read_str(buf, off, size, &pos, &s[0], "mode_reason", err);
        if (!rc)
            rc = read_str(buf, off, size, &pos, &s[1], "exe", err);
        if (!rc)
            rc = read_str(buf, off, size, &pos, &s[2], "comm", err);
        if (rc || t->have_process) {
            /* Only the first process record counts; later ones are checked
             * for sanity and dropped. */
            for (int i = 0; i < 3; i++)
                free(s[i].s);
            return rc;
        }
        t->have_process = true;
        t->proc_mode = rd32(p + 8);
        t->flush_interval_ms = rd32(p + 12);
        t->mode_reason = s[0];
        t->exe = s[1];
        t->comm = s[2];
        return 0;
    }
    case CT_REC_REGION:
        if (need(off, type, size, SZ_REGION, err))
            return -1;
        return parse_region(buf, off, size, t, err);
    case CT_REC_PRESENT:
    case CT_REC_EARLY:
    case CT_REC_WRITTEN: {
        if (need(off, type, size, SZ_PAGES, err))
            return -1;
        uint32_t nbytes = rd32(p + 12);
        if ((uint64_t)nbytes > size - SZ_PAGES)
            return ct_fail(err, off + 12, "run list of %u bytes does not fit in a %s record of size %u",
                           nbytes, ct_rec_type_name(type), size);
        t->exec_last = false;
        return 0;
    }
    case CT_REC_WRITE:
        t->exec_last = false;
        return need(off, type, size, SZ_WRITE_V1, err);
    case CT_REC_PYTHON:
        if (need(off, type, size, SZ_PYTHON, err))
            return -1;
        return parse_python(buf, off, size, t, err);
    case CT_REC_PYTYPE:
        if (need(off, type, size, SZ_PYTYPE, err))
            return -1;
        return parse_pytype(buf, off, size, t, err);
    case CT_REC_PYLAYOUT:
        if (need(off, type, size, SZ_PYLAYOUT, err))
            return -1;
        return parse_pylayout(buf, off, size, t, err);
    case CT_REC_PYGC:
        if (need(off, type, size, SZ_PYGC, err))
            return -1;
        if (rd64(p + 16) <= rd64(p + 8))
            return ct_fail(err, off + 16, "pygc record says %llu full collections, not more than the %llu at the fork",
                           (unsigned long long)rd64(p + 16), (unsigned long long)rd64(p + 8));
        if (!t->have_pygc)
            t->pygc_at_fork = rd64(p + 8);
        t->have_pygc = true;
        t->pygc_now = rd64(p + 16);
        return 0;
    case CT_REC_MODULE: {
        if (need(off, type, size, SZ_MODULE, err))
            return -1;
        if (rd64(p + 16) > rd64(p + 24))
            return ct_fail(err, off + 16, "module record has a bad range [0x%llx, 0x%llx]",
                           (unsigned long long)rd64(p + 16), (unsigned long long)rd64(p + 24));
        if (rd32(p + 52) > 20)
            return ct_fail(err, off + 52, "module build id of %u bytes (at most 20)", rd32(p + 52));
        struct ct_module mod = { .base = rd64(p + 8), .start = rd64(p + 16), .end = rd64(p + 24),
                                 .build_id_len = rd32(p + 52) };
        memcpy(mod.build_id, p + 32, 20);
        uint32_t pos = SZ_MODULE;
        if (read_str(buf, off, size, &pos, &mod.path, "module path", err))
            return -1;
        /* At least 56 bytes of file each. */
        t->modules = grow(t->modules, &t->modules_cap, t->nmodules + 1, sizeof *t->modules);
        t->modules[t->nmodules++] = mod;
        return 0;
    }
    case CT_REC_STACK:
        if (need(off, type, size, SZ_STACK, err))
            return -1;
        return parse_stack(buf, off, size, t, err);
    case CT_REC_PYCODE:
        if (need(off, type, size, SZ_PYCODE, err))
            return -1;
        return parse_pycode(buf, off, size, t, err);
    case CT_REC_PAGE_DATA: {
        /* --capture-pages: raw contents. The report only counts them. */
        if (need(off, type, size, SZ_PAGEDATA, err))
            return -1;
        uint32_t len = rd32(p + 20);
        if (len != t->page_size || align8(SZ_PAGEDATA + (uint64_t)len) != size)
            return ct_fail(err, off + 20, "page data of %u bytes in a record of size %u (page size %u)",
                           len, size, t->page_size);
        t->captured_pages++;
        return 0;
    }
    case CT_REC_PAGE_SUMMARY: {
        if (need(off, type, size, SZ_SUMMARY, err))
            return -1;
        uint32_t nbytes = rd32(p + 20);
        if ((uint64_t)nbytes > size - SZ_SUMMARY)
            return ct_fail(err, off + 20, "page summary of %u bytes does not fit in a record of size %u",
                           nbytes, size);
        return 0;
    }
    case CT_REC_NOTE:
        if (need(off, type, size, SZ_NOTE, err))
            return -1;
        return parse_note(buf, off, size, t, err);
    case CT_REC_EXEC: {
        if (need(off, type, size, SZ_NOTE, err))
            return -1;
        uint32_t pos = SZ_NOTE;
        if (read_str(buf, off, size, &pos, &t->exec_path, "exec path", err))
            return -1;
        t->have_exec = true;
        t->exec_last = true;
        return 0;
    }
    case CT_REC_END:
        if (need(off, type, size, SZ_END, err))
            return -1;
        t->have_end = true;
        t->exec_last = false;
        t->end_how = rd32(p + 8);
        t->end_status = (int32_t)rd32(p + 12);
        t->end_time_ns = rd64(p + 16);
        t->end_faults = rd64(p + 24);
        t->end_scans = rd64(p + 32);
        return 0;
    case CT_REC_UNTRACK: {
        if (need(off, type, size, SZ_UNTRACK, err))
            return -1;
        struct ct_untrack u = { rd64(p + 8), rd64(p + 16), rd32(p + 24) };
        if (u.start >= u.end || u.end > CT_MAX_ADDR)
            return ct_fail(err, off + 8, "untrack record has a bad range [0x%llx, 0x%llx)",
                           (unsigned long long)u.start, (unsigned long long)u.end);
        t->untracks = xreallocarray(t->untracks, t->nuntracks + 1, sizeof *t->untracks);
        t->untracks[t->nuntracks++] = u;
        return 0;
    }
    default:
        t->unknown_records++;
        return 0;
    }
}

long ct_trace_find_region(const struct ct_trace *t, uint64_t pg)
{
    size_t lo = 0, hi = t->nregions;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        const struct ct_region *r = &t->regions[mid];
        if (pg < r->pg0)
            hi = mid;
        else if (pg >= r->pg0 + r->npages)
            lo = mid + 1;
        else
            return (long)mid;
    }
    return -1;
}

/* What the previous write event of pass 2 found: the next one is most
 * often in the same region and from the same stack, so it is checked
 * there before a binary search. */
struct write_hint {
    long region;              /* -1: none yet */
    uint32_t stack_id;        /* 0: none yet */
    long stack;
};

static long find_region_hinted(const struct ct_trace *t, uint64_t pg, struct write_hint *h)
{
    if (h->region >= 0) {
        const struct ct_region *r = &t->regions[h->region];
        if (pg >= r->pg0 && pg < r->pg0 + r->npages)
            return h->region;
    }
    long ri = ct_trace_find_region(t, pg);
    if (ri >= 0)
        h->region = ri;
    return ri;
}

static int pass2_pages(const uint8_t *buf, uint64_t off, uint32_t type, struct ct_trace *t,
                       struct ct_err *err)
{
    const uint8_t *p = buf + off;
    uint32_t rid = rd32(p + 8);
    uint32_t nbytes = rd32(p + 12);
    uint64_t pos = rd64(p + 16);
    if (rid >= t->nregions)
        return ct_fail(err, off + 8, "bad region id %u in %s record (the trace has %zu regions)",
                       rid, ct_rec_type_name(type), t->nregions);
    const struct ct_region *r = &t->regions[rid];
    if (pos > r->npages)
        return ct_fail(err, off + 16, "first page %llu is past the end of region %u (%llu pages)",
                       (unsigned long long)pos, rid, (unsigned long long)r->npages);
    struct ivl *set = type == CT_REC_PRESENT ? &t->present
                    : type == CT_REC_EARLY ? &t->early : &t->written;
    const uint8_t *q = p + SZ_PAGES, *end = q + nbytes;
    while (q < end) {
        uint64_t gap, run;
        const uint8_t *at = q;
        enum leb_status st = leb128_read(&q, end, &gap);
        if (st)
            return ct_fail(err, off + (uint64_t)(at - p), "%s", leb128_strerror(st));
        if (gap > r->npages - pos)
            return ct_fail(err, off + (uint64_t)(at - p),
                           "run list gap of %llu pages from page %llu goes past the end of region %u (%llu pages)",
                           (unsigned long long)gap, (unsigned long long)pos, rid,
                           (unsigned long long)r->npages);
        pos += gap;
        at = q;
        if (q == end)
            return ct_fail(err, off + (uint64_t)(at - p), "run list ends with a gap and no run");
        st = leb128_read(&q, end, &run);
        if (st)
            return ct_fail(err, off + (uint64_t)(at - p), "%s", leb128_strerror(st));
        if (run > r->npages - pos)
            return ct_fail(err, off + (uint64_t)(at - p),
                           "run of %llu pages at page %llu goes past the end of region %u (%llu pages)",
                           (unsigned long long)run, (unsigned long long)pos, rid,
                           (unsigned long long)r->npages);
        if (run) {
            ivl_add(set, r->pg0 + pos, r->pg0 + pos + run);
            /* Early pages were written too: the written set is their union. */
            if (type == CT_REC_EARLY)
                ivl_add(&t->written, r->pg0 + pos, r->pg0 + pos + run);
        }
        pos += run;
    }
    return 0;
}

/* Pass 1: a CT_REC_WRITE event as read, its stack still the file's id
 * (settled by settle_writes once every region and stack is known). */
static void read_write(const uint8_t *buf, uint64_t off, uint32_t size, struct ct_trace *t)
{
    const uint8_t *p = buf + off;
    struct ct_event e = { .addr = rd64(p + 8) };
    e.pg = e.addr >> t->page_shift;
    t->nwrites++;
    e.time_ns = rd64(p + 24);
    e.flags = rd32(p + 36);
    /* A record shorter than the evidence fields (the first version, or a
     * size in between) has no evidence: zero, which means "not examined". */
    if (size >= CT_REC_WRITE_V2_SIZE) {
        e.obj = rd64(p + 40);
        e.type = rd64(p + 48);
        e.block = rd64(p + 56);
        e.block_size = rd32(p + 64);
        e.where = p[68];
        e.obj_how = p[69];
    }
    if (size >= SZ_WRITE)
        e.stack = rd32(p + 72);
    /* Each event is at least 40 bytes of file. */
    t->events = grow(t->events, &t->events_cap, t->nevents + 1, sizeof *t->events);
    t->events[t->nevents++] = e;
}

/* After pass 1: drops the events outside every region (counted), adds the
 * others to the written set, numbers them in file order and turns stack ids
 * into stack indexes. A stack id no STACK record defines (lost with a torn
 * tail, or a hostile file) is read as no stack, and counted. */
static void settle_writes(struct ct_trace *t)
{
    struct write_hint h = { .region = -1, .stack_id = 0, .stack = -1 };
    size_t k = 0;
    for (size_t i = 0; i < t->nevents; i++) {
        struct ct_event e = t->events[i];
        if (find_region_hinted(t, e.pg, &h) < 0) {
            t->writes_outside++;
            continue;
        }
        ivl_add(&t->written, e.pg, e.pg + 1);
        uint32_t id = e.stack;
        e.stack = 0;
        if (id) {
            long si = id == h.stack_id ? h.stack : ct_trace_find_stack(t, id);
            h.stack_id = id;
            h.stack = si;
            if (si < 0)
                t->stacks_missing++;
            else
                e.stack = (uint32_t)si + 1;
        }
        e.seq = (uint32_t)k;
        t->events[k++] = e;
    }
    t->nevents = k;
}

/* Decodes one page-summary number that must fit `max`. */
static int summary_num(const uint8_t **q, const uint8_t *end, const uint8_t *rec, uint64_t off,
                       uint64_t max, const char *what, uint64_t *out, struct ct_err *err)
{
    const uint8_t *at = *q;
    enum leb_status st = leb128_read(q, end, out);
    if (st)
        return ct_fail(err, off + (uint64_t)(at - rec), "page summary %s: %s", what, leb128_strerror(st));
    if (*out > max)
        return ct_fail(err, off + (uint64_t)(at - rec), "page summary %s %llu is too large (at most %llu)",
                       what, (unsigned long long)*out, (unsigned long long)max);
    return 0;
}

static int pass2_summary(const uint8_t *buf, uint64_t off, struct ct_trace *t, struct ct_err *err)
{
    const uint8_t *p = buf + off;
    uint64_t base = rd64(p + 8);
    uint32_t count = rd32(p + 16), nbytes = rd32(p + 20);
    uint64_t max_pg = CT_MAX_ADDR >> t->page_shift;
    if (base & (t->page_size - 1) || base >= CT_MAX_ADDR)
        return ct_fail(err, off + 8, "page summary base 0x%llx is not a page address",
                       (unsigned long long)base);
    /* Four numbers of at least one byte each per entry. */
    if ((uint64_t)count * 4 > nbytes)
        return ct_fail(err, off + 16, "page summary of %u entries cannot fit in %u bytes", count, nbytes);
    const uint8_t *q = p + SZ_SUMMARY, *end = q + nbytes;
    uint64_t pg = base >> t->page_shift;
    for (uint32_t i = 0; i < count; i++) {
        uint64_t delta, type, code, objects;
        const uint8_t *at = q;
        if (summary_num(&q, end, p, off, max_pg, "page delta", &delta, err)
            || summary_num(&q, end, p, off, UINT32_MAX, "type index", &type, err)
            || summary_num(&q, end, p, off, UINT32_MAX, "code", &code, err)
            || summary_num(&q, end, p, off, t->page_size, "object count", &objects, err))
            return -1;
        if (delta > max_pg - pg)
            return ct_fail(err, off + (uint64_t)(at - p), "page summary entry %u is past the end of the "
                           "address space (page %llu + %llu)", i, (unsigned long long)pg,
                           (unsigned long long)delta);
        pg += delta;
        /* At least 4 bytes of file per entry. */
        if (t->nsummaries == t->summaries_cap) {
            t->summaries_cap = t->summaries_cap ? 2 * t->summaries_cap : 256;
            t->summaries = xreallocarray(t->summaries, t->summaries_cap, sizeof *t->summaries);
        }
        t->summaries[t->nsummaries] = (struct ct_summary){
            .pg = pg, .type_index = (uint32_t)type, .code = (uint32_t)code,
            .objects = (uint32_t)objects, .seq = (uint32_t)t->nsummaries,
        };
        t->nsummaries++;
    }
    return 0;
}

static int pass2_record(const uint8_t *buf, uint64_t off, uint32_t type, struct ct_trace *t, struct ct_err *err)
{
    switch (type) {
    case CT_REC_PRESENT:
    case CT_REC_EARLY:
    case CT_REC_WRITTEN:
        return pass2_pages(buf, off, type, t, err);
    case CT_REC_PAGE_SUMMARY:
        return pass2_summary(buf, off, t, err);
    }
    return 0;
}

/* Page records, noted by pass 1 for pass 2 (which needs every region):
 * pass 2 visits only them, not the whole file again. */
struct pending {
    uint64_t off;
    uint32_t type;
};

struct pending_list {
    struct pending *v;
    size_t n, cap;
};

#define PREFETCH_AHEAD 1024

/* Pass 1: walks the record stream from `start`. Write events are read
 * here, while their bytes are at hand; page records are noted. */
static int walk(const uint8_t *buf, size_t len, uint64_t start, struct ct_trace *t, struct pending_list *pl,
                struct ct_err *err)
{
    uint64_t off = start;
    for (;;) {
        uint32_t type = 0, size = 0;
        enum frame fr = FR_END_ZERO;   /* set by frame(); initialised for the compiler */
        if (frame(buf, len, off, &type, &size, &fr, err))
            return -1;
        if (fr != FR_RECORD) {
            t->stream_end = off;
            t->ended_by_zero = fr == FR_END_ZERO;
            t->torn = fr == FR_TORN;
            t->torn_offset = off;
            return 0;
        }
        /* The stream is read once, in order, and is most of a big trace's
         * cost: ask for the bytes a few records ahead. */
        __builtin_prefetch(buf + off + PREFETCH_AHEAD);
        if (pass1_record(buf, off, type, size, t, err))
            return -1;
        if (type == CT_REC_WRITE)
            read_write(buf, off, size, t);
        else if (type == CT_REC_PRESENT || type == CT_REC_EARLY || type == CT_REC_WRITTEN
                 || type == CT_REC_PAGE_SUMMARY) {
            /* At least 24 bytes of file each. */
            pl->v = grow(pl->v, &pl->cap, pl->n + 1, sizeof *pl->v);
            pl->v[pl->n++] = (struct pending){ off, type };
        }
        t->nrecords++;
        off += size;
    }
}

/* Pass 2: the noted page records, in file order. */
static int pass2(const uint8_t *buf, const struct pending_list *pl, struct ct_trace *t, struct ct_err *err)
{
    for (size_t i = 0; i < pl->n; i++)
        if (pass2_record(buf, pl->v[i].off, pl->v[i].type, t, err))
            return -1;
    return 0;
}

static void str_free(struct ct_str *s)
{
    free(s->s);
    s->s = NULL;
    s->len = 0;
}

void ct_trace_drop_pages(struct ct_trace *t)
{
    ivl_free(&t->present);
    ivl_free(&t->written);
    ivl_free(&t->early);
    free(t->events);
    t->events = NULL;
    t->nevents = t->events_cap = 0;
    free(t->summaries);
    t->summaries = NULL;
    t->nsummaries = t->summaries_cap = 0;
}

void ct_trace_free(struct ct_trace *t)
{
    free(t->file);
    str_free(&t->mode_reason);
    str_free(&t->exe);
    str_free(&t->comm);
    str_free(&t->exec_path);
    for (size_t i = 0; i < t->nregions; i++)
        str_free(&t->regions[i].name);
    free(t->regions);
    for (size_t i = 0; i < t->nnotes; i++)
        str_free(&t->notes[i].text);
    free(t->notes);
    free(t->untracks);
    str_free(&t->python.version);
    str_free(&t->python.path);
    str_free(&t->pylayout_name);
    free(t->pylayout);
    for (size_t i = 0; i < t->npytypes; i++)
        str_free(&t->pytypes[i].name);
    free(t->pytypes);
    for (size_t i = 0; i < t->nmodules; i++)
        str_free(&t->modules[i].path);
    free(t->modules);
    for (size_t i = 0; i < t->npycodes; i++) {
        str_free(&t->pycodes[i].qualname);
        str_free(&t->pycodes[i].filename);
        free(t->pycodes[i].linetable);
    }
    free(t->pycodes);
    free(t->stacks);
    free(t->stack_ips);
    free(t->stack_py);
    ct_trace_drop_pages(t);
    memset(t, 0, sizeof *t);
}

int ct_trace_parse(const char *file, const uint8_t *buf, size_t len, struct ct_trace *t,
                   struct ct_err *err)
{
    uint64_t hdr_size = CT_HEADER_SIZE;
    memset(t, 0, sizeof *t);
    ivl_init(&t->present);
    ivl_init(&t->written);
    ivl_init(&t->early);
    t->file = xstrdup(file);
    struct pending_list pl = { NULL, 0, 0 };
    if (parse_header(buf, len, t, &hdr_size, err) || walk(buf, len, hdr_size, t, &pl, err)
        || check_pytypes(t, err) || check_stacks(t, err)) {
        free(pl.v);
        ct_trace_free(t);
        return -1;
    }
    settle_writes(t);
    int rc = pass2(buf, &pl, t, err);
    free(pl.v);
    if (rc) {
        ct_trace_free(t);
        return -1;
    }
    ivl_normalize(&t->present);
    ivl_normalize(&t->written);
    ivl_normalize(&t->early);
    resolve_codes(t);
    return 0;
}

#define POPULATE_MAX ((size_t)256 << 20)

int ct_trace_load(const char *path, struct ct_trace *t, struct ct_err *err)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return ct_fail_nooff(err, "cannot open: %s", strerror(errno));
    struct stat st;
    if (fstat(fd, &st) < 0) {
        int e = errno;
        close(fd);
        return ct_fail_nooff(err, "cannot stat: %s", strerror(e));
    }
    if (!S_ISREG(st.st_mode)) {
        close(fd);
        return ct_fail_nooff(err, "not a regular file");
    }
    size_t len = (size_t)st.st_size;
    const uint8_t *buf = (const uint8_t *)"";
    void *map = NULL;
    if (len) {
        /* Mapped at once rather than a fault per few pages: a whole trace
         * is read. Not past POPULATE_MAX, where a hostile (sparse) file
         * could be mostly a zero tail the stream never reaches. */
        map = mmap(NULL, len, PROT_READ, MAP_PRIVATE | (len <= POPULATE_MAX ? MAP_POPULATE : 0), fd, 0);
        if (map == MAP_FAILED) {
            int e = errno;
            close(fd);
            return ct_fail_nooff(err, "cannot map %zu bytes: %s", len, strerror(e));
        }
        madvise(map, len, MADV_SEQUENTIAL);
        buf = map;
    }
    close(fd);
    int rc = ct_trace_parse(path, buf, len, t, err);
    if (map)
        munmap(map, len);
    return rc;
}
