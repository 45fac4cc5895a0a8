-- Course outlines (modules and lessons), cohorts, enrolments, lesson progress and the
-- e-mail outbox (PostgreSQL).
-- Keep in lockstep with the other engine's 0004_learning.sql.
--
-- Enrolment rows carry the learner's course progress (percent, status, score, time) so
-- that rosters and completion reports read one row per learner instead of recomputing
-- from lessons and attempts; cairn_core::progress refreshes them whenever a lesson's
-- status can change. completed_at is written once and never cleared by a refresh.

ALTER TABLE courses ADD COLUMN topic TEXT NOT NULL DEFAULT '';
ALTER TABLE courses ADD COLUMN cover_image TEXT;
ALTER TABLE courses ADD COLUMN enrolment_mode TEXT NOT NULL DEFAULT 'closed' CHECK (enrolment_mode IN ('open', 'key', 'closed'));
ALTER TABLE courses ADD COLUMN enrolment_key TEXT;
ALTER TABLE courses ADD COLUMN completion_min_score DOUBLE PRECISION;
CREATE INDEX courses_status_topic ON courses (status, topic);

CREATE TABLE course_modules (
    id          TEXT PRIMARY KEY,
    course_id   TEXT NOT NULL REFERENCES courses (id) ON DELETE CASCADE,
    position    BIGINT NOT NULL,
    title       TEXT NOT NULL,
    created_at  TIMESTAMPTZ NOT NULL,
    updated_at  TIMESTAMPTZ NOT NULL
);
CREATE INDEX course_modules_course ON course_modules (course_id, position);

-- kind: scorm (an item of the course's package, or the whole package when
-- item_identifier is NULL), page (Markdown body), link (external URL).
CREATE TABLE lessons (
    id               TEXT PRIMARY KEY,
    course_id        TEXT NOT NULL REFERENCES courses (id) ON DELETE CASCADE,
    module_id        TEXT NOT NULL REFERENCES course_modules (id) ON DELETE CASCADE,
    position         BIGINT NOT NULL,
    kind             TEXT NOT NULL CHECK (kind IN ('scorm', 'page', 'link')),
    title            TEXT NOT NULL,
    required         BOOLEAN NOT NULL,
    item_identifier  TEXT,
    body             TEXT,
    url              TEXT,
    created_at       TIMESTAMPTZ NOT NULL,
    updated_at       TIMESTAMPTZ NOT NULL
);
CREATE INDEX lessons_module ON lessons (module_id, position);
CREATE INDEX lessons_course ON lessons (course_id);

CREATE TABLE lesson_prerequisites (
    lesson_id           TEXT NOT NULL REFERENCES lessons (id) ON DELETE CASCADE,
    required_lesson_id  TEXT NOT NULL REFERENCES lessons (id) ON DELETE CASCADE,
    PRIMARY KEY (lesson_id, required_lesson_id)
);

CREATE TABLE cohorts (
    id               TEXT PRIMARY KEY,
    organisation_id  TEXT NOT NULL REFERENCES organisations (id) ON DELETE CASCADE,
    name             TEXT NOT NULL,
    created_at       TIMESTAMPTZ NOT NULL,
    UNIQUE (organisation_id, name)
);

CREATE TABLE cohort_members (
    cohort_id   TEXT NOT NULL REFERENCES cohorts (id) ON DELETE CASCADE,
    user_id     TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at  TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (cohort_id, user_id)
);
CREATE INDEX cohort_members_user ON cohort_members (user_id);

-- state: active or withdrawn (withdrawal keeps every row of progress and tracking).
-- status: not_started, in_progress or completed, from cairn_core::progress.
CREATE TABLE enrolments (
    id                  TEXT PRIMARY KEY,
    course_id           TEXT NOT NULL REFERENCES courses (id) ON DELETE CASCADE,
    user_id             TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    cohort_id           TEXT REFERENCES cohorts (id) ON DELETE SET NULL,
    source              TEXT NOT NULL CHECK (source IN ('self', 'manual', 'bulk', 'cohort')),
    state               TEXT NOT NULL CHECK (state IN ('active', 'withdrawn')),
    status              TEXT NOT NULL CHECK (status IN ('not_started', 'in_progress', 'completed')),
    progress_percent    BIGINT NOT NULL CHECK (progress_percent BETWEEN 0 AND 100),
    score               DOUBLE PRECISION,
    time_spent_seconds  DOUBLE PRECISION NOT NULL,
    enrolled_at         TIMESTAMPTZ NOT NULL,
    starts_at           TIMESTAMPTZ,
    ends_at             TIMESTAMPTZ,
    started_at          TIMESTAMPTZ,
    completed_at        TIMESTAMPTZ,
    last_access_at      TIMESTAMPTZ,
    withdrawn_at        TIMESTAMPTZ,
    updated_at          TIMESTAMPTZ NOT NULL,
    UNIQUE (course_id, user_id)
);
CREATE INDEX enrolments_user ON enrolments (user_id);
CREATE INDEX enrolments_course_status ON enrolments (course_id, status);
CREATE INDEX enrolments_completed ON enrolments (completed_at);
-- Covers the roster (its filters, every sort key on enrolments and every column it shows),
-- so a roster page reads one course's entries side by side in this index instead of one
-- table page per learner: at 10,000 learners per course a roster request fell from about
-- 80 to 24 ms of server CPU (docs/PERFORMANCE.md, "Rosters and the completion report").
CREATE INDEX enrolments_roster ON enrolments (course_id, state, status, cohort_id, user_id, progress_percent, score,
    time_spent_seconds, enrolled_at, starts_at, ends_at, started_at, completed_at, last_access_at);

CREATE TABLE lesson_progress (
    lesson_id           TEXT NOT NULL REFERENCES lessons (id) ON DELETE CASCADE,
    user_id             TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    course_id           TEXT NOT NULL REFERENCES courses (id) ON DELETE CASCADE,
    status              TEXT NOT NULL CHECK (status IN ('not_started', 'in_progress', 'completed', 'passed', 'failed')),
    score               DOUBLE PRECISION,
    time_spent_seconds  DOUBLE PRECISION NOT NULL,
    first_seen_at       TIMESTAMPTZ NOT NULL,
    completed_at        TIMESTAMPTZ,
    updated_at          TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (lesson_id, user_id)
);
CREATE INDEX lesson_progress_course_user ON lesson_progress (course_id, user_id);

-- Mail waiting to be sent (invitations now, digests later). A sender drains it; rows
-- stay after sending for the audit trail.
CREATE TABLE email_outbox (
    id          TEXT PRIMARY KEY,
    recipient   TEXT NOT NULL,
    kind        TEXT NOT NULL,
    subject     TEXT NOT NULL,
    body        TEXT NOT NULL,
    created_at  TIMESTAMPTZ NOT NULL,
    sent_at     TIMESTAMPTZ,
    tries       BIGINT NOT NULL,
    last_error  TEXT
);
CREATE INDEX email_outbox_unsent ON email_outbox (sent_at, created_at);

-- One-time links that let an invited person (made by a bulk enrolment) choose a password.
-- Only the SHA-256 of the token is kept; the token itself travels in the e-mail.
CREATE TABLE invitations (
    token_hash  TEXT PRIMARY KEY,
    user_id     TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at  TIMESTAMPTZ NOT NULL,
    expires_at  TIMESTAMPTZ NOT NULL,
    used_at     TIMESTAMPTZ
);
CREATE INDEX invitations_user ON invitations (user_id);
