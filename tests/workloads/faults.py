"""Faults in a traced program's world.  usage: faults.py SCENARIO [args]
  many N STATS     fork N short-lived children one after another (each
                   writes a few inherited pages and _exits 0), after 50 to
                   warm up; the parent's open descriptors, VmRSS and VmData
                   before and after go to the file STATS as JSON
  closefds         a child closes every descriptor from 3 up
                   (os.closerange(3, 65536)), writes inherited memory, forks
                   a grandchild that writes too, and _exits 0
  setuid           a child becomes nobody (setgid, setuid 65534), writes
                   inherited memory, forks a grandchild that writes too, and
                   leaves by sys.exit(0) (interpreter finalisation, exit())
  phases K C [S]   fork C children one after another, each writing every S-th
                   (default 1) of K pages;
                   after the first, print "PHASE" and wait for a line on
                   stdin (the test fills the trace directory meanwhile)
  write K          fork one child that writes K pages
  unmap K          fork one child that writes K inherited pages in each of
                   four places and lets each go at once: a large buffer
                   (glibc unmaps it), an mmap it closes, one it discards
                   with MADV_DONTNEED, heap blocks glibc trims
Prints what happened (no pids); children's pids go to stderr as "pid N"."""
import json
import os
import sys

PAGE = os.sysconf("SC_PAGESIZE")


def status_kb(field):
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    return -1


def nfds():
    return len(os.listdir("/proc/self/fd"))


def say_pid(pid):
    # one write: the child may write a `cowtrace:` line to the same stderr
    # meanwhile, and print() unbuffered writes the text and its newline apart
    sys.stderr.flush()
    os.write(2, f"pid {pid}\n".encode())


def fork_child(fn):
    sys.stdout.flush()
    sys.stderr.flush()
    pid = os.fork()
    if pid == 0:
        try:
            fn()
        finally:
            os._exit(0)
    say_pid(pid)
    _, st = os.waitpid(pid, 0)
    return os.waitstatus_to_exitcode(st)


def writer(buf, k, step=1):
    def fn():
        for off in range(0, k * PAGE, step * PAGE):
            buf[off] = 2
    return fn


def many(n, stats):
    buf = bytearray(b"\x01" * (16 * PAGE))
    data = [[i] for i in range(1000)]

    def child():
        buf[0] = 2
        buf[8 * PAGE] = 2
        data[0][0] += 1
        os._exit(0)

    def one():
        pid = os.fork()
        if pid == 0:
            child()
        _, st = os.waitpid(pid, 0)
        return st

    bad = 0
    for _ in range(50):
        bad += one() != 0
    before = {"fds": nfds(), "VmRSS": status_kb("VmRSS"), "VmData": status_kb("VmData")}
    for _ in range(n):
        bad += one() != 0
    after = {"fds": nfds(), "VmRSS": status_kb("VmRSS"), "VmData": status_kb("VmData")}
    with open(stats, "w") as f:
        json.dump({"before": before, "after": after}, f)
    print(f"{n + 50} children, {bad} ended badly", flush=True)


def closefds():
    buf = bytearray(b"\x01" * (2000 * PAGE))

    def child():
        os.closerange(3, 65536)
        writer(buf, 2000)()
        print("child: closed fds, wrote 2000 pages", flush=True)
        st = fork_child(writer(buf, 500))
        print(f"child: grandchild exit {st}", flush=True)
        # a descriptor the program opens now may reuse the shim's number
        fd = os.open("/dev/null", os.O_WRONLY)
        os.write(fd, b"x" * 10)
        os.close(fd)
    st = fork_child(child)
    print(f"parent: child exit {st}", flush=True)


def setuid():
    buf = bytearray(b"\x01" * (2000 * PAGE))
    sys.stdout.flush()
    sys.stderr.flush()
    pid = os.fork()
    if pid == 0:
        os.setgroups([])
        os.setgid(65534)
        os.setuid(65534)
        writer(buf, 2000)()
        print(f"child: uid {os.getuid()}, wrote 2000 pages", flush=True)
        st = fork_child(writer(buf, 500))
        print(f"child: grandchild exit {st}", flush=True)
        sys.exit(0)
    say_pid(pid)
    _, st = os.waitpid(pid, 0)
    print(f"parent: child exit {os.waitstatus_to_exitcode(st)}", flush=True)


def phases(k, c, step=1):
    buf = bytearray(b"\x01" * (k * PAGE))
    for i in range(c):
        st = fork_child(writer(buf, k, step))
        print(f"child {i}: exit {st}", flush=True)
        if i == 0:
            print("PHASE", flush=True)
            sys.stdin.readline()
    print("parent: done", flush=True)


def unmap(k):
    """Four ways written inherited memory leaves a child, K pages each:
    glibc's free of a large block (munmap inside libc), Python's mmap.close
    (munmap), madvise(MADV_DONTNEED), and free of heap blocks at the top of
    the heap, which glibc trims (its internal sbrk)."""
    import ctypes
    import mmap
    libc = ctypes.CDLL(None)
    libc.sbrk.restype = ctypes.c_void_p
    libc.sbrk.argtypes = [ctypes.c_long]
    # fixed thresholds: freeing a large mmapped block would otherwise raise
    # glibc's trim threshold to twice its size, and nothing would be trimmed
    libc.mallopt(-1, 128 << 10)   # M_TRIM_THRESHOLD
    libc.mallopt(-3, 128 << 10)   # M_MMAP_THRESHOLD
    buf = bytearray(b"\x01" * (k * PAGE))
    mm = mmap.mmap(-1, k * PAGE, flags=mmap.MAP_PRIVATE | mmap.MAP_ANONYMOUS)
    adv = mmap.mmap(-1, k * PAGE, flags=mmap.MAP_PRIVATE | mmap.MAP_ANONYMOUS)
    mm.write(b"\x01" * (k * PAGE))
    adv.write(b"\x01" * (k * PAGE))
    # heap blocks below the mmap threshold (128 KiB), allocated last, so
    # that freeing them in reverse makes the top chunk large enough to trim
    blocks = [bytearray(b"\x01" * (24 * PAGE)) for _ in range(-(-k // 24))]
    sys.stdout.flush()
    pid = os.fork()
    if pid == 0:
        writer(buf, k)()
        del buf[:]   # the 8 MiB+ allocation goes back to the kernel: munmap
        for off in range(0, k * PAGE, PAGE):
            mm[off] = 2
            adv[off] = 2
        mm.close()
        adv.madvise(mmap.MADV_DONTNEED)
        for i in range(len(blocks)):
            for off in range(0, len(blocks[i]), PAGE):
                blocks[i][off] = 2
        top = libc.sbrk(0)
        while blocks:
            blocks.pop()
        os.write(2, f"heap trimmed {(top - libc.sbrk(0)) // PAGE} pages\n".encode())
        os._exit(0)
    say_pid(pid)
    _, st = os.waitpid(pid, 0)
    print(f"child: exit {os.waitstatus_to_exitcode(st)}", flush=True)


def write(k):
    buf = bytearray(b"\x01" * (k * PAGE))
    st = fork_child(writer(buf, k))
    print(f"child: exit {st}", flush=True)


if __name__ == "__main__":
    sc, rest = sys.argv[1], sys.argv[2:]
    if sc == "many":
        many(int(rest[0]), rest[1])
    elif sc == "closefds":
        closefds()
    elif sc == "setuid":
        setuid()
    elif sc == "phases":
        phases(int(rest[0]), int(rest[1]), int(rest[2]) if len(rest) > 2 else 1)
    elif sc == "unmap":
        unmap(int(rest[0]))
    elif sc == "write":
        write(int(rest[0]))
    else:
        sys.exit(f"unknown scenario {sc}")
