"""fork_chain.py ROUNDS DEPTH: chains of forked generations, each one
churning Python objects (so a uffd-async flusher thread is reading the
interpreter's memory, and some of what it reads is freed and unmapped)
while it forks the next. Each generation waits for its child and exits 1
if the child did not exit 0 (a signal says `killed by signal N` on stderr);
the top prints `ok` and exits 0 when every chain came back whole.

A child inherits the probe slots its parent's flusher held at the fork;
with a stale slot the child's own flusher, on glibc's reused stack, jumped
into a dead sigjmp_buf at its first faulting read (tests/test_faults.py
--case chain).
"""
import os
import sys


def churn(n):
    # objects in fresh pymalloc arenas, then freed: arenas are unmapped
    keep = [[i, str(i), (i, i)] for i in range(n)]
    del keep
    return sum(len(str(i)) for i in range(n // 4))


def generation(depth):
    churn(40_000)
    if depth > 0:
        pid = os.fork()
        if pid == 0:
            code = 1
            try:
                code = generation(depth - 1)
            finally:
                os._exit(code)
        churn(20_000)
        _, status = os.waitpid(pid, 0)
        if os.WIFSIGNALED(status):
            print(f"generation {depth - 1}: killed by signal {os.WTERMSIG(status)}", file=sys.stderr, flush=True)
            return 1
        if os.waitstatus_to_exitcode(status) != 0:
            return 1
    return 0


def main():
    rounds, depth = int(sys.argv[1]), int(sys.argv[2])
    bad = 0
    for _ in range(rounds):
        bad += generation(depth)
    print("ok" if not bad else f"{bad} chains broken", flush=True)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
