"""symlib.py - shared by test_symbols.py and test_flamegraph.py: a trace
whose stacks point into the symtarget program (real symbols, real DWARF
lines, real build id) and into real Python 3.11 code objects, with the
folded lines a report must print for it."""
import os
import subprocess

BASE = 0x555555554000
PY311 = "0x30b07f0"

APP = """\
def load(data):
    total = 0
    for x in data:
        total += x
    return total

def worker(data):
    return load(data)

worker([1])
"""


def build_id(path):
    """The GNU build id of an ELF file, from its notes (readelf -n)."""
    out = subprocess.run(["readelf", "-n", path], capture_output=True, text=True, check=True).stdout
    for line in out.splitlines():
        if "Build ID:" in line:
            return line.split()[-1]
    raise RuntimeError(f"{path} has no build id")


def symbols(path):
    out = subprocess.run(["nm", path], capture_output=True, text=True, check=True).stdout
    return {f[2]: int(f[0], 16) for f in (l.split() for l in out.splitlines()) if len(f) == 3}


def source_lines(src):
    text = open(src).read().splitlines()
    want = {"cow_leaf": "void cow_leaf(", "cow_middle": "void cow_middle(",
            "_PyEval_EvalFrameDefault": "long _PyEval_EvalFrameDefault(", "run_python": "long run_python(",
            "main": "int main("}
    return {k: next(i + 1 for i, l in enumerate(text) if v in l) for k, v in want.items()}


def lasti_at(co, line):
    """The first instruction (code unit) of co on `line`."""
    return next(s // 2 for s, e, l in co.co_lines() if l == line)


class Setup:
    """The pieces of the trace: pass mk() the ct-mktrace arguments."""

    def __init__(self, tmp, symtarget, src):
        self.app = os.path.join(tmp, "app.py")
        open(self.app, "w").write(APP)
        mod = compile(APP, self.app, "exec")
        consts = {c.co_name: c for c in mod.co_consts if hasattr(c, "co_code")}
        self.codes = {"<module>": (0x7f0000c00000, mod, 10), "worker": (0x7f0000c00100, consts["worker"], 8),
                      "load": (0x7f0000c00200, consts["load"], 4)}
        self.sym = symbols(symtarget)
        self.lines = source_lines(src)
        self.bid = build_id(symtarget)
        self.symtarget = symtarget

    def ip(self, func, off=0):
        return BASE + self.sym[func] + off

    def pyframe(self, name):
        addr, co, line = self.codes[name]
        return f"{addr:#x}@{lasti_at(co, line)}"

    def args(self, path=None, bid=None):
        a = ["--mode", "uffd", "--python", PY311,
             "--module", f"{path or self.symtarget},{BASE:#x},{BASE:#x},{BASE + 0x10000:#x},{bid or self.bid}"]
        for name, (addr, co, _) in self.codes.items():
            a += ["--pycode", f"{addr:#x},{co.co_firstlineno},{co.co_linetable.hex()},{co.co_qualname},{self.app}"]
        ip = self.ip
        s1 = "/".join(hex(x) for x in (ip("cow_leaf"), ip("cow_middle", 5), ip("_PyEval_EvalFrameDefault", 9),
                                         ip("run_python", 9), ip("main", 9)))
        a += ["--stack", f"1:0:{s1}:" + "/".join(self.pyframe(n) for n in ("load", "worker", "<module>"))]
        a += ["--stack", f"2:4:{ip('cow_leaf', 4):#x}/{ip('main', 9):#x}:"]
        a += ["--stack", f"3:0:{ip('cow_leaf'):#x}/0x1234:0xdead0@3/{self.pyframe('load')}"]
        a += ["--evidence", "refcount:int=100@1,gc:list=50@1,object:dict=7@2,allocator=3@3,other=2"]
        return a

    def folded_python(self):
        A = self.app
        py = f"<module> ({A}:10);worker ({A}:8);load ({A}:4)"
        return [
            "(no python frame);main;cow_leaf;cause:object 7",
            "(no stack);cause:other 2",
            f"{py};cow_middle;cow_leaf;cause:gc 50",
            f"{py};cow_middle;cow_leaf;cause:refcount 100",
            f"load ({A}:4);?_(code_0xdead0);0x1234;cow_leaf;cause:allocator 3",
        ]
