/*
 * run.c - see run.h: gathering the processes of a run and completing the
 * model. Page sets are dropped as soon as each process is analyzed (unless
 * a page listing was asked for), so a run over many large traces holds
 * only one trace's page data at a time per loading thread.
 *
 * Traces are read and analyzed in parallel, one thread per usable CPU (at
 * most MAX_LOADERS): each file is independent until ct_run_finish, the
 * reader and the analysis share no mutable state, and each thread writes
 * only the slot of the file it took. The slots are then gathered in the
 * directory's order, so the run is the same whatever the threads did.
 */
#include "run.h"

#include <pthread.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "symbolize.h"
#include "textsafe.h"
#include "tracedir.h"
#include "where.h"

double ct_mib(uint64_t pages, uint32_t page_size)
{
    return (double)pages * page_size / (1024.0 * 1024.0);
}

static int cmp_proc(const void *x, const void *y)
{
    const struct ct_proc *a = x, *b = y;
    if (a->t.pid != b->t.pid)
        return a->t.pid < b->t.pid ? -1 : 1;
    if (a->t.fork_time_ns != b->t.fork_time_ns)
        return a->t.fork_time_ns < b->t.fork_time_ns ? -1 : 1;
    return strcmp(a->t.file, b->t.file);
}

static void add_error(struct ct_run *r, const char *file, const struct ct_err *e)
{
    char buf[CT_ERR_MSG + 64];
    if (e->has_offset)
        snprintf(buf, sizeof buf, "offset %llu: %s", (unsigned long long)e->offset, e->msg);
    else
        snprintf(buf, sizeof buf, "%s", e->msg);
    r->errors = xreallocarray(r->errors, r->nerrors + 1, sizeof *r->errors);
    r->errors[r->nerrors].file = xstrdup(file);
    r->errors[r->nerrors].msg = xstrdup(buf);
    r->nerrors++;
}

#define MAX_LOADERS 8

/* One file of the list, read and analyzed by whichever thread took it. */
struct load_slot {
    struct ct_proc proc;
    struct ct_err err;
    bool ok;
};

struct loader {
    const struct ct_tracelist *list;
    bool keep_pages;
    struct load_slot *slots;
    size_t next;              /* the next file to take (atomic) */
};

static void *load_files(void *arg)
{
    struct loader *L = arg;
    for (;;) {
        size_t i = __atomic_fetch_add(&L->next, 1, __ATOMIC_RELAXED);
        if (i >= L->list->n)
            return NULL;
        struct load_slot *sl = &L->slots[i];
        struct ct_trace t;
        sl->ok = ct_trace_load(L->list->paths[i], &t, &sl->err) == 0;
        if (sl->ok)
            ct_analyze(&t, L->keep_pages, &sl->proc);
    }
}

static size_t loader_threads(size_t nfiles)
{
    cpu_set_t set;
    size_t n = sched_getaffinity(0, sizeof set, &set) == 0 ? (size_t)CPU_COUNT(&set) : 1;
    if (n > MAX_LOADERS)
        n = MAX_LOADERS;
    return n < nfiles ? n : nfiles ? nfiles : 1;
}

int ct_run_load(const char *path, const struct ct_load_opts *o, struct ct_run *r, struct ct_err *err)
{
    struct ct_tracelist list;
    memset(r, 0, sizeof *r);
    if (ct_list_traces(path, &list, err))
        return -1;
    r->source = xstrdup(path);
    r->procs = xcalloc(list.n ? list.n : 1, sizeof *r->procs);
    struct loader L = { .list = &list, .keep_pages = o->keep_pages,
                        .slots = xcalloc(list.n ? list.n : 1, sizeof *L.slots) };
    /* The calling thread loads too; a thread that cannot be started just
     * leaves more files to the others. */
    pthread_t tids[MAX_LOADERS];
    size_t nt = 0, want = loader_threads(list.n);
    while (nt + 1 < want && pthread_create(&tids[nt], NULL, load_files, &L) == 0)
        nt++;
    load_files(&L);
    for (size_t i = 0; i < nt; i++)
        pthread_join(tids[i], NULL);
    for (size_t i = 0; i < list.n; i++) {
        if (L.slots[i].ok)
            r->procs[r->nprocs++] = L.slots[i].proc;
        else
            add_error(r, list.paths[i], &L.slots[i].err);
    }
    free(L.slots);
    ct_tracelist_free(&list);
    struct ct_timeline tl;
    char why[CT_ERR_MSG];
    int have = ct_timeline_load(path, &tl, why, sizeof why);
    if (have > 0) {
        r->timeline = xmalloc(sizeof *r->timeline);
        *r->timeline = tl;
    } else if (have < 0) {
        struct ct_err te = { 0 };
        snprintf(te.msg, sizeof te.msg, "%s", why);
        size_t len = strlen(path) + sizeof "/" CT_TIMELINE_FILE;
        char *file = xmalloc(len);
        snprintf(file, len, "%s/%s", path, CT_TIMELINE_FILE);
        add_error(r, file, &te);
        free(file);
    }
    ct_run_finish(r, o);
    return 0;
}

/* The types of all processes merged by (name, cause), sorted by pages
 * descending (names stay owned by the processes). */
static void merge_types(struct ct_run *r)
{
    size_t n = 0;
    for (size_t i = 0; i < r->nprocs; i++)
        n += r->procs[i].ntypes;
    struct ct_type_count *v = xcalloc(n ? n : 1, sizeof *v);
    size_t k = 0;
    for (size_t i = 0; i < r->nprocs; i++) {
        memcpy(v + k, r->procs[i].types, r->procs[i].ntypes * sizeof *v);
        k += r->procs[i].ntypes;
    }
    r->ntypes = ct_types_merge(v, n);
    r->types = v;
}

static void sum_totals(struct ct_run *r)
{
    struct ct_totals *T = &r->total;
    size_t ninferred = 0, ncopied = 0;
    memset(T, 0, sizeof *T);
    for (size_t i = 0; i < r->nprocs; i++) {
        const struct ct_proc *p = &r->procs[i];
        uint32_t ps = p->t.page_size;
        T->cow += p->cow;
        T->fresh += p->fresh;
        T->tracked += p->tracked;
        T->early += p->early;
        T->cow_mib += ct_mib(p->cow, ps);
        T->fresh_mib += ct_mib(p->fresh, ps);
        T->tracked_mib += ct_mib(p->tracked, ps);
        for (int c = 0; c < CT_NCAUSES; c++) {
            T->causes[c] += p->causes[c];
            T->cause_mib[c] += ct_mib(p->causes[c], ps);
        }
        T->incomplete += !p->complete;
        ncopied += p->cow != 0;
        ninferred += p->causes_inferred && p->cow;
    }
    T->inferred = ninferred == ncopied ? CT_INFERRED_ALL : ninferred ? CT_INFERRED_SOME : CT_INFERRED_NONE;
}

void ct_run_finish(struct ct_run *r, const struct ct_load_opts *o)
{
    if (r->nprocs > 1)
        qsort(r->procs, r->nprocs, sizeof *r->procs, cmp_proc);
    if (o->resolve) {
        if (!r->sym)
            r->sym = ct_symbolizer_new(o->open_files);
        for (size_t i = 0; i < r->nprocs; i++) {
            const struct ct_proc *p = &r->procs[i];
            ct_where_resolve(&r->procs[i], r->sym);
            for (size_t s = 0; s < p->where->nstacks && !r->python_stacks; s++)
                r->python_stacks = ct_rstack_has_python(&p->where->stacks[s]);
        }
        r->resolved = true;
    }
    r->page_size = r->nprocs ? r->procs[0].t.page_size : 0;
    sum_totals(r);
    merge_types(r);
}

void ct_run_of_proc(struct ct_run *r, const char *source, struct ct_proc *p, const struct ct_load_opts *o)
{
    memset(r, 0, sizeof *r);
    r->source = xstrdup(source);
    r->procs = xcalloc(1, sizeof *r->procs);
    r->procs[0] = *p;
    r->nprocs = 1;
    memset(p, 0, sizeof *p);
    ct_run_finish(r, o);
}

void ct_run_free(struct ct_run *r)
{
    for (size_t i = 0; i < r->nprocs; i++)
        ct_proc_free(&r->procs[i]);
    free(r->procs);
    for (size_t i = 0; i < r->nerrors; i++) {
        free(r->errors[i].file);
        free(r->errors[i].msg);
    }
    free(r->errors);
    free(r->source);
    free(r->types);
    if (r->timeline) {
        ct_timeline_free(r->timeline);
        free(r->timeline);
    }
    /* After the processes: their resolved stacks point into it. */
    ct_symbolizer_free(r->sym);
    memset(r, 0, sizeof *r);
}

size_t ct_proc_warnings(const struct ct_proc *p, char out[][160], size_t max)
{
    const struct ct_trace *t = &p->t;
    size_t n = 0;
#define W(...) do { if (n < max) snprintf(out[n++], 160, __VA_ARGS__); } while (0)
    if (t->torn)
        W("trace cut short inside a record at offset %llu (the rest of that record is lost)",
          (unsigned long long)t->torn_offset);
    if (!t->have_end && !t->have_exec) {
        if (t->reap_valid && WIFSIGNALED(t->reap_status))
            W("killed by signal %d before it could finish its trace: writes since its last flush are missing",
              WTERMSIG(t->reap_status));
        else
            W("no end record: the process died or was killed before finishing its trace");
    }
    if (t->have_end && t->end_how == CT_END_STOPPED && t->mode != CT_MODE_SNAPSHOT)
        W("tracing stopped early; the process went on untraced");
    if (t->writes_outside)
        W("%llu write event%s outside every region (ignored)", (unsigned long long)t->writes_outside,
          t->writes_outside == 1 ? "" : "s");
    if (t->stacks_missing)
        W("%llu write event%s name%s a stack the trace does not hold (shown without a stack)",
          (unsigned long long)t->stacks_missing, t->stacks_missing == 1 ? "" : "s",
          t->stacks_missing == 1 ? "s" : "");
    if (p->where)
        for (size_t i = 0; i < p->where->nbad; i++) {
            const struct ct_badmod *bm = &p->where->bad[i];
            size_t blen;
            const char *base = ct_module_basename(&t->modules[bm->module], &blen);
            char name[40], why[56];
            ct_text_clean(base, blen, name, sizeof name);
            ct_text_clean(bm->why, strlen(bm->why), why, sizeof why);
            W("module %s %s (%s): frames shown as module+offset", name, ct_modstate_name(bm->state), why);
        }
    if (t->captured_pages)
        W("%llu page%s stored with their contents (--capture-pages): treat this trace like a core dump",
          (unsigned long long)t->captured_pages, t->captured_pages == 1 ? "" : "s");
    if (t->unknown_records)
        W("%llu record%s of unknown type skipped (written by a newer cowtrace?)",
          (unsigned long long)t->unknown_records, t->unknown_records == 1 ? "" : "s");
    if (t->mode != CT_MODE_NONE && !ct_mode_word(t->mode))
        W("unknown tracking mode %u in the header", t->mode);
    if (!t->have_process)
        W("no process record");
    else if (t->proc_mode != t->mode)
        W("process record says mode %s, header says %s", ct_mode_name(t->proc_mode), ct_mode_name(t->mode));
#undef W
    return n;
}
