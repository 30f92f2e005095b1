/*
 * pyremote.h - is a running process a CPython, which version, and where.
 *
 * Promise: finds the interpreter of another process from its mappings and
 * the ELF files they name (libpython3.X*.so*, or an executable named
 * python3.X...) without touching the process beyond reading its memory:
 * the ELF object defining _PyRuntime, its load address, Py_Version read
 * from the process (3.11+; before that the version in the file's name),
 * and the address of PyDict_Type (names dict-keys tables). A process with
 * no such object is "not Python": found is false and nothing else is set.
 * ELF files are hostile input (libelf checks them); one that cannot be
 * read is skipped.
 */
#ifndef COWTRACE_PYREMOTE_H
#define COWTRACE_PYREMOTE_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "memread.h"
#include "procmem.h"

struct ct_pyremote {
    bool found;
    uint64_t hexversion;      /* PY_VERSION_HEX, or 0 when unknown */
    uint64_t runtime;         /* &_PyRuntime in the process */
    uint64_t dict_type;       /* &PyDict_Type, or 0 */
    bool shared;              /* in a shared libpython */
    bool free_threaded;       /* a free-threaded build (3.13+: _Py_DebugOffsets.free_threaded) */
    char path[4096];          /* the ELF object, as the maps name it */
};

void ct_pyremote_find(pid_t pid, const struct ct_vma *maps, size_t nmaps, const struct ct_memread *mem,
                      struct ct_pyremote *out);

/* The end (page aligned) of the last PT_LOAD segment of the ELF file
 * mapped from `path` in the process, in its address space: where the
 * file's bss ends. 0 when unknown. */
uint64_t ct_elf_load_end(pid_t pid, const struct ct_vma *maps, size_t nmaps, const char *path);

#endif
