/*
 * timeline.c - see timeline.h: reading timeline.jsonl line by line with a
 * small JSON reader of our own that knows only what the format needs (one
 * flat object per line; a nested value, like "causes", is checked and
 * skipped, at most MAX_DEPTH deep, so a line of brackets cannot exhaust the
 * stack).
 */
#include "timeline.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util.h"

#define MAX_DEPTH 16
#define MAX_T 1e11                    /* Unix seconds: year 5138 */
#define MAX_BYTES 9007199254740992.0  /* 2^53: exact in a double, like JSON readers */

struct cursor {
    const char *p, *end;
};

static void skip_ws(struct cursor *c)
{
    while (c->p < c->end && (*c->p == ' ' || *c->p == '\t' || *c->p == '\r' || *c->p == '\n'))
        c->p++;
}

static int hexval(char ch)
{
    if (ch >= '0' && ch <= '9')
        return ch - '0';
    if (ch >= 'a' && ch <= 'f')
        return ch - 'a' + 10;
    if (ch >= 'A' && ch <= 'F')
        return ch - 'A' + 10;
    return -1;
}

/* A JSON string at c->p into out (at most outlen - 1 bytes kept, the rest
 * checked and dropped; NUL-ended), its kept length in *len. \u00XX is the
 * byte XX (the watch writer's escape for bytes that are not UTF-8); other
 * \u escapes become UTF-8. Returns 0, or -1 if it is not a string. */
static int read_string(struct cursor *c, char *out, size_t outlen, size_t *len)
{
    size_t n = 0;
    if (c->p >= c->end || *c->p != '"')
        return -1;
    c->p++;
    while (c->p < c->end && *c->p != '"') {
        unsigned char b[4];
        size_t nb = 1;
        unsigned char ch = (unsigned char)*c->p++;
        if (ch < 0x20)
            return -1;
        b[0] = ch;
        if (ch == '\\') {
            if (c->p >= c->end)
                return -1;
            char e = *c->p++;
            switch (e) {
            case '"': case '\\': case '/': b[0] = (unsigned char)e; break;
            case 'b': b[0] = '\b'; break;
            case 'f': b[0] = '\f'; break;
            case 'n': b[0] = '\n'; break;
            case 'r': b[0] = '\r'; break;
            case 't': b[0] = '\t'; break;
            case 'u': {
                unsigned v = 0;
                for (int i = 0; i < 4; i++) {
                    int h = c->p < c->end ? hexval(*c->p++) : -1;
                    if (h < 0)
                        return -1;
                    v = v * 16 + (unsigned)h;
                }
                if (v < 0x100)
                    b[0] = (unsigned char)v;
                else if (v < 0x800) {
                    b[0] = (unsigned char)(0xc0 | v >> 6);
                    b[1] = (unsigned char)(0x80 | (v & 0x3f));
                    nb = 2;
                } else {    /* surrogates kept as they are: the text is cleaned before printing */
                    b[0] = (unsigned char)(0xe0 | v >> 12);
                    b[1] = (unsigned char)(0x80 | ((v >> 6) & 0x3f));
                    b[2] = (unsigned char)(0x80 | (v & 0x3f));
                    nb = 3;
                }
                break;
            }
            default:
                return -1;
            }
        }
        if (out && n + nb < outlen) {
            memcpy(out + n, b, nb);
            n += nb;
        }
    }
    if (c->p >= c->end)
        return -1;
    c->p++;
    if (out)
        out[n] = '\0';
    if (len)
        *len = n;
    return 0;
}

/* A JSON number at c->p, by the grammar (strtod alone would take "inf",
 * hex and leading '+'). */
static int read_number(struct cursor *c, double *v, bool *integer)
{
    const char *s = c->p, *q = s;
    if (q < c->end && *q == '-')
        q++;
    if (q >= c->end || *q < '0' || *q > '9')
        return -1;
    if (*q == '0')
        q++;
    else
        while (q < c->end && *q >= '0' && *q <= '9')
            q++;
    *integer = true;
    if (q < c->end && *q == '.') {
        *integer = false;
        q++;
        if (q >= c->end || *q < '0' || *q > '9')
            return -1;
        while (q < c->end && *q >= '0' && *q <= '9')
            q++;
    }
    if (q < c->end && (*q == 'e' || *q == 'E')) {
        *integer = false;
        q++;
        if (q < c->end && (*q == '+' || *q == '-'))
            q++;
        if (q >= c->end || *q < '0' || *q > '9')
            return -1;
        while (q < c->end && *q >= '0' && *q <= '9')
            q++;
    }
    if (q - s > 40)
        return -1;            /* no count of ours needs more digits */
    char buf[48];
    memcpy(buf, s, (size_t)(q - s));
    buf[q - s] = '\0';
    *v = strtod(buf, NULL);
    c->p = q;
    return isfinite(*v) ? 0 : -1;
}

static int skip_value(struct cursor *c, int depth);

static int skip_container(struct cursor *c, int depth, char close)
{
    if (depth >= MAX_DEPTH)
        return -1;
    c->p++;
    skip_ws(c);
    if (c->p < c->end && *c->p == close) {
        c->p++;
        return 0;
    }
    for (;;) {
        skip_ws(c);
        if (close == '}') {
            if (read_string(c, NULL, 0, NULL))
                return -1;
            skip_ws(c);
            if (c->p >= c->end || *c->p++ != ':')
                return -1;
        }
        if (skip_value(c, depth + 1))
            return -1;
        skip_ws(c);
        if (c->p >= c->end)
            return -1;
        char ch = *c->p++;
        if (ch == close)
            return 0;
        if (ch != ',')
            return -1;
    }
}

static int skip_value(struct cursor *c, int depth)
{
    skip_ws(c);
    if (c->p >= c->end)
        return -1;
    switch (*c->p) {
    case '"':
        return read_string(c, NULL, 0, NULL);
    case '{':
        return skip_container(c, depth, '}');
    case '[':
        return skip_container(c, depth, ']');
    }
    static const char *const words[] = { "true", "false", "null" };
    for (size_t i = 0; i < 3; i++) {
        size_t n = strlen(words[i]);
        if ((size_t)(c->end - c->p) >= n && memcmp(c->p, words[i], n) == 0) {
            c->p += n;
            return 0;
        }
    }
    double v;
    bool integer;
    return read_number(c, &v, &integer);
}

/* The fields of one line, as read. */
enum { F_T, F_PID, F_PPID, F_START, F_SHARED, F_COPIED, F_FRESH, NFIELDS };
static const char *const field_names[NFIELDS] = {
    "t", "pid", "ppid", "start", "shared_bytes", "copied_bytes", "fresh_bytes",
};

struct line {
    double v[NFIELDS];
    bool have[NFIELDS];
    int event;                /* 0 unknown, 1 sample, 2 gone */
    char comm[CT_TIMELINE_COMM_MAX + 1];
    size_t comm_len;
    bool have_comm;
};

/* The string read (len bytes, maybe holding NULs from \u0000) is name:
 * "t\u0000x" is another key than "t", and "sample\u0000" no event. */
static bool is_name(const char *s, size_t len, const char *name)
{
    return len == strlen(name) && memcmp(s, name, len) == 0;
}

/* Parses one object; returns NULL or what is wrong with it. */
static const char *parse_line(const char *s, size_t len, struct line *L)
{
    struct cursor c = { s, s + len };
    memset(L, 0, sizeof *L);
    skip_ws(&c);
    if (c.p >= c.end || *c.p != '{')
        return "not a JSON object";
    c.p++;
    skip_ws(&c);
    if (c.p < c.end && *c.p == '}')
        c.p++;
    else
        for (;;) {
            char key[32];
            size_t klen;
            skip_ws(&c);
            if (read_string(&c, key, sizeof key, &klen))
                return "not a JSON object";
            skip_ws(&c);
            if (c.p >= c.end || *c.p++ != ':')
                return "not a JSON object";
            skip_ws(&c);
            int f = -1;
            for (int i = 0; i < NFIELDS; i++)
                if (is_name(key, klen, field_names[i]))
                    f = i;
            if (f >= 0) {
                bool integer;
                if (read_number(&c, &L->v[f], &integer))
                    return "a field that should be a number is not";
                if (f != F_T && f != F_START && !integer)
                    return "a count or pid that is not an integer";
                L->have[f] = true;
            } else if (is_name(key, klen, "comm")) {
                if (read_string(&c, L->comm, sizeof L->comm, &L->comm_len))
                    return "comm is not a string";
                L->have_comm = true;
            } else if (is_name(key, klen, "event")) {
                char ev[16];
                size_t n;
                if (read_string(&c, ev, sizeof ev, &n))
                    return "event is not a string";
                L->event = is_name(ev, n, "sample") ? 1 : is_name(ev, n, "gone") ? 2 : 0;
            } else if (skip_value(&c, 1))
                return "not a JSON object";
            skip_ws(&c);
            if (c.p >= c.end)
                return "not a JSON object (cut short?)";
            char ch = *c.p++;
            if (ch == '}')
                break;
            if (ch != ',')
                return "not a JSON object";
        }
    skip_ws(&c);
    if (c.p != c.end)
        return "more after the object";
    if (!L->event)
        return "no event \"sample\" or \"gone\"";
    for (int i = 0; i < NFIELDS; i++) {
        bool need = i <= F_START || L->event == 1;
        if (need && !L->have[i])
            return "a field is missing";
        if (!L->have[i])
            continue;
        double v = L->v[i];
        if ((i == F_T || i == F_START) && !(v >= 0 && v <= MAX_T))
            return "a time out of range";
        if (i == F_PID && !(v >= 1 && v <= 2147483647.0))
            return "a pid out of range";
        if (i == F_PPID && !(v >= 0 && v <= 2147483647.0))
            return "a pid out of range";
        if (i >= F_SHARED && !(v >= 0 && v <= MAX_BYTES))
            return "a byte count out of range";
    }
    return NULL;
}

static void skip(struct ct_timeline *tl, const char *why)
{
    if (!tl->skipped++) {
        tl->first_skipped = tl->lineno;
        snprintf(tl->first_why, sizeof tl->first_why, "%s", why);
    }
}

/* The worker (pid, start), the latest of that name (searched from the
 * newest: the worker of a line is almost always a recent one). */
static struct ct_tl_worker *find_worker(struct ct_timeline *tl, int32_t pid, double start)
{
    for (size_t i = tl->nworkers; i-- > 0;)
        if (tl->workers[i].pid == pid && tl->workers[i].start == start)
            return &tl->workers[i];
    return NULL;
}

static void add_line(struct ct_timeline *tl, const char *s, size_t len)
{
    struct line L;
    const char *why = parse_line(s, len, &L);
    if (why) {
        skip(tl, why);
        return;
    }
    int32_t pid = (int32_t)L.v[F_PID];
    struct ct_tl_worker *w = find_worker(tl, pid, L.v[F_START]);
    if (!w) {
        if (L.event == 2)
            return;           /* gone before any sample we kept: nothing to draw */
        if (tl->nworkers >= CT_TIMELINE_MAX_WORKERS) {
            skip(tl, "too many workers");
            return;
        }
        if (tl->nworkers == tl->workers_cap) {
            tl->workers_cap = tl->workers_cap ? 2 * tl->workers_cap : 16;
            tl->workers = xreallocarray(tl->workers, tl->workers_cap, sizeof *tl->workers);
        }
        w = &tl->workers[tl->nworkers++];
        memset(w, 0, sizeof *w);
        w->pid = pid;
        w->start = L.v[F_START];
        w->gone = -1;
    }
    if (w->gone >= 0) {
        skip(tl, "a line about a worker after it was gone");
        return;
    }
    if (L.have[F_PPID])
        w->ppid = (int32_t)L.v[F_PPID];
    if (L.have_comm) {
        memcpy(w->comm, L.comm, L.comm_len + 1);
        w->comm_len = L.comm_len;
    }
    double t = L.v[F_T];
    if (w->nsamples && t < w->samples[w->nsamples - 1].t) {
        skip(tl, "a time before the worker's previous line");
        return;
    }
    if (L.event == 2) {
        w->gone = t;
        return;
    }
    if (w->nsamples == w->cap) {
        w->cap = w->cap ? 2 * w->cap : 16;
        w->samples = xreallocarray(w->samples, w->cap, sizeof *w->samples);
    }
    w->samples[w->nsamples++] = (struct ct_tl_sample){
        t, (uint64_t)L.v[F_SHARED], (uint64_t)L.v[F_COPIED], (uint64_t)L.v[F_FRESH],
    };
    if (!tl->samples++ || t < tl->t_first)
        tl->t_first = t;
    if (t > tl->t_last)
        tl->t_last = t;
}

void ct_timeline_read(FILE *f, struct ct_timeline *tl)
{
    char *buf = xmalloc(CT_TIMELINE_MAX_LINE + 1);
    memset(tl, 0, sizeof *tl);
    for (;;) {
        size_t n = 0;
        bool too_long = false;
        int ch;
        while ((ch = getc_unlocked(f)) != EOF && ch != '\n') {
            if (n < CT_TIMELINE_MAX_LINE)
                buf[n++] = (char)ch;
            else
                too_long = true;  /* read on to the newline, holding nothing */
        }
        if (ch == EOF && n == 0 && !too_long)
            break;
        tl->lineno++;
        if (n || too_long) {
            if (tl->lines >= CT_TIMELINE_MAX_LINES) {
                tl->truncated = true;
                break;
            }
            tl->lines++;
            if (too_long)
                skip(tl, "a line longer than 64 KiB");
            else
                add_line(tl, buf, n);
        }
        if (ch == EOF)
            break;
    }
    free(buf);
}

int ct_timeline_load(const char *dir, struct ct_timeline *out, char *why, size_t whylen)
{
    struct stat st;
    memset(out, 0, sizeof *out);
    if (stat(dir, &st) < 0 || !S_ISDIR(st.st_mode))
        return 0;
    size_t len = strlen(dir) + sizeof "/" CT_TIMELINE_FILE;
    char *path = xmalloc(len);
    snprintf(path, len, "%s/%s", dir, CT_TIMELINE_FILE);
    /* O_NONBLOCK: a FIFO planted under the name must not hang the report. */
    int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    free(path);
    if (fd < 0) {
        if (errno == ENOENT)
            return 0;
        snprintf(why, whylen, "cannot open " CT_TIMELINE_FILE ": %s", strerror(errno));
        return -1;
    }
    if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
        close(fd);
        snprintf(why, whylen, CT_TIMELINE_FILE " is not a regular file");
        return -1;
    }
    FILE *f = fdopen(fd, "r");
    if (!f) {
        close(fd);
        snprintf(why, whylen, "cannot read " CT_TIMELINE_FILE ": %s", strerror(errno));
        return -1;
    }
    ct_timeline_read(f, out);
    fclose(f);
    return 1;
}

void ct_timeline_free(struct ct_timeline *tl)
{
    for (size_t i = 0; i < tl->nworkers; i++)
        free(tl->workers[i].samples);
    free(tl->workers);
    memset(tl, 0, sizeof *tl);
}
