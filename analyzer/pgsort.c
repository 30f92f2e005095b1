/*
 * pgsort.c - see pgsort.h. One pass counts every digit (12 bits) of every
 * key; digits that are the same in all keys (the high bits of user-space
 * page numbers, mostly) cost nothing more, each other digit one stable
 * scatter pass. 12-bit digits: the 36 bits over which a process's page
 * numbers differ take three passes.
 */
#include "pgsort.h"

#include <stdlib.h>
#include <string.h>

#include "util.h"

#define DIGIT_BITS 12
#define NDIGITS ((64 + DIGIT_BITS - 1) / DIGIT_BITS)
#define RADIX (1u << DIGIT_BITS)

static size_t digit(uint64_t pg, size_t d)
{
    return (size_t)(pg >> (DIGIT_BITS * d)) & (RADIX - 1);
}

void ct_pgsort(struct ct_pgkey *v, size_t n)
{
    if (n < 2)
        return;
    size_t (*count)[RADIX] = xcalloc(NDIGITS, sizeof *count);
    for (size_t i = 0; i < n; i++)
        for (size_t d = 0; d < NDIGITS; d++)
            count[d][digit(v[i].pg, d)]++;
    struct ct_pgkey *tmp = xmalloc(n * sizeof *tmp), *src = v, *dst = tmp;
    for (size_t d = 0; d < NDIGITS; d++) {
        size_t *c = count[d];
        if (c[digit(v[0].pg, d)] == n)
            continue;                   /* every key has this digit */
        size_t sum = 0;
        for (size_t k = 0; k < RADIX; k++) {
            size_t m = c[k];
            c[k] = sum;
            sum += m;
        }
        for (size_t i = 0; i < n; i++)
            dst[c[digit(src[i].pg, d)]++] = src[i];
        struct ct_pgkey *s = src;
        src = dst;
        dst = s;
    }
    if (src != v)
        memcpy(v, src, n * sizeof *v);
    free(tmp);
    free(count);
}
