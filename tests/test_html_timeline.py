#!/usr/bin/env python3
"""The HTML report of a watch directory in a real browser: `cowtrace watch
-o DIR -i 0.5` runs briefly against tests/workloads/watch_server.py (a
"grower" worker that copies more of its master's list every 0.5 s, and
short-lived recycled workers), is stopped with SIGTERM, and `cowtrace
report --format html DIR` (a directory holding only timeline.jsonl) is
opened in headless Chromium (tests/lib/cdp.py, networking off).

Checks: no console error or exception; no request but the file itself;
the Timeline chart has one line per worker seen in timeline.jsonl, named
by (pid, start), and each line's last point is that worker's last
copied_bytes in the file; the grower's line rises; hovering the grower's
last point shows its pid and value; gone workers are marked gone; text and
JSON reports of the same directory exit 0 and agree on the workers.

Then the diff of two watch directories: a second, shorter watch of the
same workload is B, the first is A, and `cowtrace diff --format html A B`
in Chromium draws both timelines (#timeline-a-svg, #timeline-b-svg), each
line's points and last point equal to that directory's file, on one
y-scale; the summary table and the text and JSON diffs (exit 0) carry each
side's workers and median/max copied bytes at the end, as computed here
from the files."""
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "lib"))
import cdp  # noqa: E402
import ct  # noqa: E402

WATCH_SECONDS = 6
WATCH_SECONDS_B = 3   # the diff's B: short, to keep the test brief


def cowtrace(*a):
    r = subprocess.run([ct.cowtrace_bin()] + list(a), capture_output=True, timeout=120)
    ct.check(r.returncode == 0, f"cowtrace {' '.join(a)} exited {r.returncode}: {r.stderr.decode()[-1500:]}")
    return r.stdout


def watch_some(t, seconds=WATCH_SECONDS, tag=""):
    """Runs the workload and watch for seconds; returns DIR and the grower's pid."""
    ready, grown, events = t.sub("ready" + tag), t.sub("grown" + tag), t.sub("events" + tag)
    proc = subprocess.Popen([ct.python(), t.sub("watch_server.py"), "--ready", ready, "--grown", grown,
                             "--events", events, "--life", "1.5"], cwd=t.path, stdin=subprocess.DEVNULL,
                            start_new_session=True, env=dict(ct.clean_env(), HOME="/"))
    out = t.sub("out" + tag)
    w = None
    try:
        master, grower = ct.wait_ready_file(proc, ready, step=0.1)
        w = subprocess.Popen([ct.cowtrace_bin(), "watch", "-i", "0.5", "-o", out, str(master)],
                             stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        time.sleep(seconds)
        ct.check(w.poll() is None, f"watch exited early with {w.returncode}")
        w.send_signal(signal.SIGTERM)
        rc = w.wait(timeout=20)
        ct.check(rc == 0, f"watch ended by SIGTERM exited {rc}: {w.stderr.read().decode()[-500:]}")
    finally:
        if w and w.poll() is None:
            w.kill()
            w.wait()
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        proc.wait(timeout=30)
    return out, grower


def read_timeline(path):
    """What a timeline.jsonl says: each (pid, start)'s last copied_bytes,
    its series of copied_bytes, and the workers that went."""
    last, gone, series = {}, set(), {}
    with open(os.path.join(path, "timeline.jsonl")) as f:
        for line in f:
            x = json.loads(line)
            key = (x["pid"], f"{x['start']:.2f}")
            if x["event"] == "sample":
                last[key] = x["copied_bytes"]
                series.setdefault(key, []).append(x["copied_bytes"])
            elif x["event"] == "gone":
                gone.add(key)
    return last, gone, series


def median_max(last):
    v = sorted(last.values())
    n = len(v)
    return (v[n // 2] if n % 2 else v[n // 2 - 1] + (v[n // 2] - v[n // 2 - 1]) // 2), v[-1]


def wait_drawn(b):
    t0 = time.monotonic()
    while b.eval("document.body && document.body.dataset.ready || ''") != "1":
        ct.check(time.monotonic() - t0 < 20, f"not drawn after 20 s; problems: {b.problems()}")
        time.sleep(0.01)


def chart_lines(b, svg_id):
    return b.eval(f"""Array.from(document.querySelectorAll('#{svg_id} polyline.tl-line')).map(l => ({{
        pid: Number(l.dataset.pid), start: Number(l.dataset.start), last: Number(l.dataset.lastBytes),
        gone: l.dataset.gone !== '', n: Number(l.dataset.points),
        ys: l.getAttribute('points').split(' ').map(p => Number(p.split(',')[1]))}}))""")


def check_no_problems(b):
    b.pump(0.2)
    ct.check(not b.problems(), f"console errors or exceptions: {b.problems()}")
    bad = [u for u in b.requests() if not u.startswith(("file:", "data:", "about:"))]
    ct.check(not bad, f"the page asked the network for {bad}")


def check_diff(t, chromium, out_a, out_b):
    """`cowtrace diff` of two watch directories in text, JSON and HTML."""
    files = {"a": read_timeline(out_a), "b": read_timeline(out_b)}
    want = {k: (len(v[0]), *median_max(v[0])) for k, v in files.items()}
    ct.log(f"diff: A {want['a']}, B {want['b']} (workers, median, max copied bytes at end)")
    js = json.loads(cowtrace("diff", "--format", "json", out_a, out_b))
    for k in "ab":
        tl = js[k]["timeline"]
        ct.check((tl["workers"], tl["median_last_copied_bytes"], tl["max_last_copied_bytes"]) == want[k],
                 f"JSON diff side {k}: {tl}, the file says {want[k]}")
        ct.check(tl["samples"] == sum(map(len, files[k][2].values())), f"JSON diff side {k}: {tl}")
    text = cowtrace("diff", out_a, out_b).decode()
    rows = {ln[:31].strip(): ln[31:].split() for ln in text.splitlines() if ln.startswith("  ")}
    ct.check("timeline (timeline.jsonl" in text and rows.get("workers") == [str(want["a"][0]), str(want["b"][0])],
             f"text diff: {text}")
    ct.check(rows.get("max copied MiB at end") == [f"{want[k][2] / 1048576:.1f}" for k in "ab"], f"text diff: {text}")

    html_path = t.sub("diff.html")
    with open(html_path, "wb") as f:
        f.write(cowtrace("diff", "--format", "html", out_a, out_b))
    b = cdp.Browser(chromium)
    try:
        b.open_page()
        b.navigate("file://" + html_path)
        wait_drawn(b)
        ct.check(b.eval("document.querySelectorAll('#diff-timelines svg.timeline').length") == 2,
                 "the diff page does not draw two timelines")
        for k in "ab":
            last, gone, series = files[k]
            shown = {(x["pid"], f"{x['start']:.2f}"): x for x in chart_lines(b, f"timeline-{k}-svg")}
            ct.check(set(shown) == set(last), f"chart {k}: workers {sorted(shown)}, file {sorted(last)}")
            for key, copied in last.items():
                ct.check(shown[key]["last"] == copied and shown[key]["n"] == len(series[key]),
                         f"chart {k}, worker {key}: last {shown[key]['last']} of {shown[key]['n']} points; "
                         f"file {copied} of {len(series[key])}")
        # one y-scale: the same top label on both charts
        tops = b.eval("""['a', 'b'].map(k => Math.max(...Array.from(document.querySelectorAll(
            '#timeline-' + k + '-svg text[text-anchor=end]')).map(e => Number(e.textContent))))""")
        ct.check(tops[0] == tops[1] and tops[0] * 1048576 >= max(want["a"][2], want["b"][2]),
                 f"the charts' y-scales differ: top {tops}")
        cells = b.eval("""Array.from(document.querySelectorAll('#diff-timeline-table tr[data-row=workers] td'))
            .map(e => e.textContent)""")
        ct.check(cells[1:] == [str(want["a"][0]), str(want["b"][0])], f"summary table workers: {cells}")
        ct.log(f"diff page: two charts, top {tops[0]} MiB, workers {cells[1:]}")
        check_no_problems(b)
    finally:
        b.close()


def run():
    ct.parse_args(modes=("auto",))
    ct.require_build(need_shim=False)
    ct.require_root()
    chromium = cdp.find_chromium()
    if not chromium:
        raise ct.Skip("no chromium (Debian: apt-get install chromium; scripts/test installs it)")
    t = ct.tempdir("html-timeline")
    shutil.copy(ct.workload("watch_server.py"), t.sub("watch_server.py"))
    out, grower = watch_some(t)
    ct.check(sorted(os.listdir(out)) == ["timeline.jsonl"], f"the watch directory holds {os.listdir(out)}")

    # what the file says: the last copied_bytes of each (pid, start), and who went
    last, gone, series = read_timeline(out)
    ct.log(f"timeline: {len(last)} workers, {sum(map(len, series.values()))} samples, {len(gone)} gone")
    ct.check(len(last) >= 2, f"workers seen: {sorted(last)}")
    mine = [k for k in series if k[0] == grower]
    ct.check(len(mine) == 1 and series[mine[0]][-1] > series[mine[0]][0] + (1 << 20),
             f"the grower's copied bytes did not grow: {[series[k] for k in mine]}")

    # text and JSON of the same directory: exit 0, the same workers
    text = cowtrace("report", out).decode()
    ct.check(f"timeline (timeline.jsonl): {len(last)} workers" in text, f"text report: {text[:400]}")
    rep = json.loads(cowtrace("report", "--format", "json", out))
    ct.check({(w["pid"], f"{w['start']:.2f}"): w["copied_bytes"] for w in rep["timeline"]["workers"]} == last,
             "the JSON report's workers differ from timeline.jsonl")

    html_path = t.sub("timeline.html")
    html = cowtrace("report", "--format", "html", out)
    with open(html_path, "wb") as f:
        f.write(html)
    ct.log(f"timeline report: {len(html)} bytes")
    b = cdp.Browser(chromium)
    try:
        b.open_page()
        b.navigate("file://" + html_path)
        wait_drawn(b)
        lines = chart_lines(b, "timeline-svg")
        shown = {(x["pid"], f"{x['start']:.2f}"): x for x in lines}
        ct.check(len(lines) == len(shown) == len(last), f"{len(lines)} lines drawn for {len(last)} workers")
        for key, copied in last.items():
            ct.check(key in shown, f"no line for worker {key}")
            ct.check(shown[key]["last"] == copied, f"worker {key}: last point {shown[key]['last']}, file {copied}")
            ct.check(shown[key]["n"] == len(series[key]), f"worker {key}: {shown[key]['n']} points of {len(series[key])}")
            ct.check(shown[key]["gone"] == (key in gone), f"worker {key}: gone shown {shown[key]['gone']}")
        g = shown[mine[0]]
        ct.check(g["ys"][-1] < g["ys"][0] - 5, f"the grower's line does not rise on screen: {g['ys']}")
        ct.log(f"chart: {len(lines)} lines, last points equal the file's; grower {g['n']} points, "
               f"last {g['last']} bytes")
        # hover the grower's last point
        pos = b.eval(f"""(function () {{
            const l = Array.from(document.querySelectorAll('#timeline-svg polyline.tl-line'))
              .find(l => l.dataset.pid === '{grower}');
            l.scrollIntoView({{block: 'center'}});
            const svg = document.getElementById('timeline-svg').getBoundingClientRect();
            const pts = l.getAttribute('points').split(' '), p = pts[pts.length - 1].split(',').map(Number);
            return [svg.x + p[0], svg.y + p[1]]; }})()""")
        b.call("Input.dispatchMouseEvent", {"type": "mouseMoved", "x": pos[0], "y": pos[1]})
        tip = b.eval("(function () { const t = document.getElementById('timeline-tip'); "
                     "return [t.style.display, t.textContent]; })()")
        want = f"{g['last'] / 1048576:.1f} MiB copied"
        ct.check(tip[0] == "block" and f"pid {grower}" in tip[1] and want in tip[1], f"hover: {tip}, want {want!r}")
        ct.log(f"hover: {tip[1]}")
        check_no_problems(b)
    finally:
        b.close()

    out_b, _ = watch_some(t, WATCH_SECONDS_B, "-b")
    check_diff(t, chromium, out, out_b)


ct.main(run)
