// Cairn SCORM player adapter: installs window.API (SCORM 1.2) or window.API_1484_11
// (SCORM 2004) from scorm-runtime.js and delivers the learner's data to the server.
//
// The page includes scorm-runtime.js, then this file, in <head>, before the content frame,
// with its configuration in <script type="application/json" id="cairn-launch">:
//   { version, launch, attempt_id, commit_url, csrf_token, autosave_seconds (30), seq (0) }
// `seq` is the last sequence number the server has applied for this attempt (0 when none).
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

  // Wires a session to a delivery. `env` supplies the browser pieces so that tests can
  // run this in Node: { fetch, storage, setTimeout, clearTimeout, on(target, event, fn),
  // visibility() }.
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
      onTerminate: function () {
        stopTimer();
        return delivery.enqueue(session.dirty(), true);
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

    function leaving() {
      saveDirty();
      delivery.sendFinal();
    }
    if (env.on) {
      env.on("window", "pagehide", leaving);
      env.on("document", "visibilitychange", function () {
        if (env.visibility() === "hidden") leaving();
      });
      env.on("window", "online", delivery.online);
    }
    delivery.online(); // replay what an earlier page left behind

    return {
      session: session,
      flush: function () {
        saveDirty();
        return delivery.flush();
      },
      pending: delivery.pending,
    };
  }

  // Leaving for another page of the course (an item of the outline, Previous, Continue, the
  // course page) unloads the content first, waits for the delivery, and only then navigates.
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
    player.flush().then(go, go);
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
    }, win.CairnScorm);
    if (config.version === "1.2") win.API = player.session.api();
    else win.API_1484_11 = player.session.api();
    win.CairnPlayer = player;

    // Plain left clicks only: a click meant to open a new tab leaves this page alone.
    var leaving = false;
    doc.addEventListener("click", function (event) {
      if (leaving || event.defaultPrevented || event.button !== 0) return;
      if (event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return;
      var link = event.target && event.target.closest ? event.target.closest("a[data-item], a[data-nav]") : null;
      if (!link || !link.href) return;
      event.preventDefault();
      leaving = true;
      leaveTo(player, {
        setTimeout: win.setTimeout.bind(win),
        navigate: function (href) {
          win.location.assign(href);
        },
        unloadContent: function () {
          var frame = doc.querySelector("iframe[data-item-frame]");
          if (frame && frame.parentNode) frame.parentNode.removeChild(frame);
        },
      }, link.href);
    });
  }

  var exported = { createDelivery: createDelivery, createPlayer: createPlayer, leaveTo: leaveTo };
  if (typeof module !== "undefined" && module.exports) module.exports = exported;
  else boot(root);
})(typeof window !== "undefined" ? window : this);
