"""A forked child lists a directory (libc's readdir fills its own buffer with
getdents64) while its heap's free blocks are inherited pages: the stream's
buffer lands there. Prints one line; exits 0 when every listing is right."""
import os
import sys
import tempfile

listing = tempfile.mkdtemp(prefix="cowtrace-listdir-")
for i in range(1500):
    open(os.path.join(listing, f"entry-{i:05d}-{'n' * 40}"), "w").close()
junk = [bytearray(b"x" * 40000) for _ in range(400)]
keep = bytearray(b"y" * 40000)   # above them: the heap cannot shrink
del junk[::2]
sys.stdout.flush()
pid = os.fork()
if pid == 0:
    good = True
    try:
        for _ in range(100):
            good &= "os.py" in os.listdir(os.path.dirname(os.__file__))
            with os.scandir(listing) as it:
                good &= sum(1 for _ in it) == 1500
    except OSError as e:
        print(f"child: {e}", flush=True)
        os._exit(1)
    os._exit(0 if good else 2)
_, st = os.waitpid(pid, 0)
for name in os.listdir(listing):
    os.unlink(os.path.join(listing, name))
os.rmdir(listing)
print(f"listdir child: exit {os.waitstatus_to_exitcode(st)}")
