#!/usr/bin/env python3
"""test_linetable.py CT_PYLINES - the analyzer's line-table decoder gives,
for every instruction of every code object of the standard library (and of
a few tricky functions), exactly the line CPython gives: on 3.11 its
co_lines(), on 3.9 and 3.10 its own PyCode_Addr2Line (called through
ctypes: 3.9 has no co_lines(), and 3.10's is not what frames use). The
interpreter running this script decides the format (3.9: lnotab, 3.10:
pep626, 3.11: pep657); skips (77) on any other."""
import ctypes
import glob
import os
import subprocess
import sys
import types
import warnings

FORMATS = {(3, 9): "lnotab", (3, 10): "pep626", (3, 11): "pep657"}
FORMAT = FORMATS.get(sys.version_info[:2])
if not FORMAT:
    print(f"skip: python3 is {sys.version.split()[0]}, not 3.9, 3.10 or 3.11")
    sys.exit(77)

TRICKY = '''
def f(a, b=1):
    x = a + b
    if x > 3:
        y = [i * 2
             for i in range(x)]
    else:
        y = None
    try:
        z = {k: v for k, v in zip(a, b)}
    except Exception:
        pass
    return x, y
async def g():
    async with a as b:
        await c
    yield (await d)
class C:
    def m(self): return lambda: (
        1 +
        2)
''' + "\n" * 70000 + "def far():\n    return 1\n"


def codes(co):
    yield co
    for c in co.co_consts:
        if isinstance(c, types.CodeType):
            yield from codes(c)


addr2line = ctypes.pythonapi.PyCode_Addr2Line
addr2line.argtypes = (ctypes.py_object, ctypes.c_int)
addr2line.restype = ctypes.c_int


def lines_of(co):
    n = len(co.co_code) // 2
    if FORMAT != "pep657":
        # the byte offset, as PyFrame_GetLineNumber passes it (3.10:
        # f_lasti * 2; 3.9: f_lasti is already in bytes)
        return [addr2line(co, 2 * i) for i in range(n)]
    out = [-1] * n
    for start, end, line in co.co_lines():
        for i in range(start // 2, end // 2):
            out[i] = -1 if line is None else line
    return out


warnings.filterwarnings("ignore")   # compiling the stdlib's own test data warns
objs = list(codes(compile(TRICKY, "tricky.py", "exec")))
files = sorted(glob.glob(os.path.join(os.path.dirname(os.__file__), "**", "*.py"), recursive=True))
for path in files[:800]:
    try:
        src = open(path, "rb").read()
        objs.extend(codes(compile(src, path, "exec")))
    except (SyntaxError, ValueError, UnicodeDecodeError):
        pass


def table(co):
    return co.co_lnotab if FORMAT == "lnotab" else co.co_linetable


inp = "".join(f"{co.co_firstlineno} {table(co).hex()} {len(co.co_code) // 2}\n" for co in objs)
p = subprocess.run([sys.argv[1], FORMAT], input=inp, capture_output=True, text=True, check=True)
got = p.stdout.split("\n")
bad = 0
units = 0
for co, line in zip(objs, got):
    want = lines_of(co)
    have = [int(x) for x in line.split()] if line else []
    units += len(want)
    if have != want:
        bad += 1
        if bad <= 5:
            print(f"MISMATCH {co.co_name} in {co.co_filename}:{co.co_firstlineno}: "
                  f"decoder {have[:40]} co_lines {want[:40]}", file=sys.stderr)
print(f"test_linetable ({FORMAT}, {sys.version.split()[0]}): {len(objs)} code objects, {units} instructions, {bad} mismatches")
sys.exit(1 if bad or len(got) < len(objs) else 0)
