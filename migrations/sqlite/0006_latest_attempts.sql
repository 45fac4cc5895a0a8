-- The latest live attempt at each item of a learner's course, found from the index alone.
-- Keep in lockstep with the other engine's 0006_latest_attempts.sql.
--
-- A launch reads only the latest attempt at every item (tracking::for_launch). The unique
-- key (user_id, course_id, item_identifier, number) orders attempts the same way, but
-- a reset attempt (voided_at set) must be skipped, and checking voided_at means reading
-- every old attempt's row, JSON document and all. This index holds live attempts only, so
-- the highest number per item comes from the index.
CREATE INDEX attempts_live_by_item ON attempts (user_id, course_id, item_identifier, number)
    WHERE voided_at IS NULL;
