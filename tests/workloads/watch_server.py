"""A stand-in for a prefork server whose workers' memory climbs, for
`cowtrace watch` tests (never run under cowtrace). The master builds a list
of ints and forks:
  - a "grower" worker that, every 0.5 s, iterates the next slice of the
    list (taking and releasing a reference to each int copies its page),
    --steps times, then writes --grown and sleeps;
  - "recycled" workers, one at a time: each lives --life seconds and exits;
    the master forks the next one when it has reaped the last (as a
    prefork server replaces a worker that reached its request limit).
The master writes "MASTER GROWER" to --ready once the grower runs, and
appends "fork PID" / "exit PID" lines to --events. Everyone runs until
killed (the test kills the process group)."""
import argparse
import os
import sys
import time


def log(path, line):
    with open(path, "a") as f:
        f.write(line + "\n")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--ints", type=int, default=1200000)
    ap.add_argument("--steps", type=int, default=8)
    ap.add_argument("--life", type=float, default=2.0)
    ap.add_argument("--ready", required=True)
    ap.add_argument("--grown", required=True)
    ap.add_argument("--events", required=True)
    ap.add_argument("--grower-name", default=None, help="the grower's comm (/proc/self/comm)")
    a = ap.parse_args()
    ints = [i + 100000 for i in range(a.ints)]
    step = a.ints // a.steps

    grower = os.fork()
    if grower == 0:
        if a.grower_name:
            with open("/proc/self/comm", "w") as f:
                f.write(a.grower_name)
        total = 0
        for k in range(a.steps):
            for x in ints[k * step:(k + 1) * step]:
                total += x
            time.sleep(0.5)
        with open(a.grown + ".tmp", "w") as f:
            f.write(str(total))
        os.rename(a.grown + ".tmp", a.grown)
        while True:
            time.sleep(3600)
    with open(a.ready + ".tmp", "w") as f:
        f.write(f"{os.getpid()} {grower}\n")
    os.rename(a.ready + ".tmp", a.ready)

    while True:
        pid = os.fork()
        if pid == 0:
            time.sleep(a.life)
            os._exit(0)
        log(a.events, f"fork {pid}")
        os.waitpid(pid, 0)
        log(a.events, f"exit {pid}")
        sys.stdout.flush()


main()
