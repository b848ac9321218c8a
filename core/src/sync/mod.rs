//! Go's `sync` (WaitGroup, Mutex, RWMutex, Once, Cond) and x/sync's weighted `Semaphore`,
//! blocking goroutines and plain threads alike through the one waiter (`crate::chan::wait`,
//! i.e. `crate::waiter` outside loom), each wait with a deadline and a cancel token.

pub mod cond;
pub mod mutex;
pub mod once;
pub mod rwmutex;
pub mod semaphore;
pub mod wg;

pub use cond::Cond;
pub use mutex::Mutex;
pub use once::{Once, OnceState};
pub use rwmutex::RWMutex;
pub use semaphore::Semaphore;
pub use wg::WaitGroup;
