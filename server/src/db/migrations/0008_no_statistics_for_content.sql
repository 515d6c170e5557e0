-- No planner statistics for columns no query filters, joins or sorts on. ANALYZE (jobs/analyze.ts
-- after bulk writes, or autovacuum) otherwise samples and sorts the JSON text of 30,000 resources
-- for a histogram nothing reads: at 120k resources that was half of `ANALYZE resource` (0.44 ->
-- 0.21 s), and a round during a one-at-a-time ingest slowed it ~7%. `display` is matched only by
-- the rare `:text` modifier, whose pattern match the planner estimates without statistics anyway.
ALTER TABLE resource ALTER COLUMN content SET STATISTICS 0;
ALTER TABLE resource_history ALTER COLUMN content SET STATISTICS 0;
ALTER TABLE idx_token ALTER COLUMN display SET STATISTICS 0;
