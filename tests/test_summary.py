#!/usr/bin/env python3
"""tests/test_summary.py - scripts/test's closing count is right and its exit
status follows it.

CI once went red on a fully green run: the summary was fed by
`printf | python3 - <<PY`, whose stdin was the heredoc, so printf died of
SIGPIPE and pipefail made the script exit 141 (and stage failures never
reached the count). This runs scripts/test-summary on made-up meson logs,
and the summary step of scripts/test itself, as scripts/test runs it.
"""
import json, os, subprocess, sys, tempfile

TOP = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SUMMARY = os.path.join(TOP, "scripts", "test-summary")
failures = []


def check(what, cond):
    if not cond:
        failures.append(what)
        print(f"FAIL {what}")


def logs(d, build, records, extra=""):
    os.makedirs(os.path.join(d, build, "meson-logs"), exist_ok=True)
    with open(os.path.join(d, build, "meson-logs", "testlog.json"), "w") as f:
        for r in records:
            f.write(json.dumps(r) + "\n")
        f.write(extra)


def summary(d, stages=""):
    env = dict(os.environ, CT_STAGE_FAILURES=stages)
    return subprocess.run([SUMMARY, "build/meson-logs/testlog.json",
                           "build-asan/meson-logs/testlog.json"],
                          cwd=d, env=env, capture_output=True, text=True)


with tempfile.TemporaryDirectory() as d:
    logs(d, "build", [{"name": "a", "result": "OK"}, {"name": "b", "result": "SKIP"}])
    logs(d, "build-asan", [{"name": "c", "result": "OK"}])
    r = summary(d)
    check("green: last line", r.stdout.splitlines()[-1] == "2 passed, 0 failed, 1 skipped")
    check("green: exit 0", r.returncode == 0)

    r = summary(d, "ninja -C build\n")
    check("stage failure counted", r.stdout.splitlines()[-1] == "2 passed, 1 failed, 1 skipped")
    check("stage failure named", "stage failed: ninja -C build" in r.stdout)
    check("stage failure: exit 1", r.returncode == 1)

    logs(d, "build-asan", [{"name": "c", "result": "FAIL", "duration": 2}], "not json\n[1]\n")
    r = summary(d)
    check("failed and unreadable lines counted",
          r.stdout.splitlines()[-1] == "1 passed, 3 failed, 1 skipped")
    check("failed test named", "build-asan: c FAIL (2.0 s)" in r.stdout)
    check("no traceback", "Traceback" not in r.stderr)
    check("failure: exit 1", r.returncode == 1)

    os.remove(os.path.join(d, "build-asan", "meson-logs", "testlog.json"))
    r = summary(d)
    check("missing log reported", "build-asan: no test log" in r.stdout)

    # The summary step of scripts/test as it stands, on a green pair of logs:
    # it must exit 0 every time (the SIGPIPE race failed about one run in ten).
    logs(d, "build-asan", [{"name": "c", "result": "OK"}])
    os.makedirs(os.path.join(d, "scripts"))
    os.symlink(SUMMARY, os.path.join(d, "scripts", "test-summary"))
    with open(os.path.join(TOP, "scripts", "test")) as f:
        text = f.read()
    step = text[text.index('step "summary'):]
    for stages in ("()", '("ninja -C build")'):
        script = ('set -uo pipefail\nstep() { :; }\nt0=0\n'
                  f'stage_failures={stages}\n' + step)
        rcs = set()
        for _ in range(30):
            rcs.add(subprocess.run(["bash", "-c", script], cwd=d,
                                   capture_output=True).returncode)
        want = {0} if stages == "()" else {1}
        check(f"scripts/test summary step with stage_failures={stages}: exit {want}, got {rcs}",
              rcs == want)

print(f"{'FAIL' if failures else 'OK'}: test-summary ({len(failures)} failed)")
sys.exit(1 if failures else 0)
