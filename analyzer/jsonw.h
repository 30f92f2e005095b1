/*
 * jsonw.h - writing JSON strings from untrusted bytes.
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

#include <stddef.h>
#include <stdio.h>

void json_str(FILE *f, const char *s, size_t len);
/* Same for a NUL-terminated string. */
void json_cstr(FILE *f, const char *s);

#endif
