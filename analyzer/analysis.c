/*
 * analysis.c - see analysis.h. All set algebra is done once per process on
 * normalized interval lists, then attributed to regions with one binary
 * search per region, so the cost is linear in the runs in the file plus
 * regions × log(runs). Attribution (attrib.c) adds one sort of the write
 * events.
 */
#include "analysis.h"
#include "where.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

/* Decodes a wait(2) status; returns 0 if it is not a death (stop/continue). */
int ct_wait_string(int st, char *buf, size_t len)
{
    if (WIFEXITED(st))
        snprintf(buf, len, "exit %d", WEXITSTATUS(st));
    else if (WIFSIGNALED(st))
        snprintf(buf, len, "signal %d%s", WTERMSIG(st), WCOREDUMP(st) ? " (core)" : "");
    else
        return 0;
    return 1;
}

void ct_exit_string(const struct ct_trace *t, char *buf, size_t len)
{
    /* An exec ends the traced program image even though the pid lives on:
     * the reap status the parent records later is that of the program
     * exec'd, which was not traced. So "exec" wins over the reap slot
     * (JSON keeps the reap status under "reap_status"). */
    if (t->have_exec && t->exec_last) {
        snprintf(buf, len, "exec");
        return;
    }
    /* A stop or continue status is not a death; fall through to what the
     * process said itself. */
    if (t->reap_valid && ct_wait_string(t->reap_status, buf, len))
        return;
    /* cowtrace snapshot: read while it ran, and it ran on. */
    if (t->have_end && t->end_how == CT_END_STOPPED && t->mode == CT_MODE_SNAPSHOT) {
        snprintf(buf, len, "running");
        return;
    }
    if (t->have_end && (t->end_how == CT_END_EXIT || t->end_how == CT_END__EXIT)) {
        snprintf(buf, len, "exit %d", t->end_status);
        return;
    }
    snprintf(buf, len, "unknown");
}

bool ct_trace_complete(const struct ct_trace *t)
{
    if (!(t->have_end || t->have_exec) || t->torn)
        return false;
    for (size_t i = 0; i < t->nnotes; i++)
        if (t->notes[i].level == CT_NOTE_INCOMPLETE)
            return false;
    return true;
}

void ct_analyze(struct ct_trace *t, bool keep_pages, struct ct_proc *p)
{
    memset(p, 0, sizeof *p);
    p->t = *t;
    memset(t, 0, sizeof *t);
    t = &p->t;
    p->info = (struct ct_proc_info){
        .file = t->file, .pid = t->pid, .ppid = t->ppid, .mode = t->mode,
        .page_size = t->page_size, .page_shift = t->page_shift,
        .fork_time_ns = t->fork_time_ns, .fork_nonce = t->fork_nonce,
        .reap_valid = t->reap_valid, .reap_status = t->reap_status,
        .mode_reason = t->mode_reason, .exe = t->exe, .comm = t->comm,
        .flush_interval_ms = t->flush_interval_ms,
        .have_exec = t->have_exec, .exec_path = t->exec_path,
        .notes = t->notes, .nnotes = t->nnotes,
        .regions = t->regions, .nregions = t->nregions,
        .untracks = t->untracks, .nuntracks = t->nuntracks,
        .have_python = t->have_python, .python = t->python,
        .nwrites = t->nwrites, .end_faults = t->end_faults, .end_scans = t->end_scans,
        .captured_pages = t->captured_pages, .stacks_missing = t->stacks_missing,
    };
    ct_exit_string(t, p->exit, sizeof p->exit);
    p->complete = ct_trace_complete(t);

    /* The tracked part of the address space, as an interval list. */
    struct ivl tracked, a, b, present, cow, fresh, early;
    ivl_init(&tracked);
    ivl_init(&a);
    ivl_init(&b);
    ivl_init(&present);
    ivl_init(&cow);
    ivl_init(&fresh);
    ivl_init(&early);
    for (size_t i = 0; i < t->nregions; i++)
        if (t->regions[i].tracking != CT_TRACK_NONE)
            ivl_add(&tracked, t->regions[i].pg0, t->regions[i].pg0 + t->regions[i].npages);
    ivl_normalize(&tracked);

    ivl_intersect(&t->present, &tracked, &present);
    ivl_intersect(&t->early, &tracked, &early);
    ivl_intersect(&t->written, &present, &a);      /* written ∩ present (tracked) */
    ivl_union(&a, &early, &cow);
    ivl_subtract(&t->written, &present, &a);       /* written − present */
    ivl_subtract(&a, &early, &b);                  /* ... − early */
    ivl_intersect(&b, &tracked, &fresh);

    p->tracked = ivl_count(&present);
    p->cow = ivl_count(&cow);
    p->fresh = ivl_count(&fresh);
    p->early = ivl_count(&early);

    p->rs = xcalloc(t->nregions ? t->nregions : 1, sizeof *p->rs);
    for (size_t i = 0; i < t->nregions; i++) {
        const struct ct_region *r = &t->regions[i];
        uint64_t lo = r->pg0, hi = r->pg0 + r->npages;
        struct ct_region_stats *s = &p->rs[i];
        s->present = ivl_count_range(&t->present, lo, hi);
        if (r->tracking == CT_TRACK_NONE)
            continue;
        s->tracked = ivl_count_range(&present, lo, hi);
        s->cow = ivl_count_range(&cow, lo, hi);
        s->fresh = ivl_count_range(&fresh, lo, hi);
        s->early = ivl_count_range(&early, lo, hi);
    }

    ct_attribute(p, &cow, &early, keep_pages);

    ivl_free(&tracked);
    ivl_free(&a);
    ivl_free(&b);
    if (keep_pages) {
        p->present_set = present;
        p->cow_set = cow;
        p->fresh_set = fresh;
        p->early_set = early;
    } else {
        ivl_free(&present);
        ivl_free(&cow);
        ivl_free(&fresh);
        ivl_free(&early);
    }
    ct_trace_drop_pages(t);
}

void ct_proc_free(struct ct_proc *p)
{
    ct_trace_free(&p->t);
    free(p->rs);
    ivl_free(&p->cow_set);
    ivl_free(&p->fresh_set);
    ivl_free(&p->early_set);
    ivl_free(&p->present_set);
    free(p->types);
    free(p->stack_counts);
    ct_where_free(p->where);
    free(p->pcs);
    memset(p, 0, sizeof *p);
}
