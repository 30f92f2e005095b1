/*
 * lowprio.c - see lowprio.h: SCHED_IDLE (or nice 19) and the idle I/O
 * class for cowtrace's own process.
 */
#include <sched.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "lowprio.h"

const char *const ct_priority_names[] = { "idle", "normal", NULL };

/* linux/ioprio.h's values, which glibc does not wrap. */
#define IOPRIO_WHO_PROCESS 1
#define IOPRIO_CLASS_IDLE 3
#define IOPRIO_CLASS_SHIFT 13

void ct_lower_priority(enum ct_priority p)
{
    if (p != CT_PRIORITY_IDLE)
        return;
    struct sched_param none = { .sched_priority = 0 };
    /* SCHED_IDLE: weight 3 against a nice-0 task's 1024, so the workers run
     * whenever they are runnable; refused (a seccomp filter, an old
     * kernel): nice 19, weight 15, nearly as good. */
    if (sched_setscheduler(0, SCHED_IDLE, &none) != 0)
        (void)setpriority(PRIO_PROCESS, 0, 19);
    /* Its reads of /proc/PID/mem and pagemap are memory, not disk, but a
     * swapped-out page is read from disk: there too the server first. */
    (void)syscall(SYS_ioprio_set, IOPRIO_WHO_PROCESS, 0, IOPRIO_CLASS_IDLE << IOPRIO_CLASS_SHIFT);
}
