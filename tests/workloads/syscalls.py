"""System calls that write into memory: a forked child reads data with
os.read, os.readv, os.preadv, FileIO.readinto, socket.recv_into and
socket.recv, into buffers allocated before the fork (inherited, tracked
memory) and fresh ones, and checks every byte. Prints one line per call,
deterministic for a correct run.  usage: syscalls.py [ADDRFILE]
ADDRFILE receives "child_pid buf_len addr1 addr2 addr3" (the buffers only
the kernel writes in the child) for the harness."""
import ctypes
import os
import socket
import sys
import tempfile
import threading

SIZE = 1 << 20
DATA = bytes((i * 7 + (i >> 12)) & 0xFF for i in range(SIZE))

# Buffers made before the fork: written ones (present at fork), which only
# the kernel writes in the child, and ones only allocated.
touched = [bytearray(b"\x01" * SIZE) for _ in range(3)]
untouched = [bytearray(SIZE) for _ in range(2)]
fd_file, path = tempfile.mkstemp(prefix="cowtrace-syscalls-")
os.write(fd_file, DATA)
os.unlink(path)


def feed_pipe():
    r, w = os.pipe()

    def writer():
        os.write(w, DATA)
        os.close(w)
    t = threading.Thread(target=writer)
    t.start()
    return r, t


def feed_socket():
    a, b = socket.socketpair()

    def writer():
        a.sendall(DATA)
        a.close()
    t = threading.Thread(target=writer)
    t.start()
    return b, t


def fill_by(name, buf, chunk_fn):
    """Fill buf (a bytearray) using chunk_fn(memoryview) -> nbytes until full or EOF."""
    mv = memoryview(buf)
    got = 0
    try:
        while got < SIZE:
            n = chunk_fn(mv[got:])
            if n == 0:
                break
            got += n
    except OSError as e:
        print(f"{name}: error {e.errno} ({os.strerror(e.errno)})", flush=True)
        return False
    ok = got == SIZE and bytes(buf) == DATA
    print(f"{name}: {'ok' if ok else 'WRONG DATA'} {got} bytes", flush=True)
    return ok


def child():
    ok = True
    # os.read: Python allocates the destination itself
    r, t = feed_pipe()
    parts = []
    try:
        while True:
            b = os.read(r, 1 << 20)
            if not b:
                break
            parts.append(b)
        whole = b"".join(parts)
        good = whole == DATA
        print(f"os.read: {'ok' if good else 'WRONG DATA'} {len(whole)} bytes", flush=True)
        ok &= good
    except OSError as e:
        print(f"os.read: error {e.errno} ({os.strerror(e.errno)})", flush=True)
        ok = False
    t.join()
    os.close(r)

    for name, buf in (("touched", touched[0]), ("untouched", untouched[0])):
        r, t = feed_pipe()
        ok &= fill_by(f"os.readv into {name}", buf, lambda mv: os.readv(r, [mv]))
        t.join()
        os.close(r)

    ok &= fill_by("os.preadv into touched", touched[1],
                  lambda mv: os.preadv(fd_file, [mv], SIZE - len(mv)))

    with open(fd_file, "rb", buffering=0, closefd=False) as f:
        f.seek(0)
        ok &= fill_by("FileIO.readinto into untouched", untouched[1], lambda mv: f.readinto(mv))

    s, t = feed_socket()
    ok &= fill_by("socket.recv_into into touched", touched[2], lambda mv: s.recv_into(mv))
    t.join()
    s.close()

    s, t = feed_socket()
    parts = []
    try:
        while True:
            b = s.recv(1 << 20)
            if not b:
                break
            parts.append(b)
        whole = b"".join(parts)
        good = whole == DATA
        print(f"socket.recv: {'ok' if good else 'WRONG DATA'} {len(whole)} bytes", flush=True)
        ok &= good
    except OSError as e:
        print(f"socket.recv: error {e.errno} ({os.strerror(e.errno)})", flush=True)
        ok = False
    t.join()
    s.close()
    return ok


sys.stdout.flush()
pid = os.fork()
if pid == 0:
    try:
        good = child()
    except BaseException as e:  # report, never hang the parent
        print(f"child: exception {e!r}", flush=True)
        good = False
    os._exit(0 if good else 1)
if len(sys.argv) > 1:
    with open(sys.argv[1], "w") as f:
        addrs = " ".join(str(ctypes.addressof(ctypes.c_char.from_buffer(b))) for b in touched)
        f.write(f"{pid} {SIZE} {addrs}\n")
_, status = os.waitpid(pid, 0)
print(f"child exit: {os.waitstatus_to_exitcode(status)}", flush=True)
sys.exit(0 if os.waitstatus_to_exitcode(status) == 0 else 1)
