//! Go's `sync.WaitGroup` and `sync.Mutex`, blocking goroutines and plain threads alike
//! through the one waiter (`crate::chan::wait`, i.e. `crate::waiter` outside loom).

pub mod mutex;
pub mod wg;

pub use mutex::Mutex;
pub use wg::WaitGroup;
