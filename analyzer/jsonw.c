/*
 * jsonw.c - see jsonw.h. Which bytes are well-formed UTF-8 is decided by
 * textsafe.c, the one place that rule lives.
 */
#include "jsonw.h"

#include <string.h>

#include "textsafe.h"

void json_str(FILE *f, const char *str, size_t len)
{
    const unsigned char *s = (const unsigned char *)str;
    putc('"', f);
    for (size_t i = 0; i < len;) {
        /* Plain printable ASCII, the bulk of every name and path, in one write. */
        size_t run = i;
        while (run < len && s[run] >= 0x20 && s[run] < 0x7f && s[run] != '"' && s[run] != '\\')
            run++;
        if (run > i) {
            fwrite(s + i, 1, run - i, f);
            i = run;
            continue;
        }
        unsigned char c = s[i];
        if (c == '"' || c == '\\') {
            putc('\\', f);
            putc(c, f);
            i++;
        } else if (c == '\n') {
            fputs("\\n", f);
            i++;
        } else if (c == '\t') {
            fputs("\\t", f);
            i++;
        } else if (c < 0x20 || c == 0x7f) {
            fprintf(f, "\\u%04x", c);
            i++;
        } else {
            size_t n = utf8_seq_len(s + i, len - i);
            if (n == 0) {
                fprintf(f, "\\u%04x", c);
                i++;
            } else {
                fwrite(s + i, 1, n, f);
                i += n;
            }
        }
    }
    putc('"', f);
}

void json_cstr(FILE *f, const char *s)
{
    json_str(f, s, strlen(s));
}

void json_list_begin(struct json_list *l, FILE *f, const char *open, const char *sep)
{
    *l = (struct json_list){ f, sep, false };
    fputs(open, f);
}

void json_list_item(struct json_list *l, const char *lead)
{
    if (l->any)
        fputs(l->sep, l->f);
    l->any = true;
    fputs(lead, l->f);
}

void json_list_end(struct json_list *l, const char *close_any, const char *close_empty)
{
    fputs(l->any ? close_any : close_empty, l->f);
}
