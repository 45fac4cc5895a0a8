//! The CMI data types of both versions and how a value is checked against them: strings with
//! their limits, decimals and reals with ranges, identifiers, localized strings, language
//! tags, vocabularies and the time types (parsed in [`super::time`]).
//!
//! A check answers `Ok(())` or an [`Invalid`] that says whether the format or the range was
//! wrong; the version's table turns that into 405 (1.2) or 406 / 407 (2004).

use super::responses;
use super::time;

/// How far a SCORM 2004 value may exceed its smallest permitted maximum (SPM). The RTE says
/// a longer value is still accepted (true, error 0); we store up to four times the SPM so a
/// misbehaving SCO cannot fill the store, and refuse beyond that as a type mismatch.
pub const SPM_FACTOR: usize = 4;

/// SCORM 1.2 `suspend_data` lengths: the spec's CMIString4096 in strict mode, and 64 KiB by
/// default because real content (Storyline, Evolve, Xerte) writes more than 4096 characters.
pub const SUSPEND_DATA_12_STRICT: usize = 4096;
pub const SUSPEND_DATA_12_DEFAULT: usize = 65_536;

/// Why a value was refused.
#[derive(Debug, Clone, PartialEq)]
pub enum Invalid {
    /// The value does not have the element's format or vocabulary (1.2: 405, 2004: 406).
    Type(String),
    /// The value has the right format but lies outside the element's range (1.2: 405,
    /// 2004: 407).
    Range(String),
}

/// Every value type an element of either data model can have.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Ty {
    /// 1.2 CMIString255 / CMIString4096: a hard maximum in characters.
    Str(usize),
    /// 1.2 `cmi.suspend_data`: 4096 in strict mode, 64 KiB otherwise.
    SuspendData12,
    /// 1.2 CMIIdentifier: 1–255 printable ASCII characters without spaces.
    Ident12,
    /// 1.2 CMIDecimal with an optional inclusive range; `blank` allows "" (scores).
    Decimal12 { min: f64, max: f64, blank: bool },
    /// 1.2 CMISInteger with an inclusive range.
    SInteger12 { min: i64, max: i64 },
    /// 1.2 CMITime (time of day).
    Time12,
    /// 1.2 CMITimespan.
    Timespan12,
    /// 1.2 `interactions.n.result`: a token or a CMIDecimal.
    Result12,
    /// An exact token from a list (both versions).
    Vocab(&'static [&'static str]),
    /// 2004 characterstring with its SPM.
    CharStr(usize),
    /// 2004 localized_string_type: optional `{lang=tag}` then text within the SPM.
    LangStr(usize),
    /// 2004 language_type (RFC 3066 tag or "").
    Language,
    /// 2004 real(10,7) with an optional inclusive range.
    Real { min: Option<f64>, max: Option<f64> },
    /// 2004 integer with an inclusive range (`audio_captioning`).
    Integer { min: i64, max: i64 },
    /// 2004 long_identifier_type (SPM 4000).
    LongId,
    /// 2004 time(second,10,0).
    Timestamp,
    /// 2004 timeinterval(second,10,2).
    Duration,
    /// 2004 `interactions.n.result`: a token or a real.
    Result2004,
    /// 2004 `adl.nav.request`.
    NavRequest,
    /// 2004 `interactions.n.learner_response`: format depends on the interaction type.
    LearnerResponse,
    /// 2004 `interactions.n.correct_responses.m.pattern`: format depends on the type.
    Pattern,
}

/// Characters in a value, counted as Unicode scalar values: that is what the specs mean by
/// a character, and the browser implementation counts the same way (not UTF-16 units).
pub fn chars(s: &str) -> usize {
    s.chars().count()
}

fn type_err(why: impl Into<String>) -> Result<(), Invalid> {
    Err(Invalid::Type(why.into()))
}

/// Checks a 2004 string against its SPM with the storage allowance of [`SPM_FACTOR`].
pub fn within_spm(s: &str, spm: usize) -> Result<(), Invalid> {
    if chars(s) > spm * SPM_FACTOR {
        return type_err(format!("longer than {} characters ({SPM_FACTOR} times the SPM of {spm})", spm * SPM_FACTOR));
    }
    Ok(())
}

/// 1.2 CMIDecimal: an optional minus, digits with at most one decimal point, at least one
/// digit ("85", "-2.5", ".5" and "85." are accepted; "+1", "1e3" and " 1" are not).
pub fn parse_decimal12(s: &str) -> Option<f64> {
    let body = s.strip_prefix('-').unwrap_or(s);
    let (int, frac) = body.split_once('.').unwrap_or((body, ""));
    let all_digits = |p: &str| p.bytes().all(|b| b.is_ascii_digit());
    if int.len() + frac.len() == 0 || !all_digits(int) || !all_digits(frac) {
        return None;
    }
    s.parse().ok()
}

/// 2004 real(10,7): an optional minus, at least one digit, optionally a point followed by at
/// least one digit. Exponents are refused, as in the ADL test suite.
pub fn parse_real(s: &str) -> Option<f64> {
    let body = s.strip_prefix('-').unwrap_or(s);
    let (int, frac) = match body.split_once('.') {
        Some((i, f)) => (i, Some(f)),
        None => (body, None),
    };
    let all_digits = |p: &str| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit());
    if !all_digits(int) || frac.is_some_and(|f| !all_digits(f)) {
        return None;
    }
    s.parse().ok()
}

/// Signed integer of digits only (with an optional minus).
fn parse_integer(s: &str) -> Option<i64> {
    let body = s.strip_prefix('-').unwrap_or(s);
    if body.is_empty() || !body.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

/// 2004 language_type: "" or a primary tag of 1–8 letters (or `i` / `x`) followed by
/// subtags of 1–8 letters or digits, each after a hyphen (RFC 3066).
pub fn is_language(s: &str) -> bool {
    if s.is_empty() {
        return true;
    }
    let mut parts = s.split('-');
    let primary = parts.next().unwrap_or("");
    let alpha = |p: &str| (1..=8).contains(&p.len()) && p.bytes().all(|b| b.is_ascii_alphabetic());
    let alnum = |p: &str| (1..=8).contains(&p.len()) && p.bytes().all(|b| b.is_ascii_alphanumeric());
    alpha(primary) && parts.all(alnum)
}

/// Splits an optional leading `{lang=tag}` off a localized string, checking the tag. A
/// string that starts with `{lang=` but has no valid closing brace is refused.
pub fn split_lang(s: &str) -> Result<&str, Invalid> {
    let Some(rest) = s.strip_prefix("{lang=") else {
        return Ok(s);
    };
    let Some((tag, text)) = rest.split_once('}') else {
        return Err(Invalid::Type("the {lang=...} prefix is not closed".to_owned()));
    };
    if tag.is_empty() || !is_language(tag) {
        return Err(Invalid::Type(format!("\"{tag}\" is not a language tag")));
    }
    Ok(text)
}

/// 2004 long_identifier_type: a URI of up to the SPM (4000). We refuse only what cannot be an
/// identifier at all: an empty or all-blank value, and a `urn:` that lacks its namespace id
/// or specific string.
pub fn check_long_id(s: &str) -> Result<(), Invalid> {
    if s.trim().is_empty() {
        return type_err("an identifier cannot be empty");
    }
    if s.len() >= 4 && s[..4].eq_ignore_ascii_case("urn:") {
        let mut parts = s[4..].splitn(2, ':');
        let nid = parts.next().unwrap_or("");
        let nss = parts.next().unwrap_or("");
        let nid_ok = (1..=32).contains(&nid.len())
            && nid.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
            && !nid.starts_with('-');
        if !nid_ok || nss.is_empty() {
            return type_err("a urn: identifier needs urn:<namespace>:<string>");
        }
    }
    within_spm(s, 4000)
}

/// 2004 short_identifier_type as used inside interaction responses: 1–250 characters (times
/// the SPM allowance) of letters, digits and URI punctuation, with at least one letter,
/// digit or underscore.
pub fn is_short_id(s: &str) -> bool {
    let allowed = |c: char| c.is_alphanumeric() || "-()+.:=@;$_!*'%/#".contains(c);
    !s.is_empty()
        && chars(s) <= 250 * SPM_FACTOR
        && s.chars().all(allowed)
        && s.chars().any(|c| c.is_alphanumeric() || c == '_')
}

fn range_check(v: f64, min: Option<f64>, max: Option<f64>) -> Result<(), Invalid> {
    if min.is_some_and(|m| v < m) || max.is_some_and(|m| v > m) {
        let lo = min.map_or("-∞".to_owned(), |m| m.to_string());
        let hi = max.map_or("∞".to_owned(), |m| m.to_string());
        return Err(Invalid::Range(format!("{v} is outside {lo}..{hi}")));
    }
    Ok(())
}

/// Checks `value` against `ty`. `strict` selects the 1.2 suspend_data limit; `interaction`
/// is the interaction type for learner responses and patterns (checked before this call).
pub fn check(ty: Ty, value: &str, strict: bool, interaction: Option<&str>) -> Result<(), Invalid> {
    match ty {
        Ty::Str(max) => {
            if chars(value) > max {
                return type_err(format!("longer than {max} characters"));
            }
            Ok(())
        }
        Ty::SuspendData12 => {
            let max = if strict { SUSPEND_DATA_12_STRICT } else { SUSPEND_DATA_12_DEFAULT };
            if chars(value) > max {
                return type_err(format!("longer than {max} characters"));
            }
            Ok(())
        }
        Ty::Ident12 => {
            let ok = !value.is_empty() && value.len() <= 255 && value.bytes().all(|b| (0x21..=0x7e).contains(&b));
            if !ok {
                return type_err("an identifier is 1 to 255 printable characters without spaces");
            }
            Ok(())
        }
        Ty::Decimal12 { min, max, blank } => {
            if blank && value.is_empty() {
                return Ok(());
            }
            let Some(v) = parse_decimal12(value) else {
                return type_err("not a decimal number");
            };
            // 1.2 has no out-of-range code: the caller reports both kinds as 405.
            range_check(v, Some(min), Some(max))
        }
        Ty::SInteger12 { min, max } => {
            let Some(v) = parse_integer(value) else {
                return type_err("not an integer");
            };
            if v < min || v > max {
                return Err(Invalid::Range(format!("{v} is outside {min}..{max}")));
            }
            Ok(())
        }
        Ty::Time12 => {
            if !time::is_cmi_time(value) {
                return type_err("not a time HH:MM:SS[.SS]");
            }
            Ok(())
        }
        Ty::Timespan12 => {
            if time::parse_timespan(value).is_none() {
                return type_err("not a timespan HHHH:MM:SS[.SS]");
            }
            Ok(())
        }
        Ty::Result12 => {
            if ["correct", "wrong", "unanticipated", "neutral"].contains(&value) || parse_decimal12(value).is_some() {
                return Ok(());
            }
            type_err("not correct, wrong, unanticipated, neutral or a number")
        }
        Ty::Vocab(words) => {
            if words.contains(&value) {
                return Ok(());
            }
            type_err(format!("not one of: {}", words.iter().map(|w| format!("\"{w}\"")).collect::<Vec<_>>().join(", ")))
        }
        Ty::CharStr(spm) => within_spm(value, spm),
        Ty::LangStr(spm) => within_spm(split_lang(value)?, spm),
        Ty::Language => {
            if !is_language(value) {
                return type_err("not a language tag");
            }
            within_spm(value, 250)
        }
        Ty::Real { min, max } => {
            let Some(v) = parse_real(value) else {
                return type_err("not a real number");
            };
            range_check(v, min, max)
        }
        Ty::Integer { min, max } => {
            let Some(v) = parse_integer(value) else {
                return type_err("not an integer");
            };
            if v < min || v > max {
                return Err(Invalid::Range(format!("{v} is outside {min}..{max}")));
            }
            Ok(())
        }
        Ty::LongId => check_long_id(value),
        Ty::Timestamp => {
            if !time::is_timestamp(value) {
                return type_err("not a timestamp YYYY-MM-DDThh:mm:ss[.s][TZD] between 1970 and 2038");
            }
            Ok(())
        }
        Ty::Duration => {
            if time::parse_duration(value).is_none() {
                return type_err("not an ISO 8601 duration P[nY][nM][nD][T[nH][nM][n[.nn]S]]");
            }
            Ok(())
        }
        Ty::Result2004 => {
            if ["correct", "incorrect", "unanticipated", "neutral"].contains(&value) || parse_real(value).is_some() {
                return Ok(());
            }
            type_err("not correct, incorrect, unanticipated, neutral or a number")
        }
        Ty::NavRequest => check_nav_request(value),
        Ty::LearnerResponse => responses::check_response(interaction.unwrap_or("other"), value),
        Ty::Pattern => responses::check_pattern(interaction.unwrap_or("other"), value),
    }
}

/// `adl.nav.request`: a fixed request, or `{target=ID}choice` / `{target=ID}jump`.
fn check_nav_request(value: &str) -> Result<(), Invalid> {
    const FIXED: &[&str] =
        &["continue", "previous", "exit", "exitAll", "abandon", "abandonAll", "suspendAll", "_none_"];
    if FIXED.contains(&value) {
        return Ok(());
    }
    if let Some(rest) = value.strip_prefix("{target=") {
        if let Some((target, verb)) = rest.split_once('}') {
            if (verb == "choice" || verb == "jump") && is_short_id(target) {
                return Ok(());
            }
        }
    }
    type_err("not a navigation request")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers() {
        let cases: &[(&str, Option<f64>, Option<f64>)] = &[
            // (text, as 1.2 CMIDecimal, as 2004 real)
            ("85", Some(85.0), Some(85.0)),
            ("-2.5", Some(-2.5), Some(-2.5)),
            ("0.8333333333333334", Some(0.833_333_333_333_333_4), Some(0.833_333_333_333_333_4)),
            (".5", Some(0.5), None),
            ("85.", Some(85.0), None),
            ("", None, None),
            ("-", None, None),
            (".", None, None),
            ("+1", None, None),
            ("1e3", None, None),
            (" 1", None, None),
            ("1.2.3", None, None),
            ("abc", None, None),
        ];
        for (text, d12, real) in cases {
            assert_eq!(parse_decimal12(text), *d12, "decimal {text}");
            assert_eq!(parse_real(text), *real, "real {text}");
        }
    }

    #[test]
    fn strings_identifiers_languages() {
        let cases: &[(Ty, &str, bool)] = &[
            (Ty::Str(3), "abc", true),
            (Ty::Str(3), "abcd", false),
            (Ty::Str(3), "äöü", true),
            (Ty::Ident12, "obj_1", true),
            (Ty::Ident12, "obj 1", false),
            (Ty::Ident12, "", false),
            (Ty::Language, "", true),
            (Ty::Language, "en", true),
            (Ty::Language, "en-US", true),
            (Ty::Language, "zh-Hant-TW", true),
            (Ty::Language, "englishlanguage", false),
            (Ty::Language, "english-language", true),
            (Ty::Language, "en_US", false),
            (Ty::Language, "1en", false),
            (Ty::LangStr(250), "{lang=fr}Bonjour", true),
            (Ty::LangStr(250), "plain text", true),
            (Ty::LangStr(250), "{lang=fr Bonjour", false),
            (Ty::LangStr(250), "{lang=12345678901}x", false),
            (Ty::LangStr(3), &"x".repeat(12), true),
            (Ty::LangStr(3), &"x".repeat(13), false),
            (Ty::LongId, "urn:cairn:q1", true),
            (Ty::LongId, "Scene1_Slide3_MultiChoice_0_0", true),
            (Ty::LongId, "urn:q1", false),
            (Ty::LongId, "", false),
            (Ty::LongId, "   ", false),
            (Ty::NavRequest, "{target=intro}choice", true),
            (Ty::NavRequest, "{target=}choice", false),
            (Ty::NavRequest, "next", false),
            (Ty::Result12, "wrong", true),
            (Ty::Result12, "incorrect", false),
            (Ty::Result2004, "incorrect", true),
            (Ty::Result2004, "0.5", true),
            (Ty::Result2004, "wrong", false),
        ];
        for (ty, text, ok) in cases {
            assert_eq!(check(*ty, text, false, None).is_ok(), *ok, "{ty:?} {text}");
        }
    }

    #[test]
    fn ranges_are_told_apart_from_types() {
        let score = Ty::Decimal12 { min: 0.0, max: 100.0, blank: true };
        assert!(check(score, "", false, None).is_ok());
        assert!(matches!(check(score, "150", false, None), Err(Invalid::Range(_))));
        assert!(matches!(check(score, "x", false, None), Err(Invalid::Type(_))));
        let scaled = Ty::Real { min: Some(-1.0), max: Some(1.0) };
        assert!(matches!(check(scaled, "1.5", false, None), Err(Invalid::Range(_))));
        assert!(check(scaled, "-1", false, None).is_ok());
        assert!(check(Ty::SuspendData12, &"x".repeat(65_536), false, None).is_ok());
        assert!(check(Ty::SuspendData12, &"x".repeat(4097), true, None).is_err());
    }
}
