/*
 * maps.c - the memory a child inherited, from /proc/self/maps.
 *
 * A region is one private writable mapping: the brk heap, anonymous
 * mappings (pymalloc arenas, large malloc blocks), the writable data and bss
 * of the executable and its libraries, and stacks. Shared mappings cannot be
 * copied on write and are left out, as are the kernel's special mappings and
 * the shim's own memory.
 */
#include <errno.h>
#include <fcntl.h>
#include <link.h>
#include <sys/mman.h>

#include "ct_shim.h"

#define CT_MAPS_MAX (16u << 20)

/* The text lives in the arena: a buffer of our own mmap would show up in the
 * very listing it holds, as a region to track. */
static int read_all(const char *path, char **out)
{
    char *buf = ct_arena_alloc(CT_MAPS_MAX);
    if (!buf)
        return -ENOMEM;
    long fd = ct_openat(AT_FDCWD, path, O_RDONLY | O_CLOEXEC, 0);
    if (ct_is_err(fd))
        return (int)fd;
    size_t n = 0;
    for (;;) {
        long r = ct_read((int)fd, buf + n, CT_MAPS_MAX - n - 1);
        if (r == -EINTR)
            continue;
        if (ct_is_err(r)) {
            ct_close((int)fd);
            return (int)r;
        }
        if (r == 0)
            break;
        n += (size_t)r;
        if (n >= CT_MAPS_MAX - 1) {
            ct_close((int)fd);
            return -E2BIG;
        }
    }
    ct_close((int)fd);
    buf[n] = 0;
    *out = buf;
    return 0;
}

static uint64_t parse_hex(const char **p)
{
    uint64_t v = 0;
    for (;; (*p)++) {
        char c = **p;
        if (c >= '0' && c <= '9')
            v = v * 16 + (uint64_t)(c - '0');
        else if (c >= 'a' && c <= 'f')
            v = v * 16 + (uint64_t)(c - 'a' + 10);
        else
            return v;
    }
}

static uint64_t parse_dec(const char **p)
{
    uint64_t v = 0;
    while (**p >= '0' && **p <= '9')
        v = v * 10 + (uint64_t)(*(*p)++ - '0');
    return v;
}

struct line {
    uintptr_t start, end;
    char perms[4];
    uint64_t offset, inode;
    const char *name;
    size_t name_len;
};

static const char *parse_line(const char *p, struct line *l)
{
    l->start = parse_hex(&p);
    if (*p++ != '-')
        return NULL;
    l->end = parse_hex(&p);
    if (*p++ != ' ')
        return NULL;
    for (int i = 0; i < 4; i++)
        l->perms[i] = *p++;
    p++;
    l->offset = parse_hex(&p);
    p++;
    parse_hex(&p);          /* dev major */
    p++;
    parse_hex(&p);          /* dev minor */
    p++;
    l->inode = parse_dec(&p);
    while (*p == ' ')
        p++;
    l->name = p;
    while (*p && *p != '\n')
        p++;
    l->name_len = (size_t)(p - l->name);
    return *p ? p + 1 : p;
}

static int special(const struct line *l)
{
    static const char *names[] = {"[vvar]", "[vdso]", "[vsyscall]", "[vvar_vclock]", "[uprobes]", NULL};
    for (int i = 0; names[i]; i++) {
        size_t n = ct_strlen(names[i]);
        if (l->name_len == n && !ct_strncmp(l->name, names[i], n))
            return 1;
    }
    return 0;
}

static int name_is(const struct line *l, const char *s)
{
    size_t n = ct_strlen(s);
    return l->name_len == n && !ct_strncmp(l->name, s, n);
}

static const char *copy_name(const char *s, size_t n, const char *suffix)
{
    size_t sl = suffix ? ct_strlen(suffix) : 0;
    char *d = ct_arena_alloc(n + sl + 1);
    if (!d)
        return "";
    ct_memcpy(d, s, n);
    if (sl)
        ct_memcpy(d + n, suffix, sl);
    d[n + sl] = 0;
    return d;
}

struct pieces {
    struct ct_region *regs;
    uint32_t n, cap;
};

/* One region per piece of [a, b) left after cutting out the shim's own
 * memory (the library and the arena). */
static void add_pieces(struct pieces *out, const struct line *l, uintptr_t a, uintptr_t b, uint32_t kind,
                       uint32_t is_file, const char *name)
{
    /* Up to 2 + CT_OWN_MAPS cuts; each can split a piece in two. */
    uintptr_t cuts[2 + CT_OWN_MAPS][2];
    int ncuts = 2;
    ct_arena_contains(0, &cuts[0][0], &cuts[0][1]);
    cuts[1][0] = ct_cfg.self_start;
    cuts[1][1] = ct_cfg.self_end;
    while (ncuts < 2 + CT_OWN_MAPS && ct_own_mapping(ncuts - 2, &cuts[ncuts][0], &cuts[ncuts][1]))
        ncuts++;
    uintptr_t pieces[8][2] = {{a, b}};
    int np = 1;
    for (int c = 0; c < ncuts; c++) {
        int next = 0;
        uintptr_t res[8][2];
        for (int i = 0; i < np; i++) {
            uintptr_t x = pieces[i][0], y = pieces[i][1];
            uintptr_t cs = cuts[c][0], ce = cuts[c][1];
            if (cs >= ce || ce <= x || cs >= y) {
                res[next][0] = x, res[next][1] = y, next++;
                continue;
            }
            if (x < cs && next < 8)
                res[next][0] = x, res[next][1] = cs, next++;
            if (ce < y && next < 8)
                res[next][0] = ce, res[next][1] = y, next++;
        }
        np = next;
        for (int i = 0; i < np; i++)
            pieces[i][0] = res[i][0], pieces[i][1] = res[i][1];
    }
    for (int i = 0; i < np && out->n < out->cap; i++) {
        struct ct_region *g = &out->regs[out->n];
        g->start = pieces[i][0];
        g->end = pieces[i][1];
        g->id = out->n;
        g->kind = kind;
        g->prot = (l->perms[0] == 'r' ? PROT_READ : 0) | PROT_WRITE | (l->perms[2] == 'x' ? PROT_EXEC : 0);
        g->is_file = is_file;
        g->file_offset = l->offset + (g->start - l->start);
        g->inode = l->inode;
        g->name = name;
        g->npages = (g->end - g->start) >> ct_cfg.page_shift;
        out->n++;
    }
}

/* Where each loaded object's bss ends, from its program headers. Read in
 * the child before anything is protected (dl_iterate_phdr takes the
 * loader's lock). */
#define CT_MAX_OBJECTS 4096
static uintptr_t (*bss_ranges)[2];
static int nbss;

static int note_bss(struct dl_phdr_info *info, size_t size, void *data)
{
    (void)size, (void)data;
    uintptr_t mask = (uintptr_t)ct_cfg.page_size - 1;
    for (int i = 0; i < info->dlpi_phnum && nbss < CT_MAX_OBJECTS; i++) {
        const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
        if (ph->p_type != PT_LOAD || !(ph->p_flags & PF_W) || ph->p_memsz <= ph->p_filesz)
            continue;
        uintptr_t file_end = info->dlpi_addr + ph->p_vaddr + ph->p_filesz;
        uintptr_t mem_end = info->dlpi_addr + ph->p_vaddr + ph->p_memsz;
        bss_ranges[nbss][0] = (file_end + mask) & ~mask;
        bss_ranges[nbss][1] = (mem_end + mask) & ~mask;
        nbss++;
    }
    return 0;
}

static void collect_bss(void)
{
    nbss = 0;
    bss_ranges = ct_arena_alloc(CT_MAX_OBJECTS * sizeof *bss_ranges);
    if (bss_ranges)
        dl_iterate_phdr(note_bss, NULL);
}

static uintptr_t bss_end_at(uintptr_t a)
{
    for (int i = 0; i < nbss; i++)
        if (a >= bss_ranges[i][0] && a < bss_ranges[i][1])
            return bss_ranges[i][1];
    return 0;
}

int ct_maps_read(struct ct_region **out, uint32_t *count)
{
    char *text;
    int r = read_all("/proc/self/maps", &text);
    if (r)
        return r;
    size_t lines = 0;
    for (const char *p = text; *p; p++)
        lines += *p == '\n';
    /* Subtracting our own ranges can split a line in two. */
    struct pieces out_regs = {.cap = lines * 8 + 8};
    out_regs.regs = ct_arena_alloc(out_regs.cap * sizeof *out_regs.regs);
    if (!out_regs.regs)
        return -ENOMEM;
    collect_bss();
    uintptr_t sp = (uintptr_t)__builtin_frame_address(0);
    struct line prev = {0};
    const char *p = text;
    while (*p) {
        struct line l;
        p = parse_line(p, &l);
        if (!p)
            break;
        struct line before = prev;
        prev = l;
        if (l.perms[1] != 'w' || l.perms[3] != 'p' || special(&l))
            continue;

        uint32_t kind = CT_KIND_OTHER;
        uintptr_t bss_end = 0;
        if (name_is(&l, "[heap]")) {
            kind = CT_KIND_HEAP;
        } else if (name_is(&l, "[stack]") || (sp >= l.start && sp < l.end)) {
            kind = CT_KIND_STACK;
        } else if (l.name_len && l.name[0] == '/') {
            kind = CT_KIND_DATA;
        } else if (l.name_len == 0 && before.end == l.start && before.name_len && before.name[0] == '/' &&
                   before.perms[1] == 'w' && (bss_end = bss_end_at(l.start)) > l.start) {
            /* The bss of the file before: as far as its ELF headers say.
             * The kernel merges any anonymous mapping placed right after it
             * into the same line; that part is anonymous memory. */
            uintptr_t cut = bss_end < l.end ? bss_end : l.end;
            const char *bss_name = copy_name(before.name, before.name_len, " (bss)");
            add_pieces(&out_regs, &l, l.start, cut, CT_KIND_DATA, 0, bss_name);
            if (cut < l.end)
                add_pieces(&out_regs, &l, cut, l.end, CT_KIND_ANON, 0, "");
            continue;
        } else if (l.name_len == 0 && before.end == l.start && before.perms[0] == '-' &&
                   before.perms[1] == '-' && before.perms[2] == '-' && before.end - before.start <= (64u << 10)) {
            kind = CT_KIND_STACK;      /* a thread stack above its guard page */
        } else if (l.name_len == 0 || (l.name_len > 6 && !ct_strncmp(l.name, "[anon:", 6))) {
            kind = CT_KIND_ANON;
        }
        add_pieces(&out_regs, &l, l.start, l.end, kind, kind == CT_KIND_DATA,
                   copy_name(l.name, l.name_len, NULL));
    }
    struct ct_region *regs = out_regs.regs;
    uint32_t n = out_regs.n;
    *out = regs;
    *count = n;
    return 0;
}

struct ct_region *ct_region_of(uintptr_t addr)
{
    struct ct_state *st = ct_st;
    if (!st)
        return NULL;
    uint32_t lo = 0, hi = st->nregions;
    while (lo < hi) {
        uint32_t mid = (lo + hi) / 2;
        struct ct_region *r = &st->regions[mid];
        if (addr < r->start)
            hi = mid;
        else if (addr >= r->end)
            lo = mid + 1;
        else
            return r;
    }
    return NULL;
}
