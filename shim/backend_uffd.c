/*
 * backend_uffd.c - backend uffd: userfaultfd write-protection with
 * UFFD_FEATURE_SIGBUS, one signal at the first write to each page.
 *
 * Promise: the ops table of mode uffd. The work is backend_sync.c's; this
 * file says what the mode needs from the kernel (SIGBUS delivery and
 * write-protection of pages never touched) and that anonymous memory is
 * protected with userfaultfd (file mappings fall back to mprotect).
 */
#include "backend_sync.h"
#include "kernel_compat.h"

#define UFFD_SYNC_FEATURES (UFFD_FEATURE_SIGBUS | UFFD_FEATURE_WP_UNPOPULATED)

static int probe(struct ct_state *st, const char **why)
{
    return ct_uffd_probe(st, UFFD_SYNC_FEATURES, "userfaultfd: feature missing", NULL, why);
}

static void plan(struct ct_state *st)
{
    ct_sync_plan(st, 1);
}

const struct ct_backend_ops ct_backend_uffd = {
    .mode = CT_MODE_UFFD,
    .auto_says = "userfaultfd write-protection available (precise)",
    .probe = probe,
    .plan = plan,
    CT_SYNC_OPS,
};
