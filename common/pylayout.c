/*
 * pylayout.c - the table of known CPython layouts (see pylayout.h).
 */
#include <stddef.h>

#include "pylayout.h"

extern const struct ct_pylayout ct_pylayout_3_11;

static const struct ct_pylayout *const layouts[] = {
    &ct_pylayout_3_11,
};

const struct ct_pylayout *ct_pylayout_for(uint64_t hexversion)
{
    uint32_t major = (uint32_t)(hexversion >> 24) & 0xff;
    uint32_t minor = (uint32_t)(hexversion >> 16) & 0xff;
    for (size_t i = 0; i < sizeof layouts / sizeof layouts[0]; i++)
        if (layouts[i]->major == major && layouts[i]->minor == minor)
            return layouts[i];
    return NULL;
}
