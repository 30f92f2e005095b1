/*
 * report_html.c - `cowtrace report --format html` and `cowtrace diff
 * --format html`: one self-contained page to look at.
 *
 * Promise: the page needs nothing but itself. Its script and style are our
 * own (analyzer/html/: report.js and the files beside it, report.css),
 * embedded at build time
 * (html_assets.h) and inlined; a Content-Security-Policy forbids fetching
 * anything. The data is one JSON object in a <script type="application/json">
 * block, where every '<' is written as \u003c so no input can end the block.
 * The figures come from the model through the JSON renderer itself (the
 * object's "report" is the JSON report as --no-stacks prints it less each
 * process's locations, or the JSON diff, verbatim but for that escape), so
 * the page shows exactly the JSON report's numbers; the
 * rest is what only a picture needs:
 *   - "maps": each process's regions cut into cells of the same number of
 *     pages for the whole run (at most MAP_PROC_CELLS per process and
 *     MAP_RUN_CELLS per run, so 64 workers stay small), one character per
 *     cell saying what its pages did (see cell_char), each region's string
 *     stored once however many processes drew the same (workers forked from
 *     one parent mostly do), plus each region's copied pages by cause and
 *     its top types;
 *   - "flame": the lines of --format folded (ct_folded_lines: the same
 *     stacks, frames and leaves) for python, native and both frames with
 *     both leaves, frames as indexes into one table, each line storing only
 *     what differs from the line before (lines are sorted, so prefixes are
 *     shared);
 *   - the advice for each cause (report_causes.c's, not a copy);
 *   - "timeline" for a watch directory (report_timeline.c), and for a diff
 *     where either side has one, "timelines": {"a": ..., "b": ...} (each
 *     the same object, or null for a side without).
 * No other text of the traces is written into the HTML itself.
 */
#include "render.h"

#include <stdlib.h>
#include <string.h>
#include <uthash.h>

#include "html_assets.h"
#include "jsonw.h"
#include "report_text.h"
#include "strbuf.h"
#include "util.h"

#define MAP_PROC_CELLS (UINT64_C(1) << 17)
#define MAP_RUN_CELLS (UINT64_C(1) << 23)
#define MAP_TOP_TYPES 5

/* ---- the page around the data ---- */

static void page_begin(FILE *f)
{
    fputs("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n"
          "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; "
          "script-src 'unsafe-inline'; style-src 'unsafe-inline'; img-src data:\">\n"
          "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
          "<title>cowtrace report</title>\n<style>\n", f);
    fputs(ct_html_css, f);
    fputs("</style></head>\n<body><div id=\"app\"><noscript>This report is drawn by its inline script: "
          "allow scripts, or use cowtrace report --format text.</noscript></div>\n"
          "<script type=\"application/json\" id=\"ct-data\">", f);
}

/* Writes the JSON text in buf with every '<' as \u003c ('<' can only be
 * inside a JSON string, where the escape means the same). */
static void write_escaped(FILE *f, const char *buf, size_t len)
{
    size_t i = 0;
    while (i < len) {
        const char *lt = memchr(buf + i, '<', len - i);
        size_t n = lt ? (size_t)(lt - (buf + i)) : len - i;
        fwrite(buf + i, 1, n, f);
        i += n;
        if (lt) {
            fputs("\\u003c", f);
            i++;
        }
    }
}

static void page_end(FILE *f, char *data, size_t len)
{
    write_escaped(f, data, len);
    /* One function around all the script files: their names stay local
     * to the page's script. */
    fputs("</script>\n<script>\n(function () {\n\"use strict\";\n", f);
    fputs(ct_html_js, f);
    fputs("})();\n</script></body></html>\n", f);
}

/* xmalloc's rule (util.h): an analyzer out of memory has nothing useful
 * left to do. */
static void out_of_memory(void)
{
    fputs("cowtrace: out of memory (building the HTML report)\n", stderr);
    exit(2);
}

/* A memory stream for the data object. */
static FILE *data_open(char **buf, size_t *len)
{
    FILE *m = open_memstream(buf, len);
    if (!m)
        out_of_memory();
    return m;
}

static void data_close(FILE *m)
{
    if (fclose(m))
        out_of_memory();
}

static void common_keys(FILE *m, const char *kind)
{
    fprintf(m, "{\"kind\": \"%s\", \"cowtrace\": ", kind);
    json_cstr(m, COWTRACE_VERSION);
    struct json_list l;
    json_list_begin(&l, m, ",\n \"causes\": [", ", ");
    for (int c = 0; c < CT_NCAUSES; c++) {
        json_list_item(&l, "");
        json_cstr(m, ct_cause_name(c));
    }
    json_list_end(&l, "]", "]");
    json_list_begin(&l, m, ",\n \"advice\": [", ",\n  ");
    for (int c = 0; c < CT_NCAUSES; c++) {
        json_list_item(&l, "");
        json_cstr(m, ct_cause_advice(c));
    }
    json_list_end(&l, "]", "]");
}

/* ---- address-space maps ---- */

/* Pages of one cell, by what happened to them. */
struct cell {
    uint64_t cause[CT_NCAUSES];
    uint64_t fresh;
};

static uint64_t ceil_div(uint64_t a, uint64_t b)
{
    return a / b + (a % b != 0);
}

/* a + b, or UINT64_MAX past it: a hostile trace's regions can claim more
 * pages than 64 bits count, and the scale must still come out large. */
static uint64_t add_sat(uint64_t a, uint64_t b)
{
    return a + b < a ? UINT64_MAX : a + b;
}

/* One character per cell:
 *   ' '   no page the child shared at fork (hole, or an untracked region)
 *   '.'   shared pages, none copied or fresh: they stayed shared
 *   '0'+c copied pages, most of them of cause c, at least half the cell
 *   'a'+c the same, under half the cell
 *   'X'   fresh pages (new, never shared) at least half the cell; 'x' under */
static char cell_char(const struct cell *c, uint64_t span, uint64_t present)
{
    uint64_t cow = 0;
    int top = 0;
    for (int k = 0; k < CT_NCAUSES; k++) {
        cow += c->cause[k];
        if (c->cause[k] > c->cause[top])
            top = k;
    }
    if (!cow && !c->fresh)
        return present ? '.' : ' ';
    if (c->fresh > cow)
        return c->fresh * 2 >= span ? 'X' : 'x';
    return (char)((cow * 2 >= span ? '0' : 'a') + top);
}

struct cellstr {
    char *s;
    size_t idx;
    UT_hash_handle hh;
};

struct type_tally {
    int32_t type;
    uint32_t cause;
    uint64_t pages;
};

static int cmp_tally_key(const void *x, const void *y)
{
    const struct type_tally *a = x, *b = y;
    if (a->type != b->type)
        return a->type < b->type ? -1 : 1;
    return a->cause < b->cause ? -1 : a->cause > b->cause;
}

static int cmp_tally_pages(const void *x, const void *y)
{
    const struct type_tally *a = x, *b = y;
    if (a->pages != b->pages)
        return a->pages > b->pages ? -1 : 1;
    return cmp_tally_key(x, y);
}

struct maps {
    uint64_t per_cell;        /* pages per cell, one scale for the whole run */
    struct cellstr *strings;  /* by content */
    struct cellstr **order;   /* by index */
    size_t nstrings, cap;
};

static size_t intern(struct maps *M, char *s, size_t len)
{
    struct cellstr *e;
    HASH_FIND(hh, M->strings, s, len, e);
    if (e) {
        free(s);
        return e->idx;
    }
    e = xcalloc(1, sizeof *e);
    e->s = s;
    e->idx = M->nstrings;
    HASH_ADD_KEYPTR(hh, M->strings, e->s, len, e);
    if (M->nstrings == M->cap) {
        M->cap = M->cap ? 2 * M->cap : 64;
        M->order = xreallocarray(M->order, M->cap, sizeof *M->order);
    }
    M->order[M->nstrings++] = e;
    return e->idx;
}

/* The first segment that ends after page pg. */
static size_t seg_lower(const struct ct_seg *seg, size_t n, uint64_t pg)
{
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (seg[mid].end <= pg)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

/* One region of p: its cell string (interned), causes and top types. */
static void map_region(FILE *m, struct maps *M, const struct ct_proc *p, const struct ct_region *rg,
                       const struct ct_seg *seg, size_t nseg)
{
    uint64_t k = M->per_cell, lo = rg->pg0, hi = rg->pg0 + rg->npages;
    size_t ncells = (size_t)ceil_div(rg->npages, k);
    struct cell *cells = xcalloc(ncells ? ncells : 1, sizeof *cells);
    uint64_t causes[CT_NCAUSES] = { 0 }, fresh = 0;
    struct type_tally *tt = NULL;
    size_t ntt = 0, cap = 0;
    for (size_t i = seg_lower(seg, nseg, lo); i < nseg && seg[i].start < hi; i++) {
        const struct ct_seg *s = &seg[i];
        uint64_t a = s->start > lo ? s->start : lo, b = s->end < hi ? s->end : hi;
        if (a >= b)
            continue;
        uint32_t cause = s->cause < CT_NCAUSES ? s->cause : CT_CAUSE_UNKNOWN;
        if (s->cow) {
            causes[cause] += b - a;
            if (ntt == cap) {
                cap = cap ? 2 * cap : 16;
                tt = xreallocarray(tt, cap, sizeof *tt);
            }
            tt[ntt++] = (struct type_tally){ s->type, cause, b - a };
        } else
            fresh += b - a;
        for (uint64_t x = a; x < b;) {
            size_t c = (size_t)((x - lo) / k);
            uint64_t cell_end = lo + (c + 1) * k, y = cell_end < b ? cell_end : b;
            if (s->cow)
                cells[c].cause[cause] += y - x;
            else
                cells[c].fresh += y - x;
            x = y;
        }
    }
    char *str = xmalloc(ncells + 1);
    for (size_t c = 0; c < ncells; c++) {
        uint64_t c0 = lo + c * k, c1 = c0 + k < hi ? c0 + k : hi;
        str[c] = cell_char(&cells[c], c1 - c0, ivl_count_range(&p->present_set, c0, c1));
    }
    str[ncells] = '\0';
    free(cells);
    fprintf(m, "[%zu, [", intern(M, str, ncells));
    for (int c = 0; c < CT_NCAUSES; c++)
        fprintf(m, "%s%llu", c ? ", " : "", (unsigned long long)causes[c]);
    fprintf(m, "], %llu, [", (unsigned long long)fresh);
    /* Types: merged by (type, cause), largest first (qsort is not given
     * the NULL of an empty tally). */
    if (ntt)
        qsort(tt, ntt, sizeof *tt, cmp_tally_key);
    size_t n = 0;
    for (size_t i = 0; i < ntt; i++) {
        if (n && tt[n - 1].type == tt[i].type && tt[n - 1].cause == tt[i].cause)
            tt[n - 1].pages += tt[i].pages;
        else
            tt[n++] = tt[i];
    }
    if (n)
        qsort(tt, n, sizeof *tt, cmp_tally_pages);
    for (size_t i = 0; i < n && i < MAP_TOP_TYPES; i++) {
        size_t len;
        const char *name = ct_type_name(p, tt[i].type, &len);
        fputs(i ? ", [" : "[", m);
        if (name)
            json_str(m, name, len);
        else
            fputs("null", m);
        fprintf(m, ", %u, %llu]", tt[i].cause, (unsigned long long)tt[i].pages);
    }
    fputs("]]", m);
    free(tt);
}

/* Were the page sets kept (ct_load_opts.keep_pages), so p can be drawn? */
static bool pages_kept(const struct ct_proc *p)
{
    return ivl_count(&p->present_set) == p->tracked && ivl_count(&p->cow_set) == p->cow &&
           ivl_count(&p->fresh_set) == p->fresh;
}

static void data_maps(FILE *m, const struct ct_run *r)
{
    uint64_t most = 0, all = 0;
    for (size_t i = 0; i < r->nprocs; i++) {
        const struct ct_proc *p = &r->procs[i];
        if (!pages_kept(p))
            return;
        uint64_t sum = 0;
        for (size_t j = 0; j < p->info.nregions; j++)
            sum = add_sat(sum, p->info.regions[j].npages);
        most = sum > most ? sum : most;
        all = add_sat(all, sum);
    }
    struct maps M = { 0 };
    M.per_cell = ceil_div(most, MAP_PROC_CELLS);
    if (ceil_div(all, MAP_RUN_CELLS) > M.per_cell)
        M.per_cell = ceil_div(all, MAP_RUN_CELLS);
    if (!M.per_cell)
        M.per_cell = 1;
    fprintf(m, ",\n \"maps\": {\"pages_per_cell\": %llu,\n  \"procs\": [", (unsigned long long)M.per_cell);
    for (size_t i = 0; i < r->nprocs; i++) {
        const struct ct_proc *p = &r->procs[i];
        size_t nseg;
        struct ct_seg *seg = ct_page_segments(p, &nseg);
        fputs(i ? ",\n   [" : "\n   [", m);
        for (size_t j = 0; j < p->info.nregions; j++) {
            if (j)
                fputs(", ", m);
            map_region(m, &M, p, &p->info.regions[j], seg, nseg);
        }
        fputc(']', m);
        free(seg);
    }
    fputs("],\n  \"cells\": [", m);
    for (size_t i = 0; i < M.nstrings; i++) {
        fputs(i ? ",\n   \"" : "\n   \"", m);
        fputs(M.order[i]->s, m);         /* only the characters of cell_char */
        fputc('"', m);
    }
    fputs("]}", m);
    struct cellstr *e, *tmp;
    HASH_ITER(hh, M.strings, e, tmp) {
        HASH_DEL(M.strings, e);
        free(e->s);
        free(e);
    }
    free(M.order);
}

/* ---- flame graph data ---- */

struct frame {
    char *name;
    size_t idx;
    UT_hash_handle hh;
};

struct flame {
    FILE *m;
    struct frame *frames;
    struct frame **order;
    size_t nframes, cap;
    size_t *prev, nprev, prevcap; /* the frames of the line before */
    size_t *cur, ncur, curcap;
    bool any;
};

static size_t frame_index(struct flame *F, const char *s, size_t len)
{
    struct frame *e;
    HASH_FIND(hh, F->frames, s, len, e);
    if (e)
        return e->idx;
    e = xcalloc(1, sizeof *e);
    e->name = xmemdup0(s, len);
    e->idx = F->nframes;
    HASH_ADD_KEYPTR(hh, F->frames, e->name, len, e);
    if (F->nframes == F->cap) {
        F->cap = F->cap ? 2 * F->cap : 256;
        F->order = xreallocarray(F->order, F->cap, sizeof *F->order);
    }
    F->order[F->nframes++] = e;
    return e->idx;
}

/* One folded line as [pages, frames shared with the line before, the
 * other frames' indexes...]. */
static void flame_line(const char *line, size_t len, uint64_t pages, void *ctx)
{
    struct flame *F = ctx;
    F->ncur = 0;
    for (size_t i = 0; i <= len;) {
        size_t n = 0;
        while (i + n < len && line[i + n] != ';')
            n++;
        if (F->ncur == F->curcap) {
            F->curcap = F->curcap ? 2 * F->curcap : 64;
            F->cur = xreallocarray(F->cur, F->curcap, sizeof *F->cur);
        }
        F->cur[F->ncur++] = frame_index(F, line + i, n);
        i += n + 1;
    }
    size_t shared = 0;
    while (shared < F->ncur && shared < F->nprev && F->cur[shared] == F->prev[shared])
        shared++;
    fprintf(F->m, "%s[%llu, %zu", F->any ? ",\n    " : "\n    ", (unsigned long long)pages, shared);
    for (size_t i = shared; i < F->ncur; i++)
        fprintf(F->m, ", %zu", F->cur[i]);
    fputc(']', F->m);
    F->any = true;
    size_t *t = F->prev;
    F->prev = F->cur;
    F->cur = t;
    size_t tc = F->prevcap;
    F->prevcap = F->curcap;
    F->curcap = tc;
    F->nprev = F->ncur;
}

static void data_flame(FILE *m, const struct ct_run *r)
{
    if (!r->resolved)
        return;
    static const struct {
        const char *name;
        enum ct_frames frames;
    } modes[] = { { "python", CT_FRAMES_PYTHON }, { "native", CT_FRAMES_NATIVE }, { "both", CT_FRAMES_BOTH } };
    struct flame F = { .m = m };
    fprintf(m, ",\n \"flame\": {\"default\": \"%s\", \"leaves\": 2", r->python_stacks ? "python" : "native");
    for (size_t i = 0; i < sizeof modes / sizeof modes[0]; i++) {
        fprintf(m, ",\n  \"%s\": [", modes[i].name);
        F.any = false;
        F.nprev = 0;
        ct_folded_lines(r, modes[i].frames, CT_LEAF_BOTH, flame_line, &F);
        fputc(']', m);
    }
    struct json_list l;
    json_list_begin(&l, m, ",\n  \"frames\": [", ",");
    for (size_t i = 0; i < F.nframes; i++) {
        json_list_item(&l, "\n   ");
        json_cstr(m, F.order[i]->name);
    }
    json_list_end(&l, "]}", "]}");
    struct frame *e, *tmp;
    HASH_ITER(hh, F.frames, e, tmp) {
        HASH_DEL(F.frames, e);
        free(e->name);
        free(e);
    }
    free(F.order);
    free(F.prev);
    free(F.cur);
}

/* ---- the two entry points ---- */

static void html_run(FILE *f, const struct ct_run *r, const struct ct_render_opts *o)
{
    (void)o;
    char *buf;
    size_t len;
    FILE *m = data_open(&buf, &len);
    common_keys(m, "report");
    fputs(",\n \"matters\": [", m);
    for (int c = 0; c < CT_NCAUSES; c++)
        fprintf(m, "%s%s", c ? ", " : "", r->total.cow && ct_cause_matters(r, c) ? "true" : "false");
    fputs("],\n \"report\": ", m);
    /* The JSON report itself, without its stack table (the flame graph
     * holds the stacks), page list (the maps draw the pages) or each
     * process's locations (the page shows the run's: they were half the
     * page of 64 workers). */
    struct ct_render_opts jo = CT_RENDER_OPTS_DEFAULT;
    jo.stacks = false;
    jo.pages = false;
    jo.proc_locations = false;
    ct_render_json.run(m, r, &jo);
    data_maps(m, r);
    data_flame(m, r);
    ct_report_html_timeline(m, r);
    fputs("}\n", m);
    data_close(m);
    page_begin(f);
    page_end(f, buf, len);
    free(buf);
}

static void html_diff(FILE *f, const struct ct_diff *d)
{
    char *buf;
    size_t len;
    FILE *m = data_open(&buf, &len);
    common_keys(m, "diff");
    fputs(",\n \"report\": ", m);
    ct_render_json.diff(m, d);
    if (d->a->timeline || d->b->timeline) {
        fputs(",\n \"timelines\": {\"a\": ", m);
        ct_report_html_timeline_object(m, d->a->timeline);
        fputs(",\n \"b\": ", m);
        ct_report_html_timeline_object(m, d->b->timeline);
        fputc('}', m);
    }
    fputs("}\n", m);
    data_close(m);
    page_begin(f);
    page_end(f, buf, len);
    free(buf);
}

const struct ct_renderer ct_render_html = {
    .name = "html",
    .help = "one self-contained page to look at (nothing fetched): the run\n"
            "at a glance, causes and advice, address-space maps, a flame\n"
            "graph, where, a watch directory's timeline; for diff, the two\n"
            "runs side by side",
    .accepts = 0,
    .needs = CT_NEED_STACKS | CT_NEED_PAGES,
    .run = html_run,
    .diff = html_diff,
};
