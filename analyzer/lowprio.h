/*
 * lowprio.h - `cowtrace snapshot` and `cowtrace watch` yield the machine
 * to the server they examine.
 *
 * Promise: ct_lower_priority() puts the calling process (single-threaded
 * at that point; threads made later inherit it) in the lowest CPU class
 * the kernel offers, SCHED_IDLE, or nice 19 where SCHED_IDLE is refused,
 * and in the idle I/O class (ioprio_set), so a busy server's workers
 * always win a core over cowtrace, not its ~3 s of CPU for a snapshot
 * (on a saturated machine the snapshot then takes longer instead). Nothing it cannot change is an error: it says nothing and
 * carries on at the priority it had (reading is still correct).
 * `--priority normal` (CT_PRIORITY_NORMAL) leaves the priority alone.
 */
#ifndef COWTRACE_LOWPRIO_H
#define COWTRACE_LOWPRIO_H

enum ct_priority { CT_PRIORITY_IDLE, CT_PRIORITY_NORMAL };

/* The names --priority takes, in enum order, NULL-terminated. */
extern const char *const ct_priority_names[];

void ct_lower_priority(enum ct_priority p);

#endif
