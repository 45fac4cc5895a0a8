/*
 * scorm2004.js: talks to the learning platform through the SCORM 2004 run-time API.
 *
 * Used by every SCO of the "E-government readiness" course. It exposes one object,
 * window.ScormSession:
 *
 *   ScormSession.start()        find API_1484_11 and call Initialize(""); true when connected
 *   ScormSession.get(name)      GetValue; returns null when there is no value (or no platform)
 *   ScormSession.set(name, v)   SetValue; returns true when the platform accepted the value
 *   ScormSession.commit()       Commit("")
 *   ScormSession.setFinished(b) true: leave with cmi.exit "normal"; false: "suspend" (default)
 *   ScormSession.finish()       sets cmi.exit and cmi.session_time, then Terminate(""), once
 *
 * When no platform is found (the page was opened straight from disk or from a web server),
 * every call is a harmless no-op and the page shows a short notice instead.
 */
(function (window, document) {
  "use strict";

  var MAX_PARENT_HOPS = 10;
  var NOT_INITIALIZED = "403"; // "value not initialized": normal for a first visit
  var ALREADY_INITIALIZED = "103";

  var api = null;
  var started = false;
  var connected = false;
  var terminated = false;
  var finished = false;
  var startedAt = Date.now();

  function log(message) {
    if (window.console && window.console.warn) {
      window.console.warn("[course] " + message);
    }
  }

  // Looks for API_1484_11 in win and up to MAX_PARENT_HOPS of its parents. A frame from
  // another origin throws when touched; it is skipped and the walk goes on.
  function searchUpwards(win) {
    var hops = 0;
    while (win && hops <= MAX_PARENT_HOPS) {
      try {
        if (win.API_1484_11) {
          return win.API_1484_11;
        }
      } catch (crossOrigin) {
        // not readable from here; try its parent
      }
      var parent = null;
      try {
        parent = win.parent;
      } catch (noParent) {
        parent = null;
      }
      if (!parent || parent === win) {
        break;
      }
      win = parent;
      hops += 1;
    }
    return null;
  }

  function findApi() {
    var found = searchUpwards(window);
    if (!found) {
      var opener = null;
      try {
        opener = window.opener;
      } catch (closed) {
        opener = null;
      }
      if (opener) {
        found = searchUpwards(opener);
      }
    }
    return found;
  }

  function lastErrorCode() {
    try {
      return String(api.GetLastError());
    } catch (broken) {
      return "101";
    }
  }

  function describe(code) {
    var text = "";
    var detail = "";
    try {
      text = String(api.GetErrorString(code));
      detail = String(api.GetDiagnostic(code));
    } catch (broken) {
      // keep what we have
    }
    return code + " " + text + (detail && detail !== text ? " (" + detail + ")" : "");
  }

  function isTrue(result) {
    return result === true || String(result) === "true";
  }

  function showNotice(message) {
    var nodes = document.querySelectorAll("[data-scorm-notice]");
    for (var i = 0; i < nodes.length; i += 1) {
      nodes[i].textContent = message;
      nodes[i].hidden = false;
    }
  }

  // An ISO 8601 duration as SCORM 2004 wants it: PT1H2M3.5S, at most two decimals.
  function formatDuration(milliseconds) {
    var centis = Math.max(0, Math.round(milliseconds / 10));
    var hours = Math.floor(centis / 360000);
    var minutes = Math.floor((centis % 360000) / 6000);
    var seconds = (centis % 6000) / 100;
    var out = "PT";
    if (hours > 0) {
      out += hours + "H";
    }
    if (minutes > 0) {
      out += minutes + "M";
    }
    if (seconds > 0 || out === "PT") {
      out += seconds + "S";
    }
    return out;
  }

  function start() {
    if (started) {
      return connected;
    }
    started = true;
    startedAt = Date.now();
    api = findApi();
    if (!api) {
      showNotice(
        "This page is not connected to a learning platform, so your progress will not be saved. " +
          "You can still read and use every page."
      );
      return false;
    }
    var result;
    try {
      result = api.Initialize("");
    } catch (broken) {
      result = "false";
    }
    if (isTrue(result)) {
      connected = true;
    } else if (lastErrorCode() === ALREADY_INITIALIZED) {
      // The platform kept the session open (for example after the browser's Back button).
      connected = true;
    } else {
      log("Initialize failed: " + describe(lastErrorCode()));
      api = null;
      showNotice(
        "The learning platform could not start this module, so your progress will not be saved. " +
          "Close it and open it again from the course menu."
      );
      return false;
    }
    window.addEventListener("pagehide", finish);
    window.addEventListener("beforeunload", finish);
    document.addEventListener("visibilitychange", function () {
      if (document.visibilityState === "hidden") {
        commit();
      }
    });
    window.addEventListener("pageshow", function (event) {
      if (event.persisted && terminated) {
        showNotice(
          "This visit has ended and was saved. To continue, open the module again from the course menu."
        );
      }
    });
    return true;
  }

  function get(name) {
    if (!connected || terminated) {
      return null;
    }
    var value;
    try {
      value = api.GetValue(name);
    } catch (broken) {
      log("GetValue(" + name + ") threw: " + broken);
      return null;
    }
    var code = lastErrorCode();
    if (code !== "0") {
      if (code !== NOT_INITIALIZED) {
        log("GetValue(" + name + ") failed: " + describe(code));
      }
      return null;
    }
    return value === null || value === undefined ? "" : String(value);
  }

  function set(name, value) {
    if (!connected || terminated) {
      return false;
    }
    var result;
    try {
      result = api.SetValue(name, String(value));
    } catch (broken) {
      log("SetValue(" + name + ") threw: " + broken);
      return false;
    }
    if (!isTrue(result)) {
      log("SetValue(" + name + ", " + value + ") failed: " + describe(lastErrorCode()));
      return false;
    }
    return true;
  }

  function commit() {
    if (!connected || terminated) {
      return false;
    }
    var result;
    try {
      result = api.Commit("");
    } catch (broken) {
      result = "false";
    }
    if (!isTrue(result)) {
      log("Commit failed: " + describe(lastErrorCode()));
      return false;
    }
    return true;
  }

  function setFinished(done) {
    finished = Boolean(done);
  }

  function finish() {
    if (!connected || terminated) {
      return;
    }
    set("cmi.exit", finished ? "normal" : "suspend");
    set("cmi.session_time", formatDuration(Date.now() - startedAt));
    var result;
    try {
      result = api.Terminate("");
    } catch (broken) {
      result = "false";
    }
    // Whatever happened, never call Terminate a second time.
    terminated = true;
    if (!isTrue(result)) {
      log("Terminate failed: " + describe(lastErrorCode()));
    }
  }

  // cmi.mode: "normal", "browse" or "review". Review launches must not change the record.
  function mode() {
    return get("cmi.mode") || "normal";
  }

  window.ScormSession = {
    start: start,
    get: get,
    set: set,
    commit: commit,
    setFinished: setFinished,
    finish: finish,
    mode: mode,
    isConnected: function () {
      return connected && !terminated;
    },
    formatDuration: formatDuration
  };
})(window, document);
