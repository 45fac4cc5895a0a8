//! Runs the browser run-time's own tests (`node --test frontend/tests/`), which replay the
//! shared vector table in JavaScript, so `cargo test` checks both implementations.
//!
//! Node is optional on a developer machine (the suite notes that it did not run); CI sets
//! `CAIRN_TEST_NODE=1`, and then a missing Node is a failure.

use std::process::Command;

#[test]
fn the_javascript_runtime_passes_its_tests_and_the_shared_vectors() {
    let required = std::env::var("CAIRN_TEST_NODE").is_ok_and(|v| v == "1");
    let version = Command::new("node").arg("--version").output();
    if version.as_ref().map(|o| !o.status.success()).unwrap_or(true) {
        assert!(!required, "CAIRN_TEST_NODE=1 but `node` is not installed (Node 20 or later is needed)");
        cairn_core::testing::note_not_run("javascript: node --test suite", "install Node 20+; .ci/run does");
        return;
    }
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let output =
        Command::new("node").arg("--test").arg("frontend/tests/").current_dir(&root).output().expect("run node --test");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "node --test failed:\n{stdout}\n{}", String::from_utf8_lossy(&output.stderr));
    assert!(stdout.contains("# fail 0"), "{stdout}");
    let passed: u32 =
        stdout.lines().find_map(|l| l.strip_prefix("# pass ")).and_then(|n| n.trim().parse().ok()).unwrap_or(0);
    assert!(passed >= 100, "expected the full JavaScript suite, got {passed} passing tests:\n{stdout}");
}
