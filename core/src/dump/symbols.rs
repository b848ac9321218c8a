//! Code addresses to function names: the ELF symbol table (`.symtab`, else `.dynsym`) of the
//! file each loaded object came from, read once per object and kept (a release build that
//! is not stripped keeps `.symtab`, so `static` C functions are named too, which `dladdr`
//! cannot do). Rust names are demangled.
#![forbid(unsafe_code)]

use crate::sys::modules::Module;
use std::collections::HashMap;
use crate::sys::forklock::ForkLock;
use std::sync::Arc;

/// One object's functions, sorted by address (addresses as in the file).
#[derive(Default)]
pub(crate) struct Table {
    funcs: Vec<(u64, u64, Box<str>)>,
}

/// A symbolised address.
#[derive(Debug, Clone, Default)]
pub struct Sym {
    /// The function (demangled), or "" if unknown.
    pub func: String,
    /// The address minus the function's start.
    pub offset: u64,
    /// The object's path.
    pub module: String,
}

/// Symbol tables read so far. A `ForkLock` (held around `fork()`, `sched/runtime.rs`): a
/// fork()ed child may dump too.
static TABLES: ForkLock<Option<HashMap<(String, usize), Arc<Table>>>> = ForkLock::new(None);

/// `TABLES`, for the fork handlers.
pub(crate) fn tables_lock() -> &'static ForkLock<Option<HashMap<(String, usize), Arc<Table>>>> {
    &TABLES
}

fn table(m: &Module) -> Arc<Table> {
    let key = (m.path.clone(), m.base);
    let mut t = TABLES.lock();
    let map = t.get_or_insert_with(HashMap::new);
    if let Some(x) = map.get(&key) {
        return x.clone();
    }
    let tab = Arc::new(std::fs::read(&m.path).ok().and_then(|b| parse(&b)).unwrap_or_default());
    map.insert(key, tab.clone());
    tab
}

/// Symbolises `addr` (a code address in `modules`).
pub(crate) fn lookup(modules: &[Module], addr: usize) -> Sym {
    let Some(m) = modules.iter().find(|m| addr >= m.text.0 && addr < m.text.1) else {
        return Sym::default();
    };
    let t = table(m);
    let a = (addr - m.base) as u64;
    let i = t.funcs.partition_point(|f| f.0 <= a);
    let func = (i > 0).then(|| &t.funcs[i - 1]).filter(|f| a < f.0 + f.1.max(1) || f.1 == 0);
    match func {
        Some(f) => Sym { func: f.2.to_string(), offset: a - f.0, module: m.path.clone() },
        None => Sym { func: String::new(), offset: a, module: m.path.clone() },
    }
}

fn u16_at(b: &[u8], o: usize) -> Option<u16> {
    Some(u16::from_le_bytes(b.get(o..o + 2)?.try_into().ok()?))
}
fn u32_at(b: &[u8], o: usize) -> Option<u32> {
    Some(u32::from_le_bytes(b.get(o..o + 4)?.try_into().ok()?))
}
fn u64_at(b: &[u8], o: usize) -> Option<u64> {
    Some(u64::from_le_bytes(b.get(o..o + 8)?.try_into().ok()?))
}

/// The functions of an ELF64 little-endian file.
fn parse(b: &[u8]) -> Option<Table> {
    if b.get(..4)? != b"\x7fELF" || *b.get(4)? != 2 || *b.get(5)? != 1 {
        return None;
    }
    let shoff = u64_at(b, 0x28)? as usize;
    let shentsize = u16_at(b, 0x3a)? as usize;
    let shnum = u16_at(b, 0x3c)? as usize;
    let sh = |i: usize| -> Option<(u32, u64, u64, u32, u64)> {
        let o = shoff + i * shentsize;
        // (type, offset, size, link, entsize)
        Some((u32_at(b, o + 4)?, u64_at(b, o + 0x18)?, u64_at(b, o + 0x20)?, u32_at(b, o + 0x28)?, u64_at(b, o + 0x38)?))
    };
    const SHT_SYMTAB: u32 = 2;
    const SHT_DYNSYM: u32 = 11;
    let find = |ty: u32| (0..shnum).find(|&i| sh(i).is_some_and(|s| s.0 == ty));
    let sym_i = find(SHT_SYMTAB).or_else(|| find(SHT_DYNSYM))?;
    let (_, off, size, link, ent) = sh(sym_i)?;
    let (_, str_off, str_size, _, _) = sh(link as usize)?;
    let strtab = b.get(str_off as usize..(str_off + str_size) as usize)?;
    let ent = if ent == 0 { 24 } else { ent as usize };
    let mut funcs = Vec::new();
    for k in 0..(size as usize / ent) {
        let o = off as usize + k * ent;
        let info = *b.get(o + 4)?;
        let shndx = u16_at(b, o + 6)?;
        if info & 0xf != 2 || shndx == 0 {
            continue; // STT_FUNC, defined
        }
        let (name, value, sz) = (u32_at(b, o)? as usize, u64_at(b, o + 8)?, u64_at(b, o + 16)?);
        let Some(raw) = strtab.get(name..).and_then(|s| s.split(|&c| c == 0).next()) else { continue };
        let raw = String::from_utf8_lossy(raw);
        funcs.push((value, sz, format!("{:#}", rustc_demangle::demangle(&raw)).into_boxed_str()));
    }
    funcs.sort_by_key(|f| (f.0, std::cmp::Reverse(f.1)));
    funcs.dedup_by_key(|f| f.0);
    Some(Table { funcs })
}
