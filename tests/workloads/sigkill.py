"""A child writes K inherited pages, tells its parent, and sleeps; the parent
waits WAIT seconds more and kills it with SIGKILL.
usage: sigkill.py K WAIT PIDFILE"""
import os
import signal
import sys
import time

K, WAIT, PIDFILE = int(sys.argv[1]), float(sys.argv[2]), sys.argv[3]
PAGE = os.sysconf("SC_PAGESIZE")
buf = bytearray(b"\x01" * (K * PAGE))
r, w = os.pipe()
sys.stdout.flush()
pid = os.fork()
if pid == 0:
    for off in range(0, K * PAGE, PAGE):
        buf[off] = 2
    os.write(w, b"d")
    time.sleep(600)
    os._exit(0)
with open(PIDFILE, "w") as f:
    f.write(f"{pid}\n")
os.read(r, 1)
time.sleep(WAIT)
os.kill(pid, signal.SIGKILL)
_, st = os.waitpid(pid, 0)
print(f"child killed by signal {os.WTERMSIG(st) if os.WIFSIGNALED(st) else None}", flush=True)
