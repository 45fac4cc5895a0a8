// Unit tests of the SCORM data model and API state machine (frontend/static/js/scorm-runtime.js).
// Cases are tables of steps: [method, [args...], expected return, expected error after the call].
import { test } from "node:test";
import assert from "node:assert/strict";
import { createRequire } from "node:module";

const require = createRequire(import.meta.url);
const { createSession } = require("../static/js/scorm-runtime.js");

function run(name, version, launch, steps, hooks) {
  const s = createSession(version, launch, hooks);
  steps.forEach(([method, args, ret, code], i) => {
    const got = s.call(method, args);
    const err = s.lastError();
    assert.equal(got, ret, `${name}: step ${i} ${method}(${JSON.stringify(args).slice(0, 80)}) returned`);
    assert.equal(err, code, `${name}: step ${i} ${method}(${JSON.stringify(args).slice(0, 80)}) error code`);
  });
  return s;
}
const INIT12 = ["LMSInitialize", [""], "true", 0];
const INIT = ["Initialize", [""], "true", 0];
const g = (el, ret, code = 0) => ["GetValue", [el], ret, code];
const st = (el, v, ret = "true", code = 0) => ["SetValue", [el, v], ret, code];
const g12 = (el, ret, code = 0) => ["LMSGetValue", [el], ret, code];
const s12 = (el, v, ret = "true", code = 0) => ["LMSSetValue", [el, v], ret, code];

const CASES_2004 = [
  ["state: before init", {}, [
    g("cmi.mode", "", 122), st("cmi.location", "x", "false", 132), ["Commit", [""], "false", 142],
    ["Terminate", [""], "false", 112], ["GetLastError", [], "112", 112],
    ["GetErrorString", ["112"], "Termination Before Initialization", 112],
    ["Initialize", ["x"], "false", 201], INIT, ["Initialize", [""], "false", 103],
    g("cmi.mode", "normal"), ["Commit", ["x"], "false", 201], ["Commit", [""], "true", 0],
    ["Terminate", ["x"], "false", 201], ["Terminate", [""], "true", 0],
    ["Terminate", [""], "false", 113], g("cmi.mode", "", 123), st("cmi.location", "x", "false", 133),
    ["Commit", [""], "false", 143], ["Initialize", [""], "false", 104],
  ]],
  ["successful get resets the error", {}, [
    INIT, g("cmi.bogus", "", 401), ["GetLastError", [], "401", 401], ["GetDiagnostic", [""], "Undefined Data Model Element", 401],
    g("cmi.mode", "normal", 0), ["GetErrorString", ["999"], "", 0], ["GetErrorString", [""], "", 0],
  ]],
  ["keywords", {}, [
    INIT, g("cmi._version", "1.0"), st("cmi._version", "2", "false", 404), g("cmi.score._children", "scaled,raw,min,max"),
    g("cmi.learner_name._children", "", 301), g("cmi.learner_name._count", "", 301), g("cmi.score._version", "", 301),
    g("cmi.objectives._count", "0"), st("cmi.objectives._count", "1", "false", 404),
    st("cmi.score._children", "x", "false", 404), g("cmi.bogus._children", "", 401), g("", "", 301), st("", "x", "false", 351),
    g("cmi.interactions._children", "id,type,objectives,timestamp,correct_responses,weighting,learner_response,result,latency,description"),
    g("cmi.learner_preference._children", "audio_level,language,delivery_speed,audio_captioning"),
  ]],
  ["defaults, 403 and access", { learner_id: "u1", learner_name: "Doe, Jane" }, [
    INIT, g("cmi.learner_id", "u1"), g("cmi.learner_name", "Doe, Jane"), g("cmi.credit", "credit"), g("cmi.entry", "ab-initio"),
    g("cmi.mode", "normal"), g("cmi.total_time", "PT0S"), g("cmi.time_limit_action", "continue,no message"),
    g("cmi.location", "", 403), g("cmi.suspend_data", "", 403), g("cmi.score.raw", "", 403), g("cmi.progress_measure", "", 403),
    g("cmi.completion_threshold", "", 403), g("cmi.scaled_passing_score", "", 403), g("cmi.max_time_allowed", "", 403),
    g("cmi.completion_status", "unknown"), g("cmi.success_status", "unknown"), g("cmi.launch_data", ""),
    g("cmi.learner_preference.audio_level", "1"), g("cmi.learner_preference.audio_captioning", "0"),
    g("cmi.exit", "", 405), g("cmi.session_time", "", 405), g("adl.nav.request", "_none_"),
    g("adl.nav.request_valid.continue", "unknown"), st("adl.nav.request_valid.continue", "true", "false", 404),
    st("cmi.learner_id", "x", "false", 404), st("cmi.credit", "no-credit", "false", 404), st("cmi.total_time", "PT1S", "false", 404),
    st("cmi.completion_threshold", "0.5", "false", 404), st("cmi.mode", "review", "false", 404),
    st("cmi.location", "p3"), g("cmi.location", "p3"), st("cmi.suspend_data", ""), g("cmi.suspend_data", ""),
  ]],
  ["types and ranges", {}, [
    INIT, st("cmi.completion_status", "finished", "false", 406), st("cmi.completion_status", "completed"),
    st("cmi.success_status", "passed"), st("cmi.success_status", "Passed", "false", 406),
    st("cmi.exit", "quit", "false", 406), st("cmi.exit", "suspend"), st("cmi.exit", ""), st("cmi.exit", "normal"),
    st("cmi.session_time", "1:30:00", "false", 406), st("cmi.session_time", "PT1H30M"), st("cmi.session_time", "P", "false", 406),
    st("cmi.session_time", "PT", "false", 406), st("cmi.session_time", "PT1.123S", "false", 406), st("cmi.session_time", "P1Y2M3DT4H5M6.78S"),
    st("cmi.score.scaled", "1.5", "false", 407), st("cmi.score.scaled", "-1"), st("cmi.score.scaled", "abc", "false", 406),
    st("cmi.score.raw", "", "false", 406), st("cmi.score.raw", "-250.5"), g("cmi.score.raw", "-250.5"),
    st("cmi.progress_measure", "-0.1", "false", 407), st("cmi.progress_measure", "0.25"),
    st("cmi.learner_preference.audio_level", "-1", "false", 407), st("cmi.learner_preference.audio_level", "2"),
    st("cmi.learner_preference.audio_captioning", "2", "false", 407), st("cmi.learner_preference.audio_captioning", "1.0", "false", 406), st("cmi.learner_preference.language", "en-US"),
    st("cmi.learner_preference.language", ""), st("cmi.learner_preference.language", "english language", "false", 406),
    st("adl.nav.request", "continue"), st("adl.nav.request", "{target=sco-2}choice"), st("adl.nav.request", "jump", "false", 406),
  ]],
  ["timestamps", { strict: true }, [
    INIT, st("cmi.comments_from_learner.0.timestamp", "2024-02-30T10:00:00", "false", 406),
    st("cmi.comments_from_learner.0.timestamp", "2024-02-29T10:00:00.5+02:00"), g("cmi.comments_from_learner._count", "1"),
    st("cmi.comments_from_learner.0.timestamp", "2039-01-01", "false", 406), st("cmi.comments_from_learner.0.timestamp", "2005"),
    st("cmi.comments_from_learner.0.timestamp", "2005-13", "false", 406), st("cmi.comments_from_learner.0.timestamp", "2005-10-03T25:00", "false", 406),
    st("cmi.comments_from_learner.0.timestamp", "2005-10-03T09:00:00Z"), g("cmi.comments_from_learner.0.comment", ""),
    st("cmi.comments_from_learner.0.comment", "{lang=en}Nice"), st("cmi.comments_from_learner.0.comment", "{lang=}x", "false", 406),
    st("cmi.comments_from_learner.2.comment", "x", "false", 351), st("cmi.comments_from_learner.1.location", "p1"),
    g("cmi.comments_from_learner.1.timestamp", "", 403), st("cmi.comments_from_lms.0.comment", "x", "false", 404),
  ]],
  ["objectives", { objective_ids: ["obj-a"] }, [
    INIT, g("cmi.objectives._count", "1"), g("cmi.objectives.0.id", "obj-a"), g("cmi.objectives.0.success_status", "unknown"),
    g("cmi.objectives.0.score.scaled", "", 403), g("cmi.objectives.0.description", "", 403), g("cmi.objectives.1.id", "", 301),
    st("cmi.objectives.1.score.raw", "5", "false", 408), st("cmi.objectives.2.id", "x", "false", 351),
    st("cmi.objectives.1.id", "obj-a", "false", 351), g("cmi.objectives._count", "1"), g("cmi.objectives.1.id", "", 301),
    st("cmi.objectives.1.id", "obj-b"), st("cmi.objectives.1.id", "obj-b"), st("cmi.objectives.1.id", "obj-c", "false", 351),
    st("cmi.objectives.1.score.scaled", "0.5"), st("cmi.objectives.1.completion_status", "completed"),
    st("cmi.objectives.1.progress_measure", "2", "false", 407), g("cmi.objectives.0.score._children", "scaled,raw,min,max"),
    st("cmi.objectives.01.id", "x", "false", 401), st("cmi.objectives.1.id", "", "false", 406),
  ]],
  ["interactions", {}, [
    INIT, st("cmi.interactions.0.type", "choice", "false", 408), st("cmi.interactions.0.objectives.0.id", "o", "false", 408),
    st("cmi.interactions.1.id", "q", "false", 351), st("cmi.interactions.0.id", "urn:x", "false", 406),
    st("cmi.interactions.0.id", "q1"), g("cmi.interactions.0.type", ""), g("cmi.interactions.0.result", "", 403),
    st("cmi.interactions.0.learner_response", "a", "false", 408), st("cmi.interactions.0.correct_responses.0.pattern", "a", "false", 408),
    st("cmi.interactions.0.type", "true-false"), st("cmi.interactions.0.learner_response", "yes", "false", 406),
    st("cmi.interactions.0.learner_response", "true"), st("cmi.interactions.0.correct_responses.0.pattern", "false"),
    st("cmi.interactions.0.correct_responses.1.pattern", "true", "false", 351), g("cmi.interactions.0.correct_responses._count", "1"),
    st("cmi.interactions.0.objectives.0.id", "obj"), st("cmi.interactions.0.objectives.1.id", "obj", "false", 351),
    st("cmi.interactions.0.result", "incorrect"), st("cmi.interactions.0.result", "wrong", "false", 406), st("cmi.interactions.0.result", "0.5"),
    st("cmi.interactions.0.latency", "PT5S"), st("cmi.interactions.0.weighting", "1.5"), st("cmi.interactions.0.timestamp", "2024-01-01T00:00:00"),
    st("cmi.interactions.0.description", "{lang=de}Frage"), g("cmi.interactions.0.description", "{lang=de}Frage"),
    st("cmi.interactions.1.id", "q1", "false", 351), st("cmi.interactions.1.id", "q2"), st("cmi.interactions.1.type", "numeric"),
    st("cmi.interactions.1.correct_responses.0.pattern", "10[:]20"), st("cmi.interactions.1.learner_response", "12.5"),
    st("cmi.interactions.1.learner_response", "x", "false", 406),
  ]],
  ["response formats", {}, [
    INIT,
    ...[
      ["choice", "a[,]b", true], ["choice", "a[,]a", false], ["choice", "", true], ["choice", "a,b", false],
      ["sequencing", "a[,]b[,]a", true], ["likert", "strongly_agree", true], ["likert", "a b", false],
      ["matching", "1[.]a[,]2[.]b", true], ["matching", "1.a,2.b", false], ["matching", "1[.]", false],
      ["fill-in", "{case_matters=true}{order_matters=false}a[,]{lang=en}b", true], ["fill-in", "{case_matters=yes}a", false],
      ["long-fill-in", "{case_matters=false}{lang=fr}Bonjour", true], ["long-fill-in", "{order_matters=true}x", false],
      ["performance", "{order_matters=false}s1[.]a[,][.]5[:]9", true], ["performance", "[.]", false],
      ["numeric", "[:]5", true], ["numeric", "9[:]1", false], ["numeric", "10:20", false], ["numeric", "7", true], ["other", "anything [,] at all", true],
    ].flatMap(([type, pattern, good], i) => [
      st(`cmi.interactions.${i}.id`, `q${i}`), st(`cmi.interactions.${i}.type`, type),
      st(`cmi.interactions.${i}.correct_responses.0.pattern`, pattern, good ? "true" : "false", good ? 0 : 406),
    ]),
  ]],
  ["pattern limits and dependencies", {}, [
    INIT, st("cmi.interactions.0.id", "q"), st("cmi.interactions.0.type", "likert"),
    st("cmi.interactions.0.correct_responses.0.pattern", "agree"),
    st("cmi.interactions.0.correct_responses.1.pattern", "not valid!", "false", 351), // the limit comes before the format
    st("cmi.interactions.0.type", "choice"),
    ...Array.from({ length: 9 }, (_, i) => st(`cmi.interactions.0.correct_responses.${i + 1}.pattern`, `c${i}`)),
    st("cmi.interactions.0.correct_responses.10.pattern", "c99", "false", 351),
    st("cmi.interactions.0.learner_response", "c1[,]c2"), st("cmi.interactions.0.learner_response", "c1[,]c1", "false", 406),
  ]],
  ["completion evaluation with threshold", { completion_threshold: 0.8 }, [
    INIT, g("cmi.completion_threshold", "0.8"), st("cmi.completion_status", "completed"), g("cmi.completion_status", "unknown"),
    st("cmi.progress_measure", "0.5"), g("cmi.completion_status", "incomplete"), st("cmi.progress_measure", "0.8"),
    g("cmi.completion_status", "completed"),
  ]],
  ["completion without threshold", {}, [
    INIT, st("cmi.progress_measure", "0.1"), st("cmi.completion_status", "completed"), g("cmi.completion_status", "completed"),
  ]],
  ["success evaluation", { scaled_passing_score: 0.7 }, [
    INIT, st("cmi.success_status", "passed"), g("cmi.success_status", "unknown"), st("cmi.score.scaled", "0.69"),
    g("cmi.success_status", "failed"), st("cmi.score.scaled", "0.7"), g("cmi.success_status", "passed"),
  ]],
  ["SPM exceeded is stored", {}, [
    INIT, st("cmi.suspend_data", "x".repeat(64001)), g("cmi.suspend_data", "x".repeat(64001)),
    st("cmi.suspend_data", "x".repeat(256000)), st("cmi.suspend_data", "x".repeat(256001), "false", 406),
    st("cmi.location", "y".repeat(1001)), g("cmi.location", "y".repeat(1001)), st("cmi.location", "y".repeat(4001), "false", 406),
    // code points, not UTF-16 units: 4000 emoji are 4000 characters (8000 units)
    st("cmi.location", "\u{1F600}".repeat(4000)), st("cmi.location", "\u{1F600}".repeat(4001), "false", 406),
  ]],
  ["resume", { entry: "resume", suspended: { "cmi.location": "p7", "cmi.suspend_data": "abc", "cmi.exit": "suspend",
    "cmi.objectives.0.id": "o1", "cmi.objectives.0.success_status": "passed", "cmi.session_time": "PT1M",
    "adl.nav.request": "exitAll" }, learner_id: "u1", total_time: "PT1H", objective_ids: ["o1", "o2"] }, [
    INIT, g("cmi.entry", "resume"), g("cmi.location", "p7"), g("cmi.suspend_data", "abc"), g("cmi.objectives._count", "2"),
    g("cmi.objectives.0.success_status", "passed"), g("cmi.objectives.1.id", "o2"), g("cmi.learner_id", "u1"),
    g("cmi.total_time", "PT1H"), g("adl.nav.request", "_none_"), st("cmi.objectives.2.id", "o1", "false", 351),
  ]],
];

const CASES_12 = [
  ["1.2 state machine", {}, [
    g12("cmi.core.lesson_status", "", 301), s12("cmi.core.lesson_location", "x", "false", 301), ["LMSCommit", [""], "false", 301],
    ["LMSFinish", [""], "false", 301], ["LMSInitialize", ["x"], "false", 201], INIT12, ["LMSInitialize", [""], "false", 101],
    ["LMSCommit", ["x"], "false", 201], ["LMSCommit", [""], "true", 0], ["LMSFinish", [""], "true", 0], ["LMSFinish", [""], "false", 301],
    g12("cmi.core.lesson_status", "", 301), ["LMSInitialize", [""], "false", 101], ["LMSGetErrorString", ["101"], "General exception", 101],
  ]],
  ["1.2 model", { learner_id: "u1", learner_name: "Doe, Jane", mastery_score: 80, mode: "normal", credit: false }, [
    INIT12, g12("cmi._version", "3.4"), g12("cmi.core.student_id", "u1"), g12("cmi.core.student_name", "Doe, Jane"),
    g12("cmi.core.credit", "no-credit"), g12("cmi.core.entry", "ab-initio"), g12("cmi.core.lesson_status", "not attempted"),
    g12("cmi.core.lesson_mode", "normal"), g12("cmi.core.total_time", "0000:00:00.00"), g12("cmi.student_data.mastery_score", "80"),
    g12("cmi.core._children", "student_id,student_name,lesson_location,credit,lesson_status,entry,score,total_time,lesson_mode,exit,session_time"),
    g12("cmi.core.score._children", "raw,min,max"), g12("cmi.core.student_id._children", "", 202), g12("cmi.core._count", "", 203),
    g12("cmi.core.bogus", "", 201), g12("cmi.bogus.x", "", 401), g12("", "", 201), g12("cmi.suspend_data.x", "", 401),
    g12("cmi.objectives.01.id", "", 401), g12("cmi.core._version", "", 201), g12("cmi.objectives._children", "id,score,status"),
    s12("cmi.core._children", "x", "false", 402), s12("cmi.objectives._count", "1", "false", 402),
    s12("cmi.core.student_id", "x", "false", 403), s12("cmi.launch_data", "x", "false", 403),
    g12("cmi.core.exit", "", 404), g12("cmi.core.session_time", "", 404),
    s12("cmi.core.lesson_status", "not attempted", "false", 405), s12("cmi.core.lesson_status", "finished", "false", 405),
    s12("cmi.core.lesson_status", "passed"), g12("cmi.core.lesson_status", "passed"),
    s12("cmi.core.score.raw", "150", "false", 405), s12("cmi.core.score.raw", "85.5"), s12("cmi.core.score.raw", ""),
    s12("cmi.core.score.raw", "abc", "false", 405), s12("cmi.core.lesson_location", "x".repeat(256), "false", 405),
    s12("cmi.core.exit", "suspend"), s12("cmi.core.exit", "quit", "false", 405), s12("cmi.core.exit", "normal", "false", 405),
    s12("cmi.core.session_time", "0001:30:00"), s12("cmi.core.session_time", "PT1H", "false", 405),
    s12("cmi.student_preference.audio", "-2", "false", 405), s12("cmi.student_preference.audio", "50"), s12("cmi.student_preference.text", "1"),
    s12("cmi.student_preference.speed", "", "false", 405),
    s12("cmi.objectives.1.id", "o", "false", 201), s12("cmi.objectives.0.id", "obj 1", "false", 405), s12("cmi.objectives.0.id", "obj1"), g12("cmi.objectives._count", "1"),
    s12("cmi.objectives.0.status", "not attempted"), g12("cmi.objectives.0.status", "not attempted"), g12("cmi.objectives.3.id", "", 201),
    s12("cmi.interactions.0.id", "q1"), g12("cmi.interactions.0.id", "", 404), g12("cmi.interactions._count", "1"),
    s12("cmi.interactions.0.type", "true-false"), s12("cmi.interactions.0.student_response", "t"),
    s12("cmi.interactions.0.student_response", "x".repeat(256), "false", 405), s12("cmi.interactions.0.result", "wrong"),
    s12("cmi.interactions.0.time", "25:00:00", "false", 405), s12("cmi.interactions.0.time", "13:05:00"),
    s12("cmi.interactions.0.objectives.0.id", "obj1"), g12("cmi.interactions.0.objectives._count", "1"),
    s12("cmi.suspend_data", "x".repeat(65536)), s12("cmi.suspend_data", "x".repeat(65537), "false", 405), ["LMSGetErrorString", ["203"], "Element not an array - cannot have count", 405],
  ]],
  ["1.2 strict", { strict: true }, [
    INIT12, s12("cmi.suspend_data", "x".repeat(4097), "false", 405), s12("cmi.suspend_data", "x".repeat(4096)),
    s12("cmi.core.session_time", "12345:00:00", "false", 405),
  ]],
];

for (const [name, launch, steps] of CASES_2004) test(`2004 ${name}`, () => run(name, "2004", launch, steps));
for (const [name, launch, steps] of CASES_12) test(name, () => run(name, "1.2", launch, steps));

test("commit and terminate hand dirty data and a snapshot to the hooks", () => {
  const calls = [];
  const s = createSession("2004", { learner_id: "u1" }, {
    onCommit: (dirty, snap) => (calls.push(["commit", dirty, snap["cmi.learner_id"]]), true),
    onTerminate: (snap) => (calls.push(["terminate", snap["cmi.location"], snap["cmi.exit"]]), true),
  });
  s.call("Initialize", [""]);
  s.call("SetValue", ["cmi.location", "p1"]);
  s.call("SetValue", ["cmi.objectives.0.id", "o"]);
  assert.deepEqual(s.dirty(), { "cmi.location": "p1", "cmi.objectives.0.id": "o" });
  assert.equal(s.call("Commit", [""]), "true");
  assert.deepEqual(s.dirty(), {});
  s.call("SetValue", ["cmi.exit", "suspend"]);
  assert.equal(s.call("Terminate", [""]), "true");
  assert.deepEqual(calls, [
    ["commit", { "cmi.location": "p1", "cmi.objectives.0.id": "o" }, undefined], // launch values are not attempt data
    ["terminate", "p1", "suspend"],
  ]);
  assert.deepEqual(s.outcome(), { completion: "unknown", success: "unknown", suspended: true });
});

test("failed storage: 2004 Commit 391, Terminate 111 and stays running; 1.2 gives 101", () => {
  const fail = { onCommit: () => false, onTerminate: () => false };
  run("2004 storage failure", "2004", {}, [
    INIT, st("cmi.location", "a"), ["Commit", [""], "false", 391], ["Terminate", [""], "false", 111], g("cmi.location", "a"),
  ], fail);
  run("1.2 storage failure", "1.2", {}, [INIT12, ["LMSCommit", [""], "false", 101], ["LMSFinish", [""], "false", 101]], fail);
});

test("api() objects carry the standard method names and the 2004 version property", () => {
  const a = createSession("2004").api();
  assert.equal(a.version, "1.0");
  assert.deepEqual(Object.keys(a).sort(), ["Commit", "GetDiagnostic", "GetErrorString", "GetLastError", "GetValue",
    "Initialize", "SetValue", "Terminate", "version"]);
  assert.equal(a.Initialize(""), "true");
  assert.equal(a.SetValue("cmi.score.raw", 85), "true");
  assert.equal(a.GetValue("cmi.score.raw"), "85");
  const b = createSession("1.2").api();
  assert.equal(b.LMSInitialize(), "true");
  assert.equal(b.LMSGetLastError(), "0");
  assert.equal(b.version, undefined);
});

test("1.2 outcome: mastery score decides, untouched status completes, browse mode browses", () => {
  const s = createSession("1.2", { mastery_score: 80 });
  s.call("LMSInitialize", [""]);
  s.call("LMSSetValue", ["cmi.core.score.raw", "79"]);
  s.call("LMSSetValue", ["cmi.core.lesson_status", "completed"]);
  assert.deepEqual(s.outcome(), { status: "failed", completion: "completed", success: "failed", suspended: false });
  const b = createSession("1.2", { mode: "browse" });
  b.call("LMSInitialize", [""]);
  assert.equal(b.outcome().status, "browsed");
  const n = createSession("1.2", {});
  n.call("LMSInitialize", [""]);
  assert.equal(n.outcome().status, "completed");
});

test("GetDiagnostic gives the error text; lastReason() keeps the detail for logs", () => {
  const s = createSession("2004", {});
  s.call("Initialize", [""]);
  assert.equal(s.call("SetValue", ["cmi.score.scaled", "2"]), "false");
  assert.equal(s.call("GetDiagnostic", [""]), "Data Model Element Value Out Of Range");
  assert.equal(s.call("GetDiagnostic", ["406"]), "Data Model Element Type Mismatch");
  assert.equal(s.call("GetDiagnostic", ["999"]), "");
  assert.match(s.lastReason(), /cmi\.score\.scaled: 2 is outside -1\.\.1/);
  assert.equal(s.call("Bogus", []), "false");
  assert.equal(s.lastError(), 101);
});
