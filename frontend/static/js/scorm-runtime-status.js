// Cairn SCORM run-time, part "status": how an attempt's status is determined: SCORM 2004
// completion_status and success_status evaluated on every read from the completion
// threshold and progress measure, the scaled passing score and scaled score (RTE 4.2.4.1
// and 4.2.22.1), and the outcome of a session as the LMS records it, with the SCORM 1.2
// lesson_status rules (mastery score, browse and normal mode). Mirrors
// crates/cairn-scorm/src/runtime/status.rs (its time arithmetic and the rest of finish()
// are the server's).
//
// Both functions read a session's values (what the SCO set and the resumed data) and its
// launch data; they change nothing.
"use strict";

(function (root, name, make) {
  if (typeof module !== "undefined" && module.exports) return void (module.exports = make);
  var ns = (root.CairnScorm = root.CairnScorm || {});
  (ns.parts = ns.parts || {})[name] = make;
})(typeof window !== "undefined" ? window : this, "status", function (need) {
  var types = need("types");
  var REAL = types.REAL;
  var DECIMAL_12 = types.DECIMAL_12;

  function has(obj, k) {
    return Object.prototype.hasOwnProperty.call(obj, k);
  }
  function given(v) {
    return v !== undefined && v !== null;
  }

  // ---------------------------------------------------------------- 2004 evaluation
  function realValue(values, k) {
    return has(values, k) && REAL.test(values[k]) ? Number(values[k]) : null;
  }
  // The value GetValue answers for cmi.completion_status and cmi.success_status.
  function evaluated(values, launch, name) {
    if (name === "cmi.completion_status") {
      if (given(launch.completion_threshold)) {
        // With a threshold the progress measure decides whatever the SCO set; without a
        // progress measure the status is unknown (RTE Table 4.2.4.1a).
        var p = realValue(values, "cmi.progress_measure");
        if (p === null) return "unknown";
        return p >= Number(launch.completion_threshold) ? "completed" : "incomplete";
      }
    } else if (given(launch.scaled_passing_score)) {
      var s = realValue(values, "cmi.score.scaled");
      if (s === null) return "unknown";
      return s >= Number(launch.scaled_passing_score) ? "passed" : "failed";
    }
    return has(values, name) ? values[name] : "unknown";
  }

  // ---------------------------------------------------------------- outcome
  // The outcome of the session as the LMS records it (scorm.md 2.7), as the Rust side
  // computes it. 1.2: in normal mode with credit, a mastery score and a raw score decide
  // passed/failed; a status still "not attempted" becomes "browsed" in browse mode and
  // "completed" in normal mode.
  function outcome(values, launch, v12) {
    if (!v12) {
      return {
        completion: evaluated(values, launch, "cmi.completion_status"),
        success: evaluated(values, launch, "cmi.success_status"),
        suspended: values["cmi.exit"] === "suspend" || values["adl.nav.request"] === "suspendAll",
      };
    }
    var status = has(values, "cmi.core.lesson_status") ? values["cmi.core.lesson_status"] : "not attempted";
    var mode = launch.mode || "normal";
    var raw = values["cmi.core.score.raw"];
    if (mode === "normal" && launch.credit !== false && given(launch.mastery_score) &&
      given(raw) && DECIMAL_12.test(raw)) {
      status = Number(raw) >= Number(launch.mastery_score) ? "passed" : "failed";
    } else if (status === "not attempted" && mode !== "review") {
      status = mode === "browse" ? "browsed" : "completed";
    }
    var completion = { passed: "completed", completed: "completed", failed: "completed", browsed: "browsed",
      incomplete: "incomplete" }[status] || "not attempted";
    return {
      status: status,
      completion: completion,
      success: status === "passed" || status === "failed" ? status : "unknown",
      suspended: values["cmi.core.exit"] === "suspend",
    };
  }

  return { evaluated: evaluated, outcome: outcome };
});
