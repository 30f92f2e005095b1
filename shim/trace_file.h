/*
 * trace_file.h - the trace file as a place to put records, and its name.
 *
 * Promise: a writer hands out space for records and publishes them so that
 * a reader, or a process killed at any instant, sees only whole records
 * (ct_format.h). Reserving and publishing are async-signal-safe, and
 * lock-free except while the file grows: then other threads wait (a spin on
 * grow_lock) for the one growing it, and a signal handler that interrupted
 * the growing thread itself gets no space (it cannot wait for itself). Only shim/trace_records.c calls ct_writer_reserve/ct_writer_publish
 * (scripts/check-structure checks it): everything else writes records
 * through its ct_rec_* encoders.
 *
 * Two kinds of writer share the reserve/publish code:
 *   file    (ct_writer_create) the shim's: a preallocated file mapped
 *           MAP_SHARED, grown with fallocate, trimmed by ct_writer_finish;
 *   memory  (ct_writer_init_memory) a caller's zeroed buffer of fixed size,
 *           for tests that encode records with the shim's own encoders, and
 *           for the child's set-up, whose page sets are read before the
 *           file may hold them (ct_rec_copy). It never allocates: the
 *           caller owns the buffer.
 *
 * Nothing here reads the shim's configuration or state, so the analyzer's
 * tests link this file (with trace_records.c and sys.c) as they are.
 */
#ifndef COWTRACE_TRACE_FILE_H
#define COWTRACE_TRACE_FILE_H

#include <limits.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "ct_format.h"

struct ct_writer {
    int fd;                    /* -1 for a memory writer, or once abandoned */
    int in_memory;             /* a caller's buffer: never grows */
    uint64_t dev, ino;
    char path[PATH_MAX];
    char *map;                 /* MAP_SHARED view of the whole file, or the buffer */
    size_t map_cap;            /* bytes reserved for the view */
    _Atomic size_t used;       /* bytes handed out */
    _Atomic size_t alloc;      /* bytes backed by fallocate (memory: the buffer) */
    _Atomic int grow_lock;     /* the id of the thread growing the file, or 0 */
    _Atomic int full;          /* growing failed: only final records fit */
};

/* Creates <dir>/<pid>[.<n>].cowtrace (never an existing file) and writes
 * the header. 0 or -errno. */
int ct_writer_create(struct ct_writer *w, const char *dir, const struct ct_header *h);
/* A writer over buf[0, cap): zeroes it and writes the header there. */
void ct_writer_init_memory(struct ct_writer *w, void *buf, size_t cap, const struct ct_header *h);
/* The same over a buffer already zero (fresh anonymous memory): only the
 * pages records reach are touched. */
void ct_writer_init_zeroed(struct ct_writer *w, void *buf, size_t cap, const struct ct_header *h);

/* Space for a record of `size` bytes (zero-filled), or NULL when the trace
 * is full. `final` records may use the last CT_WRITER_FINAL_RESERVE bytes,
 * kept for the end of the trace (the final note and END). */
#define CT_WRITER_FINAL_RESERVE 4096u
void *ct_writer_reserve(struct ct_writer *w, size_t size, int final);
/* Makes a filled record visible: its type word is stored last. */
void ct_writer_publish(void *rec, uint32_t type, uint32_t size);

size_t ct_writer_used(struct ct_writer *w);    /* header + records so far */
void ct_writer_finish(struct ct_writer *w);    /* file: trim the zero tail */
void ct_writer_abandon(struct ct_writer *w);   /* file: unmap and close, nothing more */

/* Trace file names: <dir>/<pid>.cowtrace, then <pid>.<n>.cowtrace for a
 * pid reused within one run, n < CT_TRACE_NAME_TRIES. -ENAMETOOLONG if it
 * does not fit in cap bytes. */
#define CT_TRACE_NAME_TRIES 100
int ct_trace_name(char *out, size_t cap, const char *dir, int pid, int n);

/* The parent's side of the reap slot (ct_header.reap_magic): writes the
 * wait status of `pid` into the header of its trace, the one whose header
 * names `parent` as ppid and has no status yet. Quietly does nothing when
 * there is no such trace. */
void ct_trace_mark_reaped(const char *dir, int pid, int parent, int status);

#endif
