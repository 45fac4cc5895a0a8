// Runs the shared run-time vectors (crates/cairn-scorm/vectors/runtime.json, owned by the
// Rust implementation) through the JavaScript runtime: both must answer every step alike.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync, existsSync } from "node:fs";
import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";

const require = createRequire(import.meta.url);
const { createSession } = require("../static/js/scorm-runtime.js");
const file = fileURLToPath(new URL("../../crates/cairn-scorm/vectors/runtime.json", import.meta.url));

// {"repeat": "x", "times": n} stands for "x" repeated n times.
const arg = (a) => (a && typeof a === "object" && "repeat" in a ? String(a.repeat).repeat(a.times) : a);
// The launch defaults the vector file's notes give for keys a case leaves out.
const DEFAULTS = { learner_id: "u1", learner_name: "Mensah, Ama" };
// The outcome fields the JavaScript runtime reports (the rest, time and scores, is the server's).
const FINISH = { completion: "completion", success: "success", lesson_status: "status", suspended: "suspended" };
const show = (v) => {
  const s = JSON.stringify(v);
  return s.length > 100 ? s.slice(0, 100) + "…" : s;
};

if (!existsSync(file)) {
  test("shared run-time vectors", { skip: "crates/cairn-scorm/vectors/runtime.json is not there yet" }, () => {});
} else {
  const vectors = JSON.parse(readFileSync(file, "utf8"));
  test("vector file format", () => {
    assert.equal(vectors.format, 1);
    assert.ok(Array.isArray(vectors.cases) && vectors.cases.length > 0);
  });
  for (const c of vectors.cases) {
    test(`vector: ${c.name}`, () => {
      const s = createSession(c.version, { ...DEFAULTS, ...(c.launch || {}) });
      c.steps.forEach(([method, args, ret, code], i) => {
        const real = (args || []).map(arg);
        const got = s.call(method, real);
        const err = s.lastError();
        const where = `case ${JSON.stringify(c.name)} step ${i}: ${method}(${real.map(show).join(", ")})`;
        assert.equal(got, ret, `${where} returned ${show(got)}, expected ${show(ret)} (error ${err})`);
        assert.equal(err, Number(code), `${where} left error ${err}, expected ${code}`);
      });
      const out = s.outcome();
      for (const [field, mine] of Object.entries(FINISH)) {
        if (c.finish && field in c.finish) {
          assert.equal(out[mine], c.finish[field], `case ${JSON.stringify(c.name)} finish.${field}`);
        }
      }
    });
  }
}
