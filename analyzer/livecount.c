/*
 * livecount.c - see livecount.h. The worker's pagemap is read in chunks of
 * CHUNK_PAGES, so memory use does not grow with its address space; the
 * parent's entries are held whole for its copy-on-write mappings only (8
 * bytes a page: 2 MiB for a 1 GiB heap), because every worker of the
 * sample is compared with them.
 */
#include "livecount.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "util.h"

#define CHUNK_PAGES 16384u

static unsigned page_shift(void)
{
    long ps = sysconf(_SC_PAGESIZE);
    return (unsigned)__builtin_ctzl(ps > 0 ? (unsigned long)ps : 4096ul);
}

int ct_live_view_read(pid_t pid, struct ct_live_view *v)
{
    memset(v, 0, sizeof *v);
    v->pid = pid;
    int r = ct_live_maps(pid, &v->maps, &v->nmaps);
    if (r)
        return r;
    struct ct_pagemap pm;
    if ((r = ct_pagemap_open(pid, &pm))) {
        ct_live_view_free(v);
        return r;
    }
    unsigned shift = page_shift();
    v->entries = xcalloc(v->nmaps, sizeof *v->entries);
    for (size_t i = 0; i < v->nmaps && !r; i++) {
        if (!ct_vma_cow(&v->maps[i]))
            continue;
        size_t n = (size_t)((v->maps[i].end - v->maps[i].start) >> shift);
        v->entries[i] = xcalloc(n ? n : 1, sizeof **v->entries);
        r = ct_pagemap_read(&pm, v->maps[i].start, v->maps[i].end, shift, v->entries[i]);
    }
    ct_pagemap_close(&pm);
    if (r)
        ct_live_view_free(v);
    return r;
}

void ct_live_view_free(struct ct_live_view *v)
{
    for (size_t i = 0; v->entries && i < v->nmaps; i++)
        free(v->entries[i]);
    free(v->entries);
    ct_live_maps_free(v->maps, v->nmaps);
    memset(v, 0, sizeof *v);
}

/* The parent's mapping holding [addr, ...) if it is w inherited across the
 * fork (as snapshot.c's inherited()): cow in both, same file (or none) at
 * the same offset. *cur only moves forward. */
static const struct ct_vma *inherited(const struct ct_live_view *p, size_t *cur, const struct ct_vma *w, uint64_t addr)
{
    while (*cur < p->nmaps && p->maps[*cur].end <= addr)
        (*cur)++;
    if (*cur >= p->nmaps || p->maps[*cur].start > addr)
        return NULL;
    const struct ct_vma *m = &p->maps[*cur];
    if (!p->entries[*cur] || m->inode != w->inode || strcmp(m->name, w->name) ||
        m->offset + (addr - m->start) != w->offset + (addr - w->start))
        return NULL;
    return m;
}

int ct_live_count(pid_t pid, const struct ct_live_view *parent, bool exact, struct ct_live_counts *c)
{
    memset(c, 0, sizeof *c);
    struct ct_vma *maps;
    size_t nmaps;
    int r = ct_live_maps(pid, &maps, &nmaps);
    if (r)
        return r;
    struct ct_pagemap pm;
    if ((r = ct_pagemap_open(pid, &pm))) {
        ct_live_maps_free(maps, nmaps);
        return r;
    }
    unsigned shift = page_shift();
    uint64_t *we = xmalloc(CHUNK_PAGES * sizeof *we), span = (uint64_t)CHUNK_PAGES << shift;
    size_t cur = 0;
    for (size_t i = 0; i < nmaps && !r; i++) {
        const struct ct_vma *m = &maps[i];
        if (!ct_vma_cow(m))
            continue;
        for (uint64_t a = m->start; a < m->end && !r; a += span) {
            uint64_t b = m->end - a > span ? a + span : m->end;
            if ((r = ct_pagemap_read(&pm, a, b, shift, we)))
                break;
            size_t n = (size_t)((b - a) >> shift);
            for (size_t k = 0; k < n; k++) {
                if (!(we[k] & CT_PM_PRESENT))
                    continue;
                uint64_t addr = a + ((uint64_t)k << shift), q = 0;
                const struct ct_vma *pmap = inherited(parent, &cur, m, addr);
                if (pmap)
                    q = parent->entries[cur][(addr - pmap->start) >> shift];
                switch (ct_page_classify(we[k], q, exact)) {
                case CT_PAGE_SHARED: c->shared++; break;
                case CT_PAGE_COPIED: c->copied++; break;
                case CT_PAGE_FRESH: c->fresh++; break;
                case CT_PAGE_ABSENT: break;
                }
            }
        }
    }
    free(we);
    ct_pagemap_close(&pm);
    ct_live_maps_free(maps, nmaps);
    return r;
}
