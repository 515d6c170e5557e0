-- Bulk Data $export: one row per export (its request, the caller's token claims, its state and
-- lease), the files it has finished, and the patients each file covers (for the download audit).

-- `claims` are the verified access-token claims of the kick-off: the worker rebuilds the caller's
-- access policy from them at run time, as every request does from its token. `transaction_time` is
-- the snapshot every query of the export is bounded by, so a restarted export writes the same data.
CREATE TABLE bulk_export (
  id uuid PRIMARY KEY,
  client_id text NOT NULL,
  subject text NOT NULL,
  claims jsonb NOT NULL,
  level text NOT NULL CHECK (level IN ('system', 'patient', 'group')),
  group_id text,
  request_url text NOT NULL,
  params jsonb NOT NULL,
  warnings jsonb NOT NULL DEFAULT '[]',
  transaction_time timestamptz NOT NULL,
  state text NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'running', 'done', 'failed', 'cancelled')),
  attempts integer NOT NULL DEFAULT 0,
  locked_until timestamptz,
  progress text,
  error text,
  created_at timestamptz NOT NULL DEFAULT now(),
  finished_at timestamptz,
  expires_at timestamptz NOT NULL
);
CREATE INDEX bulk_export_active ON bulk_export (client_id, subject) WHERE state IN ('pending', 'running');
CREATE INDEX bulk_export_due ON bulk_export (created_at) WHERE state = 'pending';
CREATE INDEX bulk_export_expires ON bulk_export (expires_at);

-- A file is listed here only once it is complete on disk (written under a temporary name, synced,
-- renamed): the manifest is built from these rows alone.
CREATE TABLE bulk_export_file (
  export_id uuid NOT NULL REFERENCES bulk_export (id) ON DELETE CASCADE,
  name text NOT NULL,
  kind text NOT NULL CHECK (kind IN ('output', 'deleted', 'error')),
  type text NOT NULL,
  count integer NOT NULL,
  bytes bigint NOT NULL,
  seq integer NOT NULL,
  PRIMARY KEY (export_id, name)
);

CREATE TABLE bulk_export_patient (
  export_id uuid NOT NULL REFERENCES bulk_export (id) ON DELETE CASCADE,
  file_name text NOT NULL,
  patient_id text NOT NULL,
  PRIMARY KEY (export_id, file_name, patient_id)
);
