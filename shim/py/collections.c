/*
 * collections.c - uffd-async: has the child run a full garbage collection
 * since the fork?
 *
 * Promise: reads the interpreter's count of full collections
 * (PyInterpreterState.gc.generation_stats[oldest].collections, common/pyver
 * field is_gc_full_collections) through the guarded reader (peek.c): no
 * fault, no copy, no allocation, no system call; safe in the flusher
 * thread and at exit. The count taken when reads are switched on, before
 * tracking starts and before the child runs any Python, is the parent's
 * at the fork. A collection rewrites the GC links of every tracked object
 * (and restores most of them), so the pages a scan finds written after
 * the count grew may have been copied by it; the pages found before may
 * The count grows only when a collection ends, and a collection of many
 * objects spans several scans: the pages it copies are mostly found
 * before the count says so. So the record is a fact about the process
 * (as cowtrace snapshot's CT_PY_GC_COLLECTED), not about the pages found
 * after it: runs.c asks after every region's scan, the final one at exit
 * or exec included, and the first scan that sees the count grown writes
 * it.
 *
 * Collections of the interpreter's finalization do not count: Py_FinalizeEx
 * sets _PyRuntime._finalizing and then collects (and frees) everything, so
 * every child that exits through Python would otherwise read `gc` on every
 * page of tracked objects, though those pages were mostly copied while it
 * ran (a gunicorn worker recycled after --max-requests). Once the runtime
 * is finalizing, the count is not read again: a collection that ended less
 * than one scan interval before the exit began is missed (refcount, as
 * without this record).
 *
 * Nor do collections after a gc.freeze() the program made before the fork
 * (gunicorn's when_ready hook, the remedy this tool advises): the frozen
 * objects are in the permanent generation, which no collection visits, so
 * their pages were copied by reads, not by the collector. If the permanent
 * generation is not empty at the fork, no PYGC is written (objects made
 * between the freeze and the fork are then counted as read, not collected:
 * the error stays on the side of the cause cowtrace reported before).
 */
#include "py.h"

/* The count now, or -1 (no field for this version, or unreadable). */
static int64_t full_collections(void)
{
    const struct ct_pylayout *L = &ct_py->v->L;
    uint64_t interp = 0, n = 0;
    if (!L->is_gc_full_collections || !ct_cfg.py_runtime ||
        ct_mem_u64(&ct_py->mem, ct_cfg.py_runtime + L->rt_interpreters_head, &interp) || !interp ||
        ct_mem_u64(&ct_py->mem, interp + L->is_gc_full_collections, &n) || n > INT64_MAX)
        return -1;
    return (int64_t)n;
}

/* The program froze its objects: the permanent generation holds at least
 * CT_FROZEN_MIN of them. Not "any": 3.12.1 itself leaves 375 objects of its
 * start-up there (gc.get_freeze_count() in a bare interpreter), while a
 * program's gc.freeze() after its imports moves tens of thousands. The walk
 * follows _gc_next (guarded reads, at most CT_FROZEN_MIN steps, before
 * tracking starts). Unreadable, or no field: not known to be frozen. */
#define CT_FROZEN_MIN 2000
static bool frozen(void)
{
    const struct ct_pylayout *L = &ct_py->v->L;
    uint64_t interp = 0, next = 0;
    if (!L->is_gc_permanent_head || !ct_cfg.py_runtime ||
        ct_mem_u64(&ct_py->mem, ct_cfg.py_runtime + L->rt_interpreters_head, &interp) || !interp)
        return false;
    uint64_t head = interp + L->is_gc_permanent_head, at = head;
    for (int n = 0; n < CT_FROZEN_MIN; n++) {
        if (ct_mem_u64(&ct_py->mem, at, &next) || !next || next == head)
            return false;
        at = next;
    }
    return true;
}

void ct_py_collections_start(void)
{
    if (ct_py)
        ct_py->gc_at_fork = ct_py->gc_recorded = frozen() ? -1 : full_collections();
}

/* Py_FinalizeEx has begun (its collections are the exit's, not the
 * program's). Unreadable or no field: not finalizing. */
static bool finalizing(void)
{
    const struct ct_pylayout *L = &ct_py->v->L;
    uint64_t f = 0;
    return L->rt_finalizing && ct_cfg.py_runtime &&
           !ct_mem_u64(&ct_py->mem, ct_cfg.py_runtime + L->rt_finalizing, &f) && f;
}

int ct_py_collections_record(void)
{
    if (!ct_py || !ct_py->guarded || ct_py->gc_at_fork < 0 || finalizing())
        return 0;
    int64_t n = full_collections();
    if (n <= ct_py->gc_recorded)
        return 0;   /* unreadable now (-1), or no new collection */
    ct_py->gc_recorded = n;
    return ct_rec_pygc(&ct_py->st->w, (uint64_t)ct_py->gc_at_fork, (uint64_t)n) ? -1 : 0;
}
