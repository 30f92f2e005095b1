"""Copy-on-write of a class's instances (for the golden traces).
usage: instances.py N
The parent builds N instances of Point; the child reads one attribute of
each (reference counts of the instances and their attribute values), then
the parent waits and prints the child's pid."""
import gc
import os
import sys


class Point:
    def __init__(self, x, y):
        self.x = x
        self.y = y


def read_all(points):
    total = 0
    for p in points:  # READ-ALL
        total += p.x
    return total


n = int(sys.argv[1]) if len(sys.argv) > 1 else 20000
points = [Point(i + 10**6, -i) for i in range(n)]
gc.collect()
gc.disable()
sys.stdout.flush()
pid = os.fork()
if pid == 0:
    read_all(points)
    os._exit(0)
_, st = os.waitpid(pid, 0)
print(f"child {pid} exit {os.waitstatus_to_exitcode(st)}")
