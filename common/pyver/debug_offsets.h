/*
 * debug_offsets.h - CPython 3.13+'s _Py_DebugOffsets, read from the process.
 *
 * Promise: for an interpreter of 3.13 or later, ct_pyver_discover reads the
 * _Py_DebugOffsets structure CPython keeps at the start of _PyRuntime
 * (cookie "xdebugpy"), checks it, and gives the layout to decode that
 * process with: every offset the structure publishes (runtime, interpreter
 * and thread state, frames, code objects, strings, the object header, type
 * name and flags, bytes) from the process itself, and the rest (GC head,
 * pre-header, immortality, pymalloc, dict keys, frame owners, line tables)
 * from the minor's table. A minor without a table gets its stacks and
 * lines, with the facts it lacks marked unknown (struct ct_pyver
 * .unknown_facts), so its causes are unknown rather than guessed.
 *
 * The structure itself differs between minors (3.14 and 3.15 added
 * fields; 3.15.0b4 inserted one more), so it is read only with a field
 * list this file knows for that minor and release, and only if it passes
 * every plausibility check: the cookie; `version` equal to the process's
 * PY_VERSION_HEX; `free_threaded` 0 or 1; every struct size within bounds;
 * every offset inside its struct, aligned for its type; offsets in the
 * order the C structs declare them; the object header the table (or the
 * build) expects. A process that fails is never decoded with the numbers it
 * published: a final release falls back to its minor's table (and says
 * so), a pre-release or a minor without a table gets no layout, and why is
 * written in one line. A free-threaded process is decoded only with a
 * free-threaded table (ct_pyver_for_build).
 *
 * Async-signal-safe: no allocation, no libc; memory is read through a
 * struct ct_memread (the shim: its own memory; `cowtrace snapshot`:
 * another process's).
 */
#ifndef COWTRACE_PYVER_DEBUG_OFFSETS_H
#define COWTRACE_PYVER_DEBUG_OFFSETS_H

#include <stdint.h>

#include "memread.h"
#include "pyver.h"

/* The published offsets cowtrace uses or checks by name. */
enum ct_dbgoff_id {
    CT_DO_RT_SIZE, CT_DO_RT_FINALIZING, CT_DO_RT_INTERPRETERS_HEAD,
    CT_DO_IS_SIZE, CT_DO_IS_NEXT, CT_DO_IS_THREADS_HEAD, CT_DO_IS_GC,
    CT_DO_TS_SIZE, CT_DO_TS_PREV, CT_DO_TS_NEXT, CT_DO_TS_INTERP, CT_DO_TS_CURRENT_FRAME, CT_DO_TS_THREAD_ID,
    CT_DO_TS_NATIVE_THREAD_ID,
    CT_DO_FR_SIZE, CT_DO_FR_PREVIOUS, CT_DO_FR_EXECUTABLE, CT_DO_FR_INSTR_PTR, CT_DO_FR_LOCALSPLUS, CT_DO_FR_OWNER,
    CT_DO_CO_SIZE, CT_DO_CO_FILENAME, CT_DO_CO_NAME, CT_DO_CO_QUALNAME, CT_DO_CO_LINETABLE, CT_DO_CO_FIRSTLINENO,
    CT_DO_CO_CODE_ADAPTIVE,
    CT_DO_OB_SIZE, CT_DO_OB_TYPE,
    CT_DO_TP_SIZE, CT_DO_TP_NAME, CT_DO_TP_FLAGS, CT_DO_TP_BASICSIZE,
    CT_DO_BY_SIZE, CT_DO_BY_OB_SIZE, CT_DO_BY_SVAL,
    CT_DO_UN_SIZE, CT_DO_UN_STATE, CT_DO_UN_LENGTH, CT_DO_UN_ASCII_SIZE, CT_DO_UN_COMPACT_SIZE,
    CT_DO_GC_SIZE, CT_DO_GC_COLLECTING,
    CT_DO_NIDS
};

/* What a process published, as read and checked. */
struct ct_dbgoff {
    uint64_t version;              /* PY_VERSION_HEX as published */
    uint64_t free_threaded;
    const char *layout;            /* which field list read it: "3.13", "3.15.0b4+", ... */
    uint64_t val[CT_DO_NIDS];
    uint8_t have[CT_DO_NIDS];      /* published by this minor's structure */
};

enum ct_discovery_status {
    CT_DISCOVERY_NONE = 0,         /* before 3.13: nothing published; the tables alone */
    CT_DISCOVERY_USED = 1,         /* the published offsets are in the layout given */
    CT_DISCOVERY_REFUSED = 2,      /* they failed a check (why): the table, if allowed, or no layout */
};

struct ct_discovery {
    enum ct_discovery_status status;
    int free_threaded;             /* as published; -1 when not read */
    char why[240];                 /* REFUSED: the check that failed and what was done instead */
};

/* Reads and checks the _Py_DebugOffsets at `runtime` of a process whose
 * PY_VERSION_HEX is hexversion (0: unknown, the published one is taken).
 * Returns 0, or -1 with the reason in why (NUL-terminated). */
int ct_dbgoff_read(const struct ct_memread *m, uint64_t runtime, uint64_t hexversion, struct ct_dbgoff *out,
                   char *why, unsigned whycap);

/* The layout to decode the process with: a table, *out (built from the
 * published offsets and the table or what is known of the minor), or NULL
 * (page counts only). Before 3.13 this is ct_pyver_for(hexversion). */
const struct ct_pyver *ct_pyver_discover(const struct ct_memread *m, uint64_t runtime, uint64_t hexversion,
                                         struct ct_pyver *out, struct ct_discovery *d);

/* The published offsets that went into a discovered layout, as (layout
 * field id of fields.h, published value) pairs: what the tests compare with
 * the tables. Returns how many; at most cap are written. */
unsigned ct_dbgoff_layout_fields(const struct ct_dbgoff *o, uint32_t *ids, uint64_t *values, unsigned cap);

#endif
