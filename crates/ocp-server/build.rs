// The console's build is embedded (release) or read from the source tree (debug) by
// rust-embed, which decides at compile time whether it exists: build again when it changes.
fn main() {
    println!("cargo:rerun-if-changed=../../console/dist");
}
