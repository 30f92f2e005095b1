/*
 * render.c - see render.h: the registry of output formats.
 */
#include "render.h"

#include <string.h>

const struct ct_renderer *const ct_renderers[] = {
    &ct_render_text,
    &ct_render_json,
    &ct_render_folded,
    &ct_render_pprof,
    &ct_render_html,
    NULL,
};

const struct ct_renderer *ct_renderer_find(const char *name)
{
    for (size_t i = 0; ct_renderers[i]; i++)
        if (!strcmp(ct_renderers[i]->name, name))
            return ct_renderers[i];
    return NULL;
}

const char *ct_opt_name(unsigned opt)
{
    switch (opt) {
    case CT_OPT_PAGES: return "--pages";
    case CT_OPT_NO_STACKS: return "--no-stacks";
    case CT_OPT_FRAMES: return "--frames";
    case CT_OPT_LEAF: return "--leaf";
    }
    return "?";
}

void ct_render_usage(FILE *f, bool diff)
{
    for (size_t i = 0; ct_renderers[i]; i++) {
        const struct ct_renderer *r = ct_renderers[i];
        if (diff && !r->diff)
            continue;
        /* Each help line indented under the format's name. */
        const char *h = r->help;
        fprintf(f, "                    %-7s ", r->name);
        for (;;) {
            size_t n = strcspn(h, "\n");
            fwrite(h, 1, n, f);
            if (i == 0 && !h[n])
                fputs(" (default)", f);
            fputc('\n', f);
            if (!h[n])
                break;
            h += n + 1;
            fprintf(f, "                    %-7s ", "");
        }
    }
}

/* The values each option can take: 2 (pages, no-stacks) or 4 (frames,
 * leaf, counting their defaults). */
static size_t values(const struct ct_renderer *r, unsigned opt)
{
    if (!(r->accepts & opt))
        return 1;
    return opt == CT_OPT_FRAMES || opt == CT_OPT_LEAF ? 4 : 2;
}

size_t ct_render_opts_count(const struct ct_renderer *r)
{
    size_t n = 1;
    for (unsigned opt = 1; opt <= CT_OPT_ALL; opt <<= 1)
        n *= values(r, opt);
    return n;
}

struct ct_render_opts ct_render_opts_nth(const struct ct_renderer *r, size_t n)
{
    struct ct_render_opts o = CT_RENDER_OPTS_DEFAULT;
    for (unsigned opt = 1; opt <= CT_OPT_ALL; opt <<= 1) {
        size_t k = values(r, opt), v = n % k;
        n /= k;
        if (k == 1)
            continue;
        switch (opt) {
        case CT_OPT_PAGES: o.pages = v; break;
        case CT_OPT_NO_STACKS: o.stacks = !v; break;
        case CT_OPT_FRAMES: o.frames = (enum ct_frames)v; break;
        case CT_OPT_LEAF: o.leaf = (enum ct_leaf)v; break;
        }
    }
    return o;
}
