"""A WSGI app holding a large heap of Python objects, built at import time
(so a prefork server that loads the app before forking shares it with its
workers). Used by tests/test_servers.py and the README's examples.

Environment:
  BIGAPP_MB      approximate size of the data in MiB (default 100)
  BIGAPP_SLICES  how many contiguous slices the data is read in (default
                 256)
  BIGAPP_GC_EVERY  run gc.collect() in a worker at its first request and
                 then every N requests (default 10; 0 never): the full
                 collections a long-running worker meets, which a short test
                 would otherwise not reach

Paths:
  /        reads one slice of the data per request, in turn (a worker's
           k-th request reads slice k % BIGAPP_SLICES): reading a Python
           object writes its reference count, so requests copy the pages
           of the slices they read and little else
  /pid     the worker's pid
  /gc      gc.collect() now
Every response is "<pid> <path> <value>\n".

A full collection writes the header of every GC-tracked object: the tuples,
lists and dicts, on about two thirds of the data's pages (pymalloc keeps each
size class on pages of its own; the ints, floats and list item arrays are in
other classes, the strs share the tuples'). So a worker copies most of the
data at its first request (or at the latest at exit: the interpreter's
finalization collects too), unless gc.freeze() ran before the fork: then it
copies little more than the slices it read.
"""
import gc
import os

MB = float(os.environ.get("BIGAPP_MB", "100"))
GC_EVERY = int(os.environ.get("BIGAPP_GC_EVERY", "10"))
SLICES = max(1, int(os.environ.get("BIGAPP_SLICES", "256")))

# One record: a tuple (int, str, list of 2 floats) ~ 330 bytes with its
# parts; a dict per 8 records as an index.
_PER_RECORD = 330
N = max(1000, int(MB * (1 << 20) / _PER_RECORD))
DATA = [(i, "rec-%08d" % i, [i * 0.5, i * 0.25]) for i in range(N)]
INDEX = [{"k%d" % j: DATA[i + j] for j in range(8) if i + j < N} for i in range(0, N, 8)]

_requests = 0


def _touch(k):
    s = 0
    lo, hi = k * N // SLICES, (k + 1) * N // SLICES
    for i in range(lo, hi):
        rec = DATA[i]
        s += rec[0] + len(rec[1]) + int(rec[2][0])
    for i in range(lo // 8, hi // 8):
        s += len(INDEX[i])
    return s


def application(environ, start_response):
    global _requests
    _requests += 1
    path = environ.get("PATH_INFO", "/")
    if path == "/pid":
        value = 0
    elif path == "/gc":
        value = gc.collect()
    else:
        value = _touch(_requests % SLICES)
    if GC_EVERY and _requests % GC_EVERY == 1 % GC_EVERY:
        gc.collect()
    body = ("%d %s %d\n" % (os.getpid(), path, value)).encode()
    start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", str(len(body)))])
    return [body]


app = application
