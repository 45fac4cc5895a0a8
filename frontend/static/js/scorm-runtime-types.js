// Cairn SCORM run-time, part "types": the CMI data types of SCORM 1.2 and 2004 and how a
// value is checked against them: strings with their limits (and the SPM leniency of 2004),
// decimals, reals and integers with ranges, identifiers, localized strings, language tags,
// vocabularies, navigation requests and the time types (CMITime, CMITimespan, ISO 8601
// durations and timestamps). Mirrors crates/cairn-scorm/src/runtime/types.rs and time.rs.
//
// A check returns null when the value is acceptable, or [kind, reason] where kind is
// "type" (format or vocabulary: 1.2 405, 2004 406) or "range" (1.2 405, 2004 407).
// The interaction-response checks are in scorm-runtime-responses.js; scorm-runtime.js
// assembles the parts.
"use strict";

(function (root, name, make) {
  if (typeof module !== "undefined" && module.exports) return void (module.exports = make);
  var ns = (root.CairnScorm = root.CairnScorm || {});
  (ns.parts = ns.parts || {})[name] = make;
})(typeof window !== "undefined" ? window : this, "types", function () {
  // ---------------------------------------------------------------- value checks
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
  };

  // ---------------------------------------------------------------- time formats
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

  return {
    SPM_FACTOR: SPM_FACTOR,
    bad: bad,
    withinSpm: withinSpm,
    DECIMAL_12: DECIMAL_12,
    REAL: REAL,
    isShortId: isShortId,
    splitLang: splitLang,
    T: T,
  };
});
