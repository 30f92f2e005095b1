/*
 * trace_records.c - the record encoders (see trace_records.h for the promise).
 *
 * Each encoder sizes its record, reserves it (the space comes zero-filled,
 * so padding and fields left alone read as zero), stores the fields through
 * the structs of ct_format.h and publishes it. The structs are the format
 * on a little-endian host, which every host the shim supports is; strings
 * go through ct_wire.h.
 */
#include <errno.h>

#include "ct_wire.h"
#include "sys.h"
#include "trace_records.h"

#if __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "the encoders store ct_format.h's little-endian structs directly"
#endif

static size_t capped(size_t n, size_t max)
{
    return n < max ? n : max;
}

static size_t str_len(const char *s, size_t max)
{
    return capped(s ? ct_strlen(s) : 0, max);
}

/* ---- set-up ------------------------------------------------------------------ */

int ct_rec_process(struct ct_writer *w, uint32_t mode, uint32_t flush_interval_ms,
                   const char *mode_reason, const char *exe, const char *comm)
{
    size_t lr = str_len(mode_reason, CT_WIRE_STR_MAX), le = str_len(exe, CT_WIRE_STR_MAX),
           lc = str_len(comm, CT_WIRE_STR_MAX);
    size_t size = ct_wire_rec_size(sizeof(struct ct_rec_process) + ct_wire_str_size(lr) +
                                   ct_wire_str_size(le) + ct_wire_str_size(lc));
    struct ct_rec_process *rec = ct_writer_reserve(w, size, 0);
    if (!rec)
        return -ENOSPC;
    rec->mode = mode;
    rec->flush_interval_ms = flush_interval_ms;
    uint8_t *s = (uint8_t *)(rec + 1);
    s = ct_wire_put_str(s, mode_reason, lr);
    s = ct_wire_put_str(s, exe, le);
    ct_wire_put_str(s, comm, lc);
    ct_writer_publish(rec, CT_REC_PROCESS, (uint32_t)size);
    return 0;
}

int ct_rec_region(struct ct_writer *w, const struct ct_region_desc *r)
{
    size_t nlen = str_len(r->name, CT_REC_REGION_NAME_MAX);
    size_t size = ct_wire_rec_size(sizeof(struct ct_rec_region) + ct_wire_str_size(nlen));
    struct ct_rec_region *rec = ct_writer_reserve(w, size, 0);
    if (!rec)
        return -ENOSPC;
    rec->id = r->id;
    rec->kind = r->kind;
    rec->start = r->start;
    rec->end = r->end;
    rec->prot = r->prot;
    rec->tracking = r->tracking;
    rec->file_offset = r->file_offset;
    rec->inode = r->inode;
    rec->untracked_reason = r->untracked_reason;
    ct_wire_put_str((uint8_t *)(rec + 1), r->name, nlen);
    ct_writer_publish(rec, CT_REC_REGION, (uint32_t)size);
    return 0;
}

int ct_rec_pages(struct ct_writer *w, uint32_t type, uint32_t region, uint64_t first_page,
                 const uint8_t *runs, size_t nbytes)
{
    size_t size = ct_wire_rec_size(sizeof(struct ct_rec_pages) + nbytes);
    struct ct_rec_pages *rec = ct_writer_reserve(w, size, 0);
    if (!rec)
        return -ENOSPC;
    rec->region = region;
    rec->nbytes = (uint32_t)nbytes;
    rec->first_page = first_page;
    ct_memcpy(rec + 1, runs, nbytes);
    ct_writer_publish(rec, type, (uint32_t)size);
    return 0;
}

/* The records of a memory writer, in order, into w: written ahead where
 * they could not yet be (the child's set-up reads its page sets before the
 * REGION records they refer to can exist). Each is published whole, as any
 * other. */
int ct_rec_copy(struct ct_writer *w, struct ct_writer *from)
{
    size_t end = ct_writer_used(from);
    for (size_t off = sizeof(struct ct_header); off + sizeof(struct ct_rec) <= end;) {
        const struct ct_rec *src = (const struct ct_rec *)(from->map + off);
        if (!src->type || src->size < sizeof *src || src->size > end - off)
            break;
        struct ct_rec *rec = ct_writer_reserve(w, src->size, 0);
        if (!rec)
            return -ENOSPC;
        ct_memcpy(rec + 1, src + 1, src->size - sizeof *src);
        ct_writer_publish(rec, src->type, src->size);
        off += src->size;
    }
    return 0;
}

int ct_rec_untrack(struct ct_writer *w, uint64_t start, uint64_t end, uint32_t reason)
{
    struct ct_rec_untrack *rec = ct_writer_reserve(w, sizeof *rec, 0);
    if (!rec)
        return -ENOSPC;
    rec->start = start;
    rec->end = end;
    rec->reason = reason;
    ct_writer_publish(rec, CT_REC_UNTRACK, sizeof *rec);
    return 0;
}

/* ---- writes -------------------------------------------------------------------- */

int ct_rec_write(struct ct_writer *w, uint64_t addr, uint64_t ip, uint64_t time_ns, uint32_t tid,
                 uint32_t flags, const struct ct_py_evidence *ev, uint32_t stack)
{
    struct ct_rec_write *rec = ct_writer_reserve(w, sizeof *rec, 0);
    if (!rec)
        return -ENOSPC;
    rec->addr = addr;
    rec->ip = ip;
    rec->time_ns = time_ns;
    rec->tid = tid;
    rec->flags = flags;
    if (ev) {
        rec->obj = ev->obj;
        rec->type = ev->type;
        rec->block = ev->block;
        rec->block_size = ev->block_size;
        rec->where = ev->where;
        rec->obj_how = ev->obj_how;
    }
    rec->stack = stack;
    ct_writer_publish(rec, CT_REC_WRITE, sizeof *rec);
    return 0;
}

int ct_rec_page_data(struct ct_writer *w, uint64_t addr, uint32_t when, const void *src, uint32_t len)
{
    size_t size = ct_wire_rec_size(sizeof(struct ct_rec_page_data) + len);
    struct ct_rec_page_data *rec = ct_writer_reserve(w, size, 0);
    if (!rec)
        return -ENOSPC;
    rec->addr = addr;
    rec->when = when;
    rec->len = len;
    ct_memcpy(rec + 1, src, len);
    ct_writer_publish(rec, CT_REC_PAGE_DATA, (uint32_t)size);
    return 0;
}

/* ---- notes, exec, end ---------------------------------------------------------- */

/* NOTE and EXEC: a level and one string. */
static int text_record(struct ct_writer *w, uint32_t type, uint32_t level, const char *text)
{
    size_t len = str_len(text, CT_REC_TEXT_MAX);
    size_t size = ct_wire_rec_size(sizeof(struct ct_rec_note) + ct_wire_str_size(len));
    struct ct_rec_note *rec = ct_writer_reserve(w, size, 1);
    if (!rec)
        return -ENOSPC;
    rec->level = level;
    ct_wire_put_str((uint8_t *)(rec + 1), text, len);
    ct_writer_publish(rec, type, (uint32_t)size);
    return 0;
}

int ct_rec_note(struct ct_writer *w, uint32_t level, const char *text)
{
    return text_record(w, CT_REC_NOTE, level, text);
}

int ct_rec_exec(struct ct_writer *w, const char *path)
{
    return text_record(w, CT_REC_EXEC, 0, path);
}

int ct_rec_end(struct ct_writer *w, uint32_t how, int32_t status, uint64_t time_ns,
               uint64_t faults, uint64_t scans)
{
    struct ct_rec_end *rec = ct_writer_reserve(w, sizeof *rec, 1);
    if (!rec)
        return -ENOSPC;
    rec->how = how;
    rec->status = status;
    rec->time_ns = time_ns;
    rec->faults = faults;
    rec->scans = scans;
    ct_writer_publish(rec, CT_REC_END, sizeof *rec);
    return 0;
}

/* ---- CPython and ELF objects ------------------------------------------------------ */

int ct_rec_python(struct ct_writer *w, uint64_t hexversion, uint64_t runtime, uint32_t layout_known,
                  uint32_t flags, const char *version, size_t version_len, const char *path)
{
    size_t vlen = capped(version_len, CT_WIRE_STR_MAX), plen = str_len(path, CT_WIRE_STR_MAX);
    size_t size = ct_wire_rec_size(sizeof(struct ct_rec_python) + ct_wire_str_size(vlen) +
                                   ct_wire_str_size(plen));
    struct ct_rec_python *rec = ct_writer_reserve(w, size, 0);
    if (!rec)
        return -ENOSPC;
    rec->hexversion = hexversion;
    rec->runtime = runtime;
    rec->layout_known = layout_known;
    rec->flags = flags;
    uint8_t *s = ct_wire_put_str((uint8_t *)(rec + 1), version, vlen);
    ct_wire_put_str(s, path, plen);
    ct_writer_publish(rec, CT_REC_PYTHON, (uint32_t)size);
    return 0;
}

int ct_rec_pytype(struct ct_writer *w, uint64_t addr, uint32_t index, uint64_t flags,
                  int64_t basicsize, int64_t itemsize, const char *name, size_t name_len)
{
    size_t len = capped(name_len, CT_WIRE_STR_MAX);
    size_t size = ct_wire_rec_size(sizeof(struct ct_rec_pytype) + ct_wire_str_size(len));
    struct ct_rec_pytype *rec = ct_writer_reserve(w, size, 0);
    if (!rec)
        return -ENOSPC;
    rec->addr = addr;
    rec->index = index;
    rec->flags = flags;
    rec->basicsize = basicsize;
    rec->itemsize = itemsize;
    ct_wire_put_str((uint8_t *)(rec + 1), name, len);
    ct_writer_publish(rec, CT_REC_PYTYPE, (uint32_t)size);
    return 0;
}

int ct_rec_pylayout(struct ct_writer *w, uint32_t n, ct_rec_field_fn *field, const void *ctx, const char *name)
{
    size_t nlen = str_len(name, CT_WIRE_STR_MAX);
    size_t size = ct_wire_rec_size(sizeof(struct ct_rec_pylayout) + (size_t)n * sizeof(struct ct_pylayout_field) +
                                   ct_wire_str_size(nlen));
    struct ct_rec_pylayout *rec = ct_writer_reserve(w, size, 0);
    if (!rec)
        return -ENOSPC;
    rec->nfields = n;
    rec->reserved = 0;
    struct ct_pylayout_field *f = (struct ct_pylayout_field *)(rec + 1);
    for (uint32_t i = 0; i < n; i++) {
        field(ctx, i, &f[i].id, &f[i].value);
        f[i].reserved = 0;
    }
    ct_wire_put_str((uint8_t *)(f + n), name, nlen);
    ct_writer_publish(rec, CT_REC_PYLAYOUT, (uint32_t)size);
    return 0;
}

int ct_rec_module(struct ct_writer *w, uint64_t base, uint64_t start, uint64_t end,
                  const uint8_t *build_id, uint32_t build_id_len, const char *path)
{
    size_t plen = str_len(path, CT_WIRE_STR_MAX);
    size_t size = ct_wire_rec_size(sizeof(struct ct_rec_module) + ct_wire_str_size(plen));
    struct ct_rec_module *rec = ct_writer_reserve(w, size, 0);
    if (!rec)
        return -ENOSPC;
    rec->base = base;
    rec->start = start;
    rec->end = end;
    rec->build_id_len = (uint32_t)capped(build_id_len, sizeof rec->build_id);
    ct_memcpy(rec->build_id, build_id, rec->build_id_len);
    ct_wire_put_str((uint8_t *)(rec + 1), path, plen);
    ct_writer_publish(rec, CT_REC_MODULE, (uint32_t)size);
    return 0;
}

int ct_rec_page_summary(struct ct_writer *w, uint64_t base, uint32_t count,
                        const uint8_t *entries, size_t nbytes)
{
    size_t size = ct_wire_rec_size(sizeof(struct ct_rec_page_summary) + nbytes);
    struct ct_rec_page_summary *rec = ct_writer_reserve(w, size, 0);
    if (!rec)
        return -ENOSPC;
    rec->base = base;
    rec->count = count;
    rec->nbytes = (uint32_t)nbytes;
    ct_memcpy(rec + 1, entries, nbytes);
    ct_writer_publish(rec, CT_REC_PAGE_SUMMARY, (uint32_t)size);
    return 0;
}

int ct_rec_pygc(struct ct_writer *w, uint64_t at_fork, uint64_t now)
{
    struct ct_rec_pygc *rec = ct_writer_reserve(w, sizeof *rec, 0);
    if (!rec)
        return -ENOSPC;
    rec->at_fork = at_fork;
    rec->now = now;
    ct_writer_publish(rec, CT_REC_PYGC, sizeof *rec);
    return 0;
}

/* ---- stacks -------------------------------------------------------------------------- */

int ct_rec_stack(struct ct_writer *w, uint32_t id, uint32_t flags, const uint64_t *ips,
                 uint16_t native_depth, const struct ct_pyframe *frames, uint16_t py_depth)
{
    size_t nips = (size_t)native_depth * sizeof *ips, npy = (size_t)py_depth * sizeof *frames;
    size_t size = sizeof(struct ct_rec_stack) + nips + npy;
    struct ct_rec_stack *rec = ct_writer_reserve(w, size, 0);
    if (!rec)
        return -ENOSPC;
    rec->id = id;
    rec->native_depth = native_depth;
    rec->py_depth = py_depth;
    rec->flags = flags;
    ct_memcpy(rec + 1, ips, nips);
    ct_memcpy((uint8_t *)(rec + 1) + nips, frames, npy);
    ct_writer_publish(rec, CT_REC_STACK, (uint32_t)size);
    return 0;
}

int ct_rec_pycode(struct ct_writer *w, uint64_t addr, int32_t firstlineno,
                  const char *qualname, size_t qualname_len, const char *filename, size_t filename_len,
                  uintptr_t linetable_addr, uint32_t linetable_len, ct_rec_read_fn *read_mem)
{
    size_t qlen = capped(qualname_len, CT_WIRE_STR_MAX), flen = capped(filename_len, CT_WIRE_STR_MAX);
    size_t size = ct_wire_rec_size(sizeof(struct ct_rec_pycode) + ct_wire_str_size(qlen) +
                                   ct_wire_str_size(flen) + linetable_len);
    struct ct_rec_pycode *rec = ct_writer_reserve(w, size, 0);
    if (!rec)
        return -ENOSPC;
    rec->addr = addr;
    rec->firstlineno = firstlineno;
    uint8_t *p = ct_wire_put_str((uint8_t *)(rec + 1), qualname, qlen);
    p = ct_wire_put_str(p, filename, flen);
    /* Read in place: a line table may be 16 KiB, more than a handler's stack
     * should hold. A failed read leaves the space and says "no lines". */
    if (linetable_len && read_mem(linetable_addr, p, linetable_len))
        linetable_len = 0;
    rec->linetable_len = linetable_len;
    ct_writer_publish(rec, CT_REC_PYCODE, (uint32_t)size);
    return 0;
}
