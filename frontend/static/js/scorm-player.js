// Cairn SCORM player adapter: installs window.API (SCORM 1.2) or window.API_1484_11
// (SCORM 2004) from scorm-runtime.js and delivers the learner's data to the server.
//
// The page includes the runtime (its scorm-runtime-*.js parts, then scorm-runtime.js), then
// this file, in <head>, before the content frame,
// with its configuration in <script type="application/json" id="cairn-launch">:
//   { version, launch, attempt_id, commit_url, csrf_token, launch_token, autosave_seconds (30),
//     seq (0), viewed_url, nav: { continue, previous, leave, choice, items } }
// `seq` is the last sequence number the server has applied for this attempt (0 when none).
// `nav` says where the page's Continue and Previous links lead (null when nowhere), the
// course page (`leave`), the address a launchable item's identifier is appended to
// (`choice`) and those identifiers (`items`).
//
// Delivery. Every commit becomes a queue item { seq, elements, terminate } where `seq`
// grows by one per item. The queue lives in localStorage under cairn.queue.<attempt_id>,
// so nothing is lost when the network or the tab goes away; it is sent in order, one POST
// at a time: { attempt_id, seq, elements, terminate } with the X-CSRF-Token header.
// A failed POST is retried after 1 s, 2 s, 4 s ... up to 60 s, and at once when the
// browser comes back online; items left over from an earlier page are sent on load.
//
// Commit("") answers "true" as soon as the data is in the localStorage queue; the network
// delivery happens afterwards, asynchronously. Content calls Commit often and waits for
// the answer, and a synchronous request would freeze the page (and is forbidden while a
// page is being dismissed). Commit answers "false" (391 / 101) only when the data is not
// durable: localStorage refused it *and* the server is not reachable either.
//
// A SCO that never calls Commit is still saved: a timer queues changed elements every
// autosave_seconds, and on pagehide / visibilitychange=hidden the pending data is sent
// with fetch({ keepalive: true }) as one merged request carrying the newest seq.
//
// Server contract: a seq at or below the last applied one is ignored (so retries and the
// merged keepalive request may race safely); gaps in seq are normal.
//
// Navigation requests (SCORM 2004). A SCO may set adl.nav.request before it terminates, to
// ask the LMS to go on by itself (scorm.md §4, #8: a player that ignores it leaves the learner
// in front of an ended SCO). After a successful Terminate the player acts on it, once the
// terminating commit is delivered: see navigationTarget() for where each request leads.
//
// SCOs that never call the API. Some packages mark plain pages as SCOs; they never call
// Initialize, so the server would see nothing and the item would stay "not attempted" for
// ever (locking every item that requires it). When the learner leaves such a page after it
// loaded, the player POSTs viewed_url, and the server completes the attempt as viewed if no
// commit ever touched it (docs/ARCHITECTURE.md, "Tracking storage").
"use strict";

(function (root) {
  // Browsers refuse keepalive requests beyond 64 KiB of bodies in flight. A bigger request is
  // sent normally; if the page dies first, it is still in localStorage for the next load.
  var KEEPALIVE_LIMIT = 60000;
  function byteLength(text) {
    return typeof TextEncoder !== "undefined" ? new TextEncoder().encode(text).length : text.length * 3;
  }

  function createDelivery(opts) {
    var fetchFn = opts.fetch;
    var storage = opts.storage;
    var later = opts.setTimeout;
    var cancel = opts.clearTimeout;
    var key = "cairn.queue." + opts.attemptId;
    var saved = load();
    var items = saved.items; // [{ seq, elements, terminate }], oldest first
    var seq = Math.max(saved.seq, Number(opts.seq) || 0);
    var failures = 0;
    var inFlight = false;
    var timer = null;
    var waiters = [];

    function load() {
      try {
        var raw = storage && storage.getItem(key);
        var data = raw ? JSON.parse(raw) : null;
        if (data && Array.isArray(data.items)) return { seq: Number(data.seq) || 0, items: data.items };
      } catch (e) {
        // unreadable queue: start afresh
      }
      return { seq: 0, items: [] };
    }
    // Returns whether the queue is now durable.
    function save() {
      if (!storage) return false;
      try {
        storage.setItem(key, JSON.stringify({ seq: seq, items: items }));
        return true;
      } catch (e) {
        return false; // quota exceeded, private mode
      }
    }
    function body(item) {
      return JSON.stringify({ attempt_id: opts.attemptId, seq: item.seq, elements: item.elements,
        terminate: !!item.terminate });
    }
    function post(item, keepalive) {
      var headers = { "Content-Type": "application/json", "X-CSRF-Token": opts.csrfToken || "" };
      // The attempt's launch token keeps deliveries working after the login session ends
      // (expiry, or a server restart without shared sessions).
      if (opts.launchToken) headers["X-Cairn-Launch"] = opts.launchToken;
      var text = body(item);
      return fetchFn(opts.commitUrl, {
        method: "POST", headers: headers, body: text, credentials: "same-origin",
        keepalive: !!keepalive && byteLength(text) < KEEPALIVE_LIMIT,
      });
    }
    // The server has the data up to `upTo`: drop those items.
    function delivered(upTo) {
      items = items.filter(function (i) { return i.seq > upTo; });
      save();
    }
    // Answers the flush() callers.
    function settle(result) {
      var ws = waiters;
      waiters = [];
      ws.forEach(function (w) { w(result); });
    }

    // Queues the elements; returns true when they are durable (stored, or the server is
    // reachable as far as we know).
    function enqueue(elements, terminate) {
      if (Object.keys(elements).length === 0 && !terminate) return true;
      seq += 1;
      items.push({ seq: seq, elements: elements, terminate: !!terminate });
      var durable = save() || failures === 0;
      pump();
      return durable;
    }

    function pump() {
      if (inFlight || timer !== null) return;
      if (items.length === 0) return settle(true);
      var item = items[0];
      inFlight = true;
      var done = function (okay, permanent) {
        inFlight = false;
        if (okay || permanent) {
          // A refusal the server will repeat forever (400, 413, 422) must not block the
          // items behind it; everything else is retried.
          failures = 0;
          delivered(item.seq);
        } else {
          failures += 1;
          var delay = Math.min(60000, 1000 * Math.pow(2, failures - 1));
          timer = later(function () {
            timer = null;
            pump();
          }, delay);
        }
        if (okay || permanent) pump();
        else settle(false);
      };
      var sent;
      try {
        sent = post(item, true);
      } catch (e) {
        sent = Promise.reject(e);
      }
      sent.then(function (res) {
        var s = res.status;
        done(res.ok, s === 400 || s === 413 || s === 422);
      }, function () {
        done(false, false);
      });
    }

    // Sends everything now (skipping a pending backoff); resolves true when the queue is
    // empty, false when a POST failed.
    function flush() {
      return new Promise(function (resolve) {
        if (items.length === 0) return resolve(true);
        waiters.push(resolve);
        retryNow();
      });
    }
    function retryNow() {
      if (timer !== null) {
        cancel(timer);
        timer = null;
      }
      pump();
    }
    // Page going away: one keepalive request with everything pending, merged in order and
    // carrying the newest seq. Items stay queued until the server confirms them.
    function sendFinal() {
      if (items.length === 0) return;
      var merged = { seq: items[items.length - 1].seq, elements: {}, terminate: false };
      items.forEach(function (i) {
        Object.assign(merged.elements, i.elements);
        merged.terminate = merged.terminate || i.terminate;
      });
      var sent;
      try {
        sent = post(merged, true);
      } catch (e) {
        return;
      }
      sent.then(function (res) {
        if (res.ok) delivered(merged.seq);
      }, function () {});
    }

    return {
      enqueue: enqueue,
      flush: flush,
      online: retryNow,
      sendFinal: sendFinal,
      pending: function () {
        return items.length;
      },
      // What is still queued (for resuming with data the server has not seen yet).
      queued: function () {
        return items.slice();
      },
    };
  }

  // Where a SCORM 2004 navigation request leads, as an address, or null to stay on the page.
  // `nav` is the configuration's nav object. The targets are the page's own: Continue and
  // Previous go where its links go, and every request that ends the learner's visit (exit,
  // exitAll, abandon, abandonAll, suspendAll; the attempt's suspension is the server's part)
  // goes back to the course page. Continue after the last item also goes there, as the end
  // of the course; Previous before the first one stays, as the sequencing rules refuse it.
  // A choice or jump goes to the item it names, if it is a launchable item of the outline;
  // anything else, and _none_, stays.
  function navigationTarget(request, nav) {
    if (!nav || typeof request !== "string") return null;
    switch (request) {
      case "continue":
        return nav.continue || nav.leave || null;
      case "previous":
        return nav.previous || null;
      case "exit":
      case "exitAll":
      case "abandon":
      case "abandonAll":
      case "suspendAll":
        return nav.leave || null;
    }
    var m = /^\{target=([^}]*)\}(?:choice|jump)$/.exec(request);
    if (m && nav.choice && (nav.items || []).indexOf(m[1]) >= 0) return nav.choice + encodeURIComponent(m[1]);
    return null;
  }

  // Wires a session to a delivery. `env` supplies the browser pieces so that tests can
  // run this in Node: { fetch, storage, setTimeout, clearTimeout, on(target, event, fn),
  // visibility(), terminated(request) }. `terminated` is called, after the Terminate call
  // has returned, with the SCO's navigation request ("_none_" when it made none).
  function createPlayer(config, env, runtime) {
    var delivery = createDelivery({
      fetch: env.fetch, storage: env.storage, setTimeout: env.setTimeout, clearTimeout: env.clearTimeout,
      attemptId: config.attempt_id, commitUrl: config.commit_url, csrfToken: config.csrf_token, seq: config.seq,
      launchToken: config.launch_token,
    });
    // Data queued by an earlier page but not yet delivered is newer than what the server
    // sent as `suspended`: resume from it.
    var launch = Object.assign({}, config.launch || {});
    var leftovers = delivery.queued();
    if (leftovers.length) {
      launch.suspended = Object.assign({}, launch.suspended || {});
      leftovers.forEach(function (i) { Object.assign(launch.suspended, i.elements); });
    }
    var session = runtime.createSession(config.version, launch, {
      onCommit: function (dirty) {
        return delivery.enqueue(dirty, false);
      },
      onTerminate: function (data) {
        stopTimer();
        var durable = delivery.enqueue(session.dirty(), true);
        // The request is acted on only once Terminate has returned "true" to the SCO: a
        // failed Terminate leaves the session running, and the SCO's own code is still on
        // the stack now, inside the frame that navigating would remove.
        if (durable && env.terminated) {
          var request = (data && data["adl.nav.request"]) || "_none_";
          env.setTimeout(function () {
            env.terminated(request);
          }, 0);
        }
        return durable;
      },
    });

    function saveDirty() {
      if (session.state() !== "running") return;
      var dirty = session.dirty();
      if (Object.keys(dirty).length === 0) return;
      delivery.enqueue(dirty, false);
      session.markCommitted();
    }
    var seconds = Number(config.autosave_seconds) > 0 ? Number(config.autosave_seconds) : 30;
    var timer = null;
    function tick() {
      saveDirty();
      timer = env.setTimeout(tick, seconds * 1000);
    }
    function stopTimer() {
      if (timer !== null) env.clearTimeout(timer);
      timer = null;
    }
    timer = env.setTimeout(tick, seconds * 1000);

    // The no-API rule: reported at most once per page, and only for content that was
    // shown (contentLoaded) in a session the SCO never started. Resolves whether the server
    // answered; a keepalive request survives the page going away.
    var shown = false;
    var viewed = null;
    function reportViewed() {
      if (viewed) return viewed;
      if (!shown || !config.viewed_url || session.state() !== "new") return Promise.resolve(false);
      var headers = { "X-CSRF-Token": config.csrf_token || "" };
      if (config.launch_token) headers["X-Cairn-Launch"] = config.launch_token;
      try {
        viewed = env.fetch(config.viewed_url, {
          method: "POST", headers: headers, credentials: "same-origin", keepalive: true,
        }).then(function (res) {
          return res.ok;
        }, function () {
          return false;
        });
      } catch (e) {
        viewed = Promise.resolve(false);
      }
      return viewed;
    }

    function leaving() {
      saveDirty();
      delivery.sendFinal();
      reportViewed();
    }
    if (env.on) {
      env.on("window", "pagehide", leaving);
      env.on("document", "visibilitychange", function () {
        if (env.visibility() === "hidden") leaving();
      });
      env.on("window", "online", delivery.online);
    }
    delivery.online(); // replay what an earlier page left behind

    function flush() {
      saveDirty();
      return delivery.flush();
    }

    return {
      session: session,
      flush: flush,
      pending: delivery.pending,
      // The content frame has shown the item's page (the no-API rule needs it).
      contentLoaded: function () {
        shown = true;
      },
      // Everything leaving the item owes the server: the queued data, and the report of a
      // SCO that never started. Resolves, once both were answered, with flush()'s result.
      depart: function () {
        return Promise.all([flush(), reportViewed()]).then(function (results) {
          return results[0];
        });
      },
    };
  }

  // Leaving for another page of the course (an item of the outline, Previous, Continue, the
  // course page) unloads the content first, waits for the delivery (player.depart()), and
  // only then navigates.
  // Many SCORM 1.2 SCOs call LMSFinish only from their unload handler, and a browser asks
  // for the next page before it unloads the current one, so without this the server would
  // judge the next item's prerequisites, and the progress it shows, before this SCO's final
  // status arrived. Removing the content frame runs its unload handlers at once. The wait is
  // bounded by LEAVE_WAIT_MS: whatever is not confirmed by then stays queued and goes out in
  // the keepalive request on pagehide, as it always did.
  // `env`: { unloadContent(), navigate(href), setTimeout }.
  var LEAVE_WAIT_MS = 4000;
  function leaveTo(player, env, href) {
    var gone = false;
    function go() {
      if (gone) return;
      gone = true;
      env.navigate(href);
    }
    env.unloadContent();
    env.setTimeout(go, LEAVE_WAIT_MS);
    player.depart().then(go, go);
  }

  // Whether the content frame shows the item's page: a document of the frame's own origin
  // that is not about:blank and did not come with an error status (Cairn's 404 page, say).
  // A document the player cannot read was loaded from elsewhere and counts as shown.
  function frameShowsContent(frame) {
    try {
      var w = frame.contentWindow;
      if (!w || w.location.href === "about:blank") return false;
      var timing = w.performance && w.performance.getEntriesByType;
      var entry = timing ? w.performance.getEntriesByType("navigation")[0] : null;
      var status = entry && entry.responseStatus;
      return !status || (status >= 200 && status < 300);
    } catch (e) {
      return true;
    }
  }

  // Following a SCO's navigation request. The SCO has terminated, so its data is already
  // queued and its unload handlers can add nothing: the content stays in view while the
  // delivery is awaited (player.depart(), as in leaveTo), and the player navigates only once
  // the server has the data, with no time limit. When the delivery fails (the server is
  // unreachable), moving on would strand the learner on a page that cannot load while the
  // data waits here; the player stays, keeps retrying in the background, and the page's own
  // links remain the way on (a click meanwhile takes over). `env`: { navigate(href), stay() }.
  function followRequest(player, env, href) {
    player.depart().then(function (delivered) {
      if (delivered) env.navigate(href);
      else env.stay();
    }, env.stay);
  }

  // In the browser: read the configuration and install the API object right away.
  function boot(win) {
    var doc = win.document;
    var el = doc.getElementById("cairn-launch");
    if (!el || !win.CairnScorm) return;
    var config = JSON.parse(el.textContent);
    var storage = null;
    try {
      storage = win.localStorage;
    } catch (e) {
      storage = null; // blocked by the browser's settings
    }

    // One departure per page. A SCO that terminates while the learner is already leaving
    // does not redirect them; a click while a SCO's request waits for its delivery wins.
    var leaving = false;
    var following = false;
    function follow(request) {
      var href = navigationTarget(request, config.nav);
      if (leaving || following || !href) return;
      following = true;
      followRequest(player, {
        navigate: function (to) {
          if (leaving) return;
          leaving = true;
          win.location.assign(to);
        },
        stay: function () {
          following = false;
        },
      }, href);
    }
    function leave(href) {
      if (leaving || !href) return;
      leaving = true;
      leaveTo(player, {
        setTimeout: win.setTimeout.bind(win),
        navigate: function (to) {
          win.location.assign(to);
        },
        unloadContent: function () {
          var frame = doc.querySelector("iframe[data-item-frame]");
          if (frame && frame.parentNode) frame.parentNode.removeChild(frame);
        },
      }, href);
    }

    var player = createPlayer(config, {
      fetch: win.fetch.bind(win),
      storage: storage,
      setTimeout: win.setTimeout.bind(win),
      clearTimeout: win.clearTimeout.bind(win),
      on: function (target, event, fn) {
        (target === "document" ? doc : win).addEventListener(event, fn);
      },
      visibility: function () {
        return doc.visibilityState;
      },
      terminated: follow,
    }, win.CairnScorm);
    if (config.version === "1.2") win.API = player.session.api();
    else win.API_1484_11 = player.session.api();
    win.CairnPlayer = player;

    // This script runs before the content frame exists; a frame's load event does not
    // bubble, but the document sees it while capturing.
    doc.addEventListener("load", function (event) {
      var frame = event.target;
      if (frame && frame.matches && frame.matches("iframe[data-item-frame]") && frameShowsContent(frame)) {
        player.contentLoaded();
      }
    }, true);

    // Plain left clicks only: a click meant to open a new tab leaves this page alone.
    doc.addEventListener("click", function (event) {
      if (leaving || event.defaultPrevented || event.button !== 0) return;
      if (event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return;
      var link = event.target && event.target.closest ? event.target.closest("a[data-item], a[data-nav]") : null;
      if (!link || !link.href) return;
      event.preventDefault();
      leave(link.href);
    });
  }

  var exported = { createDelivery: createDelivery, createPlayer: createPlayer, leaveTo: leaveTo,
    navigationTarget: navigationTarget, followRequest: followRequest };
  if (typeof module !== "undefined" && module.exports) module.exports = exported;
  else boot(root);
})(typeof window !== "undefined" ? window : this);
