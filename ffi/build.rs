fn main() {
    // The soname the C world links against; bump the major only on ABI breaks.
    println!("cargo:rustc-cdylib-link-arg=-Wl,-soname,libgr.so.0");
    // A build id, whatever the toolchain's default: `make install` keeps the debug info apart
    // (lib/.debug), and debuggers match it to the stripped library by this id.
    println!("cargo:rustc-cdylib-link-arg=-Wl,--build-id");
    println!("cargo:rerun-if-changed=build.rs");
}
