"""Known answers on every CPython version.  usage: versions.py SCENARIO [N]
  ints   the child iterates a list of N distinct ints (refcount on int)
  small  the child iterates a list of N references to small ints and None
         (immortal from 3.12: nothing to copy for them)
  nested the child sums N ints in touch(), which outer() calls through
         map(): a C call into the evaluation loop between them
  gc     the child runs gc.collect() over N instances of Node, a class
         defined here (gc headers: gc on Node)
  reads  the child reads every Node's attribute, then exits through the
         interpreter (sys.exit: finalization collects and frees them all):
         the copies are the reads' (refcount on Node), not the exit's
  rebind the child rebinds the attribute of each of N Nodes (the values
         live in the instance from 3.13, in an array the instance owns in
         3.11 and 3.12, in the instance's dict before)
  frozen the parent calls gc.freeze() before the fork; the child reads
         every Node's attribute, then runs gc.collect(), which visits none
         of them: the copies are the reads' (refcount on Node)
The parent waits for the child and prints the child's pid."""
import gc
import os
import sys


class Node:
    def __init__(self, i):
        self.value = i


def touch(d):
    s = 0
    for x in d:
        s += x
    return s


def outer(d):
    return list(map(touch, [d]))


scenario = sys.argv[1]
n = int(sys.argv[2]) if len(sys.argv) > 2 else 300000
if scenario in ("ints", "nested"):
    data = list(range(10**7, 10**7 + n))
elif scenario == "small":
    data = [None if i % 7 == 0 else i % 200 for i in range(n)]
elif scenario in ("gc", "reads", "frozen", "rebind"):
    data = [Node(i) for i in range(n)]
    gc.collect()
else:
    sys.exit(f"unknown scenario {scenario}")
gc.disable()  # only the child's explicit collect runs
if scenario == "frozen":
    gc.freeze()  # as gunicorn's when_ready hook does
sys.stdout.flush()
pid = os.fork()
if pid == 0:
    if scenario in ("ints", "small"):
        s = 0
        for x in data:  # VERSIONS-LOOP
            s += x or 0
    elif scenario == "nested":
        outer(data)
    elif scenario == "reads":
        s = 0
        for x in data:
            s += x.value
        gc.enable()
        sys.exit(0)  # a worker's ordinary end: Py_FinalizeEx collects
    elif scenario == "rebind":
        for x in data:
            x.value = 0
    elif scenario == "frozen":
        s = 0
        for x in data:
            s += x.value
        gc.collect()
    else:
        gc.collect()
    os._exit(0)
_, st = os.waitpid(pid, 0)
print(f"child {pid} exit {os.waitstatus_to_exitcode(st)}")
