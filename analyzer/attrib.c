/*
 * attrib.c - which cause and type each copied page of a process gets
 * (declared in analysis.h; the rules themselves are in cause.h).
 *
 * Promise: causes[] sums exactly to the cow count and types to the same, on
 * any trace, because every cow page lands in exactly one bucket:
 *   - no usable layout (no PYTHON record, layout_known == 0, or neither a
 *     complete PYLAYOUT record nor a table of this build for the version):
 *     all unknown;
 *   - early pages: other, type "(before tracking)": tracking did not hold
 *     when they were written, so no event can say why;
 *   - a page with a write event: the rules on its FIRST event (earliest
 *     time_ns, file order in ties);
 *   - else a page with a page summary: the inferred rules on its LATEST
 *     entry (file order), and the process is marked inferred;
 *   - else unknown (events lost, or the kernel wrote outside the shim's
 *     wrappers).
 * Every cow page also gets the stack of its first write (the event's stack,
 * or none: early pages, inferred and unknown ones): p->stacks counts pages
 * by (stack, cause, type) and sums exactly to cow as well. Stacks are
 * counted without a layout too (causes then all unknown): where a process
 * wrote says something even when why does not.
 * Cost: one linear sort of the events and summaries by page (pgsort.h:
 * 16-byte keys, not the events themselves), then a merge walk against the
 * cow and early interval lists; never a loop over the pages of a run, so a
 * hostile 2^45-page run costs nothing. The (stack, cause, type) counts are
 * one hash lookup per attributed page, skipped when it has the key of the
 * page before (runs of pages written by the same code are the rule).
 */
#include "analysis.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <uthash.h>

#include "decode.h"
#include "pgsort.h"

static const char NAME_UNDEFINED[] = "?";
static const char NAME_EARLY[] = "(before tracking)";
static const char NAME_VALUES[] = "(instance values)";
static const char NAME_POINTERS[] = "(object pointers)";

const char *ct_type_name(const struct ct_proc *p, int32_t type, size_t *len)
{
    const char *s = NULL;
    size_t n = 0;
    if (type >= 0 && (size_t)type < p->t.npytypes) {
        s = p->t.pytypes[type].name.s;
        n = p->t.pytypes[type].name.len;
    } else if (type == CT_TYPE_UNDEFINED) {
        s = NAME_UNDEFINED;
        n = sizeof NAME_UNDEFINED - 1;
    } else if (type == CT_TYPE_EARLY) {
        s = NAME_EARLY;
        n = sizeof NAME_EARLY - 1;
    } else if (type == CT_TYPE_VALUES) {
        s = NAME_VALUES;
        n = sizeof NAME_VALUES - 1;
    } else if (type == CT_TYPE_POINTERS) {
        s = NAME_POINTERS;
        n = sizeof NAME_POINTERS - 1;
    }
    if (len)
        *len = n;
    return s;
}

/* The layout to decide with, or NULL when causes must all be unknown: the
 * one the shim recorded that it decoded with (CT_REC_PYLAYOUT), else this
 * build's table for the version (traces written before the record). */
static const struct ct_pyver *usable_layout(const struct ct_trace *t)
{
    if (!t->have_python || !t->python.layout_known)
        return NULL;
    if (t->pylayout)
        return t->pylayout;
    return ct_pyver_for_build(t->python.hexversion, t->python.flags & CT_PY_FREE_THREADED);
}

const char *ct_cause_note(const struct ct_proc *p, char *buf, size_t len)
{
    const struct ct_trace *t = &p->t;
    if (!p->cow)
        return NULL;
    if (!t->have_python) {
        snprintf(buf, len, "no Python interpreter in this process: causes unknown");
        return buf;
    }
    struct ct_pyversion ver = ct_pyversion_of(t->python.hexversion);
    if (!t->python.layout_known) {
        snprintf(buf, len, "the shim knows no memory layout for Python %u.%u: causes unknown "
                           "(page counts are exact)", ver.major, ver.minor);
        return buf;
    }
    if (!p->layout) {
        /* Only a trace without a (complete) PYLAYOUT record gets here: one
         * written before the record existed, for a version this build has
         * no table for. */
        snprintf(buf, len, "this cowtrace knows no memory layout for Python %u.%u: causes unknown "
                           "(a newer cowtrace may read them)", ver.major, ver.minor);
        return buf;
    }
    if (!ct_pyver_knows_objects(p->layout)) {
        /* A minor without a table: its stacks come from _Py_DebugOffsets,
         * which does not publish what finds the object a write hit. */
        snprintf(buf, len, "Python %u.%u: causes unknown: no cowtrace table for its allocator, GC header, "
                           "pre-header and immortality rule, which _Py_DebugOffsets does not publish "
                           "(stacks and lines come from _Py_DebugOffsets)", ver.major, ver.minor);
        return buf;
    }
    if (p->causes_inferred && t->mode == CT_MODE_SNAPSHOT) {
        snprintf(buf, len, "causes of copied pages that differ from the parent's in no word are inferred "
                           "from what the pages hold (a snapshot sees the end state, not the writes)");
        return buf;
    }
    if (p->causes_inferred) {
        snprintf(buf, len, "causes inferred from what the copied pages hold (uffd-async records no "
                           "write addresses; --mode uffd or mprotect gives exact causes)");
        return buf;
    }
    const char *why = ct_py_unknown_reason(p->layout);
    if (why && p->causes[CT_CAUSE_UNKNOWN]) {
        snprintf(buf, len, "%s", why);
        return buf;
    }
    return NULL;
}

/* Lookup tables from a type's address and from its index to its position
 * in t->pytypes. */
struct key_idx {
    uint64_t key;
    uint32_t idx;
};

static int cmp_key(const void *x, const void *y)
{
    const struct key_idx *a = x, *b = y;
    if (a->key != b->key)
        return a->key < b->key ? -1 : 1;
    return a->idx < b->idx ? -1 : a->idx > b->idx;
}

static struct key_idx *build_keys(const struct ct_trace *t, bool by_addr)
{
    struct key_idx *v = xmalloc((t->npytypes ? t->npytypes : 1) * sizeof *v);
    for (size_t i = 0; i < t->npytypes; i++) {
        v[i].key = by_addr ? t->pytypes[i].addr : t->pytypes[i].index;
        v[i].idx = (uint32_t)i;
    }
    qsort(v, t->npytypes, sizeof *v, cmp_key);
    return v;
}

/* Position of the first entry with this key (the first record in the file
 * when a hostile trace repeats an address), or -1. */
static int32_t lookup(const struct key_idx *v, size_t n, uint64_t key)
{
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (v[mid].key < key)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < n && v[lo].key == key ? (int32_t)v[lo].idx : -1;
}

/* Events of one page in time order, then file order (seq). */
static int cmp_event_time(const void *x, const void *y, void *ctx)
{
    const struct ct_event *ev = ctx;
    const struct ct_event *a = &ev[((const struct ct_pgkey *)x)->idx], *b = &ev[((const struct ct_pgkey *)y)->idx];
    if (a->time_ns != b->time_ns)
        return a->time_ns < b->time_ns ? -1 : 1;
    return a->seq < b->seq ? -1 : a->seq > b->seq;
}

/* The events as keys into t->events in (page, time, file order) order: the
 * first key of a page is its first write. A stable sort by page of the
 * events in time order; those are in file order unless a clock went back
 * (threads), and then sorted first. */
static struct ct_pgkey *event_order(const struct ct_trace *t)
{
    size_t n = t->nevents;
    struct ct_pgkey *k = xmalloc((n ? n : 1) * sizeof *k);
    bool timed = true;
    for (size_t i = 0; i < n; i++) {
        k[i] = (struct ct_pgkey){ .pg = t->events[i].pg, .idx = (uint32_t)i };
        if (i && (t->events[i].time_ns < t->events[i - 1].time_ns || t->events[i].seq <= t->events[i - 1].seq))
            timed = false;
    }
    if (!timed)
        qsort_r(k, n, sizeof *k, cmp_event_time, t->events);
    ct_pgsort(k, n);
    return k;
}

/* The page summaries as keys in (page, file order) order: the last key of a
 * page is its latest entry. */
static struct ct_pgkey *summary_order(const struct ct_trace *t)
{
    size_t n = t->nsummaries;
    struct ct_pgkey *k = xmalloc((n ? n : 1) * sizeof *k);
    for (size_t i = 0; i < n; i++)
        k[i] = (struct ct_pgkey){ .pg = t->summaries[i].pg, .idx = (uint32_t)i };
    ct_pgsort(k, n);
    return k;
}

/* Is pg in the normalized list s? *cur only moves forward: callers ask in
 * increasing page order. */
static bool in_set(const struct ivl *s, size_t *cur, uint64_t pg)
{
    while (*cur < s->n && s->v[*cur].end <= pg)
        (*cur)++;
    return *cur < s->n && s->v[*cur].start <= pg;
}

/* counts[(type + 3) * CT_NCAUSES + cause]: the special ids are -1..-3. */
#define TYPE_SLOTS 5

static void add_types(struct ct_proc *p, const uint64_t *counts, size_t ntypes)
{
    size_t n = 0;
    for (size_t i = 0; i < (ntypes + TYPE_SLOTS) * CT_NCAUSES; i++)
        n += counts[i] != 0;
    p->types = xcalloc(n ? n : 1, sizeof *p->types);
    size_t k = 0;
    for (size_t i = 0; i < (ntypes + TYPE_SLOTS) * CT_NCAUSES; i++) {
        if (!counts[i])
            continue;
        struct ct_type_count *tc = &p->types[k++];
        tc->name = ct_type_name(p, (int32_t)(i / CT_NCAUSES) - TYPE_SLOTS, &tc->len);
        tc->cause = (uint32_t)(i % CT_NCAUSES);
        tc->pages = counts[i];
    }
    p->ntypes = ct_types_merge(p->types, k);
}

/* Pages by (stack, cause, type) while attributing. */
struct sc_entry {
    struct { uint32_t stack; int32_t type; uint32_t cause; } key;
    uint64_t pages;
    UT_hash_handle hh;
};

static void sc_add(struct sc_entry **h, struct sc_entry **last, uint32_t stack, int32_t type, uint32_t cause,
                   uint64_t pages)
{
    struct sc_entry probe, *e = *last;
    if (e && e->key.stack == stack && e->key.type == type && e->key.cause == cause) {
        e->pages += pages;
        return;
    }
    memset(&probe.key, 0, sizeof probe.key);
    probe.key.stack = stack;
    probe.key.type = type;
    probe.key.cause = cause;
    HASH_FIND(hh, *h, &probe.key, sizeof probe.key, e);
    if (!e) {
        e = xcalloc(1, sizeof *e);
        e->key = probe.key;
        HASH_ADD(hh, *h, key, sizeof e->key, e);
    }
    e->pages += pages;
    *last = e;
}

static int cmp_stack_count(const void *x, const void *y)
{
    const struct ct_stack_count *a = x, *b = y;
    if (a->pages != b->pages)
        return a->pages > b->pages ? -1 : 1;
    if (a->stack != b->stack)
        return a->stack < b->stack ? -1 : 1;
    if (a->cause != b->cause)
        return a->cause < b->cause ? -1 : 1;
    return a->type < b->type ? -1 : a->type > b->type;
}

static void sc_finish(struct ct_proc *p, struct sc_entry **h)
{
    struct sc_entry *e, *tmp;
    size_t n = HASH_COUNT(*h), k = 0;
    p->stack_counts = xcalloc(n ? n : 1, sizeof *p->stack_counts);
    HASH_ITER(hh, *h, e, tmp) {
        if (e->pages)
            p->stack_counts[k++] = (struct ct_stack_count){
                .stack = e->key.stack, .type = e->key.type, .cause = e->key.cause, .pages = e->pages,
            };
        HASH_DEL(*h, e);
        free(e);
    }
    qsort(p->stack_counts, k, sizeof *p->stack_counts, cmp_stack_count);
    p->nstack_counts = k;
}

void ct_attribute(struct ct_proc *p, const struct ivl *cow, const struct ivl *early, bool keep_pages)
{
    struct ct_trace *t = &p->t;
    p->layout = usable_layout(t);
    /* Without a layout, or with one that cannot find objects (a minor
     * known only by its _Py_DebugOffsets), causes are all unknown. */
    const struct ct_pyver *causes_layout = ct_pyver_knows_objects(p->layout) ? p->layout : NULL;
    p->causes_inferred = causes_layout && t->mode == CT_MODE_UFFD_ASYNC;
    uint64_t *counts = xcalloc((t->npytypes + TYPE_SLOTS) * CT_NCAUSES, sizeof *counts);
    struct sc_entry *sc = NULL, *sc_last = NULL;
#define COUNT(type, cause) counts[((size_t)((type) + TYPE_SLOTS)) * CT_NCAUSES + (cause)]
    if (!causes_layout && !t->nstacks) {
        sc_add(&sc, &sc_last, 0, CT_TYPE_NONE, CT_CAUSE_UNKNOWN, p->cow);
        sc_finish(p, &sc);
        p->causes[CT_CAUSE_UNKNOWN] = p->cow;
        COUNT(CT_TYPE_NONE, CT_CAUSE_UNKNOWN) = p->cow;
        add_types(p, counts, t->npytypes);
        free(counts);
        return;
    }

    /* Interpreter static data, decided once per region. */
    bool *interp = xcalloc(t->nregions ? t->nregions : 1, sizeof *interp);
    for (size_t i = 0; i < t->nregions; i++)
        interp[i] = ct_region_is_interpreter(&t->regions[i], &t->python);
    struct key_idx *by_addr = build_keys(t, true), *by_index = build_keys(t, false);
    struct ct_pgkey *eo = event_order(t), *so = summary_order(t);

    size_t i = 0, j = 0, ccur = 0, ecur = 0, npcs = 0, cap = 0;
    uint64_t attributed = 0;
    bool any_inferred = false;
    long ri = -1;
    uint64_t last_type_addr = 0;
    int32_t last_ti = -1;
    while (i < t->nevents || j < t->nsummaries) {
        uint64_t pg = i < t->nevents ? eo[i].pg : UINT64_MAX;
        if (j < t->nsummaries && so[j].pg < pg)
            pg = so[j].pg;
        const struct ct_event *e = i < t->nevents && eo[i].pg == pg ? &t->events[eo[i].idx] : NULL;
        const struct ct_summary *s = NULL;
        while (i < t->nevents && eo[i].pg == pg)
            i++;                            /* the first event is e; later ones are repeats */
        while (j < t->nsummaries && so[j].pg == pg)
            s = &t->summaries[so[j++].idx]; /* the latest entry wins */
        if (!in_set(cow, &ccur, pg) || in_set(early, &ecur, pg))
            continue;
        /* Pages come in address order: most are in the region before. */
        if (ri < 0 || pg < t->regions[ri].pg0 || pg - t->regions[ri].pg0 >= t->regions[ri].npages)
            ri = ct_trace_find_region(t, pg);
        if (ri < 0)
            continue;                       /* cow pages are in regions; a summary may not be */
        struct ct_verdict vd;
        int32_t type = CT_TYPE_NONE;
        if (!causes_layout) {
            vd = (struct ct_verdict){ CT_CAUSE_UNKNOWN, false };
        } else if (e) {
            /* Runs of pages hold objects of one type: look each address up once per run. */
            if (e->type != last_type_addr) {
                last_type_addr = e->type;
                last_ti = e->type ? lookup(by_addr, t->npytypes, e->type) : -1;
            }
            int32_t ti = last_ti;
            vd = ct_cause_of_write(p->layout, e, &t->regions[ri], interp[ri], ti >= 0 ? &t->pytypes[ti] : NULL);
            if (vd.typed)
                type = ti >= 0 ? ti : CT_TYPE_UNDEFINED;
            else if (vd.cause == CT_CAUSE_OBJECT && e->obj_how == CT_OBJ_VALUES)
                type = CT_TYPE_VALUES;
            else if (vd.cause == CT_CAUSE_OBJECT && e->obj_how == CT_OBJ_POINTERS)
                type = CT_TYPE_POINTERS;
        } else {
            any_inferred = true;
            int32_t ti = s->type_index ? lookup(by_index, t->npytypes, s->type_index) : -1;
            /* The process ran a full collection since the fork: snapshot's
             * flag, or uffd-async's PYGC record -- unless `run --gc-freeze`
             * froze everything inherited: a collection then writes no
             * inherited object's GC links. */
            bool collected = (t->python.flags & CT_PY_GC_COLLECTED) != 0 ||
                             (t->have_pygc && !(t->python.flags & CT_PY_GC_FROZEN));
            vd = ct_cause_of_summary(p->layout, s, &t->regions[ri], interp[ri], ti >= 0 ? &t->pytypes[ti] : NULL,
                                     collected);
            if (vd.typed)
                type = ti >= 0 ? ti : CT_TYPE_UNDEFINED;
        }
        p->causes[vd.cause]++;
        COUNT(type, vd.cause)++;
        uint32_t stack = e ? e->stack : 0;
        sc_add(&sc, &sc_last, stack, type, vd.cause, 1);
        attributed++;
        if (keep_pages) {
            if (npcs == cap) {
                cap = cap ? 2 * cap : 256;
                p->pcs = xreallocarray(p->pcs, cap, sizeof *p->pcs);
            }
            p->pcs[npcs++] = (struct ct_page_cause){
                .pg = pg, .type = type, .flags = e ? e->flags : 0, .cause = (uint8_t)vd.cause,
                .stack = stack,
            };
        }
    }
    p->npcs = npcs;
    p->causes_inferred = p->causes_inferred || any_inferred;

    /* Early pages are all cow; attributed pages are cow and not early.
     * Without a layout early pages are unknown like the rest. */
    uint64_t rest = p->cow - p->early - attributed;
    if (causes_layout) {
        p->causes[CT_CAUSE_OTHER] += p->early;
        COUNT(CT_TYPE_EARLY, CT_CAUSE_OTHER) += p->early;
        sc_add(&sc, &sc_last, 0, CT_TYPE_EARLY, CT_CAUSE_OTHER, p->early);
    } else
        rest += p->early;
    p->causes[CT_CAUSE_UNKNOWN] += rest;
    COUNT(CT_TYPE_NONE, CT_CAUSE_UNKNOWN) += rest;
    sc_add(&sc, &sc_last, 0, CT_TYPE_NONE, CT_CAUSE_UNKNOWN, rest);
    sc_finish(p, &sc);
#undef COUNT
    add_types(p, counts, t->npytypes);
    free(counts);
    free(by_addr);
    free(by_index);
    free(interp);
    free(eo);
    free(so);
}

int ct_type_key_cmp(const char *an, size_t alen, uint32_t acause, const char *bn, size_t blen, uint32_t bcause)
{
    if (!an != !bn)
        return an ? 1 : -1;
    if (an) {
        size_t n = alen < blen ? alen : blen;
        int c = memcmp(an, bn, n);
        if (c)
            return c;
        if (alen != blen)
            return alen < blen ? -1 : 1;
    }
    return acause < bcause ? -1 : acause > bcause;
}

static int cmp_name_cause(const void *x, const void *y)
{
    const struct ct_type_count *a = x, *b = y;
    return ct_type_key_cmp(a->name, a->len, a->cause, b->name, b->len, b->cause);
}

static int cmp_pages(const void *x, const void *y)
{
    const struct ct_type_count *a = x, *b = y;
    if (a->pages != b->pages)
        return a->pages > b->pages ? -1 : 1;
    return cmp_name_cause(x, y);
}

size_t ct_types_merge(struct ct_type_count *v, size_t n)
{
    qsort(v, n, sizeof *v, cmp_name_cause);
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        if (!v[i].pages)
            continue;
        if (k && cmp_name_cause(&v[k - 1], &v[i]) == 0)
            v[k - 1].pages += v[i].pages;
        else
            v[k++] = v[i];
    }
    qsort(v, k, sizeof *v, cmp_pages);
    return k;
}

static void push_seg(struct ct_seg **v, size_t *n, size_t *cap, struct ct_seg s)
{
    if (*n) {
        struct ct_seg *last = &(*v)[*n - 1];
        if (last->end == s.start && last->cow == s.cow && last->cause == s.cause && last->type == s.type
            && last->flags == s.flags && last->stack == s.stack) {
            last->end = s.end;
            return;
        }
    }
    if (*n == *cap) {
        *cap = *cap ? 2 * *cap : 64;
        *v = xreallocarray(*v, *cap, sizeof **v);
    }
    (*v)[(*n)++] = s;
}

struct ct_seg *ct_page_segments(const struct ct_proc *p, size_t *np)
{
    const struct ivl *c = &p->cow_set, *fr = &p->fresh_set, *ea = &p->early_set;
    struct ct_seg *v = NULL;
    size_t n = 0, cap = 0, i = 0, j = 0, k = 0, eu = 0;
    /* Without a layout early pages are unknown like the rest. */
    bool early_known = ct_pyver_knows_objects(p->layout);
    while (i < c->n || j < fr->n) {
        if (j < fr->n && (i >= c->n || fr->v[j].start < c->v[i].start)) {
            push_seg(&v, &n, &cap, (struct ct_seg){ fr->v[j].start, fr->v[j].end, false, 0, CT_TYPE_NONE, 0, 0 });
            j++;
            continue;
        }
        uint64_t x = c->v[i].start, e = c->v[i].end;
        while (x < e) {
            while (k < p->npcs && p->pcs[k].pg < x)
                k++;
            while (eu < ea->n && ea->v[eu].end <= x)
                eu++;
            struct ct_seg s = { x, e, true, CT_CAUSE_UNKNOWN, CT_TYPE_NONE, 0, 0 };
            if (early_known && eu < ea->n && ea->v[eu].start <= x) {
                s.end = ea->v[eu].end < e ? ea->v[eu].end : e;
                s.cause = CT_CAUSE_OTHER;
                s.type = CT_TYPE_EARLY;
            } else if (k < p->npcs && p->pcs[k].pg == x) {
                s.end = x + 1;
                s.cause = p->pcs[k].cause;
                s.type = p->pcs[k].type;
                s.flags = p->pcs[k].flags & CT_WRITE_KERNEL ? p->pcs[k].flags : 0;
                s.stack = p->pcs[k].stack;
            } else {
                if (k < p->npcs && p->pcs[k].pg < s.end)
                    s.end = p->pcs[k].pg;
                if (early_known && eu < ea->n && ea->v[eu].start < s.end)
                    s.end = ea->v[eu].start;
            }
            push_seg(&v, &n, &cap, s);
            x = s.end;
        }
        i++;
    }
    *np = n;
    return v;
}
