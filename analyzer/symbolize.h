/*
 * symbolize.h - native instruction addresses to function, offset, file and
 * line, offline, from the ELF files the trace's MODULE records name.
 *
 * Promise: never a silent mis-symbolization. A module is used only if its
 * file is a regular ELF file whose GNU build id is the one the shim
 * recorded; otherwise its state says why not (missing, changed, unreadable)
 * and the caller shows module+offset. Function names come from the ELF
 * symbol tables (.symtab, else .dynsym, also from a separate debug file);
 * file:line from DWARF line tables, in the file or in a separate debug file
 * found by build id (/usr/lib/debug/.build-id/xx/rest.debug) or
 * .gnu_debuglink. Nothing is fetched from the network (debuginfod is
 * turned off): a report must not stall on a server.
 *
 * Cost: each distinct (path, build id) is opened once per symbolizer, and
 * each distinct address looked up once per module: a million pages share a
 * few hundred stacks, and those share their frames.
 */
#ifndef COWTRACE_SYMBOLIZE_H
#define COWTRACE_SYMBOLIZE_H

#include <stdbool.h>
#include <stdint.h>

#include "trace.h"

enum ct_modstate {
    CT_MOD_OK = 0,            /* the file is the one traced */
    CT_MOD_MISSING,           /* no such file, or not a regular file */
    CT_MOD_CHANGED,           /* the build id differs from the recorded one */
    CT_MOD_UNREADABLE,        /* not an ELF file libdw can read */
    CT_MOD_NOT_OPENED,        /* files were not to be opened (tests, fuzzing) */
};

const char *ct_modstate_name(enum ct_modstate s); /* "ok", "missing", "changed", ... */

/* What an address is, inside a usable module. Strings are owned by the
 * symbolizer and live as long as it does. */
struct ct_sym {
    const char *func;         /* NULL: no symbol covers the address */
    uint64_t func_addr;       /* the symbol's value (file address) */
    const char *file;         /* NULL: no line information */
    int line;
};

struct ct_symbolizer;

/* open_files false: every module is CT_MOD_NOT_OPENED (for the fuzz target
 * and tests that must not depend on the machine's files). */
struct ct_symbolizer *ct_symbolizer_new(bool open_files);
void ct_symbolizer_free(struct ct_symbolizer *S);

/* The state of module m (opening it on first use); *why, when not OK, is a
 * sentence fragment such as "build id differs" (owned by S). */
enum ct_modstate ct_module_state(struct ct_symbolizer *S, const struct ct_module *m, const char **why);

/* Looks up file address `addr` (run-time address minus m->base) in m.
 * Returns the module's state; *out is filled only when it is CT_MOD_OK. */
enum ct_modstate ct_symbolize(struct ct_symbolizer *S, const struct ct_module *m, uint64_t addr,
                              struct ct_sym *out);

#endif
