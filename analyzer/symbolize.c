/*
 * symbolize.c - see symbolize.h. One libdwfl session per module file, the
 * file reported at bias 0 so that its addresses are the ELF file's own
 * (run-time address minus the recorded load bias): one session serves every
 * process that mapped the file, wherever it was loaded.
 */
#include "symbolize.h"

#include <elfutils/libdwfl.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <uthash.h>

#include "util.h"

/* One address of one module, looked up once. */
struct addr_entry {
    uint64_t addr;
    struct ct_sym sym;        /* strings owned here */
    UT_hash_handle hh;
};

/* One module file, keyed by path and recorded build id. */
struct mod_entry {
    char *key;                /* path, NUL, length byte, build id bytes */
    size_t keylen;
    enum ct_modstate state;
    char why[160];
    Dwfl *dwfl;
    Dwfl_Module *mod;
    struct addr_entry *addrs;
    UT_hash_handle hh;
};

struct ct_symbolizer {
    bool open_files;
    Dwfl_Callbacks cb;
    char *debuginfo_path;
    struct mod_entry *mods;
};

const char *ct_modstate_name(enum ct_modstate s)
{
    switch (s) {
    case CT_MOD_OK: return "ok";
    case CT_MOD_MISSING: return "missing";
    case CT_MOD_CHANGED: return "changed";
    case CT_MOD_UNREADABLE: return "unreadable";
    case CT_MOD_NOT_OPENED: return "not opened";
    }
    return "unknown";
}

struct ct_symbolizer *ct_symbolizer_new(bool open_files)
{
    struct ct_symbolizer *S = xcalloc(1, sizeof *S);
    S->open_files = open_files;
    /* The standard debuginfo search asks debuginfod servers when
     * DEBUGINFOD_URLS is set. A report is offline by promise: it must not
     * wait on the network (or tell a server which binaries ran here). The
     * report process starts nothing else, so clearing it here is safe. */
    if (open_files)
        unsetenv("DEBUGINFOD_URLS");
    S->cb.find_elf = dwfl_build_id_find_elf;
    S->cb.find_debuginfo = dwfl_standard_find_debuginfo;
    S->cb.section_address = dwfl_offline_section_address;
    S->debuginfo_path = NULL;  /* the default: /usr/lib/debug, .debug, ... */
    S->cb.debuginfo_path = &S->debuginfo_path;
    return S;
}

void ct_symbolizer_free(struct ct_symbolizer *S)
{
    if (!S)
        return;
    struct mod_entry *m, *mt;
    HASH_ITER(hh, S->mods, m, mt) {
        struct addr_entry *a, *at;
        HASH_ITER(hh, m->addrs, a, at) {
            HASH_DEL(m->addrs, a);
            free((char *)a->sym.func);
            free((char *)a->sym.file);
            free(a);
        }
        if (m->dwfl)
            dwfl_end(m->dwfl);
        HASH_DEL(S->mods, m);
        free(m->key);
        free(m);
    }
    free(S);
}

static void hexid(const uint8_t *id, size_t n, char *out)
{
    static const char d[] = "0123456789abcdef";
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = d[id[i] >> 4];
        out[2 * i + 1] = d[id[i] & 15];
    }
    out[2 * n] = '\0';
}

/* Opens m's file and checks it is the traced one. */
static void open_module(struct ct_symbolizer *S, const struct ct_module *m, struct mod_entry *e)
{
    if (!S->open_files) {
        e->state = CT_MOD_NOT_OPENED;
        snprintf(e->why, sizeof e->why, "module files not read");
        return;
    }
    /* The path comes from the trace: a NUL inside it names another file. */
    if (m->path.len == 0 || memchr(m->path.s, '\0', m->path.len)) {
        e->state = CT_MOD_MISSING;
        snprintf(e->why, sizeof e->why, "no usable path recorded");
        return;
    }
    /* O_NONBLOCK: a FIFO put where a library was must not hang the report. */
    int fd = open(m->path.s, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
        e->state = CT_MOD_MISSING;
        snprintf(e->why, sizeof e->why, "%s", fd < 0 ? strerror(errno) : "not a regular file");
        if (fd >= 0)
            close(fd);
        return;
    }
    e->dwfl = dwfl_begin(&S->cb);
    if (!e->dwfl) {
        close(fd);
        e->state = CT_MOD_UNREADABLE;
        snprintf(e->why, sizeof e->why, "libdw: %s", dwfl_errmsg(-1));
        return;
    }
    dwfl_report_begin(e->dwfl);
    /* On success libdwfl owns fd (closed by dwfl_end); on failure it is
     * still ours. */
    e->mod = dwfl_report_elf(e->dwfl, m->path.s, m->path.s, fd, 0, false);
    dwfl_report_end(e->dwfl, NULL, NULL);
    if (!e->mod) {
        close(fd);
        e->state = CT_MOD_UNREADABLE;
        snprintf(e->why, sizeof e->why, "not a readable ELF file (%s)", dwfl_errmsg(-1));
        return;
    }
    const unsigned char *bits = NULL;
    GElf_Addr vaddr;
    int n = dwfl_module_build_id(e->mod, &bits, &vaddr);
    if (n < 0)
        n = 0;
    /* The shim keeps at most 20 bytes of a build id. */
    size_t cmp = (size_t)n < 20 ? (size_t)n : 20;
    if (cmp != m->build_id_len || (cmp && memcmp(bits, m->build_id, cmp))) {
        char was[41], now[41];
        hexid(m->build_id, m->build_id_len, was);
        hexid(bits ? bits : (const unsigned char *)"", cmp, now);
        e->state = CT_MOD_CHANGED;
        snprintf(e->why, sizeof e->why, "build id %s, the trace recorded %s",
                 now[0] ? now : "(none)", was[0] ? was : "(none)");
        return;
    }
    e->state = CT_MOD_OK;
}

static struct mod_entry *module(struct ct_symbolizer *S, const struct ct_module *m)
{
    size_t plen = m->path.len, blen = m->build_id_len <= 20 ? m->build_id_len : 20;
    size_t klen = plen + 2 + blen;
    char *key = xmalloc(klen);
    memcpy(key, m->path.s, plen);
    key[plen] = '\0';
    key[plen + 1] = (char)blen;
    memcpy(key + plen + 2, m->build_id, blen);
    struct mod_entry *e;
    HASH_FIND(hh, S->mods, key, klen, e);
    if (e) {
        free(key);
        return e;
    }
    e = xcalloc(1, sizeof *e);
    e->key = key;
    e->keylen = klen;
    open_module(S, m, e);
    HASH_ADD_KEYPTR(hh, S->mods, e->key, e->keylen, e);
    return e;
}

enum ct_modstate ct_module_state(struct ct_symbolizer *S, const struct ct_module *m, const char **why)
{
    struct mod_entry *e = module(S, m);
    if (why)
        *why = e->why;
    return e->state;
}

enum ct_modstate ct_symbolize(struct ct_symbolizer *S, const struct ct_module *m, uint64_t addr,
                              struct ct_sym *out)
{
    struct mod_entry *e = module(S, m);
    if (e->state != CT_MOD_OK)
        return e->state;
    struct addr_entry *a;
    HASH_FIND(hh, e->addrs, &addr, sizeof addr, a);
    if (!a) {
        a = xcalloc(1, sizeof *a);
        a->addr = addr;
        GElf_Off off = 0;
        GElf_Sym sym;
        const char *name = dwfl_module_addrinfo(e->mod, addr, &off, &sym, NULL, NULL, NULL);
        if (name && name[0]) {
            /* .dynsym names of versioned symbols carry their version
             * ("__libc_start_main@@GLIBC_2.34"): the function is the name. */
            const char *at = strchr(name, '@');
            a->sym.func = at && at > name ? xmemdup0(name, (size_t)(at - name)) : xstrdup(name);
            a->sym.func_addr = addr - off;
        }
        Dwfl_Line *ln = dwfl_module_getsrc(e->mod, addr);
        int line = 0;
        const char *file = ln ? dwfl_lineinfo(ln, NULL, &line, NULL, NULL, NULL) : NULL;
        if (file && file[0] && line > 0) {
            a->sym.file = xstrdup(file);
            a->sym.line = line;
        }
        HASH_ADD(hh, e->addrs, addr, sizeof a->addr, a);
    }
    *out = a->sym;
    return CT_MOD_OK;
}
