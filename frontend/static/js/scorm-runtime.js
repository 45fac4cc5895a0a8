// Cairn SCORM run-time: the SCORM 1.2 and SCORM 2004 (4th edition) data models and the
// API objects a SCO talks to. Pure and synchronous: GetValue/SetValue are answered from
// memory; Commit/Terminate hand the data to hooks (scorm-player.js delivers it).
//
// Usage:  var s = CairnScorm.createSession("2004", launch, { onCommit, onTerminate });
//         window.API_1484_11 = s.api();
// In Node: const { createSession } = require("./scorm-runtime.js");
//
// The same rules are implemented in Rust (crates/cairn-scorm/src/runtime), which the server
// uses to re-check every commit; crates/cairn-scorm/vectors/runtime.json holds the test
// vectors both must pass. The choices where players disagree (scorm.md §2):
// * SCORM 1.2 suspend_data takes up to 65536 characters (real content needs more than the
//   spec's 4096); launch.strict = true holds it to 4096.
// * SCORM 2004 values longer than their smallest permitted maximum (SPM) are accepted
//   (true, error 0, RTE 3.1.7.6.7) up to four times the SPM, and collections up to four
//   times their SPM in records; beyond that 406 / 351, so a runaway SCO cannot fill storage.
// * Lengths count characters (Unicode code points), not UTF-16 units.
// * GetDiagnostic returns the text of the error; the detailed reason is session.lastReason().
//
// This file is the entry point; the rules live in its parts, beside it, one area each:
//   scorm-runtime-types.js        CMI data types, vocabularies, time formats (types.rs, time.rs)
//   scorm-runtime-responses.js    2004 interaction responses (responses.rs)
//   scorm-runtime-tables.js       the element tables of 1.2 and 2004 (table.rs, scorm12.rs,
//                                 scorm2004.rs)
//   scorm-runtime-collections.js  collection records and their order rules (collections.rs)
//   scorm-runtime-status.js       status evaluation and the outcome (status.rs)
//   scorm-runtime-session.js      error codes, the state machine, get/set (state.rs,
//                                 datamodel.rs)
// Each part is a factory make(need) that builds nothing when loaded: in the browser it
// registers itself in CairnScorm.parts, in Node it is module.exports. The parts may load in
// any order; this file comes after them (the player page loads them all, then this, as
// plain scripts), builds each part once with need(name) giving it the parts it uses, and
// replaces CairnScorm with the public object { createSession, ERRORS_12, ERRORS_2004 }.
"use strict";

(function (root) {
  var PARTS = ["types", "responses", "tables", "collections", "status", "session"];
  var node = typeof module !== "undefined" && module.exports;
  var factories = {};
  PARTS.forEach(function (name) {
    factories[name] = node
      ? require("./scorm-runtime-" + name + ".js")
      : root.CairnScorm && root.CairnScorm.parts && root.CairnScorm.parts[name];
  });

  var built = {};
  function need(name) {
    if (built[name] === null) throw new Error("scorm-runtime.js: the parts need each other in a circle at " + name);
    if (built[name] === undefined) {
      if (typeof factories[name] !== "function") {
        throw new Error("scorm-runtime.js: load scorm-runtime-" + name + ".js before this file");
      }
      built[name] = null;
      built[name] = factories[name](need);
    }
    return built[name];
  }
  PARTS.forEach(need);

  var session = need("session");
  var exported = { createSession: session.createSession, ERRORS_12: session.ERRORS_12, ERRORS_2004: session.ERRORS_2004 };
  if (node) module.exports = exported;
  else root.CairnScorm = exported;
})(typeof window !== "undefined" ? window : this);
