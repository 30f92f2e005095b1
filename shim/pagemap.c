/*
 * pagemap.c - what the child inherited, page by page, from /proc/self/pagemap.
 *
 * One reading per child, before protection, gives two sets:
 *   PRESENT  pages mapped at fork: a later write to one is a copy (cow), a
 *            write to any other page populates new memory (fresh);
 *   EARLY    pages already exclusively mapped (bit 56): written between
 *            fork() and this reading, by libc's fork code or the shim's
 *            set-up.
 * The parent waits for this reading and no more (lifecycle.c): a page it
 * writes once released turns exclusive here too, and must not be read as
 * the child's. Between the reading and protection the child writes no
 * inherited page (the set-up runs on a stack of its own), so nothing the
 * child writes goes unseen: before the reading it is EARLY, after
 * protection the backend's.
 *
 * Promise: ct_pagemap_record_setup writes the PRESENT and EARLY run lists
 * of every tracked region, read in one pass (the kernel's walk of the page
 * tables is the cost, about the same for pread and PAGEMAP_SCAN), and
 * before anything is protected: write-protecting unpopulated memory installs
 * markers that pagemap reports as swap entries, indistinguishable from real
 * ones.
 */
#include <errno.h>

#include "ct_shim.h"
#include "kernel_compat.h"

#define CT_PM_CHUNK 8192u

/* Upper bound of the bytes ct_pagemap_record_setup writes: a run list
 * costs at most one byte per page (a LEB128 number n >= 1 takes at most n
 * bytes; only a list's first gap may be 0), each record of about 4 KB of it
 * some 32 bytes more; two lists per region. */
size_t ct_pagemap_setup_bytes(const struct ct_state *st)
{
    size_t total = 0;
    for (uint32_t i = 0; i < st->nregions; i++) {
        const struct ct_region *r = &st->regions[i];
        if (r->tracking != CT_TRACK_NONE)
            total += 2 * (r->npages + 2 + (r->npages + 2) / 64 + 64);
    }
    return total;
}

int ct_pagemap_record_setup(struct ct_state *st, struct ct_writer *w, const char **failed)
{
    *failed = NULL;
    if (!st->pm_buf) {
        st->pm_buf_len = CT_PM_CHUNK;
        st->pm_buf = ct_arena_alloc(CT_PM_CHUNK * sizeof(uint64_t));
        if (!st->pm_buf) {
            *failed = "cannot map memory for tracking";
            return -ENOMEM;
        }
    }
    struct ct_runs *present = &st->setup_runs, *early = &st->early_runs;
    for (uint32_t i = 0; i < st->nregions; i++) {
        struct ct_region *r = &st->regions[i];
        if (r->tracking == CT_TRACK_NONE)
            continue;
        ct_runs_begin(present, w, CT_REC_PRESENT, r->id);
        ct_runs_begin(early, w, CT_REC_EARLY, r->id);
        uint64_t first = r->start >> ct_cfg.page_shift;
        for (size_t page = 0; page < r->npages;) {
            size_t n = r->npages - page < CT_PM_CHUNK ? r->npages - page : CT_PM_CHUNK;
            long got = ct_pread(st->pagemap_fd, st->pm_buf, n * sizeof(uint64_t),
                                (long)((first + page) * sizeof(uint64_t)));
            if (got == -EINTR)
                continue;
            if (ct_is_err(got) || got == 0) {
                *failed = "cannot read /proc/self/pagemap";
                return ct_is_err(got) ? (int)got : -EIO;   /* an empty read: the kernel had nothing */
            }
            n = (size_t)got / sizeof(uint64_t);
            for (size_t k = 0; k < n; k++) {
                uint64_t e = st->pm_buf[k];
                if (e & (PM_ENTRY_PRESENT | PM_ENTRY_SWAPPED))
                    ct_runs_add(present, page + k, 1);
                if ((e & (PM_ENTRY_PRESENT | PM_ENTRY_EXCLUSIVE)) == (PM_ENTRY_PRESENT | PM_ENTRY_EXCLUSIVE))
                    ct_runs_add(early, page + k, 1);
            }
            page += n;
        }
        if (ct_runs_end(present) || ct_runs_end(early))
            return -ENOSPC;   /* the writer is full: *failed stays NULL */
    }
    return 0;
}
