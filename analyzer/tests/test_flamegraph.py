#!/usr/bin/env python3
"""test_flamegraph.py COWTRACE CT_MKTRACE SYMTARGET SYMTARGET_SRC - the real
flamegraph.pl (Brendan Gregg's, as Debian ships it in libdevel-nytprof-perl)
accepts `cowtrace report --format folded` in every --frames mode and draws
an SVG with the expected frames and page counts. Skips (77) when the
package is not installed."""
import os
import re
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import symlib  # noqa: E402

FLAMEGRAPH = "/usr/share/perl5/Devel/NYTProf/flamegraph.pl"
if not os.path.exists(FLAMEGRAPH) or not shutil.which("perl"):
    print(f"skip: {FLAMEGRAPH} not found (apt-get install libdevel-nytprof-perl)")
    sys.exit(77)

COWTRACE, MKTRACE, SYMTARGET, SRC = (os.path.abspath(a) for a in sys.argv[1:5])
failures = 0


def check(cond, what):
    global failures
    if not cond:
        failures += 1
        print("FAIL:", what, file=sys.stderr)


with tempfile.TemporaryDirectory() as tmp:
    S = symlib.Setup(tmp, SYMTARGET, SRC)
    d = os.path.join(tmp, "run")
    os.mkdir(d)
    subprocess.run([MKTRACE, os.path.join(d, "80.cowtrace"), "--pid", "80"] + S.args(), check=True)
    for frames, want in (("python", ["worker", "load", "cow_leaf", "cow_middle", "cause:refcount", "(no stack)",
                                     "(no python frame)", "(module)"]),
                         ("native", ["main", "run_python", "_PyEval_EvalFrameDefault", "cow_leaf"]),
                         ("both", ["_PyEval_EvalFrameDefault", "worker", "cow_leaf"])):
        p = subprocess.run([COWTRACE, "report", "--format", "folded", "--frames", frames, d],
                           capture_output=True, text=True, timeout=60)
        check(p.returncode == 0 and p.stdout, f"folded {frames}: {p.stderr}")
        folded = os.path.join(tmp, f"{frames}.folded")
        open(folded, "w").write(p.stdout)
        g = subprocess.run(["perl", FLAMEGRAPH, "--title", "copied pages", "--countname", "pages", folded],
                           capture_output=True, text=True, timeout=60)
        svg = g.stdout
        check(g.returncode == 0 and svg.lstrip().startswith("<?xml") and "</svg>" in svg,
              f"flamegraph.pl {frames}: exit {g.returncode}, {g.stderr[:300]!r}")
        check("Ignored" not in g.stderr, f"flamegraph.pl {frames} ignored lines: {g.stderr}")
        titles = re.findall(r"<title>([^<]*)</title>", svg)
        names = {re.sub(r" \(\d+ pages, [\d.]+%\)$", "", t) for t in titles}
        for w in want:
            check(any(n == w or n.startswith(w + " (") for n in names), f"{frames}: frame {w!r} in the SVG "
                                                                        f"({sorted(names)[:30]})")
        total = [t for t in titles if t.startswith("all (")]
        check(total and "162 pages" in total[0], f"{frames}: all 162 pages drawn: {total}")

if failures:
    print(f"test_flamegraph: {failures} failures", file=sys.stderr)
    sys.exit(1)
print("test_flamegraph: ok")
