# gdb support for gr goroutines, on a live process and on a core file.
#
# Load it with one command (or put the line in ~/.gdbinit):
#
#     (gdb) source /path/to/gr/tools/gdb/gr.py
#
# Then:
#     gr goroutines        every live goroutine: id, state, wait reason and object, for how
#                          long, entry function (alias: gr ls)
#     gr bt ID             the backtrace of parked goroutine ID, walked by gdb itself from the
#                          context saved on its stack (all of gdb's frame commands work on
#                          the frames it prints while `gr bt` runs)
#     gr bt all            the backtraces of every parked goroutine
#
# Core files: a kernel core (abort, SIGABRT, a crash) has every goroutine stack. gcore does
# not: gr's stacks share one mapping with guard markers between them (MADV_GUARD_INSTALL),
# which gdb cannot read through, so gcore writes them as zeros; goroutines are still listed.
#
# How it works, without running code in the inferior (so a core file works as well as a
# live process, unlike the gdb scripts of brpc and PhotonLibOS, which switch registers and
# so need a live process): gr keeps every goroutine record in type-stable chunks listed by
# the exported symbol GR_ALLG_CHUNKS (core/src/allg.rs, layout in GR_ALLG_LAYOUT), and
# publishes the offsets of the fields read here in GR_G_LAYOUT when the runtime starts
# (core/src/dump/debugger.rs). A parked goroutine's suspended coroutine keeps its stack
# pointer in its record; at that address its switch saved the resume address, RBX and RBP
# (x86_64; core/src/stack/switch.rs). For `gr bt`, a Python frame unwinder (gdb.unwinder) makes the innermost frame of
# the selected thread unwind into that saved context, so gdb's own DWARF unwinder walks the
# goroutine's stack; the thread's real innermost frame (#0) is dropped from the listing.
#
# The wait reason names mirror core/src/waitreason.rs's table.

import gdb
import gdb.unwinder

WAIT_NAMES = {
    1: "chan receive", 2: "chan send", 3: "select", 4: "select (no cases)", 5: "sleep",
    6: "mutex lock", 7: "WaitGroup wait", 8: "join", 9: "fd wait", 10: "rwmutex rlock",
    11: "rwmutex lock", 12: "cond wait", 13: "semaphore acquire", 14: "once",
}
SCHED = {0: "runnable", 1: "parking", 2: "parked", 3: "woken", 4: "parked"}
KINDS = {0: "c", 1: "python", 2: "java"}


def _addr(sym):
    """The address of an exported symbol of libgr (or of a program linked with libgr.a)."""
    s = gdb.lookup_minimal_symbol(sym) if hasattr(gdb, "lookup_minimal_symbol") else None
    if s is not None:
        return int(s.value().address)
    return int(gdb.parse_and_eval("(unsigned long)&" + sym))


def _read(addr, n):
    return bytes(gdb.selected_inferior().read_memory(addr, n))


def _u(addr, size=8):
    return int.from_bytes(_read(addr, size), "little")


class _Layout:
    def __init__(self):
        self.slot, self.g_off, self.per_chunk = (_u(_addr("GR_ALLG_LAYOUT") + 8 * i) for i in range(3))
        g = _addr("GR_G_LAYOUT")
        vals = [_u(g + 8 * i) for i in range(16)]
        if vals[0] not in (1, 2):
            raise gdb.GdbError("gr: the runtime has not started (GR_G_LAYOUT is empty)")
        (self.id, self.sched, self.bound, self.done, self.kind, self.entry, self.wait, self.since,
         self.parent, self.label, self.saved_sp) = vals[1:12]
        self.version = vals[0]
        self.chunks = _addr("GR_ALLG_CHUNKS")
        self.clock = _u(_addr("GR_CLOCK_MS"))


def _sched(L, field):
    """A record's state as SCHED's codes. Version 1 of the layout had a state byte; version 2
    points at the wait cell's word (core/src/sched/state.rs): parked while its wait is open
    (result bits 0-28 zero) with PARKED (bit 29) set, held by a dump with HELD (bit 30)."""
    if L.version == 1:
        return field(L.sched, 1)
    w = field(L.sched)
    if w & ((1 << 29) - 1) or not w & (1 << 29):
        return 0
    return 4 if w & (1 << 30) else 2


def _goroutines(L):
    """(id, address of its G) of every live record."""
    n = _u(L.chunks)
    if n > 1 << 16:
        raise gdb.GdbError("gr: GR_ALLG_CHUNKS looks corrupt")
    out = []
    for i in range(n):
        base = _u(L.chunks + 8 + 8 * i)
        mem = _read(base, L.slot * L.per_chunk)
        for k in range(L.per_chunk):
            off = k * L.slot
            if int.from_bytes(mem[off:off + 8], "little") == 0:
                continue  # a free slot (reference count 0)
            g = base + off + L.g_off
            rec = mem[off + L.g_off:off + L.slot]
            field = lambda o, sz=8: int.from_bytes(rec[o:o + sz], "little")
            if field(L.done, 1):
                continue
            out.append(dict(
                id=field(L.id), g=g, sched=_sched(L, field), bound=field(L.bound, 1),
                kind=field(L.kind, 1), entry=field(L.entry), wait=field(L.wait), since=field(L.since),
                parent=field(L.parent),
            ))
    out.sort(key=lambda r: r["id"])
    return out


def _sym(pc):
    if not pc:
        return "?"
    b = gdb.block_for_pc(pc)
    while b is not None and b.function is None:
        b = b.superblock
    if b is not None and b.function is not None:
        return b.function.print_name
    s = gdb.execute("info symbol 0x%x" % pc, to_string=True).strip()
    return s.split(" in section")[0] if "No symbol" not in s else "0x%x" % pc


def _describe(r, clock):
    parked = r["sched"] in (2, 4)
    state = SCHED.get(r["sched"], "?")
    if r["bound"] and not parked:
        state = "bound (on its thread)"
    extra = ""
    if parked:
        kind, payload = r["wait"] >> 56, r["wait"] & ((1 << 56) - 1)
        state = WAIT_NAMES.get(kind, "wait")
        if kind in (1, 2):
            extra = " chan 0x%x" % payload
        elif kind == 6:
            extra = " mutex 0x%x" % payload
        elif kind == 7:
            extra = " WaitGroup 0x%x" % payload
        elif kind == 8:
            extra = " goroutine %d" % payload
        elif kind == 3:
            extra = " %d cases" % (payload >> 48)
        ms = max(0, clock - r["since"])
        state += ", %.1f s" % (ms / 1000.0) if ms >= 1000 else ", %d ms" % ms
    k = KINDS.get(r["kind"], "?") + (", bound" if r["bound"] else "")
    return "goroutine %d [%s] (%s)%s entry %s" % (r["id"], state, k, extra, _sym(r["entry"]))


class _FrameId:
    """A frame id as gdb's unwinder API wants it (gdb.unwinder.FrameId exists from gdb 14)."""

    def __init__(self, sp, pc):
        self.sp = sp
        self.pc = pc


class _GoroutineUnwinder(gdb.unwinder.Unwinder):
    """While `regs` is set: the first frame gdb unwinds (the selected thread's innermost
    real frame) unwinds into them; `level` records which frame that was."""

    def __init__(self):
        super().__init__("gr-goroutine")
        self.regs = None
        self.level = None

    def __call__(self, pending):
        if self.regs is None or self.level is not None:
            return None
        self.level = pending.level()
        sp = pending.read_register("rsp")
        pc = pending.read_register("rip")
        info = pending.create_unwind_info(_FrameId(sp, pc))
        for name, v in self.regs.items():
            info.add_saved_register(name, gdb.Value(v).cast(pc.type if name == "rip" else sp.type))
        return info


_UNWINDER = _GoroutineUnwinder()
gdb.unwinder.register_unwinder(None, _UNWINDER, replace=True)


def _backtrace(L, r):
    if r["sched"] not in (2, 4):
        return "  (not parked: its stack is live on a thread; see `info threads`)\n"
    if not L.saved_sp:
        return "  (the runtime did not publish where the saved context is)\n"
    sp = _u(r["g"] + L.saved_sp)
    regs = {"rip": _u(sp), "rbx": _u(sp + 8), "rbp": _u(sp + 16), "rsp": sp + 24}
    # Borrow a thread whose innermost frame is a real (not inlined) one: gdb asks the
    # unwinder about that frame first, and the goroutine's frames then follow it.
    orig = gdb.selected_thread()
    for t in sorted(gdb.selected_inferior().threads(), key=lambda t: t.num, reverse=True):
        t.switch()
        if gdb.newest_frame().type() == gdb.NORMAL_FRAME:
            break
    _UNWINDER.regs, _UNWINDER.level = regs, None
    gdb.invalidate_cached_frames()
    try:
        text = gdb.execute("bt 64", to_string=True)
    finally:
        first = _UNWINDER.level
        _UNWINDER.regs = None
        gdb.invalidate_cached_frames()
        if orig is not None:
            orig.switch()
    if first is None:
        return "  (gdb did not consult the unwinder)\n"
    lines, skip = [], True
    for line in text.splitlines():
        if "gr_core_coro_trampoline" in line:
            break  # the coroutine's first frame (`core/src/stack/switch.rs`): the stack's bottom
        if line.startswith("#"):
            num, rest = line[1:].split(" ", 1)
            n = int(num) - first - 1
            skip = n < 0  # the thread's own frames, up to the one unwound into the goroutine
            line = "#%d %s" % (n, rest.lstrip())
        if not skip:
            lines.append("  " + line)
    return "\n".join(lines) + "\n"


class GrCommand(gdb.Command):
    """gr goroutines | gr ls | gr bt ID | gr bt all: gr's goroutines (tools/gdb/gr.py)."""

    def __init__(self):
        super().__init__("gr", gdb.COMMAND_STACK, gdb.COMPLETE_NONE, True)

    def invoke(self, arg, from_tty):
        argv = gdb.string_to_argv(arg)
        if not argv or argv[0] in ("goroutines", "ls"):
            L = _Layout()
            gs = _goroutines(L)
            for r in gs:
                gdb.write(_describe(r, L.clock) + "\n")
            gdb.write("%d goroutines\n" % len(gs))
        elif argv[0] == "bt" and len(argv) == 2:
            L = _Layout()
            gs = _goroutines(L)
            want = None if argv[1] == "all" else int(argv[1])
            found = False
            for r in gs:
                if want is None and r["sched"] not in (2, 4):
                    continue
                if want is not None and r["id"] != want:
                    continue
                found = True
                gdb.write(_describe(r, L.clock) + "\n" + _backtrace(L, r) + "\n")
            if not found:
                raise gdb.GdbError("gr: no goroutine %s" % argv[1])
        else:
            raise gdb.GdbError("usage: gr goroutines | gr ls | gr bt ID | gr bt all")


GrCommand()
