-- Which index rows each resource type has, so a change of what the indexer stores is applied by the
-- reindex job (jobs/reindex.ts) rather than by hand. A type with stored resources and no row here
-- (a database from before this table) is reindexed at the next start.
CREATE TABLE index_state (
  resource_type   text PRIMARY KEY,
  -- every current resource of the type has the rows of this fingerprint (storage/indexer/fingerprint.ts);
  -- NULL while that is not so (a reindex is due or under way)
  fingerprint     text,
  reindexed_at    timestamptz,
  -- a reindex under way: the fingerprint it builds, and the last id done (ids are walked in order,
  -- on the (type, id) unique index); a run resumes there unless the target changed meanwhile
  target          text,
  resume_after_id text
);
