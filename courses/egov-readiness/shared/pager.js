/*
 * pager.js: Previous/Next pages inside one SCO, with bookmarking and progress.
 *
 * The page is a <main> holding <section class="page" data-page="id"> elements, a
 * <nav class="pager"> with buttons #page-prev and #page-next and a #page-status paragraph.
 * Without JavaScript all sections simply show one after another.
 *
 * Reported to the platform (through ScormSession, see scorm2004.js):
 *   cmi.location          the id of the page on screen, on every page change
 *   cmi.progress_measure  pages seen / pages in the module, on every page change
 *   cmi.completion_status "incomplete" at the first visit, "completed" on the last page
 *   cmi.suspend_data      {"visited":[page ids]} when the body has data-track-visited
 * and cmi.exit is "normal" once the module is completed, "suspend" before that.
 */
(function (window, document) {
  "use strict";

  var session = window.ScormSession;

  function byId(id) {
    return document.getElementById(id);
  }

  function readVisited(raw, ids) {
    var seen = {};
    if (!raw) {
      return seen;
    }
    try {
      var data = JSON.parse(raw);
      var list = data && data.visited;
      if (list && list.length) {
        for (var i = 0; i < list.length; i += 1) {
          if (ids.indexOf(list[i]) >= 0) {
            seen[list[i]] = true;
          }
        }
      }
    } catch (unreadable) {
      // A damaged value only costs the list of visited pages.
    }
    return seen;
  }

  function startPager() {
    var pages = Array.prototype.slice.call(document.querySelectorAll(".page[data-page]"));
    if (!pages.length) {
      return;
    }
    var ids = pages.map(function (page) {
      return page.getAttribute("data-page");
    });
    var prev = byId("page-prev");
    var next = byId("page-next");
    var status = byId("page-status");
    var nav = document.querySelector(".pager");
    var trackVisited = document.body.hasAttribute("data-track-visited");

    session.start();
    var canWrite = session.isConnected() && session.mode() !== "review";
    var completed = session.get("cmi.completion_status") === "completed";
    var seen = {};
    var current = 0;

    var bookmark = session.get("cmi.location");
    if (bookmark && ids.indexOf(bookmark) >= 0) {
      current = ids.indexOf(bookmark);
    }
    if (trackVisited) {
      seen = readVisited(session.get("cmi.suspend_data"), ids);
    } else {
      // Pages are read in order, so progress tells how far the learner got.
      var measure = parseFloat(session.get("cmi.progress_measure"));
      if (!isNaN(measure)) {
        var count = Math.min(ids.length, Math.round(measure * ids.length));
        for (var k = 0; k < count; k += 1) {
          seen[ids[k]] = true;
        }
      }
      for (var j = 0; j <= current; j += 1) {
        seen[ids[j]] = true;
      }
    }
    if (completed) {
      session.setFinished(true);
    } else if (canWrite) {
      session.set("cmi.completion_status", "incomplete");
    }

    function seenCount() {
      var n = 0;
      for (var i = 0; i < ids.length; i += 1) {
        if (seen[ids[i]]) {
          n += 1;
        }
      }
      return n;
    }

    function record() {
      if (!canWrite) {
        return;
      }
      var progress = Math.round((seenCount() / ids.length) * 10000) / 10000;
      session.set("cmi.location", ids[current]);
      session.set("cmi.progress_measure", String(progress));
      if (trackVisited) {
        var visited = ids.filter(function (id) {
          return seen[id];
        });
        session.set("cmi.suspend_data", JSON.stringify({ visited: visited }));
      }
      if (current === ids.length - 1 && !completed) {
        completed = true;
        session.set("cmi.completion_status", "completed");
      }
      if (completed) {
        session.setFinished(true);
      }
      session.commit();
    }

    function show(index, moveFocus) {
      current = index;
      seen[ids[index]] = true;
      for (var i = 0; i < pages.length; i += 1) {
        pages[i].hidden = i !== index;
      }
      prev.disabled = index === 0;
      next.disabled = index === pages.length - 1;
      status.textContent = "Page " + (index + 1) + " of " + pages.length;
      if (moveFocus) {
        var heading = pages[index].querySelector("h2");
        if (heading) {
          heading.setAttribute("tabindex", "-1");
          heading.focus();
        }
        window.scrollTo(0, 0);
      }
      record();
    }

    prev.addEventListener("click", function () {
      if (current > 0) {
        show(current - 1, true);
      }
    });
    next.addEventListener("click", function () {
      if (current < pages.length - 1) {
        show(current + 1, true);
      }
    });
    nav.hidden = false;
    show(current, false);
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", startPager);
  } else {
    startPager();
  }
})(window, document);
