-- resource_history now keeps superseded versions only; the current version lives in `resource`
-- alone. Before, every create wrote its JSON twice (resource and history) with eight index
-- entries; now a create writes one row, and an update moves the version it replaces into
-- history in the same statement. History and vread read both tables (storage/history.ts).
-- `hid` numbers every version in write order across both tables (history pages walk it), so
-- the current row carries the hid it will keep when it moves.
ALTER TABLE resource ADD COLUMN hid bigint;
ALTER TABLE resource ADD COLUMN method text;
UPDATE resource r SET hid = h.hid, method = h.method
  FROM resource_history h WHERE h.rid = r.rid AND h.version_id = r.version_id;
UPDATE resource SET hid = nextval('resource_history_hid_seq'), method = 'PUT' WHERE hid IS NULL;
DELETE FROM resource_history h USING resource r WHERE h.rid = r.rid AND h.version_id = r.version_id;
ALTER TABLE resource ALTER COLUMN hid SET DEFAULT nextval('resource_history_hid_seq');
ALTER TABLE resource ALTER COLUMN hid SET NOT NULL;
ALTER TABLE resource ALTER COLUMN method SET NOT NULL;
CREATE INDEX resource_hid_idx ON resource (hid);
