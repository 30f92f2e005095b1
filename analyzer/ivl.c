/*
 * ivl.c - see ivl.h. Every operation is a single merge pass over sorted
 * inputs; only ivl_normalize sorts, and it first checks whether the list is
 * already sorted because run lists and write events usually arrive in
 * address order.
 */
#include "ivl.h"
#include "util.h"

#include <stdlib.h>
#include <string.h>

void ivl_init(struct ivl *s)
{
    memset(s, 0, sizeof *s);
    s->normal = 1;
}

void ivl_free(struct ivl *s)
{
    free(s->v);
    ivl_init(s);
}

static void push(struct ivl *s, uint64_t a, uint64_t b)
{
    if (s->n == s->cap) {
        s->cap = s->cap ? s->cap * 2 : 64;
        s->v = xreallocarray(s->v, s->cap, sizeof *s->v);
    }
    s->v[s->n].start = a;
    s->v[s->n].end = b;
    s->n++;
}

/* Appends to a list being built in order, merging with the last run. */
static void append_sorted(struct ivl *s, uint64_t a, uint64_t b)
{
    if (s->n && a <= s->v[s->n - 1].end) {
        if (b > s->v[s->n - 1].end)
            s->v[s->n - 1].end = b;
        return;
    }
    push(s, a, b);
}

void ivl_add(struct ivl *s, uint64_t a, uint64_t b)
{
    if (a >= b)
        return;
    if (s->n) {
        struct ivl_run *last = &s->v[s->n - 1];
        if (a >= last->start && a <= last->end) {
            if (b > last->end)
                last->end = b;
            return;
        }
        if (a < last->start)
            s->normal = 0;
    }
    if (s->n == s->cap && s->cap) {
        /* Compact before growing; grow only if compaction freed little. */
        ivl_normalize(s);
        if (s->n > s->cap / 2) {
            s->cap *= 2;
            s->v = xreallocarray(s->v, s->cap, sizeof *s->v);
        }
        if (s->n && a < s->v[s->n - 1].start)
            s->normal = 0;
        else if (s->n && a <= s->v[s->n - 1].end) {
            if (b > s->v[s->n - 1].end)
                s->v[s->n - 1].end = b;
            return;
        }
    }
    push(s, a, b);
}

static int cmp_run(const void *x, const void *y)
{
    const struct ivl_run *a = x, *b = y;
    if (a->start != b->start)
        return a->start < b->start ? -1 : 1;
    return 0;
}

void ivl_normalize(struct ivl *s)
{
    if (s->n == 0) {
        s->normal = 1;
        return;
    }
    int sorted = 1;
    for (size_t i = 1; i < s->n && sorted; i++)
        if (s->v[i].start < s->v[i - 1].start)
            sorted = 0;
    if (!sorted)
        qsort(s->v, s->n, sizeof *s->v, cmp_run);
    size_t w = 0;
    for (size_t i = 1; i < s->n; i++) {
        if (s->v[i].start <= s->v[w].end) {
            if (s->v[i].end > s->v[w].end)
                s->v[w].end = s->v[i].end;
        } else {
            s->v[++w] = s->v[i];
        }
    }
    s->n = w + 1;
    s->normal = 1;
}

static void reset(struct ivl *out)
{
    out->n = 0;
    out->normal = 1;
}

void ivl_union(const struct ivl *a, const struct ivl *b, struct ivl *out)
{
    size_t i = 0, j = 0;
    reset(out);
    while (i < a->n || j < b->n) {
        const struct ivl_run *r;
        if (j >= b->n || (i < a->n && a->v[i].start <= b->v[j].start))
            r = &a->v[i++];
        else
            r = &b->v[j++];
        append_sorted(out, r->start, r->end);
    }
}

void ivl_intersect(const struct ivl *a, const struct ivl *b, struct ivl *out)
{
    size_t i = 0, j = 0;
    reset(out);
    while (i < a->n && j < b->n) {
        uint64_t lo = a->v[i].start > b->v[j].start ? a->v[i].start : b->v[j].start;
        uint64_t hi = a->v[i].end < b->v[j].end ? a->v[i].end : b->v[j].end;
        if (lo < hi)
            append_sorted(out, lo, hi);
        if (a->v[i].end < b->v[j].end)
            i++;
        else
            j++;
    }
}

void ivl_subtract(const struct ivl *a, const struct ivl *b, struct ivl *out)
{
    size_t j = 0;
    reset(out);
    for (size_t i = 0; i < a->n; i++) {
        uint64_t lo = a->v[i].start, hi = a->v[i].end;
        while (j < b->n && b->v[j].end <= lo)
            j++;
        size_t k = j;
        while (lo < hi && k < b->n && b->v[k].start < hi) {
            if (b->v[k].start > lo)
                append_sorted(out, lo, b->v[k].start);
            if (b->v[k].end > lo)
                lo = b->v[k].end;
            k++;
        }
        if (lo < hi)
            append_sorted(out, lo, hi);
    }
}

uint64_t ivl_count(const struct ivl *s)
{
    uint64_t n = 0;
    for (size_t i = 0; i < s->n; i++)
        n += s->v[i].end - s->v[i].start;
    return n;
}

size_t ivl_lower(const struct ivl *s, uint64_t x)
{
    size_t lo = 0, hi = s->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (s->v[mid].end <= x)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

uint64_t ivl_count_range(const struct ivl *s, uint64_t lo, uint64_t hi)
{
    uint64_t n = 0;
    for (size_t i = ivl_lower(s, lo); i < s->n && s->v[i].start < hi; i++) {
        uint64_t a = s->v[i].start > lo ? s->v[i].start : lo;
        uint64_t b = s->v[i].end < hi ? s->v[i].end : hi;
        if (a < b)
            n += b - a;
    }
    return n;
}
