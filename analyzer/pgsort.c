/*
 * pgsort.c - see pgsort.h. One pass counts every byte of every key; bytes
 * that are the same in all keys (the high bytes of user-space page numbers,
 * mostly) cost nothing more, each other byte one stable scatter pass.
 */
#include "pgsort.h"

#include <stdlib.h>
#include <string.h>

#include "util.h"

void ct_pgsort(struct ct_pgkey *v, size_t n)
{
    if (n < 2)
        return;
    static const size_t NB = 8;
    size_t (*count)[256] = xcalloc(NB, sizeof *count);
    for (size_t i = 0; i < n; i++)
        for (size_t b = 0; b < NB; b++)
            count[b][(v[i].pg >> (8 * b)) & 0xff]++;
    struct ct_pgkey *tmp = xmalloc(n * sizeof *tmp), *src = v, *dst = tmp;
    for (size_t b = 0; b < NB; b++) {
        size_t *c = count[b];
        if (c[(v[0].pg >> (8 * b)) & 0xff] == n)
            continue;                   /* every key has this byte */
        size_t sum = 0;
        for (size_t d = 0; d < 256; d++) {
            size_t k = c[d];
            c[d] = sum;
            sum += k;
        }
        for (size_t i = 0; i < n; i++)
            dst[c[(src[i].pg >> (8 * b)) & 0xff]++] = src[i];
        struct ct_pgkey *s = src;
        src = dst;
        dst = s;
    }
    if (src != v)
        memcpy(v, src, n * sizeof *v);
    free(tmp);
    free(count);
}
