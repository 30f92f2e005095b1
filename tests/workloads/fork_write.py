"""Forks children that write inherited memory.
usage: fork_write.py [--children C] [--pages K] [--step S] [--exit E] [--pidfile F]
The parent fills a buffer of K pages, forks C children one after another;
each writes one byte on every S-th page of it and on an inherited list, and
exits 0. The parent prints what happened and exits E."""
import argparse
import os
import sys

ap = argparse.ArgumentParser()
ap.add_argument("--children", type=int, default=2)
ap.add_argument("--pages", type=int, default=20000)
ap.add_argument("--step", type=int, default=2)
ap.add_argument("--exit", type=int, default=0)
ap.add_argument("--pidfile")
a = ap.parse_args()
PAGE = os.sysconf("SC_PAGESIZE")
buf = bytearray(b"\x01" * (a.pages * PAGE))
data = [[i] for i in range(50000)]
pids = []
for c in range(a.children):
    sys.stdout.flush()
    pid = os.fork()
    if pid == 0:
        n = 0
        for off in range(0, a.pages * PAGE, a.step * PAGE):
            buf[off] = 2
            n += 1
        for lst in data:
            lst[0] += 1
        print(f"child {c}: wrote {n} pages", flush=True)
        os._exit(0)
    pids.append(pid)
    _, st = os.waitpid(pid, 0)
    print(f"parent: child {c} exit {os.waitstatus_to_exitcode(st)}", flush=True)
if a.pidfile:
    with open(a.pidfile, "w") as f:
        f.write(" ".join(map(str, pids)) + "\n")
print("parent: done", flush=True)
sys.exit(a.exit)
