/*
 * debug_offsets.c - see debug_offsets.h.
 *
 * The field lists below name, in order, the 64-bit words that follow the
 * cookie of each minor's _Py_DebugOffsets (CPython's
 * Include/internal/pycore_runtime.h in 3.13, pycore_debug_offsets.h from
 * 3.14); they are lists of names, not CPython's code. Sources: 3.13 from
 * the 3.13.0 and 3.13.5 headers (measured: 584 bytes); 3.14 from the 3.14.0
 * header as transcribed by bloomberg/pystack and py-spy's bindgen for
 * v3.14.0 (760 bytes); 3.15 is a pre-release whose list changed during
 * its betas: bloomberg/pystack's list, and from 3.15.0b4 the same with
 * thread_state.last_profiled_frame_seq after last_profiled_frame (a
 * third-party transcription of 3.15.0rc3). See
 * ../shared/notes/cpython-versions.md, section 8.
 */
#include "debug_offsets.h"

#include "fields.h"

/* ---- the field lists -------------------------------------------------------- */

/* Word kinds besides the named ids: an offset cowtrace does not use
 * (checked to lie in its struct), a size (not beyond its struct's), or a
 * word not checked (offsets into other structs, flags). */
#define W_OFF   (CT_DO_NIDS + 1)
#define W_SIZEV (CT_DO_NIDS + 2)
#define W_FREE  (CT_DO_NIDS + 3)

enum sect_kind {
    S_RUNTIME, S_INTERP, S_THREAD, S_ERRITEM, S_FRAME, S_CODE, S_OBJECT, S_TYPE, S_HEAPTYPE, S_TUPLE, S_LIST,
    S_SET, S_DICT, S_FLOAT, S_LONG, S_BYTES, S_UNICODE, S_GC, S_GEN, S_LLIST, S_DEBUGGER,
};

static const char *const sect_names[] = {
    [S_RUNTIME] = "runtime_state", [S_INTERP] = "interpreter_state", [S_THREAD] = "thread_state",
    [S_ERRITEM] = "err_stackitem", [S_FRAME] = "interpreter_frame", [S_CODE] = "code_object",
    [S_OBJECT] = "pyobject", [S_TYPE] = "type_object", [S_HEAPTYPE] = "heap_type_object",
    [S_TUPLE] = "tuple_object", [S_LIST] = "list_object", [S_SET] = "set_object", [S_DICT] = "dict_object",
    [S_FLOAT] = "float_object", [S_LONG] = "long_object", [S_BYTES] = "bytes_object",
    [S_UNICODE] = "unicode_object", [S_GC] = "gc", [S_GEN] = "gen_object", [S_LLIST] = "llist_node",
    [S_DEBUGGER] = "debugger_support",
};

/* Sections whose first word is their struct's size; the others hold
 * offsets into several structs. */
static int sect_sized(enum sect_kind k)
{
    return k != S_ERRITEM && k != S_LLIST && k != S_DEBUGGER;
}

struct sect {
    enum sect_kind kind;
    uint8_t n;
    uint8_t w[20];
};

#define RT_3    {S_RUNTIME, 3, {CT_DO_RT_SIZE, CT_DO_RT_FINALIZING, CT_DO_RT_INTERPRETERS_HEAD}}
#define TS_9    {S_THREAD, 9, {CT_DO_TS_SIZE, CT_DO_TS_PREV, CT_DO_TS_NEXT, CT_DO_TS_INTERP, CT_DO_TS_CURRENT_FRAME, \
                               CT_DO_TS_THREAD_ID, CT_DO_TS_NATIVE_THREAD_ID, W_OFF /* datastack_chunk */,          \
                               W_OFF /* status */}}
#define FR_8    {S_FRAME, 8, {CT_DO_FR_SIZE, CT_DO_FR_PREVIOUS, CT_DO_FR_EXECUTABLE, CT_DO_FR_INSTR_PTR,         \
                              CT_DO_FR_LOCALSPLUS, CT_DO_FR_OWNER, W_OFF /* stackpointer */, W_OFF /* tlbc_index */}}
#define CO_11   {S_CODE, 11, {CT_DO_CO_SIZE, CT_DO_CO_FILENAME, CT_DO_CO_NAME, CT_DO_CO_QUALNAME, CT_DO_CO_LINETABLE, \
                              CT_DO_CO_FIRSTLINENO, W_OFF /* argcount */, W_OFF /* localsplusnames */,              \
                              W_OFF /* localspluskinds */, CT_DO_CO_CODE_ADAPTIVE, W_OFF /* co_tlbc */}}
#define OB_2    {S_OBJECT, 2, {CT_DO_OB_SIZE, CT_DO_OB_TYPE}}
#define TP_4    {S_TYPE, 4, {CT_DO_TP_SIZE, CT_DO_TP_NAME, W_OFF /* tp_repr */, CT_DO_TP_FLAGS}}
#define TUPLE_3 {S_TUPLE, 3, {W_SIZEV, W_OFF /* ob_item */, W_OFF /* ob_size */}}
#define LIST_3  {S_LIST, 3, {W_SIZEV, W_OFF /* ob_item */, W_OFF /* ob_size */}}
#define SET_4   {S_SET, 4, {W_SIZEV, W_OFF /* used */, W_OFF /* table */, W_OFF /* mask */}}
#define DICT_3  {S_DICT, 3, {W_SIZEV, W_OFF /* ma_keys */, W_OFF /* ma_values */}}
#define FLOAT_2 {S_FLOAT, 2, {W_SIZEV, W_OFF /* ob_fval */}}
#define LONG_3  {S_LONG, 3, {W_SIZEV, W_OFF /* lv_tag */, W_OFF /* ob_digit */}}
#define BYTES_3 {S_BYTES, 3, {CT_DO_BY_SIZE, CT_DO_BY_OB_SIZE, CT_DO_BY_SVAL}}
#define UN_4    {S_UNICODE, 4, {CT_DO_UN_SIZE, CT_DO_UN_STATE, CT_DO_UN_LENGTH, CT_DO_UN_ASCII_SIZE}}
#define GC_2    {S_GC, 2, {CT_DO_GC_SIZE, CT_DO_GC_COLLECTING}}
#define GEN_4   {S_GEN, 4, {W_SIZEV, W_OFF /* gi_name */, W_OFF /* gi_iframe */, W_OFF /* gi_frame_state */}}
#define LLIST_2 {S_LLIST, 2, {W_FREE, W_FREE}}
#define DBG_6   {S_DEBUGGER, 6, {W_FREE, W_FREE, W_FREE, W_FREE, W_FREE, W_FREE}}
/* interpreter_state of 3.14 and 3.15: threads_main after threads_head,
 * code_object_generation and tlbc_generation at the end */
#define IS_16   {S_INTERP, 16, {CT_DO_IS_SIZE, W_OFF /* id */, CT_DO_IS_NEXT, CT_DO_IS_THREADS_HEAD,             \
                                W_OFF /* threads_main */, CT_DO_IS_GC, W_OFF /* imports_modules */,              \
                                W_OFF /* sysdict */, W_OFF /* builtins */, W_OFF /* ceval_gil */,                 \
                                W_OFF /* gil_runtime_state */, W_OFF /* ..._enabled */, W_OFF /* ..._locked */,   \
                                W_OFF /* ..._holder */, W_OFF /* code_object_generation */,                       \
                                W_OFF /* tlbc_generation */}}

static const struct sect layout_3_13[] = {
    RT_3,
    {S_INTERP, 13, {CT_DO_IS_SIZE, W_OFF /* id */, CT_DO_IS_NEXT, CT_DO_IS_THREADS_HEAD, CT_DO_IS_GC,
                    W_OFF /* imports_modules */, W_OFF /* sysdict */, W_OFF /* builtins */, W_OFF /* ceval_gil */,
                    W_OFF /* gil_runtime_state */, W_OFF /* ..._enabled */, W_OFF /* ..._locked */,
                    W_OFF /* ..._holder */}},
    TS_9,
    {S_FRAME, 6, {CT_DO_FR_SIZE, CT_DO_FR_PREVIOUS, CT_DO_FR_EXECUTABLE, CT_DO_FR_INSTR_PTR, CT_DO_FR_LOCALSPLUS,
                  CT_DO_FR_OWNER}},
    {S_CODE, 10, {CT_DO_CO_SIZE, CT_DO_CO_FILENAME, CT_DO_CO_NAME, CT_DO_CO_QUALNAME, CT_DO_CO_LINETABLE,
                  CT_DO_CO_FIRSTLINENO, W_OFF /* argcount */, W_OFF /* localsplusnames */,
                  W_OFF /* localspluskinds */, CT_DO_CO_CODE_ADAPTIVE}},
    OB_2, TP_4, TUPLE_3, LIST_3, DICT_3, FLOAT_2, LONG_3, BYTES_3, UN_4, GC_2,
};

static const struct sect layout_3_14[] = {
    RT_3, IS_16, TS_9, FR_8, CO_11, OB_2, TP_4, TUPLE_3, LIST_3, SET_4, DICT_3, FLOAT_2, LONG_3, BYTES_3, UN_4,
    GC_2, GEN_4, LLIST_2, DBG_6,
};

/* 3.15: the thread state publishes its base frame and the profiler's last
 * frame (and from b4 a sequence number); the type its basic size and dict
 * offset; the string its compact size; the collector more. */
#define TS_3_15_HEAD                                                                                      \
    CT_DO_TS_SIZE, CT_DO_TS_PREV, CT_DO_TS_NEXT, CT_DO_TS_INTERP, CT_DO_TS_CURRENT_FRAME,                     \
    W_OFF /* base_frame */, W_OFF /* last_profiled_frame */
#define TS_3_15_TAIL                                                                                      \
    CT_DO_TS_THREAD_ID, CT_DO_TS_NATIVE_THREAD_ID, W_OFF /* datastack_chunk */, W_OFF /* status */,           \
    W_OFF /* holds_gil */, W_OFF /* gil_requested */, W_OFF /* current_exception */, W_OFF /* exc_state */
#define REST_3_15                                                                                             \
    {S_ERRITEM, 1, {W_FREE /* exc_value */}}, FR_8, CO_11, OB_2,                                              \
    {S_TYPE, 6, {CT_DO_TP_SIZE, CT_DO_TP_NAME, W_OFF /* tp_repr */, CT_DO_TP_FLAGS, CT_DO_TP_BASICSIZE,        \
                 W_OFF /* tp_dictoffset */}},                                                                 \
    {S_HEAPTYPE, 2, {W_SIZEV, W_OFF /* ht_cached_keys */}},                                                   \
    TUPLE_3, LIST_3, SET_4, DICT_3, FLOAT_2, LONG_3, BYTES_3,                                                 \
    {S_UNICODE, 5, {CT_DO_UN_SIZE, CT_DO_UN_STATE, CT_DO_UN_LENGTH, CT_DO_UN_ASCII_SIZE,                       \
                    CT_DO_UN_COMPACT_SIZE}},                                                                  \
    {S_GC, 5, {CT_DO_GC_SIZE, CT_DO_GC_COLLECTING, W_OFF /* frame */, W_FREE /* generation_stats_size */,     \
               W_FREE /* generation_stats */}},                                                               \
    GEN_4, LLIST_2, DBG_6

static const struct sect layout_3_15_early[] = {
    RT_3, IS_16, {S_THREAD, 15, {TS_3_15_HEAD, TS_3_15_TAIL}}, REST_3_15,
};
static const struct sect layout_3_15_b4[] = {
    RT_3, IS_16, {S_THREAD, 16, {TS_3_15_HEAD, W_OFF /* last_profiled_frame_seq */, TS_3_15_TAIL}}, REST_3_15,
};

static const struct layout {
    uint32_t minor;
    uint64_t from;                 /* the first hexversion it describes (0: the minor's first) */
    const char *name;
    const struct sect *s;
    unsigned n;
} layouts[] = {
#define LAYOUT(MINOR, FROM, NAME, S) {MINOR, FROM, NAME, S, sizeof S / sizeof S[0]}
    LAYOUT(13, 0, "3.13", layout_3_13),
    LAYOUT(14, 0, "3.14", layout_3_14),
    LAYOUT(15, 0x030f00b4, "3.15.0b4+", layout_3_15_b4),
    LAYOUT(15, 0, "3.15 before b4", layout_3_15_early),
};

#define WORDS_MAX 128

/* ---- messages, without libc ------------------------------------------------- */

struct say {
    char *buf;
    unsigned cap, n;
};

static void say_s(struct say *s, const char *t)
{
    while (*t && s->n + 1 < s->cap)
        s->buf[s->n++] = *t++;
    if (s->cap)
        s->buf[s->n] = 0;
}

static void say_u(struct say *s, uint64_t v)
{
    char d[24];
    unsigned n = 0;
    do {
        d[n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    char t[24];
    for (unsigned i = 0; i < n; i++)
        t[i] = d[n - 1 - i];
    t[n] = 0;
    say_s(s, t);
}

static void say_x(struct say *s, uint64_t v)
{
    char t[20] = "0x";
    unsigned n = 2;
    int started = 0;
    for (int sh = 60; sh >= 0; sh -= 4) {
        unsigned nib = (unsigned)(v >> sh) & 15;
        if (nib || started || sh == 0) {
            t[n++] = "0123456789abcdef"[nib];
            started = 1;
        }
    }
    t[n] = 0;
    say_s(s, t);
}

static void say_version(struct say *s, uint64_t hex)
{
    char t[32];
    ct_pyversion_format(hex, t, sizeof t);
    say_s(s, t);
    unsigned level = (unsigned)(hex >> 4) & 15;
    if (level >= 0xa && level <= 0xc) {
        say_s(s, level == 0xa ? "a" : level == 0xb ? "b" : "rc");
        say_u(s, hex & 15);
    }
}

/* ---- names and rules of the named ids ----------------------------------------- */

static const struct idinfo {
    const char *name;
    uint8_t width, align;          /* of the field it locates; 0: a size, not an offset */
    uint16_t pyf;                  /* the layout field it sets (fields.h), 0: none */
} ids[CT_DO_NIDS] = {
    [CT_DO_RT_SIZE] = {"runtime_state.size", 0, 0, 0},
    [CT_DO_RT_FINALIZING] = {"runtime_state.finalizing", 8, 8, CT_PYF_RT_FINALIZING},
    [CT_DO_RT_INTERPRETERS_HEAD] = {"runtime_state.interpreters_head", 8, 8, CT_PYF_RT_INTERPRETERS_HEAD},
    [CT_DO_IS_SIZE] = {"interpreter_state.size", 0, 0, 0},
    [CT_DO_IS_NEXT] = {"interpreter_state.next", 8, 8, CT_PYF_IS_NEXT},
    [CT_DO_IS_THREADS_HEAD] = {"interpreter_state.threads_head", 8, 8, CT_PYF_IS_THREADS_HEAD},
    [CT_DO_IS_GC] = {"interpreter_state.gc", 8, 8, CT_PYF_IS_GC},
    [CT_DO_TS_SIZE] = {"thread_state.size", 0, 0, 0},
    [CT_DO_TS_PREV] = {"thread_state.prev", 8, 8, 0},
    [CT_DO_TS_NEXT] = {"thread_state.next", 8, 8, CT_PYF_TS_NEXT},
    [CT_DO_TS_INTERP] = {"thread_state.interp", 8, 8, 0},
    [CT_DO_TS_CURRENT_FRAME] = {"thread_state.current_frame", 8, 8, CT_PYF_TS_CURRENT_FRAME},
    [CT_DO_TS_THREAD_ID] = {"thread_state.thread_id", 8, 8, 0},
    [CT_DO_TS_NATIVE_THREAD_ID] = {"thread_state.native_thread_id", 8, 8, CT_PYF_TS_NATIVE_THREAD_ID},
    [CT_DO_FR_SIZE] = {"interpreter_frame.size", 0, 0, 0},
    [CT_DO_FR_PREVIOUS] = {"interpreter_frame.previous", 8, 8, CT_PYF_FR_PREVIOUS},
    [CT_DO_FR_EXECUTABLE] = {"interpreter_frame.executable", 8, 8, CT_PYF_FR_CODE},
    [CT_DO_FR_INSTR_PTR] = {"interpreter_frame.instr_ptr", 8, 8, CT_PYF_FR_PREV_INSTR},
    [CT_DO_FR_LOCALSPLUS] = {"interpreter_frame.localsplus", 0, 8, 0},
    [CT_DO_FR_OWNER] = {"interpreter_frame.owner", 1, 1, CT_PYF_FR_OWNER},
    [CT_DO_CO_SIZE] = {"code_object.size", 0, 0, 0},
    [CT_DO_CO_FILENAME] = {"code_object.filename", 8, 8, CT_PYF_CO_FILENAME},
    [CT_DO_CO_NAME] = {"code_object.name", 8, 8, CT_PYF_CO_NAME},
    [CT_DO_CO_QUALNAME] = {"code_object.qualname", 8, 8, CT_PYF_CO_QUALNAME},
    [CT_DO_CO_LINETABLE] = {"code_object.linetable", 8, 8, CT_PYF_CO_LINETABLE},
    [CT_DO_CO_FIRSTLINENO] = {"code_object.firstlineno", 4, 4, CT_PYF_CO_FIRSTLINENO},
    [CT_DO_CO_CODE_ADAPTIVE] = {"code_object.co_code_adaptive", 2, 2, CT_PYF_CO_CODE_ADAPTIVE},
    [CT_DO_OB_SIZE] = {"pyobject.size", 0, 0, CT_PYF_OBJECT_SIZE},
    [CT_DO_OB_TYPE] = {"pyobject.ob_type", 8, 8, CT_PYF_OB_TYPE},
    [CT_DO_TP_SIZE] = {"type_object.size", 0, 0, 0},
    [CT_DO_TP_NAME] = {"type_object.tp_name", 8, 8, CT_PYF_TP_NAME},
    [CT_DO_TP_FLAGS] = {"type_object.tp_flags", 8, 8, CT_PYF_TP_FLAGS},
    [CT_DO_TP_BASICSIZE] = {"type_object.tp_basicsize", 8, 8, CT_PYF_TP_BASICSIZE},
    [CT_DO_BY_SIZE] = {"bytes_object.size", 0, 0, 0},
    [CT_DO_BY_OB_SIZE] = {"bytes_object.ob_size", 8, 8, CT_PYF_OB_SIZE},
    [CT_DO_BY_SVAL] = {"bytes_object.ob_sval", 1, 1, CT_PYF_BYTES_SVAL},
    [CT_DO_UN_SIZE] = {"unicode_object.size", 0, 0, 0},
    [CT_DO_UN_STATE] = {"unicode_object.state", 4, 4, CT_PYF_ASCII_STATE},
    [CT_DO_UN_LENGTH] = {"unicode_object.length", 8, 8, CT_PYF_ASCII_LENGTH},
    [CT_DO_UN_ASCII_SIZE] = {"unicode_object.asciiobject_size", 0, 8, CT_PYF_ASCII_SIZE},
    [CT_DO_UN_COMPACT_SIZE] = {"unicode_object.compactunicodeobject_size", 0, 8, CT_PYF_COMPACT_SIZE},
    [CT_DO_GC_SIZE] = {"gc.size", 0, 0, 0},
    [CT_DO_GC_COLLECTING] = {"gc.collecting", 4, 4, 0},
};

/* Offsets in the order their C structs declare them (unchanged 3.13 to
 * 3.15); each chain must increase. */
static const uint8_t chains[][7] = {
    {CT_DO_TS_PREV, CT_DO_TS_NEXT, CT_DO_TS_INTERP, CT_DO_TS_CURRENT_FRAME, CT_DO_TS_THREAD_ID,
     CT_DO_TS_NATIVE_THREAD_ID, CT_DO_NIDS},
    {CT_DO_FR_EXECUTABLE, CT_DO_FR_PREVIOUS, CT_DO_FR_INSTR_PTR, CT_DO_FR_OWNER, CT_DO_FR_LOCALSPLUS, CT_DO_NIDS},
    {CT_DO_CO_FIRSTLINENO, CT_DO_CO_FILENAME, CT_DO_CO_NAME, CT_DO_CO_QUALNAME, CT_DO_CO_LINETABLE,
     CT_DO_CO_CODE_ADAPTIVE, CT_DO_NIDS},
    {CT_DO_IS_NEXT, CT_DO_IS_THREADS_HEAD, CT_DO_IS_GC, CT_DO_NIDS},
    {CT_DO_UN_LENGTH, CT_DO_UN_STATE, CT_DO_UN_ASCII_SIZE, CT_DO_NIDS},
};

/* Struct sizes outside this range are not CPython's. */
#define SIZE_MIN 8
#define SIZE_MAX_BYTES (1u << 20)

/* ---- reading and checking ---------------------------------------------------- */

static const struct layout *layout_for(uint64_t hex)
{
    struct ct_pyversion v = ct_pyversion_of(hex);
    for (unsigned i = 0; i < sizeof layouts / sizeof layouts[0]; i++)
        if (v.major == 3 && v.minor == layouts[i].minor && hex >= layouts[i].from)
            return &layouts[i];
    return 0;
}

static unsigned layout_words(const struct layout *l)
{
    unsigned n = 2;   /* version, free_threaded */
    for (unsigned i = 0; i < l->n; i++)
        n += l->s[i].n;
    return n;
}

static int fail(struct say *s, const char *what)
{
    say_s(s, what);
    return -1;
}

/* Every word of one section against its struct size. */
static int check_section(const struct sect *sc, const uint64_t *w, struct say *s)
{
    const char *sname = sect_names[sc->kind];
    uint64_t size = sect_sized(sc->kind) ? w[0] : SIZE_MAX_BYTES;
    if (sect_sized(sc->kind) && (size < SIZE_MIN || size > SIZE_MAX_BYTES)) {
        say_s(s, sname);
        say_s(s, ".size ");
        say_u(s, size);
        return fail(s, " is not a plausible struct size");
    }
    for (unsigned k = sect_sized(sc->kind) ? 1 : 0; k < sc->n; k++) {
        unsigned id = sc->w[k];
        uint64_t v = w[k], width = 1, align = 1;
        int is_size = id == W_SIZEV;
        if (id == W_FREE) {
            if (v <= SIZE_MAX_BYTES)
                continue;
        } else if (id < CT_DO_NIDS) {
            width = ids[id].width;
            align = ids[id].align ? ids[id].align : 1;
            is_size = width == 0;
        }
        /* (written so that no sum can wrap: the words are hostile) */
        if (id != W_FREE && v % align == 0 && (is_size ? v <= size : v < size && width <= size - v))
            continue;
        say_s(s, sname);
        say_s(s, " field ");
        if (id < CT_DO_NIDS) {
            say_s(s, ids[id].name);
        } else {
            say_s(s, "#");
            say_u(s, k);
        }
        say_s(s, " = ");
        say_u(s, v);
        if (v % align) {
            say_s(s, " is not aligned to ");
            say_u(s, align);
            return -1;
        }
        say_s(s, is_size ? " exceeds its struct's size " : " lies beyond its struct's size ");
        say_u(s, size);
        return -1;
    }
    return 0;
}

int ct_dbgoff_read(const struct ct_memread *m, uint64_t runtime, uint64_t hexversion, struct ct_dbgoff *out,
                   char *why, unsigned whycap)
{
    struct say s = {why, whycap, 0};
    say_s(&s, "");
    __builtin_memset(out, 0, sizeof *out);
    uint8_t head[24];
    if (!runtime || ct_mem_read(m, runtime, head, sizeof head))
        return fail(&s, "_PyRuntime cannot be read");
    if (__builtin_memcmp(head, "xdebugpy", 8) != 0)
        return fail(&s, "_PyRuntime does not start with the cookie \"xdebugpy\"");
    uint64_t version, ft;
    __builtin_memcpy(&version, head + 8, 8);
    __builtin_memcpy(&ft, head + 16, 8);
    out->version = version;
    out->free_threaded = ft;
    if (hexversion && version != hexversion) {
        say_s(&s, "its version ");
        say_x(&s, version);
        say_s(&s, " is not the interpreter's PY_VERSION_HEX ");
        return say_x(&s, hexversion), -1;
    }
    const struct layout *l = layout_for(version);
    if (!l) {
        say_s(&s, "this cowtrace does not know how Python ");
        say_version(&s, version);
        return fail(&s, " lays out _Py_DebugOffsets");
    }
    out->layout = l->name;
    if (ft > 1) {
        say_s(&s, "free_threaded is ");
        say_u(&s, ft);
        return fail(&s, ", not 0 or 1");
    }
    unsigned nw = layout_words(l);
    uint64_t w[WORDS_MAX];
    if (nw > WORDS_MAX || ct_mem_read(m, runtime + 8, w, nw * 8))
        return fail(&s, "_PyRuntime's debug offsets cannot be read");
    unsigned at = 2;
    for (unsigned i = 0; i < l->n; i++) {
        const struct sect *sc = &l->s[i];
        if (check_section(sc, w + at, &s))
            return -1;
        for (unsigned k = 0; k < sc->n; k++)
            if (sc->w[k] < CT_DO_NIDS) {
                out->val[sc->w[k]] = w[at + k];
                out->have[sc->w[k]] = 1;
            }
        at += sc->n;
    }
    for (unsigned c = 0; c < sizeof chains / sizeof chains[0]; c++)
        for (unsigned k = 1; chains[c][k] != CT_DO_NIDS; k++) {
            unsigned a = chains[c][k - 1], b = chains[c][k];
            if (out->have[a] && out->have[b] && !(out->val[a] < out->val[b])) {
                say_s(&s, ids[a].name);
                say_s(&s, " (");
                say_u(&s, out->val[a]);
                say_s(&s, ") is not before ");
                say_s(&s, ids[b].name);
                say_s(&s, " (");
                say_u(&s, out->val[b]);
                return fail(&s, ") as the C struct declares them");
            }
        }
    if (out->have[CT_DO_UN_COMPACT_SIZE] && out->val[CT_DO_UN_COMPACT_SIZE] < out->val[CT_DO_UN_ASCII_SIZE])
        return fail(&s, "unicode_object.compactunicodeobject_size is smaller than asciiobject_size");
    /* The object header: 16 bytes with ob_type at 8 in a GIL build, 32
     * with ob_type at 24 in a free-threaded one (ob_tid, flags, mutex,
     * gc bits, local and shared counts first). */
    uint64_t hsize = ft ? 32 : 16, htype = ft ? 24 : 8;
    if (out->val[CT_DO_OB_SIZE] != hsize || out->val[CT_DO_OB_TYPE] != htype) {
        say_s(&s, "the object header it publishes (size ");
        say_u(&s, out->val[CT_DO_OB_SIZE]);
        say_s(&s, ", ob_type at ");
        say_u(&s, out->val[CT_DO_OB_TYPE]);
        say_s(&s, ") is not a ");
        return fail(&s, ft ? "free-threaded build's (32, 24)" : "GIL build's (16, 8)");
    }
    return 0;
}

/* ---- the layout -------------------------------------------------------------- */

/* What is known of a minor that has no table, besides what it publishes:
 * the frame owners and tagged references, the line-table format, the bits
 * of PyASCIIObject.state, the size PyCompactUnicodeObject adds. GIL
 * builds only (a free-threaded state word puts `interned` in a byte).
 * Sources: ../shared/notes/cpython-versions.md sections 7b and 7c; the
 * 3.14.0 unicodeobject.h. */
static const struct later {
    uint32_t minor;
    const char *name;
    enum ct_pychain chain;
    uint8_t kind_shift, compact_bit, ascii_bit;
    uint16_t compact_extra;
} later[] = {
    {14, "3.14", CT_PYCHAIN_TSTATE_314, 2, 5, 6, 16},
    {15, "3.15", CT_PYCHAIN_TSTATE_314, 2, 5, 6, 16},
};

#define FACTS_NOT_PUBLISHED (CT_PYFACTS_OBJECTS | CT_PYFACT_DICT_KEYS | CT_PYFACT_GC_STATE)

unsigned ct_dbgoff_layout_fields(const struct ct_dbgoff *o, uint32_t *idv, uint64_t *values, unsigned cap)
{
    unsigned n = 0;
    for (unsigned i = 0; i < CT_DO_NIDS; i++) {
        if (!o->have[i] || !ids[i].pyf)
            continue;
        if (n < cap) {
            idv[n] = ids[i].pyf;
            values[n] = o->val[i];
        }
        n++;
    }
    return n;
}

/* The published offsets into v; -1 if one does not fit its field. */
static int apply(const struct ct_dbgoff *o, struct ct_pyver *v, struct say *s)
{
    uint16_t old_gc = v->L.is_gc;
    for (unsigned i = 0; i < CT_DO_NIDS; i++) {
        if (!o->have[i] || !ids[i].pyf)
            continue;
        if (ct_pyver_set_field(v, ids[i].pyf, o->val[i], 0) != 1) {
            say_s(s, ids[i].name);
            say_s(s, " = ");
            say_u(s, o->val[i]);
            return fail(s, " does not fit cowtrace's layout");
        }
    }
    /* The collector's state is one struct at interpreter_state.gc: what
     * the table places inside it moves with it. */
    if (old_gc && o->have[CT_DO_IS_GC] && v->L.is_gc != old_gc) {
        int64_t d = (int64_t)v->L.is_gc - old_gc;
        int64_t full = v->L.is_gc_full_collections ? v->L.is_gc_full_collections + d : 0;
        int64_t perm = v->L.is_gc_permanent_head ? v->L.is_gc_permanent_head + d : 0;
        if (full < 0 || full > 0xffff || perm < 0 || perm > 0xffff)
            return fail(s, "interpreter_state.gc moves the collector's state out of cowtrace's layout");
        v->L.is_gc_full_collections = (uint16_t)full;
        v->L.is_gc_permanent_head = (uint16_t)perm;
    }
    v->source = CT_PYVER_DISCOVERED;
    return 0;
}

static int build_later(const struct ct_dbgoff *o, struct ct_pyver *v, struct say *s)
{
    struct ct_pyversion pv = ct_pyversion_of(o->version);
    const struct later *k = 0;
    for (unsigned i = 0; i < sizeof later / sizeof later[0]; i++)
        if (later[i].minor == pv.minor)
            k = &later[i];
    if (!k || o->free_threaded) {
        say_s(s, "this cowtrace has no table for ");
        say_s(s, o->free_threaded ? "free-threaded " : "");
        say_s(s, "Python 3.");
        say_u(s, pv.minor);
        return fail(s, ", whose frames, strings and memory it would need beyond what _Py_DebugOffsets publishes");
    }
    __builtin_memset(v, 0, sizeof *v);
    v->name = k->name;
    v->major = 3;
    v->minor = pv.minor;
    v->frame_chain = k->chain;
    v->linetable = CT_LINETABLE_PEP657;
    v->dict_keys = CT_DICTKEYS_NONE;
    v->immortal = CT_IMMORTAL_NONE;
    v->eval_funcs[0] = "_PyEval_EvalFrameDefault";
    v->unknown_facts = FACTS_NOT_PUBLISHED;
    v->L.code_unit = 2;
    v->L.unicode_kind_shift = k->kind_shift;
    v->L.unicode_compact_bit = k->compact_bit;
    v->L.unicode_ascii_bit = k->ascii_bit;
    if (apply(o, v, s))
        return -1;
    if (!o->have[CT_DO_UN_COMPACT_SIZE])
        v->L.compact_size = (uint16_t)(v->L.ascii_size + k->compact_extra);
    return 0;
}

/* The table's own facts (GC head, pre-header, tp_basicsize, flag bits)
 * assume its object header and type object: a process that publishes
 * another is not what the table describes, in published and unpublished
 * parts alike. */
static int fits_table(const struct ct_dbgoff *o, const struct ct_pyver *t, struct say *s)
{
    static const struct {
        uint8_t id;
        uint16_t offset;
    } same[] = {
        {CT_DO_OB_SIZE, __builtin_offsetof(struct ct_pylayout, object_size)},
        {CT_DO_OB_TYPE, __builtin_offsetof(struct ct_pylayout, ob_type)},
        {CT_DO_TP_NAME, __builtin_offsetof(struct ct_pylayout, tp_name)},
        {CT_DO_TP_FLAGS, __builtin_offsetof(struct ct_pylayout, tp_flags)},
        {CT_DO_TP_BASICSIZE, __builtin_offsetof(struct ct_pylayout, tp_basicsize)},
        {CT_DO_BY_OB_SIZE, __builtin_offsetof(struct ct_pylayout, ob_size)},
    };
    for (unsigned i = 0; i < sizeof same / sizeof same[0]; i++) {
        uint16_t tv;
        __builtin_memcpy(&tv, (const uint8_t *)&t->L + same[i].offset, 2);
        if (!o->have[same[i].id] || o->val[same[i].id] == tv)
            continue;
        say_s(s, ids[same[i].id].name);
        say_s(s, " = ");
        say_u(s, o->val[same[i].id]);
        say_s(s, ", but cowtrace's ");
        say_s(s, t->name);
        say_s(s, " table, whose GC head, pre-header and type facts assume it, has ");
        say_u(s, tv);
        return -1;
    }
    return 0;
}

const struct ct_pyver *ct_pyver_discover(const struct ct_memread *m, uint64_t runtime, uint64_t hexversion,
                                         struct ct_pyver *out, struct ct_discovery *d)
{
    struct ct_pyversion pv = ct_pyversion_of(hexversion);
    __builtin_memset(d, 0, sizeof *d);
    d->free_threaded = -1;
    if (hexversion && (pv.major < 3 || (pv.major == 3 && pv.minor < 13))) {
        d->status = CT_DISCOVERY_NONE;
        return ct_pyver_for(hexversion);
    }
    struct ct_dbgoff o;
    char why[200];
    struct say w = {why, sizeof why, 0};
    int rc = ct_dbgoff_read(m, runtime, hexversion, &o, why, sizeof why);
    while (w.n + 1 < w.cap && why[w.n])
        w.n++;
    uint64_t hex = hexversion ? hexversion : o.version;
    if (o.version && o.free_threaded <= 1)
        d->free_threaded = (int)o.free_threaded;
    /* A free-threaded process is decoded only with a free-threaded table. */
    const struct ct_pyver *table = ct_pyver_for_build(hex, d->free_threaded > 0);
    /* May the table stand in for numbers that failed? Not when the process
     * publishes another object header or type object than the table
     * assumes, and not for a pre-release, which may differ from the final
     * release the table describes anywhere. */
    int table_allowed = table && ((hex >> 4) & 15) == 0xf;
    if (rc == 0 && table) {
        *out = *table;
        if (fits_table(&o, table, &w) == 0 && apply(&o, out, &w) == 0) {
            d->status = CT_DISCOVERY_USED;
            return out;
        }
        table_allowed = 0;
    } else if (rc == 0) {
        if (build_later(&o, out, &w) == 0) {
            d->status = CT_DISCOVERY_USED;
            return out;
        }
    }
    d->status = CT_DISCOVERY_REFUSED;
    struct say s = {d->why, sizeof d->why, 0};
    say_s(&s, "_Py_DebugOffsets of Python ");
    say_version(&s, hex);
    say_s(&s, " refused: ");
    say_s(&s, why);
    if (table_allowed) {
        say_s(&s, "; cowtrace's ");
        say_s(&s, table->name);
        say_s(&s, " table used instead");
        return table;
    }
    say_s(&s, !table ? "; no table to fall back on: no layout"
              : ((hex >> 4) & 15) != 0xf ? "; a pre-release, so not cowtrace's table either: no layout"
                                          : "; no layout");
    return 0;
}
