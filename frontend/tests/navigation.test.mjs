// Tests of leaving the player for another page (scorm-player.js leaveTo): the content is
// unloaded first, so that a SCO finishing in its unload handler is delivered before the
// next page is asked for, and the wait for the delivery is bounded. Also where a SCORM 2004
// navigation request leads after Terminate (navigationTarget), and the report of a SCO that
// never called the API (the no-API rule).
import { test } from "node:test";
import assert from "node:assert/strict";
import { createRequire } from "node:module";

const require = createRequire(import.meta.url);
const runtime = require("../static/js/scorm-runtime.js");
const { createPlayer, leaveTo, navigationTarget, followRequest } = require("../static/js/scorm-player.js");

const settle = () => new Promise((r) => setImmediate(r));

// Timers that run only when the test says so.
function manualTimers() {
  const timers = [];
  return {
    timers,
    setTimeout(fn, ms) {
      timers.push({ fn, ms });
      return timers.length;
    },
    clearTimeout() {},
    fire(ms) {
      timers.filter((t) => t.ms === ms).forEach((t) => t.fn());
    },
  };
}

test("leaving unloads the content, waits for the delivery, then navigates once", async () => {
  const steps = [];
  let delivered;
  const player = {
    depart() {
      steps.push("flush");
      return new Promise((resolve) => (delivered = resolve));
    },
  };
  const timers = manualTimers();
  leaveTo(player, {
    setTimeout: timers.setTimeout.bind(timers),
    unloadContent: () => steps.push("unload"),
    navigate: (href) => steps.push("navigate " + href),
  }, "/courses/c/play?item=second");
  await settle();
  assert.deepEqual(steps, ["unload", "flush"], "nothing navigates before the delivery answers");
  delivered(true);
  await settle();
  timers.fire(4000);
  assert.deepEqual(steps, ["unload", "flush", "navigate /courses/c/play?item=second"]);
});

test("a delivery that does not answer holds the learner for at most four seconds", async () => {
  const navigated = [];
  const timers = manualTimers();
  leaveTo({ depart: () => new Promise(() => {}) }, {
    setTimeout: timers.setTimeout.bind(timers),
    unloadContent() {},
    navigate: (href) => navigated.push(href),
  }, "/learn");
  await settle();
  assert.deepEqual(navigated, []);
  timers.fire(4000);
  assert.deepEqual(navigated, ["/learn"]);
});

test("a SCORM 1.2 SCO that finishes in its unload handler is delivered before the next page", async () => {
  const calls = [];
  const fetch = (url, init) => {
    calls.push(JSON.parse(init.body));
    return Promise.resolve({ ok: true, status: 200 });
  };
  const timers = manualTimers();
  const config = { version: "1.2", launch: { learner_id: "u1" }, attempt_id: "a1", commit_url: "/c",
    csrf_token: "t", launch_token: "l", autosave_seconds: 30 };
  const player = createPlayer(config, { fetch, storage: null, setTimeout: timers.setTimeout.bind(timers),
    clearTimeout: timers.clearTimeout.bind(timers) }, runtime);
  const api = player.session.api();
  assert.equal(api.LMSInitialize(""), "true");
  let deliveredAtNavigation = null;
  leaveTo(player, {
    setTimeout: timers.setTimeout.bind(timers),
    unloadContent: () => api.LMSFinish(""),
    navigate: () => (deliveredAtNavigation = calls.slice()),
  }, "/courses/c/play?item=second");
  await settle();
  await settle();
  assert.ok(deliveredAtNavigation, "navigated once delivered");
  assert.equal(deliveredAtNavigation.length, 1);
  assert.equal(deliveredAtNavigation[0].terminate, true, "the finishing commit went first");
});

// The configuration play.rs gives the second of three items of course "c".
const NAV = {
  continue: "/courses/c/play?item=third",
  previous: "/courses/c/play?item=first",
  leave: "/courses/c",
  choice: "/courses/c/play?item=",
  items: ["first", "second", "third", "a/b"],
};

test("each navigation request leads where the page's own controls lead", () => {
  const cases = [
    ["continue", "/courses/c/play?item=third"],
    ["previous", "/courses/c/play?item=first"],
    ["{target=first}choice", "/courses/c/play?item=first"],
    ["{target=third}jump", "/courses/c/play?item=third"],
    ["{target=a/b}choice", "/courses/c/play?item=a%2Fb"],
    ["exit", "/courses/c"],
    ["exitAll", "/courses/c"],
    ["abandon", "/courses/c"],
    ["abandonAll", "/courses/c"],
    ["suspendAll", "/courses/c"],
    ["_none_", null],
    ["{target=nowhere}choice", null], // not an item of the outline
    ["{target=first}go", null],
    ["next", null],
    [undefined, null],
  ];
  for (const [request, href] of cases) {
    assert.equal(navigationTarget(request, NAV), href, String(request));
  }
});

test("at the ends of the outline Continue goes to the course page and Previous stays", () => {
  const last = { ...NAV, continue: null };
  assert.equal(navigationTarget("continue", last), "/courses/c");
  const first = { ...NAV, previous: null };
  assert.equal(navigationTarget("previous", first), null);
  assert.equal(navigationTarget("continue", undefined), null, "a page without nav stays");
});

// A player over a fetch that answers at once (`answer` true), when told (false), or with
// `answer` as the HTTP status; `terminated` records what the SCO asked for.
function playerWith(config, { answer = true } = {}) {
  const timers = manualTimers();
  const sent = [];
  const pending = [];
  const fetch = (url, init) => {
    sent.push({ url, init, body: init.body ? JSON.parse(init.body) : null });
    if (answer === true) return Promise.resolve({ ok: true, status: 200 });
    if (typeof answer === "number") return Promise.resolve({ ok: answer < 300, status: answer });
    return new Promise((resolve) => pending.push(() => resolve({ ok: true, status: 200 })));
  };
  const requests = [];
  const listeners = {};
  const player = createPlayer(config, {
    fetch, storage: null, setTimeout: timers.setTimeout.bind(timers), clearTimeout: timers.clearTimeout.bind(timers),
    on: (target, event, fn) => (listeners[target + ":" + event] = fn), visibility: () => "hidden",
    terminated: (request) => requests.push(request),
  }, runtime);
  return { player, timers, sent, pending, requests, listeners };
}

const CONFIG_2004 = { version: "2004", launch: { learner_id: "u1", request_valid_continue: true,
  request_valid_previous: true }, attempt_id: "a1", commit_url: "/c", viewed_url: "/api/v1/attempts/a1/viewed",
  csrf_token: "t", launch_token: "l", autosave_seconds: 30, nav: NAV };

test("the SCO's request is handed over after Terminate has returned, and only then", async () => {
  const { player, timers, requests } = playerWith(CONFIG_2004);
  const api = player.session.api();
  api.Initialize("");
  assert.equal(api.GetValue("adl.nav.request_valid.continue"), "true");
  assert.equal(api.SetValue("adl.nav.request", "continue"), "true");
  assert.equal(api.Terminate(""), "true");
  assert.deepEqual(requests, [], "nothing happens while the SCO's own code runs");
  timers.fire(0);
  assert.deepEqual(requests, ["continue"]);
});

test("a Terminate without a request hands over _none_; a failed Terminate hands over nothing", async () => {
  const plain = playerWith(CONFIG_2004);
  plain.player.session.api().Initialize("");
  plain.player.session.api().Terminate("");
  plain.timers.fire(0);
  assert.deepEqual(plain.requests, ["_none_"]);

  const failing = playerWith(CONFIG_2004);
  const api = failing.player.session.api();
  assert.equal(api.Terminate(""), "false", "Terminate before Initialize fails");
  failing.timers.fire(0);
  assert.deepEqual(failing.requests, []);
});

test("a continue request navigates only once the terminating commit is delivered", async () => {
  const { player, timers, sent, pending, requests } = playerWith(CONFIG_2004, { answer: false });
  const api = player.session.api();
  api.Initialize("");
  api.SetValue("cmi.completion_status", "completed");
  api.SetValue("adl.nav.request", "continue");
  api.Terminate("");
  timers.fire(0);
  const navigated = [];
  followRequest(player, { navigate: (href) => navigated.push(href), stay: () => navigated.push("stay") },
    navigationTarget(requests[0], NAV));
  await settle();
  assert.equal(sent.length, 1);
  assert.equal(sent[0].body.terminate, true);
  assert.equal(sent[0].body.elements["adl.nav.request"], "continue", "the request reaches the server too");
  assert.deepEqual(navigated, [], "the commit has not been answered yet");
  pending.shift()();
  await settle();
  await settle();
  assert.deepEqual(navigated, ["/courses/c/play?item=third"]);
});

test("when the terminating commit cannot be delivered the player stays and keeps it queued", async () => {
  const { player, timers, requests } = playerWith(CONFIG_2004, { answer: 503 });
  const api = player.session.api();
  api.Initialize("");
  api.SetValue("adl.nav.request", "suspendAll");
  api.Terminate("");
  timers.fire(0);
  assert.deepEqual(requests, ["suspendAll"]);
  const outcome = [];
  followRequest(player, { navigate: (href) => outcome.push(href), stay: () => outcome.push("stay") },
    navigationTarget(requests[0], NAV));
  await settle();
  await settle();
  assert.deepEqual(outcome, ["stay"], "no page that cannot load; the page's links remain");
  assert.equal(player.pending(), 1, "the commit waits for the next retry");
});

test("leaving a SCO that loaded but never called Initialize reports it once", async () => {
  const { player, sent, listeners } = playerWith(CONFIG_2004);
  player.contentLoaded();
  await player.depart();
  assert.equal(sent.length, 1);
  assert.equal(sent[0].url, "/api/v1/attempts/a1/viewed");
  assert.equal(sent[0].init.method, "POST");
  assert.equal(sent[0].init.keepalive, true, "it may be sent while the page goes away");
  assert.equal(sent[0].init.headers["X-Cairn-Launch"], "l", "the launch token goes with it, as with commits");
  assert.equal(sent[0].init.headers["X-CSRF-Token"], "t");
  listeners["window:pagehide"]();
  await player.depart();
  assert.equal(sent.length, 1, "reported once per page");
});

test("pagehide reports a SCO that never started; nothing is reported for one that did", async () => {
  const idle = playerWith(CONFIG_2004);
  idle.player.contentLoaded();
  idle.listeners["window:pagehide"]();
  assert.deepEqual(idle.sent.map((s) => s.url), ["/api/v1/attempts/a1/viewed"]);

  const started = playerWith(CONFIG_2004);
  started.player.contentLoaded();
  started.player.session.api().Initialize("");
  await started.player.depart();
  started.listeners["window:pagehide"]();
  assert.deepEqual(started.sent.filter((s) => s.url.endsWith("/viewed")), [], "an initialised SCO is never reported");
});

test("content that did not load is not reported as viewed", async () => {
  const { player, sent, listeners } = playerWith(CONFIG_2004);
  await player.depart();
  listeners["window:pagehide"]();
  assert.deepEqual(sent, []);
});
