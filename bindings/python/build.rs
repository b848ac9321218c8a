//! Builds libgr.so.0 from the gr workspace this crate lives in (the repository, or the sdist,
//! which carries `core/` and `ffi/`), puts it in OUT_DIR, where pyproject.toml's `include`
//! takes it into the wheel beside the extension, and links the extension against it
//! dynamically (never a static copy: one runtime per process). The extension finds it through
//! RUNPATH `$ORIGIN`; a C library linked with `-lgr` loaded into the same process binds to the
//! same `libgr.so.0`, which the loader already has by that soname.
use std::env;
use std::path::{Path, PathBuf};
use std::process::Command;

fn main() {
    pyo3_build_config::use_pyo3_cfgs();
    let manifest_dir = PathBuf::from(env::var_os("CARGO_MANIFEST_DIR").expect("CARGO_MANIFEST_DIR"));
    let out_dir = PathBuf::from(env::var_os("OUT_DIR").expect("OUT_DIR"));
    let root = manifest_dir.join("../..");
    let root = root.canonicalize().unwrap_or(root);
    if !root.join("ffi/Cargo.toml").is_file() {
        panic!(
            "gr's sources (ffi/, core/) are not at {}: build this package from the gr repository \
             (pip install ./bindings/python) or from its sdist",
            root.display()
        );
    }
    for p in ["Cargo.toml", "Cargo.lock", "core", "ffi"] {
        println!("cargo:rerun-if-changed={}", root.join(p).display());
    }
    let lib = build_libgr(&root, &out_dir);
    let dest = out_dir.join("libgr.so.0");
    let tmp = out_dir.join("libgr.so.0.tmp");
    std::fs::copy(&lib, &tmp).unwrap_or_else(|e| panic!("copying {}: {e}", lib.display()));
    std::fs::rename(&tmp, &dest).unwrap_or_else(|e| panic!("renaming {}: {e}", tmp.display()));
    println!("cargo:rustc-link-search=native={}", out_dir.display());
    println!("cargo:rustc-link-lib=dylib:+verbatim=libgr.so.0");
    println!("cargo:rustc-link-arg=-Wl,-rpath,$ORIGIN");
}

/// `cargo build --release -p gr-ffi` in the gr workspace, into a target directory of its own
/// under OUT_DIR (the outer build holds the lock of the workspace's one). It shares the outer
/// build's jobserver (CARGO_MAKEFLAGS) and rustflags, and builds for the same target.
fn build_libgr(root: &Path, out_dir: &Path) -> PathBuf {
    let cargo = env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let target_dir = out_dir.join("libgr-target");
    let mut cmd = Command::new(cargo);
    cmd.current_dir(root)
        .args(["build", "--release", "-p", "gr-ffi", "--manifest-path"])
        .arg(root.join("Cargo.toml"))
        .arg("--target-dir")
        .arg(&target_dir)
        // The wheel's copy: no debug info (the symbol table stays, for backtraces).
        .env("CARGO_PROFILE_RELEASE_DEBUG", "0")
        .env("CARGO_PROFILE_RELEASE_STRIP", "debuginfo");
    let target = env::var("TARGET").expect("TARGET");
    let cross = env::var("HOST").ok().as_deref() != Some(target.as_str());
    if cross {
        cmd.args(["--target", &target]);
    }
    // Its stdout would be read as build-script directives: send it to stderr.
    cmd.stdout(std::io::stderr());
    let status = cmd.status().unwrap_or_else(|e| panic!("running cargo to build libgr: {e}"));
    if !status.success() {
        panic!("building libgr.so.0 (cargo build --release -p gr-ffi in {}) failed: {status}", root.display());
    }
    let mut lib = target_dir;
    if cross {
        lib.push(&target);
    }
    lib.join("release/libgr.so")
}
