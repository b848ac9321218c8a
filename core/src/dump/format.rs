//! A dump as text (Go's traceback style: `goroutine 17 [chan receive, 2 minutes]:` then its
//! frames) or as JSON lines (one object per line, `"type"` first: `dump`, `stats`, `worker`,
//! `proc`, `thread`, `goroutine`). The schema is documented in `docs/ABI.md` (`gr_dump`).
#![forbid(unsafe_code)]

use super::symbols::{self, Sym};
use super::{GLine, GState, Snapshot, ThreadLine};
use crate::waitreason::{kind, name, WaitReason};
use std::collections::HashMap;
use std::rc::Rc;
use std::fmt::Write as _;

/// The output format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Text,
    Json,
}

/// Names code addresses, once each, and renders each distinct stack once (goroutines
/// parked at the same place share their frames' text: 100,000 of them cost one rendering).
struct Namer<'a> {
    snap: &'a Snapshot,
    cache: HashMap<usize, Rc<Sym>>,
    stacks: HashMap<(usize, bool), HashMap<Vec<usize>, Rc<(String, bool)>>>,
    /// Rendered single frames (entry, creator), by (address, exact, json).
    lines: HashMap<(usize, bool, bool), Rc<String>>,
}

impl Namer<'_> {
    /// `addr` is a return address (look up the call before it) unless `exact`.
    fn sym(&mut self, addr: usize, exact: bool) -> Rc<Sym> {
        let a = if exact { addr } else { addr.saturating_sub(1) };
        let m = &self.snap.modules;
        self.cache.entry(a).or_insert_with(|| Rc::new(symbols::lookup(m, a))).clone()
    }

    /// `g`'s frames rendered by `render` (cached by stack), and whether some are missing.
    fn frames(&mut self, g: &GLine, json: bool, render: fn(&[(usize, Rc<Sym>)]) -> String) -> Rc<(String, bool)> {
        if let Some(r) = self.stacks.get(&(g.entry, json)).and_then(|m| m.get(g.frames.as_slice())) {
            return r.clone();
        }
        let (v, truncated) = visible(self, g);
        let r = Rc::new((render(&v), truncated));
        self.stacks.entry((g.entry, json)).or_default().insert(g.frames.clone(), r.clone());
        r
    }

    /// One frame rendered (cached by address).
    fn line(&mut self, pc: usize, exact: bool, json: bool) -> Rc<String> {
        if let Some(r) = self.lines.get(&(pc, exact, json)) {
            return r.clone();
        }
        let s = self.sym(pc, exact);
        let mut out = String::new();
        if json {
            json_frame(&mut out, pc, &s);
        } else {
            out = frame_text(pc, &s);
        }
        let r = Rc::new(out);
        self.lines.insert((pc, exact, json), r.clone());
        r
    }
}

/// gr's own frames, hidden at the top of a stack unless `all_frames`: the runtime (Rust),
/// the coroutine switch, the unwinder itself.
fn internal(s: &Sym) -> bool {
    let f = s.func.trim_start_matches('<');
    ["gr_core::", "gr::", "core::", "std::", "alloc::", "framehop::", "gr_ffi::"].iter().any(|p| f.starts_with(p))
}

/// The frames to show: without gr's frames above the first user-visible one, and without
/// the coroutine start below the entry function; and whether frames are missing (the walk
/// stopped before it reached the entry function).
fn visible(n: &mut Namer<'_>, g: &GLine) -> (Vec<(usize, Rc<Sym>)>, bool) {
    let mut v: Vec<(usize, Rc<Sym>)> = g.frames.iter().enumerate().map(|(i, &pc)| (pc, n.sym(pc, i == 0))).collect();
    if n.snap.all_frames {
        return (v, g.truncated);
    }
    let skip = v.iter().take_while(|(_, s)| internal(s)).count();
    if skip < v.len() {
        v.drain(..skip);
    }
    if g.entry != 0 {
        let e = n.sym(g.entry, true).func.clone();
        if !e.is_empty() {
            if let Some(i) = v.iter().position(|(_, s)| s.func == e) {
                v.truncate(i + 1);
                return (v, false);
            }
        }
    }
    (v, g.truncated)
}

fn kind_name(k: u8, bound: bool) -> &'static str {
    match (k, bound) {
        (1, _) => "python",
        (2, _) => "java",
        (_, true) => "bound",
        _ => "c",
    }
}

fn duration(ms: u64) -> String {
    if ms < 1000 {
        format!("{ms} ms")
    } else if ms < 120_000 {
        format!("{:.1} s", ms as f64 / 1000.0)
    } else {
        format!("{} minutes", ms / 60_000)
    }
}

/// The wait's object, as text: "chan 0x...", "goroutine 5", "fd 7 (read)".
fn object(r: WaitReason, g: Option<&GLine>) -> String {
    let p = r.payload();
    match r.kind() {
        kind::CHAN_RECV | kind::CHAN_SEND => format!("chan {p:#x}"),
        kind::MUTEX => format!("mutex {p:#x}"),
        kind::WAITGROUP => format!("WaitGroup {p:#x}"),
        kind::JOIN => format!("goroutine {p}"),
        kind::FD => format!("fd {} ({})", p >> 8, fd_events(p & 0xff)),
        kind::RWMUTEX_READ | kind::RWMUTEX_WRITE => format!("rwmutex {p:#x}"),
        kind::COND => format!("cond {p:#x}"),
        kind::SEMAPHORE => format!("semaphore {p:#x}"),
        kind::ONCE => format!("once {p:#x}"),
        kind::SELECT => match g {
            Some(g) if !g.select.is_empty() => {
                let cases: Vec<String> =
                    g.select.iter().map(|&(send, c)| if c == 0 { "nil".into() } else { format!("{} chan {c:#x}", if send { "send" } else { "recv" }) }).collect();
                format!("{{{}}}", cases.join(", "))
            }
            _ => format!("{} cases", r.select_cases().1),
        },
        _ => String::new(),
    }
}

fn fd_events(e: u64) -> &'static str {
    match e & 3 {
        1 => "read",
        2 => "write",
        3 => "read|write",
        _ => "-",
    }
}

/// Writes `snap` in `format` through `out` (called with pieces of the output).
pub fn write(snap: &Snapshot, format: Format, out: &mut dyn FnMut(&[u8])) {
    let mut n = Namer { snap, cache: HashMap::new(), stacks: HashMap::new(), lines: HashMap::new() };
    let mut buf = String::with_capacity(1 << 16);
    let flush = |buf: &mut String, out: &mut dyn FnMut(&[u8]), force: bool| {
        if force || buf.len() > (1 << 16) - 4096 {
            out(buf.as_bytes());
            buf.clear();
        }
    };
    match format {
        Format::Text => text_header(snap, &mut buf),
        Format::Json => json_header(snap, &mut buf),
    }
    flush(&mut buf, out, true);
    for g in &snap.goroutines {
        match format {
            Format::Text => text_g(&mut n, g, &mut buf),
            Format::Json => json_g(&mut n, g, &mut buf),
        }
        flush(&mut buf, out, false);
    }
    flush(&mut buf, out, true);
}

fn text_header(s: &Snapshot, b: &mut String) {
    let st = &s.stats;
    let c = &s.counts;
    let _ = writeln!(
        b,
        "gr dump (pid {}): {} goroutines ({} running, {} runnable, {} parked, {} sleeping, {} blocking), {} workers, {} threads",
        s.pid, s.goroutines.len(), c.running, c.runnable, c.parked, c.sleeping, c.blocking, st.workers, st.threads
    );
    let _ = writeln!(
        b,
        "stats: spawned_total={} steals_total={} retakes_total={} timers={} runq_global={} collect={}us held={}us",
        st.spawned_total, st.steals_total, st.retakes_total, s.timers, s.sched.global, s.collect_us, s.held_us
    );
    for m in &s.sched.ms {
        let what = match (m.p, m.gid) {
            (_, 0) if m.idle && m.polling => "idle, blocked in the poller".to_string(),
            (_, 0) if m.idle => "idle".to_string(),
            (Some(p), 0) => format!("P{p}, in the scheduler"),
            (Some(p), g) => format!("P{p}, running goroutine {g}"),
            (None, 0) => "no P".to_string(),
            (None, g) => format!("no P, goroutine {g} in a blocking call"),
        };
        let _ = writeln!(b, "worker {} (tid {}): {what}{}", m.id, m.tid, if m.inbox > 0 { format!(", {} pinned queued", m.inbox) } else { String::new() });
    }
    for p in &s.sched.ps {
        let _ = writeln!(b, "P{}: {}, runq {}, runnext {}, affine {}", p.id, p.status, p.runq, if p.runnext { 1 } else { 0 }, p.affine);
    }
    for t in &s.threads {
        let _ = writeln!(b, "{}", thread_text(t));
    }
    b.push('\n');
}

fn thread_text(t: &ThreadLine) -> String {
    let who = if t.worker { format!("worker thread {} (bound goroutine {})", t.tid, t.gid) } else { format!("thread {}", t.tid) };
    if t.blocked == crate::waiter::RUNNING {
        return format!("{who} [not in a gr wait]");
    }
    let obj = object(t.wait, None);
    let timeout = match t.timeout_ms {
        Some(ms) => format!(", times out in {}", duration(ms)),
        None => ", no timeout".to_string(),
    };
    format!("{who} [{}{}, {}{timeout}]", name(t.wait.kind()), if obj.is_empty() { String::new() } else { format!(" {obj}") }, duration(t.wait_ms))
}

fn text_g(n: &mut Namer<'_>, g: &GLine, b: &mut String) {
    let mut head = match (g.state, g.wait) {
        (GState::Parked | GState::Sleeping, Some(r)) => name(r.kind()).to_string(),
        (s, _) => s.name().to_string(),
    };
    if let Some(ms) = g.wait_ms {
        let _ = write!(head, ", {}", duration(ms));
    }
    if let Some(ms) = g.timeout_ms {
        let _ = write!(head, ", times out in {}", duration(ms));
    }
    if g.kind != 0 || g.bound {
        let _ = write!(head, ", {}", kind_name(g.kind, g.bound));
    }
    if let Some(w) = g.pinned {
        let _ = write!(head, ", pinned to worker {w}");
    }
    if let (Some(w), GState::Running | GState::Blocking) = (g.worker, g.state) {
        let _ = write!(head, ", on worker {w}");
    }
    let _ = write!(b, "goroutine {} [{head}]:", g.id);
    if let Some(r) = g.wait {
        let obj = object(r, Some(g));
        if !obj.is_empty() {
            let _ = write!(b, " {obj}");
        }
    }
    if g.cancel != 0 {
        let _ = write!(b, " (cancel token {:#x})", g.cancel);
    }
    b.push('\n');
    if let Some(lang) = &g.lang {
        for line in lang.lines() {
            let _ = writeln!(b, "  {line}");
        }
    }
    let frames = n.frames(g, false, |v| {
        let mut s = String::new();
        for (pc, sym) in v {
            let _ = writeln!(s, "  {}", frame_text(*pc, sym));
        }
        s
    });
    if frames.0.is_empty() && !g.current && !matches!(g.state, GState::Parked | GState::Sleeping) {
        let _ = writeln!(b, "  (stack not available: {})", if g.state == GState::Runnable { "not running" } else { "running on another thread" });
    }
    b.push_str(&frames.0);
    if frames.1 && !frames.0.is_empty() {
        b.push_str("  ...additional frames elided...\n");
    }
    let parent = if g.parent == 0 { "a thread".to_string() } else { format!("goroutine {}", g.parent) };
    if g.spawn_pc != 0 {
        let _ = writeln!(b, "created by {} in {parent}", n.line(g.spawn_pc, false, false));
    } else {
        let _ = writeln!(b, "created in {parent}");
    }
    if g.entry != 0 {
        let _ = writeln!(b, "entry {}", n.line(g.entry, true, false));
    }
    b.push('\n');
}

fn frame_text(pc: usize, s: &Sym) -> String {
    if s.func.is_empty() {
        format!("{pc:#x} ({})", if s.module.is_empty() { "?" } else { &s.module })
    } else {
        format!("{}+{:#x} ({})", s.func, s.offset, s.module)
    }
}

// ---------------------------------------------------------------------------------------------
// JSON lines.

fn js(b: &mut String, s: &str) {
    b.push('"');
    for c in s.chars() {
        match c {
            '"' => b.push_str("\\\""),
            '\\' => b.push_str("\\\\"),
            '\n' => b.push_str("\\n"),
            '\t' => b.push_str("\\t"),
            '\r' => b.push_str("\\r"),
            c if (c as u32) < 0x20 => {
                let _ = write!(b, "\\u{:04x}", c as u32);
            }
            c => b.push(c),
        }
    }
    b.push('"');
}

fn json_header(s: &Snapshot, b: &mut String) {
    let st = &s.stats;
    let c = &s.counts;
    let _ = writeln!(
        b,
        "{{\"type\":\"dump\",\"pid\":{},\"unix_ms\":{},\"goroutines\":{},\"collect_us\":{},\"held_us\":{}}}",
        s.pid,
        s.unix_ms,
        s.goroutines.len(),
        s.collect_us,
        s.held_us
    );
    let waiting: Vec<String> =
        (1..kind::COUNT).filter(|&k| c.waiting[k as usize] > 0).map(|k| format!("\"{}\":{}", name(k), c.waiting[k as usize])).collect();
    let _ = writeln!(
        b,
        "{{\"type\":\"stats\",\"workers\":{},\"goroutines\":{},\"threads\":{},\"spawned_total\":{},\"steals_total\":{},\"retakes_total\":{},\"running\":{},\"runnable\":{},\"parked\":{},\"sleeping\":{},\"blocking\":{},\"waiting\":{{{}}},\"timers\":{},\"runq_global\":{}}}",
        st.workers, st.goroutines, st.threads, st.spawned_total, st.steals_total, st.retakes_total, c.running, c.runnable, c.parked, c.sleeping, c.blocking,
        waiting.join(","), s.timers, s.sched.global
    );
    for m in &s.sched.ms {
        let p = m.p.map_or("null".to_string(), |p| p.to_string());
        let _ = writeln!(b, "{{\"type\":\"worker\",\"id\":{},\"tid\":{},\"p\":{p},\"goroutine\":{},\"idle\":{},\"inbox\":{}}}", m.id, m.tid, m.gid, m.idle, m.inbox);
    }
    for p in &s.sched.ps {
        let _ = writeln!(b, "{{\"type\":\"proc\",\"id\":{},\"status\":\"{}\",\"runq\":{},\"runnext\":{},\"affine\":{}}}", p.id, p.status, p.runq, p.runnext, p.affine);
    }
    for t in &s.threads {
        let _ = write!(b, "{{\"type\":\"thread\",\"tid\":{},\"worker\":{},\"goroutine\":{},", t.tid, t.worker, t.gid);
        if t.blocked == crate::waiter::RUNNING {
            b.push_str("\"state\":\"running\"}\n");
            continue;
        }
        let _ = write!(b, "\"state\":\"waiting\",\"wait\":\"{}\",\"wait_ms\":{}", name(t.wait.kind()), t.wait_ms);
        json_object(b, t.wait, None);
        match t.timeout_ms {
            Some(ms) => {
                let _ = write!(b, ",\"timeout_ms\":{ms}");
            }
            None => b.push_str(",\"timeout_ms\":null"),
        }
        b.push_str("}\n");
    }
}

/// The wait's object as JSON members (`,"chan":"0x..."`, ...).
fn json_object(b: &mut String, r: WaitReason, g: Option<&GLine>) {
    let p = r.payload();
    let _ = match r.kind() {
        kind::CHAN_RECV | kind::CHAN_SEND => write!(b, ",\"chan\":\"{p:#x}\""),
        kind::MUTEX => write!(b, ",\"mutex\":\"{p:#x}\""),
        kind::WAITGROUP => write!(b, ",\"waitgroup\":\"{p:#x}\""),
        kind::JOIN => write!(b, ",\"join\":{p}"),
        kind::FD => write!(b, ",\"fd\":{},\"events\":\"{}\"", p >> 8, fd_events(p & 0xff)),
        kind::RWMUTEX_READ | kind::RWMUTEX_WRITE => write!(b, ",\"rwmutex\":\"{p:#x}\""),
        kind::COND => write!(b, ",\"cond\":\"{p:#x}\""),
        kind::SEMAPHORE => write!(b, ",\"semaphore\":\"{p:#x}\""),
        kind::ONCE => write!(b, ",\"once\":\"{p:#x}\""),
        kind::SELECT => match g {
            Some(g) if !g.select.is_empty() => {
                let cases: Vec<String> = g
                    .select
                    .iter()
                    .map(|&(send, c)| format!("{{\"op\":\"{}\",\"chan\":{}}}", if send { "send" } else { "recv" }, if c == 0 { "null".to_string() } else { format!("\"{c:#x}\"") }))
                    .collect();
                write!(b, ",\"select\":[{}]", cases.join(","))
            }
            _ => write!(b, ",\"cases\":{}", r.select_cases().1),
        },
        _ => Ok(()),
    };
}

fn json_frame(b: &mut String, pc: usize, s: &Sym) {
    let _ = write!(b, "{{\"pc\":\"{pc:#x}\",\"fn\":");
    js(b, &s.func);
    let _ = write!(b, ",\"off\":{},\"module\":", s.offset);
    js(b, &s.module);
    b.push('}');
}

fn json_g(n: &mut Namer<'_>, g: &GLine, b: &mut String) {
    let _ = write!(b, "{{\"type\":\"goroutine\",\"id\":{},\"kind\":\"{}\",\"state\":\"{}\"", g.id, kind_name(g.kind, g.bound), g.state.name());
    if let Some(r) = g.wait {
        let _ = write!(b, ",\"wait\":\"{}\"", name(r.kind()));
        json_object(b, r, Some(g));
    }
    if let Some(ms) = g.wait_ms {
        let _ = write!(b, ",\"wait_ms\":{ms}");
    }
    if let Some(ms) = g.timeout_ms {
        let _ = write!(b, ",\"timeout_ms\":{ms}");
    }
    if g.cancel != 0 {
        let _ = write!(b, ",\"cancel\":\"{:#x}\"", g.cancel);
    }
    let opt = |v: Option<usize>| v.map_or("null".to_string(), |v| v.to_string());
    let _ = write!(b, ",\"bound\":{},\"pinned\":{},\"worker\":{},\"parent\":{},\"current\":{}", g.bound, opt(g.pinned), opt(g.worker), g.parent, g.current);
    if g.entry != 0 {
        b.push_str(",\"entry\":");
        b.push_str(&n.line(g.entry, true, true));
    }
    if g.spawn_pc != 0 {
        b.push_str(",\"spawn\":");
        b.push_str(&n.line(g.spawn_pc, false, true));
    }
    b.push_str(",\"frames\":[");
    let frames = n.frames(g, true, |v| {
        let mut s = String::new();
        for (i, (pc, sym)) in v.iter().enumerate() {
            if i > 0 {
                s.push(',');
            }
            json_frame(&mut s, *pc, sym);
        }
        s
    });
    b.push_str(&frames.0);
    let _ = write!(b, "],\"truncated\":{}", frames.1);
    if let Some(lang) = &g.lang {
        b.push_str(",\"lang_frames\":[");
        for (i, line) in lang.lines().enumerate() {
            if i > 0 {
                b.push(',');
            }
            js(b, line);
        }
        b.push(']');
    }
    b.push_str("}\n");
}
