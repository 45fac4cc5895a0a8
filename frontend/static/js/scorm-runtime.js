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
"use strict";

(function (root) {
  // ---------------------------------------------------------------- error codes
  var ERRORS_12 = {
    0: "No error",
    101: "General exception",
    201: "Invalid argument error",
    202: "Element cannot have children",
    203: "Element not an array - cannot have count",
    301: "Not initialized",
    401: "Not implemented error",
    402: "Invalid set value, element is a keyword",
    403: "Element is read only",
    404: "Element is write only",
    405: "Incorrect data type",
  };
  var ERRORS_2004 = {
    0: "No Error",
    101: "General Exception",
    102: "General Initialization Failure",
    103: "Already Initialized",
    104: "Content Instance Terminated",
    111: "General Termination Failure",
    112: "Termination Before Initialization",
    113: "Termination After Termination",
    122: "Retrieve Data Before Initialization",
    123: "Retrieve Data After Termination",
    132: "Store Data Before Initialization",
    133: "Store Data After Termination",
    142: "Commit Before Initialization",
    143: "Commit After Termination",
    201: "General Argument Error",
    301: "General Get Failure",
    351: "General Set Failure",
    391: "General Commit Failure",
    401: "Undefined Data Model Element",
    402: "Unimplemented Data Model Element",
    403: "Data Model Element Value Not Initialized",
    404: "Data Model Element Is Read Only",
    405: "Data Model Element Is Write Only",
    406: "Data Model Element Type Mismatch",
    407: "Data Model Element Value Out Of Range",
    408: "Data Model Dependency Not Established",
  };

  // Which code each situation gets. 1.2 has fewer codes: the argument error (201) stands
  // in for failed gets and sets, and format and range failures are both 405.
  var CODES = {
    "1.2": {
      alreadyInit: 101, reinit: 101,
      getBeforeInit: 301, getAfterTerm: 301, setBeforeInit: 301, setAfterTerm: 301,
      commitBeforeInit: 301, commitAfterTerm: 301, termBeforeInit: 301, termAfterTerm: 301,
      commitFailed: 101, termFailed: 101,
      getFailure: 201, noChildren: 202, noCount: 203, writeOnly: 404, readOnly: 403, keyword: 402,
      setFailure: 201, dependency: 201, type: 405, range: 405,
    },
    "2004": {
      alreadyInit: 103, reinit: 104,
      getBeforeInit: 122, getAfterTerm: 123, setBeforeInit: 132, setAfterTerm: 133,
      commitBeforeInit: 142, commitAfterTerm: 143, termBeforeInit: 112, termAfterTerm: 113,
      commitFailed: 391, termFailed: 111,
      getFailure: 301, noChildren: 301, noCount: 301, writeOnly: 405, readOnly: 404, keyword: 404,
      setFailure: 351, dependency: 408, type: 406, range: 407,
    },
  };

  // ---------------------------------------------------------------- value checks
  // A check returns null when the value is acceptable, or [kind, reason] where kind is
  // "type" (format or vocabulary: 1.2 405, 2004 406) or "range" (1.2 405, 2004 407).
  var SPM_FACTOR = 4;
  var SUSPEND_DATA_12 = 65536;
  var SUSPEND_DATA_12_STRICT = 4096;

  function bad(why) {
    return ["type", why];
  }
  // Characters as code points: a surrogate pair is one character.
  function chars(s) {
    var pairs = s.match(/[\uD800-\uDBFF][\uDC00-\uDFFF]/g);
    return s.length - (pairs ? pairs.length : 0);
  }
  function longer(s, max) {
    return s.length > max && chars(s) > max;
  }
  function withinSpm(s, spm) {
    return longer(s, spm * SPM_FACTOR)
      ? bad("longer than " + spm * SPM_FACTOR + " characters (" + SPM_FACTOR + " times the SPM of " + spm + ")")
      : null;
  }
  function inRange(n, min, max) {
    if ((min !== null && n < min) || (max !== null && n > max)) {
      return ["range", n + " is outside " + (min === null ? "-∞" : min) + ".." + (max === null ? "∞" : max)];
    }
    return null;
  }

  // 1.2 CMIDecimal: optional minus, digits with at most one point, at least one digit.
  var DECIMAL_12 = /^-?(?:\d+(?:\.\d*)?|\.\d+)$/;
  // 2004 real(10,7): optional minus, digits, optionally a point and digits.
  var REAL = /^-?\d+(?:\.\d+)?$/;
  var INTEGER = /^-?\d+$/;
  var LANG = /^[A-Za-z]{1,8}(?:-[A-Za-z0-9]{1,8})*$/;
  var SHORT_ID_CHARS = /^[\p{Alphabetic}\p{N}\-()+.:=@;$_!*'%/#]+$/u;
  var SHORT_ID_WORD = /[\p{Alphabetic}\p{N}_]/u;

  function isShortId(s) {
    return s !== "" && !longer(s, 250 * SPM_FACTOR) && SHORT_ID_CHARS.test(s) && SHORT_ID_WORD.test(s);
  }
  function isLanguage(s) {
    return s === "" || LANG.test(s);
  }
  // Splits an optional {lang=tag} prefix off a localized string: returns the text, or null
  // when the prefix is malformed.
  function splitLang(s) {
    if (s.slice(0, 6) !== "{lang=") return s;
    var end = s.indexOf("}");
    if (end < 0) return null;
    var tag = s.slice(6, end);
    return tag !== "" && isLanguage(tag) ? s.slice(end + 1) : null;
  }

  var T = {
    // 1.2 CMIString255 / CMIString4096: a hard maximum.
    str: function (max) {
      return function (v) {
        return longer(v, max) ? bad("longer than " + max + " characters") : null;
      };
    },
    suspendData12: function (v, ctx) {
      var max = ctx.strict ? SUSPEND_DATA_12_STRICT : SUSPEND_DATA_12;
      return longer(v, max) ? bad("longer than " + max + " characters") : null;
    },
    // 1.2 CMIIdentifier: 1-255 printable ASCII characters without spaces.
    ident12: function (v) {
      return /^[\x21-\x7E]{1,255}$/.test(v) ? null : bad("an identifier is 1 to 255 printable characters without spaces");
    },
    decimal12: function (min, max, blank) {
      return function (v) {
        if (blank && v === "") return null;
        if (!DECIMAL_12.test(v)) return bad("not a decimal number");
        return inRange(Number(v), min, max);
      };
    },
    integer: function (min, max) {
      return function (v) {
        if (!INTEGER.test(v)) return bad("not an integer");
        return inRange(Number(v), min, max);
      };
    },
    time12: function (v) {
      return /^(?:[01]\d|2[0-3]):[0-5]\d:[0-5]\d(?:\.\d{1,2})?$/.test(v) ? null : bad("not a time HH:MM:SS[.SS]");
    },
    timespan12: function (v) {
      return /^\d{2,4}:\d{2}:\d{2}(?:\.\d{1,2})?$/.test(v) ? null : bad("not a timespan HHHH:MM:SS[.SS]");
    },
    result12: function (v) {
      return ["correct", "wrong", "unanticipated", "neutral"].indexOf(v) >= 0 || DECIMAL_12.test(v)
        ? null : bad("not correct, wrong, unanticipated, neutral or a number");
    },
    vocab: function (words) {
      return function (v) {
        return words.indexOf(v) >= 0 ? null : bad("not one of: " + words.map(JSON.stringify).join(", "));
      };
    },
    // 2004 characterstring with its SPM.
    charStr: function (spm) {
      return function (v) {
        return withinSpm(v, spm);
      };
    },
    // 2004 localized_string_type: optional {lang=tag}, then text within the SPM.
    langStr: function (spm) {
      return function (v) {
        var text = splitLang(v);
        return text === null ? bad("malformed {lang=...} prefix") : withinSpm(text, spm);
      };
    },
    language: function (v) {
      return isLanguage(v) ? withinSpm(v, 250) : bad("not a language tag");
    },
    real: function (min, max) {
      return function (v) {
        if (!REAL.test(v)) return bad("not a real number");
        return inRange(Number(v), min, max);
      };
    },
    // 2004 long_identifier_type: not blank; a urn: needs urn:<nid>:<nss>.
    longId: function (v) {
      if (v.trim() === "") return bad("an identifier cannot be empty");
      if (/^urn:/i.test(v)) {
        var rest = v.slice(4);
        var colon = rest.indexOf(":");
        var nid = colon < 0 ? rest : rest.slice(0, colon);
        var nss = colon < 0 ? "" : rest.slice(colon + 1);
        if (!/^[A-Za-z0-9][A-Za-z0-9-]{0,31}$/.test(nid) || nss === "") {
          return bad("a urn: identifier needs urn:<namespace>:<string>");
        }
      }
      return withinSpm(v, 4000);
    },
    timestamp: function (v) {
      return isTimestamp(v) ? null : bad("not a timestamp YYYY-MM-DDThh:mm:ss[.s][TZD] between 1970 and 2038");
    },
    duration: function (v) {
      return isDuration(v) ? null : bad("not an ISO 8601 duration P[nY][nM][nD][T[nH][nM][n[.nn]S]]");
    },
    result2004: function (v) {
      return ["correct", "incorrect", "unanticipated", "neutral"].indexOf(v) >= 0 || REAL.test(v)
        ? null : bad("not correct, incorrect, unanticipated, neutral or a number");
    },
    navRequest: function (v) {
      if (["continue", "previous", "exit", "exitAll", "abandon", "abandonAll", "suspendAll", "_none_"].indexOf(v) >= 0) {
        return null;
      }
      var m = /^\{target=([^}]*)\}(choice|jump)$/.exec(v);
      return m && isShortId(m[1]) ? null : bad("not a navigation request");
    },
    learnerResponse: function (v, ctx) {
      return checkResponse(ctx.itype || "other", v);
    },
    pattern: function (v, ctx) {
      return checkPattern(ctx.itype || "other", v);
    },
  };

  // 2004 timeinterval(second,10,2): P[nY][nM][nD][T[nH][nM][n[.n[n]]S]], at least one part,
  // and a T only when a time part follows.
  function isDuration(v) {
    var m = /^P(?:\d+Y)?(?:\d+M)?(?:\d+D)?(T(?:\d+H)?(?:\d+M)?(?:\d+(?:\.\d{1,2})?S)?)?$/.exec(v);
    return !!m && v !== "P" && m[1] !== "T";
  }
  // 2004 time(second,10,0): YYYY[-MM[-DD[Thh[:mm[:ss[.s[s]][TZD]]]]]], years 1970-2038; a
  // time zone only after the seconds; TZD is Z, +hh or +hh:mm.
  function isTimestamp(v) {
    var m = /^(\d{4})(?:-(\d{2})(?:-(\d{2})(?:T(\d{2})(?::(\d{2})(?::(\d{2})(?:\.\d{1,2})?(Z|[+-]\d{2}(?::\d{2})?)?)?)?)?)?)?$/.exec(v);
    if (!m) return false;
    var year = +m[1];
    if (year < 1970 || year > 2038) return false;
    if (m[2] !== undefined && (+m[2] < 1 || +m[2] > 12)) return false;
    if (m[3] !== undefined) {
      var days = new Date(Date.UTC(year, +m[2], 0)).getUTCDate();
      if (+m[3] < 1 || +m[3] > days) return false;
    }
    if (m[4] !== undefined && +m[4] > 23) return false;
    if (m[5] !== undefined && +m[5] > 59) return false;
    if (m[6] !== undefined && +m[6] > 59) return false;
    if (m[7] && m[7] !== "Z") {
      var tz = /^[+-](\d{2})(?::(\d{2}))?$/.exec(m[7]);
      if (+tz[1] > 23 || (tz[2] !== undefined && +tz[2] > 59)) return false;
    }
    return true;
  }

  // --- 2004 interaction responses (RTE 4.2.9): learner_response and correct_responses.n.pattern
  var ITYPES = ["true-false", "choice", "fill-in", "long-fill-in", "matching", "performance",
    "sequencing", "likert", "numeric", "other"];
  // How many correct-response patterns an interaction of each type may hold.
  function patternLimit(type) {
    if (type === "choice") return 10;
    return ["fill-in", "long-fill-in", "matching", "performance", "sequencing"].indexOf(type) >= 0 ? 5 : 1;
  }
  // A [,]-separated set of short identifiers.
  function idSet(s, allowEmpty, unique) {
    if (s === "") return allowEmpty ? null : bad("an empty response");
    var items = s.split("[,]");
    var seen = {};
    for (var i = 0; i < items.length; i++) {
      if (!isShortId(items[i])) return bad(JSON.stringify(items[i]) + " is not a short identifier");
      if (unique && seen["$" + items[i]]) return bad(JSON.stringify(items[i]) + " appears twice");
      seen["$" + items[i]] = true;
    }
    return null;
  }
  // Strips leading {case_matters=..} / {order_matters=..} modifiers (each once, true or
  // false, only those allowed); a {lang=..} ends them. Returns the rest, or null.
  function stripModifiers(s, allowed) {
    var seen = [];
    for (;;) {
      if (s[0] !== "{") return s;
      var close = s.indexOf("}");
      if (close < 0) return s;
      var body = s.slice(1, close);
      var eq = body.indexOf("=");
      if (eq < 0) return s;
      var key = body.slice(0, eq);
      var value = body.slice(eq + 1);
      if (key === "lang") return s;
      if (allowed.indexOf(key) < 0 || seen.indexOf(key) >= 0 || (value !== "true" && value !== "false")) return null;
      seen.push(key);
      s = s.slice(close + 1);
    }
  }
  function langList(s, spm) {
    var items = s.split("[,]");
    for (var i = 0; i < items.length; i++) {
      var text = splitLang(items[i]);
      if (text === null) return bad("malformed {lang=...} prefix");
      var err = withinSpm(text, spm);
      if (err) return err;
    }
    return null;
  }
  function splitOnce(s, sep) {
    var i = s.indexOf(sep);
    return i < 0 ? null : [s.slice(0, i), s.slice(i + sep.length)];
  }
  function pairs(s) {
    var items = s.split("[,]");
    for (var i = 0; i < items.length; i++) {
      var p = splitOnce(items[i], "[.]");
      if (!p || !isShortId(p[0]) || !isShortId(p[1])) return bad(JSON.stringify(items[i]) + " is not a source[.]target pair");
    }
    return null;
  }
  function steps(s) {
    var items = s.split("[,]");
    for (var i = 0; i < items.length; i++) {
      var p = splitOnce(items[i], "[.]");
      if (!p) return bad(JSON.stringify(items[i]) + " is not a step_name[.]step_answer");
      if (p[0] === "" && p[1] === "") return bad("a step needs a name or an answer");
      if (p[0] !== "" && !isShortId(p[0])) return bad(JSON.stringify(p[0]) + " is not a short identifier");
      var err = withinSpm(p[1], 250);
      if (err) return err;
    }
    return null;
  }
  function numericRange(s) {
    var p = splitOnce(s, "[:]");
    if (!p) return REAL.test(s) ? null : bad("not a number or a min[:]max range");
    var okSide = function (x) { return x === "" || REAL.test(x); };
    if (!okSide(p[0]) || !okSide(p[1])) return bad("not a min[:]max range of numbers");
    if (p[0] !== "" && p[1] !== "" && Number(p[0]) > Number(p[1])) return bad("the minimum is above the maximum");
    return null;
  }
  function checkResponse(type, v) {
    var text;
    switch (type) {
      case "true-false":
        return v === "true" || v === "false" ? null : bad("a true-false response is \"true\" or \"false\"");
      case "choice":
        return idSet(v, true, true);
      case "sequencing":
        return idSet(v, false, false);
      case "likert":
        return idSet(v, false, true) || (v.indexOf("[,]") >= 0 ? bad("a likert response is one identifier") : null);
      case "fill-in":
        return langList(v, 250);
      case "long-fill-in":
        text = splitLang(v);
        return text === null ? bad("malformed {lang=...} prefix") : withinSpm(text, 4000);
      case "matching":
        return pairs(v);
      case "performance":
        return steps(v);
      case "numeric":
        return REAL.test(v) ? null : bad("a numeric response is a real number");
      default:
        return withinSpm(v, 4000);
    }
  }
  function checkPattern(type, v) {
    var rest;
    switch (type) {
      case "fill-in":
        rest = stripModifiers(v, ["case_matters", "order_matters"]);
        return rest === null ? bad("a modifier that is not allowed here") : langList(rest, 250);
      case "long-fill-in":
        rest = stripModifiers(v, ["case_matters"]);
        return rest === null ? bad("a modifier that is not allowed here") : checkResponse("long-fill-in", rest);
      case "performance":
        rest = stripModifiers(v, ["order_matters"]);
        return rest === null ? bad("a modifier that is not allowed here") : steps(rest);
      case "numeric":
        return numericRange(v);
      default:
        return checkResponse(type, v);
    }
  }

  // ---------------------------------------------------------------- the two models
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
      ["cmi.interactions.n.correct_responses.n.pattern", "create", T.pattern, ""],
      ["cmi.interactions.n.weighting", "rw", T.real(null, null), NONE],
      ["cmi.interactions.n.learner_response", "rw", T.learnerResponse, NONE],
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

  // ---------------------------------------------------------------- session
  function createSession(version, launch, hooks) {
    version = version === "1.2" ? "1.2" : "2004";
    launch = launch || {};
    hooks = hooks || {};
    var v12 = version === "1.2";
    var M = v12 ? MODEL_12 : MODEL_2004;
    var C = CODES[version];
    var ERR = v12 ? ERRORS_12 : ERRORS_2004;
    var strict = !!launch.strict;

    var state = "new"; // "new" | "running" | "terminated"
    var error = 0;
    var reason = "";
    var values = {}; // element -> value: what the SCO set, resumed data, manifest objective ids
    var fixed = {}; // read-only values from the launch
    var dirty = {}; // element -> value set since the last commit, in first-set order
    var counts = {}; // collection path -> records (a cache of count())

    function has(obj, k) {
      return Object.prototype.hasOwnProperty.call(obj, k);
    }
    function given(v) {
      return v !== undefined && v !== null;
    }

    // ---- launch data and resumed data
    (function seed() {
      var L = launch;
      var credit = L.credit === false ? "no-credit" : "credit";
      var put = function (k, v) {
        if (given(v)) fixed[k] = String(v);
      };
      var entry = given(L.entry) ? L.entry : "ab-initio";
      if (v12) {
        put("cmi.core.student_id", L.learner_id);
        put("cmi.core.student_name", L.learner_name);
        put("cmi.core.credit", credit);
        put("cmi.core.entry", entry);
        put("cmi.core.lesson_mode", L.mode || "normal");
        put("cmi.core.total_time", given(L.total_time) ? L.total_time : "0000:00:00.00");
        put("cmi.launch_data", L.launch_data);
        put("cmi.comments_from_lms", L.comments_from_lms);
        put("cmi.student_data.mastery_score", L.mastery_score);
        put("cmi.student_data.max_time_allowed", L.max_time_allowed);
        put("cmi.student_data.time_limit_action", L.time_limit_action);
      } else {
        put("cmi.learner_id", L.learner_id);
        put("cmi.learner_name", L.learner_name);
        put("cmi.credit", credit);
        put("cmi.entry", entry);
        put("cmi.mode", L.mode || "normal");
        put("cmi.total_time", given(L.total_time) ? L.total_time : "PT0S");
        put("cmi.launch_data", given(L.launch_data) ? L.launch_data : "");
        put("cmi.completion_threshold", L.completion_threshold);
        put("cmi.scaled_passing_score", L.scaled_passing_score);
        put("cmi.max_time_allowed", L.max_time_allowed);
        put("cmi.time_limit_action", given(L.time_limit_action) ? L.time_limit_action : "continue,no message");
        // The player knows from the outline whether Continue and Previous lead anywhere;
        // without that knowledge the answer is "unknown".
        var valid = function (v) {
          return given(v) ? (v ? "true" : "false") : "unknown";
        };
        put("adl.nav.request_valid.continue", valid(L.request_valid_continue));
        put("adl.nav.request_valid.previous", valid(L.request_valid_previous));
        (L.comments_from_lms || []).forEach(function (c, i) {
          ["comment", "location", "timestamp"].forEach(function (f) {
            put("cmi.comments_from_lms." + i + "." + f, c[f]);
          });
        });
        (L.adl_data || []).forEach(function (d, i) {
          put("adl.data." + i + ".id", d.id);
          if (given(d.store)) values["adl.data." + i + ".store"] = String(d.store);
        });
      }
      // Resumed data, without what belongs to one session only: exit and session_time are
      // uninitialised again in every session (RTE 4.2.8, 4.2.21), and a navigation
      // request is never carried over.
      var perSession = ["cmi.core.exit", "cmi.core.session_time", "cmi.exit", "cmi.session_time", "adl.nav.request"];
      var sus = L.suspended || {};
      Object.keys(sus).forEach(function (k) {
        if (perSession.indexOf(k) < 0) values[k] = String(sus[k]);
      });
      // Objectives the manifest declares, after those the resumed data already holds.
      (L.objective_ids || []).forEach(function (id) {
        id = String(id);
        var n = count("cmi.objectives");
        for (var i = 0; i < n; i++) if (values["cmi.objectives." + i + ".id"] === id) return;
        values["cmi.objectives." + n + ".id"] = id;
        counts = {};
      });
    })();

    counts = {};

    // Records in a collection: one more than the highest index present (collections are
    // packed). Cached per path and dropped when a record is created.
    function count(path) {
      if (has(counts, path)) return counts[path];
      var prefix = path + ".";
      var max = 0;
      var sources = [values, fixed];
      for (var s = 0; s < sources.length; s++) {
        for (var k in sources[s]) {
          if (k.length > prefix.length && k.slice(0, prefix.length) === prefix) {
            var seg = /^\d+/.exec(k.slice(prefix.length));
            if (seg && k[prefix.length + seg[0].length] === "." && +seg[0] + 1 > max) max = +seg[0] + 1;
          }
        }
      }
      counts[path] = max;
      return max;
    }

    function fail(code, why) {
      error = code;
      reason = why || "";
      return code;
    }
    function ok() {
      error = 0;
      reason = "";
    }

    // The refusal for a name outside the data model. ADL's 1.2 suite answers 201 for an
    // unknown leaf inside a known category (cmi.core.bogus), 401 otherwise.
    function unknown(name) {
      if (v12) {
        var p = parseName(name);
        if (p) {
          var cut = p.pattern.lastIndexOf(".");
          var parent = cut < 0 ? "" : p.pattern.slice(0, cut);
          if (parent !== "" && parent !== "cmi" && M.containers[parent]) {
            return fail(201, name + " is not an element of " + parent);
          }
        }
      }
      return fail(401, name + " is not an element of the data model");
    }
    function isKnown(pattern) {
      return has(M.byPattern, pattern) || has(M.containers, pattern);
    }
    // For reads: every index must point at an existing record.
    function existing(p) {
      for (var i = 0; i < p.levels.length; i++) {
        var l = p.levels[i];
        var n = count(l.path);
        if (l.n >= n) {
          fail(C.getFailure, l.path + "." + l.n + " does not exist: _count is " + n);
          return false;
        }
      }
      return true;
    }
    function splitKeyword(name) {
      var cut = name.lastIndexOf(".");
      if (cut < 0) return null;
      var kw = name.slice(cut + 1);
      return kw === "_children" || kw === "_count" || kw === "_version" ? [name.slice(0, cut), kw] : null;
    }

    // ---- status evaluation (2004; RTE 4.2.4.1 and 4.2.22.1)
    function realValue(k) {
      return has(values, k) && REAL.test(values[k]) ? Number(values[k]) : null;
    }
    function evaluated(name) {
      if (name === "cmi.completion_status") {
        if (given(launch.completion_threshold)) {
          // With a threshold the progress measure decides whatever the SCO set; without a
          // progress measure the status is unknown (RTE Table 4.2.4.1a).
          var p = realValue("cmi.progress_measure");
          if (p === null) return "unknown";
          return p >= Number(launch.completion_threshold) ? "completed" : "incomplete";
        }
      } else if (given(launch.scaled_passing_score)) {
        var s = realValue("cmi.score.scaled");
        if (s === null) return "unknown";
        return s >= Number(launch.scaled_passing_score) ? "passed" : "failed";
      }
      return has(values, name) ? values[name] : "unknown";
    }

    // ---- GetValue
    function getValue(name) {
      if (name === "") return fail(C.getFailure, "GetValue needs an element name"), "";
      var kw = splitKeyword(name);
      if (kw) return getKeyword(name, kw[0], kw[1]);
      var p = parseName(name);
      var el = p && M.byPattern[p.pattern];
      if (!el) return unknown(name), "";
      if (el.access === "wo") return fail(C.writeOnly, name + " is write-only"), "";
      if (!existing(p)) return "";
      if (el.init === EVAL) return ok(), evaluated(name);
      if (has(values, name)) return ok(), values[name];
      if (typeof el.init === "string") return ok(), el.init;
      if (el.init === LAUNCH && has(fixed, name)) return ok(), fixed[name];
      if (v12) return ok(), "";
      return fail(403, name + " has no value yet"), "";
    }
    function getKeyword(name, parent, kw) {
      if (name === "cmi._version") return ok(), M.version;
      var p = parseName(parent);
      if (!p) return unknown(parent), "";
      var known = isKnown(p.pattern);
      if (kw === "_children") {
        var list = M.children[p.pattern];
        if (list !== undefined) return existing(p) ? (ok(), list) : "";
        return known ? (fail(C.noChildren, parent + " has no children"), "") : (unknown(parent), "");
      }
      if (kw === "_count") {
        if (has(M.collections, p.pattern)) return existing(p) ? (ok(), String(count(parent))) : "";
        return known ? (fail(C.noCount, parent + " is not a collection"), "") : (unknown(parent), "");
      }
      return known ? (fail(C.getFailure, "_version exists only as cmi._version"), "") : (unknown(parent), "");
    }

    // ---- SetValue
    function setValue(name, value) {
      if (name === "") return fail(C.setFailure, "SetValue needs an element name"), "false";
      var kw = splitKeyword(name);
      if (kw) {
        var pp = parseName(kw[0]);
        if (kw[0] === "cmi" || (pp && isKnown(pp.pattern))) {
          return fail(C.keyword, kw[1] + " is a keyword and cannot be set"), "false";
        }
        return unknown(kw[0]), "false";
      }
      var p = parseName(name);
      var el = p && M.byPattern[p.pattern];
      if (!el) return unknown(name), "false";
      if (el.access === "ro") return fail(C.readOnly, name + " is read-only"), "false";

      // Collections: a new record takes index _count; in 2004 only its id (or a comment
      // field, or a pattern) opens it, within four times the collection's SPM and the
      // interaction type's pattern limit.
      var opens = [];
      for (var i = 0; i < p.levels.length; i++) {
        var l = p.levels[i];
        var n = count(l.path);
        if (l.n < n) continue;
        if (l.n > n) {
          return fail(C.setFailure, l.path + "." + l.n + " skips ahead: the next new record is " + l.path + "." + n), "false";
        }
        opens.push(l.path);
        if (v12) continue;
        if (i !== p.levels.length - 1 || el.access !== "create") {
          return fail(C.dependency, l.path + "." + l.n + " does not exist yet: set " + l.path + "." + l.n + ".id first"), "false";
        }
        var spm = M.collections[l.pattern] || 0;
        if (spm > 0 && n >= spm * SPM_FACTOR) {
          return fail(C.setFailure, l.path + " already holds " + n + " records, the most this LMS keeps"), "false";
        }
        if (/\.correct_responses$/.test(l.pattern)) {
          var kind = interactionType(p.levels[0]);
          if (kind && n >= patternLimit(kind)) {
            return fail(C.setFailure, "a " + kind + " interaction has at most " + patternLimit(kind) + " correct response pattern(s)"), "false";
          }
        }
      }
      var ctx = { strict: strict, itype: null };
      if (!v12 && (p.pattern === "cmi.interactions.n.learner_response" ||
        p.pattern === "cmi.interactions.n.correct_responses.n.pattern")) {
        ctx.itype = interactionType(p.levels[0]);
        if (!ctx.itype) {
          return fail(C.dependency, "set " + p.levels[0].path + "." + p.levels[0].n + ".type before " + name), "false";
        }
      }
      var invalid = el.check(value, ctx);
      if (invalid) {
        return fail(invalid[0] === "range" ? C.range : C.type, name + ": " + invalid[1]), "false";
      }
      if (!v12) {
        var dup = uniqueness(name, p, value);
        if (dup) return fail(C.setFailure, dup), "false";
      }
      values[name] = value;
      opens.forEach(function (path) { delete counts[path]; });
      dirty[name] = value;
      ok();
      return "true";
    }
    function interactionType(level) {
      var t = values[level.path + "." + level.n + ".type"];
      return t ? t : null;
    }
    // 2004 (351): an objective id never changes; objectives, interactions, the objectives of
    // one interaction and the patterns of one interaction are unique.
    function uniqueness(name, p, value) {
      var field;
      if (p.pattern === "cmi.objectives.n.id") {
        if (has(values, name) && values[name] !== value) {
          return name + " is already " + JSON.stringify(values[name]) + " and an objective id cannot change";
        }
        field = "id";
      } else if (p.pattern === "cmi.interactions.n.id" || p.pattern === "cmi.interactions.n.objectives.n.id") {
        field = "id";
      } else if (p.pattern === "cmi.interactions.n.correct_responses.n.pattern") {
        field = "pattern";
      } else {
        return null;
      }
      var last = p.levels[p.levels.length - 1];
      var n = count(last.path);
      for (var i = 0; i < n; i++) {
        if (i !== last.n && values[last.path + "." + i + "." + field] === value) {
          return last.path + "." + i + "." + field + " already has the value " + JSON.stringify(value);
        }
      }
      return null;
    }

    // ---- the state machine
    function initialize(arg) {
      if (state === "running") return fail(C.alreadyInit, "already initialized"), "false";
      if (state === "terminated") return fail(C.reinit, "this session has ended; a new launch starts a new one"), "false";
      if (arg !== "") return fail(201, "the argument must be \"\""), "false";
      state = "running";
      ok();
      return "true";
    }
    function terminate(arg) {
      if (state === "new") return fail(C.termBeforeInit, "not initialized"), "false";
      if (state === "terminated") return fail(C.termAfterTerm, "already terminated"), "false";
      if (arg !== "") return fail(201, "the argument must be \"\""), "false";
      if (hooks.onTerminate && hooks.onTerminate(snapshot()) === false) {
        return fail(C.termFailed, "the data could not be stored"), "false";
      }
      dirty = {};
      state = "terminated";
      ok();
      return "true";
    }
    function commit(arg) {
      if (state === "new") return fail(C.commitBeforeInit, "not initialized"), "false";
      if (state === "terminated") return fail(C.commitAfterTerm, "already terminated"), "false";
      if (arg !== "") return fail(201, "the argument must be \"\""), "false";
      if (hooks.onCommit && hooks.onCommit(Object.assign({}, dirty), snapshot()) === false) {
        return fail(C.commitFailed, "the data could not be stored"), "false";
      }
      dirty = {};
      ok();
      return "true";
    }
    function errorString(code) {
      code = String(code);
      return /^\d+$/.test(code) && has(ERR, code) && String(Number(code)) === code ? ERR[code] : "";
    }

    // Arguments as the SCO passes them: a missing one counts as "", others become strings.
    function call(method, args) {
      args = args || [];
      var a = function (i) {
        return args[i] === undefined || args[i] === null ? "" : String(args[i]);
      };
      var m = String(method);
      var name = v12 ? (m.slice(0, 3) === "LMS" ? m.slice(3) : null) : m;
      switch (name) {
        case "Initialize":
          return initialize(a(0));
        case v12 ? "Finish" : "Terminate":
          return terminate(a(0));
        case "Commit":
          return commit(a(0));
        case "GetValue":
          if (state === "new") return fail(C.getBeforeInit, "not initialized"), "";
          if (state === "terminated") return fail(C.getAfterTerm, "already terminated"), "";
          return getValue(a(0));
        case "SetValue":
          if (state === "new") return fail(C.setBeforeInit, "not initialized"), "false";
          if (state === "terminated") return fail(C.setAfterTerm, "already terminated"), "false";
          return setValue(a(0), a(1));
        case "GetLastError":
          return String(error);
        case "GetErrorString":
          return errorString(a(0));
        case "GetDiagnostic":
          return errorString(a(0) === "" ? error : a(0));
        default:
          return fail(101, method + " is not a method of this API"), "false";
      }
    }

    // ---- what the player and the server need
    // The attempt's data: what the SCO set, the resumed data and the manifest's objective
    // ids (launch values and keywords are not part of it).
    function snapshot() {
      return Object.assign({}, values);
    }

    // The outcome of the session as the LMS records it (scorm.md 2.7), as the Rust side
    // computes it. 1.2: in normal mode with credit, a mastery score and a raw score decide
    // passed/failed; a status still "not attempted" becomes "browsed" in browse mode and
    // "completed" in normal mode.
    function outcome() {
      if (!v12) {
        return {
          completion: evaluated("cmi.completion_status"),
          success: evaluated("cmi.success_status"),
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

    function api() {
      var o = {};
      var names = v12
        ? ["LMSInitialize", "LMSFinish", "LMSGetValue", "LMSSetValue", "LMSCommit",
          "LMSGetLastError", "LMSGetErrorString", "LMSGetDiagnostic"]
        : ["Initialize", "Terminate", "GetValue", "SetValue", "Commit",
          "GetLastError", "GetErrorString", "GetDiagnostic"];
      names.forEach(function (n) {
        o[n] = function () {
          return call(n, Array.prototype.slice.call(arguments));
        };
      });
      if (!v12) o.version = "1.0";
      return o;
    }

    return {
      version: version,
      call: call,
      lastError: function () {
        return error;
      },
      lastReason: function () {
        return reason;
      },
      dirty: function () {
        return Object.assign({}, dirty);
      },
      snapshot: snapshot,
      markCommitted: function () {
        dirty = {};
      },
      outcome: outcome,
      state: function () {
        return state;
      },
      api: api,
    };
  }

  var exported = { createSession: createSession, ERRORS_12: ERRORS_12, ERRORS_2004: ERRORS_2004 };
  if (typeof module !== "undefined" && module.exports) module.exports = exported;
  else root.CairnScorm = exported;
})(typeof window !== "undefined" ? window : this);
