//! Time values of the run-time data model: SCORM 1.2 `CMITime` / `CMITimespan`, SCORM 2004
//! ISO 8601 durations (`timeinterval(second,10,2)`) and timestamps (`time(second,10,0)`).
//!
//! Durations are carried as whole centiseconds (`u64`) because both formats are exact to two
//! decimals; floating point would make `0.1 + 0.2` style sums drift when session times are
//! added to the total.

/// Centiseconds in one second, minute, hour and the day lengths used for `Y`, `M` and `D`.
const CS_SECOND: u64 = 100;
const CS_MINUTE: u64 = 60 * CS_SECOND;
const CS_HOUR: u64 = 60 * CS_MINUTE;
const CS_DAY: u64 = 24 * CS_HOUR;
/// ISO 8601 years and months have no fixed length; like other players we count a year as
/// 365 days and a month as 30 days, and never produce either unit ourselves.
const CS_YEAR: u64 = 365 * CS_DAY;
const CS_MONTH: u64 = 30 * CS_DAY;

/// The largest SCORM 1.2 timespan (`9999:59:59.99`): the hour field has at most four digits,
/// so longer totals are clamped rather than written in a format no SCO could parse.
const MAX_TIMESPAN_CS: u64 = 9999 * CS_HOUR + 59 * CS_MINUTE + 59 * CS_SECOND + 99;

/// Parses digits only (no sign, no spaces) into a number, refusing overflow.
fn digits(s: &str) -> Option<u64> {
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

/// Parses `SS` or `SS.S` / `SS.SS` into centiseconds, with exactly two second digits.
fn seconds_field(s: &str) -> Option<u64> {
    let (whole, frac) = match s.split_once('.') {
        Some((w, f)) => (w, Some(f)),
        None => (s, None),
    };
    if whole.len() != 2 {
        return None;
    }
    let mut cs = digits(whole)? * CS_SECOND;
    if let Some(f) = frac {
        cs += fraction_cs(f)?;
    }
    Some(cs)
}

/// One or two fraction digits as centiseconds ("5" is 50, "05" is 5).
fn fraction_cs(f: &str) -> Option<u64> {
    match f.len() {
        1 => Some(digits(f)? * 10),
        2 => digits(f),
        _ => None,
    }
}

/// SCORM 1.2 `CMITimespan`: `HHHH:MM:SS[.S[S]]` with two to four hour digits, as the ADL 1.2
/// test suite accepts it. Minutes and seconds are two digits each; the ADL validator does
/// not bound them to 59, so neither do we.
pub fn parse_timespan(s: &str) -> Option<u64> {
    let mut parts = s.split(':');
    let (h, m, sec) = (parts.next()?, parts.next()?, parts.next()?);
    if parts.next().is_some() || !(2..=4).contains(&h.len()) || m.len() != 2 {
        return None;
    }
    Some(digits(h)? * CS_HOUR + digits(m)? * CS_MINUTE + seconds_field(sec)?)
}

/// Writes centiseconds as a SCORM 1.2 timespan, `HHHH:MM:SS.SS`, clamped to `9999:59:59.99`.
pub fn format_timespan(cs: u64) -> String {
    let cs = cs.min(MAX_TIMESPAN_CS);
    format!(
        "{:04}:{:02}:{:02}.{:02}",
        cs / CS_HOUR,
        cs % CS_HOUR / CS_MINUTE,
        cs % CS_MINUTE / CS_SECOND,
        cs % CS_SECOND
    )
}

/// SCORM 1.2 `CMITime`: a time of day `HH:MM:SS[.S[S]]` with hours 00–23 and minutes and
/// seconds 00–59.
pub fn is_cmi_time(s: &str) -> bool {
    let mut parts = s.split(':');
    let (Some(h), Some(m), Some(sec), None) = (parts.next(), parts.next(), parts.next(), parts.next()) else {
        return false;
    };
    let ok = |v: &str, max: u64| v.len() == 2 && digits(v).is_some_and(|n| n <= max);
    ok(h, 23) && ok(m, 59) && seconds_field(sec).is_some_and(|cs| cs < 60 * CS_SECOND)
}

/// SCORM 2004 `timeinterval(second,10,2)`: `P[nY][nM][nD][T[nH][nM][n[.n]S]]`. Designators
/// appear in that order and only for present values, at least one must be present, `T` is
/// only written when a time part follows, and only seconds may carry (one or two) decimals.
/// Weeks and a comma as decimal sign are not part of the SCORM profile of ISO 8601.
pub fn parse_duration(s: &str) -> Option<u64> {
    let rest = s.strip_prefix('P')?;
    let (date, time) = match rest.split_once('T') {
        Some((d, t)) => (d, Some(t)),
        None => (rest, None),
    };
    let mut total: u64 = 0;
    let mut any = false;
    let mut add = |value: u64, unit: u64| -> Option<()> {
        total = total.checked_add(value.checked_mul(unit)?)?;
        any = true;
        Some(())
    };
    for (value, designator) in components(date)? {
        let unit = match designator {
            'Y' => CS_YEAR,
            'M' => CS_MONTH,
            'D' => CS_DAY,
            _ => return None,
        };
        add(digits(value)?, unit)?;
    }
    if let Some(time) = time {
        let parts = components(time)?;
        if parts.is_empty() {
            return None;
        }
        for (value, designator) in parts {
            match designator {
                'H' => add(digits(value)?, CS_HOUR)?,
                'M' => add(digits(value)?, CS_MINUTE)?,
                'S' => {
                    let (whole, frac) = match value.split_once('.') {
                        Some((w, f)) => (w, fraction_cs(f)?),
                        None => (value, 0),
                    };
                    add(digits(whole)?, CS_SECOND)?;
                    add(frac, 1)?;
                }
                _ => return None,
            }
        }
    }
    // The closure borrows `total` and `any` mutably; it is dropped here before they are read.
    any.then_some(total)
}

/// Splits `3Y2M` into `[("3",'Y'), ("2",'M')]`, checking the designators come in the order
/// Y, M, D or H, M, S without repeats.
fn components(s: &str) -> Option<Vec<(&str, char)>> {
    let mut out = Vec::new();
    let mut start = 0;
    let mut last_rank = None;
    for (i, c) in s.char_indices() {
        if c.is_ascii_digit() || c == '.' {
            continue;
        }
        let rank = match c {
            'Y' | 'H' => 0,
            'M' => 1,
            'D' | 'S' => 2,
            _ => return None,
        };
        if last_rank.is_some_and(|r| r >= rank) {
            return None;
        }
        last_rank = Some(rank);
        out.push((&s[start..i], c));
        start = i + c.len_utf8();
    }
    (start == s.len()).then_some(out)
}

/// Writes centiseconds as the shortest ISO 8601 duration using hours, minutes and seconds
/// (`PT1H1M1.5S`, `PT0S` for zero). Days, months and years are never written, so a reader
/// never has to guess their length.
pub fn format_duration(cs: u64) -> String {
    if cs == 0 {
        return "PT0S".to_owned();
    }
    let (h, m, s, c) = (cs / CS_HOUR, cs % CS_HOUR / CS_MINUTE, cs % CS_MINUTE / CS_SECOND, cs % CS_SECOND);
    let mut out = String::from("PT");
    if h > 0 {
        out.push_str(&format!("{h}H"));
    }
    if m > 0 {
        out.push_str(&format!("{m}M"));
    }
    if s > 0 || c > 0 {
        match c {
            0 => out.push_str(&format!("{s}S")),
            c if c % 10 == 0 => out.push_str(&format!("{s}.{}S", c / 10)),
            c => out.push_str(&format!("{s}.{c:02}S")),
        }
    }
    out
}

/// Whether `year` is a leap year of the Gregorian calendar.
fn leap(year: u64) -> bool {
    (year % 4 == 0 && year % 100 != 0) || year % 400 == 0
}

/// SCORM 2004 `time(second,10,0)`: `YYYY[-MM[-DD[Thh[:mm[:ss[.s[TZD]]]]]]]` with the year in
/// 1970–2038, at most two fraction digits and a time zone designator (`Z`, `±hh`, `±hh:mm`)
/// only after the seconds, as the RTE grammar nests it.
pub fn is_timestamp(s: &str) -> bool {
    timestamp(s).is_some()
}

fn timestamp(s: &str) -> Option<()> {
    let (date, time) = match s.split_once('T') {
        Some((d, t)) => (d, Some(t)),
        None => (s, None),
    };
    let mut fields = date.split('-');
    let year = fields.next()?;
    if year.len() != 4 || !(1970..=2038).contains(&digits(year)?) {
        return None;
    }
    let year = digits(year)?;
    let month = fields.next();
    let day = fields.next();
    if fields.next().is_some() {
        return None;
    }
    let two = |v: &str, lo: u64, hi: u64| v.len() == 2 && digits(v).is_some_and(|n| (lo..=hi).contains(&n));
    if let Some(m) = month {
        if !two(m, 1, 12) {
            return None;
        }
    }
    if let Some(d) = day {
        let m = digits(month?)?;
        let days = match m {
            2 if leap(year) => 29,
            2 => 28,
            4 | 6 | 9 | 11 => 30,
            _ => 31,
        };
        if !two(d, 1, days) {
            return None;
        }
    }
    let Some(time) = time else {
        return Some(());
    };
    // A time part needs the full date before it.
    day?;
    // Split the zone designator off: it starts at `Z`, `+` or the `-` after the seconds.
    let zone_at = time.find(['Z', '+', '-']);
    let (clock, zone) = match zone_at {
        Some(i) => (&time[..i], Some(&time[i..])),
        None => (time, None),
    };
    let mut parts = clock.split(':');
    let h = parts.next()?;
    if !two(h, 0, 23) {
        return None;
    }
    let m = parts.next();
    let sec = parts.next();
    if parts.next().is_some() {
        return None;
    }
    if let Some(m) = m {
        if !two(m, 0, 59) {
            return None;
        }
    }
    match sec {
        Some(sec) if seconds_field(sec)? >= 60 * CS_SECOND => return None,
        Some(_) => {}
        None if zone.is_some() => return None,
        None => {}
    }
    if let Some(z) = zone {
        if z != "Z" {
            let body = &z[1..];
            let (zh, zm) = match body.split_once(':') {
                Some((h, m)) => (h, Some(m)),
                None => (body, None),
            };
            if !two(zh, 0, 23) || zm.is_some_and(|m| !two(m, 0, 59)) {
                return None;
            }
        }
    }
    Some(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timespans() {
        let cases: &[(&str, Option<u64>)] = &[
            ("00:00:00", Some(0)),
            ("0000:00:00.00", Some(0)),
            ("01:02:03.4", Some(372_340)),
            ("9999:99:99.99", Some(9999 * 360_000 + 99 * 6000 + 9999)),
            ("1:00:00", None),
            ("12345:00:00", None),
            ("00:0:00", None),
            ("00:00:00.123", None),
            ("00:00:00.", None),
            ("00:00", None),
            ("-1:00:00", None),
            ("", None),
        ];
        for (text, want) in cases {
            assert_eq!(parse_timespan(text), *want, "{text}");
        }
        assert_eq!(format_timespan(0), "0000:00:00.00");
        assert_eq!(format_timespan(372_345), "0001:02:03.45");
        assert_eq!(format_timespan(u64::MAX), "9999:59:59.99");
    }

    #[test]
    fn durations() {
        let cases: &[(&str, Option<u64>)] = &[
            ("PT0S", Some(0)),
            ("P0D", Some(0)),
            ("PT1H1M1.5S", Some(366_150)),
            ("PT05H", Some(5 * 360_000)),
            ("P1D", Some(8_640_000)),
            ("P1Y", Some(365 * 8_640_000)),
            ("P1M", Some(30 * 8_640_000)),
            ("PT1M", Some(6000)),
            ("P1DT2H", Some(8_640_000 + 720_000)),
            ("PT0.25S", Some(25)),
            ("P", None),
            ("PT", None),
            ("P1DT", None),
            ("PT1.234S", None),
            ("PT1.5M", None),
            ("P1W", None),
            ("PT1S1M", None),
            ("P1H", None),
            ("1:30:00", None),
            ("PT-1S", None),
            ("pt1s", None),
            ("PT,5S", None),
            ("P99999999999999999999Y", None),
        ];
        for (text, want) in cases {
            assert_eq!(parse_duration(text), *want, "{text}");
        }
        for (cs, text) in
            [(0, "PT0S"), (150, "PT1.5S"), (105, "PT1.05S"), (366_100, "PT1H1M1S"), (90_000_000, "PT250H")]
        {
            assert_eq!(format_duration(cs), text);
            assert_eq!(parse_duration(text), Some(cs));
        }
    }

    #[test]
    fn times_of_day_and_timestamps() {
        for (text, ok) in
            [("23:59:59", true), ("00:00:00.5", true), ("24:00:00", false), ("12:60:00", false), ("1:00:00", false)]
        {
            assert_eq!(is_cmi_time(text), ok, "{text}");
        }
        let cases = [
            ("2024", true),
            ("2024-02", true),
            ("2024-02-29", true),
            ("2023-02-29", false),
            ("2024-02-29T10", true),
            ("2024-02-29T10:15", true),
            ("2024-02-29T10:15:30", true),
            ("2024-02-29T10:15:30.5", true),
            ("2024-02-29T10:15:30.12Z", true),
            ("2024-02-29T10:15:30+01:00", true),
            ("2024-02-29T10:15:30-05", true),
            ("2024-02-29T10:15:30.123Z", false),
            ("2024-02-29T10:15Z", false),
            ("1969-12-31", false),
            ("2039-01-01", false),
            ("2024-13-01", false),
            ("2024-1-01", false),
            ("2024-01-01T24:00:00", false),
            ("2024-01-01T", false),
            ("2024T10", false),
            ("", false),
        ];
        for (text, ok) in cases {
            assert_eq!(is_timestamp(text), ok, "{text}");
        }
    }
}
