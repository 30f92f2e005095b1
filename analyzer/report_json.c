/*
 * report_json.c - the JSON rendering of a report ("cowtrace-report",
 * version 1). The keys in docs/trace-format.md are a contract with scripts:
 * add keys freely, never rename or remove one. Numbers are exact integers;
 * addresses are hex strings because JSON readers lose integers past 2^53.
 */
#include "report.h"

#include <stdlib.h>

#include "jsonw.h"

static const char *note_level(uint32_t level)
{
    switch (level) {
    case CT_NOTE_INFO: return "info";
    case CT_NOTE_WARNING: return "warning";
    case CT_NOTE_INCOMPLETE: return "incomplete";
    }
    return "unknown";
}

static void hex(FILE *f, uint64_t v)
{
    fprintf(f, "\"0x%llx\"", (unsigned long long)v);
}

static void prot_str(uint32_t prot, char out[4])
{
    out[0] = prot & 1 ? 'r' : '-';
    out[1] = prot & 2 ? 'w' : '-';
    out[2] = prot & 4 ? 'x' : '-';
    out[3] = '\0';
}

/* A real process cannot have copied more than its RAM; a hostile trace can
 * claim 2^45 pages in a few bytes. Listing stops here (1 TiB of 4 KiB
 * pages) and says so, instead of printing for days. */
#define MAX_LISTED_PAGES (UINT64_C(1) << 28)

static void json_pages(FILE *f, const struct ct_proc *p)
{
    const struct ivl *c = &p->cow_set, *fr = &p->fresh_set;
    size_t i = 0, j = 0;
    int first = 1;
    uint64_t listed = 0;
    fputs(",\n   \"pages\": [", f);
    /* cow and fresh are disjoint, so a merge of the two gives address order. */
    while (i < c->n || j < fr->n) {
        const struct ivl_run *r;
        const char *kind;
        if (j >= fr->n || (i < c->n && c->v[i].start < fr->v[j].start)) {
            r = &c->v[i++];
            kind = "cow";
        } else {
            r = &fr->v[j++];
            kind = "fresh";
        }
        for (uint64_t pg = r->start; pg < r->end && listed < MAX_LISTED_PAGES; pg++, listed++) {
            fputs(first ? "\n    " : ",\n    ", f);
            first = 0;
            fputs("{\"addr\": ", f);
            hex(f, pg << p->t.page_shift);
            fprintf(f, ", \"kind\": \"%s\"}", kind);
        }
    }
    fputs(first ? "]" : "\n   ]", f);
    if (p->cow + p->fresh > MAX_LISTED_PAGES)
        fprintf(f, ", \"pages_truncated\": true");
}

static void json_proc(FILE *f, const struct ct_proc *p, bool pages)
{
    const struct ct_trace *t = &p->t;
    fprintf(f, "  {\"pid\": %d, \"ppid\": %d, \"file\": ", t->pid, t->ppid);
    json_cstr(f, t->file);
    fprintf(f, ", \"mode\": \"%s\", \"mode_reason\": ", ct_mode_name(t->mode));
    json_str(f, t->mode_reason.s ? t->mode_reason.s : "", t->mode_reason.len);
    fprintf(f, ",\n   \"exit\": \"%s\", \"complete\": %s", p->exit, p->complete ? "true" : "false");
    char reap[40];
    if (t->reap_valid && ct_wait_string(t->reap_status, reap, sizeof reap))
        fprintf(f, ", \"reap_status\": \"%s\"", reap);
    fprintf(f, ", \"page_size\": %u, \"fork_time_ns\": %llu, \"fork_nonce\": %llu",
            t->page_size, (unsigned long long)t->fork_time_ns, (unsigned long long)t->fork_nonce);
    fputs(",\n   \"exe\": ", f);
    json_str(f, t->exe.s ? t->exe.s : "", t->exe.len);
    fputs(", \"comm\": ", f);
    json_str(f, t->comm.s ? t->comm.s : "", t->comm.len);
    if (t->have_exec) {
        fputs(", \"exec_path\": ", f);
        json_str(f, t->exec_path.s, t->exec_path.len);
    }
    fputs(",\n   \"notes\": [", f);
    for (size_t i = 0; i < t->nnotes; i++) {
        if (i)
            fputs(", ", f);
        json_str(f, t->notes[i].text.s, t->notes[i].text.len);
    }
    fputs("],\n   \"note_levels\": [", f);
    for (size_t i = 0; i < t->nnotes; i++)
        fprintf(f, "%s\"%s\"", i ? ", " : "", note_level(t->notes[i].level));
    fputs("],\n   \"warnings\": [", f);
    char w[16][160];
    size_t nw = ct_proc_warnings(p, w, 16);
    for (size_t i = 0; i < nw; i++) {
        if (i)
            fputs(", ", f);
        json_cstr(f, w[i]);
    }
    fprintf(f, "],\n   \"tracked_pages\": %llu, \"cow_pages\": %llu, \"fresh_pages\": %llu, \"early_pages\": %llu",
            (unsigned long long)p->tracked, (unsigned long long)p->cow,
            (unsigned long long)p->fresh, (unsigned long long)p->early);
    fprintf(f, ",\n   \"write_events\": %llu, \"faults\": %llu, \"scans\": %llu, \"flush_interval_ms\": %u",
            (unsigned long long)t->nwrites, (unsigned long long)t->end_faults,
            (unsigned long long)t->end_scans, t->flush_interval_ms);
    fputs(",\n   \"regions\": [", f);
    for (size_t i = 0; i < t->nregions; i++) {
        const struct ct_region *r = &t->regions[i];
        const struct ct_region_stats *s = &p->rs[i];
        char prot[4];
        prot_str(r->prot, prot);
        fputs(i ? ",\n    {\"start\": " : "\n    {\"start\": ", f);
        hex(f, r->start);
        fputs(", \"end\": ", f);
        hex(f, r->end);
        fputs(", \"name\": ", f);
        json_str(f, r->name.s, r->name.len);
        fprintf(f, ", \"kind\": \"%s\", \"prot\": \"%s\", \"tracked\": %s", ct_kind_name(r->kind), prot,
                r->tracking != CT_TRACK_NONE ? "true" : "false");
        if (r->tracking == CT_TRACK_NONE)
            fprintf(f, ", \"untracked_reason\": \"%s\"", ct_untrack_reason_name(r->untracked_reason));
        fprintf(f, ", \"present_pages\": %llu, \"tracked_pages\": %llu, \"cow_pages\": %llu"
                   ", \"fresh_pages\": %llu, \"early_pages\": %llu}",
                (unsigned long long)s->present, (unsigned long long)s->tracked,
                (unsigned long long)s->cow, (unsigned long long)s->fresh, (unsigned long long)s->early);
    }
    fputs(t->nregions ? "\n   ]" : "]", f);
    fputs(",\n   \"untracked\": [", f);
    for (size_t i = 0; i < t->nuntracks; i++) {
        fputs(i ? ", {\"start\": " : "{\"start\": ", f);
        hex(f, t->untracks[i].start);
        fputs(", \"end\": ", f);
        hex(f, t->untracks[i].end);
        fprintf(f, ", \"reason\": \"%s\"}", ct_untrack_reason_name(t->untracks[i].reason));
    }
    fputc(']', f);
    if (pages)
        json_pages(f, p);
    fputs("}", f);
}

void ct_report_json(FILE *f, const struct ct_report *r, bool pages)
{
    uint64_t cow = 0, fresh = 0, tracked = 0, early = 0;
    fputs("{\"format\": \"cowtrace-report\", \"version\": 1, \"source\": ", f);
    json_cstr(f, r->source ? r->source : "");
    fputs(",\n \"processes\": [", f);
    for (size_t i = 0; i < r->nprocs; i++) {
        fputs(i ? ",\n" : "\n", f);
        json_proc(f, &r->procs[i], pages);
        cow += r->procs[i].cow;
        fresh += r->procs[i].fresh;
        tracked += r->procs[i].tracked;
        early += r->procs[i].early;
    }
    fputs(r->nprocs ? "\n ],\n" : "],\n", f);
    fprintf(f, " \"total\": {\"processes\": %zu, \"cow_pages\": %llu, \"fresh_pages\": %llu"
               ", \"tracked_pages\": %llu, \"early_pages\": %llu},\n",
            r->nprocs, (unsigned long long)cow, (unsigned long long)fresh,
            (unsigned long long)tracked, (unsigned long long)early);
    fputs(" \"errors\": [", f);
    for (size_t i = 0; i < r->nerrors; i++) {
        fputs(i ? ", {\"file\": " : "{\"file\": ", f);
        json_cstr(f, r->errors[i].file);
        fputs(", \"message\": ", f);
        json_cstr(f, r->errors[i].msg);
        fputc('}', f);
    }
    fputs("]}\n", f);
}
