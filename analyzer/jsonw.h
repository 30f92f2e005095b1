/*
 * jsonw.h - writing JSON: strings from untrusted bytes, and lists that
 * place their own commas.
 *
 * Promise: the output is always valid JSON text in UTF-8, whatever the input.
 * Quotes, backslashes and control characters are escaped; well-formed UTF-8
 * passes through; every byte that is not part of well-formed UTF-8 (stray
 * continuation bytes, overlong forms, surrogates, values past U+10FFFF) is
 * written as \u00XX, so no input byte is lost and a reader can tell which
 * bytes were bad.
 */
#ifndef COWTRACE_JSONW_H
#define COWTRACE_JSONW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

void json_str(FILE *f, const char *s, size_t len);
/* Same for a NUL-terminated string. */
void json_cstr(FILE *f, const char *s);

/* An array or object being written: it knows whether a separator is due,
 * so writers keep no index or "first" flag. Nested lists are separate
 * structs (one per level, on the writer's stack). The layout (newlines,
 * indentation) stays the caller's: sep goes before every member but the
 * first, lead before every member. */
struct json_list {
    FILE *f;
    const char *sep;
    bool any;                 /* a member was written */
};

/* Writes open ("[", "{", "\"key\": [") and starts a list. */
void json_list_begin(struct json_list *l, FILE *f, const char *open, const char *sep);
/* Starts a member: sep if one came before, then lead. */
void json_list_item(struct json_list *l, const char *lead);
/* Ends it: close_any after members, close_empty if there were none. */
void json_list_end(struct json_list *l, const char *close_any, const char *close_empty);

#endif
