/*
 * ivl.h - sets of page numbers as sorted lists of half-open intervals.
 *
 * Why intervals and not bitmaps: a region can be a 1 TiB reservation with a
 * handful of pages in it, and a hostile trace can name a run of 2^45 pages in
 * a few bytes. An interval list costs memory in proportion to the number of
 * runs actually written in the file, never in proportion to the address
 * range, and the set algebra the report needs (union, intersection,
 * difference) is a linear merge.
 *
 * Promise: after ivl_normalize() the list is sorted, non-overlapping and
 * non-adjacent (adjacent runs are merged), so counts are exact. ivl_add keeps
 * memory proportional to the distinct runs: when the array fills up it is
 * normalized before it is allowed to grow, so a trace that reports the same
 * pages in every scan does not grow without bound.
 */
#ifndef COWTRACE_IVL_H
#define COWTRACE_IVL_H

#include <stddef.h>
#include <stdint.h>

struct ivl_run {
    uint64_t start, end;      /* [start, end) */
};

struct ivl {
    struct ivl_run *v;
    size_t n, cap;
    int normal;               /* 1 when sorted and merged */
};

void ivl_init(struct ivl *s);
void ivl_free(struct ivl *s);
/* Adds [start, end); start < end. */
void ivl_add(struct ivl *s, uint64_t start, uint64_t end);
void ivl_normalize(struct ivl *s);

/* Set algebra on normalized lists; out must be initialized and is replaced. */
void ivl_union(const struct ivl *a, const struct ivl *b, struct ivl *out);
void ivl_intersect(const struct ivl *a, const struct ivl *b, struct ivl *out);
void ivl_subtract(const struct ivl *a, const struct ivl *b, struct ivl *out);

/* Number of pages in a normalized list. */
uint64_t ivl_count(const struct ivl *s);
/* Number of pages of a normalized list inside [lo, hi). */
uint64_t ivl_count_range(const struct ivl *s, uint64_t lo, uint64_t hi);
/* Index of the first run with end > x (s->n if none). */
size_t ivl_lower(const struct ivl *s, uint64_t x);

#endif
