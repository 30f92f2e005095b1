/*
 * parentmap.c - see parentmap.h. The parent's copy-on-write mappings are
 * read CHUNK_PAGES at a time (the chunk buffer is the only memory that
 * depends on the read's size); each chunk's present entries are appended
 * to one array, with a run for each stretch of consecutive present pages,
 * so a lookup is a binary search for the first run and a copy.
 */
#include "parentmap.h"

#include <stdlib.h>
#include <string.h>

#include "procmem.h"
#include "util.h"

#define CHUNK_PAGES 16384u

static void add_page(struct ct_parentmap *pm, size_t *rcap, size_t *ecap, uint64_t pg, uint64_t entry)
{
    struct ct_parentmap_run *last = pm->nruns ? &pm->runs[pm->nruns - 1] : NULL;
    if (last && last->first + last->pages == pg)
        last->pages++;
    else {
        if (pm->nruns == *rcap) {
            *rcap = *rcap ? 2 * *rcap : 256;
            pm->runs = xreallocarray(pm->runs, *rcap, sizeof *pm->runs);
        }
        pm->runs[pm->nruns++] = (struct ct_parentmap_run){pg, 1, pm->nentries};
    }
    if (pm->frames) {
        if (pm->nentries == *ecap) {
            *ecap = *ecap ? 2 * *ecap : 4096;
            pm->entries = xreallocarray(pm->entries, *ecap, sizeof *pm->entries);
        }
        pm->entries[pm->nentries] = entry;
    }
    pm->nentries++;
}

int ct_parentmap_read(pid_t pid, unsigned page_shift, bool frames, struct ct_parentmap *pm)
{
    *pm = (struct ct_parentmap){.frames = frames};
    struct ct_vma *maps;
    size_t nmaps, rcap = 0, ecap = 0;
    int r = ct_live_maps(pid, &maps, &nmaps);
    if (r)
        return r;
    struct ct_pagemap qpm;
    if ((r = ct_pagemap_open(pid, &qpm))) {
        ct_live_maps_free(maps, nmaps);
        return r;
    }
    uint64_t *e = xmalloc(CHUNK_PAGES * sizeof *e);
    for (size_t i = 0; i < nmaps; i++) {
        if (!ct_vma_cow(&maps[i]))
            continue;
        uint64_t lo = maps[i].start, hi = maps[i].end;
        for (uint64_t a = lo; a < hi; a += (uint64_t)CHUNK_PAGES << page_shift) {
            uint64_t b = hi - a > ((uint64_t)CHUNK_PAGES << page_shift) ? a + ((uint64_t)CHUNK_PAGES << page_shift) : hi;
            size_t n = (size_t)((b - a) >> page_shift);
            if (ct_pagemap_read(&qpm, a, b, page_shift, e))
                continue;
            for (size_t k = 0; k < n; k++)
                if (e[k] & CT_PM_PRESENT)
                    add_page(pm, &rcap, &ecap, (a >> page_shift) + k, e[k]);
        }
    }
    free(e);
    ct_pagemap_close(&qpm);
    ct_live_maps_free(maps, nmaps);
    return 0;
}

void ct_parentmap_fill(const struct ct_parentmap *pm, uint64_t start, uint64_t end, unsigned page_shift,
                       uint64_t *e)
{
    if (end <= start)
        return;
    uint64_t first = start >> page_shift, last = end >> page_shift;
    memset(e, 0, (size_t)(last - first) * sizeof *e);
    /* the first run that ends after `first` */
    size_t lo = 0, hi = pm->nruns;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (pm->runs[mid].first + pm->runs[mid].pages <= first)
            lo = mid + 1;
        else
            hi = mid;
    }
    for (size_t i = lo; i < pm->nruns && pm->runs[i].first < last; i++) {
        const struct ct_parentmap_run *run = &pm->runs[i];
        uint64_t s = run->first > first ? run->first : first;
        uint64_t t = run->first + run->pages < last ? run->first + run->pages : last;
        if (pm->frames)
            memcpy(e + (s - first), pm->entries + run->at + (s - run->first), (size_t)(t - s) * sizeof *e);
        else
            for (uint64_t pg = s; pg < t; pg++)
                e[pg - first] = CT_PM_PRESENT;
    }
}

void ct_parentmap_free(struct ct_parentmap *pm)
{
    free(pm->runs);
    free(pm->entries);
    *pm = (struct ct_parentmap){0};
}
