/*
 * fields.h - a struct ct_pyver as (id, value) pairs: what a trace's
 * CT_REC_PYLAYOUT record carries (ct_format.h, docs/trace-format.md).
 *
 * Promise: every number of struct ct_pyver that the decoder or the analyzer
 * uses has an id here, and an id never changes meaning (new fields get new
 * ids; a field that goes away leaves a hole). The shim writes all of them;
 * a reader applies the ids it knows and skips the rest, so records from a
 * newer shim read fine. A value that does not fit its field is rejected.
 */
#ifndef COWTRACE_PYVER_FIELDS_H
#define COWTRACE_PYVER_FIELDS_H

#include <stddef.h>
#include <stdint.h>

#include "pyver.h"

/* Ids of CT_REC_PYLAYOUT fields. */
enum ct_pyfield_id {
    CT_PYF_MAJOR = 1, CT_PYF_MINOR = 2,
    CT_PYF_FRAME_CHAIN = 3, CT_PYF_LINETABLE = 4, CT_PYF_DICT_KEYS = 5, CT_PYF_SOURCE = 6, CT_PYF_IMMORTAL = 7,
    CT_PYF_VALUES = 8,
    CT_PYF_UNKNOWN_FACTS = 9,
    /* struct ct_pylayout, in its order */
    CT_PYF_OB_REFCNT = 16, CT_PYF_OB_TYPE, CT_PYF_OB_SIZE, CT_PYF_OBJECT_SIZE, CT_PYF_GC_HEAD_SIZE,
    CT_PYF_MANAGED_DICT_PREHEADER,
    CT_PYF_TP_NAME = 32, CT_PYF_TP_BASICSIZE, CT_PYF_TP_ITEMSIZE, CT_PYF_TP_FLAGS,
    CT_PYF_TPFLAGS_MANAGED_DICT, CT_PYF_TPFLAGS_HAVE_GC, CT_PYF_TPFLAGS_HEAPTYPE, CT_PYF_TPFLAGS_TYPE_SUBCLASS,
    CT_PYF_TPFLAGS_READY,
    CT_PYF_POOL_SIZE = 48, CT_PYF_ARENA_SIZE, CT_PYF_POOL_OVERHEAD, CT_PYF_ALIGNMENT, CT_PYF_SMALL_REQUEST_THRESHOLD,
    CT_PYF_POOL_COUNT, CT_PYF_POOL_SZIDX, CT_PYF_POOL_NEXTOFFSET, CT_PYF_POOL_MAXNEXTOFFSET,
    CT_PYF_DK_REFCNT = 64, CT_PYF_DK_LOG2_SIZE, CT_PYF_DK_LOG2_INDEX_BYTES, CT_PYF_DK_KIND, CT_PYF_DK_USABLE,
    CT_PYF_DK_NENTRIES, CT_PYF_DK_INDICES,
    CT_PYF_RT_INTERPRETERS_HEAD = 80, CT_PYF_RT_TSTATE_CURRENT, CT_PYF_IS_NEXT, CT_PYF_IS_THREADS_HEAD,
    CT_PYF_TS_NEXT, CT_PYF_TS_CFRAME, CT_PYF_TS_NATIVE_THREAD_ID, CT_PYF_CODE_UNIT, CT_PYF_CFRAME_CURRENT_FRAME,
    CT_PYF_FR_CODE, CT_PYF_FR_PREVIOUS, CT_PYF_FR_PREV_INSTR, CT_PYF_FR_OWNER, CT_PYF_FR_IS_ENTRY,
    CT_PYF_TS_CURRENT_FRAME,
    CT_PYF_CO_FILENAME = 96, CT_PYF_CO_NAME, CT_PYF_CO_QUALNAME, CT_PYF_CO_FIRSTLINENO, CT_PYF_CO_LINETABLE,
    CT_PYF_CO_CODE_ADAPTIVE,
    CT_PYF_ASCII_LENGTH = 112, CT_PYF_ASCII_STATE, CT_PYF_ASCII_SIZE, CT_PYF_COMPACT_SIZE, CT_PYF_BYTES_SVAL,
    CT_PYF_UNICODE_KIND_SHIFT, CT_PYF_UNICODE_COMPACT_BIT, CT_PYF_UNICODE_ASCII_BIT,
    CT_PYF_IS_GC_FULL_COLLECTIONS = 128, CT_PYF_RT_FINALIZING, CT_PYF_IS_GC_PERMANENT_HEAD, CT_PYF_IS_GC,
    CT_PYF_TS_PTHREAD_ID = 132,
    /* free-threaded builds: mimalloc (optional: see ct_pyver_field_required) */
    CT_PYF_MI_SEGMENT_SHIFT = 144, CT_PYF_MI_SLICE_SHIFT, CT_PYF_MI_SEGMENT_SLICES, CT_PYF_MI_SEGMENT_INFO_SLICES,
    CT_PYF_MI_SEGMENT_SLICE_ENTRIES, CT_PYF_MI_SEGMENT_KIND, CT_PYF_MI_PAGE_SIZE, CT_PYF_MI_PAGE_SLICE_COUNT,
    CT_PYF_MI_PAGE_SLICE_OFFSET, CT_PYF_MI_PAGE_XBLOCK_SIZE, CT_PYF_MI_PAGE_TAG_BYTE, CT_PYF_MI_PAGE_TAG_SHIFT,
    /* free-threaded builds: the object header (optional, as the mimalloc ones) */
    CT_PYF_OBJECT_HEADER = 160, CT_PYF_OB_TID, CT_PYF_OB_MUTEX, CT_PYF_OB_GC_BITS, CT_PYF_IS_SYSDICT,
    CT_PYF_GC_BITS_FROZEN,
};

/* How many fields ct_pyver_field enumerates. */
size_t ct_pyver_nfields(void);

/* The i-th field of v (i < ct_pyver_nfields()). */
void ct_pyver_field(const struct ct_pyver *v, size_t i, uint32_t *id, uint64_t *value);

/* Sets the field `id` of v. Returns 1 when set, 0 for an id this build
 * does not know (skip it), -1 for a value that does not fit the field.
 * *index (if not NULL) gets the field's position, for the caller to see
 * which fields a record set. */
int ct_pyver_set_field(struct ct_pyver *v, uint32_t id, uint64_t value, size_t *index);

/* Must a record set the i-th field for its layout to be used? The fields
 * of free-threaded builds (object header, ob_tid, ob_mutex, ob_gc_bits,
 * mimalloc) are not: a record written before they existed describes a GIL
 * build, for which they are all 0. */
int ct_pyver_field_required(size_t i);

/* The field's name ("ob_type"), for messages; "?" for an unknown id. */
const char *ct_pyver_field_name(uint32_t id);

#endif
