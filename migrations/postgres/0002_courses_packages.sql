-- Courses and the SCORM package versions imported into them (PostgreSQL).
-- Keep in lockstep with the other engine's 0002_courses_packages.sql.

CREATE TABLE courses (
    id                  TEXT PRIMARY KEY,
    organisation_id     TEXT NOT NULL REFERENCES organisations (id),
    slug                TEXT NOT NULL UNIQUE,
    title               TEXT NOT NULL,
    summary             TEXT NOT NULL DEFAULT '',
    status              TEXT NOT NULL DEFAULT 'draft' CHECK (status IN ('draft', 'published')),
    current_package_id  TEXT,
    created_by          TEXT REFERENCES users (id) ON DELETE SET NULL,
    created_at          TIMESTAMPTZ NOT NULL,
    updated_at          TIMESTAMPTZ NOT NULL
);
CREATE INDEX courses_organisation ON courses (organisation_id);

CREATE TABLE course_instructors (
    course_id   TEXT NOT NULL REFERENCES courses (id) ON DELETE CASCADE,
    user_id     TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at  TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (course_id, user_id)
);
CREATE INDEX course_instructors_user ON course_instructors (user_id);

-- One row per imported version; files live in <data_dir>/content/packages/<id>/.
CREATE TABLE packages (
    id                 TEXT PRIMARY KEY,
    course_id          TEXT NOT NULL REFERENCES courses (id) ON DELETE CASCADE,
    version            BIGINT NOT NULL,
    standard           TEXT NOT NULL,
    edition            TEXT,
    title              TEXT NOT NULL,
    original_filename  TEXT NOT NULL,
    archive_bytes      BIGINT NOT NULL,
    content_bytes      BIGINT NOT NULL,
    file_count         BIGINT NOT NULL,
    manifest_json      TEXT NOT NULL,
    warnings_json      TEXT NOT NULL,
    imported_by        TEXT REFERENCES users (id) ON DELETE SET NULL,
    created_at         TIMESTAMPTZ NOT NULL,
    UNIQUE (course_id, version)
);

-- The organisation tree of a package version, flattened in tree order.
CREATE TABLE package_items (
    package_id         TEXT NOT NULL REFERENCES packages (id) ON DELETE CASCADE,
    position           BIGINT NOT NULL,
    identifier         TEXT NOT NULL,
    parent_identifier  TEXT,
    depth              BIGINT NOT NULL,
    title              TEXT NOT NULL,
    launch             TEXT,
    scorm_type         TEXT,
    visible            BOOLEAN NOT NULL,
    PRIMARY KEY (package_id, position)
);
CREATE UNIQUE INDEX package_items_identifier ON package_items (package_id, identifier);
