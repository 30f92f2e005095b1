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
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "kernel_compat.h"

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
    bool can_scan;             /* PAGEMAP_SCAN works (pm.scan is turned off for inherited ranges) */
};

/* ---- what the last count found copied (ct_live_memo) ---------------------- */

struct span {
    uint64_t start, end;
};

struct spans {
    struct span *v;
    size_t n, cap;
};

struct memo_entry {
    pid_t pid, ppid;
    uint64_t start;            /* the worker's start time: a reused pid is another worker */
    uint64_t last_call;
    struct spans copied;       /* the last count's copied pages (anonymous, inherited), merged runs */
};

struct ct_live_memo {
    struct memo_entry *e;
    size_t n, cap;
    uint64_t calls;
};

struct ct_live_memo *ct_live_memo_new(void)
{
    return xcalloc(1, sizeof(struct ct_live_memo));
}

void ct_live_memo_free(struct ct_live_memo *m)
{
    if (!m)
        return;
    for (size_t i = 0; i < m->n; i++)
        free(m->e[i].copied.v);
    free(m->e);
    free(m);
}

static struct memo_entry *memo_find(struct ct_live_memo *m, pid_t pid, pid_t ppid, uint64_t start)
{
    for (size_t i = 0; i < m->n; i++)
        if (m->e[i].pid == pid && m->e[i].ppid == ppid && m->e[i].start == start)
            return &m->e[i];
    if (m->n == m->cap) {
        m->cap = m->cap ? 2 * m->cap : 16;
        m->e = xreallocarray(m->e, m->cap, sizeof *m->e);
    }
    m->e[m->n] = (struct memo_entry){.pid = pid, .ppid = ppid, .start = start};
    return &m->e[m->n++];
}

/* Entries of workers not counted for a long while (exited) go. */
static void memo_prune(struct ct_live_memo *m)
{
    size_t k = 0;
    for (size_t i = 0; i < m->n; i++) {
        if (m->e[i].last_call + 64 < m->calls) {
            free(m->e[i].copied.v);
            continue;
        }
        m->e[k++] = m->e[i];
    }
    m->n = k;
}

static void spans_add(struct spans *s, uint64_t a, uint64_t b)
{
    if (s->n && s->v[s->n - 1].end == a) {
        s->v[s->n - 1].end = b;
        return;
    }
    if (s->n == s->cap) {
        s->cap = s->cap ? 2 * s->cap : 64;
        s->v = xreallocarray(s->v, s->cap, sizeof *s->v);
    }
    s->v[s->n++] = (struct span){a, b};
}

/* Does one span of s hold all of [a, b)? *cur only moves forward (the
 * callers ask in address order). */
static bool spans_cover(const struct spans *s, size_t *cur, uint64_t a, uint64_t b)
{
    while (*cur < s->n && s->v[*cur].end <= a)
        (*cur)++;
    return *cur < s->n && s->v[*cur].start <= a && s->v[*cur].end >= b;
}

/* The present parts of a range, from one PAGEMAP_SCAN, which looks at no
 * page's struct (measured: a tenth of the cost of reading the entries). */
#define PRESENT_REGIONS 64

struct present_set {
    bool asked, valid;
    long n;
    struct page_region r[PRESENT_REGIONS];
};

static void present_fill(struct present_set *ps, const struct sibling *sb, uint64_t a, uint64_t b)
{
    ps->asked = true;
    ps->valid = false;
    if (!sb->can_scan)
        return;
    struct pm_scan_arg arg = {
        .size = sizeof arg, .start = a, .end = b, .vec = (uintptr_t)ps->r, .vec_len = PRESENT_REGIONS,
        .category_mask = PAGE_IS_PRESENT, .return_mask = PAGE_IS_PRESENT | PAGE_IS_PFNZERO,
    };
    ps->n = ioctl(sb->pm.fd, PAGEMAP_SCAN, &arg);
    /* A full vector may have stopped short: then it cannot tell. */
    ps->valid = ps->n >= 0 && (ps->n < PRESENT_REGIONS || arg.walk_end >= b);
}

/* Is every page of [a, b) present, none of them the shared zero page? */
static bool present_all(const struct present_set *ps, uint64_t a, uint64_t b)
{
    for (long i = 0; ps->valid && i < ps->n; i++)
        if (ps->r[i].start <= a && ps->r[i].end >= b)
            return !(ps->r[i].categories & PAGE_IS_PFNZERO);
    return false;
}

/* Can a page this worker copied have become shared again since? Not in
 * anonymous memory, where the parent's frame can reach the worker only
 * through fork: unless KSM merges identical pages (then every page is
 * counted afresh). With frame numbers only (exact): the exclusively-mapped
 * bit also changes when a worker forks. */
static bool memo_usable(bool exact)
{
    if (!exact)
        return false;
    FILE *f = fopen("/sys/kernel/mm/ksm/run", "re");
    int run = 0;
    if (f) {
        if (fscanf(f, "%d", &run) != 1)
            run = 1;
        fclose(f);
    }
    return run == 0;
}

/* Memory no file backs ([heap], [stack], pymalloc's arenas): a page there
 * is the worker's own or the parent's, never a file's page cache. */
static bool anonymous(const struct ct_vma *q)
{
    return !q->inode && q->name[0] != '/';
}

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

static int by_start(const void *a, const void *b)
{
    const struct seg *x = a, *y = b;
    return x->start < y->start ? -1 : x->start > y->start;
}

static int count_siblings(struct ct_live_memo *memo, pid_t parent, const pid_t *pids, const uint64_t *starts,
                          size_t n, bool exact, struct ct_live_counts *c)
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
    /* This count's copied pages, for the next one (memo), and the last's. */
    struct memo_entry **known = xcalloc(n ? n : 1, sizeof *known);
    struct spans *found = xcalloc(n ? n : 1, sizeof *found);
    size_t *cursor = xcalloc(n ? n : 1, sizeof *cursor);
    if (memo) {
        memo->calls++;
        for (size_t i = 0; i < n; i++) {
            known[i] = memo_find(memo, pids[i], parent, starts[i]);
            known[i]->last_call = memo->calls;
        }
    }
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
                if (q && q->start <= at && ct_vma_inherited(q, m)) {
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
    par.can_scan = par.pm.scan;
    par.pm.scan = false;
    for (size_t i = 0; i < n; i++) {
        sib[i].can_scan = sib[i].pm.scan;
        sib[i].pm.scan = false;
    }
    bool use_memo = memo && memo_usable(exact);
    uint64_t span = (uint64_t)CHUNK_PAGES << shift;
    size_t first = 0;          /* segments before it end before the current chunk */
    for (size_t j = 0; j < par.nmaps && !r; j++) {
        const struct ct_vma *q = &par.maps[j];
        if (!ct_vma_cow(q))
            continue;
        for (uint64_t a = q->start; a < q->end && !r; a += span) {
            uint64_t b = q->end - a > span ? a + span : q->end;
            bool parent_read = false;
            struct present_set parent_present = {.asked = false};
            while (first < nsegs && segs[first].end <= a && segs[first].start < a)
                first++;
            for (size_t k = first; k < nsegs && segs[k].start < b; k++) {
                const struct seg *g = &segs[k];
                if (g->pvma != j || g->end <= a || c[g->worker].error)
                    continue;
                uint64_t s = g->start > a ? g->start : a, t = g->end < b ? g->end : b;
                struct ct_live_counts *cc = &c[g->worker];
                /* Piece by piece: a range copied last time whose every page
                 * is still there in both is still copied (memo_usable), and
                 * costs two PAGEMAP_SCAN calls, not an entry per page
                 * (measured: a tenth of the cost); the rest is read. */
                const struct spans *old = use_memo && anonymous(q) ? &known[g->worker]->copied : NULL;
                struct spans *now = old ? &found[g->worker] : NULL;
                struct present_set worker_present = {.asked = false};
                for (uint64_t x = s, y; x < t && !r && !cc->error; x = y) {
                    bool copied_before = old && spans_cover(old, &cursor[g->worker], x, x + 1);
                    if (copied_before)
                        y = old->v[cursor[g->worker]].end < t ? old->v[cursor[g->worker]].end : t;
                    else
                        y = old && cursor[g->worker] < old->n && old->v[cursor[g->worker]].start < t ?
                            old->v[cursor[g->worker]].start : t;
                    if (copied_before && !worker_present.asked)
                        present_fill(&worker_present, &sib[g->worker], s, t);
                    if (copied_before && !parent_present.asked)
                        present_fill(&parent_present, &par, a, b);
                    if (copied_before && present_all(&worker_present, x, y) && present_all(&parent_present, x, y)) {
                        cc->copied += (y - x) >> shift;
                        cc->remembered += (y - x) >> shift;
                        spans_add(now, x, y);
                        continue;
                    }
                    if (!parent_read) {
                        if ((r = ct_pagemap_read(&par.pm, a, b, shift, pe)))
                            break;
                        parent_read = true;
                    }
                    if ((cc->error = ct_pagemap_read(&sib[g->worker].pm, x, y, shift, we)))
                        break;
                    const uint64_t *p = pe + ((x - a) >> shift);
                    for (size_t i = 0; i < (size_t)((y - x) >> shift); i++)
                        if (we[i] & CT_PM_PRESENT) {
                            enum ct_page_class k = ct_page_classify(we[i], p[i], exact);
                            tally(cc, k);
                            if (now && k == CT_PAGE_COPIED)
                                spans_add(now, x + ((uint64_t)i << shift), x + ((uint64_t)(i + 1) << shift));
                        }
                }
                if (r)
                    break;
            }
        }
    }
    /* What this count found is what the next one knows; a worker that
     * could not be read, or a count that failed, leaves nothing known. */
    for (size_t i = 0; memo && i < n; i++) {
        free(known[i]->copied.v);
        known[i]->copied = (struct spans){0};
        if (!r && !c[i].error && use_memo)
            known[i]->copied = found[i];
        else
            free(found[i].v);
    }
    if (memo)
        memo_prune(memo);
    free(known);
    free(found);
    free(cursor);
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

int ct_live_count_siblings(pid_t parent, const pid_t *pids, size_t n, bool exact, struct ct_live_counts *c)
{
    return count_siblings(NULL, parent, pids, NULL, n, exact, c);
}

int ct_live_count_siblings_memo(struct ct_live_memo *memo, pid_t parent, const pid_t *pids, const uint64_t *starts,
                                size_t n, bool exact, struct ct_live_counts *c)
{
    return count_siblings(memo, parent, pids, starts, n, exact, c);
}
