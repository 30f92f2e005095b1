/*
 * ct_mktrace.c - `ct-mktrace`: write a valid synthetic trace, for tests and
 * for timing `cowtrace report`.
 *
 * Promise: the trace is valid and its counts are known in advance:
 *   tracked = present pages = regions * ceil(region_pages / present_every)
 *   cow     = --dirty D pages, spread evenly over the present pages
 *   fresh   = --fresh F pages, spread evenly over the pages not present
 * (--expect prints them). Spreading evenly makes the dirty set a realistic
 * worst case for the reader: many short runs rather than one long one.
 *
 * With --python the trace has an interpreter and type records, and dirty
 * pages can carry evidence whose causes are known in advance: --evidence
 * SPEC gives the first pages exact causes and types, --events-with-evidence
 * cycles every dirty page through causes and types (for timing). In sync
 * modes the evidence is in WRITE events; in uffd-async it is in page
 * summaries, and --expect applies the inferred rules (cause.h).
 *
 * Stacks: --module, --pycode and --stack write MODULE, PYCODE and STACK
 * records as given, and an evidence item ending in @ID gives its pages that
 * stack; --stacks N makes N synthetic stacks (for timing) that evidence
 * pages cycle through.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cause.h"
#include "mktrace.h"
#include "pyver.h"

#define BASE_ADDR 0x7f0000000000ull
#define PAGE 4096ull
#define MAX_RUNLIST 65536    /* bytes of run list per record, like a shim flushing a buffer */

static void usage(FILE *f)
{
    fputs("usage: ct-mktrace OUT.cowtrace [--pid N] [--ppid N] [--mode uffd-async|uffd|mprotect]\n"
          "                  [--regions N] [--region-pages P] [--present-every K]\n"
          "                  [--dirty D] [--fresh F] [--events] [--exit N | --signal N | --no-end]\n"
          "                  [--python HEX [--layout-unknown] [--gc-frozen] [--types N]\n"
          "                   [--evidence SPEC | --events-with-evidence] [--shuffle-events]]\n"
          "                  [--expect]\n"
          "Writes a valid synthetic trace: N regions of P pages, every K-th page present\n"
          "at fork, D present pages dirtied (copied) and F non-present pages dirtied\n"
          "(fresh), as WRITTEN run lists or, with --events, one WRITE event per page.\n"
          "--python HEX adds an interpreter record (PY_VERSION_HEX, e.g. 0x30b07f0) and N\n"
          "type records (int, str, list, dict, Model, then T5, T6, ...; default 5).\n"
          "--evidence SPEC: the first dirty pages carry evidence, SPEC being\n"
          "CAUSE[:TYPE]=COUNT,... with CAUSE refcount, gc, object (need a TYPE),\n"
          "allocator, other or unknown; --dirty defaults to the total.\n"
          "--events-with-evidence: every dirty page carries evidence, cycling causes\n"
          "and types. Evidence is in WRITE events (sync modes, implies --events) or\n"
          "page summaries (uffd-async). --shuffle-events writes them in time order\n"
          "that is not address order, as a real run does.\n"
          "--expect prints the counts a report must show, causes included.\n"
          "Stacks (precise modes, with evidence):\n"
          "  --module PATH,BASE,START,END[,BUILDID_HEX]   a MODULE record (repeatable)\n"
          "  --pycode ADDR,FIRSTLINE,LINETABLE_HEX,QUALNAME,FILENAME   a PYCODE record\n"
          "  --stack ID:FLAGS:IP/IP/...:CODE@LASTI[!]/...    a STACK record, innermost first\n"
          "                                (!: the frame is CT_PYFRAME_ENTRY)\n"
          "  an --evidence item CAUSE[:TYPE]=N@ID gives its pages stack ID\n"
          "  --stacks N   N synthetic stacks (24 native frames in the first --module,\n"
          "               8 Python frames over 64 code objects) cycled over evidence pages\n", f);
}

static unsigned long long num(const char *opt, const char *s)
{
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 0);
    if (errno || !*s || *end || s[0] == '-') {
        fprintf(stderr, "ct-mktrace: %s: bad number '%s'\n", opt, s);
        exit(2);
    }
    return v;
}

/* Is the g-th of n items chosen when k of them are, spread evenly? */
static int chosen(unsigned long long g, unsigned long long k, unsigned long long n)
{
    return n && ((unsigned __int128)(g + 1) * k / n) > ((unsigned __int128)g * k / n);
}

#define TYPE_BASE 0x7f0000a00000ull   /* type objects, 1 KiB apart */
#define MAX_SPEC 32

/* The synthetic types: name and whether it is collected by the gc. */
static const char *const builtin_names[] = { "int", "str", "list", "dict", "Model" };
static const int builtin_gc[] = { 0, 0, 1, 1, 1 };

struct spec_item {
    enum ct_cause cause;
    int type;                 /* index into the synthetic types, or -1 */
    unsigned long long count;
    uint32_t stack;           /* stack id of its pages, 0 = none */
};

static enum ct_cause cause_by_name(const char *s)
{
    for (int c = 0; c < CT_NCAUSES; c++)
        if (!strcmp(s, ct_cause_name(c)))
            return c;
    return CT_NCAUSES;
}

static int type_by_name(const char *s, unsigned long long ntypes)
{
    for (int i = 0; i < 5 && (unsigned long long)i < ntypes; i++)
        if (!strcmp(s, builtin_names[i]))
            return i;
    if (s[0] == 'T') {
        char *end;
        unsigned long long k = strtoull(s + 1, &end, 10);
        if (!*end && k >= 5 && k < ntypes)
            return (int)k;
    }
    return -1;
}

static size_t parse_spec(const char *arg, struct spec_item *items, unsigned long long ntypes)
{
    char *copy = strdup(arg), *save = NULL;
    size_t n = 0;
    for (char *tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
        char *eq = strchr(tok, '='), *colon = strchr(tok, ':');
        if (!eq || n == MAX_SPEC)
            goto bad;
        *eq = '\0';
        if (colon && colon < eq)
            *colon = '\0';
        else
            colon = NULL;
        char *at = strchr(eq + 1, '@');
        if (at)
            *at = '\0';
        struct spec_item it = { cause_by_name(tok), colon ? type_by_name(colon + 1, ntypes) : -1,
                                num("--evidence", eq + 1), at ? (uint32_t)num("--evidence", at + 1) : 0 };
        bool typed = it.cause == CT_CAUSE_REFCOUNT || it.cause == CT_CAUSE_GC || it.cause == CT_CAUSE_OBJECT;
        if (it.cause == CT_NCAUSES || it.cause == CT_CAUSE_INTERPRETER || typed != (it.type >= 0))
            goto bad;
        items[n++] = it;
    }
    free(copy);
    return n;
bad:
    fprintf(stderr, "ct-mktrace: bad --evidence '%s' (CAUSE[:TYPE]=N,...; refcount, gc and object "
                    "need a type)\n", arg);
    exit(2);
}

static unsigned hexval(int c)
{
    return c >= '0' && c <= '9' ? (unsigned)(c - '0') : (unsigned)((c | 32) - 'a' + 10);
}

/* Hex string to bytes; exits on anything else. */
static size_t unhex(const char *opt, const char *h, uint8_t *out, size_t max)
{
    size_t n = strlen(h);
    if (n % 2 || n / 2 > max || strspn(h, "0123456789abcdefABCDEF") != n) {
        fprintf(stderr, "ct-mktrace: %s: bad hex '%s'\n", opt, h);
        exit(2);
    }
    for (size_t i = 0; i < n / 2; i++)
        out[i] = (uint8_t)(hexval(h[2 * i]) << 4 | hexval(h[2 * i + 1]));
    return n / 2;
}

/* Splits s at the first `sep`, or exits. */
static char *field(char **s, char sep, const char *opt)
{
    char *f = *s, *e = f ? strchr(f, sep) : NULL;
    if (!f) {
        fprintf(stderr, "ct-mktrace: %s: missing field\n", opt);
        exit(2);
    }
    if (e) {
        *e = '\0';
        *s = e + 1;
    } else
        *s = NULL;
    return f;
}

static void module_arg(struct mkt *m, const char *arg, uint64_t *start0, uint64_t *end0)
{
    char *copy = strdup(arg), *s = copy;
    char *path = field(&s, ',', "--module");
    uint64_t base = num("--module", field(&s, ',', "--module"));
    uint64_t start = num("--module", field(&s, ',', "--module"));
    uint64_t endaddr = num("--module", field(&s, ',', "--module"));
    uint8_t id[20];
    size_t idlen = s ? unhex("--module", s, id, sizeof id) : 0;
    mkt_module_id(m, base, start, endaddr, id, (uint32_t)idlen, path);
    if (!*end0) {
        *start0 = start;
        *end0 = endaddr;
    }
    free(copy);
}

static void pycode_arg(struct mkt *m, const char *arg)
{
    char *copy = strdup(arg), *s = copy;
    uint64_t addr = num("--pycode", field(&s, ',', "--pycode"));
    char *fl = field(&s, ',', "--pycode");
    long long first = strtoll(fl, NULL, 0);
    char *hex = field(&s, ',', "--pycode");
    char *qual = field(&s, ',', "--pycode");
    char *file = s ? s : "";
    uint8_t *lt = malloc(strlen(hex) / 2 + 1);
    size_t n = unhex("--pycode", hex, lt, strlen(hex) / 2 + 1);
    mkt_pycode(m, addr, (int32_t)first, qual, file, lt, (uint32_t)n);
    free(lt);
    free(copy);
}

#define MAX_FRAMES 256

static void stack_arg(struct mkt *m, const char *arg)
{
    char *copy = strdup(arg), *s = copy;
    uint32_t id = (uint32_t)num("--stack", field(&s, ':', "--stack"));
    uint32_t flags = (uint32_t)num("--stack", field(&s, ':', "--stack"));
    char *nat = field(&s, ':', "--stack");
    char *py = s ? s : "";
    uint64_t ips[MAX_FRAMES];
    struct ct_pyframe pf[MAX_FRAMES];
    uint16_t ni = 0, np = 0;
    for (char *save = NULL, *tok = strtok_r(nat, "/", &save); tok && ni < MAX_FRAMES;
         tok = strtok_r(NULL, "/", &save))
        ips[ni++] = num("--stack", tok);
    for (char *save = NULL, *tok = strtok_r(py, "/", &save); tok && np < MAX_FRAMES;
         tok = strtok_r(NULL, "/", &save)) {
        char *atc = strchr(tok, '@');
        if (!atc) {
            fprintf(stderr, "ct-mktrace: --stack: Python frame '%s' is not CODE@LASTI\n", tok);
            exit(2);
        }
        *atc = '\0';
        /* A trailing '!' marks the frame CT_PYFRAME_ENTRY. */
        size_t len = strlen(atc + 1);
        bool entry = len && atc[len] == '!';
        if (entry)
            atc[len] = '\0';
        pf[np++] = (struct ct_pyframe){ .code = num("--stack", tok), .lasti = (int32_t)strtol(atc + 1, NULL, 0),
                                        .flags = entry ? CT_PYFRAME_ENTRY : 0 };
    }
    mkt_stack(m, id, flags, ips, ni, pf, np);
    free(copy);
}

/* --stacks N: synthetic stacks for timing. Python frames name 64 code
 * objects whose line table gives line firstlineno + (instruction / 4). */
#define SYN_CODES 64
#define SYN_CODE_BASE 0x7f0000c00000ull
static void synthetic_stacks(struct mkt *m, unsigned long long n, uint64_t start, uint64_t endaddr)
{
    /* ONE_LINE1 entries of 4 units (two column bytes each): every 4
     * instructions one line further. */
    uint8_t lt[64];
    size_t k = 0;
    for (int e = 0; e < 16; e++) {
        lt[k++] = (uint8_t)(0x80 | 11 << 3 | 3);
        lt[k++] = 0;
        lt[k++] = 1;
    }
    for (int c = 0; c < SYN_CODES; c++) {
        char q[32], f[48];
        snprintf(q, sizeof q, "func%d", c);
        snprintf(f, sizeof f, "/srv/app/mod%d.py", c % 8);
        mkt_pycode(m, SYN_CODE_BASE + 256 * (uint64_t)c, 10 * c + 1, q, f, lt, (uint32_t)k);
    }
    uint64_t span = endaddr > start ? endaddr - start : 1 << 20, x = 88172645463325252ull;
    for (unsigned long long s = 0; s < n; s++) {
        uint64_t ips[24];
        struct ct_pyframe pf[8];
        for (int i = 0; i < 24; i++) {
            x ^= x << 13, x ^= x >> 7, x ^= x << 17;
            ips[i] = (endaddr > start ? start : 0x400000) + x % span;
        }
        for (int i = 0; i < 8; i++) {
            x ^= x << 13, x ^= x >> 7, x ^= x << 17;
            pf[i] = (struct ct_pyframe){ .code = SYN_CODE_BASE + 256 * (x % SYN_CODES), .lasti = (int32_t)(x % 64) };
        }
        mkt_stack(m, (uint32_t)s + 1, 0, ips, 24, pf, 8);
    }
}

static int type_gc(int type)
{
    return type < 5 ? builtin_gc[type] : 1;
}

/* What the report must say for one page of this evidence. */
static enum ct_cause expected(const struct spec_item *it, bool inferred)
{
    if (inferred && (it->cause == CT_CAUSE_GC || it->cause == CT_CAUSE_OBJECT))
        return CT_CAUSE_REFCOUNT;           /* a summary only says which type the page holds */
    if (!inferred && it->cause == CT_CAUSE_GC && !type_gc(it->type))
        return CT_CAUSE_UNKNOWN;            /* a write before a non-gc object explains nothing */
    return it->cause;
}

/* Evidence events held back to be written in shuffled order. */
static struct mkt_ev *held;
static size_t nheld, capheld;

/* A WRITE event at page address pa carrying the evidence of `it`. */
static void evidence_event(struct mkt *m, uint64_t pa, const struct spec_item *it, uint32_t pid, uint64_t seq,
                           int hold)
{
    struct mkt_ev e = { .addr = pa + 256, .ip = 0x401000, .time_ns = 1000 + seq, .tid = pid,
                        .stack = it->stack };
    uint64_t type = it->type >= 0 ? TYPE_BASE + 1024 * (uint64_t)it->type : 0;
    switch (it->cause) {
    case CT_CAUSE_REFCOUNT:
        e.obj = e.addr, e.obj_how = CT_OBJ_AT;
        break;
    case CT_CAUSE_GC:
        e.obj = e.addr + 16, e.obj_how = CT_OBJ_GC_NEXT;   /* PyGC_Head before the object */
        break;
    case CT_CAUSE_OBJECT:
        e.obj = e.addr - 16, e.obj_how = CT_OBJ_BLOCK;     /* ob_size, not the refcount */
        break;
    case CT_CAUSE_ALLOCATOR:
        e.where = CT_WHERE_POOL_HEADER;
        break;
    case CT_CAUSE_OTHER:
        e.where = CT_WHERE_OUTSIDE;
        break;
    default:
        break;
    }
    if (e.obj) {
        e.type = type;
        e.where = CT_WHERE_POOL_BLOCK;
        e.block = e.obj - (it->cause == CT_CAUSE_GC ? 0 : 16);
        e.block_size = 64;
    }
    if (!hold) {
        mkt_write_ev(m, &e);
        return;
    }
    if (nheld == capheld) {
        capheld = capheld ? 2 * capheld : 4096;
        held = realloc(held, capheld * sizeof *held);
    }
    held[nheld++] = e;
}

/* Writes the held events in a fixed pseudo-random order with times
 * increasing along the file: what a real run looks like (time order, not
 * address order), so the reader has to sort. */
static void flush_shuffled(struct mkt *m)
{
    uint64_t x = 0x9e3779b97f4a7c15ull;
    for (size_t i = nheld; i > 1; i--) {
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        size_t j = x % i;
        struct mkt_ev t = held[i - 1];
        held[i - 1] = held[j];
        held[j] = t;
    }
    for (size_t i = 0; i < nheld; i++) {
        held[i].time_ns = 1000 + i;
        mkt_write_ev(m, &held[i]);
    }
    free(held);
    held = NULL;
    nheld = capheld = 0;
}

/* Page summaries gathered for one region, flushed as one record. */
struct sums {
    uint64_t *nums;
    uint32_t n, cap;
    uint64_t last_pg;
};

static void sums_add(struct sums *s, uint64_t pg, const struct spec_item *it)
{
    if (it->cause == CT_CAUSE_UNKNOWN)
        return;                             /* no summary: the report says unknown */
    if (s->n == s->cap) {
        s->cap = s->cap ? 2 * s->cap : 1024;
        s->nums = realloc(s->nums, 4 * sizeof *s->nums * s->cap);
    }
    uint64_t *e = s->nums + 4 * s->n++;
    e[0] = pg - s->last_pg;
    s->last_pg = pg;
    e[1] = it->type >= 0 ? (uint64_t)it->type + 1 : 0;
    e[2] = it->cause == CT_CAUSE_ALLOCATOR ? CT_WHERE_POOL_HEADER
         : it->cause == CT_CAUSE_OTHER ? CT_WHERE_OUTSIDE : CT_WHERE_POOL_BLOCK | (64 / 16) << 2;
    e[3] = it->type >= 0 ? 4 : 0;
}

int main(int argc, char **argv)
{
    static const struct option opts[] = {
        { "pid", required_argument, NULL, 'p' },
        { "ppid", required_argument, NULL, 'P' },
        { "mode", required_argument, NULL, 'm' },
        { "regions", required_argument, NULL, 'r' },
        { "region-pages", required_argument, NULL, 'n' },
        { "present-every", required_argument, NULL, 'k' },
        { "dirty", required_argument, NULL, 'd' },
        { "fresh", required_argument, NULL, 'f' },
        { "events", no_argument, NULL, 'e' },
        { "exit", required_argument, NULL, 'x' },
        { "signal", required_argument, NULL, 's' },
        { "no-end", no_argument, NULL, 'N' },
        { "expect", no_argument, NULL, 'E' },
        { "python", required_argument, NULL, 'y' },
        { "layout-unknown", no_argument, NULL, 'L' },
        { "gc-frozen", no_argument, NULL, 'G' },
        { "types", required_argument, NULL, 't' },
        { "evidence", required_argument, NULL, 'v' },
        { "events-with-evidence", no_argument, NULL, 'V' },
        { "shuffle-events", no_argument, NULL, 'S' },
        { "module", required_argument, NULL, 'M' },
        { "pycode", required_argument, NULL, 'C' },
        { "stack", required_argument, NULL, 'K' },
        { "stacks", required_argument, NULL, 'Z' },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    unsigned long long pid = 1000, ppid = 999, nreg = 4, rpages = 256, every = 1, dirty = 0, fresh = 0;
    unsigned long long exitcode = 0, sig = 0;
    int events = 0, noend = 0, expect = 0, shuffle = 0, layout_unknown = 0, gc_frozen = 0, cycle = 0, dirty_set = 0;
    unsigned long long pyhex = 0, ntypes = 5;
    const char *spec_arg = NULL;
    const char *modules[16], *pycodes[256], *stacks[256];
    size_t nmod = 0, npyc = 0, nstk = 0;
    unsigned long long nsyn = 0;
    uint32_t mode = CT_MODE_UFFD_ASYNC;
    int c;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (c) {
        case 'p': pid = num("--pid", optarg); break;
        case 'P': ppid = num("--ppid", optarg); break;
        case 'm':
            if (!strcmp(optarg, "uffd-async")) mode = CT_MODE_UFFD_ASYNC;
            else if (!strcmp(optarg, "uffd")) mode = CT_MODE_UFFD;
            else if (!strcmp(optarg, "mprotect")) mode = CT_MODE_MPROTECT;
            else {
                fprintf(stderr, "ct-mktrace: bad mode '%s'\n", optarg);
                return 2;
            }
            break;
        case 'r': nreg = num("--regions", optarg); break;
        case 'n': rpages = num("--region-pages", optarg); break;
        case 'k': every = num("--present-every", optarg); break;
        case 'd': dirty = num("--dirty", optarg); dirty_set = 1; break;
        case 'y': pyhex = num("--python", optarg); break;
        case 'L': layout_unknown = 1; break;
        case 'G': gc_frozen = 1; break;
        case 't': ntypes = num("--types", optarg); break;
        case 'v': spec_arg = optarg; break;
        case 'V': cycle = 1; break;
        case 'S': shuffle = 1; break;
        case 'M': if (nmod < 16) modules[nmod++] = optarg; break;
        case 'C': if (npyc < 256) pycodes[npyc++] = optarg; break;
        case 'K': if (nstk < 256) stacks[nstk++] = optarg; break;
        case 'Z': nsyn = num("--stacks", optarg); break;
        case 'f': fresh = num("--fresh", optarg); break;
        case 'e': events = 1; break;
        case 'x': exitcode = num("--exit", optarg); break;
        case 's': sig = num("--signal", optarg); break;
        case 'N': noend = 1; break;
        case 'E': expect = 1; break;
        case 'h': usage(stdout); return 0;
        default: usage(stderr); return 2;
        }
    }
    if (optind != argc - 1) {
        usage(stderr);
        return 2;
    }
    if (!pid || pid > 0x7fffffff || ppid > 0x7fffffff || !every || !nreg || !rpages || nreg > 100000
        || rpages > (1ull << 32) || exitcode > 255 || sig > 64) {
        fprintf(stderr, "ct-mktrace: value out of range\n");
        return 2;
    }
    if ((spec_arg || cycle) && !pyhex) {
        fprintf(stderr, "ct-mktrace: evidence needs --python\n");
        return 2;
    }
    if (ntypes < 1 || ntypes > 100000) {
        fprintf(stderr, "ct-mktrace: --types out of range\n");
        return 2;
    }
    struct spec_item spec[MAX_SPEC];
    size_t nspec = spec_arg ? parse_spec(spec_arg, spec, ntypes) : 0;
    unsigned long long spec_total = 0;
    for (size_t i = 0; i < nspec; i++)
        spec_total += spec[i].count;
    if (spec_arg && !dirty_set)
        dirty = spec_total;
    if (spec_total > dirty) {
        fprintf(stderr, "ct-mktrace: --evidence names %llu pages, --dirty is %llu\n", spec_total, dirty);
        return 2;
    }
    bool evidence = spec_arg || cycle, inferred = mode == CT_MODE_UFFD_ASYNC;
    if (evidence && !inferred)
        events = 1;
    const struct ct_pyver *L = ct_pyver_for(pyhex);
    unsigned long long causes[CT_NCAUSES] = {0};
    unsigned long long present_per = (rpages + every - 1) / every;
    unsigned long long tp = nreg * present_per, np = nreg * rpages - tp;
    if (dirty > tp || fresh > np) {
        fprintf(stderr, "ct-mktrace: asked for %llu dirty of %llu present pages and %llu fresh of %llu "
                        "non-present pages\n", dirty, tp, fresh, np);
        return 2;
    }

    struct mkt m;
    mkt_init(&m, (int32_t)pid, (int32_t)ppid, mode, PAGE);
    mkt_process(&m, mode, "synthetic trace from ct-mktrace", "/usr/bin/python3", "python3");
    if (pyhex) {
        char ver[64];
        snprintf(ver, sizeof ver, "%llu.%llu.%llu (synthetic) [ct-mktrace]", pyhex >> 24 & 0xff,
                 pyhex >> 16 & 0xff, pyhex >> 8 & 0xff);
        mkt_python(&m, pyhex, !layout_unknown, CT_PY_SHARED | (gc_frozen ? CT_PY_GC_FROZEN : 0), ver,
                   "/usr/lib/x86_64-linux-gnu/libpython3.so.1.0");
        for (unsigned long long k = 0; k < ntypes; k++) {
            char name[32];
            if (k < 5)
                snprintf(name, sizeof name, "%s", builtin_names[k]);
            else
                snprintf(name, sizeof name, "T%llu", k);
            uint64_t flags = L && type_gc((int)k) ? L->L.tpflags_have_gc : 0;
            mkt_pytype(&m, TYPE_BASE + 1024 * k, (uint32_t)k + 1, flags, 32, 0, name);
        }
    }
    uint64_t mstart = 0, mend = 0;
    for (size_t i = 0; i < nmod; i++)
        module_arg(&m, modules[i], &mstart, &mend);
    for (size_t i = 0; i < npyc; i++)
        pycode_arg(&m, pycodes[i]);
    for (size_t i = 0; i < nstk; i++)
        stack_arg(&m, stacks[i]);
    if (nsyn)
        synthetic_stacks(&m, nsyn, mstart, mend);
    uint64_t stride = (rpages + 16) * PAGE;   /* a 16-page hole between regions */
    for (uint64_t i = 0; i < nreg; i++)
        mkt_region(&m, (uint32_t)i, i == 0 ? CT_KIND_HEAP : CT_KIND_ANON, BASE_ADDR + i * stride,
                   BASE_ADDR + i * stride + rpages * PAGE, mode, i == 0 ? "[heap]" : "");

    struct mkt_runs pr, wr;
    for (uint64_t i = 0; i < nreg; i++) {
        mkt_runs_init(&pr, 0);
        for (uint64_t p = 0; p < rpages; p += every) {
            mkt_runs_add(&pr, p, 1);
            if (mkt_runs_bytes(&pr) >= MAX_RUNLIST)
                mkt_runs_flush(&m, &pr, CT_REC_PRESENT, (uint32_t)i, pr.run_start + pr.run_len);
        }
        mkt_runs_flush(&m, &pr, CT_REC_PRESENT, (uint32_t)i, 0);
        mkt_runs_free(&pr);
    }

    /* Dirty pages, in address order: present ones chosen among present,
     * others among non-present. */
    uint64_t gp = 0, gn = 0, nd = 0;
    static const enum ct_cause cycle_causes[] = { CT_CAUSE_REFCOUNT, CT_CAUSE_REFCOUNT, CT_CAUSE_GC,
                                                  CT_CAUSE_OBJECT, CT_CAUSE_ALLOCATOR, CT_CAUSE_OTHER };
    for (uint64_t i = 0; i < nreg; i++) {
        uint64_t base = BASE_ADDR + i * stride;
        struct sums sm = { NULL, 0, 0, base / PAGE };
        mkt_runs_init(&wr, 0);
        for (uint64_t p = 0; p < rpages; p++) {
            int is_present = p % every == 0;
            int hit = is_present ? chosen(gp++, dirty, tp) : chosen(gn++, fresh, np);
            if (!hit)
                continue;
            /* The evidence of this page: by SPEC for the first dirty pages,
             * or cycling; fresh pages need none (they have no cause). */
            struct spec_item it = { CT_CAUSE_UNKNOWN, -1, 0, 0 };
            bool has_ev = false;
            if (is_present && evidence) {
                uint64_t d = nd++;
                if (cycle) {
                    it.cause = cycle_causes[d % 6];
                    it.type = it.cause <= CT_CAUSE_OBJECT ? (int)((d / 6) % ntypes) : -1;
                    it.stack = nsyn ? (uint32_t)(d % nsyn) + 1 : 0;
                    has_ev = true;
                } else {
                    for (size_t k = 0; k < nspec; k++) {
                        if (d < spec[k].count) {
                            it = spec[k];
                            has_ev = true;
                            break;
                        }
                        d -= spec[k].count;
                    }
                }
            }
            if (is_present)
                causes[!pyhex || layout_unknown || !L ? CT_CAUSE_UNKNOWN : has_ev ? expected(&it, inferred) : CT_CAUSE_UNKNOWN]++;
            if (has_ev && inferred)
                sums_add(&sm, base / PAGE + p, &it);
            if (has_ev && events) {
                evidence_event(&m, base + p * PAGE, &it, (uint32_t)pid, nd, shuffle);
            } else if (events) {
                mkt_write(&m, base + p * PAGE + 8 * (p % 512), 0x401000 + p % 64, (uint32_t)pid, 0);
            } else {
                mkt_runs_add(&wr, p, 1);
                if (mkt_runs_bytes(&wr) >= MAX_RUNLIST)
                    mkt_runs_flush(&m, &wr, CT_REC_WRITTEN, (uint32_t)i, wr.run_start + wr.run_len);
            }
        }
        if (!events)
            mkt_runs_flush(&m, &wr, CT_REC_WRITTEN, (uint32_t)i, 0);
        mkt_runs_free(&wr);
        if (sm.n)
            mkt_page_summary(&m, base, sm.nums, sm.n);
        free(sm.nums);
    }
    flush_shuffled(&m);
    if (sig)
        mkt_set_reap(&m, (int32_t)sig);
    else if (!noend)
        mkt_end(&m, CT_END_EXIT, (int32_t)exitcode);
    if (mkt_save(&m, argv[optind]) < 0) {
        fprintf(stderr, "ct-mktrace: %s: %s\n", argv[optind], strerror(errno));
        return 1;
    }
    mkt_free(&m);
    if (expect) {
        printf("tracked=%llu cow=%llu fresh=%llu", tp, dirty, fresh);
        for (int c = 0; c < CT_NCAUSES; c++)
            printf(" %s=%llu", ct_cause_name(c), causes[c]);
        putchar('\n');
    }
    return 0;
}
