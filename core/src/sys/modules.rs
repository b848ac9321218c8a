//! The loaded ELF objects (`dl_iterate_phdr`): where each is mapped, its code, and its unwind
//! table (`.eh_frame_hdr` and `.eh_frame`), for the dump's unwinder and symboliser
//! (`crate::dump`). Also raw reads of memory the caller knows to be mapped.

use std::ffi::CStr;

/// One loaded object.
#[derive(Debug, Clone)]
pub(crate) struct Module {
    /// Its path (`/proc/self/exe`'s target for the main program), or "" if unknown.
    pub path: String,
    /// The load bias (`dlpi_addr`): an address in the file plus `base` is where it runs.
    pub base: usize,
    /// The executable segment, `[start, end)` in memory.
    pub text: (usize, usize),
    /// `.eh_frame_hdr` in memory (`PT_GNU_EH_FRAME`), if any.
    pub eh_frame_hdr: Option<(usize, usize)>,
    /// `.eh_frame` in memory (from the header's pointer to the end of its segment).
    pub eh_frame: Option<(usize, usize)>,
}

/// Every object loaded now. Takes the dynamic loader's lock for the duration of the walk.
pub(crate) fn loaded() -> Vec<Module> {
    let mut out: Vec<Module> = Vec::new();
    extern "C" fn each(info: *mut libc::dl_phdr_info, _size: libc::size_t, data: *mut libc::c_void) -> libc::c_int {
        // SAFETY: `data` is the `Vec` passed below, alive for the walk; `info` and its headers
        // are valid during the callback (dl_iterate_phdr's contract).
        unsafe {
            let out = &mut *(data as *mut Vec<Module>);
            let info = &*info;
            let base = info.dlpi_addr as usize;
            let phdrs = std::slice::from_raw_parts(info.dlpi_phdr, info.dlpi_phnum as usize);
            let mut text = None;
            let mut hdr = None;
            let mut loads = Vec::new();
            for ph in phdrs {
                let (start, len) = (base + ph.p_vaddr as usize, ph.p_memsz as usize);
                match ph.p_type {
                    libc::PT_LOAD => {
                        loads.push((start, start + len));
                        if ph.p_flags & libc::PF_X != 0 && text.is_none() {
                            text = Some((start, start + len));
                        }
                    }
                    libc::PT_GNU_EH_FRAME => hdr = Some((start, start + len)),
                    _ => {}
                }
            }
            let Some(text) = text else { return 0 };
            let name = if info.dlpi_name.is_null() { "" } else { CStr::from_ptr(info.dlpi_name).to_str().unwrap_or("") };
            let path = if name.is_empty() && out.is_empty() {
                std::fs::read_link("/proc/self/exe").map(|p| p.to_string_lossy().into_owned()).unwrap_or_default()
            } else {
                name.to_owned()
            };
            let eh_frame = hdr.and_then(|(h, _)| eh_frame_of(h)).and_then(|f| {
                loads.iter().find(|&&(s, e)| f >= s && f < e).map(|&(_, e)| (f, e))
            });
            out.push(Module { path, base, text, eh_frame_hdr: hdr, eh_frame });
        }
        0
    }
    // SAFETY: the callback only reads what the loader hands it and writes `out`.
    unsafe { libc::dl_iterate_phdr(Some(each), &mut out as *mut Vec<Module> as *mut libc::c_void) };
    out
}

/// The `.eh_frame` address an `.eh_frame_hdr` at `hdr` points to (encodings as GNU ld and
/// lld write them: absolute or PC-relative 4- or 8-byte values).
///
/// # Safety
/// `hdr` is a mapped `.eh_frame_hdr` of a loaded object.
unsafe fn eh_frame_of(hdr: usize) -> Option<usize> {
    let p = hdr as *const u8;
    if *p != 1 {
        return None; // version
    }
    let enc = *p.add(1);
    let field = hdr + 4;
    let raw = match enc & 0x0f {
        0x03 => (field as *const u32).read_unaligned() as i64,  // udata4
        0x0b => (field as *const i32).read_unaligned() as i64,  // sdata4
        0x04 | 0x0c | 0x00 => (field as *const i64).read_unaligned(), // (u|s)data8, absptr
        _ => return None,
    };
    let v = match enc & 0x70 {
        0x00 => raw as usize,
        0x10 => (field as i64 + raw) as usize, // pcrel
        0x30 => (hdr as i64 + raw) as usize,   // datarel
        _ => return None,
    };
    Some(v)
}

/// `[start, end)` of mapped, readable memory as a byte slice.
///
/// # Safety
/// The range lies in a loaded object's mapped segments, which stay mapped while the slice
/// is used (nobody `dlclose`s the object meanwhile).
pub(crate) unsafe fn bytes(start: usize, end: usize) -> &'static [u8] {
    std::slice::from_raw_parts(start as *const u8, end.saturating_sub(start))
}
