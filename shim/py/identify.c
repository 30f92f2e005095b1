/*
 * identify.c - in the parent, before fork: which interpreter is this, and
 * where is it? (Py_Version, or before 3.11 Py_GetVersion(); _PyRuntime;
 * the ELF object defining them; a free-threaded build or not.)
 * Which layout to decode it with is common/pyver's business: asked here,
 * in the parent, where _PyRuntime's first kilobyte (3.13+: its published
 * _Py_DebugOffsets) is read with plain loads; the child inherits the
 * answer (ct_py_layout) and setup.c records it.
 */
#include <dlfcn.h>
#include <fcntl.h>
#include <link.h>

#include "allocator.h"
#include "py.h"

static struct ct_pyver discovered;          /* a layout built from _Py_DebugOffsets */
static const struct ct_pyver *layout;        /* the one to decode with, or NULL */
static struct ct_discovery discovery;

/* Our own memory, in the parent: _PyRuntime is a mapped symbol. */
static int direct_read(void *ctx, uintptr_t addr, void *dst, size_t len)
{
    (void)ctx;
    ct_memcpy(dst, (const void *)addr, len);
    return 0;
}

const struct ct_pyver *ct_py_layout(const struct ct_discovery **d)
{
    *d = &discovery;
    return layout;
}

struct find_object {
    uintptr_t addr;
    int found;
    int main_program;
    char path[PATH_MAX];
};

static int find_defining_object(struct dl_phdr_info *info, size_t size, void *data)
{
    (void)size;
    struct find_object *f = data;
    for (int i = 0; i < info->dlpi_phnum; i++) {
        const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
        uintptr_t lo = info->dlpi_addr + ph->p_vaddr;
        if (ph->p_type == PT_LOAD && f->addr >= lo && f->addr < lo + ph->p_memsz) {
            f->found = 1;
            f->main_program = !info->dlpi_name || !info->dlpi_name[0];
            if (!f->main_program) {
                size_t n = ct_strlen(info->dlpi_name);
                if (n >= sizeof f->path)
                    n = sizeof f->path - 1;
                ct_memcpy(f->path, info->dlpi_name, n);
                f->path[n] = 0;
            }
            return 1;
        }
    }
    return 0;
}

/* Which allocator the interpreter's object domain uses, as CPython itself
 * names it (_PyMem_GetCurrentAllocatorName, exported by 3.9 to 3.13: it
 * compares the installed allocator functions with its own; 3.13 takes the
 * allocators' mutex, which is why this runs in the parent before fork,
 * where the forking thread holds the GIL). The environment variable alone
 * would not do: -E and -I ignore PYTHONMALLOC, and a program can install
 * its own hooks. NULL (hooks it does not know, e.g. tracemalloc's, which
 * wrap whatever was there) and an unknown name keep the default: pymalloc. */
static uint32_t allocator_flags(void)
{
    static const char *(*current)(void);
    static int looked;
    if (!looked) {
        current = (const char *(*)(void))dlsym(RTLD_DEFAULT, "_PyMem_GetCurrentAllocatorName");
        looked = 1;
    }
    const char *name = current ? current() : NULL;
    if (!name)
        return 0;
    bool known;
    return ct_py_allocator_flags(name, false, &known);   /* unknown: 0, pymalloc */
}

static int contains(const char *s, const char *word)
{
    size_t n = ct_strlen(word);
    for (; s && *s; s++)
        if (!ct_strncmp(s, word, n))
            return 1;
    return 0;
}

/* Is this a free-threaded (Py_GIL_DISABLED) build? Its objects have
 * another header, so a GIL build's table must never decode it. 3.13+
 * publishes _Py_DebugOffsets at the start of _PyRuntime: the cookie
 * "xdebugpy", the version, then free_threaded (pycore_runtime.h). Without
 * the cookie (an interpreter older than 3.13, which has no free-threaded
 * build, or an odd one), Py_GetVersion() says "experimental free-threading
 * build" in a free-threaded one (Python/getversion.c, 3.13). */
static int is_free_threaded(const void *runtime, uint64_t hexversion)
{
    int said = ct_pyver_free_threaded(runtime, hexversion);
    if (said >= 0)
        return said;
    if (!ct_pyver_can_be_free_threaded(hexversion))
        return 0;
    const char *(*get_version)(void) = (const char *(*)(void))dlsym(RTLD_DEFAULT, "Py_GetVersion");
    return get_version && contains(get_version(), "free-threading");
}

/* Libraries can still be loaded later (an embedding host dlopens its
 * Python plugin), so a miss is retried at the next fork. The allocator is
 * asked at every fork: a program may install hooks after start. */
void ct_py_identify(void)
{
    if (ct_cfg.py_hexversion) {
        ct_cfg.py_alloc_flags = allocator_flags();
        return;
    }
    const unsigned long *ver = dlsym(RTLD_DEFAULT, "Py_Version");
    void *runtime = dlsym(RTLD_DEFAULT, "_PyRuntime");
    uint64_t hexversion = ver ? *ver : 0;
    if (!ver) {
        /* Before 3.11 the version is only a string: Py_GetVersion()
         * formats a static buffer, and we run in the parent before fork,
         * where the interpreter is the caller. */
        const char *(*get_version)(void) = (const char *(*)(void))dlsym(RTLD_DEFAULT, "Py_GetVersion");
        hexversion = get_version ? ct_pyversion_parse(get_version()) : 0;
    }
    if (!hexversion || !runtime)
        return;
    struct find_object f = {.addr = (uintptr_t)runtime};
    dl_iterate_phdr(find_defining_object, &f);
    if (!f.found)
        return;
    if (f.main_program) {
        long n = ct_sys4(SYS_readlinkat, AT_FDCWD, "/proc/self/exe", f.path, sizeof f.path - 1);
        f.path[ct_is_err(n) ? 0 : n] = 0;
    }
    ct_memcpy(ct_cfg.py_path, f.path, sizeof ct_cfg.py_path);
    ct_cfg.py_runtime = (uintptr_t)runtime;
    ct_cfg.py_dict_type = (uintptr_t)dlsym(RTLD_DEFAULT, "PyDict_Type");
    ct_cfg.py_shared = !f.main_program;
    struct ct_memread self = {direct_read, NULL};
    layout = ct_pyver_discover(&self, (uintptr_t)runtime, hexversion, &discovered, &discovery);
    ct_cfg.py_free_threaded = is_free_threaded(runtime, hexversion);
    ct_cfg.py_hexversion = hexversion;
    ct_cfg.py_alloc_flags = allocator_flags();
}
