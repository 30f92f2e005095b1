"""Kernel ground truth: which pages a forked child copied, read from /proc.

/proc/PID/pagemap holds one 64-bit word per virtual page: bit 63 page present,
bits 0-54 the page frame number (zero unless the reader has CAP_SYS_ADMIN),
bit 56 page exclusively mapped. A page the child copied on write has a
different frame number in the child than in the parent; a page first
populated after fork is present in the child and absent in the parent.
"""
import array
import os
import re

PAGE_SIZE = os.sysconf("SC_PAGESIZE")

PM_PRESENT = 1 << 63
PM_EXCLUSIVE = 1 << 56
PM_PFN_MASK = (1 << 55) - 1


class NoPFN(Exception):
    """The pagemap shows no frame numbers: the reader lacks CAP_SYS_ADMIN."""


def read_pagemap(pid, start, npages):
    """Return an array('Q') of npages pagemap words starting at address start."""
    out = array.array("Q")
    if npages <= 0:
        return out
    nbytes = npages * 8
    with open(f"/proc/{pid}/pagemap", "rb", buffering=0) as f:
        off = (start // PAGE_SIZE) * 8
        buf = bytearray()
        while len(buf) < nbytes:
            chunk = os.pread(f.fileno(), nbytes - len(buf), off + len(buf))
            if not chunk:
                break
            buf += chunk
    if len(buf) != nbytes:
        raise OSError(f"short pagemap read for pid {pid}: {len(buf)} of {nbytes} bytes")
    out.frombytes(bytes(buf))
    return out


def present(word):
    return bool(word & PM_PRESENT)


def pfn(word):
    return word & PM_PFN_MASK


def check_pfns_visible(words):
    """Raise NoPFN if every present page shows frame number 0."""
    any_present = False
    for w in words:
        if w & PM_PRESENT:
            any_present = True
            if w & PM_PFN_MASK:
                return
    if any_present:
        raise NoPFN("pagemap frame numbers read as 0: needs root (CAP_SYS_ADMIN)")


def cow_fresh_pages(parent_pid, child_pid, start, npages):
    """Classify npages pages at start by comparing the child's pagemap with
    the parent's. Returns (cow, fresh) as sets of page addresses:
      cow   - present in both, different frame numbers (the child copied it)
      fresh - present in the child, absent in the parent
    """
    pw = read_pagemap(parent_pid, start, npages)
    cw = read_pagemap(child_pid, start, npages)
    check_pfns_visible(cw)
    cow, fresh = set(), set()
    for i in range(npages):
        c = cw[i]
        if not c & PM_PRESENT:
            continue
        p = pw[i]
        addr = start + i * PAGE_SIZE
        if p & PM_PRESENT:
            if (p & PM_PFN_MASK) != (c & PM_PFN_MASK):
                cow.add(addr)
        else:
            fresh.add(addr)
    return cow, fresh


_MAPS_RE = re.compile(r"^([0-9a-f]+)-([0-9a-f]+) (\S{4}) ([0-9a-f]+) (\S+) (\d+)\s*(.*)$")


def read_maps(pid):
    """Return [(start, end, perms, name)] from /proc/PID/maps."""
    out = []
    with open(f"/proc/{pid}/maps") as f:
        for line in f:
            m = _MAPS_RE.match(line.rstrip("\n"))
            if m:
                out.append((int(m.group(1), 16), int(m.group(2), 16), m.group(3), m.group(7)))
    return out


def read_smaps_rollup(pid):
    """Return the /proc/PID/smaps_rollup fields (kB values) as a dict."""
    res = {}
    with open(f"/proc/{pid}/smaps_rollup") as f:
        for line in f:
            parts = line.split()
            if len(parts) >= 2 and parts[0].endswith(":") and parts[1].isdigit():
                res[parts[0][:-1]] = int(parts[1])
    return res


def read_smaps(pid):
    """Return [(start, end, name, {field: kB})] from /proc/PID/smaps."""
    out = []
    cur = None
    with open(f"/proc/{pid}/smaps") as f:
        for line in f:
            m = _MAPS_RE.match(line.rstrip("\n"))
            if m and "-" in line.split()[0]:
                cur = (int(m.group(1), 16), int(m.group(2), 16), m.group(7), {})
                out.append(cur)
                continue
            parts = line.split()
            if cur is not None and len(parts) >= 2 and parts[0].endswith(":") and parts[1].isdigit():
                cur[3][parts[0][:-1]] = int(parts[1])
    return out


def _overlaps(a, b):
    """Intersect two sorted lists of (start, end) ranges."""
    out = []
    i = j = 0
    while i < len(a) and j < len(b):
        s = max(a[i][0], b[j][0])
        e = min(a[i][1], b[j][1])
        if s < e:
            out.append((s, e))
        if a[i][1] < b[j][1]:
            i += 1
        else:
            j += 1
    return out


def copied_pages_total(parent_pid, child_pid, chunk_pages=1 << 16):
    """Count the pages the child copied over all its mappings that the parent
    maps at the same addresses: present in both with different frame numbers.
    Returns (copied, examined_present_in_both)."""
    cmaps = [(s, e) for s, e, perms, name in read_maps(child_pid) if name != "[vsyscall]"]
    pmaps = [(s, e) for s, e, perms, name in read_maps(parent_pid) if name != "[vsyscall]"]
    copied = both = 0
    seen_pfn = False
    for s, e in _overlaps(sorted(cmaps), sorted(pmaps)):
        addr = s
        while addr < e:
            n = min(chunk_pages, (e - addr) // PAGE_SIZE)
            try:
                pw = read_pagemap(parent_pid, addr, n)
                cw = read_pagemap(child_pid, addr, n)
            except OSError:
                addr += n * PAGE_SIZE
                continue
            for i in range(n):
                c = cw[i]
                p = pw[i]
                if c & PM_PRESENT and p & PM_PRESENT:
                    both += 1
                    cp = c & PM_PFN_MASK
                    if cp:
                        seen_pfn = True
                    if cp != (p & PM_PFN_MASK):
                        copied += 1
            addr += n * PAGE_SIZE
    if both and not seen_pfn:
        raise NoPFN("pagemap frame numbers read as 0: needs root (CAP_SYS_ADMIN)")
    return copied, both
