// Tests of the delivery logic of frontend/static/js/scorm-player.js with a fake fetch,
// fake localStorage and fake timers (no DOM).
import { test } from "node:test";
import assert from "node:assert/strict";
import { createRequire } from "node:module";

const require = createRequire(import.meta.url);
const runtime = require("../static/js/scorm-runtime.js");
const { createPlayer, createDelivery } = require("../static/js/scorm-player.js");

const settle = () => new Promise((r) => setImmediate(r));

function fakeStorage(initial = {}, { broken = false } = {}) {
  const data = { ...initial };
  return {
    data,
    getItem: (k) => (k in data ? data[k] : null),
    setItem: (k, v) => {
      if (broken) throw new Error("QuotaExceededError");
      data[k] = String(v);
    },
    removeItem: (k) => delete data[k],
  };
}

function fakeClock() {
  let now = 0;
  let id = 0;
  const timers = [];
  return {
    delays: [],
    setTimeout(fn, ms) {
      this.delays.push(ms);
      timers.push({ id: ++id, at: now + ms, fn });
      return id;
    },
    clearTimeout(t) {
      const i = timers.findIndex((x) => x.id === t);
      if (i >= 0) timers.splice(i, 1);
    },
    async advance(ms) {
      const end = now + ms;
      for (;;) {
        timers.sort((a, b) => a.at - b.at);
        if (!timers.length || timers[0].at > end) break;
        const t = timers.shift();
        now = t.at;
        t.fn();
        await settle();
      }
      now = end;
    },
  };
}

// `status` decides the answer: a number (HTTP status) or "offline" (rejected promise).
function fakeFetch() {
  const f = (url, init) => {
    const body = JSON.parse(init.body);
    f.calls.push({ url, init, body });
    const status = typeof f.status === "function" ? f.status(body) : f.status;
    if (status === "offline") return Promise.reject(new TypeError("Failed to fetch"));
    return Promise.resolve({ ok: status >= 200 && status < 300, status });
  };
  f.calls = [];
  f.status = 200;
  return f;
}

function env({ storage = fakeStorage(), fetch = fakeFetch(), clock = fakeClock() } = {}) {
  const listeners = {};
  return {
    storage, fetch, clock, listeners, hidden: false,
    setTimeout: clock.setTimeout.bind(clock), clearTimeout: clock.clearTimeout.bind(clock),
    on(target, event, fn) {
      listeners[target + ":" + event] = fn;
    },
    visibility() {
      return this.hidden ? "hidden" : "visible";
    },
  };
}

const CONFIG = { version: "2004", launch: { learner_id: "u1" }, attempt_id: "a7", commit_url: "/scorm/commit",
  csrf_token: "tok", launch_token: "launch-secret", autosave_seconds: 30 };
const KEY = "cairn.queue.a7";

test("Commit returns true once queued in localStorage; one POST per commit with growing seq", async () => {
  const e = env();
  e.fetch.status = "offline";
  const p = createPlayer(CONFIG, e, runtime);
  const api = p.session.api();
  assert.equal(api.Initialize(""), "true");
  assert.equal(api.SetValue("cmi.location", "p1"), "true");
  assert.equal(api.Commit(""), "true");
  assert.equal(api.GetLastError(), "0");
  assert.deepEqual(JSON.parse(e.storage.data[KEY]).items, [{ seq: 1, elements: { "cmi.location": "p1" }, terminate: false }]);
  await settle();
  e.fetch.status = 200;
  api.SetValue("cmi.location", "p2");
  api.Commit("");
  await e.clock.advance(1000);
  await settle();
  assert.equal(p.pending(), 0);
  const sent = e.fetch.calls.filter((c) => c.body.seq);
  const first = sent[0];
  assert.equal(first.url, "/scorm/commit");
  assert.equal(first.init.method, "POST");
  assert.equal(first.init.headers["X-CSRF-Token"], "tok");
  assert.equal(first.init.headers["Content-Type"], "application/json");
  assert.equal(first.init.headers["X-Cairn-Launch"], "launch-secret", "the attempt's launch token goes with every commit");
  assert.deepEqual(sent.map((c) => c.body), [
    { attempt_id: "a7", seq: 1, elements: { "cmi.location": "p1" }, terminate: false }, // failed (offline)
    { attempt_id: "a7", seq: 1, elements: { "cmi.location": "p1" }, terminate: false }, // retried after 1 s
    { attempt_id: "a7", seq: 2, elements: { "cmi.location": "p2" }, terminate: false },
  ]);
  assert.deepEqual(JSON.parse(e.storage.data[KEY]), { seq: 2, items: [] });
});

test("failed POSTs back off 1 s, 2 s, 4 s ... capped at 60 s, and stay queued in order", async () => {
  const e = env();
  e.fetch.status = "offline";
  const d = createDelivery({ fetch: e.fetch, storage: e.storage, setTimeout: e.setTimeout, clearTimeout: e.clearTimeout,
    attemptId: "a7", commitUrl: "/c", csrfToken: "t" });
  d.enqueue({ "cmi.location": "a" }, false);
  d.enqueue({ "cmi.location": "b" }, false);
  await settle();
  await e.clock.advance(10 * 60 * 1000);
  assert.deepEqual(e.clock.delays.slice(0, 9), [1000, 2000, 4000, 8000, 16000, 32000, 60000, 60000, 60000]);
  assert.ok(e.fetch.calls.every((c) => c.body.seq === 1), "the second item waits behind the first");
  assert.equal(d.pending(), 2);
  e.fetch.status = 200;
  d.online(); // the "online" event retries at once
  await settle();
  await settle();
  assert.equal(d.pending(), 0);
  assert.deepEqual(e.fetch.calls.slice(-2).map((c) => c.body.seq), [1, 2]);
});

test("requests go one at a time, in seq order", async () => {
  const e = env();
  const resolvers = [];
  const f = (url, init) => {
    f.calls.push(JSON.parse(init.body).seq);
    return new Promise((r) => resolvers.push(() => r({ ok: true, status: 200 })));
  };
  f.calls = [];
  const d = createDelivery({ fetch: f, storage: e.storage, setTimeout: e.setTimeout, clearTimeout: e.clearTimeout,
    attemptId: "x", commitUrl: "/c" });
  d.enqueue({ a: "1" });
  d.enqueue({ a: "2" });
  d.enqueue({ a: "3" });
  assert.deepEqual(f.calls, [1]);
  resolvers.shift()();
  await settle();
  assert.deepEqual(f.calls, [1, 2]);
  resolvers.shift()();
  await settle();
  resolvers.shift()();
  await settle();
  assert.deepEqual(f.calls, [1, 2, 3]);
  assert.equal(d.pending(), 0);
});

test("a queue left by an earlier page is replayed first, numbering continues, and resume uses it", async () => {
  const storage = fakeStorage({ [KEY]: JSON.stringify({ seq: 5, items: [
    { seq: 4, elements: { "cmi.suspend_data": "old" }, terminate: false },
    { seq: 5, elements: { "cmi.suspend_data": "newer", "cmi.location": "p9" }, terminate: false },
  ] }) });
  const e = env({ storage });
  const config = { ...CONFIG, launch: { suspended: { "cmi.suspend_data": "server", "cmi.location": "p1" }, entry: "resume" } };
  const p = createPlayer(config, e, runtime);
  await settle();
  await settle();
  assert.deepEqual(e.fetch.calls.map((c) => c.body.seq), [4, 5]);
  const api = p.session.api();
  api.Initialize("");
  assert.equal(api.GetValue("cmi.suspend_data"), "newer");
  assert.equal(api.GetValue("cmi.location"), "p9");
  api.SetValue("cmi.location", "p10");
  api.Commit("");
  await settle();
  assert.equal(e.fetch.calls.at(-1).body.seq, 6);
});

test("the server's last applied seq is where numbering starts", async () => {
  const e = env();
  const p = createPlayer({ ...CONFIG, seq: 41 }, e, runtime);
  const api = p.session.api();
  api.Initialize("");
  api.SetValue("cmi.location", "x");
  api.Commit("");
  await settle();
  assert.equal(e.fetch.calls[0].body.seq, 42);
});

test("a SCO that never commits is saved by the autosave timer", async () => {
  const e = env();
  const p = createPlayer(CONFIG, e, runtime);
  const api = p.session.api();
  api.Initialize("");
  api.SetValue("cmi.suspend_data", "state");
  await e.clock.advance(29000);
  assert.equal(e.fetch.calls.length, 0);
  await e.clock.advance(1000);
  assert.deepEqual(e.fetch.calls.map((c) => c.body.elements), [{ "cmi.suspend_data": "state" }]);
  await e.clock.advance(60000); // nothing changed: nothing sent
  assert.equal(e.fetch.calls.length, 1);
});

test("pagehide and visibilitychange=hidden send everything pending in one keepalive request", async () => {
  const e = env();
  e.fetch.status = "offline";
  const p = createPlayer(CONFIG, e, runtime);
  const api = p.session.api();
  api.Initialize("");
  api.SetValue("cmi.location", "p1");
  api.Commit("");
  await settle();
  api.SetValue("cmi.location", "p2");
  api.SetValue("cmi.suspend_data", "s");
  e.fetch.status = 200;
  e.listeners["window:pagehide"]();
  const last = e.fetch.calls.at(-1);
  assert.equal(last.init.keepalive, true);
  assert.deepEqual(last.body, { attempt_id: "a7", seq: 2, elements: { "cmi.location": "p2", "cmi.suspend_data": "s" },
    terminate: false });
  await settle();
  assert.equal(p.pending(), 0);
  api.SetValue("cmi.location", "p3");
  e.hidden = true;
  e.listeners["document:visibilitychange"]();
  assert.deepEqual(e.fetch.calls.at(-1).body.elements, { "cmi.location": "p3" });
  assert.equal(e.fetch.calls.at(-1).body.seq, 3);
});

test("Terminate sends terminate: true with the last changes; flush() resolves when delivered", async () => {
  const e = env();
  const p = createPlayer(CONFIG, e, runtime);
  const api = p.session.api();
  api.Initialize("");
  api.SetValue("cmi.exit", "suspend");
  assert.equal(api.Terminate(""), "true");
  assert.equal(await p.flush(), true);
  assert.deepEqual(e.fetch.calls.map((c) => [c.body.seq, c.body.elements, c.body.terminate]),
    [[1, { "cmi.exit": "suspend" }, true]]);
});

test("flush() resolves false when the server cannot be reached", async () => {
  const e = env();
  e.fetch.status = 503;
  const p = createPlayer(CONFIG, e, runtime);
  const api = p.session.api();
  api.Initialize("");
  api.SetValue("cmi.location", "a");
  assert.equal(await p.flush(), false);
  assert.equal(p.pending(), 1);
});

test("a refusal the server would repeat (400/413/422) does not block later items", async () => {
  const e = env();
  e.fetch.status = (body) => (body.seq === 1 ? 422 : 200);
  const d = createDelivery({ fetch: e.fetch, storage: e.storage, setTimeout: e.setTimeout, clearTimeout: e.clearTimeout,
    attemptId: "a7", commitUrl: "/c" });
  d.enqueue({ a: "bad" });
  d.enqueue({ a: "good" });
  await settle();
  await settle();
  assert.equal(d.pending(), 0);
  assert.deepEqual(e.fetch.calls.map((c) => c.body.seq), [1, 2]);
});

test("Commit answers false (391) only when neither localStorage nor the network holds the data", async () => {
  const e = env({ storage: fakeStorage({}, { broken: true }) });
  e.fetch.status = "offline";
  const p = createPlayer(CONFIG, e, runtime);
  const api = p.session.api();
  api.Initialize("");
  api.SetValue("cmi.location", "a");
  assert.equal(api.Commit(""), "true"); // no failure seen yet: delivery is under way
  await settle();
  api.SetValue("cmi.location", "b");
  assert.equal(api.Commit(""), "false");
  assert.equal(api.GetLastError(), "391");
});

test("bodies too big for keepalive are sent as ordinary requests (and stay queued until confirmed)", async () => {
  const e = env();
  e.fetch.status = "offline";
  const d = createDelivery({ fetch: e.fetch, storage: e.storage, setTimeout: e.setTimeout, clearTimeout: e.clearTimeout,
    attemptId: "a7", commitUrl: "/c" });
  d.enqueue({ "cmi.suspend_data": "é".repeat(40000) }); // 40000 characters, 80000 bytes
  d.enqueue({ "cmi.location": "p1" });
  await settle();
  assert.equal(e.fetch.calls[0].init.keepalive, false);
  d.sendFinal();
  assert.equal(e.fetch.calls.at(-1).init.keepalive, false);
  assert.equal(e.fetch.calls.at(-1).body.seq, 2);
  assert.equal(d.pending(), 2);
});
