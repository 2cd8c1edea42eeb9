//! Any text through the parser and checker: diagnostics, never a panic.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let c = warden_check::check_source("fuzz.rule", &text);
    assert_eq!(c.program.is_some(), !c.has_errors());
});
