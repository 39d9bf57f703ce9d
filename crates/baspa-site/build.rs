//! Records the compiler's version for the components report (OP-4); the running binary cannot
//! ask for it later.

fn main() {
    let rustc = std::env::var("RUSTC").unwrap_or_else(|_| "rustc".to_owned());
    if let Ok(out) = std::process::Command::new(rustc).arg("--version").output()
        && out.status.success()
    {
        let version = String::from_utf8_lossy(&out.stdout).trim().to_owned();
        println!("cargo:rustc-env=BASPA_RUSTC_VERSION={version}");
    }
    // Cargo rebuilds everything when the compiler changes, so this need not run again otherwise.
    println!("cargo:rerun-if-changed=build.rs");
}
