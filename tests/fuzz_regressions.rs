//! Every input a fuzzing campaign stopped on, kept in `fuzz/regressions/`
//! and run with the fuzz targets' own checks: `validate-*` through the
//! `validate` target's, `settings-*` through the `settings` target's.

use std::path::Path;

use host_gateway_test_support::{check_fuzz_settings, check_fuzz_validate};

#[test]
fn every_input_a_campaign_stopped_on_passes() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/regressions");
    let mut failing = Vec::new();
    let mut count = 0;
    for entry in std::fs::read_dir(&dir).expect("fuzz/regressions is readable") {
        let path = entry.expect("a directory entry").path();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        let data = std::fs::read(&path).expect("a readable input");
        let check = match name.split('-').next() {
            Some("validate") => check_fuzz_validate,
            Some("settings") => check_fuzz_settings,
            _ => panic!("{name}: name it after its target, validate-* or settings-*"),
        };
        count += 1;
        if std::panic::catch_unwind(|| check(&data)).is_err() {
            failing.push(name);
        }
    }
    assert!(count >= 10, "only {count} inputs in {}", dir.display());
    assert!(failing.is_empty(), "failing: {failing:?}");
}
