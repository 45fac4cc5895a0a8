//! Input limits shared by every area: string lengths, e-mail and slug shapes.
//!
//! Each limit is a named constant so that the README, the API docs and the error messages
//! can quote the same number.

/// Longest e-mail address accepted (RFC 5321 path limit).
pub const MAX_EMAIL_LEN: usize = 254;
/// Longest display name of a person or an institute.
pub const MAX_NAME_LEN: usize = 200;
/// Shortest password accepted; NIST SP 800-63B asks for at least 8 characters.
pub const MIN_PASSWORD_LEN: usize = 8;
/// Longest password accepted; a cap keeps hashing cost bounded.
pub const MAX_PASSWORD_LEN: usize = 1024;
/// Slug length range for institutes.
pub const MIN_SLUG_LEN: usize = 2;
pub const MAX_SLUG_LEN: usize = 64;
/// Longest label of an API token.
pub const MAX_TOKEN_NAME_LEN: usize = 100;

/// A value that breaks one of the input rules, with the field it concerns.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {reason}")]
pub struct InvalidInput {
    pub field: &'static str,
    pub reason: String,
}

impl InvalidInput {
    pub fn new(field: &'static str, reason: impl Into<String>) -> Self {
        Self { field, reason: reason.into() }
    }
}

/// Trims and checks a display name: not blank, no control characters, bounded length.
pub fn name(field: &'static str, value: &str, max: usize) -> Result<String, InvalidInput> {
    let trimmed = value.trim();
    if trimmed.is_empty() {
        return Err(InvalidInput::new(field, "must not be empty"));
    }
    if trimmed.chars().count() > max {
        return Err(InvalidInput::new(field, format!("must be at most {max} characters")));
    }
    if trimmed.chars().any(char::is_control) {
        return Err(InvalidInput::new(field, "must not contain control characters"));
    }
    Ok(trimmed.to_string())
}

/// Normalises an e-mail address to lower case and checks its basic shape. Deliverability
/// is proved later by the invitation mail, not here.
pub fn email(value: &str) -> Result<String, InvalidInput> {
    let email = value.trim().to_lowercase();
    if email.len() > MAX_EMAIL_LEN {
        return Err(InvalidInput::new("email", format!("must be at most {MAX_EMAIL_LEN} characters")));
    }
    let Some((local, domain)) = email.split_once('@') else {
        return Err(InvalidInput::new("email", "must look like name@example.org"));
    };
    let domain_ok = domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && !domain.contains("..")
        && domain.chars().all(|c| c.is_alphanumeric() || c == '-' || c == '.');
    if local.is_empty()
        || !domain_ok
        || email.chars().any(|c| c.is_whitespace() || c.is_control())
        || local.contains('@')
    {
        return Err(InvalidInput::new("email", "must look like name@example.org"));
    }
    Ok(email)
}

/// Checks an institute slug: lower-case letters, digits and single dashes.
pub fn slug(value: &str) -> Result<String, InvalidInput> {
    let slug = value.trim();
    let len = slug.len();
    if !(MIN_SLUG_LEN..=MAX_SLUG_LEN).contains(&len) {
        return Err(InvalidInput::new("slug", format!("must be {MIN_SLUG_LEN} to {MAX_SLUG_LEN} characters")));
    }
    let shape_ok = slug.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        && !slug.starts_with('-')
        && !slug.ends_with('-')
        && !slug.contains("--");
    if !shape_ok {
        return Err(InvalidInput::new(
            "slug",
            "may hold only lower-case letters a-z, digits and single dashes, e.g. \"ghana-institute\"",
        ));
    }
    Ok(slug.to_string())
}

/// Checks a password's length; composition rules are deliberately absent (NIST SP 800-63B).
pub fn password(value: &str) -> Result<(), InvalidInput> {
    let chars = value.chars().count();
    if chars < MIN_PASSWORD_LEN {
        return Err(InvalidInput::new("password", format!("must be at least {MIN_PASSWORD_LEN} characters")));
    }
    if chars > MAX_PASSWORD_LEN {
        return Err(InvalidInput::new("password", format!("must be at most {MAX_PASSWORD_LEN} characters")));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails() {
        let cases: &[(&str, Option<&str>)] = &[
            ("Ada@Example.org", Some("ada@example.org")),
            ("  a.b+c@sub.example.gov.gh ", Some("a.b+c@sub.example.gov.gh")),
            ("no-at-sign", None),
            ("@example.org", None),
            ("a@localhost", None),
            ("a@.example.org", None),
            ("a@example..org", None),
            ("a b@example.org", None),
            ("a@b@example.org", None),
        ];
        for (input, expected) in cases {
            assert_eq!(email(input).ok().as_deref(), *expected, "{input:?}");
        }
        assert!(email(&format!("{}@example.org", "a".repeat(250))).is_err());
    }

    #[test]
    fn slugs() {
        let cases: &[(&str, bool)] = &[
            ("ghana-institute", true),
            ("ena2", true),
            ("a", false),
            ("Upper", false),
            ("-lead", false),
            ("trail-", false),
            ("dou--ble", false),
            ("spa ce", false),
            ("ünï", false),
        ];
        for (input, ok) in cases {
            assert_eq!(slug(input).is_ok(), *ok, "{input:?}");
        }
        assert!(slug(&"a".repeat(MAX_SLUG_LEN + 1)).is_err());
    }

    #[test]
    fn names() {
        assert_eq!(name("name", "  Ama Mensah ", MAX_NAME_LEN).unwrap(), "Ama Mensah");
        assert!(name("name", "   ", MAX_NAME_LEN).is_err());
        assert!(name("name", "bell\u{7}", MAX_NAME_LEN).is_err());
        assert!(name("name", &"é".repeat(MAX_NAME_LEN), MAX_NAME_LEN).is_ok());
        assert!(name("name", &"é".repeat(MAX_NAME_LEN + 1), MAX_NAME_LEN).is_err());
    }

    #[test]
    fn passwords() {
        assert!(password("short").is_err());
        assert!(password("long enough").is_ok());
        assert!(password(&"x".repeat(MAX_PASSWORD_LEN + 1)).is_err());
    }
}
