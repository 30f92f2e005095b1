#!/usr/bin/env python3
"""seed_lists.py - the scenario cowtrace was written for.

A program holds three large lists - one of bit arrays, two of integer arrays
(array.array('q'), and NumPy arrays when NumPy is importable) - and forks
worker processes that only *read* them: count bits, sum integers. Nothing is
written, yet every worker ends up with tens of MiB of private copies: reading
a Python object writes its reference count, and the page holding that count
is copied on write.

The usual advice is to put the data in multiprocessing.shared_memory. Phase 2
does that with the same data and the same reads: those pages stay shared.

Run it under cowtrace to see which pages each worker copied:

    cowtrace run -o seed.out -- python3 examples/seed_lists.py
    cowtrace report seed.out

Options: --objects N (per list, default 150,000), --workers W (default 2).
"""
import argparse
import array
import multiprocessing as mp
import os
import sys
import time
from multiprocessing import shared_memory

try:
    from bitarray import bitarray
except ImportError:
    bitarray = None
try:
    import numpy
except ImportError:
    numpy = None

BITS = 1024     # bits per bit array
INTS = 48       # integers per integer array


def make_lists(n):
    """Three lists of n small objects each (plus NumPy arrays if available)."""
    if bitarray is not None:
        bits = []
        for i in range(n):
            b = bitarray(BITS)
            b.setall(0)
            b[i % BITS] = 1
            b[(i * 7) % BITS] = 1
            bits.append(b)
    else:  # bytearrays used as bit arrays
        bits = []
        for i in range(n):
            b = bytearray(BITS // 8)
            b[(i % BITS) // 8] |= 1 << (i % 8)
            b[((i * 7) % BITS) // 8] |= 1 << ((i * 7) % 8)
            bits.append(b)
    ints_a = [array.array("q", range(i, i + INTS)) for i in range(n)]
    ints_b = [array.array("q", [i] * INTS) for i in range(n)]
    arrays = [numpy.arange(i, i + INTS, dtype=numpy.int64) for i in range(n)] if numpy else []
    return bits, ints_a, ints_b, arrays


def count_bits(b):
    if bitarray is not None and isinstance(b, bitarray):
        return b.count(1)
    return int.from_bytes(b, "little").bit_count()


def read_lists(bits, ints_a, ints_b, arrays):
    nbits = sum(count_bits(b) for b in bits)
    total = sum(sum(a) for a in ints_a) + sum(sum(a) for a in ints_b)
    total += sum(int(a.sum()) for a in arrays)
    return nbits, total


def to_shared(bits, ints_a, ints_b, arrays):
    """Pack the same data into one shared memory block."""
    nb = BITS // 8
    n = len(bits)
    nints = (len(ints_a) + len(ints_b) + len(arrays)) * INTS
    shm = shared_memory.SharedMemory(create=True, size=n * nb + nints * 8)
    buf = shm.buf
    for i, b in enumerate(bits):
        buf[i * nb:(i + 1) * nb] = b.tobytes() if bitarray is not None and isinstance(b, bitarray) else b
    q = buf[n * nb:].cast("q")
    k = 0
    for lst in (ints_a, ints_b):
        for a in lst:
            q[k:k + INTS] = a
            k += INTS
    for a in arrays:
        q[k:k + INTS] = array.array("q", a.tobytes())
        k += INTS
    q.release()
    return shm, n, nints


def read_shared(name, n, nints):
    shm = shared_memory.SharedMemory(name=name)
    nb = BITS // 8
    mv = shm.buf
    nbits = 0
    for i in range(n):
        nbits += int.from_bytes(mv[i * nb:(i + 1) * nb], "little").bit_count()
    q = mv[n * nb:n * nb + nints * 8].cast("q")
    total = 0
    step = INTS * 1024
    for k in range(0, nints, step):
        total += sum(q[k:k + step])
    q.release()
    del mv
    shm.close()
    return nbits, total


def worker_lists(k, lists, results):
    t0 = time.perf_counter()
    nbits, total = read_lists(*lists)
    results.put(("lists", k, os.getpid(), nbits, total, time.perf_counter() - t0))


def worker_shared(k, name, n, nints, results):
    t0 = time.perf_counter()
    nbits, total = read_shared(name, n, nints)
    results.put(("shared", k, os.getpid(), nbits, total, time.perf_counter() - t0))


def run_phase(label, target, args, workers):
    ctx = mp.get_context("fork")
    results = ctx.SimpleQueue()
    procs = [ctx.Process(target=target, args=(k,) + args + (results,)) for k in range(workers)]
    for p in procs:
        p.start()
    out = [results.get() for _ in procs]
    for p in procs:
        p.join()
    for phase, k, pid, nbits, total, el in sorted(out, key=lambda r: r[1]):
        print(f"  worker {k} (pid {pid}, phase {phase}): {nbits} bits set, integer sum {total}, "
              f"{el:.2f} s", flush=True)
    return out


def main():
    ap = argparse.ArgumentParser(description="Read-only workers over lists of arrays vs shared memory.")
    ap.add_argument("--objects", type=int, default=150000, help="objects per list (default 150,000)")
    ap.add_argument("--workers", type=int, default=2)
    a = ap.parse_args()

    kinds = ["bitarray" if bitarray else "bytearray (bitarray not installed)", "array.array('q')",
             "array.array('q')"] + (["numpy.ndarray"] if numpy else [])
    print(f"seed_lists: python {sys.version.split()[0]} ({sys.executable}), pid {os.getpid()}", flush=True)
    print(f"building {len(kinds)} lists of {a.objects:,} objects: {', '.join(kinds)}", flush=True)
    t0 = time.perf_counter()
    lists = make_lists(a.objects)
    print(f"  built in {time.perf_counter() - t0:.2f} s", flush=True)

    print(f"\nphase 1 (lists): fork {a.workers} workers that only read the lists "
          "(count bits, sum integers)", flush=True)
    r1 = run_phase("lists", worker_lists, (lists,), a.workers)

    print("\nphase 2 (shared memory): the same data packed into multiprocessing.shared_memory; "
          f"fork {a.workers} workers that read it", flush=True)
    shm, n, nints = to_shared(*lists)
    try:
        r2 = run_phase("shared", worker_shared, (shm.name, n, nints), a.workers)
    finally:
        shm.close()
        shm.unlink()
    ok = all(r[3:5] == r1[0][3:5] for r in r1 + r2)
    print(f"\nall workers agree on the results: {ok}", flush=True)
    if os.environ.get("COWTRACE_DIR"):
        print(f"traces in {os.environ['COWTRACE_DIR']}: "
              f"phase 1 workers {[r[2] for r in r1]}, phase 2 workers {[r[2] for r in r2]}", flush=True)
        print("in the report, compare the COW MiB of the phase 1 workers (lists of objects: every page "
              "holding a reference count is copied) with phase 2 (shared memory: stays shared)", flush=True)
    else:
        print("run under `cowtrace run` to see what each worker copied", flush=True)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
