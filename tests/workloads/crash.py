"""Signals and crashes in a forked child.  usage: crash.py CASE [PIDFILE]
  segv       child writes inherited memory, then reads address 0 (run with -X faulthandler)
  fh_enable  child calls faulthandler.enable() itself, then reads address 0
  bus        child writes inherited memory, then touches a truncated file mapping (SIGBUS)
  usr1       child installs a SIGUSR1 handler and gets 200 signals while writing
The parent reports how the child ended. PIDFILE receives the child's pid."""
import ctypes
import mmap
import os
import signal
import sys
import tempfile

case = sys.argv[1]
data = [[i] for i in range(200000)]  # inherited, written by the child


def write_inherited():
    for lst in data:
        lst[0] += 1


sys.stdout.flush()
pid = os.fork()
if pid == 0:
    if case == "segv":
        write_inherited()
        print("child: reading address 0", flush=True)
        ctypes.string_at(0)
    elif case == "fh_enable":
        import faulthandler
        faulthandler.enable()
        write_inherited()
        print("child: reading address 0", flush=True)
        ctypes.string_at(0)
    elif case == "bus":
        write_inherited()
        fd, path = tempfile.mkstemp()
        os.write(fd, b"x" * 8192)
        m = mmap.mmap(fd, 8192)
        os.ftruncate(fd, 0)
        os.unlink(path)
        print("child: touching a truncated mapping", flush=True)
        m[4096] = 1
    elif case == "usr1":
        got = []
        signal.signal(signal.SIGUSR1, lambda s, f: got.append(s))
        for k in range(200):
            data[k * 1000][0] += 1
            os.kill(os.getpid(), signal.SIGUSR1)
        write_inherited()
        print(f"child: handler ran {len(got)} times", flush=True)
        os._exit(0 if len(got) == 200 else 1)
    print("child: still alive", flush=True)
    os._exit(42)
if len(sys.argv) > 2:
    with open(sys.argv[2], "w") as f:
        f.write(f"{pid}\n")
_, status = os.waitpid(pid, 0)
if os.WIFSIGNALED(status):
    print(f"parent: child killed by signal {os.WTERMSIG(status)}", flush=True)
else:
    print(f"parent: child exit {os.WEXITSTATUS(status)}", flush=True)
