/*
 * testhook.h - pause points for tests only: COWTRACE_TEST_PAUSE.
 *
 * Promise: without COWTRACE_TEST_PAUSE in the environment (every real
 * use) ct_test_pause() does nothing. With it, `cowtrace snapshot` and
 * `cowtrace watch` stop once at the named point for the named process and
 * wait for the test, so a test can make a process exit, or its pid name
 * another process, at exactly that moment (tests/test_snapshot.py --case
 * faults, tests/test_watch.py --case vanish). The value is
 * POINT:PID:FIFO; FIFO is a named pipe the test made. At POINT for PID,
 * cowtrace opens FIFO for writing, writes "POINT PID\n" and closes it
 * (the test reads it: paused), then opens FIFO for reading and reads to
 * its end (the test opens it, writes, closes: go on). Not a user option:
 * not in --help, and a value that does not parse is ignored.
 *
 * COWTRACE_TEST_ONE_THREAD=1 makes `cowtrace snapshot` do all its work in
 * one thread, as on a machine with one CPU, so a test can compare its
 * files with the threaded ones (tests/test_snapshot.py --case root).
 */
#ifndef COWTRACE_TESTHOOK_H
#define COWTRACE_TESTHOOK_H

#include <stdbool.h>
#include <sys/types.h>

/* The points. */
#define CT_PAUSE_LISTED "listed"  /* the tree listed; PID not read yet (snapshot), not counted yet (watch) */
#define CT_PAUSE_PAGES "pages"    /* snapshot: PID's page sets read, its copied pages' contents not yet */
#define CT_PAUSE_COUNTING "counting"  /* watch: PID's maps read and pagemap open, no page counted yet */

void ct_test_pause(const char *point, pid_t pid);

/* COWTRACE_TEST_ONE_THREAD is "1": no threads. */
bool ct_test_one_thread(void);

#endif
