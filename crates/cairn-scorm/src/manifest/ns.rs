//! Namespace families: which specification an element or attribute belongs to.
//!
//! Matching is on the namespace URI, never the prefix. The families are recognised by a
//! distinctive part of the URI rather than the whole string, so that the 1.2 and 2004 versions
//! of a family (and the odd misspelt or re-hosted URI seen in real packages) all match, while
//! a prefix such as `adlcp:` bound to something else does not.

/// A family of namespaces.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Family {
    /// IMS Content Packaging (the manifest structure), or no namespace at all.
    Cp,
    /// ADL content packaging extensions (`adlcp`).
    Adlcp,
    /// IMS Simple Sequencing (`imsss`).
    Imsss,
    /// ADL sequencing extensions (`adlseq`).
    Adlseq,
    /// ADL navigation (`adlnav`).
    Adlnav,
    /// Anything else (metadata, schema instance, vendor extensions).
    Other,
}

/// The family of a namespace URI. Unqualified names count as CP: some manifests declare no
/// namespace at all, and the CP elements are the only ones that make sense there.
pub fn family(namespace: Option<&str>) -> Family {
    let Some(uri) = namespace else {
        return Family::Cp;
    };
    let uri = uri.to_ascii_lowercase();
    if uri.contains("adlcp") {
        Family::Adlcp
    } else if uri.contains("imsss") {
        Family::Imsss
    } else if uri.contains("adlseq") {
        Family::Adlseq
    } else if uri.contains("adlnav") {
        Family::Adlnav
    } else if uri.contains("imscp") {
        Family::Cp
    } else {
        Family::Other
    }
}

/// What a namespace URI says about the SCORM version, when anything.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VersionHint {
    Scorm12,
    Scorm2004,
}

/// The version a namespace URI implies: `adlcp_rootv1p2`/`imscp_rootv1p1p2` are 1.2, and
/// `adlcp_v1p3`, `imsss`, `adlseq`, `adlnav` are 2004.
pub fn version_hint(namespace: &str) -> Option<VersionHint> {
    let uri = namespace.to_ascii_lowercase();
    if uri.contains("adlcp_rootv1p2") || uri.contains("imscp_rootv1p1p2") {
        Some(VersionHint::Scorm12)
    } else if uri.contains("adlcp_v1p3") || uri.contains("imsss") || uri.contains("adlseq") || uri.contains("adlnav") {
        Some(VersionHint::Scorm2004)
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn families_and_hints_come_from_the_uri() {
        let cases = [
            (Some("http://www.imsproject.org/xsd/imscp_rootv1p1p2"), Family::Cp, Some(VersionHint::Scorm12)),
            (Some("http://www.imsglobal.org/xsd/imscp_v1p1"), Family::Cp, None),
            (Some("http://www.adlnet.org/xsd/adlcp_rootv1p2"), Family::Adlcp, Some(VersionHint::Scorm12)),
            (Some("http://www.adlnet.org/xsd/adlcp_v1p3"), Family::Adlcp, Some(VersionHint::Scorm2004)),
            (Some("http://www.imsglobal.org/xsd/imsss"), Family::Imsss, Some(VersionHint::Scorm2004)),
            (Some("http://www.adlnet.org/xsd/adlseq_v1p3"), Family::Adlseq, Some(VersionHint::Scorm2004)),
            (Some("http://www.adlnet.org/xsd/adlnav_v1p3"), Family::Adlnav, Some(VersionHint::Scorm2004)),
            (Some("http://www.w3.org/2001/XMLSchema-instance"), Family::Other, None),
            (None, Family::Cp, None),
        ];
        for (uri, expected_family, expected_hint) in cases {
            assert_eq!(family(uri), expected_family, "{uri:?}");
            assert_eq!(uri.and_then(version_hint), expected_hint, "{uri:?}");
        }
    }
}
