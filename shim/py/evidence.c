/*
 * evidence.c - sync backends: what the first write to a page hit, read in
 * the fault handler before the write lands (CT_REC_WRITE's evidence: the
 * pymalloc pool and block, the object found there and its type).
 */
#include "py.h"

void ct_py_examine(struct ct_state *st, uintptr_t addr, struct ct_py_evidence *ev)
{
    (void)st;   /* types are recorded through ct_py->st */
    ct_memset(ev, 0, sizeof *ev);
    if (!ct_py || !ct_pyver_knows_objects(ct_py->v))
        return;   /* no layout, or one without the facts that find objects */
    /* The faulting thread is writing this page: it is mapped, and read in
     * place; anything else by guarded loads. */
    uintptr_t psize = (uintptr_t)ct_cfg.page_size;
    struct ct_memview page = {.base = addr & ~(psize - 1), .len = psize,
                              .data = (const uint8_t *)(addr & ~(psize - 1)), .outside = &ct_py->mem};
    struct ct_memread near = ct_memview_reader(&page);
    struct ct_pyfound found;
    ct_py_find(&ct_py->dec, &near, addr, ct_cfg.py_dict_type, &found);
    ev->obj = found.obj;
    ev->type = found.type;
    ev->block = found.block;
    ev->block_size = found.block_size;
    ev->where = found.where;
    ev->obj_how = found.obj_how;
}
