//! Fuzz target: arbitrary bytes as `imsmanifest.xml` must give a result, never a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let parsed = cairn_scorm::manifest::parse(data, "");
    // Serialising walks the whole model, so it is part of what must not panic.
    if let Some(package) = parsed.package {
        let _ = serde_json::to_string(&package);
    }
});
