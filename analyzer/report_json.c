/*
 * report_json.c - the JSON rendering of a report ("cowtrace-report",
 * version 1). The keys in docs/trace-format.md are a contract with scripts:
 * add keys freely, never rename or remove one. Numbers are exact integers;
 * addresses are hex strings because JSON readers lose integers past 2^53.
 */
#include "render.h"

#include <stdlib.h>
#include <string.h>

#include "jsonw.h"
#include "cause.h"
#include "report_text.h"
#include "loc.h"
#include "where.h"

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

/* The type name of an entry: a JSON string, or null for pages of no type. */
static void type_name(FILE *f, const char *name, size_t len)
{
    if (name)
        json_str(f, name, len);
    else
        fputs("null", f);
}

static void json_pages(FILE *f, const struct ct_proc *p, bool stacks)
{
    size_t nseg;
    struct ct_seg *seg = ct_page_segments(p, &nseg);
    uint64_t listed = 0;
    struct json_list list;
    json_list_begin(&list, f, ",\n   \"pages\": [", ",");
    for (size_t i = 0; i < nseg && listed < MAX_LISTED_PAGES; i++) {
        const struct ct_seg *s = &seg[i];
        size_t tlen;
        const char *tname = ct_type_name(p, s->type, &tlen);
        for (uint64_t pg = s->start; pg < s->end && listed < MAX_LISTED_PAGES; pg++, listed++) {
            json_list_item(&list, "\n    {\"addr\": ");
            hex(f, pg << p->info.page_shift);
            fprintf(f, ", \"kind\": \"%s\"", s->cow ? "cow" : "fresh");
            if (s->cow) {
                fprintf(f, ", \"cause\": \"%s\"", ct_cause_name(s->cause));
                if (tname) {
                    fputs(", \"type\": ", f);
                    json_str(f, tname, tlen);
                }
                if (s->flags & CT_WRITE_KERNEL)
                    fprintf(f, ", \"syscall\": %u", s->flags >> CT_WRITE_SYSCALL_SHIFT);
                if (s->stack && stacks)
                    fprintf(f, ", \"stack\": %u", p->where->stacks[s->stack - 1].id);
            }
            fputc('}', f);
        }
    }
    free(seg);
    json_list_end(&list, "\n   ]", "]");
    if (p->cow + p->fresh > MAX_LISTED_PAGES)
        fprintf(f, ", \"pages_truncated\": true");
}

static void json_causes(FILE *f, const uint64_t causes[CT_NCAUSES])
{
    struct json_list list;
    json_list_begin(&list, f, "\"causes\": {", ", ");
    for (int c = 0; c < CT_NCAUSES; c++) {
        json_list_item(&list, "");
        fprintf(f, "\"%s\": %llu", ct_cause_name(c), (unsigned long long)causes[c]);
    }
    json_list_end(&list, "}", "}");
}

static void json_types(FILE *f, const struct ct_type_count *v, size_t n, const char *indent)
{
    struct json_list list;
    json_list_begin(&list, f, "\"types\": [", ",");
    for (size_t i = 0; i < n; i++) {
        json_list_item(&list, indent);
        fputs("{\"name\": ", f);
        type_name(f, v[i].name, v[i].len);
        fprintf(f, ", \"cause\": \"%s\", \"cow_pages\": %llu}", ct_cause_name(v[i].cause),
                (unsigned long long)v[i].pages);
    }
    json_list_end(&list, "]", "]");
}

static void json_python(FILE *f, const struct ct_proc *p)
{
    const struct ct_python *py = &p->info.python;
    fputs(",\n   \"python\": {\"version\": ", f);
    json_str(f, py->version.s, py->version.len);
    fprintf(f, ", \"hexversion\": %llu, \"build\": \"%s\", \"path\": ", (unsigned long long)py->hexversion,
            py->flags & CT_PY_SHARED ? "shared" : "static");
    json_str(f, py->path.s, py->path.len);
    fputs(", \"layout\": ", f);
    if (p->layout)
        json_cstr(f, p->layout->name);
    else
        fputs("null", f);
    /* only where it is false, so that the reports of versions with stacks
     * stay as they were */
    if (p->layout && !ct_pyver_has_stacks(p->layout))
        fputs(", \"python_stacks\": false", f);
    /* where the offsets came from, only when not a table alone (3.13+) */
    if (p->layout && p->layout->source == CT_PYVER_DISCOVERED)
        fprintf(f, ", \"layout_source\": \"_Py_DebugOffsets\", \"causes_known\": %s",
                ct_pyver_knows_objects(p->layout) ? "true" : "false");
    fprintf(f, ", \"gc_frozen\": %s, \"gc_freeze_nogil\": %s", py->flags & CT_PY_GC_FROZEN ? "true" : "false",
            py->flags & CT_PY_GC_NOGIL ? "true" : "false");
    /* only without pymalloc, so that other reports stay as they were */
    if (py->flags & CT_PY_NO_PYMALLOC)
        fprintf(f, ", \"allocator\": \"%s\"", ct_python_allocator_name(py->flags));
    /* only where set, so that other reports stay as they were */
    if (py->flags & CT_PY_GC_FREEZE_FT)
        fputs(", \"gc_freeze_free_threaded\": true", f);
    fputc('}', f);
}

static void str_or_null(FILE *f, const char *s, size_t len)
{
    if (s)
        json_str(f, s, len);
    else
        fputs("null", f);
}

static void json_frames(FILE *f, const struct ct_proc *p, const struct ct_rstack *rs)
{
    const struct ct_resolved *w = p->where;
    struct json_list list;
    json_list_begin(&list, f, "{\"native\": [", ", ");
    for (size_t k = 0; k < rs->nn; k++) {
        const struct ct_nframe *n = &w->nframes[rs->n0 + k];
        json_list_item(&list, "{\"ip\": ");
        hex(f, n->ip);
        fputs(", \"module\": ", f);
        if (n->module >= 0)
            json_str(f, n->module_path, n->module_path_len);
        else
            fputs("null", f);
        fputs(", \"function\": ", f);
        str_or_null(f, n->func, n->func ? strlen(n->func) : 0);
        fputs(", \"offset\": ", f);
        hex(f, n->off);
        fputs(", \"file\": ", f);
        str_or_null(f, n->file, n->file ? strlen(n->file) : 0);
        if (n->file)
            fprintf(f, ", \"line\": %d}", n->line);
        else
            fputs(", \"line\": null}", f);
    }
    json_list_end(&list, "]", "]");
    json_list_begin(&list, f, ", \"python\": [", ", ");
    for (size_t k = 0; k < rs->np; k++) {
        const struct ct_pframe *pf = &w->pframes[rs->p0 + k];
        json_list_item(&list, "{\"function\": ");
        str_or_null(f, pf->qualname, pf->qualname_len);
        fputs(", \"file\": ", f);
        str_or_null(f, pf->filename, pf->filename_len);
        if (pf->line >= 0)
            fprintf(f, ", \"line\": %d", pf->line);
        else
            fputs(", \"line\": null", f);
        fputs(", \"code\": ", f);
        hex(f, pf->code);
        fputc('}', f);
    }
    json_list_end(&list, "]", "]");
    json_list_begin(&list, f, ", \"flags\": [", ", ");
    static const char *const names[] = { "native_truncated", "python_truncated", "no_python", "no_native" };
    for (int b = 0; b < 4; b++)
        if (rs->flags & (1u << b)) {
            json_list_item(&list, "");
            fprintf(f, "\"%s\"", names[b]);
        }
    json_list_end(&list, "]}", "]}");
}

/* A list of locations (loc.h) under its key, then what no location
 * explains. */
static void json_locs(FILE *f, const struct ct_run *r, long proc, bool python, const char *indent)
{
    struct ct_locs L;
    ct_locations(r, proc, python, &L);
    struct json_list list;
    json_list_begin(&list, f, python ? "\"python_locations\": [" : "\"native_functions\": [", ",");
    for (size_t i = 0; i < L.n; i++) {
        const struct ct_loc *l = &L.v[i];
        json_list_item(&list, indent);
        fputs("{\"function\": ", f);
        str_or_null(f, l->func, l->func_len);
        if (python) {
            fputs(", \"file\": ", f);
            str_or_null(f, l->file, l->file_len);
            if (l->line >= 0)
                fprintf(f, ", \"line\": %d", l->line);
            else
                fputs(", \"line\": null", f);
            if (!l->func) {
                fputs(", \"code\": ", f);
                hex(f, l->code);
            }
        } else {
            fputs(", \"module\": ", f);
            str_or_null(f, l->module, l->module_len);
            if (!l->func) {
                fputs(", \"offset\": ", f);
                hex(f, l->off);
            }
        }
        fprintf(f, ", \"cow_pages\": %llu, \"cause\": \"%s\", \"type\": ", (unsigned long long)l->pages,
                ct_cause_name(l->cause));
        type_name(f, l->type, l->type_len);
        fputc('}', f);
    }
    json_list_end(&list, "]", "]");
    fprintf(f, ", \"%s\": {\"no_stack\": %llu, \"no_frame\": %llu}",
            python ? "python_unlocated" : "native_unlocated", (unsigned long long)L.no_stack,
            (unsigned long long)L.no_frame);
    ct_locs_free(&L);
}

/* The stacks of a process (resolved by ct_run_load), its notes about
 * unusable modules, and its locations. */
static void json_stacks(FILE *f, const struct ct_run *r, size_t idx, bool table, bool locations)
{
    const struct ct_proc *p = &r->procs[idx];
    const struct ct_proc_info *t = &p->info;
    fprintf(f, ",\n   \"stacks_missing\": %llu", (unsigned long long)t->stacks_missing);
    if (!p->where)
        return;
    if (table) {
        struct json_list list;
        json_list_begin(&list, f, ",\n   \"stacks\": {", ",");
        for (size_t s = 0; s < p->where->nstacks; s++) {
            json_list_item(&list, "\n    ");
            fprintf(f, "\"%u\": ", p->where->stacks[s].id);
            json_frames(f, p, &p->where->stacks[s]);
        }
        json_list_end(&list, "}", "}");
    }
    struct json_list notes;
    json_list_begin(&notes, f, ",\n   \"symbol_notes\": [", ", ");
    for (size_t i = 0; i < p->where->nbad; i++) {
        const struct ct_badmod *b = &p->where->bad[i];
        json_list_item(&notes, "{\"module\": ");
        json_str(f, b->path, b->path_len);
        fprintf(f, ", \"state\": \"%s\", \"reason\": ", ct_modstate_name(b->state));
        json_cstr(f, b->why);
        fprintf(f, ", \"frames\": %llu}", (unsigned long long)b->frames);
    }
    json_list_end(&notes, "]", "]");
    if (!locations)
        return;
    fputs(",\n   ", f);
    json_locs(f, r, (long)idx, true, "\n    ");
    fputs(",\n   ", f);
    json_locs(f, r, (long)idx, false, "\n    ");
}

static void json_proc(FILE *f, const struct ct_run *r, size_t idx, const struct ct_render_opts *o)
{
    const struct ct_proc *p = &r->procs[idx];
    const struct ct_proc_info *t = &p->info;
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
    struct json_list list;
    json_list_begin(&list, f, ",\n   \"notes\": [", ", ");
    for (size_t i = 0; i < t->nnotes; i++) {
        json_list_item(&list, "");
        json_str(f, t->notes[i].text.s, t->notes[i].text.len);
    }
    json_list_end(&list, "]", "]");
    json_list_begin(&list, f, ",\n   \"note_levels\": [", ", ");
    for (size_t i = 0; i < t->nnotes; i++) {
        json_list_item(&list, "");
        fprintf(f, "\"%s\"", note_level(t->notes[i].level));
    }
    json_list_end(&list, "]", "]");
    json_list_begin(&list, f, ",\n   \"warnings\": [", ", ");
    char w[16][160];
    size_t nw = ct_proc_warnings(p, w, 16);
    for (size_t i = 0; i < nw; i++) {
        json_list_item(&list, "");
        json_cstr(f, w[i]);
    }
    json_list_end(&list, "]", "]");
    fprintf(f, ",\n   \"tracked_pages\": %llu, \"cow_pages\": %llu, \"fresh_pages\": %llu, \"early_pages\": %llu",
            (unsigned long long)p->tracked, (unsigned long long)p->cow,
            (unsigned long long)p->fresh, (unsigned long long)p->early);
    fprintf(f, ", \"captured_pages\": %llu", (unsigned long long)t->captured_pages);
    fprintf(f, ",\n   \"write_events\": %llu, \"faults\": %llu, \"scans\": %llu, \"flush_interval_ms\": %u",
            (unsigned long long)t->nwrites, (unsigned long long)t->end_faults,
            (unsigned long long)t->end_scans, t->flush_interval_ms);
    json_list_begin(&list, f, ",\n   \"regions\": [", ",");
    for (size_t i = 0; i < t->nregions; i++) {
        const struct ct_region *r = &t->regions[i];
        const struct ct_region_stats *s = &p->rs[i];
        char prot[4];
        prot_str(r->prot, prot);
        json_list_item(&list, "\n    {\"start\": ");
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
    json_list_end(&list, "\n   ]", "]");
    json_list_begin(&list, f, ",\n   \"untracked\": [", ", ");
    for (size_t i = 0; i < t->nuntracks; i++) {
        json_list_item(&list, "{\"start\": ");
        hex(f, t->untracks[i].start);
        fputs(", \"end\": ", f);
        hex(f, t->untracks[i].end);
        fprintf(f, ", \"reason\": \"%s\"}", ct_untrack_reason_name(t->untracks[i].reason));
    }
    json_list_end(&list, "]", "]");
    fputs(",\n   ", f);
    json_causes(f, p->causes);
    fprintf(f, ", \"causes_inferred\": %s", p->causes_inferred ? "true" : "false");
    char buf[400];
    const char *note = ct_cause_note(p, buf, sizeof buf);
    fputs(",\n   \"cause_notes\": [", f);
    if (note)
        json_cstr(f, note);
    fputs("],\n   ", f);
    json_types(f, p->types, p->ntypes, "\n    ");
    if (p->info.have_python)
        json_python(f, p);
    json_stacks(f, r, idx, o->stacks, o->proc_locations);
    if (o->pages)
        json_pages(f, p, o->stacks);
    fputs("}", f);
}

static void json_run(FILE *f, const struct ct_run *r, const struct ct_render_opts *o)
{
    const struct ct_totals *T = &r->total;
    fputs("{\"format\": \"cowtrace-report\", \"version\": 1, \"source\": ", f);
    json_cstr(f, r->source ? r->source : "");
    struct json_list list;
    json_list_begin(&list, f, ",\n \"processes\": [", ",");
    for (size_t i = 0; i < r->nprocs; i++) {
        json_list_item(&list, "\n");
        json_proc(f, r, i, o);
    }
    json_list_end(&list, "\n ],\n", "],\n");
    fprintf(f, " \"total\": {\"processes\": %zu, \"cow_pages\": %llu, \"fresh_pages\": %llu"
               ", \"tracked_pages\": %llu, \"early_pages\": %llu,\n  ",
            r->nprocs, (unsigned long long)T->cow, (unsigned long long)T->fresh,
            (unsigned long long)T->tracked, (unsigned long long)T->early);
    json_causes(f, T->causes);
    fputs(",\n  ", f);
    json_types(f, r->types, r->ntypes, "\n   ");
    if (r->resolved && r->nprocs) {
        fputs(",\n  ", f);
        json_locs(f, r, -1, true, "\n   ");
        fputs(",\n  ", f);
        json_locs(f, r, -1, false, "\n   ");
    }
    fputs("},\n", f);
    ct_report_json_timeline(f, r);
    json_list_begin(&list, f, " \"errors\": [", ", ");
    for (size_t i = 0; i < r->nerrors; i++) {
        json_list_item(&list, "{\"file\": ");
        json_cstr(f, r->errors[i].file);
        fputs(", \"message\": ", f);
        json_cstr(f, r->errors[i].msg);
        fputc('}', f);
    }
    json_list_end(&list, "]}\n", "]}\n");
}

/* One side of a diff ("cowtrace-diff", version 1, a contract like the
 * report's). */
static void json_side(FILE *f, const struct ct_run *r, const struct ct_tl_summary *tl)
{
    fputs("{\"source\": ", f);
    json_cstr(f, r->source);
    fprintf(f, ", \"processes\": %zu, \"cow_pages\": %llu, \"cow_mib\": %.3f, \"fresh_pages\": %llu"
               ", \"tracked_pages\": %llu, \"errors\": %zu",
            r->nprocs, (unsigned long long)r->total.cow, r->total.cow_mib, (unsigned long long)r->total.fresh,
            (unsigned long long)r->total.tracked, r->nerrors);
    ct_diff_json_timeline(f, tl);
    fputc('}', f);
}

static void json_diff(FILE *f, const struct ct_diff *d)
{
    fputs("{\"format\": \"cowtrace-diff\", \"version\": 1,\n \"a\": ", f);
    json_side(f, d->a, &d->tl_a);
    fputs(",\n \"b\": ", f);
    json_side(f, d->b, &d->tl_b);
    struct json_list list;
    json_list_begin(&list, f, ",\n \"causes\": {", ", ");
    for (int c = 0; c < CT_NCAUSES; c++) {
        json_list_item(&list, "");
        fprintf(f, "\"%s\": {\"a\": %llu, \"b\": %llu}", ct_cause_name(c),
                (unsigned long long)d->a->total.causes[c], (unsigned long long)d->b->total.causes[c]);
    }
    json_list_end(&list, "}", "}");
    json_list_begin(&list, f, ",\n \"types\": [", ",");
    for (size_t i = 0; i < d->ntypes; i++) {
        const struct ct_type_ab *v = &d->types[i];
        json_list_item(&list, "\n  {\"name\": ");
        json_str(f, v->name, v->len);
        fprintf(f, ", \"cause\": \"%s\", \"a\": %llu, \"b\": %llu}", ct_cause_name(v->cause),
                (unsigned long long)v->a, (unsigned long long)v->b);
    }
    json_list_end(&list, "]}\n", "]}\n");
}

const struct ct_renderer ct_render_json = {
    .name = "json",
    .help = "a stable, documented schema (docs/trace-format.md)",
    .accepts = CT_OPT_PAGES | CT_OPT_NO_STACKS,
    .needs = CT_NEED_STACKS,
    .run = json_run,
    .diff = json_diff,
};
