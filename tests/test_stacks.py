#!/usr/bin/env python3
"""Where pages were copied, as the stacks issue states it, in MODE (uffd or
mprotect, which record the stack of each first write):

  touch_all  a child whose function touch_all(items) iterates a big list:
             the top Python location is that file, function and line, and
             the heaviest stack of `report --format folded` ends in it;
             `go tool pprof -top -cum` on `report --format pprof` (when
             Debian's golang-go is installed) lists touch_all with the
             pages of the folded stacks through it, and totals the JSON
             report's cow pages, and with -sample_index=fresh_pages its
             fresh pages;
  threads    a child in which two threads touch different lists from
             different functions (touch_a, touch_b): every copied page
             holding only list a's ints carries a stack whose innermost
             Python frame is touch_a, and likewise for b (>= 99% of them).
"""
import json
import os
import re
import shutil
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "lib"))
import ct  # noqa: E402


def marked(tag):
    with open(ct.workload("scenarios.py")) as f:
        return [i + 1 for i, line in enumerate(f) if f"# {tag}" in line][0]


def traced(t, mode, scenario, *extra):
    out = t.sub(f"out-{scenario}")
    cmd = [ct.cowtrace_bin(), "run", "-q", "-o", out, "--mode", mode, "--",
           ct.python(), ct.workload("scenarios.py"), scenario] + list(extra)
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=600, env=ct.clean_env())
    ct.check(r.returncode == 0, f"{' '.join(cmd)} exited {r.returncode}: {r.stderr[-1500:]}")
    m = re.search(r"child (\d+) exit 0", r.stdout)
    ct.check(m, f"{scenario}: the child did not exit 0: {r.stdout!r}")
    return out, int(m.group(1))


def innermost_python(stack):
    py = stack.get("python") or []
    return py[0]["function"] if py else None


def run():
    args = ct.parse_args(modes=("uffd", "mprotect"))
    ct.require_build()
    t = ct.tempdir("stacks")
    src = ct.workload("scenarios.py")

    out, child = traced(t, args.mode, "ints")
    p = ct.get_process(ct.report(out), child)
    ct.check_mode(p, args.mode)
    top = max(p["python_locations"], key=lambda x: x["cow_pages"])
    line = marked("TOUCH-ALL")
    ct.log(f"  touch_all: top location {top['function']} {top['file']}:{top['line']} ({top['cow_pages']} pages)")
    ct.check(top["function"] == "touch_all" and os.path.samefile(top["file"], src) and top["line"] == line,
             f"top Python location is {top}, not touch_all at {src}:{line}")
    folded = subprocess.run([ct.cowtrace_bin(), "report", "--format", "folded", "--frames", "python",
                             "--leaf", "none", out], capture_output=True, text=True, timeout=120)
    ct.check(folded.returncode == 0, f"folded report failed: {folded.stderr[-500:]}")
    lines = [ln.rsplit(" ", 1) for ln in folded.stdout.splitlines() if ln.strip()]
    heavy = max(lines, key=lambda x: int(x[1]))
    # Python frames read "function (file:line)"; the native frames the
    # interpreter ran for the innermost one may follow it.
    py_frames = [fr for fr in heavy[0].split(";") if re.fullmatch(r".+ \(.+:\d+\)", fr)]
    ct.log(f"  folded: heaviest stack ({heavy[1]} pages) ends in {py_frames[-1] if py_frames else None}"
           f" (then {heavy[0].split(';')[len(py_frames):]})")
    ct.check(py_frames and py_frames[-1] == f"touch_all ({src}:{line})",
             f"the heaviest folded stack's last Python frame is {py_frames[-1:]!r}")

    if shutil.which("go"):
        rep = ct.report(out)
        prof = t.sub("ints.pb.gz")
        r = subprocess.run([ct.cowtrace_bin(), "report", "--format", "pprof", "-o", prof, out],
                           capture_output=True, text=True, timeout=120)
        ct.check(r.returncode == 0, f"pprof report failed: {r.stderr[-500:]}")
        gohome = t.sub("gohome")
        os.makedirs(gohome, exist_ok=True)
        env = dict(os.environ, HOME=gohome, PPROF_TMPDIR=gohome)
        for sample, total in (("cow_pages", rep["total"]["cow_pages"]), ("fresh_pages", rep["total"]["fresh_pages"])):
            g = subprocess.run(["go", "tool", "pprof", f"-sample_index={sample}", "-top", "-cum", prof],
                               capture_output=True, text=True, timeout=300, env=env)
            ct.check(g.returncode == 0 and f"of {total} total" in g.stdout,
                     f"go tool pprof {sample}: total {total}: {g.stdout[:300]} {g.stderr[-300:]}")
            if sample == "cow_pages":
                rows = {ln.split()[-1]: ln.split() for ln in g.stdout.splitlines() if ln.strip()}
                # pprof's row is the function, every line of it.
                through = sum(int(n) for st, n in lines
                              if any(fr.startswith(f"touch_all ({src}:") for fr in st.split(";")))
                ct.log(f"  pprof: touch_all cum {rows.get('touch_all', [None] * 4)[3]}, folded {through}, "
                       f"total {total}, fresh {rep['total']['fresh_pages']}")
                ct.check("touch_all" in rows and rows["touch_all"][3] == str(through) and through > 0,
                         f"go tool pprof -top -cum: touch_all's cum is the folded pages through it ({through}): "
                         f"{rows.get('touch_all')}")
    else:
        ct.log("  pprof: go not found (apt-get install golang-go): go tool pprof not run")

    owners = t.sub("owners.json")
    out, child = traced(t, args.mode, "threads", owners)
    with open(owners) as f:
        own = json.load(f)
    pa, pb = set(own["a"]), set(own["b"])
    p = ct.get_process(ct.report(out, pages=True), child)
    stacks = p["stacks"]
    right = wrong = 0
    examples = []
    for pg in p["pages"]:
        if pg["kind"] != "cow" or pg.get("cause") != "refcount":
            continue
        n = int(pg["addr"], 16) >> 12
        want = "touch_a" if n in pa else "touch_b" if n in pb else None
        if not want:
            continue
        got = innermost_python(stacks.get(str(pg.get("stack")), {}))
        if got == want:
            right += 1
        else:
            wrong += 1
            examples.append((pg["addr"], want, got))
    ct.log(f"  threads: {right} pages carry their writing thread's stack, {wrong} do not {examples[:3]}")
    ct.check(right >= 1000, f"only {right} pages of the two lists were attributed")
    ct.check(wrong <= 0.01 * (right + wrong), f"{wrong} of {right + wrong} pages carry the other thread's stack")


ct.main(run)
