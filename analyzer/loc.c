/*
 * loc.c - see loc.h. Two hash tables: locations by name, and (location,
 * cause, type name) by name, from which each location's main pair is
 * taken. The cost is one lookup per (stack, cause, type) count, never per
 * page.
 */
#include "loc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <uthash.h>

#include "strbuf.h"
#include "textsafe.h"
#include "util.h"
#include "where.h"

struct loc_entry {
    char *key;
    size_t keylen;
    struct ct_loc loc;
    UT_hash_handle hh;
};

struct pair_entry {
    char *key;
    size_t keylen;
    struct loc_entry *at;
    uint32_t cause;
    const char *type;
    size_t type_len;
    uint64_t pages;
    UT_hash_handle hh;
};

/* Fills loc with the innermost frame of the kind asked; false if the stack
 * has none. The key names the location: equal keys, equal locations. */
static bool innermost(const struct ct_proc *p, const struct ct_rstack *rs, bool python, struct ct_loc *loc,
                      struct strbuf *key)
{
    memset(loc, 0, sizeof *loc);
    sb_reset(key);
    if (python) {
        if (!rs->np || rs->flags & CT_STACK_NO_PYTHON)
            return false;
        const struct ct_pframe *f = &p->where->pframes[rs->p0];
        loc->line = f->line;
        if (f->pycode >= 0) {
            loc->func = f->qualname;
            loc->func_len = f->qualname_len;
            loc->file = f->filename;
            loc->file_len = f->filename_len;
        } else
            loc->code = f->code;
        sb_add(key, "P", 1);
    } else {
        if (!rs->nn)
            return false;
        const struct ct_nframe *f = &p->where->nframes[rs->n0];
        if (f->module >= 0) {
            loc->module = f->module_base;
            loc->module_len = f->module_base_len;
        }
        if (f->func) {
            loc->func = f->func;
            loc->func_len = strlen(f->func);
        } else
            loc->off = f->off;
        sb_add(key, "N", 1);
    }
    /* Lengths first: the strings may hold any bytes, NULs included. */
    sb_addf(key, "%zu:%zu:%zu:%d:%llx:%llx:", loc->func_len, loc->file_len, loc->module_len, loc->line,
            (unsigned long long)loc->off, (unsigned long long)loc->code);
    if (loc->func)
        sb_add(key, loc->func, loc->func_len);
    if (loc->file)
        sb_add(key, loc->file, loc->file_len);
    if (loc->module)
        sb_add(key, loc->module, loc->module_len);
    return true;
}

static int bytes_cmp(const char *a, size_t an, const char *b, size_t bn)
{
    if (!a || !b)
        return !a - !b;
    int c = memcmp(a, b, an < bn ? an : bn);
    return c ? c : an < bn ? -1 : an > bn;
}

static int cmp_loc(const void *x, const void *y)
{
    const struct ct_loc *a = x, *b = y;
    if (a->pages != b->pages)
        return a->pages > b->pages ? -1 : 1;
    int c = bytes_cmp(a->file, a->file_len, b->file, b->file_len);
    if (!c)
        c = a->line < b->line ? -1 : a->line > b->line;
    if (!c)
        c = bytes_cmp(a->func, a->func_len, b->func, b->func_len);
    if (!c)
        c = bytes_cmp(a->module, a->module_len, b->module, b->module_len);
    if (!c)
        c = a->off < b->off ? -1 : a->off > b->off;
    if (!c)
        c = a->code < b->code ? -1 : a->code > b->code;
    return c;
}

/* Is pair a a better main pair than the current one of its location? */
static bool better(const struct pair_entry *a, const struct ct_loc *cur)
{
    if (a->pages != cur->main_pages)
        return a->pages > cur->main_pages;
    if (a->cause != cur->cause)
        return a->cause < cur->cause;
    return bytes_cmp(a->type, a->type_len, cur->type, cur->type_len) < 0;
}

static void add_proc(const struct ct_proc *p, bool python, struct loc_entry **locs, struct pair_entry **pairs,
                     struct ct_locs *out, struct strbuf *key)
{
    if (!p->where) {
        for (size_t k = 0; k < p->nstack_counts; k++)
            out->no_stack += p->stack_counts[k].pages;
        return;
    }
    for (size_t k = 0; k < p->nstack_counts; k++) {
        const struct ct_stack_count *sc = &p->stack_counts[k];
        if (!sc->stack) {
            out->no_stack += sc->pages;
            continue;
        }
        struct ct_loc loc;
        if (!innermost(p, &p->where->stacks[sc->stack - 1], python, &loc, key)) {
            out->no_frame += sc->pages;
            continue;
        }
        struct loc_entry *le;
        HASH_FIND(hh, *locs, key->s, key->len, le);
        if (!le) {
            le = xcalloc(1, sizeof *le);
            le->key = xmemdup0(key->s, key->len);
            le->keylen = key->len;
            le->loc = loc;
            HASH_ADD_KEYPTR(hh, *locs, le->key, le->keylen, le);
        }
        le->loc.pages += sc->pages;
        size_t tlen;
        const char *tname = ct_type_name(p, sc->type, &tlen);
        sb_addf(key, "\n%u:%d:", sc->cause, tname != NULL);
        if (tname)
            sb_add(key, tname, tlen);
        struct pair_entry *pe;
        HASH_FIND(hh, *pairs, key->s, key->len, pe);
        if (!pe) {
            pe = xcalloc(1, sizeof *pe);
            pe->key = xmemdup0(key->s, key->len);
            pe->keylen = key->len;
            pe->at = le;
            pe->cause = sc->cause;
            pe->type = tname;
            pe->type_len = tlen;
            HASH_ADD_KEYPTR(hh, *pairs, pe->key, pe->keylen, pe);
        }
        pe->pages += sc->pages;
    }
}

void ct_locations(const struct ct_run *r, long proc, bool python, struct ct_locs *out)
{
    memset(out, 0, sizeof *out);
    struct loc_entry *locs = NULL, *le, *lt;
    struct pair_entry *pairs = NULL, *pe, *pt;
    struct strbuf key;
    sb_init(&key);
    for (size_t i = 0; i < r->nprocs; i++)
        if (proc < 0 || (size_t)proc == i)
            add_proc(&r->procs[i], python, &locs, &pairs, out, &key);
    sb_free(&key);
    HASH_ITER(hh, pairs, pe, pt) {
        struct ct_loc *l = &pe->at->loc;
        if (better(pe, l)) {
            l->main_pages = pe->pages;
            l->cause = pe->cause;
            l->type = pe->type;
            l->type_len = pe->type_len;
        }
        HASH_DEL(pairs, pe);
        free(pe->key);
        free(pe);
    }
    out->n = HASH_COUNT(locs);
    out->v = xcalloc(out->n ? out->n : 1, sizeof *out->v);
    size_t k = 0;
    HASH_ITER(hh, locs, le, lt) {
        out->v[k++] = le->loc;
        HASH_DEL(locs, le);
        free(le->key);
        free(le);
    }
    qsort(out->v, out->n, sizeof *out->v, cmp_loc);
}

void ct_locs_free(struct ct_locs *l)
{
    free(l->v);
    memset(l, 0, sizeof *l);
}

void ct_region_label(const struct ct_region *r, char *out, size_t outlen)
{
    if (r->name.len == 0) {
        snprintf(out, outlen, "%s", ct_kind_name(r->kind));
        return;
    }
    size_t len = r->name.len;
    const char *s = ct_basename(r->name.s, &len);
    ct_text_clean(s, len, out, outlen);
}
