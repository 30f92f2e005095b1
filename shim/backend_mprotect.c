/*
 * backend_mprotect.c - backend mprotect: PROT_READ and one SIGSEGV at the
 * first write to each page, for kernels without userfaultfd or where it is
 * denied.
 *
 * Promise: the ops table of mode mprotect. It runs everywhere (its probe
 * always succeeds), which is why it ends the auto list. The work, and the
 * VMA budget that keeps page-sized unprotects under vm.max_map_count, are
 * backend_sync.c's.
 */
#include "backend_sync.h"

static int probe(struct ct_state *st, const char **why)
{
    (void)st, (void)why;
    return 0;
}

static void plan(struct ct_state *st)
{
    ct_sync_plan(st, 0);
}

const struct ct_backend_ops ct_backend_mprotect = {
    .mode = CT_MODE_MPROTECT,
    .auto_says = "mprotect (precise)",
    .probe = probe,
    .plan = plan,
    CT_SYNC_OPS,
};
