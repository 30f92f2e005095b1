/*
 * pbwrite.c - see pbwrite.h: protobuf varints and length-delimited fields.
 */
#include "pbwrite.h"

enum { PB_VARINT = 0, PB_LEN = 2 };

void pb_varint(struct strbuf *b, uint64_t v)
{
    unsigned char buf[10];
    size_t n = 0;
    do {
        buf[n] = v & 0x7f;
        v >>= 7;
        if (v)
            buf[n] |= 0x80;
        n++;
    } while (v);
    sb_add(b, buf, n);
}

static void tag(struct strbuf *b, uint32_t field, unsigned wire)
{
    pb_varint(b, (uint64_t)field << 3 | wire);
}

void pb_uint(struct strbuf *b, uint32_t field, uint64_t v)
{
    tag(b, field, PB_VARINT);
    pb_varint(b, v);
}

void pb_bytes(struct strbuf *b, uint32_t field, const void *p, size_t n)
{
    tag(b, field, PB_LEN);
    pb_varint(b, n);
    sb_add(b, p, n);
}
