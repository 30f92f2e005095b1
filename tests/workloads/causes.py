"""Copy-on-write with a known cause.  usage: causes.py SCENARIO [N]
  iterate  the child iterates a list of N ints (reference counts: refcount, int)
  gc       the child runs gc.collect() over N (int, list) tuples (gc headers: gc)
  freeze   as gc, but the parent calls gc.freeze() before forking
The parent waits for the child and prints the child's pid."""
import gc
import os
import sys

scenario = sys.argv[1]
n = int(sys.argv[2]) if len(sys.argv) > 2 else 300000
if scenario == "iterate":
    data = list(range(10**6, 10**6 + n))
else:
    data = [(i + 10**6, [i]) for i in range(n)]
    gc.collect()
    if scenario == "freeze":
        gc.freeze()
gc.disable()  # only the child's explicit collect runs
sys.stdout.flush()
pid = os.fork()
if pid == 0:
    if scenario == "iterate":
        s = 0
        for x in data:  # WHERE-ITER
            s += x  # WHERE-ITER
    else:
        gc.collect()  # WHERE-GC
    os._exit(0)
_, st = os.waitpid(pid, 0)
print(f"child {pid} exit {os.waitstatus_to_exitcode(st)}")
