/*
 * sys.c - libc-free helpers for code that runs in fault handlers and in the
 * traced child after its memory is protected (see sys.h for why).
 */
#include <time.h>

#include "ct_shim.h"

uint64_t ct_clock_ns(int clock)
{
    struct timespec ts;
    /* vDSO-free on purpose: the raw call cannot touch errno. */
    if (ct_is_err(ct_sys2(SYS_clock_gettime, clock, &ts)))
        return 0;
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

size_t ct_strlen(const char *s)
{
    size_t n = 0;
    while (s[n])
        n++;
    return n;
}

int ct_strncmp(const char *a, const char *b, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (a[i] != b[i] || !a[i])
            return (unsigned char)a[i] - (unsigned char)b[i];
    }
    return 0;
}

int ct_strcmp(const char *a, const char *b)
{
    return ct_strncmp(a, b, (size_t)-1);
}

char *ct_stpcpy(char *dst, const char *src)
{
    while ((*dst = *src++))
        dst++;
    return dst;
}

char *ct_utoa(char *dst, unsigned long v)
{
    char tmp[24];
    int n = 0;
    do {
        tmp[n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    while (n)
        *dst++ = tmp[--n];
    *dst = 0;
    return dst;
}

void ct_memcpy(void *dst, const void *src, size_t n)
{
    char *d = dst;
    const char *s = src;
    while (n--)
        *d++ = *s++;
}

void ct_memset(void *dst, int c, size_t n)
{
    char *d = dst;
    while (n--)
        *d++ = (char)c;
}
