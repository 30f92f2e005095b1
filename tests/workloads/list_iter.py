"""Parent builds a list of N ints and forks; the child iterates it, prints
READY <childpid>, and waits for a line on stdin so a harness can read both
processes' pagemaps. The parent waits for the child.  usage: list_iter.py N"""
import os
import sys

n = int(sys.argv[1]) if len(sys.argv) > 1 else 500000
data = list(range(1000, 1000 + n))
sys.stdout.flush()
pid = os.fork()
if pid == 0:
    total = 0
    for x in data:
        total += x
    print(f"READY {os.getpid()} {total}", flush=True)
    sys.stdin.readline()
    os._exit(0)
_, status = os.waitpid(pid, 0)
sys.exit(os.waitstatus_to_exitcode(status))
