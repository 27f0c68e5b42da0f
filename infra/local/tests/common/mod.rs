//! Shared set-up for the local stack's own integration tests.

#![allow(dead_code)]

use std::path::PathBuf;

use local_stack::{find_workspace_root, Emulator, StackOptions};

/// Options for a private stack, or `None` (with a message) when the emulator
/// is not installed, so `cargo test` passes on a machine without the venv.
pub fn options_or_skip(test: &str) -> Option<StackOptions> {
    let options = StackOptions::for_workspace(find_workspace_root()).quiet();
    if Emulator::is_installed(&options.venv) {
        Some(options)
    } else {
        eprintln!(
            "SKIPPED {test}: {} is missing (run `make venv` to install the emulator)",
            Emulator::binary(&options.venv).display()
        );
        None
    }
}

/// `target/debug/examples`, holding examples/echo.rs freshly built: `cargo
/// test` builds examples but `cargo test --test x` does not, so build it here
/// once per test binary (a no-op when up to date; cargo holds no lock while
/// tests run). `--workspace` keeps the feature set of every other build, so
/// only the example itself is ever compiled here.
pub fn examples_dir() -> PathBuf {
    static BUILT: std::sync::OnceLock<PathBuf> = std::sync::OnceLock::new();
    BUILT
        .get_or_init(|| {
            let exe = std::env::current_exe().expect("test binary path");
            // target/debug/deps/<test> -> target/debug/examples
            let dir =
                exe.parent().and_then(|deps| deps.parent()).map(|debug| debug.join("examples")).expect("target dir");
            let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
            let status = std::process::Command::new(cargo)
                .args(["build", "--workspace", "--example", "echo"])
                .status()
                .expect("cargo build --example echo");
            assert!(status.success(), "building examples/echo.rs failed");
            dir
        })
        .clone()
}

pub fn echo_template() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests").join("fixtures").join("echo.yaml")
}
