//! The status table against the header: every `gr_status` code in `include/gr.h` has its
//! `gr_strerror` text and round-trips through `gr_status`, and no code exists only in Rust.
//! (The header itself is checked against a fresh cbindgen run by `make check-header`.)

use gr::{gr_status, gr_strerror};
use std::ffi::CStr;

/// `(name, value)` of every enumerator of `enum gr_status` in `include/gr.h`.
fn header_statuses() -> Vec<(String, i32)> {
    let h = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../include/gr.h")).expect("include/gr.h");
    let body = h.split("typedef enum gr_status {").nth(1).expect("enum gr_status in gr.h");
    let body = body.split("} gr_status;").next().expect("end of enum gr_status");
    body.lines()
        .map(str::trim)
        .filter(|l| l.starts_with("GR_"))
        .map(|l| {
            let (name, value) = l.trim_end_matches(',').split_once(" = ").expect("NAME = value");
            (name.to_owned(), value.parse().expect("an integer value"))
        })
        .collect()
}

#[test]
fn every_header_status_has_its_text() {
    let codes = header_statuses();
    assert!(codes.len() >= 9, "parsed {codes:?}");
    // SAFETY: gr_strerror returns a static NUL-terminated string for any code.
    let unknown = unsafe { CStr::from_ptr(gr_strerror(i32::MIN)) };
    for (name, value) in &codes {
        let s = gr_status::from_code(*value).unwrap_or_else(|| panic!("{name} = {value} is not in gr_status::ALL"));
        assert_eq!(s.code(), *value);
        assert_eq!(format!("{s:?}"), *name);
        // SAFETY: gr_strerror returns a static NUL-terminated string for any code.
        let text = unsafe { CStr::from_ptr(gr_strerror(*value)) };
        assert_ne!(text, unknown, "{name} has no gr_strerror text");
        assert!(!text.to_bytes().is_empty());
    }
    // Nothing beyond the header: the codes just below and above are unknown.
    let lowest = codes.iter().map(|c| c.1).min().unwrap();
    assert!(gr_status::from_code(lowest - 1).is_none());
    assert!(gr_status::from_code(1).is_none());
}
