/*
 * report_where.c - the "where" part of the text report: the Python lines
 * and native functions whose first writes copied the most pages, over all
 * processes and per process, each with its main cause and type.
 *
 * Promise: shown only when some trace has stacks; at most TOP_ALL rows per
 * list in total and TOP_PROC per process, and the pages no location
 * explains (no stack, no Python frame) said in one line, so the list never
 * looks more complete than it is. Trace strings are cleaned as everywhere
 * in the text report; long paths keep their end, where the file name is.
 */
#include <string.h>

#include "loc.h"
#include "report_text.h"
#include "where.h"

#define TOP_ALL 10
#define TOP_PROC 3
#define NAME_COLS 56

/* The location as text: "file:line in function" or "function (module)". */
static void loc_name(const struct ct_loc *l, bool python, char *out, size_t len)
{
    char func[96], file[200], mod[64];
    if (l->func)
        ct_text_clean(l->func, l->func_len, func, sizeof func);
    else if (python)
        snprintf(func, sizeof func, "? (code 0x%llx)", (unsigned long long)l->code);
    else if (l->module)
        snprintf(func, sizeof func, "?");
    else
        snprintf(func, sizeof func, "0x%llx", (unsigned long long)l->off);
    if (l->module)
        ct_text_clean(l->module, l->module_len, mod, sizeof mod);
    if (python) {
        const char *fs = l->file ? l->file : "?";
        size_t fl = l->file ? l->file_len : 1;
        char tail[140];
        if (l->line >= 0)
            snprintf(tail, sizeof tail, ":%d in %s", l->line, func);
        else
            snprintf(tail, sizeof tail, " in %s", func);
        /* Keep the end of a long path, where the file name is, so the row
         * fits its column (but never fewer than 16 bytes of it). */
        size_t keep = strlen(tail) + 3 < NAME_COLS - 16 ? NAME_COLS - 3 - strlen(tail) : 16;
        int cut = fl > keep;
        ct_text_clean(cut ? fs + fl - keep : fs, cut ? keep : fl, file, sizeof file);
        snprintf(out, len, "%s%s%s", cut ? "..." : "", file, tail);
    } else if (!l->func && l->module)
        snprintf(out, len, "%s+0x%llx", mod, (unsigned long long)l->off);
    else if (l->module)
        snprintf(out, len, "%s (%s)", func, mod);
    else
        snprintf(out, len, "%s", func);
}

static void main_cause(const struct ct_loc *l, char *out, size_t len)
{
    char type[48] = "";
    if (l->type)
        ct_text_clean(l->type, l->type_len, type, sizeof type);
    snprintf(out, len, "%s%s%s (%.0f%%)", ct_cause_name(l->cause), type[0] ? " " : "", type,
             l->pages ? 100.0 * (double)l->main_pages / (double)l->pages : 0.0);
}

static void list(FILE *f, const struct ct_run *r, long proc, bool python, size_t top, uint32_t page_size,
                 const char *indent)
{
    struct ct_locs L;
    ct_locations(r, proc, python, &L);
    if (!L.n && !L.no_frame) {
        ct_locs_free(&L);
        return;
    }
    fprintf(f, "%s%-*s %9s %8s  %s\n", indent, NAME_COLS, python ? "PYTHON LINE" : "NATIVE FUNCTION", "PAGES",
            "MiB", "MAIN CAUSE");
    for (size_t i = 0; i < L.n && i < top; i++) {
        char name[320], cause[96], m[16];
        loc_name(&L.v[i], python, name, sizeof name);
        main_cause(&L.v[i], cause, sizeof cause);
        fprintf(f, "%s%-*s %9llu %8s  %s\n", indent, NAME_COLS, name, (unsigned long long)L.v[i].pages,
                ct_fmt_mib(m, sizeof m, ct_mib(L.v[i].pages, page_size)), cause);
    }
    if (L.n > top)
        fprintf(f, "%s(%zu more)\n", indent, L.n - top);
    if (L.no_frame || L.no_stack)
        fprintf(f, "%s(%llu pages written with no %s frame, %llu with no stack)\n", indent,
                (unsigned long long)L.no_frame, python ? "Python" : "native", (unsigned long long)L.no_stack);
    ct_locs_free(&L);
}

void ct_report_text_where(FILE *f, const struct ct_run *r)
{
    size_t with = 0;
    for (size_t i = 0; i < r->nprocs; i++)
        with += r->procs[i].where && r->procs[i].where->nstacks > 0;
    if (!with || !r->total.cow)
        return;
    uint32_t page_size = r->page_size;
    fprintf(f, "\nwhere pages were copied (the first write to each page; `--format folded` for a flame graph):\n");
    list(f, r, -1, true, TOP_ALL, page_size, "  ");
    list(f, r, -1, false, TOP_ALL, page_size, "  ");
    if (r->nprocs < 2)
        return;
    for (size_t i = 0; i < r->nprocs; i++) {
        const struct ct_proc *p = &r->procs[i];
        if (!p->where || !p->where->nstacks || !p->cow)
            continue;
        fprintf(f, "\n  pid %d:\n", p->info.pid);
        list(f, r, (long)i, true, TOP_PROC, p->info.page_size, "    ");
        list(f, r, (long)i, false, TOP_PROC, p->info.page_size, "    ");
    }
}
