/*
 * busy.c - threads inside the shim's own work: capturing a stack, setting up.
 *
 * Promise: ct_shim_busy() tells a fault handler whether the faulting thread
 * is the shim itself, lock-free and without thread-local storage.
 *
 * The unwinder writes caches in memory it mapped in an ancestor - inherited,
 * so tracked here - and a fault on it must not re-enter the unwinder: it is
 * the shim writing, not the program, so the page is opened and nothing is
 * recorded. A small set of thread ids rather than a thread-local: TLS may
 * itself be tracked.
 */
#include "ct_shim.h"

#define CT_BUSY_SLOTS 64
static _Atomic int busy_tids[CT_BUSY_SLOTS];

int ct_busy_enter(void)
{
    int tid = ct_gettid();
    for (int i = 0; i < CT_BUSY_SLOTS; i++) {
        int expected = 0;
        if (atomic_compare_exchange_strong(&busy_tids[i], &expected, tid))
            return i;
    }
    return -1;   /* more threads at once than slots: the extras skip the work */
}

void ct_busy_leave(int slot)
{
    if (slot >= 0)
        atomic_store(&busy_tids[slot], 0);
}

int ct_shim_busy(void)
{
    int tid = 0;
    for (int i = 0; i < CT_BUSY_SLOTS; i++) {
        int t = atomic_load_explicit(&busy_tids[i], memory_order_relaxed);
        if (t) {
            if (!tid)
                tid = ct_gettid();
            if (t == tid)
                return 1;
        }
    }
    return 0;
}
