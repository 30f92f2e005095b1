/*
 * fuzz_timeline.c - a libFuzzer target for the timeline reader (a watch
 * directory's timeline.jsonl, timeline.c) and every rendering of a
 * timeline: the input is the file's bytes. Built with clang's
 * -fsanitize=fuzzer when the compiler has it
 * (build-fuzz/analyzer/tests/fuzz-timeline CORPUS_DIR); otherwise built as
 * a plain program that runs the files given on its command line through
 * the same function, to replay a crashing input found elsewhere.
 *
 * Promise: each input is read as `cowtrace report DIR` reads
 * DIR/timeline.jsonl (ct_timeline_read, the reader ct_timeline_load runs
 * on the opened file) and put into the runs report and diff build from a
 * watch directory: the timeline alone (a watch directory holds no traces),
 * the timeline beside a trace (a directory written by both `run -o` and
 * `watch -o`), and, for the diffs, the trace without one, so a diff has a
 * timeline on side a only, on side b only, and on both. Every registered
 * format (render.h) renders each run and each diff, so a format that
 * starts drawing timelines is fuzzed without a change here. Beyond not
 * crashing (ASan, UBSan), the outputs must keep the renderers' own
 * promises whatever the file holds: the JSON report and diff, and the data
 * block of the HTML page, are valid JSON in UTF-8 (jsonw.h); the text
 * report and diff are printable UTF-8 lines (textsafe.h). A broken promise
 * aborts, which libFuzzer keeps as a crashing input.
 *
 * Replaying, each run goes through every combination of options of every
 * format. Fuzzing, through one combination per format, chosen by the
 * input's bytes (as fuzz_trace.c does).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analysis.h"
#include "mktrace.h"
#include "render.h"
#include "textsafe.h"
#include "util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#ifdef CT_LIBFUZZER
static const bool every_combination = false;
#else
static const bool every_combination = true;
#endif

#define PG 4096ull
#define HEAP 0x10000ull

/* ---- the checks of the outputs ---- */

/* The checks are not what is fuzzed: without coverage instrumentation,
 * the shapes of the outputs they walk do not count as new paths. */
#if defined(__clang__) && defined(CT_LIBFUZZER)
#define NOT_FUZZED __attribute__((no_sanitize("coverage")))
#else
#define NOT_FUZZED
#endif

static const char *current_what;   /* "report --format text ... of the timeline alone" */

NOT_FUZZED static void broken(const char *buf, size_t len, size_t at, const char *why)
{
    size_t from = at > 80 ? at - 80 : 0, to = at + 80 < len ? at + 80 : len;
    fprintf(stderr, "fuzz-timeline: %s: %s at byte %zu of %zu:\n%.*s\n", current_what, why, at, len,
            (int)(to - from), buf + from);
    abort();
}

struct jcur {
    const char *buf, *p, *end;
};

NOT_FUZZED static void jws(struct jcur *c)
{
    while (c->p < c->end && (*c->p == ' ' || *c->p == '\t' || *c->p == '\n' || *c->p == '\r'))
        c->p++;
}

NOT_FUZZED static void jfail(struct jcur *c, const char *why)
{
    broken(c->buf, (size_t)(c->end - c->buf), (size_t)(c->p - c->buf), why);
}

NOT_FUZZED static bool is_digit(const struct jcur *c)
{
    return c->p < c->end && *c->p >= '0' && *c->p <= '9';
}

NOT_FUZZED static bool is_hex(char ch)
{
    return (ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'f') || (ch >= 'A' && ch <= 'F');
}

NOT_FUZZED static void jstring(struct jcur *c)
{
    c->p++;                   /* the opening quote */
    for (;;) {
        if (c->p >= c->end)
            jfail(c, "a JSON string not closed");
        unsigned char ch = (unsigned char)*c->p;
        if (ch == '"') {
            c->p++;
            return;
        }
        if (ch < 0x20)
            jfail(c, "a control character in a JSON string");
        if (ch == '\\') {
            c->p++;
            if (c->p >= c->end)
                jfail(c, "a JSON string not closed");
            char e = *c->p++;
            if (e == 'u') {
                for (int i = 0; i < 4; i++, c->p++)
                    if (c->p >= c->end || !is_hex(*c->p))
                        jfail(c, "a bad \\u escape");
            } else if (e != '"' && e != '\\' && e != '/' && e != 'b' && e != 'f' && e != 'n' && e != 'r' &&
                       e != 't') {
                c->p--;
                jfail(c, "a bad escape");
            }
            continue;
        }
        size_t n = utf8_seq_len((const unsigned char *)c->p, (size_t)(c->end - c->p));
        if (!n)
            jfail(c, "bytes that are not UTF-8 in a JSON string");
        c->p += n;
    }
}

NOT_FUZZED static void jvalue(struct jcur *c, int depth)
{
    if (depth > 64)
        jfail(c, "JSON nested too deep");
    jws(c);
    if (c->p >= c->end)
        jfail(c, "a JSON value missing");
    char ch = *c->p;
    if (ch == '{' || ch == '[') {
        char close = ch == '{' ? '}' : ']';
        c->p++;
        jws(c);
        if (c->p < c->end && *c->p == close) {
            c->p++;
            return;
        }
        for (;;) {
            jws(c);
            if (close == '}') {
                if (c->p >= c->end || *c->p != '"')
                    jfail(c, "a JSON key missing");
                jstring(c);
                jws(c);
                if (c->p >= c->end || *c->p != ':')
                    jfail(c, "a ':' missing");
                c->p++;
            }
            jvalue(c, depth + 1);
            jws(c);
            if (c->p >= c->end)
                jfail(c, "a JSON container not closed");
            if (*c->p == close) {
                c->p++;
                return;
            }
            if (*c->p != ',')
                jfail(c, "a ',' missing");
            c->p++;
        }
    }
    if (ch == '"') {
        jstring(c);
        return;
    }
    static const char *const words[] = { "true", "false", "null" };
    for (int i = 0; i < 3; i++) {
        size_t n = strlen(words[i]);
        if ((size_t)(c->end - c->p) >= n && memcmp(c->p, words[i], n) == 0) {
            c->p += n;
            return;
        }
    }
    /* a number, by the grammar (no nan, inf, leading '+' or zeros) */
    if (c->p < c->end && *c->p == '-')
        c->p++;
    if (!is_digit(c))
        jfail(c, "not a JSON value");
    if (*c->p == '0')
        c->p++;
    else
        while (is_digit(c))
            c->p++;
    if (c->p < c->end && *c->p == '.') {
        c->p++;
        if (!is_digit(c))
            jfail(c, "a bad JSON number");
        while (is_digit(c))
            c->p++;
    }
    if (c->p < c->end && (*c->p == 'e' || *c->p == 'E')) {
        c->p++;
        if (c->p < c->end && (*c->p == '+' || *c->p == '-'))
            c->p++;
        if (!is_digit(c))
            jfail(c, "a bad JSON number");
        while (is_digit(c))
            c->p++;
    }
}

/* buf[0..len) is one JSON text. */
NOT_FUZZED static void check_json(const char *buf, size_t len)
{
    struct jcur c = { buf, buf, buf + len };
    jvalue(&c, 0);
    jws(&c);
    if (c.p != c.end)
        jfail(&c, "more after the JSON value");
}

/* The HTML page's data block is one JSON text, with no '<' in it. */
NOT_FUZZED static void check_html(const char *buf, size_t len)
{
    static const char open[] = "<script type=\"application/json\" id=\"ct-data\">";
    const char *s = memmem(buf, len, open, sizeof open - 1);
    if (!s)
        broken(buf, len, 0, "no data block");
    s += sizeof open - 1;
    const char *e = memmem(s, len - (size_t)(s - buf), "</script>", 9);
    if (!e)
        broken(buf, len, (size_t)(s - buf), "the data block not closed");
    const char *lt = memchr(s, '<', (size_t)(e - s));
    if (lt)
        broken(buf, len, (size_t)(lt - buf), "a '<' in the data block");
    check_json(s, (size_t)(e - s));   /* positions counted from the block's start */
}

/* Lines of printable UTF-8. */
NOT_FUZZED static void check_text(const char *buf, size_t len)
{
    for (size_t i = 0; i < len;) {
        if (buf[i] == '\n') {
            i++;
            continue;
        }
        size_t n = ct_printable_len((const unsigned char *)buf + i, len - i);
        if (!n)
            broken(buf, len, i, "a byte that is not printable UTF-8 in the text");
        i += n;
    }
}

NOT_FUZZED static void check_output(const struct ct_renderer *R, const char *buf, size_t len)
{
    if (strcmp(R->name, "json") == 0)
        check_json(buf, len);
    else if (strcmp(R->name, "html") == 0)
        check_html(buf, len);
    else if (strcmp(R->name, "text") == 0)
        check_text(buf, len);
}

/* ---- the runs ---- */

/* The trace beside the timeline: a small real-looking worker with copied
 * and fresh pages, a write event and a note, so every section of every
 * format has something to draw next to the timeline. */
static const struct mkt *companion_trace(void)
{
    static struct mkt m;
    if (m.buf)
        return &m;
    mkt_init(&m, 4123, 3982, CT_MODE_UFFD_ASYNC, PG);
    mkt_process(&m, CT_MODE_UFFD_ASYNC, "kernel has WP_ASYNC", "/usr/bin/python3", "gunicorn");
    mkt_region(&m, 0, CT_KIND_HEAP, HEAP, HEAP + 16 * PG, CT_TRACK_UFFD_ASYNC, "[heap]");
    mkt_pages(&m, CT_REC_PRESENT, 0, 0, (uint64_t[]){ 0, 12 }, 2);
    mkt_pages(&m, CT_REC_WRITTEN, 0, 0, (uint64_t[]){ 2, 4, 6, 2 }, 4);
    mkt_write(&m, HEAP + 3 * PG + 8, 0x401000, 4123, 0);
    mkt_note(&m, CT_NOTE_INFO, "flushed 2 times");
    mkt_end(&m, CT_END_EXIT, 0);
    return &m;
}

static void run_of_trace(struct ct_run *r, const struct ct_load_opts *lo)
{
    const struct mkt *m = companion_trace();
    struct ct_trace t;
    struct ct_err err;
    if (ct_trace_parse("worker-4123.cowtrace", m->buf, m->len, &t, &err)) {
        fprintf(stderr, "fuzz-timeline: the companion trace does not parse: %s\n", err.msg);
        abort();
    }
    struct ct_proc p;
    ct_analyze(&t, lo->keep_pages, &p);
    ct_run_of_proc(r, "fuzz-watch-dir", &p, lo);
}

/* The runs around the input's timeline, built once (renderers only read
 * a run; each execution puts its timeline in and takes it out again):
 * "alone", what ct_run_load makes of a watch directory (no process, a
 * timeline); "beside", the trace and the timeline; "plain", the trace
 * without one. The model is what report builds for the formats that need
 * the most (html: stacks and pages), so every format can run on the same
 * runs; module files named by the trace are not opened. */
struct runs {
    struct ct_run alone, beside, plain;
};

static struct runs *the_runs(void)
{
    static struct runs R;
    static bool built;
    if (built)
        return &R;
    const struct ct_load_opts lo = { .keep_pages = true, .resolve = true, .open_files = false };
    R.alone.source = xstrdup("fuzz-watch-dir");
    R.alone.procs = xcalloc(1, sizeof *R.alone.procs);
    ct_run_finish(&R.alone, &lo);
    run_of_trace(&R.beside, &lo);
    run_of_trace(&R.plain, &lo);
    built = true;
    return &R;
}

/* A number from the input's bytes, to pick option combinations by. */
static size_t input_hash(const uint8_t *data, size_t size)
{
    size_t h = size;
    for (size_t i = 0; i < size; i += 1 + i / 16)
        h = h * 31 + data[i];
    return h;
}

static void render_run(const struct ct_run *r, const char *what, size_t pick)
{
    for (size_t i = 0; ct_renderers[i]; i++) {
        const struct ct_renderer *R = ct_renderers[i];
        size_t count = ct_render_opts_count(R);
        size_t first = every_combination ? 0 : pick % count;
        for (size_t n = first; n < (every_combination ? count : first + 1); n++) {
            struct ct_render_opts o = ct_render_opts_nth(R, n);
            char *buf;
            size_t len;
            FILE *m = open_memstream(&buf, &len);
            if (!m)
                abort();
            R->run(m, r, &o);
            if (fclose(m))
                abort();
            char w[160];
            snprintf(w, sizeof w, "report --format %s (options #%zu) of %s", R->name, n, what);
            current_what = w;
            check_output(R, buf, len);
            free(buf);
        }
    }
}

static void render_diff(const struct ct_run *a, const struct ct_run *b, const char *what)
{
    struct ct_diff d;
    ct_diff_build(a, b, &d);
    for (size_t i = 0; ct_renderers[i]; i++) {
        const struct ct_renderer *R = ct_renderers[i];
        if (!R->diff)
            continue;
        char *buf;
        size_t len;
        FILE *m = open_memstream(&buf, &len);
        if (!m)
            abort();
        R->diff(m, &d);
        if (fclose(m))
            abort();
        char w[160];
        snprintf(w, sizeof w, "diff --format %s of %s", R->name, what);
        current_what = w;
        check_output(R, buf, len);
        free(buf);
    }
    ct_diff_free(&d);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* fmemopen refuses a size of 0 on some C libraries: an empty file is
     * /dev/null. */
    FILE *f = size ? fmemopen((void *)data, size, "r") : fopen("/dev/null", "r");
    if (!f)
        abort();
    struct ct_timeline *tl = xmalloc(sizeof *tl);
    ct_timeline_read(f, tl);
    fclose(f);

    struct runs *R = the_runs();
    R->alone.timeline = tl;
    R->beside.timeline = tl;
    size_t pick = input_hash(data, size);
    render_run(&R->alone, "the timeline alone", pick);
    render_run(&R->beside, "the timeline beside a trace", pick);
    render_diff(&R->beside, &R->plain, "a timeline on side a");
    render_diff(&R->plain, &R->alone, "a timeline on side b");
    render_diff(&R->alone, &R->beside, "the timeline on both sides");
    R->alone.timeline = R->beside.timeline = NULL;

    ct_timeline_free(tl);
    free(tl);
    return 0;
}

#ifndef CT_LIBFUZZER
int main(int argc, char **argv)
{
    for (int i = 1; i < argc; i++) {
        FILE *f = fopen(argv[i], "rb");
        if (!f) {
            perror(argv[i]);
            return 2;
        }
        static uint8_t buf[64 << 20];
        size_t n = fread(buf, 1, sizeof buf, f);
        fclose(f);
        LLVMFuzzerTestOneInput(buf, n);
        printf("%s: ok\n", argv[i]);
    }
    return 0;
}
#endif
