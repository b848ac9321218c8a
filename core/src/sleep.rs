//! `gr_sleep`: a wait that only a deadline (or a cancel token) ends.
#![forbid(unsafe_code)]

use crate::error::{Error, Result};
use crate::sched::{current_gen, yield_now};
use crate::waiter::Deadline;

/// `gr_sleep`/`gr_sleep_ex`: `ns` as any `timeout_ns` (`Deadline::from_timeout_ns`): a
/// poll (0, or negative other than `GR_FOREVER`) yields; `GR_FOREVER` sleeps until `cancel`
/// fires (without one, for good).
pub fn sleep(ns: i64, cancel: Option<&crate::cancel::Cancel>) -> Result<()> {
    let deadline = Deadline::from_timeout_ns(ns);
    if deadline == Deadline::Poll {
        if cancel.is_some_and(|c| c.is_fired()) {
            return Err(Error::Cancelled);
        }
        yield_now();
        return Ok(());
    }
    current_gen()?;
    let tok = crate::waiter::prepare(crate::waitreason::WaitReason::new(crate::waitreason::kind::SLEEP, 0));
    match crate::waiter::block(&tok, deadline, cancel) {
        crate::waiter::TIMEOUT => Ok(()),
        r => Err(crate::waiter::error_of(r, deadline)),
    }
}
