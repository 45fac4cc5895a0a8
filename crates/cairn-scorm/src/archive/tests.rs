//! Tests for the archive checks, on zips built in memory.

use super::*;
use std::io::Cursor;
use zip::write::SimpleFileOptions;

/// One entry of a test zip.
enum Entry<'a> {
    File(&'a str, Vec<u8>),
    Stored(&'a str, Vec<u8>),
    Dir(&'a str),
    Symlink(&'a str, &'a str),
    Encrypted(&'a str, &'a [u8]),
}

fn build(entries: Vec<Entry<'_>>) -> Vec<u8> {
    use zip::unstable::write::FileOptionsExt;
    let mut writer = zip::ZipWriter::new(Cursor::new(Vec::new()));
    let deflated = SimpleFileOptions::default().compression_method(CompressionMethod::Deflated);
    let stored = SimpleFileOptions::default().compression_method(CompressionMethod::Stored);
    for entry in entries {
        match entry {
            Entry::File(name, data) => {
                writer.start_file(name, deflated).unwrap();
                writer.write_all(&data).unwrap();
            }
            Entry::Stored(name, data) => {
                writer.start_file(name, stored).unwrap();
                writer.write_all(&data).unwrap();
            }
            Entry::Dir(name) => writer.add_directory(name, deflated).unwrap(),
            Entry::Symlink(name, target) => writer.add_symlink(name, target, deflated).unwrap(),
            Entry::Encrypted(name, data) => {
                writer.start_file(name, stored.with_deprecated_encryption(b"secret")).unwrap();
                writer.write_all(data).unwrap();
            }
        }
    }
    writer.finish().unwrap().into_inner()
}

fn open(bytes: Vec<u8>, limits: &Limits) -> Result<PackageArchive<Cursor<Vec<u8>>>, ArchiveError> {
    PackageArchive::open(Cursor::new(bytes), limits)
}

fn file(name: &str) -> Entry<'_> {
    Entry::File(name, b"<html></html>".to_vec())
}

#[test]
fn hostile_archives_are_refused_with_a_stable_code() {
    let small = Limits { max_entries: 3, max_total_uncompressed_bytes: 10 * MIB, ..Limits::default() };
    let deep = format!("{}x.html", "d/".repeat(40));
    let cases: Vec<(&str, Vec<Entry<'_>>, &str)> = vec![
        ("zip slip", vec![file("../evil.html")], "path_traversal"),
        ("nested zip slip", vec![file("a/../../evil.html")], "path_traversal"),
        ("backslash slip", vec![file("a\\..\\..\\evil.html")], "path_traversal"),
        ("absolute", vec![file("/abs.html")], "absolute_path"),
        ("drive letter", vec![file("C:\\x.html")], "drive_letter_path"),
        ("symlink", vec![Entry::Symlink("link", "/etc/passwd")], "symlink_entry"),
        ("encrypted", vec![Entry::Encrypted("secret.html", b"hidden")], "encrypted_entry"),
        ("case collision", vec![file("Index.html"), file("index.html")], "case_collision"),
        ("too many entries", vec![file("a"), file("b"), file("c"), file("d")], "too_many_entries"),
        ("zip bomb", vec![Entry::File("bomb.html", vec![b' '; 4 * MIB as usize])], "compression_ratio"),
        ("too large", vec![Entry::Stored("big.bin", vec![7; 11 * MIB as usize])], "archive_too_large"),
        ("too deep", vec![file(&deep)], "path_too_deep"),
    ];
    for (what, entries, code) in cases {
        let error = open(build(entries), &small).expect_err(what);
        assert_eq!(error.code(), code, "{what}: {error}");
    }
}

#[test]
fn a_name_listed_twice_is_refused_even_though_the_zip_library_hides_it() {
    // Build two distinct names, then give the second the first one's name in every header.
    let mut bytes = build(vec![file("a.html"), file("b.html")]);
    let mut position = 0;
    while let Some(found) = bytes[position..].windows(6).position(|w| w == b"b.html") {
        bytes[position + found] = b'a';
        position += found + 6;
    }
    let error = open(bytes, &Limits::default()).expect_err("duplicate");
    assert_eq!(error.code(), "duplicate_entry");
}

#[test]
fn safe_archives_are_listed_normalised() {
    let bytes = build(vec![
        Entry::Dir("shared/"),
        file("shared\\launch.html"),
        file("my file.html"),
        // Small highly compressible files are under the ratio threshold and fine.
        Entry::File("blank.css", vec![b' '; 100_000]),
    ]);
    let archive = open(bytes, &Limits::default()).unwrap();
    let listed: Vec<(&str, bool)> = archive.entries().iter().map(|entry| (entry.path.as_str(), entry.is_dir)).collect();
    assert_eq!(
        listed,
        vec![("shared", true), ("shared/launch.html", false), ("my file.html", false), ("blank.css", false),]
    );
    assert!(archive.contains("shared/launch.html"));
    assert!(!archive.contains("Shared/Launch.html"));
    assert_eq!(archive.find_ignoring_case("Shared/Launch.html").map(|e| e.path.as_str()), Some("shared/launch.html"));
}

#[test]
fn reading_streams_and_enforces_limits() {
    let bytes =
        build(vec![Entry::File("imsmanifest.xml", b"<manifest/>".to_vec()), Entry::File("big.xml", vec![b'x'; 5000])]);
    let mut archive = open(bytes, &Limits::default()).unwrap();
    assert_eq!(archive.read_small("imsmanifest.xml", 100).unwrap(), b"<manifest/>");
    assert_eq!(archive.read_small("big.xml", 100).unwrap_err().code(), "entry_too_large");
    assert_eq!(archive.read_small("missing.xml", 100).unwrap_err().code(), "entry_not_found");
    let index = archive.entry("big.xml").unwrap().index;
    let mut out = Vec::new();
    assert_eq!(archive.copy_entry(index, &mut out).unwrap(), 5000);
    assert_eq!(out.len(), 5000);
}

#[test]
fn an_entry_that_lies_about_its_size_is_stopped() {
    // A deflated entry whose declared size is patched down from 3 MiB to 2 MiB + 1: the
    // central directory check passes, and reading must stop once the real bytes exceed it.
    let size = 3 * MIB as usize;
    let data: Vec<u8> = (0..size).map(|i| (i * 7 % 251) as u8).collect();
    let mut bytes = build(vec![Entry::File("lie.bin", data)]);
    let real = (size as u32).to_le_bytes();
    let fake = (2 * MIB as u32 + 1).to_le_bytes();
    let mut patched = 0;
    let mut at = 0;
    while let Some(found) = bytes[at..].windows(4).position(|w| w == real) {
        bytes[at + found..at + found + 4].copy_from_slice(&fake);
        at += found + 4;
        patched += 1;
    }
    assert!(patched >= 2, "the test zip should carry the size in two headers");
    let mut archive = open(bytes, &Limits::default()).unwrap();
    let index = archive.entries()[0].index;
    let mut out = Vec::new();
    let error = archive.copy_entry(index, &mut out).unwrap_err();
    assert_eq!(error.code(), "entry_size_mismatch", "{error}");
    assert!(out.len() as u64 <= 2 * MIB + 1);
}

#[test]
fn garbage_is_not_a_zip() {
    for bytes in [Vec::new(), b"PK\x03\x04garbage".to_vec(), vec![0u8; 100]] {
        assert_eq!(open(bytes, &Limits::default()).unwrap_err().code(), "not_a_zip");
    }
}
