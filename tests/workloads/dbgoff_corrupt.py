"""Spoil this interpreter's _Py_DebugOffsets, then fork a child that reads
300,000 distinct ints (tests/test_dbgoff_fallback.py).

usage: dbgoff_corrupt.py none|order

CPython itself never reads _Py_DebugOffsets (it is for out-of-process
tools), so rewriting one of its words changes nothing for the program.
  none  - leave it alone: cowtrace takes the published offsets;
  order - move thread_state.prev past thread_state.next (word 16 of the
          3.13 structure: cookie, version, free_threaded, runtime_state x3,
          interpreter_state x13, then thread_state.size, prev): the
          plausibility checks refuse it and the final release's table is
          used instead.
"""
import ctypes
import os
import sys

how = sys.argv[1]
if how == "order":
    rt = ctypes.addressof(ctypes.c_char.in_dll(ctypes.pythonapi, "_PyRuntime"))
    prev = ctypes.c_uint64.from_address(rt + 8 * (1 + 2 + 3 + 13 + 1))
    prev.value = 256               # inside the struct, but after next (8): refused
ints = [i * 7 + 1000 for i in range(300000)]
pid = os.fork()
if pid == 0:
    total = 0
    for x in ints:
        total += x
    os._exit(0)
os.waitpid(pid, 0)
print(f"child {pid} exit 0", flush=True)
