"""A traced child that forks again at the top level of __main__, as a
multiprocessing pool started inside a worker would. CPython 3.12+ warns on
stderr (DeprecationWarning, shown by default from __main__) when the process
that forks has more than one thread, so anything the tracer adds to the
child as a thread shows here. The child also prints how many threads it has
(/proc/self/stat, /proc/self/task) and whether wait(-1) finds any child
beyond the one it forked: a tracer's helper must be neither a thread nor a
child that wait sees. Prints deterministic lines; exits 0."""
import os
import sys

data = [list(range(i, i + 4)) for i in range(20000)]


def threads():
    with open("/proc/self/stat") as f:
        stat = f.read()
    return int(stat[stat.rindex(")") + 2:].split()[17]), len(os.listdir("/proc/self/task"))


sys.stdout.flush()
pid = os.fork()
if pid == 0:
    for row in data[::7]:
        row[0] += 1                      # write inherited memory: copies
    print("child threads (stat, task):", *threads(), flush=True)
    inner = os.fork()                    # the nested fork, at module level
    if inner == 0:
        data[0][0] += 1
        os._exit(3)
    _, st = os.waitpid(inner, 0)
    print("grandchild exit:", os.waitstatus_to_exitcode(st), flush=True)
    try:
        other = os.waitpid(-1, os.WNOHANG)
        print("wait(-1) found:", other, flush=True)
    except ChildProcessError:
        print("wait(-1): no other child", flush=True)
    os._exit(4)
_, st = os.waitpid(pid, 0)
print("child exit:", os.waitstatus_to_exitcode(st))
