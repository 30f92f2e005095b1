/*
 * diff.c - see diff.h.
 */
#include "diff.h"

#include <stdlib.h>
#include <string.h>

static int cmp_name(const void *x, const void *y)
{
    const struct ct_type_ab *a = x, *b = y;
    return ct_type_key_cmp(a->name, a->len, a->cause, b->name, b->len, b->cause);
}

static int cmp_size(const void *x, const void *y)
{
    const struct ct_type_ab *a = x, *b = y;
    uint64_t ma = a->a > a->b ? a->a : a->b, mb = b->a > b->b ? b->a : b->b;
    if (ma != mb)
        return ma > mb ? -1 : 1;
    return cmp_name(x, y);
}

static int cmp_u64(const void *x, const void *y)
{
    uint64_t a = *(const uint64_t *)x, b = *(const uint64_t *)y;
    return a < b ? -1 : a > b;
}

void ct_tl_summarize(const struct ct_timeline *tl, struct ct_tl_summary *out)
{
    memset(out, 0, sizeof *out);
    if (!tl)
        return;
    out->present = true;
    out->workers = tl->nworkers;
    out->samples = tl->samples;
    out->span = tl->samples ? tl->t_last - tl->t_first : 0;
    if (!tl->nworkers)
        return;
    uint64_t *last = xreallocarray(NULL, tl->nworkers, sizeof *last);
    for (size_t i = 0; i < tl->nworkers; i++)   /* every worker has a sample (timeline.h) */
        last[i] = tl->workers[i].samples[tl->workers[i].nsamples - 1].copied;
    qsort(last, tl->nworkers, sizeof *last, cmp_u64);
    size_t n = tl->nworkers;
    /* the middle one, or the mean of the two middle ones (no overflow) */
    out->median_last_copied = n % 2 ? last[n / 2] : last[n / 2 - 1] + (last[n / 2] - last[n / 2 - 1]) / 2;
    out->max_last_copied = last[n - 1];
    free(last);
}

void ct_diff_build(const struct ct_run *a, const struct ct_run *b, struct ct_diff *d)
{
    struct ct_type_ab *v = xcalloc(a->ntypes + b->ntypes + 1, sizeof *v);
    size_t n = 0;
    for (int side = 0; side < 2; side++) {
        const struct ct_run *s = side ? b : a;
        for (size_t i = 0; i < s->ntypes; i++) {
            if (!s->types[i].name)
                continue;
            v[n] = (struct ct_type_ab){ s->types[i].name, s->types[i].len, s->types[i].cause, 0, 0 };
            *(side ? &v[n].b : &v[n].a) = s->types[i].pages;
            n++;
        }
    }
    qsort(v, n, sizeof *v, cmp_name);
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        if (k && cmp_name(&v[k - 1], &v[i]) == 0) {
            v[k - 1].a += v[i].a;
            v[k - 1].b += v[i].b;
        } else
            v[k++] = v[i];
    }
    qsort(v, k, sizeof *v, cmp_size);
    *d = (struct ct_diff){ a, b, v, k, { 0 }, { 0 } };
    ct_tl_summarize(a->timeline, &d->tl_a);
    ct_tl_summarize(b->timeline, &d->tl_b);
}

void ct_diff_free(struct ct_diff *d)
{
    free(d->types);
    memset(d, 0, sizeof *d);
}
