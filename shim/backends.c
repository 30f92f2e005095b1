/*
 * backends.c - the table of backends, and the choice of one in a child.
 *
 * Promise: this is the only list of backends. COWTRACE_MODE names one of
 * ct_backends; "auto" (or nothing) walks ct_auto_order and takes the first
 * whose probe succeeds. auto means precise: it lists only backends that see
 * each first write (uffd, then mprotect, which always can); uffd-async,
 * which records page sets only, runs when asked for. A new backend is one
 * file and one line here (and in auto_order if auto may pick it); its mode
 * and name are one line of CT_MODE_TABLE (ct_format.h).
 */
#include "ct_shim.h"

extern const struct ct_backend_ops ct_backend_uffd_async, ct_backend_uffd, ct_backend_mprotect;

static const struct ct_backend_ops *const ct_backends[] = {
    &ct_backend_uffd_async,
    &ct_backend_uffd,
    &ct_backend_mprotect,
};

static const struct ct_backend_ops *const ct_auto_order[] = {
    &ct_backend_uffd,
    &ct_backend_mprotect,
};

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

const struct ct_backend_ops *ct_backend_named(const char *name)
{
    for (size_t i = 0; i < COUNT(ct_backends); i++)
        if (!ct_strcmp(ct_mode_word(ct_backends[i]->mode), name))
            return ct_backends[i];
    return NULL;
}

struct text {
    char *p, *end;
};

static void say(struct text *t, const char *s)
{
    while (*s && t->p < t->end)
        *t->p++ = *s++;
    *t->p = 0;
}


int ct_backend_choose(struct ct_state *st, const struct ct_backend_ops *requested, char *reason, size_t cap)
{
    struct text t = {reason, reason + cap - 1};
    const char *why = "";
    *reason = 0;
    if (requested) {
        if (requested->probe(st, &why) == 0) {
            st->backend = requested;
            say(&t, "requested");
            return 0;
        }
        say(&t, ct_mode_word(requested->mode));
        say(&t, " unavailable: ");
        say(&t, why);
        return -1;
    }
    /* "auto: uffd unavailable (why), mprotect (precise)" */
    say(&t, "auto: ");
    for (size_t i = 0; i < COUNT(ct_auto_order); i++) {
        const struct ct_backend_ops *b = ct_auto_order[i];
        if (b->probe(st, &why) == 0) {
            st->backend = b;
            say(&t, b->auto_says);
            return 0;
        }
        say(&t, ct_mode_word(b->mode));
        say(&t, " unavailable (");
        say(&t, why);
        say(&t, "), ");
    }
    return -1;
}
