-- SCORM tracking: one attempt per learner, course item and try (PostgreSQL).
-- Keep in lockstep with the other engine's 0003_tracking.sql.
--
-- The data model of an attempt is kept as one JSON document (state_json) rather than a
-- row per element: a commit replaces it in a single-row write, an attempt is read whole
-- on every launch, and its size is bounded by the data-model limits. Summary columns
-- (completion, success, score, time) are derived on every commit for reports.
--
-- launch_token lets the player deliver commits for this one attempt even when the
-- learner's login session is gone (expired, or a restart of a node without Redis), so
-- queued work is never stranded. It grants nothing else.

CREATE TABLE attempts (
    id                  TEXT PRIMARY KEY,
    user_id             TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    course_id           TEXT NOT NULL REFERENCES courses (id) ON DELETE CASCADE,
    package_id          TEXT NOT NULL REFERENCES packages (id),
    item_identifier     TEXT NOT NULL,
    number              BIGINT NOT NULL,
    scorm_version       TEXT NOT NULL,
    completion          TEXT NOT NULL,
    success             TEXT NOT NULL,
    score_scaled        DOUBLE PRECISION,
    score_raw           DOUBLE PRECISION,
    total_time_seconds  DOUBLE PRECISION NOT NULL,
    total_time          TEXT,
    location            TEXT,
    suspended           BOOLEAN NOT NULL,
    session_open        BOOLEAN NOT NULL,
    state_json          TEXT NOT NULL,
    last_seq            BIGINT NOT NULL,
    launch_token        TEXT NOT NULL,
    session_started_at  TIMESTAMPTZ,
    started_at          TIMESTAMPTZ NOT NULL,
    updated_at          TIMESTAMPTZ NOT NULL,
    finished_at         TIMESTAMPTZ,
    voided_at           TIMESTAMPTZ,
    UNIQUE (user_id, course_id, item_identifier, number)
);
CREATE INDEX attempts_course_user ON attempts (course_id, user_id);
