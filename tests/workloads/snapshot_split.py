"""Anonymous mappings whose bounds move after the fork, for `cowtrace
snapshot` and `watch` tests (never run under cowtrace). The master maps two
anonymous regions A and B of 4 MiB each (apart, so they stay two mappings),
fills them and forks one worker, which writes every page of both (a copy
of each) and then unmaps A's first MiB: its A now starts 1 MiB later than
the master's (a split). Then the master maps 1 MiB of anonymous memory
right below B, which the kernel merges into the master's B: its B now
starts 1 MiB earlier than the worker's. Both remain the mappings inherited
across the fork, so every page of the worker's A and B is a copy. The
master writes "MASTER WORKER" to --ready; everyone sleeps until killed."""
import argparse
import ctypes
import os
import time

MIB = 1 << 20
PROT_RW, MAP_PRIVATE_ANON, MAP_FIXED_NOREPLACE = 3, 0x22, 0x100000


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--ready", required=True)
    a = ap.parse_args()
    libc = ctypes.CDLL(None, use_errno=True)
    libc.mmap.restype = ctypes.c_void_p
    libc.mmap.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int, ctypes.c_int, ctypes.c_int, ctypes.c_long]
    libc.munmap.argtypes = [ctypes.c_void_p, ctypes.c_size_t]
    # One reservation, then A and B inside it with a 2 MiB hole between (and
    # 2 MiB free below B for the master's neighbour): no other mapping lands
    # next to them by chance.
    base = libc.mmap(None, 16 * MIB, 0, MAP_PRIVATE_ANON, -1, 0)
    if not base or base == ctypes.c_void_p(-1).value:
        raise OSError(ctypes.get_errno(), "mmap")
    libc.munmap(base, 16 * MIB)
    b_start, a_start = base + 2 * MIB, base + 8 * MIB
    for at in (a_start, b_start):
        got = libc.mmap(at, 4 * MIB, PROT_RW, MAP_PRIVATE_ANON | MAP_FIXED_NOREPLACE, -1, 0)
        if got != at:
            raise OSError(ctypes.get_errno(), "mmap at a fixed address")
        ctypes.memset(at, 1, 4 * MIB)
    r, w = os.pipe()
    worker = os.fork()
    if worker == 0:
        for at in (a_start, b_start):
            ctypes.memset(at, 2, 4 * MIB)
        libc.munmap(a_start, MIB)
        os.write(w, b"x")
        while True:
            time.sleep(60)
    os.read(r, 1)
    below = libc.mmap(b_start - MIB, MIB, PROT_RW, MAP_PRIVATE_ANON | MAP_FIXED_NOREPLACE, -1, 0)
    if below != b_start - MIB:
        raise OSError(ctypes.get_errno(), "mmap below B")
    ctypes.memset(below, 3, MIB)
    with open(a.ready + ".tmp", "w") as f:
        f.write(f"{os.getpid()} {worker}\n")
    os.rename(a.ready + ".tmp", a.ready)
    while True:
        time.sleep(60)


main()
