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
    *d = (struct ct_diff){ a, b, v, k };
}

void ct_diff_free(struct ct_diff *d)
{
    free(d->types);
    memset(d, 0, sizeof *d);
}
