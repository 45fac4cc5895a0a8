//! Launch URLs: joining `xml:base`, `href` and item `parameters` the way the CAM describes.
//!
//! The launch URL keeps its query and fragment and stays percent-encoded, because that is what
//! the browser must request. The file to look for in the zip is the path part alone, decoded
//! once (`my%20file.html` is the entry `my file.html`) and with `.`/`..` segments resolved.

/// A launch URL and the file it needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Launch {
    /// Relative to the package root (or an absolute URL for external content), with any query
    /// and fragment.
    pub url: String,
    /// The decoded path of the file to serve, relative to the package root; `None` when the
    /// URL points outside the package (`https://…`).
    pub file: Option<String>,
    /// Irregularities that were tolerated, for warnings.
    pub notes: Vec<LaunchNote>,
}

/// Something odd about the URL parts that was tolerated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LaunchNote {
    /// An `xml:base` without the trailing `/` the CAM requires; it was treated as a folder.
    BaseWithoutSlash,
    /// A local `xml:base` or `href` starting with `/`; it was read relative to the package.
    LeadingSlash,
    /// Backslashes were read as `/`.
    Backslash,
}

/// Why no launch URL could be built.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LaunchProblem {
    /// The resource has no `href`.
    NoHref,
    /// `..` segments climb above the package root.
    OutsidePackage,
}

/// Whether `text` is an absolute URL (`https://…`, `//host/…`). A single letter before the
/// colon is a Windows drive, not a scheme.
pub fn is_absolute_url(text: &str) -> bool {
    if text.starts_with("//") {
        return true;
    }
    match text.find(':') {
        Some(colon) if colon >= 2 => {
            let scheme = &text[..colon];
            scheme.starts_with(|c: char| c.is_ascii_alphabetic())
                && scheme.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'))
        }
        _ => false,
    }
}

/// Adds item `parameters` to an href, following the CAM algorithm (Code Illustration 3-32):
/// leading `?` and `&` are dropped; a fragment is appended only when the href has none;
/// anything else is joined with `&` when the href already has a query, else with `?`.
pub fn apply_parameters(href: &str, parameters: &str) -> String {
    let parameters = parameters.trim().trim_start_matches(['?', '&']).trim_start();
    if parameters.is_empty() {
        return href.to_owned();
    }
    if parameters.starts_with('#') {
        return if href.contains('#') { href.to_owned() } else { format!("{href}{parameters}") };
    }
    // A query must come before a fragment, so the parameters go in front of any `#`.
    let (before_fragment, fragment) = match href.find('#') {
        Some(hash) => href.split_at(hash),
        None => (href, ""),
    };
    let separator = if before_fragment.contains('?') { '&' } else { '?' };
    format!("{before_fragment}{separator}{parameters}{fragment}")
}

/// Decodes `%XX` escapes once. Invalid escapes stay as they are; bytes that do not form UTF-8
/// are replaced, since such a name could not be matched anyway.
pub fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            let hex = |b: u8| (b as char).to_digit(16);
            if let (Some(high), Some(low)) = (hex(bytes[i + 1]), hex(bytes[i + 2])) {
                out.push((high * 16 + low) as u8);
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Builds the launch URL from the `xml:base` values of manifest, resources and resource (in
/// that order), the resource `href` and the item `parameters`.
pub fn build(bases: &[Option<&str>], href: Option<&str>, parameters: Option<&str>) -> Result<Launch, LaunchProblem> {
    fn note(n: LaunchNote, notes: &mut Vec<LaunchNote>) {
        if !notes.contains(&n) {
            notes.push(n);
        }
    }
    fn clean(part: &str, notes: &mut Vec<LaunchNote>) -> String {
        if part.contains('\\') {
            note(LaunchNote::Backslash, notes);
        }
        part.trim().replace('\\', "/")
    }
    let mut notes = Vec::new();
    let href = href.map(str::trim).filter(|h| !h.is_empty()).ok_or(LaunchProblem::NoHref)?;
    let mut base = String::new();
    for part in bases.iter().flatten() {
        let mut part = clean(part, &mut notes);
        if part.is_empty() {
            continue;
        }
        if is_absolute_url(&part) {
            base.clear();
        } else if part.starts_with('/') {
            note(LaunchNote::LeadingSlash, &mut notes);
            part = part.trim_start_matches('/').to_owned();
        }
        if !part.is_empty() && !part.ends_with('/') {
            note(LaunchNote::BaseWithoutSlash, &mut notes);
            part.push('/');
        }
        base.push_str(&part);
    }
    let mut href = clean(href, &mut notes);
    let combined = if is_absolute_url(&href) {
        href
    } else {
        if href.starts_with('/') {
            note(LaunchNote::LeadingSlash, &mut notes);
            href = href.trim_start_matches('/').to_owned();
        }
        format!("{base}{href}")
    };
    let url = match parameters {
        Some(parameters) => apply_parameters(&combined, parameters),
        None => combined,
    };
    if is_absolute_url(&url) {
        return Ok(Launch { url, file: None, notes });
    }
    let split = url.find(['?', '#']).unwrap_or(url.len());
    let (path, rest) = url.split_at(split);
    let path = resolve_dots(path)?;
    // Decoding can reveal more separators or dots (`%2e%2e%2f`), so resolve once more.
    let file = resolve_dots(&percent_decode(&path).replace('\\', "/"))?;
    Ok(Launch { url: format!("{path}{rest}"), file: Some(file), notes })
}

/// Removes `.` and empty segments and applies `..`, refusing to climb above the root.
fn resolve_dots(path: &str) -> Result<String, LaunchProblem> {
    let mut segments: Vec<&str> = Vec::new();
    for segment in path.split('/') {
        match segment {
            "" | "." => {}
            ".." => {
                segments.pop().ok_or(LaunchProblem::OutsidePackage)?;
            }
            other => segments.push(other),
        }
    }
    Ok(segments.join("/"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parameters_join_as_the_cam_says() {
        let cases = [
            ("a.html", "", "a.html"),
            ("a.html", "?x=1", "a.html?x=1"),
            ("a.html", "x=1", "a.html?x=1"),
            ("a.html", "&x=1", "a.html?x=1"),
            ("a.html", "?&x=1&y=2", "a.html?x=1&y=2"),
            ("a.html?c=p", "?x=1", "a.html?c=p&x=1"),
            ("a.html", "#part", "a.html#part"),
            ("a.html#top", "#part", "a.html#top"),
            ("a.html#top", "x=1", "a.html?x=1#top"),
            ("a.html?q#top", "x=1", "a.html?q&x=1#top"),
        ];
        for (href, parameters, expected) in cases {
            assert_eq!(apply_parameters(href, parameters), expected, "{href} + {parameters}");
        }
    }

    #[test]
    fn launch_urls_and_files() {
        type Case<'a> = (&'a [Option<&'a str>], &'a str, Option<&'a str>, &'a str, Option<&'a str>);
        let cases: &[Case<'_>] = &[
            (&[], "index.html", None, "index.html", Some("index.html")),
            (&[], "my%20file.html", None, "my%20file.html", Some("my file.html")),
            (&[], "caf%C3%A9.html?x=%20", None, "caf%C3%A9.html?x=%20", Some("café.html")),
            (
                &[Some("course/"), None, Some("sco1/")],
                "a.html",
                Some("?p=1"),
                "course/sco1/a.html?p=1",
                Some("course/sco1/a.html"),
            ),
            (&[Some("course"), Some("res/")], "a.html", None, "course/res/a.html", Some("course/res/a.html")),
            (&[Some("https://cdn.example/x/"), Some("res/")], "a.html", None, "https://cdn.example/x/res/a.html", None),
            (&[Some("local/")], "http://example.org/a.html", None, "http://example.org/a.html", None),
            (&[], "shared\\launch.html", None, "shared/launch.html", Some("shared/launch.html")),
            (&[], "./a/../b/c.html#x", None, "b/c.html#x", Some("b/c.html")),
            (&[], "/root.html", None, "root.html", Some("root.html")),
            (&[Some("a/")], "../b.html", None, "b.html", Some("b.html")),
        ];
        for (bases, href, parameters, url, file) in cases {
            let launch = build(bases, Some(href), *parameters).unwrap();
            assert_eq!(launch.url, *url, "{href}");
            assert_eq!(launch.file.as_deref(), *file, "{href}");
        }
    }

    #[test]
    fn launches_that_cannot_be_built() {
        let cases: [(Option<&str>, LaunchProblem); 4] = [
            (None, LaunchProblem::NoHref),
            (Some("  "), LaunchProblem::NoHref),
            (Some("../evil.html"), LaunchProblem::OutsidePackage),
            (Some("a/%2e%2e/%2e%2e/evil.html"), LaunchProblem::OutsidePackage),
        ];
        for (href, problem) in cases {
            assert_eq!(build(&[], href, None).unwrap_err(), problem, "{href:?}");
        }
    }

    #[test]
    fn absolute_urls_are_told_from_drive_letters() {
        let cases = [
            ("https://x/a", true),
            ("//cdn/a", true),
            ("mailto:a@b", true),
            ("C:/a.html", false),
            ("a.html", false),
            ("a:b/c", false),
            ("dir/a:b", false),
        ];
        for (text, absolute) in cases {
            assert_eq!(is_absolute_url(text), absolute, "{text}");
        }
    }
}
