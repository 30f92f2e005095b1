/*
 * test_dbgoff.c - run-time discovery from _Py_DebugOffsets
 * (common/pyver/debug_offsets.c).
 *
 * Promise: (1) over fabricated _Py_DebugOffsets blobs, built here from
 * the documented field lists of each minor (CPython's pycore_runtime.h /
 * pycore_debug_offsets.h, named field by field; test data, not CPython's
 * code) with plausible values, a plausible 3.15-like blob gives a layout
 * with stacks whose offsets are the blob's and whose causes are unknown,
 * and every corruption (cookie, offsets beyond sizes, order, alignment,
 * version mismatch, a pre-release whose list does not fit, a later minor,
 * a free-threaded flag without a free-threaded table) is refused with its
 * reason; a final release with a table falls back to it, a pre-release
 * does not. (2) Against live interpreters (argv, and COWTRACE_TEST_PYTHONS):
 * a 3.13 process's published offsets are exactly its table's for every
 * field both give, and the discovered layout is the table field for field;
 * a later one (3.14+) is discovered with stacks or refused with a reason.
 * An interpreter that is not on the machine is skipped with a line.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check.h"
#include "debug_offsets.h"
#include "fields.h"
#include "memread.h"
#include "pyver.h"

/* ---- documented field lists ------------------------------------------------- */

#define RT "runtime_state.size", "runtime_state.finalizing", "runtime_state.interpreters_head"
#define TAIL_COMMON                                                                                       \
    "pyobject.size", "pyobject.ob_type"
#define TUPLE_LIST "tuple_object.size", "tuple_object.ob_item", "tuple_object.ob_size", "list_object.size", \
                   "list_object.ob_item", "list_object.ob_size"
#define DICT_TO_BYTES "dict_object.size", "dict_object.ma_keys", "dict_object.ma_values", "float_object.size", \
                      "float_object.ob_fval", "long_object.size", "long_object.lv_tag", "long_object.ob_digit", \
                      "bytes_object.size", "bytes_object.ob_size", "bytes_object.ob_sval"
#define SET "set_object.size", "set_object.used", "set_object.table", "set_object.mask"
#define GEN_TO_END "gen_object.size", "gen_object.gi_name", "gen_object.gi_iframe", "gen_object.gi_frame_state", \
                   "llist_node.next", "llist_node.prev", "debugger_support.eval_breaker",                        \
                   "debugger_support.remote_debugger_support", "debugger_support.remote_debugging_enabled",       \
                   "debugger_support.debugger_pending_call", "debugger_support.debugger_script_path",             \
                   "debugger_support.debugger_script_path_size"
#define IS16 "interpreter_state.size", "interpreter_state.id", "interpreter_state.next",                        \
             "interpreter_state.threads_head", "interpreter_state.threads_main", "interpreter_state.gc",          \
             "interpreter_state.imports_modules", "interpreter_state.sysdict", "interpreter_state.builtins",      \
             "interpreter_state.ceval_gil", "interpreter_state.gil_runtime_state",                                \
             "interpreter_state.gil_runtime_state_enabled", "interpreter_state.gil_runtime_state_locked",         \
             "interpreter_state.gil_runtime_state_holder", "interpreter_state.code_object_generation",            \
             "interpreter_state.tlbc_generation"
#define FR8 "interpreter_frame.size", "interpreter_frame.previous", "interpreter_frame.executable",              \
            "interpreter_frame.instr_ptr", "interpreter_frame.localsplus", "interpreter_frame.owner",             \
            "interpreter_frame.stackpointer", "interpreter_frame.tlbc_index"
#define CO10 "code_object.size", "code_object.filename", "code_object.name", "code_object.qualname",             \
             "code_object.linetable", "code_object.firstlineno", "code_object.argcount",                          \
             "code_object.localsplusnames", "code_object.localspluskinds", "code_object.co_code_adaptive"

static const char *const fields_3_13[] = {
    RT,
    "interpreter_state.size", "interpreter_state.id", "interpreter_state.next", "interpreter_state.threads_head",
    "interpreter_state.gc", "interpreter_state.imports_modules", "interpreter_state.sysdict",
    "interpreter_state.builtins", "interpreter_state.ceval_gil", "interpreter_state.gil_runtime_state",
    "interpreter_state.gil_runtime_state_enabled", "interpreter_state.gil_runtime_state_locked",
    "interpreter_state.gil_runtime_state_holder",
    "thread_state.size", "thread_state.prev", "thread_state.next", "thread_state.interp",
    "thread_state.current_frame", "thread_state.thread_id", "thread_state.native_thread_id",
    "thread_state.datastack_chunk", "thread_state.status",
    "interpreter_frame.size", "interpreter_frame.previous", "interpreter_frame.executable",
    "interpreter_frame.instr_ptr", "interpreter_frame.localsplus", "interpreter_frame.owner",
    CO10, TAIL_COMMON,
    "type_object.size", "type_object.tp_name", "type_object.tp_repr", "type_object.tp_flags",
    TUPLE_LIST, DICT_TO_BYTES,
    "unicode_object.size", "unicode_object.state", "unicode_object.length", "unicode_object.asciiobject_size",
    "gc.size", "gc.collecting", NULL,
};

static const char *const fields_3_14[] = {
    RT, IS16,
    "thread_state.size", "thread_state.prev", "thread_state.next", "thread_state.interp",
    "thread_state.current_frame", "thread_state.thread_id", "thread_state.native_thread_id",
    "thread_state.datastack_chunk", "thread_state.status",
    FR8, CO10, "code_object.co_tlbc", TAIL_COMMON,
    "type_object.size", "type_object.tp_name", "type_object.tp_repr", "type_object.tp_flags",
    TUPLE_LIST, SET, DICT_TO_BYTES,
    "unicode_object.size", "unicode_object.state", "unicode_object.length", "unicode_object.asciiobject_size",
    "gc.size", "gc.collecting", GEN_TO_END, NULL,
};

#define FIELDS_3_15(...)                                                                                     \
    RT, IS16,                                                                                                \
    "thread_state.size", "thread_state.prev", "thread_state.next", "thread_state.interp",                    \
    "thread_state.current_frame", "thread_state.base_frame", "thread_state.last_profiled_frame", __VA_ARGS__ \
    "thread_state.thread_id", "thread_state.native_thread_id", "thread_state.datastack_chunk",               \
    "thread_state.status", "thread_state.holds_gil", "thread_state.gil_requested",                           \
    "thread_state.current_exception", "thread_state.exc_state", "err_stackitem.exc_value",                   \
    FR8, CO10, "code_object.co_tlbc", TAIL_COMMON,                                                           \
    "type_object.size", "type_object.tp_name", "type_object.tp_repr", "type_object.tp_flags",                \
    "type_object.tp_basicsize", "type_object.tp_dictoffset", "heap_type_object.size",                        \
    "heap_type_object.ht_cached_keys", TUPLE_LIST, SET, DICT_TO_BYTES,                                        \
    "unicode_object.size", "unicode_object.state", "unicode_object.length",                                  \
    "unicode_object.asciiobject_size", "unicode_object.compactunicodeobject_size",                           \
    "gc.size", "gc.collecting", "gc.frame", "gc.generation_stats_size", "gc.generation_stats", GEN_TO_END, NULL

static const char *const fields_3_15_early[] = {FIELDS_3_15()};
static const char *const fields_3_15_b4[] = {FIELDS_3_15("thread_state.last_profiled_frame_seq",)};

/* Plausible values: a 3.14-like GIL build (notes, section 7), with 3.15's
 * thread-state shift. Unnamed offsets get 8, unnamed sizes 64. */
static const struct {
    const char *name;
    uint64_t v;
} values[] = {
    {"runtime_state.size", 300000}, {"runtime_state.finalizing", 600}, {"runtime_state.interpreters_head", 808},
    {"interpreter_state.size", 12000}, {"interpreter_state.next", 7272}, {"interpreter_state.threads_head", 7344},
    {"interpreter_state.gc", 7408}, {"thread_state.size", 320}, {"thread_state.prev", 0},
    {"thread_state.next", 8}, {"thread_state.interp", 16}, {"thread_state.current_frame", 72},
    {"thread_state.base_frame", 80}, {"thread_state.last_profiled_frame", 88},
    {"thread_state.last_profiled_frame_seq", 96}, {"thread_state.thread_id", 168},
    {"thread_state.native_thread_id", 176}, {"err_stackitem.exc_value", 0},
    {"interpreter_frame.size", 88}, {"interpreter_frame.previous", 8}, {"interpreter_frame.executable", 0},
    {"interpreter_frame.instr_ptr", 56}, {"interpreter_frame.localsplus", 80}, {"interpreter_frame.owner", 74},
    {"code_object.size", 216}, {"code_object.filename", 112}, {"code_object.name", 120},
    {"code_object.qualname", 128}, {"code_object.linetable", 136}, {"code_object.firstlineno", 68},
    {"code_object.co_code_adaptive", 208}, {"pyobject.size", 16}, {"pyobject.ob_type", 8},
    {"type_object.size", 920}, {"type_object.tp_name", 24}, {"type_object.tp_flags", 168},
    {"type_object.tp_basicsize", 32}, {"bytes_object.size", 40}, {"bytes_object.ob_size", 16},
    {"bytes_object.ob_sval", 32}, {"unicode_object.size", 64}, {"unicode_object.state", 32},
    {"unicode_object.length", 16}, {"unicode_object.asciiobject_size", 40},
    {"unicode_object.compactunicodeobject_size", 56}, {"gc.size", 176}, {"gc.collecting", 112},
};

struct blob {
    uint8_t b[1200];
    size_t len;
};

static uint64_t value_of(const char *name)
{
    for (size_t i = 0; i < sizeof values / sizeof values[0]; i++)
        if (!strcmp(values[i].name, name))
            return values[i].v;
    const char *dot = strchr(name, '.');
    return dot && !strcmp(dot, ".size") ? 64 : 8;
}

static void make_blob(struct blob *b, const char *const *fields, uint64_t version, uint64_t ft)
{
    memset(b, 0, sizeof *b);
    memcpy(b->b, "xdebugpy", 8);
    memcpy(b->b + 8, &version, 8);
    memcpy(b->b + 16, &ft, 8);
    size_t at = 24;
    for (size_t i = 0; fields[i]; i++, at += 8) {
        uint64_t v = value_of(fields[i]);
        memcpy(b->b + at, &v, 8);
    }
    b->len = at;
}

static int set_word(struct blob *b, const char *const *fields, const char *name, uint64_t v)
{
    for (size_t i = 0; fields[i]; i++)
        if (!strcmp(fields[i], name)) {
            memcpy(b->b + 24 + 8 * i, &v, 8);
            return 0;
        }
    return -1;
}

#define BASE 0x7f0000100000ull

static const struct ct_pyver *discover(const struct blob *b, uint64_t hex, struct ct_pyver *out,
                                       struct ct_discovery *d)
{
    struct ct_memview view = {.base = BASE, .len = b->len, .data = b->b, .outside = NULL};
    struct ct_memread m = ct_memview_reader(&view);
    return ct_pyver_discover(&m, BASE, hex, out, d);
}

/* Does the reason name what it should? DBGOFF_VERBOSE=1 prints every
 * reason, to read them as a user would. */
static int says(const struct ct_discovery *d, const char *what)
{
    int ok = strstr(d->why, what) != NULL;
    if (getenv("DBGOFF_VERBOSE"))
        fprintf(stderr, "  %s\n", d->why);
    if (!ok)
        fprintf(stderr, "  reason \"%s\" does not say \"%s\"\n", d->why, what);
    return ok;
}

static void test_plausible_3_15(void)
{
    struct blob b;
    struct ct_pyver out;
    struct ct_discovery d;
    const uint64_t v3150 = 0x030f00f0;
    make_blob(&b, fields_3_15_b4, v3150, 0);
    const struct ct_pyver *v = discover(&b, v3150, &out, &d);
    CHECK(v == &out && d.status == CT_DISCOVERY_USED && d.free_threaded == 0);
    if (v != &out) {
        fprintf(stderr, "  refused: %s\n", d.why);
        return;
    }
    CHECK(v->source == CT_PYVER_DISCOVERED && v->minor == 15 && ct_pyver_has_stacks(v));
    CHECK(v->frame_chain == CT_PYCHAIN_TSTATE_314 && v->linetable == CT_LINETABLE_PEP657);
    CHECK(!ct_pyver_knows_objects(v) && (v->unknown_facts & CT_PYFACT_ALLOCATOR));
    CHECK_U64(v->L.rt_interpreters_head, 808);
    CHECK_U64(v->L.is_threads_head, 7344);
    CHECK_U64(v->L.ts_current_frame, 72);
    CHECK_U64(v->L.ts_native_thread_id, 176);   /* after the b4 sequence word */
    CHECK_U64(v->L.fr_owner, 74);
    CHECK_U64(v->L.co_code_adaptive, 208);
    CHECK_U64(v->L.tp_basicsize, 32);
    CHECK_U64(v->L.compact_size, 56);
    CHECK_U64(v->L.pool_size, 0);               /* not published: unknown, not guessed */
    CHECK_U64(v->L.is_gc_full_collections, 0);

    /* A beta before b4 publishes no sequence word. */
    const uint64_t b2 = 0x030f00b2;
    make_blob(&b, fields_3_15_early, b2, 0);
    v = discover(&b, b2, &out, &d);
    CHECK(v == &out && d.status == CT_DISCOVERY_USED);
    if (v == &out)
        CHECK_U64(v->L.ts_native_thread_id, 176);

    /* A b4 structure in a process that says b2: the list does not fit */
    make_blob(&b, fields_3_15_b4, b2, 0);
    v = discover(&b, b2, &out, &d);
    CHECK(v == NULL && d.status == CT_DISCOVERY_REFUSED && says(&d, "no layout"));

    /* 3.14 */
    const uint64_t v3140 = 0x030e00f0;
    make_blob(&b, fields_3_14, v3140, 0);
    v = discover(&b, v3140, &out, &d);
    CHECK(v == &out && d.status == CT_DISCOVERY_USED && !ct_pyver_knows_objects(v) && ct_pyver_has_stacks(v));
    if (v == &out)
        CHECK_U64(v->L.compact_size, 40 + 16);
}

static void test_refused(void)
{
    struct blob b;
    struct ct_pyver out;
    struct ct_discovery d;
    const uint64_t v3150 = 0x030f00f0;
    const struct ct_pyver *v;

    make_blob(&b, fields_3_15_b4, v3150, 0);
    memcpy(b.b, "xdebugpz", 8);
    v = discover(&b, v3150, &out, &d);
    CHECK(v == NULL && d.status == CT_DISCOVERY_REFUSED && says(&d, "cookie"));

    make_blob(&b, fields_3_15_b4, v3150, 0);
    set_word(&b, fields_3_15_b4, "thread_state.native_thread_id", 4096);
    v = discover(&b, v3150, &out, &d);
    CHECK(v == NULL && says(&d, "thread_state.native_thread_id") && says(&d, "beyond"));

    make_blob(&b, fields_3_15_b4, v3150, 0);
    set_word(&b, fields_3_15_b4, "interpreter_frame.owner", UINT64_MAX);   /* + its width wraps to 0 */
    v = discover(&b, v3150, &out, &d);
    CHECK(v == NULL && says(&d, "interpreter_frame.owner") && says(&d, "beyond"));

    make_blob(&b, fields_3_15_b4, v3150, 0);
    set_word(&b, fields_3_15_b4, "code_object.size", 1ull << 40);
    v = discover(&b, v3150, &out, &d);
    CHECK(v == NULL && says(&d, "code_object.size"));

    make_blob(&b, fields_3_15_b4, v3150, 0);
    set_word(&b, fields_3_15_b4, "code_object.filename", 144);   /* after qualname, linetable */
    v = discover(&b, v3150, &out, &d);
    CHECK(v == NULL && says(&d, "code_object.filename (144) is not before"));

    make_blob(&b, fields_3_15_b4, v3150, 0);
    set_word(&b, fields_3_15_b4, "interpreter_frame.previous", 9);
    v = discover(&b, v3150, &out, &d);
    CHECK(v == NULL && says(&d, "aligned"));

    make_blob(&b, fields_3_15_b4, v3150, 0);
    v = discover(&b, 0x030f01f0, &out, &d);   /* the process says 3.15.1 */
    CHECK(v == NULL && says(&d, "PY_VERSION_HEX"));

    make_blob(&b, fields_3_15_b4, v3150, 1);   /* free-threaded, with a GIL build's header */
    v = discover(&b, v3150, &out, &d);
    CHECK(v == NULL && d.free_threaded == 1 && says(&d, "not a free-threaded build's"));
    set_word(&b, fields_3_15_b4, "pyobject.size", 32);   /* free-threaded, no table for it */
    set_word(&b, fields_3_15_b4, "pyobject.ob_type", 24);
    v = discover(&b, v3150, &out, &d);
    CHECK(v == NULL && d.free_threaded == 1 && says(&d, "no table for free-threaded Python 3.15"));
    /* a free-threaded 3.13 is never decoded with the GIL table */
    make_blob(&b, fields_3_13, 0x030d05f0, 1);
    set_word(&b, fields_3_13, "pyobject.size", 32);
    set_word(&b, fields_3_13, "pyobject.ob_type", 24);
    v = discover(&b, 0x030d05f0, &out, &d);
    CHECK(v != ct_pyver_for(0x030d05f0) && (v == NULL ? d.status == CT_DISCOVERY_REFUSED : v->L.ob_type == 24));

    make_blob(&b, fields_3_15_b4, 0x031000f0, 0);
    v = discover(&b, 0x031000f0, &out, &d);
    CHECK(v == NULL && says(&d, "3.16.0"));

    /* A 3.14 structure in a 3.13 process: 3.13's list reads it shifted */
    make_blob(&b, fields_3_14, 0x030d05f0, 0);
    v = discover(&b, 0x030d05f0, &out, &d);
    CHECK(v == ct_pyver_for(0x030d05f0) && d.status == CT_DISCOVERY_REFUSED && says(&d, "table used instead"));
    /* the same in a release candidate: the final release's table is not its */
    make_blob(&b, fields_3_14, 0x030d00c2, 0);
    v = discover(&b, 0x030d00c2, &out, &d);
    CHECK(v == NULL && d.status == CT_DISCOVERY_REFUSED && says(&d, "pre-release") && says(&d, "3.13.0rc2"));

    /* A 3.13 that publishes another type object than the table's: the
     * table's type and GC facts do not hold either */
    make_blob(&b, fields_3_13, 0x030d05f0, 0);
    set_word(&b, fields_3_13, "type_object.size", 920);
    set_word(&b, fields_3_13, "type_object.tp_flags", 176);
    v = discover(&b, 0x030d05f0, &out, &d);
    CHECK(v == NULL && says(&d, "type_object.tp_flags = 176") && says(&d, "no layout"));

    /* Before 3.13 nothing is read: the tables */
    v = discover(&b, 0x030c01f0, &out, &d);
    CHECK(v == ct_pyver_for(0x030c01f0) && d.status == CT_DISCOVERY_NONE);

    /* Cut short: the structure does not fit what could be read */
    make_blob(&b, fields_3_15_b4, v3150, 0);
    b.len -= 8;
    v = discover(&b, v3150, &out, &d);
    CHECK(v == NULL && says(&d, "cannot be read"));
}

/* A 3.13 blob with the 3.13 table's own numbers is the table; with the
 * collector's state moved, what lies in it moves too. */
static void test_3_13_table(void)
{
    const struct ct_pyver *t = ct_pyver_for(0x030d00f0);
    CHECK(t != NULL);
    if (!t)
        return;
    struct blob b;
    const uint64_t hex = 0x030d00f0;
    make_blob(&b, fields_3_13, hex, 0);
    struct { const char *n; uint64_t v; } set[] = {
        {"runtime_state.interpreters_head", t->L.rt_interpreters_head},
        {"runtime_state.finalizing", t->L.rt_finalizing}, {"interpreter_state.next", t->L.is_next},
        {"interpreter_state.threads_head", t->L.is_threads_head}, {"interpreter_state.gc", t->L.is_gc},
        {"thread_state.current_frame", t->L.ts_current_frame}, {"thread_state.thread_id", 152},
        {"thread_state.native_thread_id", t->L.ts_native_thread_id},
        {"interpreter_frame.size", 80}, {"interpreter_frame.owner", t->L.fr_owner},
        {"interpreter_frame.localsplus", 72}, {"code_object.size", 208},
        {"code_object.co_code_adaptive", t->L.co_code_adaptive}, {"type_object.size", 904},
    };
    for (size_t i = 0; i < sizeof set / sizeof set[0]; i++)
        CHECK(set_word(&b, fields_3_13, set[i].n, set[i].v) == 0);
    struct ct_pyver out;
    struct ct_discovery d;
    const struct ct_pyver *v = discover(&b, hex, &out, &d);
    CHECK(v == &out && d.status == CT_DISCOVERY_USED);
    if (v != &out) {
        fprintf(stderr, "  refused: %s\n", d.why);
        return;
    }
    for (size_t i = 0; i < ct_pyver_nfields(); i++) {
        uint32_t id1, id2;
        uint64_t a, c;
        ct_pyver_field(t, i, &id1, &a);
        ct_pyver_field(v, i, &id2, &c);
        if (id1 == CT_PYF_SOURCE)
            continue;
        if (a != c)
            fprintf(stderr, "  %s: table %llu, discovered %llu\n", ct_pyver_field_name(id1), (unsigned long long)a,
                    (unsigned long long)c);
        CHECK(a == c);
    }
    CHECK(v->source == CT_PYVER_DISCOVERED && ct_pyver_knows_objects(v));
    set_word(&b, fields_3_13, "interpreter_state.gc", t->L.is_gc + 16);
    set_word(&b, fields_3_13, "interpreter_state.size", 20000);
    v = discover(&b, hex, &out, &d);
    CHECK(v == &out);
    if (v == &out) {
        CHECK_U64(v->L.is_gc_full_collections, t->L.is_gc_full_collections + 16);
        CHECK_U64(v->L.is_gc_permanent_head, t->L.is_gc_permanent_head + 16);
    }
}

/* ---- live interpreters -------------------------------------------------------- */

static const char probe[] =
    "import ctypes, sys\n"
    "rt = ctypes.addressof(ctypes.c_char.in_dll(ctypes.pythonapi, '_PyRuntime'))\n"
    "sys.stdout.write('%d %d\\n' % (sys.hexversion, rt)); sys.stdout.flush()\n"
    "sys.stdin.read()\n";

static void live(const char *python)
{
    if (access(python, X_OK) != 0) {
        printf("dbgoff: %s is not on this machine: skipped\n", python);
        return;
    }
    int out[2], in[2];
    if (pipe(out) || pipe(in))
        return;
    pid_t pid = fork();
    if (pid == 0) {
        dup2(in[0], 0);
        dup2(out[1], 1);
        close(in[1]);
        close(out[0]);
        execl(python, python, "-I", "-c", probe, (char *)NULL);
        _exit(127);
    }
    close(in[0]);
    close(out[1]);
    char line[128] = "";
    FILE *f = fdopen(out[0], "r");
    unsigned long long hex = 0, rt = 0;
    int got = f && fgets(line, sizeof line, f) && sscanf(line, "%llu %llu", &hex, &rt) == 2;
    CHECK(got);
    if (got && (hex >> 16) < 0x030d) {
        printf("dbgoff: %s is Python %llx: before 3.13, nothing published\n", python, hex);
    } else if (got) {
        struct ct_memread_remote r = {pid};
        struct ct_memread m = ct_memread_remote(&r);
        struct ct_dbgoff o;
        char why[200];
        int rc = ct_dbgoff_read(&m, rt, hex, &o, why, sizeof why);
        const struct ct_pyver *table = ct_pyver_for_build(hex, (int)o.free_threaded);
        struct ct_pyver built;
        struct ct_discovery d;
        const struct ct_pyver *v = ct_pyver_discover(&m, rt, hex, &built, &d);
        printf("dbgoff: %s (%llx, %s, free_threaded %llu): %s\n", python, hex, o.layout ? o.layout : "?",
               (unsigned long long)o.free_threaded,
               d.status == CT_DISCOVERY_USED ? "discovered" : d.why);
        if (table) {
            /* every field both publish: the process's and the table's */
            CHECK(rc == 0 && v == &built);
            uint32_t idv[64];
            uint64_t val[64];
            unsigned n = ct_dbgoff_layout_fields(&o, idv, val, 64);
            CHECK(n >= 25 && n <= 64);
            for (unsigned i = 0; i < n && i < 64; i++) {
                struct ct_pyver t = *table;
                size_t idx = 0;
                uint64_t tv = 0;
                uint32_t tid;
                CHECK(ct_pyver_set_field(&t, idv[i], 0, &idx) == 1);
                ct_pyver_field(table, idx, &tid, &tv);
                if (idv[i] == CT_PYF_IS_GC && tv == 0)
                    continue;   /* the table leaves it to the process */
                if (tv != val[i])
                    fprintf(stderr, "  %s: table %llu, published %llu\n", ct_pyver_field_name(idv[i]),
                            (unsigned long long)tv, (unsigned long long)val[i]);
                CHECK_U64(val[i], tv);
            }
            for (size_t i = 0; v == &built && i < ct_pyver_nfields(); i++) {
                uint32_t a_id, b_id;
                uint64_t a, b;
                ct_pyver_field(table, i, &a_id, &a);
                ct_pyver_field(v, i, &b_id, &b);
                /* a table may leave interpreter_state.gc out (0): the process gives it */
                if (a_id != CT_PYF_SOURCE && !(a_id == CT_PYF_IS_GC && a == 0))
                    CHECK_U64(b, a);
            }
        } else if (rc == 0 && o.free_threaded) {
            /* free-threaded, and no free-threaded table: never a GIL table */
            CHECK(v == NULL && strstr(d.why, "free-threaded"));
        } else {
            /* a minor without a table: its stacks; a final release whose
             * list this file knows must pass the checks */
            CHECK(rc == 0 || ((hex >> 4) & 15) != 0xf);
            CHECK(rc == 0 ? v == &built && ct_pyver_has_stacks(v) && !ct_pyver_knows_objects(v)
                          : v == NULL && d.why[0]);
        }
    }
    close(in[1]);
    if (f)
        fclose(f);
    int st;
    waitpid(pid, &st, 0);
}

int main(int argc, char **argv)
{
    test_plausible_3_15();
    test_refused();
    test_3_13_table();
    for (int i = 1; i < argc; i++)
        live(argv[i]);
    const char *more = getenv("COWTRACE_TEST_PYTHONS");
    if (more) {
        char *copy = strdup(more), *save = NULL;
        for (char *p = strtok_r(copy, ":", &save); p; p = strtok_r(NULL, ":", &save))
            live(p);
        free(copy);
    }
    return check_done("dbgoff");
}
