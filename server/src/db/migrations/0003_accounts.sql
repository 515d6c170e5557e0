-- Provider and partner applications: which account applied, under which Task, and the licence or
-- registration number that must be unique. The workflow itself is the FHIR Task (visible to FHIR
-- clients); this row ties it to the account and lets PostgreSQL enforce the uniqueness race-free.
CREATE TABLE account_application (
  task_id      text PRIMARY KEY,
  account_id   uuid NOT NULL REFERENCES account (id) ON DELETE CASCADE,
  kind         text NOT NULL CHECK (kind IN ('provider', 'pharmacy', 'lab')),
  -- the licence / registration number as entered, and normalised for the uniqueness check
  number       text NOT NULL,
  number_key   text NOT NULL,
  status       text NOT NULL CHECK (status IN ('pending', 'approved', 'rejected')),
  reason       text,
  decided_by   uuid REFERENCES account (id) ON DELETE SET NULL,
  decided_at   timestamptz,
  created_at   timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX account_application_account_idx ON account_application (account_id, created_at);
CREATE INDEX account_application_pending_idx ON account_application (created_at) WHERE status = 'pending';
-- Unique per kind (each kind has its own issuing registry). A number may be used again only once
-- the earlier application with it was rejected.
CREATE UNIQUE INDEX account_application_number_idx
  ON account_application (kind, number_key) WHERE status <> 'rejected';
