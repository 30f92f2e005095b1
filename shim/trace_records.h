/*
 * trace_records.h - one encoder per record type (common/ct_format.h).
 *
 * Promise: this is the only place on the write side that knows how a record
 * is laid out. Each ct_rec_* function reserves space in a writer, fills in
 * the record and publishes it; it returns 0, or -ENOSPC when the trace is
 * full (nothing was written). Strings are cut to the limit the format or
 * the record's use sets (noted per function), never longer than a length
 * word holds. Every encoder is async-signal-safe: no allocation, no errno,
 * no lock but the writer's wait while the file grows (trace_file.h); they
 * may run in a fault handler or the flusher process.
 *
 * Callers hand over values, not layouts: run lists (runs.c) and page
 * summaries are built elsewhere as byte strings (ct_wire.h's LEB128) and
 * passed in finished.
 */
#ifndef COWTRACE_TRACE_RECORDS_H
#define COWTRACE_TRACE_RECORDS_H

#include <stddef.h>
#include <stdint.h>

#include "ct_format.h"
#include "trace_file.h"

#define CT_REC_TEXT_MAX 1024u          /* NOTE and EXEC text */
#define CT_REC_REGION_NAME_MAX 4096u   /* REGION name */

/* What a WRITE record says about the object it hit (CPython): ct_rec_write's
 * evidence, found by shim/py/evidence.c before the write happens. */
struct ct_py_evidence {
    uintptr_t obj, type, block;
    uint32_t block_size;
    uint8_t where, obj_how;
};

/* A REGION record's values (the shim keeps more per region than it writes). */
struct ct_region_desc {
    uint32_t id, kind, prot, tracking, untracked_reason;
    uint64_t start, end, file_offset, inode;
    const char *name;           /* NUL-terminated; cut to CT_REC_REGION_NAME_MAX */
};

/* Reads n bytes at a target address into out; 0 or not (shim/py/peek.c's guarded
 * reads). Lets a record's payload be read straight into the trace. */
typedef int ct_rec_read_fn(uintptr_t addr, void *out, size_t n);

/* Set-up: the process and the memory it inherited. Strings NUL-terminated. */
int ct_rec_process(struct ct_writer *w, uint32_t mode, uint32_t flush_interval_ms,
                   const char *mode_reason, const char *exe, const char *comm);
int ct_rec_region(struct ct_writer *w, const struct ct_region_desc *r);
/* PRESENT, EARLY or WRITTEN: `runs` is nbytes of LEB128 (gap, run) pairs. */
int ct_rec_pages(struct ct_writer *w, uint32_t type, uint32_t region, uint64_t first_page,
                 const uint8_t *runs, size_t nbytes);
/* Every record of `from` (a memory writer) appended to w, in order. */
int ct_rec_copy(struct ct_writer *w, struct ct_writer *from);
int ct_rec_untrack(struct ct_writer *w, uint64_t start, uint64_t end, uint32_t reason);

/* A first write (sync backends). ev may be NULL: no evidence. */
int ct_rec_write(struct ct_writer *w, uint64_t addr, uint64_t ip, uint64_t time_ns, uint32_t tid,
                 uint32_t flags, const struct ct_py_evidence *ev, uint32_t stack);
/* Raw page contents (--capture-pages): len bytes from src. */
int ct_rec_page_data(struct ct_writer *w, uint64_t addr, uint32_t when, const void *src, uint32_t len);

/* Notes, exec and the end. These may use the space kept for the end of the
 * trace. Text cut to CT_REC_TEXT_MAX bytes. */
int ct_rec_note(struct ct_writer *w, uint32_t level, const char *text);
int ct_rec_exec(struct ct_writer *w, const char *path);
int ct_rec_end(struct ct_writer *w, uint32_t how, int32_t status, uint64_t time_ns,
               uint64_t faults, uint64_t scans);

/* CPython and ELF objects. Strings with an explicit length need no NUL. */
int ct_rec_python(struct ct_writer *w, uint64_t hexversion, uint64_t runtime, uint32_t layout_known,
                  uint32_t flags, const char *version, size_t version_len, const char *path);
int ct_rec_pytype(struct ct_writer *w, uint64_t addr, uint32_t index, uint64_t flags,
                  int64_t basicsize, int64_t itemsize, const char *name, size_t name_len);
int ct_rec_module(struct ct_writer *w, uint64_t base, uint64_t start, uint64_t end,
                  const uint8_t *build_id, uint32_t build_id_len, const char *path);
/* Page summaries (uffd-async): `count` entries, nbytes of LEB128 numbers. */
int ct_rec_page_summary(struct ct_writer *w, uint64_t base, uint32_t count,
                        const uint8_t *entries, size_t nbytes);
/* The count of full collections grew since the fork (uffd-async, before
 * the page summaries taken after that). */
int ct_rec_pygc(struct ct_writer *w, uint64_t at_fork, uint64_t now);

/* The CPython layout the evidence is decoded with: n (id, value) fields,
 * the i-th given by field(ctx, i, ...) straight into the record (no copy
 * on the program's stack), and the layout's name. */
typedef void ct_rec_field_fn(const void *ctx, size_t i, uint32_t *id, uint64_t *value);
int ct_rec_pylayout(struct ct_writer *w, uint32_t n, ct_rec_field_fn *field, const void *ctx, const char *name);

/* Stacks of first writes: ips[native_depth], then frames[py_depth]. */
int ct_rec_stack(struct ct_writer *w, uint32_t id, uint32_t flags, const uint64_t *ips,
                 uint16_t native_depth, const struct ct_pyframe *frames, uint16_t py_depth);
/* A code object. Its line table (linetable_len bytes at linetable_addr in
 * the traced process) is read by `read_mem` straight into the record; if that
 * read fails the record keeps its size and says linetable_len 0. */
int ct_rec_pycode(struct ct_writer *w, uint64_t addr, int32_t firstlineno,
                  const char *qualname, size_t qualname_len, const char *filename, size_t filename_len,
                  uintptr_t linetable_addr, uint32_t linetable_len, ct_rec_read_fn *read_mem);

#endif
