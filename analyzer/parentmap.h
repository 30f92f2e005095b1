/*
 * parentmap.h - a parent's page map, read once for all its workers.
 *
 * Promise: the entries of the present pages of a process's copy-on-write
 * mappings (private and writable: the only ones a worker's page is
 * compared with), read from /proc/PID/pagemap once, in chunks (PAGEMAP_SCAN
 * where the kernel has it), then looked up by address range as often as
 * wanted, by any number of threads at once (nothing changes after the
 * read). Each lookup answers what ct_pagemap_read of the parent's page map
 * would have answered at the time of the read, as far as
 * ct_page_classify looks at it: the present bit, and the frame number
 * when frames were kept (as root). Memory: 8 bytes per present page kept
 * with frames (2 MiB per GiB of the parent's resident memory), a few
 * bytes per run of present pages without; never per page of address
 * space. A read of a chunk that fails leaves that chunk absent, as a
 * failed read of the parent's page map did in snapshot.c.
 */
#ifndef COWTRACE_PARENTMAP_H
#define COWTRACE_PARENTMAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct ct_parentmap_run {
    uint64_t first, pages;     /* page numbers [first, first + pages) */
    size_t at;                 /* their entries: entries[at, at + pages) (with frames) */
};

struct ct_parentmap {
    struct ct_parentmap_run *runs;
    size_t nruns;
    uint64_t *entries;         /* NULL without frames */
    size_t nentries;
    bool frames;
};

/* Reads pid's page map. 0, or -errno (its maps or page map cannot be
 * opened): then *pm is empty. */
int ct_parentmap_read(pid_t pid, unsigned page_shift, bool frames, struct ct_parentmap *pm);

/* The entries of pages [start, end) into e[] (one per page; absent pages
 * 0; without frames a present page reads as CT_PM_PRESENT alone). */
void ct_parentmap_fill(const struct ct_parentmap *pm, uint64_t start, uint64_t end, unsigned page_shift,
                       uint64_t *e);

void ct_parentmap_free(struct ct_parentmap *pm);

#endif
