/*
 * test_parentmap.c - the parent's page map read once (parentmap.c)
 * against ct_pagemap_read, on this process's own memory.
 *
 * Promise: fails if, for any range asked (inside a mapping, across runs
 * of present pages, across the read's chunk boundary, where nothing is
 * present, past the mapping's end), ct_parentmap_fill answers other than
 * ct_pagemap_read does as ct_page_classify sees a parent's entry: the
 * present bit, and with frames the whole entry (frame number included);
 * or if a present page is missing from the map at all.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "check.h"
#include "parentmap.h"
#include "procmem.h"

#define PAGES 20000u          /* more than the read's chunk (16384 pages) */

static size_t psize;
static unsigned shift;

static void compare(const struct ct_parentmap *pm, struct ct_pagemap *own, uint64_t a, uint64_t b)
{
    size_t n = (size_t)((b - a) >> shift);
    uint64_t *got = malloc(n * sizeof *got), *want = malloc(n * sizeof *want);
    ct_parentmap_fill(pm, a, b, shift, got);
    CHECK(ct_pagemap_read(own, a, b, shift, want) == 0);
    size_t bad = 0;
    for (size_t k = 0; k < n; k++) {
        bool present = want[k] & CT_PM_PRESENT;
        if (pm->frames ? got[k] != (present ? want[k] : 0) : got[k] != (present ? CT_PM_PRESENT : 0))
            bad++;
    }
    CHECK_U64(bad, 0);
    free(got);
    free(want);
}

static void run(bool frames, uint8_t *area)
{
    struct ct_parentmap pm;
    CHECK(ct_parentmap_read(getpid(), shift, frames, &pm) == 0);
    CHECK(pm.frames == frames && pm.nruns > 0 && (!frames || pm.entries));
    struct ct_pagemap own;
    CHECK(ct_pagemap_open(getpid(), &own) == 0);
    uint64_t base = (uint64_t)(uintptr_t)area;
    compare(&pm, &own, base, base + (uint64_t)PAGES * psize);             /* all of it */
    compare(&pm, &own, base + 50 * psize, base + 250 * psize);            /* across runs */
    compare(&pm, &own, base + 16000 * psize, base + 17000 * psize);       /* across the chunk boundary */
    compare(&pm, &own, base + 1000 * psize, base + 1100 * psize);         /* nothing present */
    compare(&pm, &own, base + 301 * psize, base + 302 * psize);           /* one page, absent */
    compare(&pm, &own, base + 300 * psize, base + 301 * psize);           /* one page, present */
    compare(&pm, &own, base + (PAGES - 10) * psize, base + (PAGES + 10) * psize);   /* past the end */
    /* every touched page is in the map, absent pages not */
    uint64_t *e = malloc(PAGES * sizeof *e);
    ct_parentmap_fill(&pm, base, base + (uint64_t)PAGES * psize, shift, e);
    size_t present = 0;
    for (size_t k = 0; k < PAGES; k++)
        present += (e[k] & CT_PM_PRESENT) != 0;
    CHECK_U64(present, 100 + 1 + 200 + 2000);
    free(e);
    ct_pagemap_close(&own);
    ct_parentmap_free(&pm);
    CHECK(pm.runs == NULL && pm.entries == NULL && pm.nruns == 0);
}

int main(void)
{
    psize = (size_t)sysconf(_SC_PAGESIZE);
    shift = (unsigned)__builtin_ctzl(psize);
    /* one mapping, the pages after it left unmapped (a guard) */
    uint8_t *area = mmap(NULL, (PAGES + 20) * psize, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    CHECK(area != MAP_FAILED);
    if (area == MAP_FAILED)
        return check_done("test_parentmap");
    munmap(area + PAGES * psize, 20 * psize);
    for (size_t i = 0; i < 100; i++)
        area[i * psize] = 1;
    area[200 * psize] = 1;
    for (size_t i = 300; i < 700; i += 2)
        area[i * psize] = 1;
    for (size_t i = 15000; i < 17000; i++)          /* across the chunk boundary */
        area[i * psize] = 1;
    run(true, area);
    run(false, area);
    munmap(area, PAGES * psize);
    return check_done("test_parentmap");
}
