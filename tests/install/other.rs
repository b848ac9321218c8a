//! Another Rust static library, as a C program might link beside libgr.a (tests/install/run.sh).
//! It carries its own copy of the Rust standard library; cargo's unprocessed libgr.a and this
//! one both define rust_eh_personality and std's statics, and the link fails with "multiple
//! definition" errors.
use std::collections::HashMap;
use std::ffi::{c_char, CStr};

/// Counts the distinct words of a NUL-terminated string (std's HashMap and formatting); a
/// NULL string panics inside, and the panic is caught here: -1 (its own unwinder at work).
///
/// # Safety
/// `s` is NULL or a valid NUL-terminated string.
#[no_mangle]
pub unsafe extern "C" fn other_distinct_words(s: *const c_char) -> isize {
    let text = (!s.is_null()).then(|| CStr::from_ptr(s).to_string_lossy().into_owned());
    let counted = std::panic::catch_unwind(|| {
        let mut seen = HashMap::new();
        for w in text.expect("a NULL string").split_whitespace() {
            *seen.entry(format!("{w}")).or_insert(0usize) += 1;
        }
        seen.len() as isize
    });
    counted.unwrap_or(-1)
}
