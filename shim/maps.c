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
#include <sys/mman.h>

#include "ct_shim.h"

int ct_arena_contains(uintptr_t a, uintptr_t *start, uintptr_t *end);

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
    struct ct_region *regs = ct_arena_alloc((lines * 2 + 2) * sizeof *regs);
    if (!regs)
        return -ENOMEM;
    uintptr_t sp = (uintptr_t)__builtin_frame_address(0);
    uint32_t n = 0;
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

        uint32_t kind = CT_KIND_OTHER, is_file = 0;
        const char *name = "";
        size_t name_len = 0;
        const char *suffix = NULL;
        if (name_is(&l, "[heap]")) {
            kind = CT_KIND_HEAP;
            name = l.name, name_len = l.name_len;
        } else if (name_is(&l, "[stack]") || (sp >= l.start && sp < l.end)) {
            kind = CT_KIND_STACK;
            name = l.name, name_len = l.name_len;
        } else if (l.name_len && l.name[0] == '/') {
            kind = CT_KIND_DATA;
            is_file = 1;
            name = l.name, name_len = l.name_len;
        } else if (l.name_len == 0 && before.end == l.start && before.name_len && before.name[0] == '/' &&
                   before.perms[1] == 'w') {
            kind = CT_KIND_DATA;       /* the bss that follows a file's data */
            name = before.name, name_len = before.name_len;
            suffix = " (bss)";
        } else if (l.name_len == 0 && before.end == l.start && before.perms[0] == '-' &&
                   before.perms[1] == '-' && before.perms[2] == '-' && before.end - before.start <= (64u << 10)) {
            kind = CT_KIND_STACK;      /* a thread stack above its guard page */
        } else if (l.name_len == 0 || (l.name_len > 6 && !ct_strncmp(l.name, "[anon:", 6))) {
            kind = CT_KIND_ANON;
            name = l.name, name_len = l.name_len;
        } else {
            name = l.name, name_len = l.name_len;
        }
        const char *stored = copy_name(name, name_len, suffix);

        /* Cut out the shim's own memory: the library and the arena. */
        uintptr_t cuts[2][2];
        ct_arena_contains(0, &cuts[0][0], &cuts[0][1]);
        cuts[1][0] = ct_cfg.self_start;
        cuts[1][1] = ct_cfg.self_end;
        uintptr_t pieces[3][2] = {{l.start, l.end}};
        int np = 1;
        for (int c = 0; c < 2; c++) {
            int next = 0;
            uintptr_t res[3][2];
            for (int i = 0; i < np; i++) {
                uintptr_t a = pieces[i][0], b = pieces[i][1];
                uintptr_t cs = cuts[c][0], ce = cuts[c][1];
                if (cs >= ce || ce <= a || cs >= b) {
                    res[next][0] = a, res[next][1] = b, next++;
                    continue;
                }
                if (a < cs)
                    res[next][0] = a, res[next][1] = cs, next++;
                if (ce < b && next < 3)
                    res[next][0] = ce, res[next][1] = b, next++;
            }
            np = next;
            for (int i = 0; i < np; i++)
                pieces[i][0] = res[i][0], pieces[i][1] = res[i][1];
        }
        for (int i = 0; i < np && n < lines * 2 + 2; i++) {
            struct ct_region *g = &regs[n];
            g->start = pieces[i][0];
            g->end = pieces[i][1];
            g->id = n;
            g->kind = kind;
            g->prot = (l.perms[0] == 'r' ? PROT_READ : 0) | PROT_WRITE | (l.perms[2] == 'x' ? PROT_EXEC : 0);
            g->is_file = is_file;
            g->file_offset = l.offset + (g->start - l.start);
            g->inode = l.inode;
            g->name = stored;
            g->npages = (g->end - g->start) >> ct_cfg.page_shift;
            n++;
        }
    }
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
