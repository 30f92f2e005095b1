"""A small prefork stand-in for tests/test_live_faults.py (never run under
cowtrace): the master builds a list of ints and forks --workers workers,
each of which iterates the list (so copies pages: reference counts), then
sleeps. Once all have, the master writes "MASTER W1 W2 ..." to --ready.
With --reap the master then waits for its workers, so one that is killed
is reaped at once and its pid is free for another process; without it the
master sleeps and a killed worker stays a zombie."""
import argparse
import os
import time


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--ready", required=True)
    ap.add_argument("--workers", type=int, default=1)
    ap.add_argument("--ints", type=int, default=200000)
    ap.add_argument("--reap", action="store_true")
    a = ap.parse_args()
    ints = [i + 100000 for i in range(a.ints)]
    r, w = os.pipe()
    kids = []
    for _ in range(a.workers):
        pid = os.fork()
        if pid == 0:
            os.close(r)
            total = 0
            for x in ints:
                total += x
            os.write(w, b"x")
            while True:
                time.sleep(600)
        kids.append(pid)
    os.close(w)
    for _ in kids:
        os.read(r, 1)
    with open(a.ready + ".tmp", "w") as f:
        f.write(" ".join(str(p) for p in [os.getpid()] + kids))
    os.rename(a.ready + ".tmp", a.ready)
    while True:
        if a.reap:
            try:
                os.wait()
            except ChildProcessError:
                time.sleep(600)
        else:
            time.sleep(600)


main()
