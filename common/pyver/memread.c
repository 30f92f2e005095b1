/*
 * memread.c - reads from a window of bytes in hand (see memread.h).
 */
#include "memread.h"

int ct_memview_read(void *view, uintptr_t addr, void *dst, size_t len)
{
    const struct ct_memview *v = view;
    if (addr >= v->base && addr + len <= v->base + v->len && addr + len > addr) {
        const uint8_t *src = v->data + (addr - v->base);
        uint8_t *out = dst;
        for (size_t i = 0; i < len; i++)
            out[i] = src[i];
        return 0;
    }
    if (!v->outside || !v->outside->read)
        return -1;
    return ct_mem_read(v->outside, addr, dst, len);
}
