//! Fuzz target: arbitrary bytes as a package zip must give an inspection, never a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let inspection =
        cairn_scorm::inspect(std::io::Cursor::new(data), &cairn_scorm::Limits::default());
    let _ = inspection.render_text();
});
