/*
 * pyver.h - everything cowtrace knows about a CPython version, as data.
 *
 * Promise: this folder (common/pyver/) is the one place that knows CPython.
 * A minor version is one `struct ct_pyver` (v3_NN.c); ct_pyver_for() is the
 * only code that decodes a PY_VERSION_HEX; what differs between versions as
 * an algorithm rather than an offset (how frames chain, how line tables
 * encode, how dict-keys tables look, which reference counts are immortal)
 * is an enum here, switched only in the file that owns it (frames.c:
 * where the chain starts and what each frame is; linetable.c; decode.c),
 * so a new enum value is found by -Wswitch. No file outside this folder compares a version number.
 *
 * Adding a CPython minor: a v3_NN.c with its offsets (and their check
 * against its internal headers, analyzer/tests/test_pyver_offsets.c), one
 * line in registry.c, and, only when
 * an algorithm changed, one enum value and one case in the function that
 * switches on it. The shim and the analyzer pick it up unchanged, and a
 * trace records the layout it was decoded with (CT_REC_PYLAYOUT, fields.c),
 * which the analyzer prefers over its own table.
 *
 * Everything here is safe in a signal handler: constant data and pure
 * functions (no allocation, no libc); memory is read only through a
 * struct ct_memread (memread.h).
 *
 * Offsets are in bytes, for 64-bit builds without Py_TRACE_REFS or
 * Py_DEBUG (a debug build has a different object header).
 */
#ifndef COWTRACE_PYVER_H
#define COWTRACE_PYVER_H

#include <stdint.h>

/* The offsets and constants of one CPython minor. */
struct ct_pylayout {
    /* PyObject / PyVarObject */
    uint16_t ob_refcnt, ob_type, ob_size;
    uint16_t object_size;          /* sizeof(PyObject) */
    /* Memory before a GC object: PyGC_Head, and for types with a flag of
     * tpflags_managed_dict (3.11: MANAGED_DICT; 3.12+: MANAGED_DICT or
     * MANAGED_WEAKREF) the managed-dict pre-header before that. */
    uint16_t gc_head_size;
    uint16_t managed_dict_preheader;

    /* PyTypeObject */
    uint16_t tp_name, tp_basicsize, tp_itemsize, tp_flags;
    uint64_t tpflags_managed_dict, tpflags_have_gc, tpflags_heaptype, tpflags_type_subclass, tpflags_ready;

    /* obmalloc: pools of one size class inside arenas */
    uint32_t pool_size, arena_size, pool_overhead, alignment, small_request_threshold;
    uint16_t pool_count, pool_szidx, pool_nextoffset, pool_maxnextoffset; /* pool_header fields (uint32) */

    /* PyDictKeysObject: not a PyObject, recognised by its shape */
    uint16_t dk_refcnt, dk_log2_size, dk_log2_index_bytes, dk_kind, dk_usable, dk_nentries, dk_indices;

    /* Thread and frame state, for Python stacks */
    uint16_t rt_interpreters_head;
    uint16_t rt_tstate_current;    /* 0: not in _PyRuntime (3.12+: thread-local) */
    uint16_t is_next, is_threads_head, ts_next, ts_cframe, ts_native_thread_id;
    /* PyThreadState.thread_id (the creator's pthread_self()): how a thread
     * state is found where there is no native_thread_id (ts_native_thread_id
     * 0: 3.9, 3.10) */
    uint16_t ts_pthread_id;
    uint16_t ts_current_frame;     /* 3.13+: the innermost frame, in the thread state;
                                    * 3.9, 3.10: PyThreadState.frame */
    /* PyInterpreterState.gc.generation_stats[oldest].collections: how many
     * full collections the interpreter ran (cowtrace snapshot compares a
     * worker's with its parent's) */
    uint16_t is_gc_full_collections;
    /* _PyRuntimeState._finalizing: non-zero once Py_FinalizeEx began (it is
     * set before finalization's own full collection, and never cleared) */
    uint16_t rt_finalizing;
    /* PyInterpreterState.gc.permanent_generation.head: a PyGC_Head whose
     * _gc_next points back at itself when nothing is frozen (gc.freeze()
     * moves every tracked object there) */
    uint16_t is_gc_permanent_head;
    /* PyInterpreterState.gc, where the two above lie (0: not given). With
     * _Py_DebugOffsets (3.13+) the published one wins and they move with it. */
    uint16_t is_gc;
    uint16_t code_unit;            /* bytes per instruction unit (2) */
    uint16_t cframe_current_frame;
    /* 3.9, 3.10: the PyFrameObject's f_code, f_back and f_lasti (an int) */
    uint16_t fr_code, fr_previous, fr_prev_instr, fr_owner, fr_is_entry;
    /* co_qualname: 3.9, 3.10 have none; their tables give co_name's offset */
    uint16_t co_filename, co_name, co_qualname, co_firstlineno, co_linetable, co_code_adaptive;
    uint16_t ascii_length, ascii_state, ascii_size, compact_size;   /* PyASCIIObject, PyCompactUnicodeObject */
    uint16_t bytes_sval;           /* PyBytesObject.ob_sval */
    /* PyASCIIObject.state bits */
    uint8_t unicode_kind_shift, unicode_compact_bit, unicode_ascii_bit;

    /* The free-threaded header (CT_OBJHEAD_FREE_THREADED; 0 in GIL builds):
     * ob_tid (the owning thread, which the collector reuses as a link and
     * for its counts), ob_mutex (the object's lock, one byte), ob_gc_bits
     * (the collector's marks). ob_refcnt is then ob_ref_local, and the
     * count runs to ob_type: ob_ref_local, ob_ref_shared. */
    uint16_t ob_tid, ob_mutex, ob_gc_bits;
    /* mimalloc (free-threaded builds; 0 in GIL builds): segments of
     * 1 << mi_segment_shift bytes aligned to their size, cut into slices of
     * 1 << mi_slice_shift; the segment's header (mi_segment_t) describes
     * each slice with an mi_page_t of mi_page_size bytes in slices[] at
     * mi_segment_slices. */
    uint8_t mi_segment_shift, mi_slice_shift;
    uint16_t mi_segment_slices, mi_segment_info_slices, mi_segment_slice_entries, mi_segment_kind;
    uint16_t mi_page_size, mi_page_slice_count, mi_page_slice_offset, mi_page_xblock_size;
    /* The heap tag (pycore_mimalloc.h _Py_mimalloc_heap_id: 0 PyMem, 1 non-GC
     * objects, 2 GC objects, 3 GC objects with the pre-header) is a 4-bit
     * field at this bit of this byte of mi_page_t. */
    uint16_t mi_page_tag_byte;
    uint8_t mi_page_tag_shift;
    /* Free-threaded builds have no permanent generation: gc.freeze() sets
     * gc_bits_frozen in every object's ob_gc_bits. The interpreter's sys
     * dict (PyInterpreterState.sysdict), made at start-up, has it from a
     * gc.freeze() until a gc.unfreeze() (gcstate.c). 0 in GIL builds. */
    uint16_t is_sysdict;
    uint8_t gc_bits_frozen;
};

/* How a thread's frames chain (frames.c). */
enum ct_pychain {
    CT_PYCHAIN_NONE = 0,           /* unknown: no Python stacks */
    CT_PYCHAIN_CFRAME_311 = 1,     /* tstate->cframe->current_frame, then frame->previous */
    CT_PYCHAIN_CFRAME_312 = 2,     /* as 3.11, but no is_entry: each C call of the evaluation
                                    * loop links a frame owned by the C stack (owner 3) after
                                    * its first frame; skipped, it marks that frame the entry */
    CT_PYCHAIN_TSTATE_313 = 3,     /* tstate->current_frame (no cframe), then as 3.12 */
    CT_PYCHAIN_FRAMEOBJECT_39 = 4, /* tstate->frame, a PyFrameObject, then f_back; f_lasti is a
                                    * byte offset; each frame has its own C call of the
                                    * evaluation loop (every frame is an entry) */
    CT_PYCHAIN_FRAMEOBJECT_310 = 5,/* as 3.9, but f_lasti counts code units */
    CT_PYCHAIN_TSTATE_314 = 6,     /* as 3.13, but f_executable is a tagged stack reference
                                    * (mask the low 2 bits) and every owner >= 3 is not a
                                    * Python frame: 3.14 INTERPRETER 3 and CSTACK 4, 3.15
                                    * INTERPRETER 3 and the THREAD_STATE base sentinel 4 */
};

/* How co_linetable encodes lines (linetable.c). */
enum ct_linetable_format {
    CT_LINETABLE_UNKNOWN = 0,      /* no decoder: frames get no line */
    CT_LINETABLE_PEP657 = 1,       /* 3.11: PEP 657 location table, 2-byte code units */
    CT_LINETABLE_LNOTAB = 2,       /* 3.9: co_lnotab, (byte delta, signed line delta) pairs */
    CT_LINETABLE_PEP626 = 3,       /* 3.10: co_linetable, (byte delta, signed line delta)
                                    * pairs, line delta -128: no line */
};

/* Which rules a PyDictKeysObject's shape follows (decode.c). */
enum ct_dictkeys_shape {
    CT_DICTKEYS_NONE = 0,          /* unknown: no dict-keys recognition */
    CT_DICTKEYS_311 = 1,           /* log2 sizes, USABLE_FRACTION 2/3, kinds 0..2 */
};

/* What an instance's attribute values array, allocated apart from the
 * instance, looks like (decode.c). */
enum ct_values_shape {
    CT_VALUES_NONE = 0,            /* none, or not recognised */
    CT_VALUES_PREFIX_311 = 1,      /* 3.11, 3.12: a pymalloc block of a prefix of p bytes
                                    * (insertion order bytes backwards from byte p-3, the
                                    * count at p-2, p itself at p-1; p a multiple of 8),
                                    * then the values, PyObject pointers */
};

/* Which reference counts Py_INCREF/Py_DECREF leave alone (decode.c). */
enum ct_immortal_rule {
    CT_IMMORTAL_NONE = 0,          /* up to 3.11: every reference writes the count */
    CT_IMMORTAL_LOW32_ALL_ONES = 1,/* 3.12, 3.13: the low 32 bits of ob_refcnt are 0xFFFFFFFF */
};

/* What an object header holds, and where objects live (decode.c). */
enum ct_object_header {
    CT_OBJHEAD_GIL = 0,            /* ob_refcnt, ob_type; PyGC_Head before GC objects; pymalloc */
    CT_OBJHEAD_FREE_THREADED = 1,  /* Py_GIL_DISABLED: ob_tid, ob_mutex, ob_gc_bits, ob_ref_local,
                                    * ob_ref_shared, ob_type; no PyGC_Head; mimalloc heaps */
};

/* Where the shim got its struct ct_pyver (recorded in PYLAYOUT). */
enum ct_pyver_source {
    CT_PYVER_TABLE = 0,            /* a static table of this folder */
    CT_PYVER_DISCOVERED = 1,       /* the offsets _Py_DebugOffsets publishes read from the process
                                    * (3.13+, debug_offsets.c); the rest from a table, or unknown */
};

/* Facts a layout does not know (struct ct_pyver.unknown_facts): a minor
 * with no table whose _Py_DebugOffsets gave its stacks. Without them no
 * written address can be put in an object, so every cause is unknown. */
#define CT_PYFACT_ALLOCATOR   (1u << 0)   /* pymalloc's pools and arenas */
#define CT_PYFACT_GC_HEAD     (1u << 1)   /* PyGC_Head, its bits */
#define CT_PYFACT_PREHEADER   (1u << 2)   /* managed dict / weakref words, inline values */
#define CT_PYFACT_IMMORTAL    (1u << 3)   /* which reference counts are never written */
#define CT_PYFACT_TYPE_FLAGS  (1u << 4)   /* tp_flags bit values, tp_basicsize/tp_itemsize */
#define CT_PYFACT_DICT_KEYS   (1u << 5)   /* PyDictKeysObject */
#define CT_PYFACT_GC_STATE    (1u << 6)   /* full-collection count, permanent generation */
#define CT_PYFACTS_OBJECTS    (CT_PYFACT_ALLOCATOR | CT_PYFACT_GC_HEAD | CT_PYFACT_PREHEADER | \
                               CT_PYFACT_IMMORTAL | CT_PYFACT_TYPE_FLAGS)

#define CT_PYVER_MAX_EVAL_FUNCS 4

struct ct_pyver {
    const char *name;              /* "3.11" */
    uint32_t major, minor;
    struct ct_pylayout L;
    enum ct_pychain frame_chain;
    enum ct_linetable_format linetable;
    enum ct_dictkeys_shape dict_keys;
    enum ct_immortal_rule immortal;
    enum ct_values_shape values;
    enum ct_object_header header;  /* a free-threaded build has its own table */
    /* The C functions that evaluate Python frames (GCC may split off a
     * ".cold" part: the same C frame). NULL-terminated. */
    const char *eval_funcs[CT_PYVER_MAX_EVAL_FUNCS + 1];
    enum ct_pyver_source source;
    uint32_t unknown_facts;        /* CT_PYFACT_*: 0 for a table */
};

/* Can a written address be put in an object with this layout (nothing of
 * CT_PYFACTS_OBJECTS unknown)? If not, causes are unknown. */
static inline int ct_pyver_knows_objects(const struct ct_pyver *v)
{
    return v && !(v->unknown_facts & CT_PYFACTS_OBJECTS);
}

/* Can this version's Python frames be walked (frames.c)? Without a walker
 * (CT_PYCHAIN_NONE) a trace has causes and types but no Python stacks or
 * lines, and the report says so. */
int ct_pyver_has_stacks(const struct ct_pyver *v);

/* The table for a hexversion (PY_VERSION_HEX) of a GIL build, or NULL. */
const struct ct_pyver *ct_pyver_for(uint64_t hexversion);
/* The same for a free-threaded (Py_GIL_DISABLED) build when free_threaded
 * is non-zero: never a GIL build's table, whose object header differs. */
const struct ct_pyver *ct_pyver_for_build(uint64_t hexversion, int free_threaded);

/* Is the interpreter whose _PyRuntime begins with these 24 bytes (3.13+:
 * _Py_DebugOffsets' cookie "xdebugpy", version, free_threaded) a
 * free-threaded build? 1 yes, 0 no, -1 they do not say (no cookie, as
 * before 3.13, or another version than hexversion). Async-signal-safe. */
#define CT_PY_RUNTIME_HEAD 24
int ct_pyver_free_threaded(const uint8_t head[CT_PY_RUNTIME_HEAD], uint64_t hexversion);
/* Could a build of this version be free-threaded at all (3.13 and later)? */
int ct_pyver_can_be_free_threaded(uint64_t hexversion);

/* The hexversion of a version string as Py_GetVersion() begins
 * ("3.10.13 (main, ...", "3.13.0rc2 ..."), or 0. For interpreters
 * without Py_Version (before 3.11). Async-signal-safe. */
uint64_t ct_pyversion_parse(const char *s);

/* The parts of a hexversion. */
struct ct_pyversion {
    uint32_t major, minor, micro;
};
struct ct_pyversion ct_pyversion_of(uint64_t hexversion);

/* "3.11.7" into buf (NUL-terminated, truncated to cap); returns the length.
 * Async-signal-safe. */
unsigned ct_pyversion_format(uint64_t hexversion, char *buf, unsigned cap);

/* Is func an evaluation-loop function of this interpreter (NULL: of any
 * interpreter this folder knows)? */
int ct_pyver_is_eval_func(const struct ct_pyver *v, const char *func);

#endif
