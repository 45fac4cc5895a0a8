// Cairn SCORM run-time, part "responses": SCORM 2004 interaction responses (RTE 4.2.9): the
// formats of cmi.interactions.n.learner_response and correct_responses.n.pattern for each
// interaction type, with their [,] [.] [:] delimiters and {case_matters=..},
// {order_matters=..} and {lang=..} modifiers, and how many correct-response patterns each
// type may hold. Mirrors crates/cairn-scorm/src/runtime/responses.rs.
//
// Checks answer as in scorm-runtime-types.js: null, or [kind, reason].
"use strict";

(function (root, name, make) {
  if (typeof module !== "undefined" && module.exports) return void (module.exports = make);
  var ns = (root.CairnScorm = root.CairnScorm || {});
  (ns.parts = ns.parts || {})[name] = make;
})(typeof window !== "undefined" ? window : this, "responses", function (need) {
  var types = need("types");
  var bad = types.bad;
  var withinSpm = types.withinSpm;
  var isShortId = types.isShortId;
  var splitLang = types.splitLang;
  var REAL = types.REAL;

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

  return {
    ITYPES: ITYPES,
    patternLimit: patternLimit,
    // The element checks of learner_response and correct_responses.n.pattern: ctx.itype is
    // the interaction's type (the session refuses both before the type is set).
    learnerResponse: function (v, ctx) {
      return checkResponse(ctx.itype || "other", v);
    },
    pattern: function (v, ctx) {
      return checkPattern(ctx.itype || "other", v);
    },
  };
});
