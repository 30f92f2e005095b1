/*
 * modules.c - the ELF objects mapped in the child at fork (CT_REC_MODULE):
 * path, load bias, address range and GNU build id. The analyzer symbolizes
 * instruction pointers offline against these files and refuses a file whose
 * build id no longer matches. Runs in the child's set-up, before anything is
 * protected (dl_iterate_phdr takes the loader's lock).
 */
#include <elf.h>
#include <fcntl.h>
#include <link.h>

#include "ct_shim.h"

static void build_id(struct dl_phdr_info *info, uint8_t out[20], uint32_t *len)
{
    *len = 0;
    for (int i = 0; i < info->dlpi_phnum; i++) {
        const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
        if (ph->p_type != PT_NOTE)
            continue;
        const uint8_t *p = (const uint8_t *)(info->dlpi_addr + ph->p_vaddr);
        const uint8_t *end = p + ph->p_memsz;
        while (p + sizeof(ElfW(Nhdr)) <= end) {
            const ElfW(Nhdr) *n = (const ElfW(Nhdr) *)p;
            const uint8_t *name = p + sizeof *n;
            const uint8_t *desc = name + ((n->n_namesz + 3) & ~3u);
            if (desc + n->n_descsz > end)
                break;
            if (n->n_type == NT_GNU_BUILD_ID && n->n_namesz == 4 && !ct_strncmp((const char *)name, "GNU", 4)) {
                *len = n->n_descsz < 20 ? n->n_descsz : 20;
                ct_memcpy(out, desc, *len);
                return;
            }
            p = desc + ((n->n_descsz + 3) & ~3u);
        }
    }
}

static int one(struct dl_phdr_info *info, size_t size, void *data)
{
    (void)size;
    struct ct_state *st = data;
    char exe[PATH_MAX];
    const char *path = info->dlpi_name;
    if (!path || !path[0]) {
        long n = ct_sys4(SYS_readlinkat, AT_FDCWD, "/proc/self/exe", exe, sizeof exe - 1);
        exe[ct_is_err(n) ? 0 : n] = 0;
        path = exe;
    }
    uintptr_t lo = UINTPTR_MAX, hi = 0;
    for (int i = 0; i < info->dlpi_phnum; i++) {
        const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
        if (ph->p_type != PT_LOAD)
            continue;
        uintptr_t a = info->dlpi_addr + ph->p_vaddr, b = a + ph->p_memsz;
        lo = a < lo ? a : lo;
        hi = b > hi ? b : hi;
    }
    if (!path[0] || lo >= hi)
        return 0;   /* the vDSO and other nameless objects */
    uint8_t id[20];
    uint32_t idlen;
    build_id(info, id, &idlen);
    return ct_rec_module(&st->w, info->dlpi_addr, lo, hi, id, idlen, path) ? 1 : 0;
}

int ct_modules_record(struct ct_state *st)
{
    return dl_iterate_phdr(one, st) ? -1 : 0;
}
