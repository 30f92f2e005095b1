/*
 * pgsort.h - ordering many (page, index) keys by page number.
 *
 * Promise: ct_pgsort orders v[0, n) by pg, stably (keys of equal pg keep
 * their order), in time linear in n (an LSD radix sort on the 12-bit digits of pg
 * that differ between keys), with one scratch array of n keys. The
 * attribution of a process with hundreds of thousands of write events used
 * to spend most of a report in qsort moving 72-byte events; it now moves
 * 16-byte keys a few times.
 */
#ifndef COWTRACE_PGSORT_H
#define COWTRACE_PGSORT_H

#include <stddef.h>
#include <stdint.h>

struct ct_pgkey {
    uint64_t pg;
    uint32_t idx;             /* the caller's: what the key stands for */
    uint32_t pad;
};

void ct_pgsort(struct ct_pgkey *v, size_t n);

#endif
