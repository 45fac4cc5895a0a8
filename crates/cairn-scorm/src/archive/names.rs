//! Entry names: decoding them from zip bytes and turning them into safe relative paths.
//!
//! A zip entry name is attacker-controlled text. Before anything else looks at it, it is
//! decoded, its backslashes become slashes, and it is refused when it could point outside the
//! folder the package is unpacked into (`..`, `/abs`, `C:`) or is unreasonably long or deep.

use std::fmt;

/// Why an entry name was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PathProblem {
    /// A `..` component, which would climb out of the package folder ("zip slip").
    ParentComponent,
    /// Starts with `/` (or `\`), so it names a place on the server instead of in the package.
    Absolute,
    /// Starts with a Windows drive letter such as `C:`.
    DriveLetter,
    /// Contains a NUL or another control character.
    ControlCharacter,
    /// Longer than `Limits::max_path_bytes`.
    TooLong,
    /// More folders deep than `Limits::max_path_depth`.
    TooDeep,
}

impl fmt::Display for PathProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let text = match self {
            PathProblem::ParentComponent => "it contains a `..` component that climbs out of the package",
            PathProblem::Absolute => "it is an absolute path",
            PathProblem::DriveLetter => "it starts with a Windows drive letter",
            PathProblem::ControlCharacter => "it contains a control character",
            PathProblem::TooLong => "it is too long",
            PathProblem::TooDeep => "it is nested too deeply",
        };
        f.write_str(text)
    }
}

/// Picks the text of an entry name from its raw bytes and the zip library's decoding.
///
/// The zip library decodes names without the UTF-8 flag as CP437, as the format says. Many
/// tools (macOS Archive Utility, older 7-Zip, Java) write UTF-8 names without setting the flag,
/// and bytes that form valid multi-byte UTF-8 are very unlikely to be meant as CP437, so valid
/// UTF-8 wins and CP437 is the fallback.
pub fn decode_name(raw: &[u8], library_decoded: &str) -> String {
    match std::str::from_utf8(raw) {
        Ok(text) => text.to_owned(),
        Err(_) => library_decoded.to_owned(),
    }
}

/// A safe, normalised entry name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NormalisedName {
    /// Relative, `/`-separated, without `.` or empty components and without a trailing `/`.
    pub path: String,
    pub is_dir: bool,
}

/// Normalises one decoded entry name, or says why it is unsafe.
///
/// Returns `Ok(None)` for names that reduce to nothing (such as `./`), which name the package
/// folder itself and can be skipped.
pub fn normalise(name: &str, max_bytes: usize, max_depth: usize) -> Result<Option<NormalisedName>, PathProblem> {
    if name.chars().any(char::is_control) {
        return Err(PathProblem::ControlCharacter);
    }
    // Windows tools write `\` as the separator; treating it as one is also what makes
    // `..\evil` visible as a traversal.
    let name = name.replace('\\', "/");
    if name.starts_with('/') {
        return Err(PathProblem::Absolute);
    }
    let bytes = name.as_bytes();
    if bytes.len() >= 2 && bytes[0].is_ascii_alphabetic() && bytes[1] == b':' {
        return Err(PathProblem::DriveLetter);
    }
    let is_dir = name.ends_with('/');
    let mut components = Vec::new();
    for component in name.split('/') {
        match component {
            "" | "." => {}
            ".." => return Err(PathProblem::ParentComponent),
            other => components.push(other),
        }
    }
    if components.is_empty() {
        return Ok(None);
    }
    let path = components.join("/");
    if path.len() > max_bytes {
        return Err(PathProblem::TooLong);
    }
    if components.len() > max_depth {
        return Err(PathProblem::TooDeep);
    }
    Ok(Some(NormalisedName { path, is_dir }))
}

/// The key under which two names collide on a case-insensitive file system.
pub fn case_key(path: &str) -> String {
    path.to_lowercase()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_normalised_or_refused() {
        use PathProblem::*;
        let ok = |path: &str, is_dir: bool| Ok(Some(NormalisedName { path: path.to_owned(), is_dir }));
        let cases: Vec<(&str, Result<Option<NormalisedName>, PathProblem>)> = vec![
            ("imsmanifest.xml", ok("imsmanifest.xml", false)),
            ("shared/launch.html", ok("shared/launch.html", false)),
            ("shared\\launch.html", ok("shared/launch.html", false)),
            ("./a//b.html", ok("a/b.html", false)),
            ("folder/", ok("folder", true)),
            ("my file.html", ok("my file.html", false)),
            ("./", Ok(None)),
            ("../evil", Err(ParentComponent)),
            ("a/../../evil", Err(ParentComponent)),
            ("a\\..\\..\\evil", Err(ParentComponent)),
            ("/etc/passwd", Err(Absolute)),
            ("\\abs", Err(Absolute)),
            ("C:\\x", Err(DriveLetter)),
            ("c:x", Err(DriveLetter)),
            ("a\0b", Err(ControlCharacter)),
            ("a\nb", Err(ControlCharacter)),
            ("a/b/c/d/e", Err(TooDeep)),
            ("abcdefghijklmnopqrstuvwxyz", Err(TooLong)),
        ];
        for (name, expected) in cases {
            assert_eq!(normalise(name, 20, 4), expected, "name {name:?}");
        }
    }

    #[test]
    fn utf8_names_win_over_cp437() {
        let cases: [(&[u8], &str, &str); 3] = [
            (b"plain.html", "plain.html", "plain.html"),
            ("caf\u{e9}.html".as_bytes(), "cafΓ⌐.html", "caf\u{e9}.html"),
            (b"caf\x82.html", "caf\u{e9}.html", "caf\u{e9}.html"),
        ];
        for (raw, library, expected) in cases {
            assert_eq!(decode_name(raw, library), expected);
        }
    }
}
