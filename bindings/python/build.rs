//! Link the extension against the shared runtime, never a static copy of it.
//! `GR_LIBDIR` (set by python.mk) points at build/lib; the wheel carries libgr.so.0 beside
//! the extension, which finds it through RUNPATH `$ORIGIN`.
fn main() {
    pyo3_build_config::use_pyo3_cfgs();
    let libdir = std::env::var("GR_LIBDIR").unwrap_or_else(|_| {
        let manifest = std::env::var("CARGO_MANIFEST_DIR").unwrap();
        format!("{manifest}/../../build/lib")
    });
    println!("cargo:rerun-if-env-changed=GR_LIBDIR");
    println!("cargo:rerun-if-changed={libdir}/libgr.so.0");
    println!("cargo:rustc-link-search=native={libdir}");
    println!("cargo:rustc-link-lib=dylib=gr");
    println!("cargo:rustc-link-arg=-Wl,-rpath,$ORIGIN");
}
