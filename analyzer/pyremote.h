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
    uint32_t alloc_flags;     /* CT_PY_NO_PYMALLOC, CT_PY_ALLOC_*: from its environment (below) */
    char alloc_why[96];       /* "PYTHONMALLOC=malloc in its environment", ...; "" for the default */
    char path[4096];          /* the ELF object, as the maps name it */
};

/* Also, when found: the object allocator, as the interpreter chose it at
 * start-up from what it was started with (/proc/PID/environ and cmdline):
 * PYTHONMALLOC, else the debug hooks of -X dev or PYTHONDEVMODE, else the
 * build's default; -E and -I (read from the command line when argv[0] is a
 * python) make it ignore the environment. What this cannot see: an
 * allocator the program installs itself (PyMem_SetAllocator), and -E given
 * to an interpreter that rewrote its command line (setproctitle). */
void ct_pyremote_find(pid_t pid, const struct ct_vma *maps, size_t nmaps, const struct ct_memread *mem,
                      struct ct_pyremote *out);

/* The end (page aligned) of the last PT_LOAD segment of the ELF file
 * mapped from `path` in the process, in its address space: where the
 * file's bss ends. 0 when unknown. */
uint64_t ct_elf_load_end(pid_t pid, const struct ct_vma *maps, size_t nmaps, const char *path);

/* The allocator part of ct_pyremote_find, on the NUL-separated texts of a
 * process's cmdline and environ (for tests): its flags, and why in why. */
uint32_t ct_pyremote_allocator_of(const char *cmdline, size_t clen, const char *environ, size_t elen,
                                  bool free_threaded, char *why, size_t whylen);

#endif
