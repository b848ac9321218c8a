fn main() {
    // The soname the C world links against; bump the major only on ABI breaks.
    println!("cargo:rustc-cdylib-link-arg=-Wl,-soname,libgr.so.0");
    println!("cargo:rerun-if-changed=build.rs");
}
