-- The compartments GIN index is read by every Consent-filtered, patient-token and $everything query.
-- With the default pending list (4 MB) new entries wait unmerged until VACUUM or the limit, and
-- every index scan reads the whole list: with a write per request (audit) and autovacuum possibly
-- off, each scan took ~50 ms. A small list keeps scans cheap and keeps inserts batched (direct
-- insertion, fastupdate off, made every audit write ~0.8 ms slower).
ALTER INDEX resource_compartments_idx SET (fastupdate = on, gin_pending_list_limit = 128);
SELECT gin_clean_pending_list('resource_compartments_idx'::regclass);
