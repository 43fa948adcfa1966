#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""A stand-in for the memtrace module on hosts without module support.

Usage: fakemod.py PID START END [runs|pages]  or  fakemod.py PID all [MODE]
Prints the answer /proc/memtrace would give (kmod/uapi/memtrace.h format),
derived from /proc/PID/maps, /proc/PID/pagemap and /proc/kpageflags (the
zero page is KPF_ZERO_PAGE, bit 24; root needed for PFNs). The client uses
it through MEMTRACE_FAKE_ANSWER='|python3 tests/client/fakemod.py'. It only
lets the host tests drive the client's code paths; it proves nothing about
the module.

Built from pagemap, its answer cannot disagree with verify's or the demo's
cross-check. To show that they catch a module that lies, set
MEMTRACE_FAKE_LIE to a comma-separated list of WHERE[:HOW]:
  WHERE  0xADDR  the page at that virtual address
         +N      page N of the queried range (0 is its first page)
  HOW    a state (unmapped none zero present swap migration other): report
         the page in that state; pfn: report its frame number plus one;
         nothing: flip it (present or zero -> none, anything else -> present)
Each lying page is reported on its own, in runs mode too. Pages outside the
queried range are ignored.
"""
import os, platform, struct, sys

PS = os.sysconf("SC_PAGE_SIZE")
# TASK_SIZE_MAX: x86-64's (4-level paging) keeps a guard page below 2^47;
# arm64's is 2^VA_BITS (48 with Debian's 4K kernels, 52 with its 16K ones)
if platform.machine() == "aarch64":
    TASK_SIZE = 1 << (52 if PS == 16384 else 48)
else:
    TASK_SIZE = (1 << 47) - PS


def num(s):
    return int(s, 16) if s.lower().startswith("0x") else int(s, 10)


STATES = ("unmapped", "none", "zero", "present", "swap", "migration", "other")


def lies(start, end):
    """{page address: how} from MEMTRACE_FAKE_LIE, for pages in [start, end)."""
    out = {}
    for item in filter(None, os.environ.get("MEMTRACE_FAKE_LIE", "").split(",")):
        where, _, how = item.partition(":")
        if how and how != "pfn" and how not in STATES:
            sys.exit(f"fakemod: MEMTRACE_FAKE_LIE: bad HOW '{how}'")
        if where.startswith("+"):
            page = start + int(where[1:], 10) * PS
        else:
            page = num(where) & ~(PS - 1)
        if start <= page < end:
            out[page] = how
    return out


def lie(how, state, flags, pfn, node):
    """What a lying module would say instead of (state, flags, pfn, node)."""
    if how == "pfn":
        return state, flags, pfn + 1, node
    if not how:
        how = "none" if state in ("present", "zero") else "present"
    if how == "present":
        return how, "a-w---", 0, 0
    if how == "zero":
        return how, "a-----", 0, -1
    return how, "------", 0, -1


def main():
    a = sys.argv[1:]
    pid = int(a[0])
    if a[1] == "all":
        start, end, mode = 0, TASK_SIZE, (a[2] if len(a) > 2 else "runs")
    else:
        start, end = num(a[1]), num(a[2])
        mode = a[3] if len(a) > 3 else "runs"
    start &= ~(PS - 1)
    end = (end + PS - 1) & ~(PS - 1)
    vmas = []
    with open(f"/proc/{pid}/maps", errors="surrogateescape") as f:
        for line in f:
            r = line.split()[0].split("-")
            vmas.append((int(r[0], 16), int(r[1], 16), line.split()[1]))
    pm = os.open(f"/proc/{pid}/pagemap", os.O_RDONLY)
    try:
        kpf = os.open("/proc/kpageflags", os.O_RDONLY)
    except OSError:
        kpf = None
    recs = []  # (addr, pages, state, flags, pfn, node)
    lying = lies(start, end)

    def add(addr, n, state, flags="------", pfn=0, node=-1):
        for page in sorted(p for p in lying if addr <= p < addr + n * PS):
            if page > addr:
                put(addr, (page - addr) // PS, state, flags, pfn, node)
            put(page, 1, *lie(lying[page], state, flags, pfn, node), alone=True)
            n -= (page - addr) // PS + 1
            addr = page + PS
        if n:
            put(addr, n, state, flags, pfn, node)

    def put(addr, n, state, flags, pfn, node, alone=False):
        if not alone and (mode == "runs" or state == "unmapped") and recs and \
                recs[-1][0] not in lying:
            p = recs[-1]
            if p[2] == state and p[3] == flags and p[5] == node and p[0] + p[1] * PS == addr:
                recs[-1] = (p[0], p[1] + n, state, flags, p[4], node)
                return
        recs.append((addr, n, state, flags, pfn, node))

    addr = start
    for vs, ve, perms in vmas:
        if ve <= addr or vs >= end:
            continue
        if vs > addr:
            add(addr, (vs - addr) // PS, "unmapped")
            addr = vs
        stop = min(ve, end)
        while addr < stop:
            e, = struct.unpack("Q", os.pread(pm, 8, addr // PS * 8))
            pfn = e & ((1 << 55) - 1)
            if e >> 63:
                zero = False
                if kpf is not None and pfn:
                    fl, = struct.unpack("Q", os.pread(kpf, 8, pfn * 8))
                    zero = bool(fl >> 24 & 1)
                kind = "f" if e >> 61 & 1 else "a"
                w = "w" if "w" in perms else "-"
                add(addr, 1, "zero" if zero else "present",
                    kind + "-" + w + "---", pfn, -1 if zero else 0)
            elif e >> 62 & 1:
                add(addr, 1, "swap", "------", pfn)
            else:
                add(addr, 1, "none")
            addr += PS
    if addr < end:
        add(addr, (end - addr) // PS, "unmapped")
    counts = {s: 0 for s in ("unmapped", "none", "zero", "present", "swap", "migration", "other")}
    out = [f"# memtrace pid={pid} start=0x{start:x} end=0x{end:x} page_size={PS} mode={mode}",
           "# addr\tpages\tstate\tsize\tflags\tpfn\tnode"]
    for r in recs:
        counts[r[2]] += r[1]
        out.append(f"0x{r[0]:x}\t{r[1]}\t{r[2]}\t4K\t{r[3]}\t0x{r[4]:x}\t{r[5]}")
    out.append(f"# summary pages={sum(counts.values())} " +
               " ".join(f"{k}={v}" for k, v in counts.items()))
    sys.stdout.write("\n".join(out) + "\n")


main()
