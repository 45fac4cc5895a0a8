// Tests of leaving the player for another page (scorm-player.js leaveTo): the content is
// unloaded first, so that a SCO finishing in its unload handler is delivered before the
// next page is asked for, and the wait for the delivery is bounded.
import { test } from "node:test";
import assert from "node:assert/strict";
import { createRequire } from "node:module";

const require = createRequire(import.meta.url);
const runtime = require("../static/js/scorm-runtime.js");
const { createPlayer, leaveTo } = require("../static/js/scorm-player.js");

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
    flush() {
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
  leaveTo({ flush: () => new Promise(() => {}) }, {
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
