#!/usr/bin/env python3
"""test_layers.py ANALYZER_DIR - the analyzer's layering, read from its
source: renderers (the files that define a struct ct_renderer, and the
sections and helpers they use) read the model only - never the reader's
struct ct_trace (p->t) or trace.h directly; every renderer defined is in
the registry (render.c), so --help, the option checks and the fuzzer see
it; and only output.c checks the output stream (one fflush/ferror place,
for standard output and -o FILE alike)."""
import os
import re
import sys

src = sys.argv[1]
failures = 0


def check(cond, what):
    global failures
    if not cond:
        failures += 1
        print("FAIL:", what, file=sys.stderr)


def read(name):
    with open(os.path.join(src, name)) as f:
        # comments may name anything
        return re.sub(r"/\*.*?\*/", "", f.read(), flags=re.S)


files = sorted(f for f in os.listdir(src) if f.endswith(".c"))
defined = {}
for f in files:
    for m in re.finditer(r"^const struct ct_renderer (ct_render_\w+) = \{", read(f), re.M):
        defined[m.group(1)] = f
check(len(defined) >= 3, f"renderers found: {defined}")
renderer_files = set(defined.values()) | {f for f in files if f.startswith("report_")} | {"loc.c"}
reader = re.compile(r"->t\.|\.t\.|&\w+->t\b|struct ct_trace\b|#include \"trace\.h\"")
for f in sorted(renderer_files):
    for n, line in enumerate(read(f).splitlines(), 1):
        check(not reader.search(line), f"{f}:{n} reads the reader's structs: {line.strip()}")
registry = read("render.c")
for name in defined:
    check(f"&{name}," in registry, f"{name} ({defined[name]}) is not in ct_renderers[] (render.c)")
# Output streams: fflush anywhere, or ferror where output is made (the
# renderers, the commands, main.c). A reader may ask ferror of its input.
writers = set(renderer_files) | {f for f in files if f.startswith("cmd_") or f == "main.c"}
for f in files:
    if f != "output.c":
        check(not re.search(r"\bfflush\((?!NULL\))", read(f)),
              f"{f} flushes an output stream itself (output.c does, once)")
        check(f not in writers or not re.search(r"\bferror\(", read(f)),
              f"{f} checks an output stream itself (output.c does, once)")
print(f"{len(defined)} renderers, {len(renderer_files)} renderer files checked")
sys.exit(1 if failures else 0)
