"""A stand-in for a prefork server, for `cowtrace snapshot` tests (never run
under cowtrace): the master builds a list of ints and a list of class
instances, optionally calls gc.freeze(), and forks two workers. The
"ints" worker iterates the list of ints; the "gc" worker runs
gc.collect(). Both then sleep, and the master writes "MASTER INTS GC" to
--ready once both are done. Everyone sleeps until killed. With --exit
(for `cowtrace run`), the workers leave with os._exit instead (as still
running: the interpreter's finalization would free, so write, every
object) and the master, once both have, writes --ready and exits."""
import argparse
import gc
import os
import time


class Item:
    def __init__(self, i):
        self.a = i
        self.b = None


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--ints", type=int, default=1000000)
    ap.add_argument("--items", type=int, default=300000)
    ap.add_argument("--freeze", action="store_true")
    ap.add_argument("--ready", required=True)
    ap.add_argument("--exit", action="store_true")
    a = ap.parse_args()
    ints = [i + 100000 for i in range(a.ints)]
    items = [Item(i) for i in range(a.items)]
    gc.collect()
    if a.freeze:
        gc.freeze()
    r, w = os.pipe()
    kids = []
    for job in ("ints", "gc"):
        pid = os.fork()
        if pid == 0:
            os.close(r)
            if job == "ints":
                total = 0
                for x in ints:
                    total += x
            else:
                gc.collect()
            os.write(w, b"x")
            if a.exit:
                os._exit(0)
            while True:
                time.sleep(3600)
        kids.append(pid)
    os.close(w)
    for _ in kids:
        os.read(r, 1)
    if a.exit:
        for pid in kids:
            os.waitpid(pid, 0)
    tmp = a.ready + ".tmp"
    with open(tmp, "w") as f:
        f.write(f"{os.getpid()} {kids[0]} {kids[1]}\n")
    os.rename(tmp, a.ready)
    if a.exit:
        return
    while True:
        time.sleep(3600)


main()
