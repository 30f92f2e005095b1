/*
 * report_timeline.c - the timeline of a watch directory (run.h's
 * r->timeline, from `cowtrace watch -o DIR`) in the text, JSON and HTML
 * reports, and the summaries of the two sides' timelines in `cowtrace diff`
 * (diff.h's ct_tl_summary) in text and JSON.
 *
 * Promise: a report of a directory without a timeline is not changed by
 * this file (each function writes nothing when r->timeline is NULL). The
 * text gives one line per worker (at most TEXT_WORKERS, the most copied
 * first), the JSON report a summary per worker, the HTML page's data each
 * worker's copied bytes over time, downsampled to at most
 * HTML_POINTS_PER_WORKER points (evenly spaced in sample order, the first
 * and last sample always kept, so a watch of days stays a page of a few MB
 * and the line still ends at the worker's last value). Text from the file
 * (comm) is cleaned for the terminal and escaped for JSON. A diff where
 * neither side has a timeline is not changed by this file either.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "jsonw.h"
#include "report_text.h"

#define TEXT_WORKERS 20
#define HTML_POINTS_PER_WORKER 2000

static const struct ct_tl_sample *last_sample(const struct ct_tl_worker *w)
{
    return w->nsamples ? &w->samples[w->nsamples - 1] : NULL;
}

static uint64_t peak_copied(const struct ct_tl_worker *w)
{
    uint64_t m = 0;
    for (size_t i = 0; i < w->nsamples; i++)
        m = w->samples[i].copied > m ? w->samples[i].copied : m;
    return m;
}

static double mib(uint64_t bytes)
{
    return (double)bytes / (1024.0 * 1024.0);
}

static int cmp_by_copied(const void *x, const void *y)
{
    const struct ct_tl_worker *a = *(const struct ct_tl_worker *const *)x;
    const struct ct_tl_worker *b = *(const struct ct_tl_worker *const *)y;
    uint64_t ca = last_sample(a) ? last_sample(a)->copied : 0, cb = last_sample(b) ? last_sample(b)->copied : 0;
    if (ca != cb)
        return ca > cb ? -1 : 1;
    return a->pid < b->pid ? -1 : a->pid > b->pid;
}

static void skipped_sentence(char *buf, size_t len, const struct ct_timeline *tl)
{
    size_t n = 0;
    buf[0] = '\0';
    if (tl->skipped)
        n += (size_t)snprintf(buf, len, "%zu line%s skipped (the first, line %zu: %s)", tl->skipped,
                              tl->skipped == 1 ? "" : "s", tl->first_skipped, tl->first_why);
    if (tl->truncated && n < len)
        snprintf(buf + n, len - n, "%sread only its first %d lines", n ? "; " : "", CT_TIMELINE_MAX_LINES);
}

void ct_report_text_timeline(FILE *f, const struct ct_run *r)
{
    const struct ct_timeline *tl = r->timeline;
    if (!tl)
        return;
    fprintf(f, "\ntimeline (" CT_TIMELINE_FILE "): %zu worker%s, %zu sample%s over %.1f s\n", tl->nworkers,
            tl->nworkers == 1 ? "" : "s", tl->samples, tl->samples == 1 ? "" : "s", tl->t_last - tl->t_first);
    char note[200];
    skipped_sentence(note, sizeof note, tl);
    if (note[0])
        fprintf(f, "  note: %s\n", note);
    if (!tl->nworkers)
        return;
    const struct ct_tl_worker **order = xreallocarray(NULL, tl->nworkers, sizeof *order);
    for (size_t i = 0; i < tl->nworkers; i++)
        order[i] = &tl->workers[i];
    qsort(order, tl->nworkers, sizeof *order, cmp_by_copied);
    fprintf(f, "  %7s %7s  %-16s %12s %12s %12s %8s  %s\n", "PID", "PPID", "COMM", "COPIED_MIB", "PEAK_MIB",
            "SHARED_MIB", "SAMPLES", "LAST");
    for (size_t i = 0; i < tl->nworkers && i < TEXT_WORKERS; i++) {
        const struct ct_tl_worker *w = order[i];
        const struct ct_tl_sample *s = last_sample(w);
        char comm[CT_TIMELINE_COMM_MAX + 1], a[24], b[24], c[24];
        ct_text_clean(w->comm, w->comm_len, comm, sizeof comm);
        fprintf(f, "  %7d %7d  %-16s %12s %12s %12s %8zu  %s\n", w->pid, w->ppid, comm,
                ct_fmt_mib(a, sizeof a, mib(s->copied)), ct_fmt_mib(b, sizeof b, mib(peak_copied(w))),
                ct_fmt_mib(c, sizeof c, mib(s->shared)), w->nsamples, w->gone >= 0 ? "gone" : "sampled");
    }
    if (tl->nworkers > TEXT_WORKERS)
        fprintf(f, "  (%zu more workers: cowtrace report --format json)\n", tl->nworkers - TEXT_WORKERS);
    free(order);
}

static void json_time(FILE *f, double t)
{
    if (t < 0)
        fputs("null", f);
    else
        fprintf(f, "%.3f", t);
}

void ct_report_json_timeline(FILE *f, const struct ct_run *r)
{
    const struct ct_timeline *tl = r->timeline;
    if (!tl)
        return;
    char note[200];
    skipped_sentence(note, sizeof note, tl);
    fprintf(f, " \"timeline\": {\"file\": \"" CT_TIMELINE_FILE "\", \"lines\": %zu, \"samples\": %zu"
               ", \"skipped_lines\": %zu, \"note\": ",
            tl->lines, tl->samples, tl->skipped);
    if (note[0])
        json_cstr(f, note);
    else
        fputs("null", f);
    fputs(", \"first_t\": ", f);
    json_time(f, tl->samples ? tl->t_first : -1);
    fputs(", \"last_t\": ", f);
    json_time(f, tl->samples ? tl->t_last : -1);
    struct json_list l;
    json_list_begin(&l, f, ",\n  \"workers\": [", ",");
    for (size_t i = 0; i < tl->nworkers; i++) {
        const struct ct_tl_worker *w = &tl->workers[i];
        const struct ct_tl_sample *s = last_sample(w);
        json_list_item(&l, "\n   ");
        fprintf(f, "{\"pid\": %d, \"ppid\": %d, \"comm\": ", w->pid, w->ppid);
        json_str(f, w->comm, w->comm_len);
        fprintf(f, ", \"start\": %.2f, \"samples\": %zu, \"first_t\": ", w->start, w->nsamples);
        json_time(f, w->samples[0].t);
        fputs(", \"last_t\": ", f);
        json_time(f, s->t);
        fputs(", \"gone\": ", f);
        json_time(f, w->gone);
        fprintf(f, ", \"shared_bytes\": %llu, \"copied_bytes\": %llu, \"fresh_bytes\": %llu"
                   ", \"peak_copied_bytes\": %llu}",
                (unsigned long long)s->shared, (unsigned long long)s->copied, (unsigned long long)s->fresh,
                (unsigned long long)peak_copied(w));
    }
    json_list_end(&l, "]},\n", "]},\n");
}

void ct_report_html_timeline(FILE *m, const struct ct_run *r)
{
    if (!r->timeline)
        return;
    fputs(",\n \"timeline\": ", m);
    ct_report_html_timeline_object(m, r->timeline);
}

void ct_report_html_timeline_object(FILE *m, const struct ct_timeline *tl)
{
    if (!tl) {
        fputs("null", m);
        return;
    }
    char note[200];
    skipped_sentence(note, sizeof note, tl);
    fprintf(m, "{\"t0\": %.3f, \"max_points\": %d, \"note\": ", tl->samples ? tl->t_first : 0.0,
            HTML_POINTS_PER_WORKER);
    if (note[0])
        json_cstr(m, note);
    else
        fputs("null", m);
    struct json_list l;
    json_list_begin(&l, m, ",\n  \"workers\": [", ",");
    for (size_t i = 0; i < tl->nworkers; i++) {
        const struct ct_tl_worker *w = &tl->workers[i];
        json_list_item(&l, "\n   ");
        fprintf(m, "{\"pid\": %d, \"ppid\": %d, \"comm\": ", w->pid, w->ppid);
        json_str(m, w->comm, w->comm_len);
        fprintf(m, ", \"start\": %.2f, \"samples\": %zu, \"gone\": ", w->start, w->nsamples);
        if (w->gone >= 0)
            fprintf(m, "%.3f", w->gone - tl->t_first);
        else
            fputs("null", m);
        /* [seconds since t0, copied bytes]; evenly spaced picks in sample
         * order keep the first and last samples. */
        fputs(", \"points\": [", m);
        size_t n = w->nsamples, k = n < HTML_POINTS_PER_WORKER ? n : HTML_POINTS_PER_WORKER;
        for (size_t j = 0; j < k; j++) {
            size_t idx = k == 1 ? n - 1 : (size_t)((double)j * (double)(n - 1) / (double)(k - 1) + 0.5);
            if (j == k - 1)
                idx = n - 1;
            fprintf(m, "%s[%.3f, %llu]", j ? ", " : "", w->samples[idx].t - tl->t_first,
                    (unsigned long long)w->samples[idx].copied);
        }
        fputs("]}", m);
    }
    json_list_end(&l, "]}", "]}");
}

/* One figure of a side of the diff's timeline section: "-" without one. */
static const char *side_cell(char *buf, size_t len, const struct ct_tl_summary *s, int what)
{
    if (!s->present)
        return "-";
    if (what == 0)
        snprintf(buf, len, "%zu", s->workers);
    else if (what == 1)
        snprintf(buf, len, "%zu", s->samples);
    else if (what == 2)
        snprintf(buf, len, "%.1f", s->span);
    else if (!s->workers)
        return "-";
    else
        ct_fmt_mib(buf, len, mib(what == 3 ? s->median_last_copied : s->max_last_copied));
    return buf;
}

void ct_diff_text_timeline(FILE *f, const struct ct_diff *d)
{
    if (!d->tl_a.present && !d->tl_b.present)
        return;
    static const char *const labels[] = { "workers", "samples", "seconds", "median copied MiB at end",
                                          "max copied MiB at end" };
    fprintf(f, "\n  timeline (" CT_TIMELINE_FILE ", per worker: its last sample):\n");
    for (int i = 0; i < 5; i++) {
        char a[32], b[32];
        fprintf(f, "  %-28s %10s %10s\n", labels[i], side_cell(a, sizeof a, &d->tl_a, i),
                side_cell(b, sizeof b, &d->tl_b, i));
    }
}

void ct_diff_json_timeline(FILE *f, const struct ct_tl_summary *s)
{
    if (!s->present)
        return;
    fprintf(f, ", \"timeline\": {\"workers\": %zu, \"samples\": %zu, \"seconds\": %.3f"
               ", \"median_last_copied_bytes\": %llu, \"max_last_copied_bytes\": %llu}",
            s->workers, s->samples, s->span, (unsigned long long)s->median_last_copied,
            (unsigned long long)s->max_last_copied);
}
