/*
 * report_causes.c - the "why" part of the text report: a cause table over
 * all processes, one compact line per process, what to do about each cause
 * that matters, and which interpreters ran.
 *
 * Promise: readable in ten seconds. Only causes with pages get a row; only
 * causes that matter (>= 5% of the copied pages, or >= 1 MiB) get a remedy;
 * 100 workers of one interpreter take one line. Type names come from the
 * trace and are cleaned like every other trace string.
 */
#include "cause.h"
#include "report_text.h"

#include <stdlib.h>
#include <string.h>

#define TOP_TYPES 3
#define MATTERS_SHARE 0.05
#define MATTERS_MIB 1.0
#define MAX_PIDS 8
#define WRAP 78

static const char *const remedy[CT_NCAUSES] = {
    [CT_CAUSE_REFCOUNT] =
        "reading objects writes their reference counts: keep bulk data in array.array, NumPy arrays, "
        "bytes or multiprocessing.shared_memory instead of lists of Python objects (in 3.12+, "
        "immortal objects help only for static ones)",
    [CT_CAUSE_GC] =
        "call gc.freeze() in the parent just before forking (after gc.collect()); measure with "
        "`cowtrace run --gc-freeze` and `cowtrace diff`",
    [CT_CAUSE_OBJECT] =
        "the workers modify these objects: mutate copies, or move mutable state out of the "
        "preloaded data",
    [CT_CAUSE_ALLOCATOR] =
        "freed memory in shared pools is reused: avoid freeing inherited objects in workers "
        "(gc.freeze() also avoids collecting them), pre-allocate in the parent",
    [CT_CAUSE_INTERPRETER] = "interpreter state: nothing to do, usually small",
    [CT_CAUSE_OTHER] =
        "memory that is not a Python object (C extension buffers, stacks, buffers the kernel filled "
        "in system calls) or pages written before tracking held: see the regions above; "
        "`cowtrace report --pages` lists each page",
    [CT_CAUSE_UNKNOWN] =
        "the evidence does not say: no interpreter layout, lost events, or memory the shim did not "
        "examine (see the notes; --mode uffd or mprotect records exact causes)",
};

const char *ct_cause_advice(int cause)
{
    return cause >= 0 && cause < CT_NCAUSES ? remedy[cause] : NULL;
}

bool ct_cause_matters(const struct ct_run *r, int cause)
{
    const uint64_t pages = r->total.causes[cause];
    return pages && ((double)pages >= MATTERS_SHARE * (double)r->total.cow || r->total.cause_mib[cause] >= MATTERS_MIB);
}

/* Prints text after a hanging label, wrapped at WRAP columns. */
static void wrapped(FILE *f, const char *label, const char *text)
{
    size_t indent = strlen(label), col = indent;
    fputs(label, f);
    while (*text) {
        size_t w = strcspn(text, " ");
        if (col > indent && col + 1 + w > WRAP) {
            fprintf(f, "\n%*s", (int)indent, "");
            col = indent;
        } else if (col > indent) {
            fputc(' ', f);
            col++;
        }
        fwrite(text, 1, w, f);
        col += w;
        text += w;
        text += strspn(text, " ");
    }
    fputc('\n', f);
}

static void top_types(const struct ct_type_count *v, size_t n, uint32_t cause, uint32_t page_size,
                      char *out, size_t outlen)
{
    size_t o = 0, shown = 0;
    out[0] = '\0';
    for (size_t i = 0; i < n && shown < TOP_TYPES && o < outlen; i++) {
        if (v[i].cause != cause || !v[i].name)
            continue;
        char name[40], m[16];
        ct_text_clean(v[i].name, v[i].len, name, sizeof name);
        int w = snprintf(out + o, outlen - o, "%s%s %s", shown ? ", " : "", name,
                         ct_fmt_mib(m, sizeof m, ct_mib(v[i].pages, page_size)));
        if (w > 0)
            o += (size_t)w;
        shown++;
    }
}

static void cause_table(FILE *f, const struct ct_run *r)
{
    const uint64_t *pages = r->total.causes, cow = r->total.cow;
    const double *mib = r->total.cause_mib;
    /* Types are merged over processes by pages; one run has one page size. */
    uint32_t page_size = r->page_size;
    const char *how = r->total.inferred == CT_INFERRED_ALL ? ", inferred"
                    : r->total.inferred == CT_INFERRED_SOME ? ", partly inferred" : "";
    fprintf(f, "\nwhy pages were copied (%s%s):\n", r->nprocs == 1 ? "cow pages" : "all processes", how);
    fprintf(f, "  %-12s %9s %8s %6s  %s\n", "CAUSE", "PAGES", "MiB", "%", "TOP TYPES (MiB)");
    for (int c = 0; c < CT_NCAUSES; c++) {
        if (!pages[c])
            continue;
        char m[16], pc[16], top[200];
        snprintf(pc, sizeof pc, "%.1f%%", 100.0 * (double)pages[c] / (double)cow);
        top_types(r->types, r->ntypes, (uint32_t)c, page_size, top, sizeof top);
        fprintf(f, "  %-12s %9llu %8s %6s%s%s\n", ct_cause_name(c), (unsigned long long)pages[c],
                ct_fmt_mib(m, sizeof m, mib[c]), pc, top[0] ? "  " : "", top);
    }
    if (pages[CT_CAUSE_UNKNOWN])
        fprintf(f, "  (unknown: %llu of %llu copied pages the evidence does not explain)\n",
                (unsigned long long)pages[CT_CAUSE_UNKNOWN], (unsigned long long)cow);

    fprintf(f, "\nwhat to do:\n");
    int any = 0;
    for (int c = 0; c < CT_NCAUSES; c++) {
        if (!ct_cause_matters(r, c))
            continue;
        char label[24];
        snprintf(label, sizeof label, "  %-12s ", ct_cause_name(c));
        wrapped(f, label, remedy[c]);
        any = 1;
    }
    if (!any)
        fprintf(f, "  nothing stands out\n");
}

/* One line per process: its causes by share, the top type of each. */
static void proc_lines(FILE *f, const struct ct_run *r)
{
    fprintf(f, "\ncauses by process (share of its copied pages, top type):\n");
    for (size_t i = 0; i < r->nprocs; i++) {
        const struct ct_proc *p = &r->procs[i];
        fprintf(f, "  %7d ", p->info.pid);
        if (!p->cow) {
            fputs(" nothing copied\n", f);
            continue;
        }
        /* Causes in order of pages, largest first. */
        int order[CT_NCAUSES];
        for (int c = 0; c < CT_NCAUSES; c++)
            order[c] = c;
        for (int a = 1; a < CT_NCAUSES; a++)
            for (int b = a; b > 0 && p->causes[order[b]] > p->causes[order[b - 1]]; b--) {
                int x = order[b];
                order[b] = order[b - 1];
                order[b - 1] = x;
            }
        int first = 1;
        for (int k = 0; k < CT_NCAUSES; k++) {
            int c = order[k];
            if (!p->causes[c])
                break;
            fprintf(f, "%s %s %.0f%%", first ? "" : ",", ct_cause_name(c),
                    100.0 * (double)p->causes[c] / (double)p->cow);
            for (size_t j = 0; j < p->ntypes; j++)
                if (p->types[j].cause == (uint32_t)c && p->types[j].name) {
                    char name[40];
                    ct_text_clean(p->types[j].name, p->types[j].len, name, sizeof name);
                    fprintf(f, " (%s)", name);
                    break;
                }
            first = 0;
        }
        fputs(p->causes_inferred ? "  (inferred)\n" : "\n", f);
    }
}

/* A line of text per process; processes with equal lines are grouped. */
typedef void (*line_fn)(const struct ct_proc *p, char *out, size_t len);

static void grouped(FILE *f, const struct ct_run *r, line_fn fn)
{
    char (*lines)[400] = xcalloc(r->nprocs, sizeof *lines);
    for (size_t i = 0; i < r->nprocs; i++)
        fn(&r->procs[i], lines[i], sizeof lines[i]);
    for (size_t i = 0; i < r->nprocs; i++) {
        if (!lines[i][0])
            continue;
        size_t k;
        for (k = 0; k < i && strcmp(lines[k], lines[i]); k++)
            ;
        if (k < i)
            continue;                       /* printed with its first process */
        size_t shown = 0, more = 0;
        fprintf(f, "  %s\n           pids", lines[i]);
        for (size_t m = i; m < r->nprocs; m++) {
            if (strcmp(lines[m], lines[i]))
                continue;
            if (shown < MAX_PIDS) {
                fprintf(f, " %d", r->procs[m].info.pid);
                shown++;
            } else
                more++;
        }
        if (more)
            fprintf(f, " (+%zu more)", more);
        fputc('\n', f);
    }
    free(lines);
}

static void python_line(const struct ct_proc *p, char *out, size_t len)
{
    const struct ct_python *py = &p->info.python;
    if (!p->info.have_python) {
        out[0] = '\0';                      /* the cause note says so */
        return;
    }
    char ver[80], path[100];
    ct_text_clean(py->version.s, strcspn(py->version.s, "\n") < py->version.len
                                     ? strcspn(py->version.s, "\n") : py->version.len, ver, sizeof ver);
    ct_text_clean(py->path.s, py->path.len, path, sizeof path);
    snprintf(out, len, "Python %s, %s (%s), layout %s%s%s%s%s%s%s", ver[0] ? ver : "(version unknown)",
             py->flags & CT_PY_SHARED ? "shared libpython" : "static", path,
             p->layout ? p->layout->name : "unknown",
             p->layout && p->layout->source == CT_PYVER_DISCOVERED
                 ? (ct_pyver_knows_objects(p->layout) ? " (offsets from _Py_DebugOffsets, the rest from the table)"
                                                      : " (offsets from _Py_DebugOffsets; no table)")
                 : "",
             p->layout && !ct_pyver_has_stacks(p->layout)
                 ? "; cowtrace cannot walk this version's frames: no Python stacks or lines" : "",
             py->flags & CT_PY_GC_FROZEN ? "; gc.freeze() ran before this fork" : "",
             py->flags & CT_PY_GC_NOGIL ? "; --gc-freeze: the forking thread did not hold the GIL; not frozen" : "",
             py->flags & CT_PY_GC_FREEZE_FT
                 ? "; --gc-freeze: not done: a free-threaded os.fork() holds the other threads stopped, "
                   "and gc.freeze() would wait for them forever; not frozen (gc.freeze() in the program, "
                   "before os.fork(), works)"
                 : "",
             ct_python_allocator_note(py->flags));
}

static void note_line(const struct ct_proc *p, char *out, size_t len)
{
    out[0] = '\0';
    ct_cause_note(p, out, len);
}

void ct_report_text_causes(FILE *f, const struct ct_run *r)
{
    if (!r->total.cow)
        return;
    cause_table(f, r);
    if (r->nprocs > 1)
        proc_lines(f, r);
    fprintf(f, "\ninterpreter:\n");
    grouped(f, r, python_line);
    grouped(f, r, note_line);
}
