/*
 * ct_format.h - the cowtrace trace file format, version 1.
 *
 * This header is the contract between the shim (which writes one trace file
 * per traced process) and the analyzer (which reads them). docs/trace-format.md
 * explains it in prose; this file is normative.
 *
 * Layout: a fixed 128-byte header, then a stream of records. Every integer is
 * little-endian. Every record starts with struct ct_rec (type, size); size
 * counts the whole record including that 8-byte prefix, is a multiple of 8 and
 * at least 8. A record whose type word is 0 ends the stream: the writer
 * preallocates the file with zeros and publishes each record by storing its
 * type word last, so a process killed at any instant leaves a file whose
 * readable prefix is exactly the records it had completed.
 *
 * Page sets are run lists: a byte string of unsigned LEB128 numbers read in
 * pairs (gap, run): skip `gap` pages, then `run` pages belong to the set; the
 * first gap counts from `first_page` of the record, each later gap from the
 * end of the previous run. Page numbers are relative to the region's start.
 * common/ct_wire.h implements these encodings (integers, strings, LEB128).
 *
 * Memory contents are never in a trace unless the user asked for them with
 * --capture-pages: then the header has CT_HDR_RAW_PAGES and PAGE_DATA
 * records hold whole pages.
 *
 * "Reserved" below marks a value readers accept and understand but that
 * this shim does not write (UNTRACK records, CT_END_STOPPED,
 * CT_NOTE_WARNING, some untrack reasons): other writers, or a later shim,
 * may.
 */
#ifndef COWTRACE_CT_FORMAT_H
#define COWTRACE_CT_FORMAT_H

#include <stdint.h>

#define CT_MAGIC "COWTRACE"          /* 8 bytes, no terminator in the file */
#define CT_FORMAT_VERSION 1
#define CT_HEADER_SIZE 128
#define CT_FILE_SUFFIX ".cowtrace"   /* files are named <pid>.cowtrace (or <pid>.<n>.cowtrace) */
#define CT_REAP_MAGIC 0x50414552u    /* "REAP": reap_status below is valid */

/* Which write-tracking method traced the process (ct_header.mode): each
 * method's value and its one name, the word COWTRACE_MODE, `cowtrace run
 * --mode` and the reports use. The shim's backend of that mode, the reader
 * and the command line all take it from here: a new method is one line. */
#define CT_MODE_TABLE(X)                                                                    \
    X(CT_MODE_UFFD_ASYNC, 1, "uffd-async") /* userfaultfd WP_ASYNC + PAGEMAP_SCAN: page sets */ \
    X(CT_MODE_UFFD, 2, "uffd")             /* userfaultfd write-protect, SIGBUS per first write */ \
    X(CT_MODE_MPROTECT, 3, "mprotect")     /* PROT_READ + SIGSEGV per first write */

/* Every mode a trace may name: the tracking methods above, and the ones
 * that track nothing (no backend, not for `run --mode`). */
#define CT_MODE_ALL_TABLE(X)                                                                \
    CT_MODE_TABLE(X)                                                                        \
    X(CT_MODE_SNAPSHOT, 4, "snapshot")     /* cowtrace snapshot: a running process read against its parent */

#define CT_MODE_ENUM_(id, value, name) id = value,
enum ct_mode {
    CT_MODE_NONE = 0,
    CT_MODE_ALL_TABLE(CT_MODE_ENUM_)
};
#undef CT_MODE_ENUM_

/* The name of a tracking mode; NULL for CT_MODE_NONE and unknown values.
 * Pure: safe in a signal handler. */
static inline const char *ct_mode_word(uint32_t mode)
{
#define CT_MODE_CASE_(id, value, name) case id: return name;
    switch (mode) {
    CT_MODE_ALL_TABLE(CT_MODE_CASE_)
    }
#undef CT_MODE_CASE_
    return (const char *)0;
}

/* Offsets the reap slot's pwrite relies on. */
#define CT_HEADER_REAP_OFFSET 48
struct ct_header {
    char     magic[8];        /* CT_MAGIC */
    uint16_t version;         /* CT_FORMAT_VERSION */
    uint16_t header_size;     /* CT_HEADER_SIZE */
    uint32_t page_size;       /* bytes; 4096 on x86-64 */
    int32_t  pid;
    int32_t  ppid;            /* the process that forked this one */
    uint32_t mode;            /* enum ct_mode */
    uint32_t flags;           /* CT_HDR_* */
    uint64_t fork_time_ns;    /* CLOCK_REALTIME when tracking was set up */
    uint64_t fork_nonce;      /* ppid's fork counter: tells a reused pid apart */
    /* Written once by the parent (pwrite) when it reaps this process, so a
     * child that died by a signal still gets its exit recorded. */
    uint32_t reap_magic;      /* CT_REAP_MAGIC when reap_status is valid */
    int32_t  reap_status;     /* wait(2) status word */
    uint8_t  reserved[128 - 56];
};
_Static_assert(sizeof(struct ct_header) == CT_HEADER_SIZE, "header size");
_Static_assert(__builtin_offsetof(struct ct_header, reap_magic) == CT_HEADER_REAP_OFFSET, "reap slot");

#define CT_HDR_RAW_PAGES 0x1u     /* --capture-pages: the file may hold PAGE_DATA records */

struct ct_rec {
    uint32_t type;            /* enum ct_rec_type; 0 ends the stream */
    uint32_t size;            /* whole record in bytes, multiple of 8, >= 8 */
};

enum ct_rec_type {
    CT_REC_END_OF_STREAM = 0,
    CT_REC_PROCESS = 1,       /* struct ct_rec_process + strings */
    CT_REC_REGION = 2,        /* struct ct_rec_region + name */
    CT_REC_PRESENT = 3,       /* struct ct_rec_pages: pages present at fork */
    CT_REC_EARLY = 4,         /* struct ct_rec_pages: pages written between fork and the start of tracking */
    CT_REC_WRITTEN = 5,       /* struct ct_rec_pages: pages found written by a scan (uffd-async) */
    CT_REC_WRITE = 6,         /* struct ct_rec_write: one first write to a page (uffd, mprotect) */
    CT_REC_NOTE = 7,          /* struct ct_rec_note: a warning or fact the report should show */
    CT_REC_EXEC = 8,          /* struct ct_rec_note: the process is about to exec (text = path) */
    CT_REC_END = 9,           /* struct ct_rec_end: the process ended cleanly */
    CT_REC_UNTRACK = 10,      /* struct ct_rec_untrack: a range stopped being tracked (reserved) */
    CT_REC_PYTHON = 11,       /* struct ct_rec_python + strings: the interpreter in this process */
    CT_REC_PYTYPE = 12,       /* struct ct_rec_pytype + name: a type object seen in the evidence */
    CT_REC_MODULE = 13,       /* struct ct_rec_module + path: an ELF object mapped in the process */
    CT_REC_PAGE_SUMMARY = 14, /* struct ct_rec_page_summary: what written pages hold (uffd-async) */
    CT_REC_STACK = 15,        /* struct ct_rec_stack: a distinct native + Python stack */
    CT_REC_PYCODE = 16,       /* struct ct_rec_pycode: a code object seen in a Python stack */
    CT_REC_PAGE_DATA = 17,    /* struct ct_rec_page_data: raw page contents (--capture-pages only) */
    CT_REC_PYLAYOUT = 18,     /* struct ct_rec_pylayout + fields + name: the CPython layout evidence was decoded with */
    CT_REC_PYGC = 19,         /* struct ct_rec_pygc: the process ran a full collection since the fork (uffd-async) */
    CT_REC_TYPE_MAX
};

/* Strings inside records are a uint16_t length followed by that many bytes
 * (no terminator); the record is zero-padded to a multiple of 8. */

struct ct_rec_process {
    struct ct_rec h;
    uint32_t mode;            /* enum ct_mode, as in the header */
    uint32_t flush_interval_ms; /* uffd-async: longest time between scans, 0 = only at exit */
    uint64_t tracked_bytes_limit; /* reserved, 0 */
    /* then: string mode_reason, string exe, string comm */
};

enum ct_region_kind {
    CT_KIND_HEAP = 1,         /* [heap] */
    CT_KIND_ANON = 2,         /* anonymous mappings (pymalloc arenas, large malloc chunks) */
    CT_KIND_DATA = 3,         /* writable data and bss of the executable and libraries */
    CT_KIND_STACK = 4,        /* [stack] and thread stacks */
    CT_KIND_OTHER = 5,
};

/* How a region is tracked (ct_rec_region.tracking). */
enum ct_tracking {
    CT_TRACK_NONE = 0,        /* not tracked; `untracked_reason` says why */
    CT_TRACK_UFFD_ASYNC = 1,
    CT_TRACK_UFFD = 2,
    CT_TRACK_MPROTECT = 3,
    CT_TRACK_SNAPSHOT = 4,    /* not tracked: compared with the parent's page at the same address */
};

struct ct_rec_region {
    struct ct_rec h;
    uint32_t id;              /* 0-based, dense, in address order */
    uint32_t kind;            /* enum ct_region_kind */
    uint64_t start, end;      /* [start, end), page aligned */
    uint32_t prot;            /* PROT_* of the mapping at fork */
    uint32_t tracking;        /* enum ct_tracking */
    uint64_t file_offset;
    uint64_t inode;
    uint32_t untracked_reason;/* enum ct_untrack_reason, when tracking == NONE */
    uint32_t pad;
    /* then: string name (path, "[heap]", "[stack]", or empty) */
};

struct ct_rec_pages {
    struct ct_rec h;
    uint32_t region;          /* region id */
    uint32_t nbytes;          /* length of the run list that follows */
    uint64_t first_page;      /* page index within the region where the first gap starts */
    /* then: nbytes of LEB128 (gap, run) pairs */
};

/* ct_rec_write.flags */
#define CT_WRITE_KERNEL   0x1u  /* written by the kernel in a system call on the program's behalf */
#define CT_WRITE_SYSCALL_SHIFT 16 /* bits 16..31: Linux syscall number, when CT_WRITE_KERNEL */

/* Where a written address lies, as the shim found it (ct_rec_write.where). */
enum ct_where {
    CT_WHERE_UNKNOWN = 0,     /* not examined (no interpreter layout) */
    CT_WHERE_POOL_HEADER = 1, /* a pymalloc pool header (free-threaded builds: a mimalloc
                               * segment header, which holds its page metadata) */
    CT_WHERE_POOL_BLOCK = 2,  /* a pymalloc block (block, block_size set; free-threaded: a
                               * mimalloc block) */
    CT_WHERE_OUTSIDE = 3,     /* examined: not in a pymalloc pool (or mimalloc segment) */
};

/* How the object was found (ct_rec_write.obj_how). */
enum ct_obj_how {
    CT_OBJ_NONE = 0,          /* no object header found */
    CT_OBJ_AT = 1,            /* the write is at the object's start (its reference count) */
    CT_OBJ_GC_NEXT = 2,       /* the write is at the object's PyGC_Head (first word) */
    CT_OBJ_GC_PREV = 3,       /* the write is at the object's PyGC_Head (second word) */
    CT_OBJ_BLOCK = 4,         /* found from the pymalloc block holding the write */
    CT_OBJ_DICT_KEYS = 5,     /* the block holds a dict's keys table (not itself an object);
                               * obj = the block, type = the dict type */
    CT_OBJ_VALUES = 6,        /* the block holds an instance's attribute values array (3.11,
                               * 3.12: no header, no pointer back to the instance);
                               * obj = the block, type = 0 (the owner is not known) */
    CT_OBJ_POINTERS = 7,      /* no header in the block, but the word written points to a live
                               * object (before 3.11 a split dict's values, a list's items):
                               * not a free block's link; obj = the block, type = 0 */
};

/* Records up to `type` appeared in the first version of this struct; the
 * evidence fields after it were added later. A reader treats a shorter
 * record as having zero evidence. */
struct ct_rec_write {
    struct ct_rec h;
    uint64_t addr;            /* exact faulting address */
    uint64_t ip;              /* instruction pointer of the write (0 if unknown) */
    uint64_t time_ns;         /* CLOCK_MONOTONIC */
    uint32_t tid;
    uint32_t flags;           /* CT_WRITE_* */
    /* evidence about the object the write hit (CPython), read before the write */
    uint64_t obj;             /* start of the PyObject, or 0 */
    uint64_t type;            /* its ob_type (see CT_REC_PYTYPE), or 0 */
    uint64_t block;           /* start of the pymalloc block, or 0 */
    uint32_t block_size;      /* the pool's size class in bytes, or 0 */
    uint8_t  where;           /* enum ct_where */
    uint8_t  obj_how;         /* enum ct_obj_how */
    uint16_t pad;
    /* the stack of the write (added after the evidence) */
    uint32_t stack;           /* id of a CT_REC_STACK record, 0 = none captured */
    uint32_t pad2;
};
#define CT_REC_WRITE_V1_SIZE 40u  /* the struct before the evidence fields */
#define CT_REC_WRITE_V2_SIZE 72u  /* with evidence, before the stack id */

enum ct_note_level {
    CT_NOTE_INFO = 0,         /* a fact ("exec failed; tracing goes on") */
    CT_NOTE_WARNING = 1,      /* reserved */
    CT_NOTE_INCOMPLETE = 2,   /* the trace misses writes from here on ("tracing stopped: ...") */
};

struct ct_rec_note {
    struct ct_rec h;
    uint32_t level;           /* enum ct_note_level */
    uint32_t pad;
    /* then: string text */
};

enum ct_end_how {
    CT_END_EXIT = 1,          /* exit() or return from main */
    CT_END__EXIT = 2,         /* _exit() / _Exit() (os._exit) */
    CT_END_STOPPED = 3,       /* tracing stopped early (see notes); the process went on.
                               * The shim writes an INCOMPLETE note instead and ends normally;
                               * cowtrace snapshot ends each file with it (the process runs on). */
};

struct ct_rec_end {
    struct ct_rec h;
    uint32_t how;             /* enum ct_end_how */
    int32_t  status;          /* exit status */
    uint64_t time_ns;         /* CLOCK_REALTIME */
    uint64_t faults;          /* sync modes: write faults handled (incl. repeats after re-protection) */
    uint64_t scans;           /* uffd-async: PAGEMAP_SCAN passes */
};

enum ct_untrack_reason {
    CT_UNTRACK_NONE = 0,
    CT_UNTRACK_STACK = 1,     /* stacks cannot be protected by the sync backends: the kernel writes signal frames there */
    CT_UNTRACK_ALTSTACK = 2,  /* reserved: a signal stack of the program */
    CT_UNTRACK_REGISTER = 3,  /* the kernel refused to write-protect it */
    CT_UNTRACK_STOPPED = 4,   /* reserved: tracing stopped (disk full, error) */
    CT_UNTRACK_SPECIAL = 5,   /* reserved: hugetlb, device or other memory that cannot be tracked */
    CT_UNTRACK_SHIM_DEP = 6,  /* data of a library the shim's fault handler itself writes
                               * (the unwinder, the dynamic loader's lock): sync backends */
};

/* Reserved: no record of this shim. Ranges it never tracks are REGION
 * records with tracking CT_TRACK_NONE and a reason. */
struct ct_rec_untrack {
    struct ct_rec h;
    uint64_t start, end;
    uint32_t reason;          /* enum ct_untrack_reason */
    uint32_t pad;
};

/* A distinct stack of a first write, written once; CT_REC_WRITE refers to
 * it by id. Followed by uint64_t ips[native_depth] (innermost first: ips[0]
 * is the faulting instruction, the others return addresses) and then
 * struct ct_pyframe frames[py_depth] (innermost first). */
struct ct_rec_stack {
    struct ct_rec h;
    uint32_t id;              /* 1-based, unique in the file */
    uint16_t native_depth;
    uint16_t py_depth;
    uint32_t flags;           /* CT_STACK_* */
    uint32_t pad;
};
#define CT_STACK_NATIVE_TRUNCATED 0x1u  /* deeper than the capture limit */
#define CT_STACK_PY_TRUNCATED     0x2u
#define CT_STACK_NO_PYTHON        0x4u  /* no Python frame was active in the writing thread
                                         * (start-up, shutdown, the collector between
                                         * frames, a C thread) */
#define CT_STACK_NO_NATIVE        0x8u  /* native capture off (--no-stacks native) or failed */
/* The most native frames a stack holds: the limit of COWTRACE_STACK_DEPTH
 * that the shim and `cowtrace run --stack-depth` both enforce. */
#define CT_MAX_STACK_DEPTH 128

struct ct_pyframe {
    uint64_t code;            /* PyCodeObject address: see CT_REC_PYCODE */
    int32_t  lasti;           /* index of the current instruction, in code units (2 bytes) */
    uint32_t flags;           /* CT_PYFRAME_* */
};
#define CT_PYFRAME_ENTRY 0x1u /* the first frame a C call into the evaluation loop ran
                               * (3.11: _PyInterpreterFrame.is_entry): frames up to and
                               * including it belong to one _PyEval_EvalFrameDefault call */

/* A code object, once per file: enough to name a frame and find its line
 * offline. Followed by: string qualname, string filename, then
 * linetable_len bytes of co_linetable (3.11: the PEP 657 location table). */
struct ct_rec_pycode {
    struct ct_rec h;
    uint64_t addr;
    int32_t  firstlineno;
    uint32_t linetable_len;
};

/* Raw contents of a copied page: only with --capture-pages, which also sets
 * CT_HDR_RAW_PAGES in the header. Followed by `len` bytes. */
struct ct_rec_page_data {
    struct ct_rec h;
    uint64_t addr;            /* page address */
    uint32_t when;            /* CT_PAGE_BEFORE_WRITE (sync backends) or CT_PAGE_AT_SCAN (uffd-async) */
    uint32_t len;             /* page size */
};
#define CT_PAGE_BEFORE_WRITE 0u
#define CT_PAGE_AT_SCAN 1u

/* The interpreter in this process, found at fork time. */
struct ct_rec_python {
    struct ct_rec h;
    uint64_t hexversion;      /* Py_Version (PY_VERSION_HEX), 0 if unknown */
    uint64_t runtime;         /* address of _PyRuntime */
    uint32_t layout_known;    /* 1 if the shim had a layout for this version */
    uint32_t flags;           /* CT_PY_* */
    /* then: string version text (Py_GetVersion()), string path of the ELF
     * object defining the interpreter (libpython or the executable) */
};
#define CT_PY_SHARED     0x1u   /* interpreter in a shared libpython */
#define CT_PY_GC_FROZEN  0x2u   /* --gc-freeze: gc.freeze() ran in the parent before this fork */
#define CT_PY_GC_NOGIL   0x4u   /* --gc-freeze asked, but the forking thread did not hold the GIL */
#define CT_PY_GC_COLLECTED 0x8u /* the process ran a full collection since the fork (its count of
                                 * them exceeds its parent's): written by cowtrace snapshot, which
                                 * reads both; the inferred causes use it */
/* The interpreter allocates objects without pymalloc (PYTHONMALLOC=malloc,
 * malloc_debug, mimalloc, mimalloc_debug), or with pymalloc behind the
 * debug hooks (pymalloc_debug, which put 16 bytes before each object):
 * the evidence makes no use of pool headers, and no write is charged
 * `allocator` from them. CT_PY_ALLOC_* name which. Added within format
 * version 1 (older readers ignore unknown flags). */
#define CT_PY_NO_PYMALLOC  0x10u
#define CT_PY_ALLOC_DEBUG  0x20u    /* debug hooks (PYTHONMALLOC=*_debug, -X dev) */
#define CT_PY_ALLOC_MIMALLOC 0x40u  /* mimalloc (3.13+) rather than the C library's malloc */
#define CT_PY_ALLOC_PYMALLOC 0x80u  /* with CT_PY_ALLOC_DEBUG: pymalloc under the hooks */
#define CT_PY_GC_FREEZE_FT 0x200u /* --gc-freeze asked, but the interpreter is free-threaded: gc.freeze()
                                  * cannot run inside its os.fork(), which holds every other thread
                                  * stopped; not frozen */
#define CT_PY_FREE_THREADED 0x100u /* a free-threaded build (Py_GIL_DISABLED): its layout is never a
                                   * GIL build's (common/pyver/ ct_pyver_for_build) */

/* The interpreter's count of full garbage collections grew since the fork
 * (uffd-async: written after the first scan that sees it grown, and again
 * if it grows further). A fact about the process, as cowtrace snapshot's
 * CT_PY_GC_COLLECTED: the count grows only when a collection ends, after
 * scans have found most of the pages it copied. The inferred causes use
 * it. Added within format version 1: older readers skip it. */
struct ct_rec_pygc {
    struct ct_rec h;
    uint64_t at_fork;         /* full collections when tracking began (the parent's count at the fork) */
    uint64_t now;             /* full collections when the record was written (> at_fork) */
};

/* The CPython layout the shim decoded this process's memory with, written
 * right after CT_REC_PYTHON when layout_known is 1. The fields are
 * (id, value) pairs; ids are listed in common/pyver/fields.h (enum
 * ct_pyfield_id) and never change meaning. A reader applies the ids it
 * knows, skips the others, and prefers the record over its own table for
 * the version. Added within format version 1: older readers skip it. */
struct ct_rec_pylayout {
    struct ct_rec h;
    uint32_t nfields;         /* struct ct_pylayout_field entries that follow */
    uint32_t reserved;        /* 0 */
    /* then: nfields x struct ct_pylayout_field, then string name ("3.11") */
};
struct ct_pylayout_field {
    uint32_t id;              /* enum ct_pyfield_id */
    uint32_t reserved;        /* 0 */
    uint64_t value;
};

/* A type object the evidence refers to, read once per process. */
struct ct_rec_pytype {
    struct ct_rec h;
    uint64_t addr;            /* the type object */
    uint32_t index;           /* 1-based, unique in the file: page summaries refer to it */
    uint32_t pad;
    uint64_t flags;           /* tp_flags */
    int64_t  basicsize;       /* tp_basicsize */
    int64_t  itemsize;        /* tp_itemsize */
    /* then: string tp_name */
};

/* An ELF object mapped in the process at fork: for symbolizing addresses
 * offline and telling the interpreter's static data from other memory. */
struct ct_rec_module {
    struct ct_rec h;
    uint64_t base;            /* load bias (dlpi_addr) */
    uint64_t start, end;      /* [start, end): its PT_LOAD segments, end exclusive */
    uint8_t  build_id[20];    /* NT_GNU_BUILD_ID, zero padded */
    uint32_t build_id_len;
    /* then: string path */
};

/* uffd-async: what written pages hold, found when a scan reported them.
 * Entries are LEB128 numbers, four per page:
 *   page delta  pages after the previous entry's page (the first: after `base`,
 *               so the first page is base + delta * page_size)
 *   type        0 = no object header found, else the `index` of a
 *               CT_REC_PYTYPE record: the most frequent type on the page
 *   code        enum ct_where | (block_size / 16) << 2
 *   objects     object headers found among the blocks sampled on the page
 *               (up to four blocks, spread evenly)
 * Kept small on purpose: a few bytes per written page. */
struct ct_rec_page_summary {
    struct ct_rec h;
    uint64_t base;
    uint32_t count;           /* entries */
    uint32_t nbytes;          /* bytes of entries that follow */
};

/* Sizes of the fixed parts: the format, whatever the compiler thinks. */
_Static_assert(sizeof(struct ct_rec) == 8, "record frame");
_Static_assert(sizeof(struct ct_rec_process) == 24, "process record");
_Static_assert(sizeof(struct ct_rec_region) == 64, "region record");
_Static_assert(sizeof(struct ct_rec_pages) == 24, "pages record");
_Static_assert(sizeof(struct ct_rec_write) == 80, "write record");
_Static_assert(CT_REC_WRITE_V2_SIZE == 72, "write record with evidence");
_Static_assert(CT_REC_WRITE_V1_SIZE == 40, "first write record");
_Static_assert(__builtin_offsetof(struct ct_rec_write, obj) == CT_REC_WRITE_V1_SIZE, "evidence after v1");
_Static_assert(__builtin_offsetof(struct ct_rec_write, stack) == CT_REC_WRITE_V2_SIZE, "stack after v2");
_Static_assert(sizeof(struct ct_rec_note) == 16, "note record");
_Static_assert(sizeof(struct ct_rec_end) == 40, "end record");
_Static_assert(sizeof(struct ct_rec_untrack) == 32, "untrack record");
_Static_assert(sizeof(struct ct_rec_python) == 32, "python record");
_Static_assert(sizeof(struct ct_rec_pytype) == 48, "pytype record");
_Static_assert(sizeof(struct ct_rec_module) == 56, "module record");
_Static_assert(sizeof(struct ct_rec_page_summary) == 24, "page summary record");
_Static_assert(sizeof(struct ct_rec_stack) == 24, "stack record");
_Static_assert(sizeof(struct ct_pyframe) == 16, "python frame");
_Static_assert(sizeof(struct ct_rec_pycode) == 24, "pycode record");
_Static_assert(sizeof(struct ct_rec_page_data) == 24, "page data record");
_Static_assert(sizeof(struct ct_rec_pylayout) == 16, "pylayout record");
_Static_assert(sizeof(struct ct_rec_pygc) == 24, "pygc record");
_Static_assert(sizeof(struct ct_pylayout_field) == 16, "pylayout field");

#endif
