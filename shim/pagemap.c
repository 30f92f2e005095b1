/*
 * pagemap.c - what the child inherited, page by page, from /proc/self/pagemap.
 *
 * Runs twice per child:
 *   PRESENT  (before protection) pages mapped at fork: a later write to one
 *            is a copy (cow), a write to any other page populates new memory
 *            (fresh);
 *   EARLY    (after protection) pages already exclusively mapped (bit 56):
 *            written between fork() and the moment protection took hold, by
 *            libc's fork code or the shim's set-up. Reading after protecting
 *            closes the gap: a page written later is caught by the backend.
 * A page the parent rewrites in that window also turns exclusive here; the
 * report shows EARLY separately so such noise stays visible.
 */
#include <errno.h>

#include "ct_shim.h"
#include "kernel_compat.h"

#define CT_PM_CHUNK 8192u

/* One pass over the tracked regions' pagemap entries, feeding a run list. */
static int pass(struct ct_state *st, uint32_t type, uint64_t want_any, uint64_t want_all)
{
    struct ct_runs *runs = &st->setup_runs;
    for (uint32_t i = 0; i < st->nregions; i++) {
        struct ct_region *r = &st->regions[i];
        if (r->tracking == CT_TRACK_NONE)
            continue;
        ct_runs_begin(runs, &st->w, type, r->id);
        uint64_t first = r->start >> ct_cfg.page_shift;
        for (size_t page = 0; page < r->npages;) {
            size_t n = r->npages - page < CT_PM_CHUNK ? r->npages - page : CT_PM_CHUNK;
            long got = ct_pread(st->pagemap_fd, st->pm_buf, n * sizeof(uint64_t),
                                (long)((first + page) * sizeof(uint64_t)));
            if (got == -EINTR)
                continue;
            if (ct_is_err(got) || got == 0)
                return ct_is_err(got) ? (int)got : -EIO;
            n = (size_t)got / sizeof(uint64_t);
            for (size_t k = 0; k < n; k++) {
                uint64_t e = st->pm_buf[k];
                if ((e & want_any) && (e & want_all) == want_all)
                    ct_runs_add(runs, page + k, 1);
            }
            page += n;
        }
        if (ct_runs_end(runs))
            return -ENOSPC;
    }
    return 0;
}

/* The same with PAGEMAP_SCAN (Linux 6.7+), which skips holes in the kernel
 * and returns ranges: several times faster on large sparse regions. */
static int scan_present(struct ct_state *st)
{
    struct ct_runs *runs = &st->setup_runs;
    struct page_region *vec = (struct page_region *)st->pm_buf;
    size_t vec_len = st->pm_buf_len * sizeof(uint64_t) / sizeof *vec;
    for (uint32_t i = 0; i < st->nregions; i++) {
        struct ct_region *r = &st->regions[i];
        if (r->tracking == CT_TRACK_NONE)
            continue;
        ct_runs_begin(runs, &st->w, CT_REC_PRESENT, r->id);
        uint64_t at = r->start;
        while (at < r->end) {
            struct pm_scan_arg arg = {
                .size = sizeof arg,
                .start = at,
                .end = r->end,
                .vec = (uintptr_t)vec,
                .vec_len = vec_len,
                .category_anyof_mask = PAGE_IS_PRESENT | PAGE_IS_SWAPPED,
                .return_mask = PAGE_IS_PRESENT | PAGE_IS_SWAPPED,
            };
            long n = ct_ioctl(st->pagemap_fd, PAGEMAP_SCAN, &arg);
            if (n == -EINTR || n == -EAGAIN)
                continue;
            if (ct_is_err(n))
                return (int)n;
            for (long k = 0; k < n; k++)
                ct_runs_add(runs, (vec[k].start - r->start) >> ct_cfg.page_shift,
                            (vec[k].end - vec[k].start) >> ct_cfg.page_shift);
            if (arg.walk_end <= at || arg.walk_end >= r->end)
                break;
            at = arg.walk_end;
        }
        if (ct_runs_end(runs))
            return -ENOSPC;
    }
    return 0;
}

/* Before protection: write-protecting unpopulated memory installs markers
 * that pagemap reports as swap entries, indistinguishable from real ones. */
int ct_pagemap_record_present(struct ct_state *st)
{
    if (!st->pm_buf) {
        st->pm_buf_len = CT_PM_CHUNK;
        st->pm_buf = ct_arena_alloc(CT_PM_CHUNK * sizeof(uint64_t));
        if (!st->pm_buf)
            return -ENOMEM;
    }
    if (ct_kerndat_pagemap_scan_known())   /* a backend's probe found it */
        return scan_present(st);
    return pass(st, CT_REC_PRESENT, PM_ENTRY_PRESENT | PM_ENTRY_SWAPPED, 0);
}

/* After protection: anything exclusive now was written before it held. */
int ct_pagemap_record_early(struct ct_state *st)
{
    if (!st->pm_buf)
        return -ENOMEM;
    return pass(st, CT_REC_EARLY, PM_ENTRY_PRESENT, PM_ENTRY_PRESENT | PM_ENTRY_EXCLUSIVE);
}
