/*
 * livecount.c - see livecount.h. Each worker's copy-on-write mappings are
 * cut into segments: inherited (the parent has the same mapping there) and
 * its own (nothing of the parent's to compare with: counted at once).
 * Inherited segments are then walked chunk by chunk of the parent's
 * mappings: one pagemap read of the parent per chunk, then one of each
 * worker whose segment overlaps it. Memory use is a chunk of entries per
 * process, whatever the address space.
 */
#include "livecount.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "procmem.h"
#include "testhook.h"
#include "util.h"

#define CHUNK_PAGES 1024u

struct seg {
    size_t worker, pvma;
    uint64_t start, end;
};

struct sibling {
    struct ct_vma *maps;
    size_t nmaps;
    struct ct_pagemap pm;
};

static void tally(struct ct_live_counts *c, enum ct_page_class k)
{
    c->shared += k == CT_PAGE_SHARED;
    c->copied += k == CT_PAGE_COPIED;
    c->fresh += k == CT_PAGE_FRESH;
}

/* Pages of [a, b) with nothing of the parent's to compare with. */
static int count_own(struct sibling *s, uint64_t a, uint64_t b, unsigned shift, bool exact, uint64_t *e,
                     struct ct_live_counts *c)
{
    uint64_t span = (uint64_t)CHUNK_PAGES << shift;
    for (; a < b; a += span) {
        uint64_t t = b - a > span ? a + span : b;
        int r = ct_pagemap_read(&s->pm, a, t, shift, e);
        if (r)
            return r;
        for (size_t k = 0; k < (size_t)((t - a) >> shift); k++)
            if (e[k] & CT_PM_PRESENT)
                tally(c, ct_page_classify(e[k], 0, exact));
    }
    return 0;
}

/* Is the parent's mapping q the worker's mapping w inherited across the
 * fork (as snapshot.c's inherited())? */
static bool same_mapping(const struct ct_vma *q, const struct ct_vma *w)
{
    return ct_vma_cow(q) && q->inode == w->inode && !strcmp(q->name, w->name) &&
           q->offset - q->start == w->offset - w->start;
}

static int by_start(const void *a, const void *b)
{
    const struct seg *x = a, *y = b;
    return x->start < y->start ? -1 : x->start > y->start;
}

int ct_live_count_siblings(pid_t parent, const pid_t *pids, size_t n, bool exact, struct ct_live_counts *c)
{
    memset(c, 0, n * sizeof *c);
    long ps = sysconf(_SC_PAGESIZE);
    unsigned shift = (unsigned)__builtin_ctzl(ps > 0 ? (unsigned long)ps : 4096ul);
    struct sibling par = {.pm = {.fd = -1}};
    int r = ct_live_maps(parent, &par.maps, &par.nmaps);
    if (!r && (r = ct_pagemap_open(parent, &par.pm)))
        ct_live_maps_free(par.maps, par.nmaps);
    if (r)
        return r;
    struct sibling *sib = xcalloc(n ? n : 1, sizeof *sib);
    uint64_t *pe = xmalloc(CHUNK_PAGES * sizeof *pe), *we = xmalloc(CHUNK_PAGES * sizeof *we);
    struct seg *segs = NULL;
    size_t nsegs = 0, capsegs = 0;
    for (size_t i = 0; i < n; i++) {
        struct sibling *s = &sib[i];
        s->pm.fd = -1;
        if ((c[i].error = ct_live_maps(pids[i], &s->maps, &s->nmaps)))
            continue;
        if ((c[i].error = ct_pagemap_open(pids[i], &s->pm)))
            continue;
        ct_test_pause(CT_PAUSE_COUNTING, pids[i]);
        size_t j = 0;
        for (size_t v = 0; v < s->nmaps && !c[i].error; v++) {
            const struct ct_vma *m = &s->maps[v];
            if (!ct_vma_cow(m))
                continue;
            for (uint64_t at = m->start; at < m->end && !c[i].error;) {
                while (j < par.nmaps && par.maps[j].end <= at)
                    j++;
                const struct ct_vma *q = j < par.nmaps ? &par.maps[j] : NULL;
                if (q && q->start <= at && same_mapping(q, m)) {
                    uint64_t end = q->end < m->end ? q->end : m->end;
                    if (nsegs == capsegs) {
                        capsegs = capsegs ? 2 * capsegs : 64;
                        segs = xreallocarray(segs, capsegs, sizeof *segs);
                    }
                    segs[nsegs++] = (struct seg){i, j, at, end};
                    at = end;
                } else {
                    uint64_t end = !q ? m->end : q->start > at ? q->start : q->end;
                    if (end > m->end)
                        end = m->end;
                    c[i].error = count_own(s, at, end, shift, exact, we, &c[i]);
                    at = end;
                }
            }
        }
    }
    if (nsegs)
        qsort(segs, nsegs, sizeof *segs, by_start);
    /* Inherited ranges are mostly present (the parent's heap, shared or
     * copied): asking PAGEMAP_SCAN first for the present parts would only
     * walk the page tables twice (measured: a tenth of the time). */
    par.pm.scan = false;
    for (size_t i = 0; i < n; i++)
        sib[i].pm.scan = false;
    uint64_t span = (uint64_t)CHUNK_PAGES << shift;
    size_t first = 0;          /* segments before it end before the current chunk */
    for (size_t j = 0; j < par.nmaps && !r; j++) {
        const struct ct_vma *q = &par.maps[j];
        if (!ct_vma_cow(q))
            continue;
        for (uint64_t a = q->start; a < q->end && !r; a += span) {
            uint64_t b = q->end - a > span ? a + span : q->end;
            bool parent_read = false;
            while (first < nsegs && segs[first].end <= a && segs[first].start < a)
                first++;
            for (size_t k = first; k < nsegs && segs[k].start < b; k++) {
                const struct seg *g = &segs[k];
                if (g->pvma != j || g->end <= a || c[g->worker].error)
                    continue;
                if (!parent_read) {
                    if ((r = ct_pagemap_read(&par.pm, a, b, shift, pe)))
                        break;
                    parent_read = true;
                }
                uint64_t s = g->start > a ? g->start : a, t = g->end < b ? g->end : b;
                struct ct_live_counts *cc = &c[g->worker];
                if ((cc->error = ct_pagemap_read(&sib[g->worker].pm, s, t, shift, we)))
                    continue;
                const uint64_t *p = pe + ((s - a) >> shift);
                for (size_t x = 0; x < (size_t)((t - s) >> shift); x++)
                    if (we[x] & CT_PM_PRESENT)
                        tally(cc, ct_page_classify(we[x], p[x], exact));
            }
        }
    }
    for (size_t i = 0; i < n; i++) {
        ct_pagemap_close(&sib[i].pm);
        ct_live_maps_free(sib[i].maps, sib[i].nmaps);
    }
    free(sib);
    free(segs);
    free(pe);
    free(we);
    ct_pagemap_close(&par.pm);
    ct_live_maps_free(par.maps, par.nmaps);
    return r;
}
