/*
 * fields.c - see fields.h. One table maps each id to its place in struct
 * ct_pyver; encoding and decoding both walk it.
 */
#include "fields.h"

struct field {
    uint32_t id;
    uint16_t offset;
    uint8_t size;
    const char *name;
};

#define LF(ID, member) {ID, offsetof(struct ct_pyver, L.member), sizeof(((struct ct_pyver *)0)->L.member), #member}
#define VF(ID, member) {ID, offsetof(struct ct_pyver, member), sizeof(((struct ct_pyver *)0)->member), #member}

static const struct field fields[] = {
    VF(CT_PYF_MAJOR, major), VF(CT_PYF_MINOR, minor),
    VF(CT_PYF_FRAME_CHAIN, frame_chain), VF(CT_PYF_LINETABLE, linetable), VF(CT_PYF_DICT_KEYS, dict_keys),
    VF(CT_PYF_SOURCE, source), VF(CT_PYF_IMMORTAL, immortal),
    LF(CT_PYF_OB_REFCNT, ob_refcnt), LF(CT_PYF_OB_TYPE, ob_type), LF(CT_PYF_OB_SIZE, ob_size),
    LF(CT_PYF_OBJECT_SIZE, object_size), LF(CT_PYF_GC_HEAD_SIZE, gc_head_size),
    LF(CT_PYF_MANAGED_DICT_PREHEADER, managed_dict_preheader),
    LF(CT_PYF_TP_NAME, tp_name), LF(CT_PYF_TP_BASICSIZE, tp_basicsize), LF(CT_PYF_TP_ITEMSIZE, tp_itemsize),
    LF(CT_PYF_TP_FLAGS, tp_flags), LF(CT_PYF_TPFLAGS_MANAGED_DICT, tpflags_managed_dict),
    LF(CT_PYF_TPFLAGS_HAVE_GC, tpflags_have_gc), LF(CT_PYF_TPFLAGS_HEAPTYPE, tpflags_heaptype),
    LF(CT_PYF_TPFLAGS_TYPE_SUBCLASS, tpflags_type_subclass), LF(CT_PYF_TPFLAGS_READY, tpflags_ready),
    LF(CT_PYF_POOL_SIZE, pool_size), LF(CT_PYF_ARENA_SIZE, arena_size), LF(CT_PYF_POOL_OVERHEAD, pool_overhead),
    LF(CT_PYF_ALIGNMENT, alignment), LF(CT_PYF_SMALL_REQUEST_THRESHOLD, small_request_threshold),
    LF(CT_PYF_POOL_COUNT, pool_count), LF(CT_PYF_POOL_SZIDX, pool_szidx),
    LF(CT_PYF_POOL_NEXTOFFSET, pool_nextoffset), LF(CT_PYF_POOL_MAXNEXTOFFSET, pool_maxnextoffset),
    LF(CT_PYF_DK_REFCNT, dk_refcnt), LF(CT_PYF_DK_LOG2_SIZE, dk_log2_size),
    LF(CT_PYF_DK_LOG2_INDEX_BYTES, dk_log2_index_bytes), LF(CT_PYF_DK_KIND, dk_kind),
    LF(CT_PYF_DK_USABLE, dk_usable), LF(CT_PYF_DK_NENTRIES, dk_nentries), LF(CT_PYF_DK_INDICES, dk_indices),
    LF(CT_PYF_RT_INTERPRETERS_HEAD, rt_interpreters_head), LF(CT_PYF_RT_TSTATE_CURRENT, rt_tstate_current),
    LF(CT_PYF_IS_NEXT, is_next), LF(CT_PYF_IS_THREADS_HEAD, is_threads_head), LF(CT_PYF_TS_NEXT, ts_next),
    LF(CT_PYF_TS_CFRAME, ts_cframe), LF(CT_PYF_TS_NATIVE_THREAD_ID, ts_native_thread_id),
    LF(CT_PYF_CODE_UNIT, code_unit), LF(CT_PYF_CFRAME_CURRENT_FRAME, cframe_current_frame),
    LF(CT_PYF_FR_CODE, fr_code), LF(CT_PYF_FR_PREVIOUS, fr_previous), LF(CT_PYF_FR_PREV_INSTR, fr_prev_instr),
    LF(CT_PYF_FR_OWNER, fr_owner), LF(CT_PYF_FR_IS_ENTRY, fr_is_entry),
    LF(CT_PYF_TS_CURRENT_FRAME, ts_current_frame),
    LF(CT_PYF_CO_FILENAME, co_filename), LF(CT_PYF_CO_NAME, co_name), LF(CT_PYF_CO_QUALNAME, co_qualname),
    LF(CT_PYF_CO_FIRSTLINENO, co_firstlineno), LF(CT_PYF_CO_LINETABLE, co_linetable),
    LF(CT_PYF_CO_CODE_ADAPTIVE, co_code_adaptive),
    LF(CT_PYF_ASCII_LENGTH, ascii_length), LF(CT_PYF_ASCII_STATE, ascii_state), LF(CT_PYF_ASCII_SIZE, ascii_size),
    LF(CT_PYF_COMPACT_SIZE, compact_size), LF(CT_PYF_BYTES_SVAL, bytes_sval),
    LF(CT_PYF_UNICODE_KIND_SHIFT, unicode_kind_shift), LF(CT_PYF_UNICODE_COMPACT_BIT, unicode_compact_bit),
    LF(CT_PYF_UNICODE_ASCII_BIT, unicode_ascii_bit),
    LF(CT_PYF_IS_GC_FULL_COLLECTIONS, is_gc_full_collections), LF(CT_PYF_RT_FINALIZING, rt_finalizing),
    LF(CT_PYF_IS_GC_PERMANENT_HEAD, is_gc_permanent_head),
    /* free-threaded builds (optional: see ct_pyver_field_required) */
    LF(CT_PYF_MI_SEGMENT_SHIFT, mi_segment_shift), LF(CT_PYF_MI_SLICE_SHIFT, mi_slice_shift),
    LF(CT_PYF_MI_SEGMENT_SLICES, mi_segment_slices), LF(CT_PYF_MI_SEGMENT_INFO_SLICES, mi_segment_info_slices),
    LF(CT_PYF_MI_SEGMENT_SLICE_ENTRIES, mi_segment_slice_entries), LF(CT_PYF_MI_SEGMENT_KIND, mi_segment_kind),
    LF(CT_PYF_MI_PAGE_SIZE, mi_page_size), LF(CT_PYF_MI_PAGE_SLICE_COUNT, mi_page_slice_count),
    LF(CT_PYF_MI_PAGE_SLICE_OFFSET, mi_page_slice_offset), LF(CT_PYF_MI_PAGE_XBLOCK_SIZE, mi_page_xblock_size),
    LF(CT_PYF_MI_PAGE_TAG_BYTE, mi_page_tag_byte), LF(CT_PYF_MI_PAGE_TAG_SHIFT, mi_page_tag_shift),
    VF(CT_PYF_OBJECT_HEADER, header),
    LF(CT_PYF_OB_TID, ob_tid), LF(CT_PYF_OB_MUTEX, ob_mutex), LF(CT_PYF_OB_GC_BITS, ob_gc_bits),
    LF(CT_PYF_IS_SYSDICT, is_sysdict), LF(CT_PYF_GC_BITS_FROZEN, gc_bits_frozen),
    /* added after the free-threaded fields, so optional as they are: a
     * record without them reads as 0 (no values shape, every fact known,
     * no gc offset, no pthread id) */
    VF(CT_PYF_VALUES, values), VF(CT_PYF_UNKNOWN_FACTS, unknown_facts), LF(CT_PYF_IS_GC, is_gc),
    LF(CT_PYF_TS_PTHREAD_ID, ts_pthread_id),
};

/* The first of the optional fields above: it and every one after it. */
#define FIRST_OPTIONAL_ID CT_PYF_MI_SEGMENT_SHIFT

_Static_assert(sizeof(enum ct_pychain) == 4 && sizeof(enum ct_linetable_format) == 4 &&
               sizeof(enum ct_dictkeys_shape) == 4 && sizeof(enum ct_pyver_source) == 4 &&
               sizeof(enum ct_immortal_rule) == 4 && sizeof(enum ct_values_shape) == 4 &&
               sizeof(enum ct_object_header) == 4,
               "enums are stored as 32-bit fields");

size_t ct_pyver_nfields(void)
{
    return sizeof fields / sizeof fields[0];
}

void ct_pyver_field(const struct ct_pyver *v, size_t i, uint32_t *id, uint64_t *value)
{
    const uint8_t *p = (const uint8_t *)v + fields[i].offset;
    uint64_t x = 0;
    switch (fields[i].size) {
    case 1: x = *p; break;
    case 2: { uint16_t y; __builtin_memcpy(&y, p, 2); x = y; break; }
    case 4: { uint32_t y; __builtin_memcpy(&y, p, 4); x = y; break; }
    case 8: __builtin_memcpy(&x, p, 8); break;
    }
    *id = fields[i].id;
    *value = x;
}

int ct_pyver_set_field(struct ct_pyver *v, uint32_t id, uint64_t value, size_t *index)
{
    for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++) {
        if (fields[i].id != id)
            continue;
        uint8_t *p = (uint8_t *)v + fields[i].offset;
        if (fields[i].size < 8 && value >> (8 * fields[i].size))
            return -1;
        switch (fields[i].size) {
        case 1: *p = (uint8_t)value; break;
        case 2: { uint16_t y = (uint16_t)value; __builtin_memcpy(p, &y, 2); break; }
        case 4: { uint32_t y = (uint32_t)value; __builtin_memcpy(p, &y, 4); break; }
        case 8: __builtin_memcpy(p, &value, 8); break;
        }
        if (index)
            *index = i;
        return 1;
    }
    return 0;
}

int ct_pyver_field_required(size_t i)
{
    for (size_t j = 0; j < i; j++)
        if (fields[j].id == FIRST_OPTIONAL_ID)
            return 0;
    return fields[i].id != FIRST_OPTIONAL_ID;
}

const char *ct_pyver_field_name(uint32_t id)
{
    for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++)
        if (fields[i].id == id)
            return fields[i].name;
    return "?";
}
