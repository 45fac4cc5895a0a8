//! The SCORM 1.2 data model (`cmi.*`): every element with its access, CMI type, range and
//! initial value, the `_children` lists and the collections (scorm.md §2.4, ADL 1.2 CTS).

use super::table::{el, Access::*, Element, Init, Model};
use super::types::Ty;

/// Statuses a 1.2 SCO may set on `cmi.core.lesson_status`: "not attempted" is the LMS's
/// initial value and the ADL test suite refuses it from the SCO (405).
const LESSON_STATUS: &[&str] = &["passed", "completed", "failed", "incomplete", "browsed"];
/// Statuses of `cmi.objectives.n.status`, where "not attempted" is allowed.
const OBJECTIVE_STATUS: &[&str] = &["passed", "completed", "failed", "incomplete", "browsed", "not attempted"];
const EXIT: &[&str] = &["time-out", "suspend", "logout", ""];
const INTERACTION_TYPE: &[&str] =
    &["true-false", "choice", "fill-in", "matching", "performance", "sequencing", "likert", "numeric"];

/// Scores are CMIDecimal 0–100 or blank (blank clears them).
const SCORE: Ty = Ty::Decimal12 { min: 0.0, max: 100.0, blank: true };

const ELEMENTS: &[Element] = &[
    el("cmi.core.student_id", ReadOnly, Ty::Ident12, Init::Launch),
    el("cmi.core.student_name", ReadOnly, Ty::Str(255), Init::Launch),
    el("cmi.core.lesson_location", ReadWrite, Ty::Str(255), Init::Empty),
    el("cmi.core.credit", ReadOnly, Ty::Vocab(&["credit", "no-credit"]), Init::Launch),
    el("cmi.core.lesson_status", ReadWrite, Ty::Vocab(LESSON_STATUS), Init::Fixed("not attempted")),
    el("cmi.core.entry", ReadOnly, Ty::Vocab(&["ab-initio", "resume", ""]), Init::Launch),
    el("cmi.core.score.raw", ReadWrite, SCORE, Init::Empty),
    el("cmi.core.score.min", ReadWrite, SCORE, Init::Empty),
    el("cmi.core.score.max", ReadWrite, SCORE, Init::Empty),
    el("cmi.core.total_time", ReadOnly, Ty::Timespan12, Init::Launch),
    el("cmi.core.lesson_mode", ReadOnly, Ty::Vocab(&["normal", "browse", "review"]), Init::Launch),
    el("cmi.core.exit", WriteOnly, Ty::Vocab(EXIT), Init::Empty),
    el("cmi.core.session_time", WriteOnly, Ty::Timespan12, Init::Empty),
    el("cmi.suspend_data", ReadWrite, Ty::SuspendData12, Init::Empty),
    el("cmi.launch_data", ReadOnly, Ty::Str(4096), Init::Launch),
    el("cmi.comments", ReadWrite, Ty::Str(4096), Init::Empty),
    el("cmi.comments_from_lms", ReadOnly, Ty::Str(4096), Init::Launch),
    el("cmi.objectives.n.id", ReadWrite, Ty::Ident12, Init::Empty),
    el("cmi.objectives.n.score.raw", ReadWrite, SCORE, Init::Empty),
    el("cmi.objectives.n.score.min", ReadWrite, SCORE, Init::Empty),
    el("cmi.objectives.n.score.max", ReadWrite, SCORE, Init::Empty),
    el("cmi.objectives.n.status", ReadWrite, Ty::Vocab(OBJECTIVE_STATUS), Init::Fixed("not attempted")),
    el("cmi.student_data.mastery_score", ReadOnly, SCORE, Init::Launch),
    el("cmi.student_data.max_time_allowed", ReadOnly, Ty::Timespan12, Init::Launch),
    el("cmi.student_data.time_limit_action", ReadOnly, Ty::Str(255), Init::Launch),
    el("cmi.student_preference.audio", ReadWrite, Ty::SInteger12 { min: -1, max: 100 }, Init::Fixed("0")),
    el("cmi.student_preference.language", ReadWrite, Ty::Str(255), Init::Empty),
    el("cmi.student_preference.speed", ReadWrite, Ty::SInteger12 { min: -100, max: 100 }, Init::Fixed("0")),
    el("cmi.student_preference.text", ReadWrite, Ty::SInteger12 { min: -1, max: 1 }, Init::Fixed("0")),
    el("cmi.interactions.n.id", WriteOnly, Ty::Ident12, Init::Empty),
    el("cmi.interactions.n.objectives.n.id", WriteOnly, Ty::Ident12, Init::Empty),
    el("cmi.interactions.n.time", WriteOnly, Ty::Time12, Init::Empty),
    el("cmi.interactions.n.type", WriteOnly, Ty::Vocab(INTERACTION_TYPE), Init::Empty),
    el("cmi.interactions.n.correct_responses.n.pattern", WriteOnly, Ty::Str(255), Init::Empty),
    el("cmi.interactions.n.weighting", WriteOnly, Ty::Decimal12 { min: -100.0, max: 100.0, blank: false }, Init::Empty),
    el("cmi.interactions.n.student_response", WriteOnly, Ty::Str(255), Init::Empty),
    el("cmi.interactions.n.result", WriteOnly, Ty::Result12, Init::Empty),
    el("cmi.interactions.n.latency", WriteOnly, Ty::Timespan12, Init::Empty),
];

const CHILDREN: &[(&str, &str)] = &[
    ("cmi", "core,suspend_data,launch_data,comments,objectives,student_data,student_preference,interactions"),
    (
        "cmi.core",
        "student_id,student_name,lesson_location,credit,lesson_status,entry,score,total_time,lesson_mode,exit,session_time",
    ),
    ("cmi.core.score", "raw,min,max"),
    ("cmi.objectives", "id,score,status"),
    ("cmi.objectives.n.score", "raw,min,max"),
    ("cmi.student_data", "mastery_score,max_time_allowed,time_limit_action"),
    ("cmi.student_preference", "audio,language,speed,text"),
    ("cmi.interactions", "id,objectives,time,type,correct_responses,weighting,student_response,result,latency"),
];

const COLLECTIONS: &[(&str, usize)] = &[
    ("cmi.objectives", 0),
    ("cmi.interactions", 0),
    ("cmi.interactions.n.objectives", 0),
    ("cmi.interactions.n.correct_responses", 0),
];

/// The SCORM 1.2 model; `cmi._version` is "3.4" as in the CMI 3.4 specification 1.2 is
/// based on.
pub static MODEL: Model = Model { version: "3.4", elements: ELEMENTS, children: CHILDREN, collections: COLLECTIONS };

/// SCORM 1.2 error codes and their strings (returned by LMSGetErrorString).
pub const ERRORS: &[(u16, &str)] = &[
    (0, "No error"),
    (101, "General exception"),
    (201, "Invalid argument error"),
    (202, "Element cannot have children"),
    (203, "Element not an array - cannot have count"),
    (301, "Not initialized"),
    (401, "Not implemented error"),
    (402, "Invalid set value, element is a keyword"),
    (403, "Element is read only"),
    (404, "Element is write only"),
    (405, "Incorrect data type"),
];
