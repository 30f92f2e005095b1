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
#include "gcstate.h"
#include "py.h"

void ct_py_collections_start(void)
{
    if (!ct_py)
        return;
    const struct ct_pyver *v = ct_py->v;
    ct_py->gc_at_fork = ct_py->gc_recorded = ct_py_gc_frozen(v, &ct_py->mem, ct_cfg.py_runtime)
                                                 ? -1
                                                 : ct_py_full_collections(v, &ct_py->mem, ct_cfg.py_runtime);
}

int ct_py_collections_record(void)
{
    if (!ct_py || !ct_py->guarded || ct_py->gc_at_fork < 0 ||
        ct_py_finalizing(ct_py->v, &ct_py->mem, ct_cfg.py_runtime))
        return 0;
    int64_t n = ct_py_full_collections(ct_py->v, &ct_py->mem, ct_cfg.py_runtime);
    if (n <= ct_py->gc_recorded)
        return 0;   /* unreadable now (-1), or no new collection */
    ct_py->gc_recorded = n;
    return ct_rec_pygc(&ct_py->st->w, (uint64_t)ct_py->gc_at_fork, (uint64_t)n) ? -1 : 0;
}
