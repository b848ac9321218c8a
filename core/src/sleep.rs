//! `gr_sleep`: a wait that only a deadline (or a cancel token) ends.
#![forbid(unsafe_code)]

use crate::error::{Error, Result};
use crate::sched::{runtime, yield_now};

/// `gr_sleep`/`gr_sleep_ex`.
pub fn sleep(ns: i64, cancel: Option<&crate::cancel::Cancel>) -> Result<()> {
    if ns <= 0 {
        if cancel.is_some_and(|c| c.is_fired()) {
            return Err(Error::Cancelled);
        }
        yield_now();
        return Ok(());
    }
    runtime()?;
    let tok = crate::waiter::prepare(crate::waitreason::WaitReason::new(crate::waitreason::kind::SLEEP, 0));
    let deadline = crate::waiter::Deadline::from_timeout_ns(ns);
    match crate::waiter::block(&tok, deadline, cancel) {
        crate::waiter::TIMEOUT => Ok(()),
        r => Err(crate::waiter::error_of(r, deadline)),
    }
}
