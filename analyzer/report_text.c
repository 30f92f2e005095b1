/*
 * report_text.c - the human rendering of a report: one aligned row per
 * process, a TOTAL row, then only what needs attention (incomplete traces,
 * notes, warnings) and one line per distinct (mode, reason) pair.
 *
 * Strings from the trace (region names come from /proc paths, notes from the
 * shim) are untrusted: anything that is not printable UTF-8 is shown as '?'
 * so a trace cannot drive the user's terminal.
 */
#include "report_text.h"

#include <stdlib.h>
#include <string.h>
#include <uthash.h>

#include "loc.h"
#include "render.h"
#include "where.h"

#define TOP_REGIONS 3
#define MAX_NOTES_PER_PROC 5
#define MAX_PIDS_PER_MODE 8
#define DIFF_TOP_TYPES 10
/* Notes are deduplicated by a quadratic scan, so only this many are looked
 * at: a hostile trace with millions of notes must not stall the report. */
#define MAX_NOTES_SCANNED 1000

/* MiB with one decimal, but never "0.0" for something that is not zero:
 * one copied page must not look like none. */
const char *ct_fmt_mib(char *buf, size_t len, double v)
{
    if (v > 0 && v < 0.05)
        snprintf(buf, len, "<0.1");
    else
        snprintf(buf, len, "%.1f", v);
    return buf;
}

struct label_sum {
    char label[48];
    uint64_t cow;
    UT_hash_handle hh;
};

static int cmp_sum(const void *x, const void *y)
{
    const struct label_sum *a = *(struct label_sum *const *)x, *b = *(struct label_sum *const *)y;
    if (a->cow != b->cow)
        return a->cow > b->cow ? -1 : 1;
    return strcmp(a->label, b->label);
}

static void top_regions(const struct ct_proc *p, char *out, size_t outlen)
{
    struct label_sum *sums = NULL, *e, *tmp;
    size_t n = 0;
    out[0] = '\0';
    for (size_t i = 0; i < p->info.nregions; i++) {
        if (!p->rs[i].cow)
            continue;
        char label[48];
        ct_region_label(&p->info.regions[i], label, sizeof label);
        HASH_FIND_STR(sums, label, e);
        if (!e) {
            e = xcalloc(1, sizeof *e);
            memcpy(e->label, label, sizeof label);
            HASH_ADD_STR(sums, label, e);
            n++;
        }
        e->cow += p->rs[i].cow;
    }
    if (!n)
        return;
    struct label_sum **v = xmalloc(n * sizeof *v);
    size_t k = 0;
    HASH_ITER(hh, sums, e, tmp) v[k++] = e;
    qsort(v, n, sizeof *v, cmp_sum);
    size_t o = 0;
    for (size_t i = 0; i < n && i < TOP_REGIONS && o < outlen; i++) {
        char m[16];
        int w = snprintf(out + o, outlen - o, "%s%s %s", i ? ", " : "", v[i]->label,
                         ct_fmt_mib(m, sizeof m, ct_mib(v[i]->cow, p->info.page_size)));
        if (w > 0)
            o += (size_t)w;
    }
    HASH_ITER(hh, sums, e, tmp) {
        HASH_DEL(sums, e);
        free(e);
    }
    free(v);
}

static void pct(char *buf, size_t len, uint64_t part, uint64_t whole)
{
    if (whole)
        snprintf(buf, len, "%.1f%%", 100.0 * (double)part / (double)whole);
    else
        snprintf(buf, len, "-");
}

static void print_pages(FILE *f, const struct ct_proc *p)
{
    size_t n;
    struct ct_seg *seg = ct_page_segments(p, &n);
    fprintf(f, "\npages of %d (%s):\n", p->info.pid, n ? "address range, kind, pages, cause, type" : "none");
    for (size_t i = 0; i < n; i++) {
        const struct ct_seg *s = &seg[i];
        fprintf(f, "  0x%llx-0x%llx  %-5s  %llu", (unsigned long long)(s->start << p->info.page_shift),
                (unsigned long long)(s->end << p->info.page_shift), s->cow ? "cow" : "fresh",
                (unsigned long long)(s->end - s->start));
        if (s->cow) {
            size_t len;
            const char *name = ct_type_name(p, s->type, &len);
            char clean_name[80] = "";
            if (name)
                ct_text_clean(name, len, clean_name, sizeof clean_name);
            fprintf(f, "  %s%s%s", ct_cause_name(s->cause), name ? " " : "", clean_name);
            if (s->flags & CT_WRITE_KERNEL)
                fprintf(f, " (syscall %u)", s->flags >> CT_WRITE_SYSCALL_SHIFT);
            if (s->stack)
                fprintf(f, " (stack %u)", p->where->stacks[s->stack - 1].id);
        }
        fputc('\n', f);
    }
    free(seg);
}

struct mode_group {
    uint32_t mode;
    const struct ct_str *reason;
    size_t first, count;
};

/* One aligned row per process, then the TOTAL row. */
static void process_table(FILE *f, const struct ct_run *r)
{
    fprintf(f, "\n%7s %7s  %-10s  %-16s %8s %6s %9s %11s  %s\n", "PID", "PPID", "MODE", "EXIT",
            "COW MiB", "COW%", "FRESH MiB", "TRACKED MiB", "MOST COPIED (MiB)");
    for (size_t i = 0; i < r->nprocs; i++) {
        const struct ct_proc *p = &r->procs[i];
        char exit[48], pc[16], top[160];
        snprintf(exit, sizeof exit, "%s%s", p->exit, p->complete ? "" : " *");
        pct(pc, sizeof pc, p->cow, p->tracked);
        top_regions(p, top, sizeof top);
        char m1[16], m2[16], m3[16];
        fprintf(f, "%7d %7d  %-10s  %-16s %8s %6s %9s %11s  %s\n", p->info.pid, p->info.ppid,
                ct_mode_name(p->info.mode), exit, ct_fmt_mib(m1, sizeof m1, ct_mib(p->cow, p->info.page_size)), pc,
                ct_fmt_mib(m2, sizeof m2, ct_mib(p->fresh, p->info.page_size)),
                ct_fmt_mib(m3, sizeof m3, ct_mib(p->tracked, p->info.page_size)), top);
    }
    const struct ct_totals *T = &r->total;
    double cow = T->cow_mib, fresh = T->fresh_mib, tracked = T->tracked_mib;
    size_t incomplete = T->incomplete;
    char pc[16], procs[32];
    if (tracked > 0)
        snprintf(pc, sizeof pc, "%.1f%%", 100.0 * cow / tracked);
    else
        snprintf(pc, sizeof pc, "-");
    snprintf(procs, sizeof procs, "%zu process%s", r->nprocs, r->nprocs == 1 ? "" : "es");
    char m1[16], m2[16], m3[16];
    fprintf(f, "%7s %-37s %8s %6s %9s %11s\n", "TOTAL", procs, ct_fmt_mib(m1, sizeof m1, cow), pc,
            ct_fmt_mib(m2, sizeof m2, fresh), ct_fmt_mib(m3, sizeof m3, tracked));
    if (incomplete)
        fprintf(f, "* incomplete trace (%zu): counts are a lower bound, see below\n", incomplete);
}

/* Modes: one line per distinct (mode, reason), so 100 workers that all
 * chose uffd-async for the same reason take one line. */
static void modes(FILE *f, const struct ct_run *r)
{
    struct mode_group *g = xcalloc(r->nprocs, sizeof *g);
    size_t ng = 0;
    for (size_t i = 0; i < r->nprocs; i++) {
        const struct ct_proc_info *t = &r->procs[i].info;
        size_t k;
        for (k = 0; k < ng; k++) {
            const struct ct_str *a = g[k].reason;
            if (g[k].mode == t->mode && a->len == t->mode_reason.len
                && (a->len == 0 || memcmp(a->s, t->mode_reason.s, a->len) == 0))
                break;
        }
        if (k == ng) {
            g[ng].mode = t->mode;
            g[ng].reason = &t->mode_reason;
            g[ng].first = i;
            ng++;
        }
        g[k].count++;
    }
    fprintf(f, "\nmodes:\n");
    for (size_t k = 0; k < ng; k++) {
        char reason[200];
        ct_text_clean(g[k].reason->s ? g[k].reason->s : "", g[k].reason->len, reason, sizeof reason);
        fprintf(f, "  %-10s %s%s\n             pids", ct_mode_name(g[k].mode), reason[0] ? "" : "(no reason given)",
                reason);
        size_t shown = 0;
        for (size_t i = g[k].first; i < r->nprocs && shown < MAX_PIDS_PER_MODE; i++) {
            const struct ct_proc_info *t = &r->procs[i].info;
            if (t->mode == g[k].mode && t->mode_reason.len == g[k].reason->len
                && (t->mode_reason.len == 0 || memcmp(t->mode_reason.s, g[k].reason->s, t->mode_reason.len) == 0)) {
                fprintf(f, " %d", t->pid);
                shown++;
            }
        }
        if (g[k].count > shown)
            fprintf(f, " (+%zu more)", g[k].count - shown);
        fputc('\n', f);
    }
    free(g);
}

/* Notes and warnings, only for processes that have some; repeated notes
 * once with a count. */
static void notes(FILE *f, const struct ct_run *r)
{
    int header = 0;
    for (size_t i = 0; i < r->nprocs; i++) {
        const struct ct_proc *p = &r->procs[i];
        const struct ct_proc_info *t = &p->info;
        char w[16][160];
        size_t nw = ct_proc_warnings(p, w, 16);
        if (!t->nnotes && !nw)
            continue;
        if (!header) {
            fprintf(f, "\nnotes:\n");
            header = 1;
        }
        for (size_t k = 0; k < nw; k++)
            fprintf(f, "  %7d  %s\n", t->pid, w[k]);
        size_t shown = 0, scan = t->nnotes < MAX_NOTES_SCANNED ? t->nnotes : MAX_NOTES_SCANNED;
        for (size_t k = 0; k < scan && shown < MAX_NOTES_PER_PROC; k++) {
            /* Repeated notes are shown once with a count. */
            size_t dup = 0, seen = 0;
            for (size_t m = 0; m < scan; m++) {
                if (t->notes[m].text.len == t->notes[k].text.len
                    && memcmp(t->notes[m].text.s, t->notes[k].text.s, t->notes[k].text.len) == 0) {
                    if (m < k)
                        seen = 1;
                    dup++;
                }
                if (seen)
                    break;
            }
            if (seen)
                continue;
            char text[200];
            ct_text_clean(t->notes[k].text.s, t->notes[k].text.len, text, sizeof text);
            const char *lv = t->notes[k].level == CT_NOTE_WARNING ? "warning: "
                           : t->notes[k].level == CT_NOTE_INCOMPLETE ? "incomplete: " : "";
            if (dup > 1)
                fprintf(f, "  %7d  %s%s (x%zu)\n", t->pid, lv, text, dup);
            else
                fprintf(f, "  %7d  %s%s\n", t->pid, lv, text);
            shown++;
        }
        if (shown == MAX_NOTES_PER_PROC && t->nnotes > shown)
            fprintf(f, "  %7d  (more notes: cowtrace report --format json)\n", t->pid);
    }
}

static void text_run(FILE *f, const struct ct_run *r, const struct ct_render_opts *o)
{
    char src[256];
    ct_text_clean(r->source ? r->source : "", r->source ? strlen(r->source) : 0, src, sizeof src);
    fprintf(f, "cowtrace report: %s, %zu process%s\n", src, r->nprocs, r->nprocs == 1 ? "" : "es");
    if (!r->nprocs) {
        if (r->timeline)    /* a watch directory: its timeline is the report */
            ct_report_text_timeline(f, r);
        else
            fprintf(f, "no traces to report (did the program fork? was the shim loaded?)\n");
        return;
    }
    process_table(f, r);
    ct_report_text_causes(f, r);
    ct_report_text_where(f, r);
    modes(f, r);
    notes(f, r);
    if (o->pages)
        for (size_t i = 0; i < r->nprocs; i++)
            print_pages(f, &r->procs[i]);
    ct_report_text_timeline(f, r);
}

static void ratio(char *buf, size_t len, double a, double b)
{
    if (a > 0)
        snprintf(buf, len, "%.2f", b / a);
    else
        snprintf(buf, len, "-");
}

static void row_pages(FILE *f, const char *label, uint64_t a, uint64_t b)
{
    char r[16];
    ratio(r, sizeof r, (double)a, (double)b);
    fprintf(f, "  %-28s %10llu %10llu %+11lld %7s\n", label, (unsigned long long)a, (unsigned long long)b,
            (long long)(b - a), r);
}

static void text_diff(FILE *f, const struct ct_diff *d)
{
    const struct ct_run *a = d->a, *b = d->b;
    const struct ct_totals *A = &a->total, *B = &b->total;
    char ca[120], cb[120], r[16];
    ct_text_clean(a->source, strlen(a->source), ca, sizeof ca);
    ct_text_clean(b->source, strlen(b->source), cb, sizeof cb);
    fprintf(f, "cowtrace diff: A = %s (%zu process%s), B = %s (%zu process%s)\n\n", ca, a->nprocs,
            a->nprocs == 1 ? "" : "es", cb, b->nprocs, b->nprocs == 1 ? "" : "es");
    fprintf(f, "  %-28s %10s %10s %11s %7s\n", "", "A", "B", "DELTA", "B/A");
    ratio(r, sizeof r, A->cow_mib, B->cow_mib);
    fprintf(f, "  %-28s %10.1f %10.1f %+11.1f %7s\n", "COW MiB", A->cow_mib, B->cow_mib, B->cow_mib - A->cow_mib, r);
    row_pages(f, "COW pages", A->cow, B->cow);
    for (int c = 0; c < CT_NCAUSES; c++) {
        if (!A->causes[c] && !B->causes[c])
            continue;
        char label[40];
        snprintf(label, sizeof label, "  %s", ct_cause_name(c));
        row_pages(f, label, A->causes[c], B->causes[c]);
    }
    if (d->ntypes)
        fprintf(f, "\n  top types (COW pages):\n");
    for (size_t i = 0; i < d->ntypes && i < DIFF_TOP_TYPES; i++) {
        const struct ct_type_ab *v = &d->types[i];
        char name[40], label[64];
        ct_text_clean(v->name, v->len, name, sizeof name);
        snprintf(label, sizeof label, "  %s (%s)", name, ct_cause_name(v->cause));
        row_pages(f, label, v->a, v->b);
    }
    ct_diff_text_timeline(f, d);
}

const struct ct_renderer ct_render_text = {
    .name = "text",
    .help = "for people: processes, causes, locations, notes",
    .accepts = CT_OPT_PAGES,
    .needs = CT_NEED_STACKS,
    .run = text_run,
    .diff = text_diff,
};
