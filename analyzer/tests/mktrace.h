/*
 * mktrace.h - a small writer of trace files, for tests and benchmarks.
 *
 * Promise: builds a trace in memory exactly as common/ct_format.h defines it
 * (little-endian, records padded to 8, type word included), and lets a test
 * write anything at all, including broken records, so the reader can be
 * tested on both. Records the shim could write are encoded by the shim's
 * own encoders (shim/trace_records.c), byte for byte; only older record
 * versions, values past the shim's limits and broken records are built
 * here. It does not try to be the shim otherwise: no kill safety, no file
 * preallocation.
 */
#ifndef COWTRACE_MKTRACE_H
#define COWTRACE_MKTRACE_H

#include <stddef.h>
#include <stdint.h>

#include "ct_format.h"

struct mkt {
    uint8_t *buf;
    size_t len, cap;
};

/* Starts a trace with a v1 header. */
void mkt_init(struct mkt *m, int32_t pid, int32_t ppid, uint32_t mode, uint32_t page_size);
void mkt_free(struct mkt *m);

void mkt_set_reap(struct mkt *m, int32_t wait_status);
void mkt_process(struct mkt *m, uint32_t mode, const char *reason, const char *exe, const char *comm);
void mkt_region(struct mkt *m, uint32_t id, uint32_t kind, uint64_t start, uint64_t end,
                uint32_t tracking, const char *name);
/* A page record; nums is the run list as numbers (gap, run, gap, run...). */
void mkt_pages(struct mkt *m, uint32_t type, uint32_t region, uint64_t first_page,
               const uint64_t *nums, size_t n);
/* A page record with a raw run-list byte string (for broken LEB128). */
void mkt_pages_raw(struct mkt *m, uint32_t type, uint32_t region, uint64_t first_page,
                   const void *bytes, uint32_t nbytes);
void mkt_write(struct mkt *m, uint64_t addr, uint64_t ip, uint32_t tid, uint32_t flags);
/* A WRITE record with evidence (mkt_write writes the 40-byte first
 * version): 72 bytes, or 80 with the stack id when stack is not 0. */
struct mkt_ev {
    uint64_t addr, ip, time_ns;
    uint32_t tid, flags;
    uint64_t obj, type, block;
    uint32_t block_size;
    uint8_t where, obj_how;
    uint32_t stack;
};
void mkt_write_ev(struct mkt *m, const struct mkt_ev *e);
void mkt_python(struct mkt *m, uint64_t hexversion, uint32_t layout_known, uint32_t flags,
                const char *version, const char *path);
void mkt_pytype(struct mkt *m, uint64_t addr, uint32_t index, uint64_t flags, int64_t basicsize,
                int64_t itemsize, const char *name);
void mkt_module(struct mkt *m, uint64_t base, uint64_t start, uint64_t end, const char *path);
/* A MODULE record with a given build id (idlen <= 20). */
void mkt_module_id(struct mkt *m, uint64_t base, uint64_t start, uint64_t end, const uint8_t *id,
                   uint32_t idlen, const char *path);
/* A STACK record: ips innermost first, then Python frames innermost first. */
void mkt_stack(struct mkt *m, uint32_t id, uint32_t flags, const uint64_t *ips, uint16_t nips,
               const struct ct_pyframe *py, uint16_t npy);
/* A PYCODE record. */
void mkt_pycode(struct mkt *m, uint64_t addr, int32_t firstlineno, const char *qualname, const char *filename,
                const void *linetable, uint32_t ltlen);
/* A page summary; nums holds `count` entries of four numbers (page delta,
 * type index, code, objects). */
void mkt_page_summary(struct mkt *m, uint64_t base, const uint64_t *nums, uint32_t count);
void mkt_note(struct mkt *m, uint32_t level, const char *text);
/* Text may hold any bytes; len given explicitly. */
void mkt_note_bytes(struct mkt *m, uint32_t type, uint32_t level, const void *text, size_t len);
void mkt_exec(struct mkt *m, const char *path);
void mkt_end(struct mkt *m, uint32_t how, int32_t status);
void mkt_untrack(struct mkt *m, uint64_t start, uint64_t end, uint32_t reason);
/* Any record: an 8-byte frame with the given type and size, then payload
 * (zero-filled up to size). */
void mkt_record(struct mkt *m, uint32_t type, uint32_t size, const void *payload, size_t plen);
void mkt_bytes(struct mkt *m, const void *p, size_t n);

/* Little-endian stores into the buffer, for tests that corrupt fields. */
void mkt_put16(struct mkt *m, size_t off, uint16_t v);
void mkt_put32(struct mkt *m, size_t off, uint32_t v);
void mkt_put64(struct mkt *m, size_t off, uint64_t v);

int mkt_save(const struct mkt *m, const char *path);

/* Incremental run-list builder: add pages in increasing order. */
struct mkt_runs {
    uint8_t *b;
    size_t n, cap;
    uint64_t first;           /* first_page of the record */
    uint64_t pos;             /* end of the last run (relative to the region) */
    uint64_t run_start, run_len;
    int started;
};
void mkt_runs_init(struct mkt_runs *r, uint64_t first_page);
void mkt_runs_add(struct mkt_runs *r, uint64_t page, uint64_t count);
/* Emits the record (if it holds any run) and resets the builder to start at
 * `next_first`. */
void mkt_runs_flush(struct mkt *m, struct mkt_runs *r, uint32_t type, uint32_t region, uint64_t next_first);
void mkt_runs_free(struct mkt_runs *r);
/* Bytes of run list pending, including the run being extended. */
size_t mkt_runs_bytes(const struct mkt_runs *r);

#endif
