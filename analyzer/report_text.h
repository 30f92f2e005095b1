/*
 * report_text.h - helpers the text rendering files share (report_text.c,
 * report_causes.c, cmd_diff.c): making trace strings safe for a terminal,
 * and MiB figures that never show a non-zero amount as "0.0".
 */
#ifndef COWTRACE_REPORT_TEXT_H
#define COWTRACE_REPORT_TEXT_H

#include "report.h"

/* Copies s into out as printable UTF-8 ('?' for anything else), truncated. */
void ct_text_clean(const char *s, size_t len, char *out, size_t outlen);
double ct_mib(uint64_t pages, uint32_t page_size);
const char *ct_fmt_mib(char *buf, size_t len, double v);

/* The cause part of the text report (report_causes.c). */
void ct_report_text_causes(FILE *f, const struct ct_report *r);
/* The where part: top Python lines and native functions (report_where.c). */
void ct_report_text_where(FILE *f, const struct ct_report *r);

#endif
