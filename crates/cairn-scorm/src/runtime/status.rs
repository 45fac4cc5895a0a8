//! How an attempt's status is determined: SCORM 2004 completion and success evaluation on
//! every read (RTE 4.2.4.1 and 4.2.22.1), SCORM 1.2 lesson_status rules at LMSFinish, and the
//! end of a session ([`finish`]): total time, exit and what the next launch looks like.

use std::collections::BTreeMap;

use super::datamodel::DataModel;
use super::time;
use super::types::{parse_decimal12, parse_real};
use super::{Completion, Entry, LaunchData, Mode, Outcome, ScormVersion, Success};

/// 2004 `cmi.completion_status` / `cmi.success_status` as GetValue returns them.
pub(crate) fn evaluated(model: &DataModel, name: &str) -> String {
    let values = &model.values;
    let real = |k: &str| values.get(k).and_then(|v| parse_real(v));
    let set = |k: &str| values.get(k).cloned().unwrap_or_else(|| "unknown".to_owned());
    match name {
        "cmi.completion_status" => match model.completion_threshold {
            // With a threshold the progress measure decides, whatever the SCO set; without a
            // progress measure the status is unknown (RTE Table 4.2.4.1a).
            Some(threshold) => match real("cmi.progress_measure") {
                Some(p) if p >= threshold => "completed".to_owned(),
                Some(_) => "incomplete".to_owned(),
                None => "unknown".to_owned(),
            },
            None => set(name),
        },
        _ => match model.scaled_passing_score {
            Some(passing) => match real("cmi.score.scaled") {
                Some(s) if s >= passing => "passed".to_owned(),
                Some(_) => "failed".to_owned(),
                None => "unknown".to_owned(),
            },
            None => set(name),
        },
    }
}

/// SCORM 1.2 lesson_status after LMSFinish, from the status the SCO left:
/// * normal mode with credit, a mastery score and a raw score: passed when raw ≥ mastery,
///   failed otherwise, whatever the SCO set (the 1.2 RTE lets the LMS decide from the score);
/// * still "not attempted": "browsed" in browse mode, "completed" in normal mode (the SCO ran,
///   and most 1.2 LMSs treat a SCO that reports nothing as done);
/// * otherwise the SCO's status. Review mode never changes anything.
pub fn lesson_status_12(launch: &LaunchData, state: &BTreeMap<String, String>) -> String {
    let status = state.get("cmi.core.lesson_status").cloned().unwrap_or_else(|| "not attempted".to_owned());
    let raw = state.get("cmi.core.score.raw").and_then(|v| parse_decimal12(v));
    if launch.mode == Mode::Normal && launch.credit {
        if let (Some(mastery), Some(raw)) = (launch.mastery_score, raw) {
            return if raw >= mastery { "passed" } else { "failed" }.to_owned();
        }
    }
    if status == "not attempted" {
        return match launch.mode {
            Mode::Browse => "browsed".to_owned(),
            Mode::Normal => "completed".to_owned(),
            Mode::Review => status,
        };
    }
    status
}

/// What the attempt looks like at the end of a session: on LMSFinish / Terminate, or when the
/// server closes a session the SCO left without finishing. `state` is the stored data model
/// (a [`super::Session::snapshot`] or the result of [`super::validate_commit`]).
///
/// Only the last `session_time` is added to the launch's total time, once. Use
/// [`finish_measured`] to supply the session length the player measured, which 2004 requires
/// when the SCO reports none.
pub fn finish(version: ScormVersion, launch: &LaunchData, state: &BTreeMap<String, String>) -> Outcome {
    finish_measured(version, launch, state, None)
}

/// [`finish`], with the session length (in seconds) the player measured from launch, used
/// only when the SCO did not set a session time.
pub fn finish_measured(
    version: ScormVersion,
    launch: &LaunchData,
    state: &BTreeMap<String, String>,
    measured_seconds: Option<f64>,
) -> Outcome {
    let get = |k: &str| state.get(k).cloned();
    let measured_cs = measured_seconds.filter(|s| s.is_finite() && *s > 0.0).map(|s| (s * 100.0).round() as u64);
    match version {
        ScormVersion::Scorm12 => {
            let status = lesson_status_12(launch, state);
            let previous = launch.total_time.as_deref().and_then(time::parse_timespan).unwrap_or(0);
            let session = get("cmi.core.session_time").as_deref().and_then(time::parse_timespan).or(measured_cs);
            let total = previous.saturating_add(session.unwrap_or(0));
            let suspended = get("cmi.core.exit").as_deref() == Some("suspend");
            let raw = get("cmi.core.score.raw").as_deref().and_then(parse_decimal12);
            let min = get("cmi.core.score.min").as_deref().and_then(parse_decimal12).unwrap_or(0.0);
            let max = get("cmi.core.score.max").as_deref().and_then(parse_decimal12).unwrap_or(100.0);
            // 1.2 has no scaled score; the gradebook gets raw placed between min and max.
            let scaled = raw.map(|r| if max > min { ((r - min) / (max - min)).clamp(-1.0, 1.0) } else { r / 100.0 });
            Outcome {
                completion: match status.as_str() {
                    "passed" | "completed" | "failed" => Completion::Completed,
                    "browsed" => Completion::Browsed,
                    "incomplete" => Completion::Incomplete,
                    _ => Completion::NotAttempted,
                },
                success: match status.as_str() {
                    "passed" => Success::Passed,
                    "failed" => Success::Failed,
                    _ => Success::Unknown,
                },
                lesson_status: Some(status),
                score_scaled: scaled,
                score_raw: raw,
                total_time_seconds: total as f64 / 100.0,
                total_time: time::format_timespan(total),
                suspended,
                // 1.2 has no attempts in the data model: the data carries over and the LMS
                // decides when a learner starts afresh.
                new_attempt_next: false,
                next_entry: if suspended { Entry::Resume } else { Entry::Empty },
                location: get("cmi.core.lesson_location").filter(|l| !l.is_empty()),
            }
        }
        ScormVersion::Scorm2004 => {
            let model = DataModel::new(version, launch, state.clone());
            let completion = evaluated(&model, "cmi.completion_status");
            let success = evaluated(&model, "cmi.success_status");
            let previous = launch.total_time.as_deref().and_then(time::parse_duration).unwrap_or(0);
            let session = get("cmi.session_time").as_deref().and_then(time::parse_duration).or(measured_cs);
            let total = previous.saturating_add(session.unwrap_or(0));
            // A SCO-made suspendAll request suspends whatever cmi.exit says.
            let suspended = get("cmi.exit").as_deref() == Some("suspend")
                || get("adl.nav.request").as_deref() == Some("suspendAll");
            Outcome {
                completion: match completion.as_str() {
                    "completed" => Completion::Completed,
                    "incomplete" => Completion::Incomplete,
                    "not attempted" => Completion::NotAttempted,
                    _ => Completion::Unknown,
                },
                success: match success.as_str() {
                    "passed" => Success::Passed,
                    "failed" => Success::Failed,
                    _ => Success::Unknown,
                },
                lesson_status: None,
                score_scaled: get("cmi.score.scaled").as_deref().and_then(parse_real),
                score_raw: get("cmi.score.raw").as_deref().and_then(parse_real),
                total_time_seconds: total as f64 / 100.0,
                total_time: time::format_duration(total),
                suspended,
                new_attempt_next: !suspended,
                next_entry: if suspended { Entry::Resume } else { Entry::AbInitio },
                location: get("cmi.location").filter(|l| !l.is_empty()),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn state(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    #[test]
    fn lesson_status_rules() {
        let normal = LaunchData::default();
        let mastery = LaunchData { mastery_score: Some(80.0), ..LaunchData::default() };
        let no_credit = LaunchData { credit: false, ..mastery.clone() };
        let browse = LaunchData { mode: Mode::Browse, ..LaunchData::default() };
        let review = LaunchData { mode: Mode::Review, ..LaunchData::default() };
        let cases: &[(&LaunchData, &[(&str, &str)], &str)] = &[
            (&normal, &[], "completed"),
            (&normal, &[("cmi.core.lesson_status", "incomplete")], "incomplete"),
            (&mastery, &[("cmi.core.score.raw", "80")], "passed"),
            (&mastery, &[("cmi.core.score.raw", "79.5"), ("cmi.core.lesson_status", "passed")], "failed"),
            (&mastery, &[("cmi.core.score.raw", "")], "completed"),
            (&no_credit, &[("cmi.core.score.raw", "10"), ("cmi.core.lesson_status", "incomplete")], "incomplete"),
            (&browse, &[], "browsed"),
            (&review, &[], "not attempted"),
        ];
        for (launch, pairs, want) in cases {
            assert_eq!(lesson_status_12(launch, &state(pairs)), *want, "{pairs:?}");
        }
    }

    #[test]
    fn time_is_added_once_from_the_last_session_time() {
        let launch = LaunchData { total_time: Some("PT1H".into()), ..LaunchData::default() };
        let out = finish(ScormVersion::Scorm2004, &launch, &state(&[("cmi.session_time", "PT30M1.5S")]));
        assert_eq!(out.total_time, "PT1H30M1.5S");
        assert_eq!(out.total_time_seconds, 5401.5);
        let measured = finish_measured(ScormVersion::Scorm2004, &launch, &state(&[]), Some(60.0));
        assert_eq!(measured.total_time, "PT1H1M");
        let launch12 = LaunchData { total_time: Some("0001:00:00".into()), ..LaunchData::default() };
        let out = finish(ScormVersion::Scorm12, &launch12, &state(&[("cmi.core.session_time", "00:00:30.25")]));
        assert_eq!(out.total_time, "0001:00:30.25");
    }
}
