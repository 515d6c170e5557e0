-- Observation/$stats and $lastn (issue 16) read every matching reading of a series: a year of hourly heart
-- rates is 8,760 rows, each probed by rid in idx_reference (the patient), idx_date (the effective time) and
-- idx_quantity (the value). With rid-only indexes each probe also read the heap row to check sp and fetch
-- the value; with (rid, sp) and the read columns included the probes are index-only (EXPLAIN ANALYZE on the
-- bench's year: $stats 48 -> 34 ms, a 20-code $lastn's heart-rate branch 31 -> 25 ms, on a loaded machine).
-- They replace the rid-only indexes, so a write still maintains one rid index per table; deletes by rid
-- (storage/flush.ts) use the leading column as before.
DROP INDEX idx_date_rid;
CREATE INDEX idx_date_rid ON idx_date (rid, sp) INCLUDE (low, high);
DROP INDEX idx_quantity_rid;
CREATE INDEX idx_quantity_rid ON idx_quantity (rid, sp) INCLUDE (value, code);
DROP INDEX idx_reference_rid;
CREATE INDEX idx_reference_rid ON idx_reference (rid, sp) INCLUDE (target_type, target_id);
