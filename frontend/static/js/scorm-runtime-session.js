// Cairn SCORM run-time, part "session": one SCO session. The error codes and texts of both
// versions; the API state machine (not initialized, running, terminated) and the eight API
// calls by method name; the launch and resumed data a session starts from; GetValue and
// SetValue by the rules of the version's table (unknown elements, keywords, access, then
// collections, value checks and uniqueness through the other parts); and what the player
// needs (the changed elements in order, the attempt's data, the outcome, the API object).
// Mirrors crates/cairn-scorm/src/runtime/state.rs and datamodel.rs.
"use strict";

(function (root, name, make) {
  if (typeof module !== "undefined" && module.exports) return void (module.exports = make);
  var ns = (root.CairnScorm = root.CairnScorm || {});
  (ns.parts = ns.parts || {})[name] = make;
})(typeof window !== "undefined" ? window : this, "session", function (need) {
  var tables = need("tables");
  var collections = need("collections");
  var status = need("status");
  var MODEL_12 = tables.MODEL_12;
  var MODEL_2004 = tables.MODEL_2004;
  var LAUNCH = tables.LAUNCH;
  var EVAL = tables.EVAL;
  var parseName = tables.parseName;

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
    var records = collections.records(values, fixed, M, v12); // collection records

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
        var n = records.count("cmi.objectives");
        for (var i = 0; i < n; i++) if (values["cmi.objectives." + i + ".id"] === id) return;
        values["cmi.objectives." + n + ".id"] = id;
        records.reset();
      });
    })();

    records.reset();

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
      var why = records.missing(p);
      if (why) {
        fail(C.getFailure, why);
        return false;
      }
      return true;
    }
    function splitKeyword(name) {
      var cut = name.lastIndexOf(".");
      if (cut < 0) return null;
      var kw = name.slice(cut + 1);
      return kw === "_children" || kw === "_count" || kw === "_version" ? [name.slice(0, cut), kw] : null;
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
      if (el.init === EVAL) return ok(), status.evaluated(values, launch, name);
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
        if (has(M.collections, p.pattern)) return existing(p) ? (ok(), String(records.count(parent))) : "";
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
      // field, or a pattern) opens it, within its limits (scorm-runtime-collections.js).
      var opened = records.opens(p, el.access);
      if (opened.refuse) return fail(C[opened.refuse], opened.why), "false";
      var ctx = { strict: strict, itype: null };
      if (!v12 && (p.pattern === "cmi.interactions.n.learner_response" ||
        p.pattern === "cmi.interactions.n.correct_responses.n.pattern")) {
        ctx.itype = records.interactionType(p.levels[0]);
        if (!ctx.itype) {
          return fail(C.dependency, "set " + p.levels[0].path + "." + p.levels[0].n + ".type before " + name), "false";
        }
      }
      var invalid = el.check(value, ctx);
      if (invalid) {
        return fail(invalid[0] === "range" ? C.range : C.type, name + ": " + invalid[1]), "false";
      }
      if (!v12) {
        var dup = records.duplicate(name, p, value);
        if (dup) return fail(C.setFailure, dup), "false";
      }
      values[name] = value;
      opened.paths.forEach(records.forget);
      dirty[name] = value;
      ok();
      return "true";
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

    // The outcome of the session as the LMS records it (scorm-runtime-status.js).
    function outcome() {
      return status.outcome(values, launch, v12);
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

  return { createSession: createSession, ERRORS_12: ERRORS_12, ERRORS_2004: ERRORS_2004 };
});
