#!/usr/bin/env python3
"""`cowtrace` finds its shim after `meson install`, not only in the build tree.

Configures a fresh build with a scratch --prefix, installs it, and runs the
installed `cowtrace run` (with no COWTRACE_SHIM in the environment) on a
forking program: the child must be traced by the installed libcowtrace.so.
"""
import os
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "lib"))
import ct  # noqa: E402


def sh(cmd, **kw):
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=900, **kw)
    ct.check(r.returncode == 0, f"{' '.join(cmd)} exited {r.returncode}: {(r.stdout + r.stderr)[-1500:]}")
    return r


def run():
    ct.parse_args(modes=("auto",))
    t = ct.tempdir("install")
    prefix, build = t.sub("prefix"), t.sub("build")
    sh(["meson", "setup", build, ct.TOP, f"--prefix={prefix}", "-Dbuildtype=release"])
    sh(["ninja", "-C", build, "analyzer/cowtrace", "shim/libcowtrace.so"])
    sh(["meson", "install", "-C", build, "--no-rebuild", "--only-changed"])
    exe = os.path.join(prefix, "bin", "cowtrace")
    ct.check(os.access(exe, os.X_OK), f"{exe} was not installed")
    shims = [os.path.join(d, f) for d, _, fs in os.walk(prefix) for f in fs if f == "libcowtrace.so"]
    ct.check(len(shims) == 1, f"installed shims: {shims}")
    env = ct.clean_env()
    env.pop("COWTRACE_SHIM", None)
    out = t.sub("out")
    prog = "import os; pid = os.fork()\nif pid == 0: os._exit(3)\nprint(os.waitpid(pid, 0)[1] >> 8)"
    r = sh([exe, "run", "-q", "-o", out, "--", ct.python(), "-c", prog], env=env)
    ct.check(r.stdout.strip() == "3", f"traced program printed {r.stdout!r}")
    procs = list(ct.processes(ct.report(out)).values())
    ct.check(len(procs) == 1 and procs[0]["exit"] == "exit 3", f"report: {procs}")
    ct.log(f"  installed {exe} and {shims[0]}; traced child {procs[0]['pid']} ({procs[0]['mode']}, exit 3)")


ct.main(run)
