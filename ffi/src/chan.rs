//! Channel and select exports (`gr_chan_*`, `gr_select*`) over `gr_core::chan`.
//!
//! A `gr_chan*` is a reference-counted handle in a type-stable pool: `gr_chan_new` makes it
//! with one reference, `gr_chan_retain` adds one, and the `gr_chan_release` that drops the
//! last frees the channel (running its drop function on buffered elements). Operations
//! borrow the channel for their duration: releasing the last reference while another
//! thread still uses the handle is the caller's bug, as with `free`.

use crate::boundary::*;
use crate::cancel::{cancel_opt, gr_cancel};
use crate::handle::{impl_handle, Handle};
use crate::status::gr_status::{GR_ECLOSED, GR_EPANIC, GR_OK};
use gr_core::chan::{self, Case, Chan, ElemDrop, Op, Timer};
use std::sync::Arc;
use gr_core::{sched, Deadline, Error, TimeoutNs};
use std::ffi::{c_int, c_void};
use std::sync::atomic::AtomicUsize;
use std::sync::atomic::Ordering::{AcqRel, Relaxed};

/// A channel of fixed-size elements, copied in and out. Reference counted.
pub struct gr_chan {
    _private: [u8; 0],
}

/// The largest channel element, in bytes (64 KiB, as Go refuses element types over 64 kB):
/// elements are copied under the channel's lock, so pass larger values by pointer.
pub const GR_CHAN_ELEM_MAX: usize = 65536;
const _: () = assert!(GR_CHAN_ELEM_MAX == gr_core::chan::ELEM_MAX);

/// Releases what one element owns; called with a pointer to the element's bytes and the
/// `ctx` given to `gr_chan_new_with_drop`, for each element still buffered when the channel
/// is freed.
pub type gr_drop_fn = Option<unsafe extern "C" fn(elem: *mut c_void, ctx: *mut c_void)>;

/// Direction of a `gr_select` case.
#[repr(C)]
pub enum gr_op {
    /// Send `*elem` on `chan`.
    GR_SEND = 1,
    /// Receive from `chan` into `*elem` (`elem` may be NULL to discard the value).
    GR_RECV = 2,
}

/// One case of `gr_select`. `chan` NULL never fires (Go's nil channel). `status` is written
/// for the chosen case only: `GR_OK`, or `GR_ECLOSED` (a receive then zeroed `*elem`; a send
/// kept its value).
#[repr(C)]
pub struct gr_case {
    /// The channel, or NULL for a case that never fires.
    pub chan: *mut gr_chan,
    /// `GR_SEND` or `GR_RECV`.
    pub op: gr_op,
    /// The element: source of a send (required), destination of a receive (NULL discards).
    pub elem: *mut c_void,
    /// Out: the chosen case's status.
    pub status: c_int,
}

/// What a `gr_chan` handle owns: a channel of its own, a timer's (stopped when the last
/// reference goes: `gr_after`), or one shared with a context (its `done` channel). (The
/// channel is inline, not boxed: the common case costs no second allocation and no extra
/// indirection per operation; every pool slot has the size of the largest variant anyway.)
#[allow(clippy::large_enum_variant)]
pub(crate) enum ChanBox {
    Own(Chan),
    Timer(Timer),
    Shared(Arc<Chan>),
}

impl ChanBox {
    #[inline]
    fn chan(&self) -> &Chan {
        match self {
            ChanBox::Own(c) => c,
            ChanBox::Timer(t) => t.chan(),
            ChanBox::Shared(c) => c,
        }
    }
}

/// What a `gr_chan` handle points to: the channel and its reference count.
pub(crate) struct ChanSlot {
    refs: AtomicUsize,
    chan: ChanBox,
}

impl ChanSlot {
    /// The timer behind a timer's channel handle (`gr_timer`, `gr_ticker`).
    pub(crate) fn timer(&self) -> Option<&Timer> {
        match &self.chan {
            ChanBox::Timer(t) => Some(t),
            _ => None,
        }
    }
}

impl_handle!(gr_chan => ChanSlot);

/// A new handle (one reference) to `c`, of the runtime of generation `gen` (`handle.rs`).
pub(crate) fn new_chan_handle(c: ChanBox, gen: u64) -> *mut gr_chan {
    gr_chan::alloc(ChanSlot { refs: AtomicUsize::new(1), chan: c }, gen)
}

/// The channel behind a handle; `Invalid` for NULL or a released handle.
///
/// # Safety
/// As for [`Handle::get`].
#[inline]
pub(crate) unsafe fn chan_of<'a>(ch: *const gr_chan) -> Result<&'a Chan, Error> {
    // SAFETY: the caller's contract.
    unsafe { gr_chan::get(ch) }.map(|s| s.chan.chan())
}

/// The channel behind a live handle (for `port.rs`, which holds a reference).
///
/// # Safety
/// `ch` is a live gr_chan on which the caller holds a reference for as long as it uses the
/// result.
pub(crate) unsafe fn chan_ref<'a>(ch: *const gr_chan) -> &'a Chan {
    // SAFETY: the caller's contract: a live handle.
    unsafe { chan_of(ch) }.unwrap_or_else(|_| gr_core::fatal("a retained channel handle is invalid"))
}

/// # Safety
/// `out` is NULL or writable.
unsafe fn new_common(elem_size: usize, capacity: usize, drop: Option<ElemDrop>, out: *mut *mut gr_chan) -> Result<(), Error> {
    nonnull(out)?;
    let gen = sched::current_gen()?;
    gr_core::waiter::register_thread(); // the deadlock report watches threads that make channels
    let c = Chan::with_drop(elem_size, capacity, drop)?;
    let h = new_chan_handle(ChanBox::Own(c), gen);
    // SAFETY: `out` is non-NULL, hence writable (our contract).
    unsafe { out.write(h) };
    Ok(())
}

/// Creates a channel of `elem_size`-byte elements (`GR_EINVAL` for 0 or above
/// `GR_CHAN_ELEM_MAX`) holding up to `capacity` buffered elements (0: unbuffered, every send
/// meets a receive; `GR_ENOMEM` if the buffer cannot be had). `*out` gets the handle with one
/// reference.
#[no_mangle]
pub unsafe extern "C" fn gr_chan_new(elem_size: usize, capacity: usize, out: *mut *mut gr_chan) -> c_int {
    // SAFETY: `out` is NULL or writable (gr.h).
    guard(move || unsafe { new_common(elem_size, capacity, None, out) })
}

/// `gr_chan_new` for elements that own something (a `PyObject*`, a JNI global reference):
/// when the channel is freed, `drop(elem, ctx)` runs on each element still buffered. `drop`
/// may be NULL (then this is `gr_chan_new`). It runs on whichever thread releases the last
/// reference, with no runtime lock held.
#[no_mangle]
pub unsafe extern "C" fn gr_chan_new_with_drop(elem_size: usize, capacity: usize, drop: gr_drop_fn, ctx: *mut c_void, out: *mut *mut gr_chan) -> c_int {
    // SAFETY: `out` is NULL or writable (gr.h).
    guard(move || unsafe { new_common(elem_size, capacity, drop.map(|f| ElemDrop { f, ctx }), out) })
}

/// Sends the `elem_size` bytes at `elem`: hands them to a waiting receiver, buffers them, or
/// waits up to `timeout_ns`. `GR_ECLOSED` if the channel is (or gets) closed,
/// `GR_ETIMEDOUT`, `GR_EAGAIN` (timeout 0, would block): on every failure the value stays
/// with the caller.
#[no_mangle]
pub unsafe extern "C" fn gr_chan_send(ch: *mut gr_chan, elem: *const c_void, timeout_ns: i64) -> c_int {
    // SAFETY: the same arguments, and no cancel token.
    unsafe { gr_chan_send_ex(ch, elem, timeout_ns, std::ptr::null_mut()) }
}

/// `gr_chan_send` that also ends with `GR_ECANCELED` when `cancel` (may be NULL) fires.
#[no_mangle]
pub unsafe extern "C" fn gr_chan_send_ex(ch: *mut gr_chan, elem: *const c_void, timeout_ns: i64, cancel: *mut gr_cancel) -> c_int {
    guard(move || {
        // SAFETY: handle arguments are NULL or handles of their type (gr.h).
        let (c, cancel) = unsafe { (chan_of(ch)?, cancel_opt(cancel)?) };
        nonnull(elem)?;
        // SAFETY: `elem` is non-NULL and readable for the channel's element size (gr.h).
        unsafe { c.send(elem.cast(), TimeoutNs(timeout_ns), cancel) }
    })
}

/// Receives one element into the `elem_size` bytes at `elem`, waiting up to `timeout_ns`.
/// Buffered elements are still received after a close; once the channel is closed and
/// drained this returns `GR_ECLOSED` with `*elem` zeroed. `GR_ETIMEDOUT`/`GR_EAGAIN` leave
/// `*elem` untouched.
#[no_mangle]
pub unsafe extern "C" fn gr_chan_recv(ch: *mut gr_chan, elem: *mut c_void, timeout_ns: i64) -> c_int {
    // SAFETY: the same arguments, and no cancel token.
    unsafe { gr_chan_recv_ex(ch, elem, timeout_ns, std::ptr::null_mut()) }
}

/// `gr_chan_recv` that also ends with `GR_ECANCELED` when `cancel` (may be NULL) fires.
#[no_mangle]
pub unsafe extern "C" fn gr_chan_recv_ex(ch: *mut gr_chan, elem: *mut c_void, timeout_ns: i64, cancel: *mut gr_cancel) -> c_int {
    guard(move || {
        // SAFETY: handle arguments are NULL or handles of their type (gr.h).
        let (c, cancel) = unsafe { (chan_of(ch)?, cancel_opt(cancel)?) };
        nonnull(elem)?;
        // SAFETY: `elem` is non-NULL and writable for the channel's element size (gr.h).
        unsafe { c.recv(elem.cast(), TimeoutNs(timeout_ns), cancel) }
    })
}

/// Closes the channel: waiting and later senders get `GR_ECLOSED` (keeping their value);
/// receivers drain what is buffered, then get `GR_ECLOSED`. Closing again: `GR_ECLOSED`.
#[no_mangle]
pub unsafe extern "C" fn gr_chan_close(ch: *mut gr_chan) -> c_int {
    guard(move || {
        // SAFETY: `ch` is NULL or a gr_chan (gr.h).
        let c = unsafe { chan_of(ch) }?;
        c.close()
    })
}

/// Elements buffered now (0 for an invalid handle).
#[no_mangle]
pub unsafe extern "C" fn gr_chan_len(ch: *const gr_chan) -> usize {
    // SAFETY: `ch` is NULL or a gr_chan (gr.h).
    guard_value(0, move || unsafe { chan_of(ch) }.map_or(0, |c| c.len()))
}

/// The capacity given at creation (0 for an unbuffered channel or an invalid handle).
#[no_mangle]
pub unsafe extern "C" fn gr_chan_cap(ch: *const gr_chan) -> usize {
    // SAFETY: `ch` is NULL or a gr_chan (gr.h).
    guard_value(0, move || unsafe { chan_of(ch) }.map_or(0, |c| c.cap()))
}

/// Adds a reference; returns `ch` (NULL for an invalid handle). Each reference is given
/// back with one `gr_chan_release`.
#[no_mangle]
pub unsafe extern "C" fn gr_chan_retain(ch: *mut gr_chan) -> *mut gr_chan {
    // SAFETY: `ch` is NULL or a gr_chan (gr.h).
    guard_value(std::ptr::null_mut(), move || match unsafe { gr_chan::get(ch) } {
        Ok(s) => {
            s.refs.fetch_add(1, Relaxed);
            ch
        }
        Err(_) => std::ptr::null_mut(),
    })
}

/// Drops a reference; the last one frees the channel (goroutines still blocked on it are
/// never woken). NULL and released handles are ignored.
#[no_mangle]
pub unsafe extern "C" fn gr_chan_release(ch: *mut gr_chan) {
    let _ = guard(move || {
        // SAFETY: `ch` is NULL or a gr_chan (gr.h). Of any runtime: a release always frees.
        let (s, _) = unsafe { gr_chan::get_any(ch) }?;
        if s.refs.fetch_sub(1, AcqRel) == 1 {
            // SAFETY: that was the last reference: nobody else may use the handle now.
            unsafe { gr_chan::free(ch) };
        }
        Ok(())
    });
}

/// Waits until one of `ncases` channel operations can proceed and performs exactly that one
/// (see the header's select notes). Returns the chosen case's index (its `status` says
/// `GR_OK` or `GR_ECLOSED`), `GR_EAGAIN` when `timeout_ns == 0` and no case is ready (Go's
/// `default`), `GR_ETIMEDOUT`, or `GR_EINVAL` (NULL `cases` with `ncases > 0`, a bad `op`, a
/// released channel, a send without `elem`). Ready cases are chosen uniformly at random; a
/// channel may appear in several cases.
#[no_mangle]
pub unsafe extern "C" fn gr_select(cases: *mut gr_case, ncases: usize, timeout_ns: i64) -> c_int {
    // SAFETY: the same arguments, and no cancel token.
    unsafe { gr_select_ex(cases, ncases, timeout_ns, std::ptr::null_mut()) }
}

/// `gr_select` that also ends with `GR_ECANCELED` when `cancel` (may be NULL) fires.
#[no_mangle]
pub unsafe extern "C" fn gr_select_ex(cases: *mut gr_case, ncases: usize, timeout_ns: i64, cancel: *mut gr_cancel) -> c_int {
    // SAFETY: the export's contract is `select_impl`'s.
    guard_value(GR_EPANIC.code(), move || match unsafe { select_impl(cases, ncases, timeout_ns, cancel) } {
        Ok(i) => i,
        Err(e) => code(e),
    })
}

const STACK_CASES: usize = 8;

/// # Safety
/// `cases` is NULL (with `ncases == 0`) or points to `ncases` cases, each with a NULL or
/// valid channel handle and an element as `gr_select` documents; `cancel` is NULL or a
/// gr_cancel.
unsafe fn select_impl(cases: *mut gr_case, ncases: usize, timeout_ns: i64, cancel: *mut gr_cancel) -> Result<c_int, Error> {
    if ncases > c_int::MAX as usize || (cases.is_null() && ncases > 0) {
        return Err(Error::Invalid);
    }
    // SAFETY: `cancel` is NULL or a gr_cancel (our contract).
    let cancel = unsafe { cancel_opt(cancel) }?;
    sched::current_gen()?; // a select without channels still waits: it needs a runtime
    let none = Case { chan: None, op: Op::Recv, elem: std::ptr::null_mut() };
    let mut stack: [Case<'_>; STACK_CASES] = [none; STACK_CASES];
    let mut heap: Vec<Case<'_>> = Vec::new();
    #[allow(clippy::needless_range_loop)] // `i` indexes the C array and one of two lists
    for i in 0..ncases {
        // SAFETY: `cases` holds `ncases` cases (our contract), so case `i` is in bounds.
        let c = unsafe { cases.add(i) };
        // Read the op as a plain int: C may pass any value, which would be UB as a `gr_op`.
        // SAFETY: `c` points to a readable case; its `op` field is an int in the C layout.
        let op = match unsafe { std::ptr::addr_of!((*c).op).cast::<c_int>().read() } {
            1 => Op::Send,
            2 => Op::Recv,
            _ => return Err(Error::Invalid),
        };
        // SAFETY: as above, plain reads of the case's fields.
        let (ch, elem) = unsafe { ((*c).chan, (*c).elem as *mut u8) };
        let chan = if ch.is_null() {
            None
        } else {
            if op == Op::Send && elem.is_null() {
                return Err(Error::Invalid);
            }
            // SAFETY: a non-NULL case channel is a gr_chan (our contract).
            Some(unsafe { chan_of(ch) }?)
        };
        let case = Case { chan, op, elem };
        if ncases <= STACK_CASES {
            stack[i] = case;
        } else {
            heap.push(case);
        }
    }
    let list: &[Case<'_>] = if ncases <= STACK_CASES { &stack[..ncases] } else { &heap };
    // SAFETY: each case's element is valid for its channel's element size (our contract).
    let r = unsafe { chan::select(list, Deadline::from_timeout_ns(timeout_ns), cancel) }?;
    // SAFETY: `r.index < ncases`: the chosen case, writable (our contract).
    unsafe { (*cases.add(r.index)).status = if r.closed { GR_ECLOSED } else { GR_OK }.code() };
    Ok(r.index as c_int)
}
