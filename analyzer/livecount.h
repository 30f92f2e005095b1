/*
 * livecount.h - how many of a running worker's pages are still shared
 * with its parent, copied, or fresh, from the page maps alone.
 *
 * Promise: read-only and cheap: /proc/PID/maps and /proc/PID/pagemap of
 * the worker and its parent (PAGEMAP_SCAN to skip absent pages where the
 * kernel has it), never the memory itself, no signal, no ptrace. The
 * classification is procmem.h's ct_page_classify, page for page, over the
 * same regions `cowtrace snapshot` compares (private writable mappings the
 * parent has at the same address, same file and offset), so the counts
 * equal a snapshot's taken at the same moment. The parent's page map is
 * read once into a ct_live_view and shared by all its workers of a sample.
 * A process that vanishes is an error value, never a crash.
 */
#ifndef COWTRACE_LIVECOUNT_H
#define COWTRACE_LIVECOUNT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "procmem.h"

/* A parent's copy-on-write mappings and their pagemap entries. */
struct ct_live_view {
    pid_t pid;
    struct ct_vma *maps;
    size_t nmaps;
    uint64_t **entries;       /* per mapping: one entry per page, NULL if not cow */
};

/* 0 or -errno. */
int ct_live_view_read(pid_t pid, struct ct_live_view *v);
void ct_live_view_free(struct ct_live_view *v);

struct ct_live_counts {
    uint64_t shared, copied, fresh;   /* pages */
};

/* Counts pid's pages against its parent's view. 0 or -errno. */
int ct_live_count(pid_t pid, const struct ct_live_view *parent, bool exact, struct ct_live_counts *c);

#endif
