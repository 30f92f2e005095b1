/*
 * busy.c - threads inside the shim's own work: capturing a stack, setting up.
 *
 * Promise: ct_shim_busy() tells a fault handler whether the faulting thread
 * is the shim itself, lock-free and without thread-local storage.
 *
 * The unwinder writes caches in memory it mapped in an ancestor - inherited,
 * so tracked here - and a fault on it must not re-enter the unwinder: it is
 * the shim writing, not the program, so the page is opened and nothing is
 * recorded. A small set of thread pointers rather than a thread-local: TLS
 * may itself be tracked. The thread pointer names a live thread as well as
 * its id does and is read without a system call (this runs at every fault).
 */
#include "ct_shim.h"

#define CT_BUSY_SLOTS 64
static _Atomic uintptr_t busy_threads[CT_BUSY_SLOTS];

/* A slot holds the thread pointer, with its low bit set (thread pointers
 * are aligned) when the thread entered from a fault handler of ours, which
 * runs with every asynchronous signal blocked (ct_signal_take). */
static int enter(uintptr_t self)
{
    for (int i = 0; i < CT_BUSY_SLOTS; i++) {
        uintptr_t expected = 0;
        if (atomic_compare_exchange_strong(&busy_threads[i], &expected, self))
            return i;
    }
    return -1;   /* more threads at once than slots: the extras skip the work */
}

int ct_busy_enter(void)
{
    return enter((uintptr_t)__builtin_thread_pointer());
}

int ct_busy_enter_in_handler(void)
{
    return enter((uintptr_t)__builtin_thread_pointer() | 1);
}

void ct_busy_leave(int slot)
{
    if (slot >= 0)
        atomic_store(&busy_threads[slot], 0);
}

int ct_shim_busy(void)
{
    uintptr_t self = (uintptr_t)__builtin_thread_pointer();
    for (int i = 0; i < CT_BUSY_SLOTS; i++)
        if ((atomic_load_explicit(&busy_threads[i], memory_order_relaxed) & ~(uintptr_t)1) == self)
            return 1;
    return 0;
}

int ct_busy_in_handler(void)
{
    uintptr_t self = (uintptr_t)__builtin_thread_pointer() | 1;
    for (int i = 0; i < CT_BUSY_SLOTS; i++)
        if (atomic_load_explicit(&busy_threads[i], memory_order_relaxed) == self)
            return 1;
    return 0;
}
