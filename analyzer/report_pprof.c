/*
 * report_pprof.c - `cowtrace report --format pprof`: copied pages as a
 * gzipped pprof profile (github.com/google/pprof, proto/profile.proto),
 * for `go tool pprof`, Pyroscope, Parca and other pprof readers.
 *
 * Promise: four sample types, cow_pages (count, the default), cow_bytes
 * (bytes), fresh_pages (count) and fresh_bytes (bytes); the samples'
 * cow_pages sum to the report's cow pages and their fresh_pages to its
 * fresh pages. Copied pages: one sample per process and (stack, cause,
 * type), labelled pid (a number), cause and type (when the page had one),
 * its frames those of `--format folded` with the same --frames and --leaf
 * (one walk, report_stack.h; default: python frames if any stack has one,
 * else native, and a "cause:..." leaf), innermost first as pprof wants,
 * markers ("(no stack)", "(truncated)", ...) and leaves ("cause:gc",
 * "type:int") functions of their own. Fresh pages have no first-write
 * stack in the model (the shim records the stacks of first writes to
 * inherited pages, the copies; a fresh page was never shared, and the
 * page-set mode has no stacks at all), so none is made up: one sample per
 * process and region name (ct_region_label: "[heap]", "anon",
 * "libfoo.so") with the two frames "(fresh)" (outermost) and the region
 * name, labelled pid only, its cow values 0 (and its fresh values 0 in
 * copied-page samples): `-sample_index=fresh_pages` shows them.
 * Each frame is one Location with one Line (function, line); a Function
 * has a name and a file (Python: qualname and file name; native: symbol or
 * module+0xoffset and, with debug information, source file). Every
 * Location names a Mapping (ids from 1: the first executable module used,
 * as pprof readers take the first for the main binary, then the others in
 * order of first use): a native frame's is its module's, one per (path,
 * range, build id), with the module's [start, end) from the trace, file
 * offset 0, its path and its GNU build id in hex when the trace has one
 * (never made up), and the frame's instruction pointer as the Location's
 * address (so a native Location is one address); a native frame in no
 * module is in "[no module]", Python frames in "[python]", markers and
 * leaves in "[cowtrace]" (these three with range 0; Python frames, markers
 * and leaves have no address). A mapping's has_functions, has_filenames
 * and has_line_numbers are set when some location of it has a function
 * name (not an address or module+0xoffset), a file name, a line: pprof's
 * own reading, under which a reader symbolizes from the file only a module
 * with none of them; has_inline_frames is never set (one Line per
 * Location). Every string is printable UTF-8 (other bytes become '?'); the
 * string table starts with "". Output is the profile gzipped by zlib with
 * a zero timestamp, so equal input gives equal bytes. It is binary and
 * written even to a terminal: redirect it or use -o.
 */
#include <stdlib.h>
#include <string.h>
#include <uthash.h>
#include <zlib.h>

#include "loc.h"
#include "pbwrite.h"
#include "render.h"
#include "report_stack.h"
#include "strbuf.h"
#include "textsafe.h"
#include "util.h"
#include "where.h"

/* profile.proto field numbers. */
enum {
    PROFILE_SAMPLE_TYPE = 1, PROFILE_SAMPLE = 2, PROFILE_MAPPING = 3, PROFILE_LOCATION = 4,
    PROFILE_FUNCTION = 5, PROFILE_STRING_TABLE = 6, PROFILE_DEFAULT_SAMPLE_TYPE = 14,
    VALUETYPE_TYPE = 1, VALUETYPE_UNIT = 2,
    SAMPLE_LOCATION_ID = 1, SAMPLE_VALUE = 2, SAMPLE_LABEL = 3,
    LABEL_KEY = 1, LABEL_STR = 2, LABEL_NUM = 3,
    MAPPING_ID = 1, MAPPING_MEMORY_START = 2, MAPPING_MEMORY_LIMIT = 3, MAPPING_FILE_OFFSET = 4,
    MAPPING_FILENAME = 5, MAPPING_BUILD_ID = 6, MAPPING_HAS_FUNCTIONS = 7, MAPPING_HAS_FILENAMES = 8,
    MAPPING_HAS_LINE_NUMBERS = 9,
    LOCATION_ID = 1, LOCATION_MAPPING_ID = 2, LOCATION_ADDRESS = 3, LOCATION_LINE = 4,
    LINE_FUNCTION_ID = 1, LINE_LINE = 2,
    FUNCTION_ID = 1, FUNCTION_NAME = 2, FUNCTION_FILENAME = 4,
};

/* A string, function or location already in the profile, by its key. */
struct entry {
    char *key;
    size_t keylen;
    uint64_t id;
    UT_hash_handle hh;
};

/* A Mapping: a module of a process (its range, file and build id) or one
 * of the synthetic ones; written last, when the has_* are known. */
struct mapping {
    uint64_t start, limit, filename, build_id;     /* filename, build_id: string ids */
    bool has_functions, has_filenames, has_line_numbers;
    bool executable;          /* a module whose file name is not a shared library's */
};

/* A Location, encoded last: its mapping id is the one written then. */
struct location {
    uint64_t mapping, address, function, line;
};

/* The synthetic mappings' keys (a native module's key starts with 'm'). */
#define MAP_PYTHON "p"
#define MAP_COWTRACE "c"
#define MAP_NO_MODULE "n"

struct pprof {
    struct entry *strings, *funcs, *locs, *maps;
    uint64_t nstrings, nfuncs, nlocs, nmaps;
    struct mapping *mapv;     /* by mapping id - 1 */
    size_t mapv_cap;
    struct location *locv;    /* by location id - 1 */
    size_t locv_cap;
    uint64_t map_id, address; /* the next frame's mapping id and address (0: none) */
    struct strbuf strtab, functab, loctab, samples;
    struct strbuf tmp, key, name, file;
    uint64_t *stack;          /* the sample's location ids, outermost first */
    size_t nstack, stack_cap;
};

/* The id of key in *h, adding it with id (*n)++ (*added tells). */
static uint64_t intern(struct entry **h, uint64_t *n, const char *key, size_t len, bool *added)
{
    struct entry *e;
    HASH_FIND(hh, *h, key, len, e);
    *added = !e;
    if (e)
        return e->id;
    e = xcalloc(1, sizeof *e);
    e->key = xmemdup0(key, len);
    e->keylen = len;
    e->id = (*n)++;
    HASH_ADD_KEYPTR(hh, *h, e->key, len, e);
    return e->id;
}

static uint64_t str_id(struct pprof *pp, const char *s, size_t len)
{
    bool added;
    uint64_t id = intern(&pp->strings, &pp->nstrings, s, len, &added);
    if (added)
        pb_bytes(&pp->strtab, PROFILE_STRING_TABLE, s, len);
    return id;
}

/* Appends s to b as printable UTF-8, anything else as '?'. */
static void clean(struct strbuf *b, const char *s, size_t len)
{
    const unsigned char *u = (const unsigned char *)s;
    for (size_t i = 0; i < len;) {
        size_t n = ct_printable_len(u + i, len - i);
        if (n) {
            sb_add(b, s + i, n);
            i += n;
        } else {
            sb_add(b, "?", 1);
            i++;
        }
    }
}

/* The id of the mapping with key (len bytes; new: from start to limit,
 * file `file`, build id `build_id`). */
static uint64_t mapping_id(struct pprof *pp, const char *key, size_t len, uint64_t start, uint64_t limit,
                           const char *file, size_t file_len, const char *build_id, size_t build_id_len)
{
    bool added;
    uint64_t id = intern(&pp->maps, &pp->nmaps, key, len, &added) + 1;
    if (added) {
        if (pp->nmaps > pp->mapv_cap) {
            pp->mapv_cap = pp->mapv_cap ? 2 * pp->mapv_cap : 16;
            pp->mapv = xreallocarray(pp->mapv, pp->mapv_cap, sizeof *pp->mapv);
        }
        pp->mapv[id - 1] = (struct mapping){ .start = start, .limit = limit,
                                             .filename = str_id(pp, file, file_len),
                                             .build_id = str_id(pp, build_id, build_id_len) };
    }
    return id;
}

/* Whether the file name at path looks like a shared library's ("x.so",
 * "x.so.6", "x.so_2"): pprof's own test for its main binary. */
static bool is_shared_library(const char *path, size_t len)
{
    const char *base = ct_basename(path, &len);
    for (size_t i = 0; i + 3 <= len; i++)
        if (!memcmp(base + i, ".so", 3)
            && (i + 3 == len || ((base[i + 3] == '.' || base[i + 3] == '_') && i + 4 < len
                                 && base[i + 4] >= '0' && base[i + 4] <= '9')))
            return true;
    return false;
}

static uint64_t synthetic_mapping(struct pprof *pp, const char *key, const char *file)
{
    return mapping_id(pp, key, strlen(key), 0, 0, file, strlen(file), "", 0);
}

/* The mapping of native frame f: its module's range, path and GNU build id
 * (hex, as pprof prints them; "" when the trace has none), one per module
 * and range, so a library mapped alike in two processes is one mapping. */
static uint64_t native_mapping(struct pprof *pp, const struct ct_nframe *f)
{
    if (f->module < 0)
        return synthetic_mapping(pp, MAP_NO_MODULE, "[no module]");
    char hex[2 * 20 + 1] = "";
    uint32_t idlen = f->build_id_len <= 20 ? f->build_id_len : 20;
    for (uint32_t i = 0; i < idlen; i++)
        snprintf(hex + 2 * i, 3, "%02x", f->build_id[i]);
    sb_reset(&pp->tmp);
    clean(&pp->tmp, f->module_path, f->module_path_len);
    if (!pp->tmp.len)
        sb_adds(&pp->tmp, "?");
    /* The key: 'm', the range, the build id, the cleaned path. */
    sb_reset(&pp->key);
    sb_adds(&pp->key, "m");
    const uint64_t range[2] = { f->module_start, f->module_end };
    sb_add(&pp->key, (const char *)range, sizeof range);
    sb_add(&pp->key, hex, strlen(hex) + 1);
    sb_add(&pp->key, pp->tmp.s, pp->tmp.len);
    uint64_t id = mapping_id(pp, pp->key.s, pp->key.len, f->module_start, f->module_end, pp->tmp.s, pp->tmp.len, hex, strlen(hex));
    pp->mapv[id - 1].executable = !is_shared_library(pp->tmp.s, pp->tmp.len);
    return id;
}

/* Appends the location of a frame pp->name (in pp->file, line; line < 1:
 * unknown; in mapping pp->map_id at pp->address) to the sample's stack.
 * has_function: the name is a function's (not an address). */
static void frame(struct pprof *pp, int line, bool has_function)
{
    if (!pp->name.len)
        sb_adds(&pp->name, "?");
    /* A mapping has functions, file names or line numbers when some
     * location of it has them: pprof's own reading (it symbolizes from
     * the file only a mapping that has none of the three). */
    struct mapping *m = &pp->mapv[pp->map_id - 1];
    m->has_functions |= has_function;
    m->has_filenames |= pp->file.len > 0;
    m->has_line_numbers |= line > 0;
    /* Function: by (name, file). */
    sb_reset(&pp->key);
    sb_add(&pp->key, pp->name.s, pp->name.len);
    sb_add(&pp->key, "", 1);
    sb_add(&pp->key, pp->file.s ? pp->file.s : "", pp->file.len);
    bool added;
    uint64_t fid = intern(&pp->funcs, &pp->nfuncs, pp->key.s, pp->key.len, &added) + 1;
    if (added) {
        sb_reset(&pp->tmp);
        pb_uint(&pp->tmp, FUNCTION_ID, fid);
        pb_uint(&pp->tmp, FUNCTION_NAME, str_id(pp, pp->name.s, pp->name.len));
        pb_uint(&pp->tmp, FUNCTION_FILENAME, str_id(pp, pp->file.s ? pp->file.s : "", pp->file.len));
        pb_bytes(&pp->functab, PROFILE_FUNCTION, pp->tmp.s, pp->tmp.len);
    }
    /* Location: by (mapping, address, function, line). */
    uint64_t lkey[4] = { pp->map_id, pp->address, fid, line > 0 ? (uint64_t)line : 0 };
    uint64_t lid = intern(&pp->locs, &pp->nlocs, (const char *)lkey, sizeof lkey, &added) + 1;
    if (added) {
        if (pp->nlocs > pp->locv_cap) {
            pp->locv_cap = pp->locv_cap ? 2 * pp->locv_cap : 64;
            pp->locv = xreallocarray(pp->locv, pp->locv_cap, sizeof *pp->locv);
        }
        pp->locv[lid - 1] = (struct location){ lkey[0], lkey[1], lkey[2], lkey[3] };
    }
    if (pp->nstack == pp->stack_cap) {
        pp->stack_cap = pp->stack_cap ? 2 * pp->stack_cap : 64;
        pp->stack = xreallocarray(pp->stack, pp->stack_cap, sizeof *pp->stack);
    }
    pp->stack[pp->nstack++] = lid;
    sb_reset(&pp->name);
    sb_reset(&pp->file);
    pp->map_id = pp->address = 0;
}

/* The frames of report_stack.h's walk, as locations (ctx: the pprof). */
static void marker(void *ctx, const char *m)
{
    struct pprof *pp = ctx;
    pp->map_id = synthetic_mapping(pp, MAP_COWTRACE, "[cowtrace]");
    sb_adds(&pp->name, m);
    frame(pp, 0, true);
}

static void native(void *ctx, const struct ct_nframe *f)
{
    struct pprof *pp = ctx;
    pp->map_id = native_mapping(pp, f);
    pp->address = f->ip;
    if (f->func)
        clean(&pp->name, f->func, strlen(f->func));
    else if (f->module >= 0) {
        clean(&pp->name, f->module_base, f->module_base_len);
        sb_addf(&pp->name, "+0x%llx", (unsigned long long)f->off);
    } else
        sb_addf(&pp->name, "0x%llx", (unsigned long long)f->ip);
    if (f->file)
        clean(&pp->file, f->file, strlen(f->file));
    frame(pp, f->file ? f->line : 0, f->func != NULL);
}

static void python(void *ctx, const struct ct_pframe *f)
{
    struct pprof *pp = ctx;
    pp->map_id = synthetic_mapping(pp, MAP_PYTHON, "[python]");
    if (f->pycode < 0) {
        sb_addf(&pp->name, "?(code 0x%llx)", (unsigned long long)f->code);
        frame(pp, 0, false);
        return;
    }
    clean(&pp->name, f->qualname, f->qualname_len);
    clean(&pp->file, f->filename, f->filename_len);
    frame(pp, f->line, true);
}

static void leaf(void *ctx, const char *prefix, const char *name, size_t len)
{
    struct pprof *pp = ctx;
    pp->map_id = synthetic_mapping(pp, MAP_COWTRACE, "[cowtrace]");
    sb_adds(&pp->name, prefix);
    if (name)
        clean(&pp->name, name, len);
    else
        sb_adds(&pp->name, "(none)");
    frame(pp, 0, true);
}

static void label(struct pprof *pp, struct strbuf *sample, const char *key, const char *str, size_t len, int64_t num)
{
    struct strbuf l;
    sb_init(&l);
    pb_uint(&l, LABEL_KEY, str_id(pp, key, strlen(key)));
    if (str) {
        sb_reset(&pp->name);
        clean(&pp->name, str, len);
        pb_uint(&l, LABEL_STR, str_id(pp, pp->name.s ? pp->name.s : "", pp->name.len));
        sb_reset(&pp->name);
    } else
        pb_uint(&l, LABEL_NUM, (uint64_t)num);
    pb_bytes(sample, SAMPLE_LABEL, l.s, l.len);
    sb_free(&l);
}

static void value_type(struct pprof *pp, struct strbuf *out, const char *type, const char *unit)
{
    struct strbuf v;
    sb_init(&v);
    pb_uint(&v, VALUETYPE_TYPE, str_id(pp, type, strlen(type)));
    pb_uint(&v, VALUETYPE_UNIT, str_id(pp, unit, strlen(unit)));
    pb_bytes(out, PROFILE_SAMPLE_TYPE, v.s, v.len);
    sb_free(&v);
}

static void free_entries(struct entry **h)
{
    struct entry *e, *tmp;
    HASH_ITER(hh, *h, e, tmp) {
        HASH_DEL(*h, e);
        free(e->key);
        free(e);
    }
}

/* Writes b gzipped to f. */
static void gzip_write(FILE *f, const struct strbuf *b)
{
    z_stream z;
    memset(&z, 0, sizeof z);
    /* 15 + 16: the largest window, with a gzip header (mtime 0). */
    if (deflateInit2(&z, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK)
        {
        /* Only out of memory: as xmalloc, nothing useful is left to do. */
        ct_warnx("zlib: cannot start compressing");
        abort();
    }
    unsigned char out[16384];
    z.next_in = (unsigned char *)(b->s ? b->s : "");
    z.avail_in = (uInt)b->len;   /* the profile is far below 4 GiB */
    int st;
    do {
        z.next_out = out;
        z.avail_out = sizeof out;
        st = deflate(&z, Z_FINISH);
        if (st == Z_STREAM_ERROR)
        {
            ct_warnx("zlib: compressing failed");
            abort();
        }
        fwrite(out, 1, sizeof out - z.avail_out, f);
    } while (st != Z_STREAM_END);
    deflateEnd(&z);
}

/* Adds a sample of pp->stack (outermost first) with values v[4], labelled
 * pid and, if given, cause and type. */
static void sample(struct pprof *pp, const struct ct_proc *p, const uint64_t v[4], const char *cause,
                   const char *tname, size_t tlen)
{
    struct strbuf ids, vals, smp;
    sb_init(&ids);
    sb_init(&vals);
    sb_init(&smp);
    for (size_t k = pp->nstack; k-- > 0;)      /* pprof: innermost first */
        pb_varint(&ids, pp->stack[k]);
    pb_bytes(&smp, SAMPLE_LOCATION_ID, ids.s, ids.len);
    for (int k = 0; k < 4; k++)
        pb_varint(&vals, v[k]);
    pb_bytes(&smp, SAMPLE_VALUE, vals.s, vals.len);
    label(pp, &smp, "pid", NULL, 0, p->info.pid);
    if (cause)
        label(pp, &smp, "cause", cause, strlen(cause), 0);
    if (tname)
        label(pp, &smp, "type", tname, tlen, 0);
    pb_bytes(&pp->samples, PROFILE_SAMPLE, smp.s, smp.len);
    sb_free(&ids);
    sb_free(&vals);
    sb_free(&smp);
    pp->nstack = 0;
}

/* Fresh pages of one region name, in one process. */
struct fresh_sum {
    char label[48];
    uint64_t pages;
    UT_hash_handle hh;
};

static int cmp_fresh(const void *x, const void *y)
{
    return strcmp((*(struct fresh_sum *const *)x)->label, (*(struct fresh_sum *const *)y)->label);
}

/* The fresh samples of p: one per region name, in name order. */
static void fresh_samples(struct pprof *pp, const struct ct_proc *p)
{
    struct fresh_sum *sums = NULL, *e, *tmp;
    size_t n = 0;
    for (size_t i = 0; i < p->info.nregions; i++) {
        if (!p->rs[i].fresh)
            continue;
        char name[48];
        ct_region_label(&p->info.regions[i], name, sizeof name);
        HASH_FIND_STR(sums, name, e);
        if (!e) {
            e = xcalloc(1, sizeof *e);
            memcpy(e->label, name, sizeof name);
            HASH_ADD_STR(sums, label, e);
            n++;
        }
        e->pages += p->rs[i].fresh;
    }
    struct fresh_sum **v = xmalloc((n ? n : 1) * sizeof *v);
    size_t k = 0;
    HASH_ITER(hh, sums, e, tmp) v[k++] = e;
    qsort(v, n, sizeof *v, cmp_fresh);
    for (size_t i = 0; i < n; i++) {
        marker(pp, "(fresh)");
        marker(pp, v[i]->label);
        const uint64_t vals[4] = { 0, 0, v[i]->pages, v[i]->pages * p->info.page_size };
        sample(pp, p, vals, NULL, NULL, 0);
    }
    HASH_ITER(hh, sums, e, tmp) {
        HASH_DEL(sums, e);
        free(e);
    }
    free(v);
}

static void pprof_run(FILE *f, const struct ct_run *r, const struct ct_render_opts *o)
{
    struct pprof pp;
    memset(&pp, 0, sizeof pp);
    sb_init(&pp.strtab);
    sb_init(&pp.functab);
    sb_init(&pp.loctab);
    sb_init(&pp.samples);
    sb_init(&pp.tmp);
    sb_init(&pp.key);
    sb_init(&pp.name);
    sb_init(&pp.file);
    struct strbuf head;
    sb_init(&head);
    str_id(&pp, "", 0);
    value_type(&pp, &head, "cow_pages", "count");
    value_type(&pp, &head, "cow_bytes", "bytes");
    value_type(&pp, &head, "fresh_pages", "count");
    value_type(&pp, &head, "fresh_bytes", "bytes");
    pb_uint(&head, PROFILE_DEFAULT_SAMPLE_TYPE, str_id(&pp, "cow_pages", 9));
    enum ct_frames frames = ct_frames_resolve(r, o->frames);
    const struct ct_frame_sink sink = { native, python, marker, leaf, &pp };
    for (size_t i = 0; i < r->nprocs; i++) {
        const struct ct_proc *p = &r->procs[i];
        for (size_t k = 0; k < p->nstack_counts; k++) {
            const struct ct_stack_count *sc = &p->stack_counts[k];
            if (!sc->pages)
                continue;
            ct_stack_frames(p, sc->stack, frames, &sink);
            ct_stack_leaves(p, sc, o->leaf, &sink);
            const uint64_t vals[4] = { sc->pages, sc->pages * p->info.page_size, 0, 0 };
            size_t tlen = 0;
            const char *tname = ct_type_name(p, sc->type, &tlen);
            sample(&pp, p, vals, ct_cause_name(sc->cause), tname, tlen);
        }
        fresh_samples(&pp, p);
    }
    /* pprof readers take the first mapping for the main binary: the first
     * executable module used, then the others in order of first use. */
    uint64_t *order = xmalloc((pp.nmaps ? pp.nmaps : 1) * sizeof *order);
    uint64_t *new_id = xmalloc((pp.nmaps ? pp.nmaps : 1) * sizeof *new_id);
    size_t norder = 0;
    for (uint64_t id = 1; id <= pp.nmaps; id++)
        if (pp.mapv[id - 1].executable) {
            order[norder++] = id;
            break;
        }
    for (uint64_t id = 1; id <= pp.nmaps; id++)
        if (!norder || order[0] != id)
            order[norder++] = id;
    for (size_t k = 0; k < norder; k++)
        new_id[order[k] - 1] = k + 1;
    struct strbuf maptab;
    sb_init(&maptab);
    for (size_t k = 0; k < norder; k++) {
        const struct mapping *m = &pp.mapv[order[k] - 1];
        sb_reset(&pp.tmp);
        pb_uint(&pp.tmp, MAPPING_ID, k + 1);
        if (m->start)
            pb_uint(&pp.tmp, MAPPING_MEMORY_START, m->start);
        if (m->limit)
            pb_uint(&pp.tmp, MAPPING_MEMORY_LIMIT, m->limit);
        /* file_offset stays 0: memory_start is the module's lowest PT_LOAD
         * segment, which begins the file (it holds the ELF header) in
         * what linkers make; the trace records no segment offsets. */
        pb_uint(&pp.tmp, MAPPING_FILENAME, m->filename);
        if (m->build_id)
            pb_uint(&pp.tmp, MAPPING_BUILD_ID, m->build_id);
        if (m->has_functions)
            pb_uint(&pp.tmp, MAPPING_HAS_FUNCTIONS, 1);
        if (m->has_filenames)
            pb_uint(&pp.tmp, MAPPING_HAS_FILENAMES, 1);
        if (m->has_line_numbers)
            pb_uint(&pp.tmp, MAPPING_HAS_LINE_NUMBERS, 1);
        pb_bytes(&maptab, PROFILE_MAPPING, pp.tmp.s, pp.tmp.len);
    }
    for (uint64_t id = 1; id <= pp.nlocs; id++) {
        const struct location *l = &pp.locv[id - 1];
        struct strbuf ln;
        sb_init(&ln);
        pb_uint(&ln, LINE_FUNCTION_ID, l->function);
        if (l->line)
            pb_uint(&ln, LINE_LINE, l->line);
        sb_reset(&pp.tmp);
        pb_uint(&pp.tmp, LOCATION_ID, id);
        pb_uint(&pp.tmp, LOCATION_MAPPING_ID, new_id[l->mapping - 1]);
        if (l->address)
            pb_uint(&pp.tmp, LOCATION_ADDRESS, l->address);
        pb_bytes(&pp.tmp, LOCATION_LINE, ln.s, ln.len);
        pb_bytes(&pp.loctab, PROFILE_LOCATION, pp.tmp.s, pp.tmp.len);
        sb_free(&ln);
    }
    free(order);
    free(new_id);
    struct strbuf all;
    sb_init(&all);
    sb_add(&all, head.s, head.len);
    sb_add(&all, pp.samples.s, pp.samples.len);
    sb_add(&all, maptab.s, maptab.len);
    sb_add(&all, pp.loctab.s, pp.loctab.len);
    sb_add(&all, pp.functab.s, pp.functab.len);
    sb_add(&all, pp.strtab.s, pp.strtab.len);
    gzip_write(f, &all);
    sb_free(&all);
    sb_free(&maptab);
    sb_free(&head);
    struct strbuf *bufs[] = { &pp.strtab, &pp.functab, &pp.loctab, &pp.samples, &pp.tmp, &pp.key, &pp.name, &pp.file };
    for (size_t i = 0; i < sizeof bufs / sizeof *bufs; i++)
        sb_free(bufs[i]);
    free(pp.stack);
    free(pp.mapv);
    free(pp.locv);
    free_entries(&pp.maps);
    free_entries(&pp.strings);
    free_entries(&pp.funcs);
    free_entries(&pp.locs);
}

const struct ct_renderer ct_render_pprof = {
    .name = "pprof",
    .help = "copied pages by stack (and fresh pages by region) as a\ngzipped pprof profile (binary, also to a terminal:\nredirect it or use -o), for go tool pprof, Pyroscope\nor Parca",
    .accepts = CT_OPT_FRAMES | CT_OPT_LEAF,
    .needs = CT_NEED_STACKS,
    .run = pprof_run,
    .diff = NULL,
};
