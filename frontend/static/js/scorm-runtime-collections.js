// Cairn SCORM run-time, part "collections": the records of the collections (objectives,
// interactions, their objectives and correct responses, learner comments, adl.data) and
// their rules (RTE 4.1.1.3): indexes are packed, so a new record takes index _count; reads
// need every index to exist; in 2004 a record's id (or a comment field, or a pattern) comes
// first, within four times the collection's SPM and the interaction type's pattern limit;
// ids and patterns are unique where SCORM 2004 says so. SCORM 1.2 has none of the 2004
// dependency rules: any field at index _count opens the record, and only a skipped index
// is refused. Mirrors crates/cairn-scorm/src/runtime/collections.rs.
//
// records() gives one session its view over the session's own value maps; refusals come
// back as reasons (and, for writes, the kind of code) for the session to report.
"use strict";

(function (root, name, make) {
  if (typeof module !== "undefined" && module.exports) return void (module.exports = make);
  var ns = (root.CairnScorm = root.CairnScorm || {});
  (ns.parts = ns.parts || {})[name] = make;
})(typeof window !== "undefined" ? window : this, "collections", function (need) {
  var SPM_FACTOR = need("types").SPM_FACTOR;
  var patternLimit = need("responses").patternLimit;

  function has(obj, k) {
    return Object.prototype.hasOwnProperty.call(obj, k);
  }

  // values: what the SCO set and the resumed data; fixed: the read-only launch values;
  // model: the version's table (its collections and their SPM); v12: SCORM 1.2 rules.
  function records(values, fixed, model, v12) {
    var counts = {}; // collection path -> records (a cache of count())

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

    // For reads: every index must point at an existing record. null, or why not.
    function missing(p) {
      for (var i = 0; i < p.levels.length; i++) {
        var l = p.levels[i];
        var n = count(l.path);
        if (l.n >= n) return l.path + "." + l.n + " does not exist: _count is " + n;
      }
      return null;
    }

    // For writes: a new record takes index _count; in 2004 only its id (or a comment
    // field, or a pattern: access "create") opens it, within four times the collection's
    // SPM and the interaction type's pattern limit. Answers { paths: [the collections the
    // write opens a record in] } or { refuse: "setFailure" | "dependency", why: reason }.
    function opens(p, access) {
      var paths = [];
      for (var i = 0; i < p.levels.length; i++) {
        var l = p.levels[i];
        var n = count(l.path);
        if (l.n < n) continue;
        if (l.n > n) {
          return { refuse: "setFailure", why: l.path + "." + l.n + " skips ahead: the next new record is " + l.path + "." + n };
        }
        paths.push(l.path);
        if (v12) continue;
        if (i !== p.levels.length - 1 || access !== "create") {
          return { refuse: "dependency", why: l.path + "." + l.n + " does not exist yet: set " + l.path + "." + l.n + ".id first" };
        }
        var spm = model.collections[l.pattern] || 0;
        if (spm > 0 && n >= spm * SPM_FACTOR) {
          return { refuse: "setFailure", why: l.path + " already holds " + n + " records, the most this LMS keeps" };
        }
        if (/\.correct_responses$/.test(l.pattern)) {
          var kind = interactionType(p.levels[0]);
          if (kind && n >= patternLimit(kind)) {
            return { refuse: "setFailure", why: "a " + kind + " interaction has at most " + patternLimit(kind) + " correct response pattern(s)" };
          }
        }
      }
      return { paths: paths };
    }

    // The type of the interaction a name's first index points at, or null when not set.
    function interactionType(level) {
      var t = values[level.path + "." + level.n + ".type"];
      return t ? t : null;
    }

    // 2004 (351): an objective id never changes; objectives, interactions, the objectives of
    // one interaction and the patterns of one interaction are unique. null, or why not.
    function duplicate(name, p, value) {
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

    return {
      count: count,
      // A record was created in path: its count is computed again.
      forget: function (path) {
        delete counts[path];
      },
      // Records were created outside SetValue (resumed data, manifest objectives).
      reset: function () {
        counts = {};
      },
      missing: missing,
      opens: opens,
      interactionType: interactionType,
      duplicate: duplicate,
    };
  }

  return { records: records };
});
