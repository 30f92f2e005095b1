/*
 * report_text.h - the sections of the text format (report_text.c,
 * report_causes.c, report_where.c) and the MiB figure they share.
 */
#ifndef COWTRACE_REPORT_TEXT_H
#define COWTRACE_REPORT_TEXT_H

#include <stdbool.h>
#include <stdio.h>

#include "diff.h"
#include "run.h"
#include "textsafe.h"

/* MiB with one decimal, but never "0.0" for something that is not zero. */
const char *ct_fmt_mib(char *buf, size_t len, double v);

/* The cause part of the text report (report_causes.c). */
void ct_report_text_causes(FILE *f, const struct ct_run *r);
/* What to do about pages of a cause (one paragraph, no newline), shared
 * by every format that gives advice; NULL for no such cause. */
const char *ct_cause_advice(int cause);
/* Does the cause matter enough in r to give its advice (>= 5% of the
 * copied pages, or >= 1 MiB)? */
bool ct_cause_matters(const struct ct_run *r, int cause);
/* The where part: top Python lines and native functions (report_where.c). */
void ct_report_text_where(FILE *f, const struct ct_run *r);

/* The timeline of a watch directory, if the run has one (report_timeline.c):
 * nothing is written for a run without. */
void ct_report_text_timeline(FILE *f, const struct ct_run *r);
void ct_report_json_timeline(FILE *f, const struct ct_run *r);
void ct_report_html_timeline(FILE *m, const struct ct_run *r);
/* The HTML data object of one timeline ({"t0": ..., "workers": [...]}),
 * or null for none: what ct_report_html_timeline writes as "timeline". */
void ct_report_html_timeline_object(FILE *m, const struct ct_timeline *tl);
/* A diff's timeline summaries (diff.h): the text section (nothing when
 * neither side has a timeline) and one side's JSON member (nothing when
 * that side has none; else `, "timeline": {...}`). */
void ct_diff_text_timeline(FILE *f, const struct ct_diff *d);
void ct_diff_json_timeline(FILE *f, const struct ct_tl_summary *s);

#endif
