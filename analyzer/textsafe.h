/*
 * textsafe.h - the one rule for showing trace bytes as text.
 *
 * Promise: a byte sequence is shown as is only if it is well-formed UTF-8
 * (Unicode 3.9, table 3-7: no overlongs, surrogates or values past
 * U+10FFFF) and printable: not a C0 control, DEL, or a C1 control
 * (U+0080..U+009F, terminal escapes too). Everything else becomes '?', one
 * per byte, so a trace can never drive the user's terminal or break a
 * line-based format. The text report, the diff and the folded stacks all
 * clean through here; JSON escapes instead (jsonw.h) but asks the same
 * UTF-8 question.
 */
#ifndef COWTRACE_TEXTSAFE_H
#define COWTRACE_TEXTSAFE_H

#include <stddef.h>

#include "strbuf.h"

/* Length of the well-formed UTF-8 sequence at s (1..4), or 0 if the bytes
 * at s are not one. */
size_t utf8_seq_len(const unsigned char *s, size_t avail);

/* Length of the printable character at s (1..4), or 0 if it is not one. */
size_t ct_printable_len(const unsigned char *s, size_t avail);

/* Copies s into out as printable UTF-8 ('?' for anything else), truncated
 * to fit (never inside a character). */
void ct_text_clean(const char *s, size_t len, char *out, size_t outlen);

/* Appends s to b as one frame of a folded stack: cleaned as above, and ';'
 * and ' ' (the format's separators) as '_'; an empty name becomes "?". */
void ct_frame_clean(struct strbuf *b, const char *s, size_t len);

#endif
