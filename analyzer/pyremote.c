/*
 * pyremote.c - see pyremote.h. Symbols come from .dynsym, else .symtab
 * (a static python3.X exports its C API dynamically; pyenv's links
 * libpython). The load bias is where the file's offset-0 mapping starts
 * minus the first PT_LOAD's page-aligned address, as the dynamic loader
 * placed it.
 */
#include "pyremote.h"

#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <libelf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "allocator.h"
#include "pyver.h"

struct wanted {
    const char *name;
    uint64_t value;
};

/* The values of the named symbols in the file, and its first PT_LOAD's
 * page-aligned address. 0, or -1 when the file is no readable ELF. */
static int elf_symbols(const char *path, struct wanted *w, size_t nw, uint64_t *first_load)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    elf_version(EV_CURRENT);
    Elf *e = elf_begin(fd, ELF_C_READ, NULL);
    int rc = -1;
    size_t nph;
    if (!e || elf_kind(e) != ELF_K_ELF || elf_getphdrnum(e, &nph) != 0)
        goto out;
    *first_load = UINT64_MAX;
    for (size_t i = 0; i < nph; i++) {
        GElf_Phdr ph;
        if (gelf_getphdr(e, (int)i, &ph) && ph.p_type == PT_LOAD) {
            *first_load = ph.p_vaddr & ~(uint64_t)4095;
            break;
        }
    }
    if (*first_load == UINT64_MAX)
        goto out;
    for (int pass = 0; pass < 2; pass++) {
        Elf_Scn *scn = NULL;
        while ((scn = elf_nextscn(e, scn))) {
            GElf_Shdr sh;
            if (!gelf_getshdr(scn, &sh) || sh.sh_type != (pass ? SHT_SYMTAB : SHT_DYNSYM) || !sh.sh_entsize)
                continue;
            Elf_Data *d = elf_getdata(scn, NULL);
            size_t n = d ? sh.sh_size / sh.sh_entsize : 0;
            for (size_t i = 0; i < n; i++) {
                GElf_Sym s;
                if (!gelf_getsym(d, (int)i, &s) || s.st_shndx == SHN_UNDEF || !s.st_value)
                    continue;
                const char *name = elf_strptr(e, sh.sh_link, s.st_name);
                if (!name)
                    continue;
                for (size_t k = 0; k < nw; k++)
                    if (!w[k].value && !strcmp(name, w[k].name))
                        w[k].value = s.st_value;
            }
        }
        if (w[0].value)
            break;
    }
    rc = 0;
out:
    if (e)
        elf_end(e);
    close(fd);
    return rc;
}

uint64_t ct_elf_load_end(pid_t pid, const struct ct_vma *maps, size_t nmaps, const char *path)
{
    uint64_t base = 0;
    bool found = false;
    for (size_t i = 0; i < nmaps && !found; i++)
        if (maps[i].offset == 0 && !strcmp(maps[i].name, path)) {
            base = maps[i].start;
            found = true;
        }
    if (!found)
        return 0;
    char full[4200];
    snprintf(full, sizeof full, "/proc/%d/root%s", (int)pid, path);
    int fd = open(full, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return 0;
    elf_version(EV_CURRENT);
    Elf *e = elf_begin(fd, ELF_C_READ, NULL);
    size_t nph;
    uint64_t first = UINT64_MAX, end = 0;
    if (e && elf_kind(e) == ELF_K_ELF && elf_getphdrnum(e, &nph) == 0)
        for (size_t i = 0; i < nph; i++) {
            GElf_Phdr ph;
            if (!gelf_getphdr(e, (int)i, &ph) || ph.p_type != PT_LOAD)
                continue;
            if (first == UINT64_MAX)
                first = ph.p_vaddr & ~(uint64_t)4095;
            if (ph.p_vaddr + ph.p_memsz > end)
                end = ph.p_vaddr + ph.p_memsz;
        }
    if (e)
        elf_end(e);
    close(fd);
    if (first == UINT64_MAX || end <= first)
        return 0;
    return base - first + ((end + 4095) & ~(uint64_t)4095);
}

/* The version a file name says ("libpython3.10.so.1.0", "python3.11"):
 * its hexversion with micro 0, or 0. */
static uint64_t version_in_name(const char *base)
{
    const char *p = strstr(base, "python");
    if (!p)
        return 0;
    p += 6;
    size_t n = strspn(p, "0123456789");
    if (!n || p[n] != '.')
        return 0;
    n += 1 + strspn(p + n + 1, "0123456789");
    char text[32];
    if (n > 8)
        return 0;
    snprintf(text, sizeof text, "%.*s.0", (int)n, p);
    return ct_pyversion_parse(text);
}

/* The next NUL-ended string of a /proc text at *at, or NULL at its end. */
static const char *next_string(const char *text, size_t len, size_t *at)
{
    if (*at >= len)
        return NULL;
    const char *s = text + *at;
    const char *nul = memchr(s, 0, len - *at);
    if (!nul)             /* cut short: the text is the caller's, NUL-ended past len */
        nul = text + len;
    *at = (size_t)(nul - text) + 1;
    return s;
}

uint32_t ct_pyremote_allocator_of(const char *cmdline, size_t clen, const char *environ, size_t elen,
                                  bool free_threaded, char *why, size_t whylen)
{
    bool ignore_env = false, dev = false;
    size_t at = 0;
    const char *argv0 = next_string(cmdline, clen, &at);
    const char *base = argv0 ? strrchr(argv0, '/') : NULL;
    base = base ? base + 1 : argv0;
    /* Options come before the script, -c or -m (Python's getopt). */
    for (const char *a; base && !strncmp(base, "python", 6) && (a = next_string(cmdline, clen, &at)) != NULL;) {
        if (a[0] != '-' || !a[1] || !strcmp(a, "--"))
            break;
        if (a[1] == '-') {                /* --check-hash-based-pycs MODE, --help, ... */
            if (!strcmp(a, "--check-hash-based-pycs"))
                next_string(cmdline, clen, &at);
            continue;
        }
        bool stop = false;
        for (const char *c = a + 1; *c && !stop; c++) {
            if (*c == 'c' || *c == 'm')
                stop = true;
            else if (*c == 'E' || *c == 'I')
                ignore_env = true;
            else if (*c == 'X' || *c == 'W') {
                const char *val = c[1] ? c + 1 : next_string(cmdline, clen, &at);
                if (*c == 'X' && val && !strcmp(val, "dev"))
                    dev = true;
                break;
            }
        }
        if (stop)
            break;
    }
    const char *malloc_env = NULL;
    bool devmode_env = false;
    at = 0;
    for (const char *e; !ignore_env && (e = next_string(environ, elen, &at)) != NULL;) {
        if (!strncmp(e, "PYTHONMALLOC=", 13) && e[13])
            malloc_env = e + 13;
        else if (!strncmp(e, "PYTHONDEVMODE=", 14) && e[14])
            devmode_env = true;
    }
    bool known = false;
    uint32_t flags = 0;
    why[0] = 0;
    if (malloc_env) {
        flags = ct_py_allocator_flags(malloc_env, free_threaded, &known);
        /* Python refuses to start with a name it does not know */
        if (known)
            snprintf(why, whylen, "PYTHONMALLOC=%.40s in its environment", malloc_env);
        else
            flags = 0;
    }
    if (!known && (dev || devmode_env)) {
        flags = ct_py_allocator_flags("debug", free_threaded, &known);
        snprintf(why, whylen, "%s", dev ? "-X dev on its command line" : "PYTHONDEVMODE in its environment");
    }
    if (!known)   /* the build's default: pymalloc, or mimalloc when free-threaded */
        flags = ct_py_allocator_flags("default", free_threaded, &known);
    return flags;
}

/* /proc/PID/NAME whole (bounded), NUL-ended past *len; NULL if unreadable. */
static char *read_proc_text(pid_t pid, const char *name, size_t *len)
{
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/%s", (int)pid, name);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return NULL;
    size_t cap = 1 << 20, n = 0;   /* the kernel's ARG_MAX-bounded texts */
    char *buf = malloc(cap + 1);
    while (buf && n < cap) {
        ssize_t r = read(fd, buf + n, cap - n);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            break;
        n += (size_t)r;
    }
    close(fd);
    if (buf)
        buf[n] = 0;
    *len = n;
    return buf;
}

void ct_pyremote_find(pid_t pid, const struct ct_vma *maps, size_t nmaps, const struct ct_memread *mem,
                      struct ct_pyremote *out)
{
    memset(out, 0, sizeof *out);
    for (size_t i = 0; i < nmaps; i++) {
        const struct ct_vma *m = &maps[i];
        if (m->offset != 0 || m->name[0] != '/' || !m->inode)
            continue;
        const char *base = strrchr(m->name, '/') + 1;
        uint64_t named = version_in_name(base);
        if (!named)
            continue;
        bool seen = false;
        for (size_t j = 0; j < i && !seen; j++)
            seen = maps[j].offset == 0 && !strcmp(maps[j].name, m->name);
        if (seen)
            continue;
        /* Through the process's root: the file it mapped, even in a container. */
        char path[4200];
        snprintf(path, sizeof path, "/proc/%d/root%s", (int)pid, m->name);
        struct wanted w[] = { {"_PyRuntime", 0}, {"Py_Version", 0}, {"PyDict_Type", 0} };
        uint64_t first_load;
        if (elf_symbols(path, w, 3, &first_load) != 0 && elf_symbols(m->name, w, 3, &first_load) != 0)
            continue;
        if (!w[0].value)
            continue;
        uint64_t bias = m->start - first_load;
        out->found = true;
        out->runtime = bias + w[0].value;
        out->dict_type = w[2].value ? bias + w[2].value : 0;
        out->shared = strstr(base, ".so") != NULL;
        snprintf(out->path, sizeof out->path, "%s", m->name);
        uint64_t hex = 0;
        /* Py_Version (3.11+) when it names the same layout as the file. */
        if (w[1].value && ct_mem_u64(mem, bias + w[1].value, &hex) == 0 && ct_pyver_for(hex) &&
            ct_pyver_for(hex) == ct_pyver_for(named))
            out->hexversion = hex;
        else
            out->hexversion = named;
        /* 3.13+: _PyRuntime starts with _Py_DebugOffsets: the cookie, the
         * version, whether the build is free-threaded (pycore_runtime.h) */
        uint8_t head[CT_PY_RUNTIME_HEAD];
        out->free_threaded = ct_mem_read(mem, out->runtime, head, sizeof head) == 0 &&
                             ct_pyver_free_threaded(head, out->hexversion) == 1;
        size_t clen = 0, elen = 0;
        char *cmdline = read_proc_text(pid, "cmdline", &clen), *environ_ = read_proc_text(pid, "environ", &elen);
        out->alloc_flags = ct_pyremote_allocator_of(cmdline ? cmdline : "", cmdline ? clen : 0,
                                                    environ_ ? environ_ : "", environ_ ? elen : 0,
                                                    out->free_threaded, out->alloc_why, sizeof out->alloc_why);
        free(cmdline);
        free(environ_);
        return;
    }
}
