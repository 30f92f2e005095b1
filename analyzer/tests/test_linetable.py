#!/usr/bin/env python3
"""test_linetable.py CT_PYLINES - the analyzer's line-table decoder gives,
for every instruction of every code object of the standard library (and of
a few tricky functions), exactly the line CPython's co_lines() gives. Skips
(77) unless python3 is 3.11: the decoder reads the 3.11 format."""
import glob
import os
import subprocess
import sys
import warnings

if sys.version_info[:2] != (3, 11):
    print("skip: python3 is not 3.11")
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
        if hasattr(c, "co_linetable"):
            yield from codes(c)


def lines_of(co):
    n = len(co.co_code) // 2
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

inp = "".join(f"{co.co_firstlineno} {co.co_linetable.hex()} {len(co.co_code) // 2}\n" for co in objs)
p = subprocess.run([sys.argv[1]], input=inp, capture_output=True, text=True, check=True)
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
            print(f"MISMATCH {co.co_qualname} in {co.co_filename}:{co.co_firstlineno}: "
                  f"decoder {have[:40]} co_lines {want[:40]}", file=sys.stderr)
print(f"test_linetable: {len(objs)} code objects, {units} instructions, {bad} mismatches")
sys.exit(1 if bad or len(got) < len(objs) else 0)
