/*
 * trace.h - the trace reader: turns one trace file (format in
 * common/ct_format.h) into validated, owned data.
 *
 * Promise: every trace is hostile input. ct_trace_parse either fills a
 * struct ct_trace whose every field has been checked (regions sorted and
 * non-overlapping, page sets inside their regions, strings inside their
 * records) or returns -1 with a message and the byte offset of the first
 * problem. It never reads outside the buffer, and the memory it allocates is
 * bounded by a small multiple of the file size, whatever the file claims.
 *
 * What is tolerated rather than rejected, and why:
 *  - a stream that simply stops at a record boundary, or at a zero type word:
 *    the process was killed, everything it published is whole;
 *  - a last record cut short by the end of the file, if what is visible of it
 *    is self-consistent: the file was truncated mid-write. It is dropped and
 *    the trace is marked torn (incomplete);
 *  - unknown record types with a sane size: written by a newer shim, skipped
 *    and counted (forward compatibility within a format version);
 *  - a write event outside every region: counted as a warning;
 *  - a WRITE record of the first version (CT_REC_WRITE_V1_SIZE bytes, or any
 *    size short of the evidence fields): read with zero evidence;
 *  - evidence values the reader does not know (a `where` past
 *    CT_WHERE_OUTSIDE, a type address or page-summary type index no PYTYPE
 *    record defines): kept as read; attribution treats them as unknown.
 *  - a WRITE whose stack id no STACK record defines: read as having no
 *    stack, and counted (stacks_missing);
 *  - a Python frame whose code address no PYCODE record defines: kept, and
 *    shown as an unknown function (pycode -1).
 * What is rejected on top of framing: a PYTYPE index that is 0 or repeats,
 * a MODULE build-id length past 20, a PAGE_SUMMARY whose entries run past
 * its byte count, whose base is not page aligned, whose pages leave the
 * address space, or whose numbers do not fit their fields; a STACK id that
 * is 0 or repeats, or whose frames do not fit its record; a PYCODE whose
 * strings or line table do not fit its record.
 */
#ifndef COWTRACE_TRACE_H
#define COWTRACE_TRACE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ct_format.h"
#include "pyver.h"
#include "ivl.h"
#include "util.h"

/* Region addresses beyond this are not user space on any 64-bit Linux
 * (5-level paging gives 2^56); the bound keeps page arithmetic far from
 * overflow. */
#define CT_MAX_ADDR (UINT64_C(1) << 57)

struct ct_str {
    char *s;                  /* NUL-terminated copy; may contain other NULs */
    size_t len;
};

struct ct_region {
    uint32_t id, kind, prot, tracking, untracked_reason;
    uint64_t start, end;      /* bytes, [start, end) */
    uint64_t pg0, npages;     /* first absolute page number (start / page_size), size in pages */
    uint64_t file_offset, inode;
    struct ct_str name;
};

struct ct_note {
    uint32_t level;           /* enum ct_note_level (unknown levels kept as read) */
    uint64_t offset;
    struct ct_str text;
};

struct ct_untrack {
    uint64_t start, end;
    uint32_t reason;
};

/* CT_REC_PYTHON (the first one). */
struct ct_python {
    uint64_t hexversion, runtime;
    uint32_t layout_known, flags;
    struct ct_str version, path;
};

/* CT_REC_PYTYPE. */
struct ct_pytype {
    uint64_t addr, flags, offset;  /* offset: of the record, for messages */
    int64_t basicsize, itemsize;
    uint32_t index;
    struct ct_str name;
};

/* CT_REC_MODULE: an ELF object mapped at fork. */
struct ct_module {
    uint64_t base, start, end;    /* load bias; [start, end) */
    uint8_t build_id[20];
    uint32_t build_id_len;        /* <= 20 */
    struct ct_str path;
};

/* CT_REC_PYCODE: a code object named by Python frames. */
struct ct_pycode {
    uint64_t addr, offset;        /* offset: of the record, for messages and lookups */
    int32_t firstlineno;
    struct ct_str qualname, filename;
    uint8_t *linetable;           /* co_linetable bytes (owned) */
    uint32_t linetable_len;
};

/* One Python frame of a stack. */
struct ct_pyframe_r {
    uint64_t code;                /* PyCodeObject address, as recorded */
    int32_t lasti;                /* instruction index in code units; < 0: not started */
    uint32_t flags;               /* CT_PYFRAME_* (unknown bits kept) */
    int32_t pycode;               /* index into t.pycodes, -1 if no PYCODE names it */
};

/* CT_REC_STACK. Frames live in the trace's pools, innermost first. */
struct ct_stack {
    uint32_t id;                  /* the file's id: 1-based, unique */
    uint32_t flags;               /* CT_STACK_* (unknown bits kept) */
    uint16_t native_depth, py_depth;
    size_t ips;                   /* first of native_depth entries in t.stack_ips */
    size_t py;                    /* first of py_depth entries in t.stack_py */
    uint64_t offset;              /* of the record */
};

/* A CT_REC_WRITE event, with its evidence (all zero for a V1 record). */
struct ct_event {
    uint64_t pg;              /* absolute page number of addr */
    uint64_t addr, obj, type, block, time_ns;
    uint32_t flags, block_size;
    uint32_t seq;             /* position among the events, to keep file order in ties */
    uint32_t stack;           /* index into t.stacks + 1; 0 = no stack (none captured,
                               * a record without the field, or an id no STACK defines) */
    uint8_t where, obj_how;
};

/* One CT_REC_PAGE_SUMMARY entry. */
struct ct_summary {
    uint64_t pg;              /* absolute page number */
    uint32_t type_index;      /* 0 or a PYTYPE index (maybe undefined) */
    uint32_t code;            /* enum ct_where | (block_size / 16) << 2 */
    uint32_t objects;
    uint32_t seq;             /* position in the file: the latest entry of a page wins */
};

struct ct_trace {
    char *file;               /* name used in messages */

    /* header */
    uint16_t version;
    uint32_t page_size, page_shift;
    int32_t pid, ppid;
    uint32_t mode, flags;
    uint64_t fork_time_ns, fork_nonce;
    bool reap_valid;
    int32_t reap_status;

    /* CT_REC_PROCESS (the first one) */
    bool have_process;
    uint32_t proc_mode, flush_interval_ms;
    struct ct_str mode_reason, exe, comm;

    struct ct_region *regions;
    size_t nregions;

    struct ct_note *notes;
    size_t nnotes;

    struct ct_untrack *untracks;
    size_t nuntracks;

    /* CT_REC_END (the last one) */
    bool have_end;
    uint32_t end_how;
    int32_t end_status;
    uint64_t end_time_ns, end_faults, end_scans;

    /* CT_REC_EXEC (the last one) */
    bool have_exec;
    bool exec_last;           /* no page, write or end record after the last exec */
    struct ct_str exec_path;

    /* CT_REC_PYTHON: the interpreter, if the process had one */
    bool have_python;
    struct ct_python python;
    /* CT_REC_PYGC (uffd-async): the child ran a full collection since the
     * fork. Counts: the first record's at_fork, the last one's now. */
    bool have_pygc;
    uint64_t pygc_at_fork, pygc_now;
    /* CT_REC_PYLAYOUT, when the first one set every field this build
     * knows: the layout the shim decoded with (name: pylayout_name), or
     * NULL. On the heap, so that a pointer to it survives the trace being
     * moved (struct ct_proc embeds the trace). */
    struct ct_pyver *pylayout;
    struct ct_str pylayout_name;
    struct ct_pytype *pytypes; /* in file order; indexes checked unique */
    size_t npytypes;
    struct ct_module *modules; /* in file order */
    size_t nmodules, modules_cap;

    /* Stacks of first writes: STACK records sorted by id (ids checked
     * unique), their frames in two pools, and the code objects frames
     * name. Kept after the page sets are dropped: reports need them. */
    struct ct_stack *stacks;
    size_t nstacks, stacks_cap;
    uint64_t *stack_ips;
    size_t nstack_ips, stack_ips_cap;
    struct ct_pyframe_r *stack_py;
    size_t nstack_py, stack_py_cap;
    struct ct_pycode *pycodes; /* in file order */
    size_t npycodes, pycodes_cap;
    uint64_t stacks_missing;  /* write events whose stack id no STACK record defines */

    /* Evidence, dropped with the page sets: write events inside a region
     * in file order, and page-summary entries in file order. */
    struct ct_event *events;
    size_t nevents, events_cap;
    struct ct_summary *summaries;
    size_t nsummaries, summaries_cap;

    /* Page sets in absolute page numbers (address / page_size), normalized. */
    struct ivl present, written, early;

    uint64_t nrecords;        /* records read, including skipped ones */
    uint64_t nwrites;         /* CT_REC_WRITE events */
    uint64_t writes_outside;  /* write events that hit no region */
    uint64_t unknown_records; /* records of a type this reader does not know */
    uint64_t captured_pages;  /* CT_REC_PAGE_DATA records (--capture-pages) */
    uint64_t stream_end;      /* offset where the record stream ended */
    bool torn;                /* the last record was cut short by the end of the file */
    uint64_t torn_offset;
    bool ended_by_zero;       /* the stream ended with a zero type word */
};

/* Parses buf[0, len). `file` names the trace in messages. On error returns -1
 * and leaves *t empty (nothing to free). */
int ct_trace_parse(const char *file, const uint8_t *buf, size_t len,
                   struct ct_trace *t, struct ct_err *err);

/* Maps the file read-only and parses it. */
int ct_trace_load(const char *path, struct ct_trace *t, struct ct_err *err);

/* Frees the page sets and the evidence only (the report keeps the rest). */
void ct_trace_drop_pages(struct ct_trace *t);
void ct_trace_free(struct ct_trace *t);

/* Index into t->stacks of the stack with this file id, or -1. */
long ct_trace_find_stack(const struct ct_trace *t, uint32_t id);

/* Index of the region containing absolute page pg, or -1. */
long ct_trace_find_region(const struct ct_trace *t, uint64_t pg);

const char *ct_mode_name(uint32_t mode);       /* "uffd-async", ..., "none", "unknown" */
const char *ct_kind_name(uint32_t kind);       /* "heap", ..., "other" */
const char *ct_rec_type_name(uint32_t type);
const char *ct_untrack_reason_name(uint32_t reason);

#endif
