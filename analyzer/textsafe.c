/*
 * textsafe.c - see textsafe.h. The UTF-8 check follows the table of
 * well-formed byte sequences in the Unicode standard (section 3.9, table
 * 3-7), which rules out overlongs and surrogates by the range allowed for
 * the second byte.
 */
#include "textsafe.h"

#include <string.h>

size_t utf8_seq_len(const unsigned char *s, size_t avail)
{
    unsigned char c = s[0];
    if (c < 0x80)
        return 1;
    size_t n;
    unsigned char lo = 0x80, hi = 0xbf;
    if (c >= 0xc2 && c <= 0xdf)
        n = 2;
    else if (c >= 0xe0 && c <= 0xef) {
        n = 3;
        if (c == 0xe0)
            lo = 0xa0;
        else if (c == 0xed)
            hi = 0x9f;
    } else if (c >= 0xf0 && c <= 0xf4) {
        n = 4;
        if (c == 0xf0)
            lo = 0x90;
        else if (c == 0xf4)
            hi = 0x8f;
    } else
        return 0;
    if (avail < n)
        return 0;
    if (s[1] < lo || s[1] > hi)
        return 0;
    for (size_t i = 2; i < n; i++)
        if (s[i] < 0x80 || s[i] > 0xbf)
            return 0;
    return n;
}

size_t ct_printable_len(const unsigned char *s, size_t avail)
{
    size_t n = s[0] >= 0x20 && s[0] != 0x7f ? utf8_seq_len(s, avail) : 0;
    /* C1 controls (U+0080..U+009F) are terminal escapes too. */
    if (n == 2 && s[0] == 0xc2 && s[1] < 0xa0)
        n = 0;
    return n;
}

void ct_text_clean(const char *str, size_t len, char *out, size_t outlen)
{
    const unsigned char *s = (const unsigned char *)str;
    size_t o = 0;
    for (size_t i = 0; i < len && o + 1 < outlen;) {
        size_t n = ct_printable_len(s + i, len - i);
        if (n == 0) {
            out[o++] = '?';
            i++;
        } else if (o + n < outlen) {
            memcpy(out + o, s + i, n);
            o += n;
            i += n;
        } else
            break;
    }
    out[o] = '\0';
}

void ct_frame_clean(struct strbuf *b, const char *str, size_t len)
{
    const unsigned char *s = (const unsigned char *)str;
    size_t start = b->len;
    for (size_t i = 0; i < len;) {
        size_t n = ct_printable_len(s + i, len - i);
        if (n == 1 && (s[i] == ';' || s[i] == ' ')) {
            sb_add(b, "_", 1);
            i++;
        } else if (n == 0) {
            sb_add(b, "?", 1);
            i++;
        } else {
            sb_add(b, s + i, n);
            i += n;
        }
    }
    if (b->len == start)
        sb_add(b, "?", 1);
}
