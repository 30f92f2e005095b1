/*
 * ct_pylines.c - `ct-pylines`: the line-table decoder as a filter, for
 * test_linetable.py to compare with CPython's own co_lines(). Reads lines
 * "FIRSTLINENO HEX_LINETABLE NUNITS" and prints, per line, the line of
 * every code unit 0..NUNITS-1 (-1 for none), space separated.
 * usage: ct-pylines [pep657|lnotab|pep626]   (default pep657, 3.11's)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "linetable.h"

int main(int argc, char **argv)
{
    enum ct_linetable_format fmt = CT_LINETABLE_PEP657;
    if (argc > 1 && !strcmp(argv[1], "lnotab"))
        fmt = CT_LINETABLE_LNOTAB;
    else if (argc > 1 && !strcmp(argv[1], "pep626"))
        fmt = CT_LINETABLE_PEP626;
    else if (argc > 1 && strcmp(argv[1], "pep657")) {
        fprintf(stderr, "ct-pylines: unknown line-table format %s (pep657, lnotab, pep626)\n", argv[1]);
        return 2;
    }
    static char buf[1 << 22];
    static uint8_t tab[1 << 21];
    while (fgets(buf, sizeof buf, stdin)) {
        long first, n;
        char *hex = strchr(buf, ' ');
        if (!hex || sscanf(buf, "%ld", &first) != 1)
            return 2;
        hex++;
        char *sp = strchr(hex, ' ');
        if (!sp || sscanf(sp + 1, "%ld", &n) != 1)
            return 2;
        size_t len = (size_t)(sp - hex) / 2;
        for (size_t i = 0; i < len; i++) {
            unsigned v;
            if (sscanf(hex + 2 * i, "%2x", &v) != 1)
                return 2;
            tab[i] = (uint8_t)v;
        }
        for (long i = 0; i < n; i++)
            printf(i ? " %d" : "%d", ct_py_line(fmt, tab, len, (int32_t)first, (int32_t)i));
        putchar('\n');
    }
    return 0;
}
