-- Attempts kept in memory between commits (docs/ARCHITECTURE.md, "The commit path").
--
-- `revision` grows by one with every write to an attempt. A server node that keeps an
-- attempt in memory during a session writes a commit only if the revision is still the one
-- it holds, so a write made elsewhere (another node, a launch, a reset) is never
-- overwritten: the node reads the attempt again and validates the commit anew.
--
-- `progress_pending` marks an attempt whose status or score changed by a commit whose
-- course-progress refresh has not run yet. Refreshes run after the commit is acknowledged;
-- the mark survives a crash, so the start-up sweep and the readers of progress (rosters,
-- reports, the dashboard) finish them. The partial index holds only marked attempts.
ALTER TABLE attempts ADD COLUMN revision BIGINT NOT NULL DEFAULT 0;
ALTER TABLE attempts ADD COLUMN progress_pending BOOLEAN NOT NULL DEFAULT FALSE;
CREATE INDEX attempts_progress_pending ON attempts (course_id, user_id) WHERE progress_pending;
