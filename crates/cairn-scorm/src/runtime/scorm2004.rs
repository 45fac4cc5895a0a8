//! The SCORM 2004 4th Edition data model (`cmi.*` and `adl.*`): every element with its
//! access, type, range, SPM and initial value, the `_children` lists and the collections
//! (scorm.md §2.5, RTE §4.2).

use super::responses::TYPES_2004;
use super::table::{creator, el, Access::*, Element, Init, Model};
use super::types::Ty;

const COMPLETION: &[&str] = &["completed", "incomplete", "not attempted", "unknown"];
const SUCCESS: &[&str] = &["passed", "failed", "unknown"];
const EXIT: &[&str] = &["time-out", "suspend", "logout", "normal", ""];
const MODE: &[&str] = &["browse", "normal", "review"];
const TIME_LIMIT_ACTION: &[&str] = &["exit,message", "continue,message", "exit,no message", "continue,no message"];

const REAL: Ty = Ty::Real { min: None, max: None };
const SCALED: Ty = Ty::Real { min: Some(-1.0), max: Some(1.0) };
const UNIT: Ty = Ty::Real { min: Some(0.0), max: Some(1.0) };
const NON_NEGATIVE: Ty = Ty::Real { min: Some(0.0), max: None };

const ELEMENTS: &[Element] = &[
    creator("cmi.comments_from_learner.n.comment", Ty::LangStr(4000), Init::Empty),
    creator("cmi.comments_from_learner.n.location", Ty::CharStr(250), Init::Empty),
    creator("cmi.comments_from_learner.n.timestamp", Ty::Timestamp, Init::Unset),
    el("cmi.comments_from_lms.n.comment", ReadOnly, Ty::LangStr(4000), Init::Launch),
    el("cmi.comments_from_lms.n.location", ReadOnly, Ty::CharStr(250), Init::Launch),
    el("cmi.comments_from_lms.n.timestamp", ReadOnly, Ty::Timestamp, Init::Launch),
    el("cmi.completion_status", ReadWrite, Ty::Vocab(COMPLETION), Init::Evaluated),
    el("cmi.completion_threshold", ReadOnly, UNIT, Init::Launch),
    el("cmi.credit", ReadOnly, Ty::Vocab(&["credit", "no-credit"]), Init::Launch),
    el("cmi.entry", ReadOnly, Ty::Vocab(&["ab-initio", "resume", ""]), Init::Launch),
    el("cmi.exit", WriteOnly, Ty::Vocab(EXIT), Init::Empty),
    creator("cmi.interactions.n.id", Ty::LongId, Init::Empty),
    el("cmi.interactions.n.type", ReadWrite, Ty::Vocab(TYPES_2004), Init::Empty),
    creator("cmi.interactions.n.objectives.n.id", Ty::LongId, Init::Empty),
    el("cmi.interactions.n.timestamp", ReadWrite, Ty::Timestamp, Init::Unset),
    creator("cmi.interactions.n.correct_responses.n.pattern", Ty::Pattern, Init::Empty),
    el("cmi.interactions.n.weighting", ReadWrite, REAL, Init::Unset),
    el("cmi.interactions.n.learner_response", ReadWrite, Ty::LearnerResponse, Init::Unset),
    el("cmi.interactions.n.result", ReadWrite, Ty::Result2004, Init::Unset),
    el("cmi.interactions.n.latency", ReadWrite, Ty::Duration, Init::Unset),
    el("cmi.interactions.n.description", ReadWrite, Ty::LangStr(250), Init::Unset),
    el("cmi.launch_data", ReadOnly, Ty::CharStr(4000), Init::Launch),
    el("cmi.learner_id", ReadOnly, Ty::LongId, Init::Launch),
    el("cmi.learner_name", ReadOnly, Ty::LangStr(250), Init::Launch),
    el("cmi.learner_preference.audio_level", ReadWrite, NON_NEGATIVE, Init::Fixed("1")),
    el("cmi.learner_preference.language", ReadWrite, Ty::Language, Init::Empty),
    el("cmi.learner_preference.delivery_speed", ReadWrite, NON_NEGATIVE, Init::Fixed("1")),
    el("cmi.learner_preference.audio_captioning", ReadWrite, Ty::Integer { min: -1, max: 1 }, Init::Fixed("0")),
    el("cmi.location", ReadWrite, Ty::CharStr(1000), Init::Unset),
    el("cmi.max_time_allowed", ReadOnly, Ty::Duration, Init::Launch),
    el("cmi.mode", ReadOnly, Ty::Vocab(MODE), Init::Launch),
    creator("cmi.objectives.n.id", Ty::LongId, Init::Empty),
    el("cmi.objectives.n.score.scaled", ReadWrite, SCALED, Init::Unset),
    el("cmi.objectives.n.score.raw", ReadWrite, REAL, Init::Unset),
    el("cmi.objectives.n.score.min", ReadWrite, REAL, Init::Unset),
    el("cmi.objectives.n.score.max", ReadWrite, REAL, Init::Unset),
    el("cmi.objectives.n.success_status", ReadWrite, Ty::Vocab(SUCCESS), Init::Fixed("unknown")),
    el("cmi.objectives.n.completion_status", ReadWrite, Ty::Vocab(COMPLETION), Init::Fixed("unknown")),
    el("cmi.objectives.n.progress_measure", ReadWrite, UNIT, Init::Unset),
    el("cmi.objectives.n.description", ReadWrite, Ty::LangStr(250), Init::Unset),
    el("cmi.progress_measure", ReadWrite, UNIT, Init::Unset),
    el("cmi.scaled_passing_score", ReadOnly, SCALED, Init::Launch),
    el("cmi.score.scaled", ReadWrite, SCALED, Init::Unset),
    el("cmi.score.raw", ReadWrite, REAL, Init::Unset),
    el("cmi.score.min", ReadWrite, REAL, Init::Unset),
    el("cmi.score.max", ReadWrite, REAL, Init::Unset),
    el("cmi.session_time", WriteOnly, Ty::Duration, Init::Empty),
    el("cmi.success_status", ReadWrite, Ty::Vocab(SUCCESS), Init::Evaluated),
    el("cmi.suspend_data", ReadWrite, Ty::CharStr(64_000), Init::Unset),
    el("cmi.time_limit_action", ReadOnly, Ty::Vocab(TIME_LIMIT_ACTION), Init::Launch),
    el("cmi.total_time", ReadOnly, Ty::Duration, Init::Launch),
    el("adl.nav.request", ReadWrite, Ty::NavRequest, Init::Fixed("_none_")),
    el("adl.nav.request_valid.continue", ReadOnly, Ty::Vocab(&["true", "false", "unknown"]), Init::Launch),
    el("adl.nav.request_valid.previous", ReadOnly, Ty::Vocab(&["true", "false", "unknown"]), Init::Launch),
    el(
        "adl.nav.request_valid.choice.{target=}",
        ReadOnly,
        Ty::Vocab(&["true", "false", "unknown"]),
        Init::Fixed("unknown"),
    ),
    el(
        "adl.nav.request_valid.jump.{target=}",
        ReadOnly,
        Ty::Vocab(&["true", "false", "unknown"]),
        Init::Fixed("unknown"),
    ),
    el("adl.data.n.id", ReadOnly, Ty::LongId, Init::Launch),
    el("adl.data.n.store", ReadWrite, Ty::CharStr(64_000), Init::Unset),
];

const CHILDREN: &[(&str, &str)] = &[
    (
        "cmi",
        "_version,comments_from_learner,comments_from_lms,completion_status,completion_threshold,credit,entry,exit,\
         interactions,launch_data,learner_id,learner_name,learner_preference,location,max_time_allowed,mode,objectives,\
         progress_measure,scaled_passing_score,score,session_time,success_status,suspend_data,time_limit_action,total_time",
    ),
    ("cmi.comments_from_learner", "comment,location,timestamp"),
    ("cmi.comments_from_lms", "comment,location,timestamp"),
    ("cmi.interactions", "id,type,objectives,timestamp,correct_responses,weighting,learner_response,result,latency,description"),
    ("cmi.learner_preference", "audio_level,language,delivery_speed,audio_captioning"),
    ("cmi.objectives", "id,score,success_status,completion_status,progress_measure,description"),
    ("cmi.objectives.n.score", "scaled,raw,min,max"),
    ("cmi.score", "scaled,raw,min,max"),
    ("adl.data", "id,store"),
];

/// Collections and their SPM in records (RTE §4.2): more records than the SPM are still
/// accepted, up to [`super::types::SPM_FACTOR`] times it.
const COLLECTIONS: &[(&str, usize)] = &[
    ("cmi.comments_from_learner", 250),
    ("cmi.comments_from_lms", 100),
    ("cmi.interactions", 250),
    ("cmi.interactions.n.objectives", 10),
    ("cmi.interactions.n.correct_responses", 0),
    ("cmi.objectives", 100),
    ("adl.data", 0),
];

pub static MODEL: Model = Model { version: "1.0", elements: ELEMENTS, children: CHILDREN, collections: COLLECTIONS };

/// SCORM 2004 error codes and their strings (returned by GetErrorString).
pub const ERRORS: &[(u16, &str)] = &[
    (0, "No Error"),
    (101, "General Exception"),
    (102, "General Initialization Failure"),
    (103, "Already Initialized"),
    (104, "Content Instance Terminated"),
    (111, "General Termination Failure"),
    (112, "Termination Before Initialization"),
    (113, "Termination After Termination"),
    (122, "Retrieve Data Before Initialization"),
    (123, "Retrieve Data After Termination"),
    (132, "Store Data Before Initialization"),
    (133, "Store Data After Termination"),
    (142, "Commit Before Initialization"),
    (143, "Commit After Termination"),
    (201, "General Argument Error"),
    (301, "General Get Failure"),
    (351, "General Set Failure"),
    (391, "General Commit Failure"),
    (401, "Undefined Data Model Element"),
    (402, "Unimplemented Data Model Element"),
    (403, "Data Model Element Value Not Initialized"),
    (404, "Data Model Element Is Read Only"),
    (405, "Data Model Element Is Write Only"),
    (406, "Data Model Element Type Mismatch"),
    (407, "Data Model Element Value Out Of Range"),
    (408, "Data Model Dependency Not Established"),
];
