/*
 * registry.c - the known CPython versions, and the only decoding of a
 * PY_VERSION_HEX in cowtrace (see pyver.h).
 */
#include <stddef.h>

#include "pyver.h"

extern const struct ct_pyver ct_pyver_3_9;
extern const struct ct_pyver ct_pyver_3_10;
extern const struct ct_pyver ct_pyver_3_11;
extern const struct ct_pyver ct_pyver_3_12;
extern const struct ct_pyver ct_pyver_3_13;
extern const struct ct_pyver ct_pyver_3_13t;

static const struct ct_pyver *const known[] = {
    &ct_pyver_3_9,
    &ct_pyver_3_10,
    &ct_pyver_3_11,
    &ct_pyver_3_12,
    &ct_pyver_3_13,
    &ct_pyver_3_13t,
};

struct ct_pyversion ct_pyversion_of(uint64_t hexversion)
{
    /* PY_VERSION_HEX: 0xMMmmppLS (major, minor, micro, release level, serial) */
    return (struct ct_pyversion){
        .major = (uint32_t)(hexversion >> 24) & 0xff,
        .minor = (uint32_t)(hexversion >> 16) & 0xff,
        .micro = (uint32_t)(hexversion >> 8) & 0xff,
    };
}

/* "X.Y.Z" then a release level ("a", "b", "rc" and a serial) or not, then
 * anything (Py_GetVersion() continues " (main, date) [compiler]"). */
static const char *get_decimal(const char *s, uint32_t *n)
{
    const char *start = s;
    *n = 0;
    while (*s >= '0' && *s <= '9' && s - start < 3)
        *n = *n * 10 + (uint32_t)(*s++ - '0');
    return s > start && *n <= 0xff ? s : NULL;
}

uint64_t ct_pyversion_parse(const char *s)
{
    uint32_t major, minor, micro, level = 0xf, serial = 0;
    if (!s || !(s = get_decimal(s, &major)) || *s++ != '.' || !(s = get_decimal(s, &minor)) || *s++ != '.' ||
        !(s = get_decimal(s, &micro)))
        return 0;
    if (s[0] == 'a' || s[0] == 'b' || (s[0] == 'r' && s[1] == 'c')) {
        level = s[0] == 'a' ? 0xa : s[0] == 'b' ? 0xb : 0xc;
        s += s[0] == 'r' ? 2 : 1;
        if (!(s = get_decimal(s, &serial)) || serial > 0xf)
            return 0;
    }
    return (uint64_t)major << 24 | (uint64_t)minor << 16 | (uint64_t)micro << 8 | level << 4 | serial;
}

const struct ct_pyver *ct_pyver_for_build(uint64_t hexversion, int free_threaded)
{
    struct ct_pyversion v = ct_pyversion_of(hexversion);
    for (size_t i = 0; i < sizeof known / sizeof known[0]; i++)
        if (known[i]->major == v.major && known[i]->minor == v.minor &&
            (known[i]->header == CT_OBJHEAD_FREE_THREADED) == (free_threaded != 0))
            return known[i];
    return NULL;
}

const struct ct_pyver *ct_pyver_for(uint64_t hexversion)
{
    return ct_pyver_for_build(hexversion, 0);
}

int ct_pyver_free_threaded(const uint8_t head[CT_PY_RUNTIME_HEAD], uint64_t hexversion)
{
    static const uint8_t cookie[8] = {'x', 'd', 'e', 'b', 'u', 'g', 'p', 'y'};
    uint64_t version, free_threaded;
    for (int i = 0; i < 8; i++)
        if (head[i] != cookie[i])
            return -1;
    __builtin_memcpy(&version, head + 8, sizeof version);
    __builtin_memcpy(&free_threaded, head + 16, sizeof free_threaded);
    if (version != hexversion)
        return -1;
    return free_threaded != 0;
}

int ct_pyver_can_be_free_threaded(uint64_t hexversion)
{
    struct ct_pyversion v = ct_pyversion_of(hexversion);
    return v.major > 3 || (v.major == 3 && v.minor >= 13);
}

static unsigned put_decimal(char *buf, unsigned at, unsigned cap, uint32_t n)
{
    char digits[10];
    unsigned nd = 0;
    do {
        digits[nd++] = (char)('0' + n % 10);
        n /= 10;
    } while (n);
    while (nd && at + 1 < cap)
        buf[at++] = digits[--nd];
    return at;
}

unsigned ct_pyversion_format(uint64_t hexversion, char *buf, unsigned cap)
{
    if (!cap)
        return 0;
    struct ct_pyversion v = ct_pyversion_of(hexversion);
    unsigned n = put_decimal(buf, 0, cap, v.major);
    if (n + 1 < cap)
        buf[n++] = '.';
    n = put_decimal(buf, n, cap, v.minor);
    if (n + 1 < cap)
        buf[n++] = '.';
    n = put_decimal(buf, n, cap, v.micro);
    buf[n] = 0;
    return n;
}

static int is_eval_name(const char *name, const char *func)
{
    size_t n = 0;
    while (name[n] && func[n] == name[n])
        n++;
    /* GCC splits hot and cold parts: _PyEval_EvalFrameDefault.cold is the
     * same C frame. */
    return !name[n] && (func[n] == '\0' || func[n] == '.');
}

int ct_pyver_is_eval_func(const struct ct_pyver *v, const char *func)
{
    if (!func)
        return 0;
    for (size_t i = 0; i < sizeof known / sizeof known[0]; i++) {
        const struct ct_pyver *k = v ? v : known[i];
        for (size_t j = 0; j < CT_PYVER_MAX_EVAL_FUNCS && k->eval_funcs[j]; j++)
            if (is_eval_name(k->eval_funcs[j], func))
                return 1;
        if (v)
            break;
    }
    return 0;
}
