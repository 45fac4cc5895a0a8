// Cairn SCORM run-time, part "tables": the element tables of SCORM 1.2 (cmi.*) and SCORM
// 2004 4th edition (cmi.*, adl.nav.*, adl.data.*): every element with its access, value
// check and initial value, the _children lists, the collections with their SPM in records,
// and how an element name is matched against a table (numeric segments are collection
// indexes and match the "n" of a pattern). Mirrors crates/cairn-scorm/src/runtime/table.rs,
// scorm12.rs and scorm2004.rs.
"use strict";

(function (root, name, make) {
  if (typeof module !== "undefined" && module.exports) return void (module.exports = make);
  var ns = (root.CairnScorm = root.CairnScorm || {});
  (ns.parts = ns.parts || {})[name] = make;
})(typeof window !== "undefined" ? window : this, "tables", function (need) {
  var T = need("types").T;
  var R = need("responses");
  var ITYPES = R.ITYPES;

  // Element patterns use "n" for a collection index. Each element is
  //   [pattern, access ("ro" | "rw" | "wo" | "create"), check, initial value]
  // "create" is read-write and may open a new collection record (2004: ids, learner
  // comment fields, patterns; in 1.2 any field may). Initial values: a string, NONE (no
  // value: 2004 GetValue answers 403, 1.2 ""), LAUNCH (from the launch data, else as NONE)
  // or EVAL (2004 statuses, evaluated on every read).
  var NONE = { init: "none" };
  var LAUNCH = { init: "launch" };
  var EVAL = { init: "eval" };
  var STATUS_12 = ["passed", "completed", "failed", "incomplete", "browsed"];
  var SCORE_12 = T.decimal12(0, 100, true);
  var COMPLETION = ["completed", "incomplete", "not attempted", "unknown"];
  var SUCCESS = ["passed", "failed", "unknown"];
  var VALID = T.vocab(["true", "false", "unknown"]);

  var MODEL_12 = {
    version: "3.4",
    elements: [
      ["cmi.core.student_id", "ro", T.ident12, LAUNCH],
      ["cmi.core.student_name", "ro", T.str(255), LAUNCH],
      ["cmi.core.lesson_location", "rw", T.str(255), ""],
      ["cmi.core.credit", "ro", null, LAUNCH],
      ["cmi.core.lesson_status", "rw", T.vocab(STATUS_12), "not attempted"],
      ["cmi.core.entry", "ro", null, LAUNCH],
      ["cmi.core.score.raw", "rw", SCORE_12, ""],
      ["cmi.core.score.min", "rw", SCORE_12, ""],
      ["cmi.core.score.max", "rw", SCORE_12, ""],
      ["cmi.core.total_time", "ro", null, LAUNCH],
      ["cmi.core.lesson_mode", "ro", null, LAUNCH],
      ["cmi.core.exit", "wo", T.vocab(["time-out", "suspend", "logout", ""]), ""],
      ["cmi.core.session_time", "wo", T.timespan12, ""],
      ["cmi.suspend_data", "rw", T.suspendData12, ""],
      ["cmi.launch_data", "ro", null, LAUNCH],
      ["cmi.comments", "rw", T.str(4096), ""],
      ["cmi.comments_from_lms", "ro", null, LAUNCH],
      ["cmi.objectives.n.id", "rw", T.ident12, ""],
      ["cmi.objectives.n.score.raw", "rw", SCORE_12, ""],
      ["cmi.objectives.n.score.min", "rw", SCORE_12, ""],
      ["cmi.objectives.n.score.max", "rw", SCORE_12, ""],
      ["cmi.objectives.n.status", "rw", T.vocab(STATUS_12.concat(["not attempted"])), "not attempted"],
      ["cmi.student_data.mastery_score", "ro", null, LAUNCH],
      ["cmi.student_data.max_time_allowed", "ro", null, LAUNCH],
      ["cmi.student_data.time_limit_action", "ro", null, LAUNCH],
      ["cmi.student_preference.audio", "rw", T.integer(-1, 100), "0"],
      ["cmi.student_preference.language", "rw", T.str(255), ""],
      ["cmi.student_preference.speed", "rw", T.integer(-100, 100), "0"],
      ["cmi.student_preference.text", "rw", T.integer(-1, 1), "0"],
      ["cmi.interactions.n.id", "wo", T.ident12, ""],
      ["cmi.interactions.n.objectives.n.id", "wo", T.ident12, ""],
      ["cmi.interactions.n.time", "wo", T.time12, ""],
      ["cmi.interactions.n.type", "wo", T.vocab(["true-false", "choice", "fill-in", "matching", "performance",
        "sequencing", "likert", "numeric"]), ""],
      ["cmi.interactions.n.correct_responses.n.pattern", "wo", T.str(255), ""],
      ["cmi.interactions.n.weighting", "wo", T.decimal12(-100, 100, false), ""],
      ["cmi.interactions.n.student_response", "wo", T.str(255), ""],
      ["cmi.interactions.n.result", "wo", T.result12, ""],
      ["cmi.interactions.n.latency", "wo", T.timespan12, ""],
    ],
    children: {
      cmi: "core,suspend_data,launch_data,comments,objectives,student_data,student_preference,interactions",
      "cmi.core": "student_id,student_name,lesson_location,credit,lesson_status,entry,score,total_time,lesson_mode,exit,session_time",
      "cmi.core.score": "raw,min,max",
      "cmi.objectives": "id,score,status",
      "cmi.objectives.n.score": "raw,min,max",
      "cmi.student_data": "mastery_score,max_time_allowed,time_limit_action",
      "cmi.student_preference": "audio,language,speed,text",
      "cmi.interactions": "id,objectives,time,type,correct_responses,weighting,student_response,result,latency",
    },
    // Collections and their SPM in records (0: none).
    collections: {
      "cmi.objectives": 0,
      "cmi.interactions": 0,
      "cmi.interactions.n.objectives": 0,
      "cmi.interactions.n.correct_responses": 0,
    },
  };

  var MODEL_2004 = {
    version: "1.0",
    elements: [
      ["cmi.comments_from_learner.n.comment", "create", T.langStr(4000), ""],
      ["cmi.comments_from_learner.n.location", "create", T.charStr(250), ""],
      ["cmi.comments_from_learner.n.timestamp", "create", T.timestamp, NONE],
      ["cmi.comments_from_lms.n.comment", "ro", null, LAUNCH],
      ["cmi.comments_from_lms.n.location", "ro", null, LAUNCH],
      ["cmi.comments_from_lms.n.timestamp", "ro", null, LAUNCH],
      ["cmi.completion_status", "rw", T.vocab(COMPLETION), EVAL],
      ["cmi.completion_threshold", "ro", null, LAUNCH],
      ["cmi.credit", "ro", null, LAUNCH],
      ["cmi.entry", "ro", null, LAUNCH],
      ["cmi.exit", "wo", T.vocab(["time-out", "suspend", "logout", "normal", ""]), ""],
      ["cmi.interactions.n.id", "create", T.longId, ""],
      ["cmi.interactions.n.type", "rw", T.vocab(ITYPES), ""],
      ["cmi.interactions.n.objectives.n.id", "create", T.longId, ""],
      ["cmi.interactions.n.timestamp", "rw", T.timestamp, NONE],
      ["cmi.interactions.n.correct_responses.n.pattern", "create", R.pattern, ""],
      ["cmi.interactions.n.weighting", "rw", T.real(null, null), NONE],
      ["cmi.interactions.n.learner_response", "rw", R.learnerResponse, NONE],
      ["cmi.interactions.n.result", "rw", T.result2004, NONE],
      ["cmi.interactions.n.latency", "rw", T.duration, NONE],
      ["cmi.interactions.n.description", "rw", T.langStr(250), NONE],
      ["cmi.launch_data", "ro", null, LAUNCH],
      ["cmi.learner_id", "ro", null, LAUNCH],
      ["cmi.learner_name", "ro", null, LAUNCH],
      ["cmi.learner_preference.audio_level", "rw", T.real(0, null), "1"],
      ["cmi.learner_preference.language", "rw", T.language, ""],
      ["cmi.learner_preference.delivery_speed", "rw", T.real(0, null), "1"],
      ["cmi.learner_preference.audio_captioning", "rw", T.integer(-1, 1), "0"],
      ["cmi.location", "rw", T.charStr(1000), NONE],
      ["cmi.max_time_allowed", "ro", null, LAUNCH],
      ["cmi.mode", "ro", null, LAUNCH],
      ["cmi.objectives.n.id", "create", T.longId, ""],
      ["cmi.objectives.n.score.scaled", "rw", T.real(-1, 1), NONE],
      ["cmi.objectives.n.score.raw", "rw", T.real(null, null), NONE],
      ["cmi.objectives.n.score.min", "rw", T.real(null, null), NONE],
      ["cmi.objectives.n.score.max", "rw", T.real(null, null), NONE],
      ["cmi.objectives.n.success_status", "rw", T.vocab(SUCCESS), "unknown"],
      ["cmi.objectives.n.completion_status", "rw", T.vocab(COMPLETION), "unknown"],
      ["cmi.objectives.n.progress_measure", "rw", T.real(0, 1), NONE],
      ["cmi.objectives.n.description", "rw", T.langStr(250), NONE],
      ["cmi.progress_measure", "rw", T.real(0, 1), NONE],
      ["cmi.scaled_passing_score", "ro", null, LAUNCH],
      ["cmi.score.scaled", "rw", T.real(-1, 1), NONE],
      ["cmi.score.raw", "rw", T.real(null, null), NONE],
      ["cmi.score.min", "rw", T.real(null, null), NONE],
      ["cmi.score.max", "rw", T.real(null, null), NONE],
      ["cmi.session_time", "wo", T.duration, ""],
      ["cmi.success_status", "rw", T.vocab(SUCCESS), EVAL],
      ["cmi.suspend_data", "rw", T.charStr(64000), NONE],
      ["cmi.time_limit_action", "ro", null, LAUNCH],
      ["cmi.total_time", "ro", null, LAUNCH],
      ["adl.nav.request", "rw", T.navRequest, "_none_"],
      ["adl.nav.request_valid.continue", "ro", VALID, LAUNCH],
      ["adl.nav.request_valid.previous", "ro", VALID, LAUNCH],
      ["adl.nav.request_valid.choice.{target=}", "ro", VALID, "unknown"],
      ["adl.nav.request_valid.jump.{target=}", "ro", VALID, "unknown"],
      ["adl.data.n.id", "ro", null, LAUNCH],
      ["adl.data.n.store", "rw", T.charStr(64000), NONE],
    ],
    children: {
      cmi: "_version,comments_from_learner,comments_from_lms,completion_status,completion_threshold,credit,entry,exit,interactions,launch_data,learner_id,learner_name,learner_preference,location,max_time_allowed,mode,objectives,progress_measure,scaled_passing_score,score,session_time,success_status,suspend_data,time_limit_action,total_time",
      "cmi.comments_from_learner": "comment,location,timestamp",
      "cmi.comments_from_lms": "comment,location,timestamp",
      "cmi.interactions": "id,type,objectives,timestamp,correct_responses,weighting,learner_response,result,latency,description",
      "cmi.learner_preference": "audio_level,language,delivery_speed,audio_captioning",
      "cmi.objectives": "id,score,success_status,completion_status,progress_measure,description",
      "cmi.objectives.n.score": "scaled,raw,min,max",
      "cmi.score": "scaled,raw,min,max",
      "adl.data": "id,store",
    },
    collections: {
      "cmi.comments_from_learner": 250,
      "cmi.comments_from_lms": 100,
      "cmi.interactions": 250,
      "cmi.interactions.n.objectives": 10,
      "cmi.interactions.n.correct_responses": 0,
      "cmi.objectives": 100,
      "adl.data": 0,
    },
  };

  function compile(model) {
    model.byPattern = {};
    model.containers = {};
    model.elements.forEach(function (e) {
      model.byPattern[e[0]] = { access: e[1], check: e[2], init: e[3] };
      var parts = e[0].split(".");
      for (var i = 1; i < parts.length; i++) model.containers[parts.slice(0, i).join(".")] = true;
    });
    return model;
  }
  compile(MODEL_12);
  compile(MODEL_2004);

  // Splits an element name into its pattern (every all-digit segment becomes "n") and the
  // collection levels it goes through. null when it cannot be an element: an empty
  // segment, or an index with a leading zero (RTE 4.1.1.3: "15", not "0015").
  function parseName(name) {
    var nav = /^adl\.nav\.request_valid\.(choice|jump)\./.exec(name);
    if (nav) {
      var target = name.slice(nav[0].length);
      if (target.slice(0, 8) !== "{target=" || target.slice(-1) !== "}" || target.length <= 9) return null;
      return { pattern: nav[0] + "{target=}", levels: [] };
    }
    var segs = name.split(".");
    var pattern = [];
    var levels = [];
    for (var i = 0; i < segs.length; i++) {
      var s = segs[i];
      if (s === "") return null;
      if (/^\d+$/.test(s)) {
        if (s.length > 1 && s[0] === "0") return null;
        levels.push({ path: segs.slice(0, i).join("."), pattern: pattern.join("."), n: Number(s) });
        pattern.push("n");
      } else {
        pattern.push(s);
      }
    }
    return { pattern: pattern.join("."), levels: levels };
  }

  return {
    MODEL_12: MODEL_12,
    MODEL_2004: MODEL_2004,
    NONE: NONE,
    LAUNCH: LAUNCH,
    EVAL: EVAL,
    parseName: parseName,
  };
});
