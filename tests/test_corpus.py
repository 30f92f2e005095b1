#!/usr/bin/env python3
"""Replay inputs that once crashed a fuzz target.
usage: test_corpus.py FUZZ_TARGET DIR...
FUZZ_TARGET is build*/analyzer/tests/fuzz-trace (trace files:
tests/corpus/regressions) or fuzz-timeline (timeline.jsonl files:
tests/corpus/timeline-regressions): the libFuzzer target, or its replayer
when built without clang. Every regular file in each DIR goes through it one
at a time, and each must pass (exit 0, no sanitizer report). Skips when the
directories hold no file."""
import os
import subprocess
import sys

fuzz, dirs = sys.argv[1], sys.argv[2:]
files = sorted(os.path.join(d, f) for d in dirs if os.path.isdir(d) for f in os.listdir(d)
               if os.path.isfile(os.path.join(d, f)) and not f.startswith("."))
if not os.access(fuzz, os.X_OK):
    print(f"FAIL: {fuzz} not built")
    sys.exit(1)
if not files:
    print(f"SKIP: no inputs in {' '.join(dirs)}")
    sys.exit(77)
bad = []
for f in files:
    r = subprocess.run([fuzz, f], capture_output=True, text=True, timeout=60)
    if r.returncode != 0:
        bad.append(f"{os.path.basename(f)}: exit {r.returncode}\n{(r.stdout + r.stderr)[-1500:]}")
for b in bad:
    print(b)
print(f"{len(files) - len(bad)} of {len(files)} inputs replayed cleanly")
sys.exit(1 if bad else 0)
