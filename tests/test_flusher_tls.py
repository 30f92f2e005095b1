#!/usr/bin/env python3
"""The uffd-async flusher touches no TLS and calls nothing in libc.

The flusher is a process of its own sharing the program's memory, with no
thread block of its own: it runs on the one of the program thread that
created it (shim/backend_uffd_async.c). Any TLS access from it (errno, a
__thread variable, glibc's setjmp/longjmp and the thread's cleanup list)
would read or write that thread's state behind its back. This test
disassembles libcowtrace.so (objdump), follows the direct calls from the
flusher's entry (flusher_main) and from the functions it reaches through
pointers (the guarded reader ct_py_guarded_read, common/pyver's
ct_memview_read, the backend's stop; the fault handler's ct_probe_recover),
and fails if any reached function uses %fs or %gs or calls through the
PLT. The stack protector's canary
read (%fs:0x28) is allowed: it only reads, and the creating thread's block
outlives the flusher (PDEATHSIG). x86-64 only; skips elsewhere, without
objdump, or on a shim without its symbol table."""
import os
import platform
import re
import shutil
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "lib"))
import ct  # noqa: E402

ROOTS = ("flusher_main", "ct_py_guarded_read", "ct_memview_read", "stop", "ct_probe_recover", "ct_jump_save",
         "ct_jump_back")
CALL = re.compile(r"\s(?:call|jmp)\w*\s+[0-9a-f]+ <([^>+]+)(?:\+0x[0-9a-f]+)?>")


def disassemble(path):
    out = subprocess.run(["objdump", "-d", "--no-show-raw-insn", path], capture_output=True, text=True,
                         timeout=120, check=True).stdout
    funcs, cur = {}, None
    for line in out.splitlines():
        m = re.match(r"^[0-9a-f]+ <([^>]+)>:", line)
        if m:
            cur = funcs.setdefault(m.group(1), [])
        elif cur is not None and line.strip():
            cur.append(line)
    return funcs


def run():
    if platform.machine() != "x86_64":
        raise ct.Skip(f"disassembly checked on x86-64 only, not {platform.machine()}")
    if not shutil.which("objdump"):
        raise ct.Skip("objdump (binutils) is not installed")
    ct.require_build(need_runner=False)
    funcs = disassemble(ct.shim_path())
    missing = [r for r in ROOTS if r not in funcs]
    if "flusher_main" in missing:
        raise ct.Skip("libcowtrace.so has no symbol table (stripped): cannot follow calls")
    ct.check(not missing, f"functions not found in the shim: {missing} (renamed? update ROOTS)")
    seen, todo = {}, [(r, None) for r in ROOTS]
    while todo:
        f, caller = todo.pop()
        if f in seen:
            continue
        seen[f] = caller
        for line in funcs.get(f, []):
            m = CALL.search(line)
            if m and m.group(1) != f:
                todo.append((m.group(1), f))
    bad = []
    for f, caller in sorted(seen.items()):
        if "@plt" in f:
            bad.append(f"{caller} calls {f} (libc, through the PLT)")
            continue
        for line in funcs.get(f, []):
            if re.search(r"%[fg]s:", line) and "%fs:0x28" not in line:
                bad.append(f"{f} (reached from {caller}) uses TLS: {line.strip()}")
    ct.log(f"{len(seen)} functions reachable from the flusher, checked")
    ct.check(not bad, "the flusher would touch TLS or libc:\n  " + "\n  ".join(bad))


ct.main(run)
