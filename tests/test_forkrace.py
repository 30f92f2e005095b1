#!/usr/bin/env python3
"""The fork pause: released early, the parent must still not blur the child's trace.

Runs tests/progs/forkrace under `cowtrace run --mode MODE`: the parent
snapshots its pagemap just before fork() and, the moment fork() returns,
writes every page of region A (N pages, last page first); the child writes
nothing of A. A page the parent copies turns exclusive in the child, which
is what the shim reads as "written before tracking" (EARLY): had the parent
been let go before the child read that, A's pages would show up as the
child's. While the child waits we read its pagemap and call a page copied by
the child when its frame number differs from the pre-fork snapshot. Checks:

- the parent did copy A (else the race was not run) while the child's
  report has no copied (early or later) page in A. (Elsewhere a few pages
  may read as early that only the parent copied: libc's own fork code runs
  in the parent before any handler of ours can hold it, and the kernel
  updates its rseq area. That noise is older than the early release.)
- every page the child copied, in every region the report says is tracked,
  is in the report (its early pages and later writes alike): none of what
  libc's fork code or the shim's set-up wrote before protection is lost. In
  uffd and mprotect the thread control block and rseq area are left
  writable on purpose (backend_sync.c) and are not compared.
"""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "lib"))
import ct  # noqa: E402
import kernel  # noqa: E402


def read_snapshot(path):
    """{start: array of pagemap words} from forkrace's SNAPSHOT file."""
    maps = {}
    with open(path) as f:
        lines = f.read().split("\n")
    i = 0
    while i < len(lines) and lines[i]:
        start, n = lines[i].split()
        start, n = int(start, 16), int(n)
        maps[start] = [int(w, 16) for w in lines[i + 1:i + 1 + n]]
        i += 1 + n
    return maps


def wait_both(proc, timeout=120):
    """The READY line's fields, once the parent has also said PARENT DONE."""
    import selectors
    import time
    sel = selectors.DefaultSelector()
    sel.register(proc.stdout, selectors.EVENT_READ)
    deadline = time.monotonic() + timeout
    ready, done, seen = None, False, []
    while ready is None or not done:
        left = deadline - time.monotonic()
        if left <= 0 or not sel.select(left):
            proc.kill()
            raise ct.Fail(f"forkrace did not get ready within {timeout}s; stdout {seen!r}")
        line = proc.stdout.readline()
        if not line:
            raise ct.Fail(f"forkrace ended early: stdout {seen!r}; stderr {proc.stderr.read()[-2000:]!r}")
        seen.append(line)
        if line.startswith("READY"):
            ready = line.split()[1:]
        elif line.startswith("PARENT DONE"):
            done = True
    return ready


def run():
    args = ct.parse_args(lambda ap: (ap.add_argument("--prog", required=True),
                                     ap.add_argument("--n", type=int, default=30000)),
                         modes=ct.MODES)
    ct.require_root()
    ct.require_build()
    t = ct.tempdir("forkrace")
    out, snap = t.sub("out"), t.sub("snapshot")
    ps = kernel.PAGE_SIZE
    p = ct.popen_traced([args.prog, str(args.n), snap], args.mode, out)
    try:
        f = wait_both(p)
        child, a, n, tp, rseq_off, rseq_size = int(f[0]), int(f[1], 16), int(f[2]), int(f[3], 16), int(f[4]), int(f[5])
        parent = ct.ppid_of(child)
        before = read_snapshot(snap)
        after = {start: kernel.read_pagemap(child, start, len(words)) for start, words in before.items()}
        parent_a = kernel.read_pagemap(parent, a, n)
        try:
            kernel.check_pfns_visible(parent_a)
        except kernel.NoPFN as e:
            raise ct.Skip(str(e))
    finally:
        rc, so, se = ct.finish_or_collect(p)
    ct.check(rc == 0, f"forkrace exited {rc}; stderr: {se[-2000:]!r}")

    copied = set()      # pages the child copied: another frame than before fork
    for start, words in before.items():
        now = after[start]
        for i, w in enumerate(words):
            if w & kernel.PM_PRESENT and now[i] & kernel.PM_PRESENT and kernel.pfn(now[i]) != kernel.pfn(w):
                copied.add(start + i * ps)
    a_before = before.get(a)
    ct.check(a_before is not None and len(a_before) == n, "region A is not one mapping in the snapshot")
    parent_copied = sum(1 for i in range(n) if kernel.pfn(parent_a[i]) != kernel.pfn(a_before[i]))
    ct.log(f"mode {args.mode}: A {n} pages, parent copied {parent_copied}; child copied {len(copied)} pages")
    ct.check(parent_copied >= n * 0.99, f"the parent copied only {parent_copied} of A's {n} pages: no race was run")
    ct.check(not any(a <= x < a + n * ps for x in copied), "kernel ground truth off: the child copied pages of A")

    rep = ct.report(out, pages=True)
    proc = ct.get_process(rep, child)
    ct.check_mode(proc, args.mode)
    ct.check(proc.get("complete") is True, f"report says complete={proc.get('complete')!r}; notes {proc.get('notes')}")
    rcow, _ = ct.page_sets(proc, 0, 1 << 64)
    bad = []
    in_a = sorted(x for x in rcow if a <= x < a + n * ps)
    if in_a:
        bad.append(f"{len(in_a)} pages of A reported copied by the child (first {hex(in_a[0])}): "
                   f"the parent's writes were read as the child's")
    tracked = []
    for r in proc["regions"]:
        lo, hi = int(r["start"], 16), int(r["end"], 16)
        if r.get("tracked"):
            tracked.append((lo, hi))
    left_open = set()
    if args.mode != "uffd-async":
        for lo, size in ((tp, 4096), (tp + rseq_off, rseq_size)):
            left_open.update(range(lo // ps * ps, lo + size, ps))
    missing = sorted(x for x in copied if x not in rcow and x not in left_open
                     and any(lo <= x < hi for lo, hi in tracked))
    if missing:
        bad.append(f"{len(missing)} pages the child copied are not in the report: {[hex(x) for x in missing[:8]]}")
    ct.log(f"  report: {proc.get('early_pages')} early, {proc.get('cow_pages')} copied; "
           f"{len(missing)} missing, {len(in_a)} in A")
    ct.check(not bad, "; ".join(bad))


ct.main(run)
