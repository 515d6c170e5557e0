-- Bulk Data $import: one row per import (the caller's token claims, its state and lease, as
-- bulk_export has) and one row per input file, whose NDJSON body is kept here until it is imported
-- (a body POSTed to $import) or named by reference (a Binary, read when the file runs).

-- A file becomes 'done' in the same transaction that writes its resources, so after a restart a
-- file is either wholly imported or still 'pending' and is imported again from its first line.
CREATE TABLE bulk_import (
  id uuid PRIMARY KEY,
  client_id text NOT NULL,
  subject text NOT NULL,
  claims jsonb NOT NULL,
  request_url text NOT NULL,
  state text NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'running', 'done', 'failed')),
  attempts integer NOT NULL DEFAULT 0,
  locked_until timestamptz,
  progress text,
  error text,
  created_at timestamptz NOT NULL DEFAULT now(),
  finished_at timestamptz,
  expires_at timestamptz NOT NULL
);
CREATE INDEX bulk_import_due ON bulk_import (created_at) WHERE state = 'pending';
CREATE INDEX bulk_import_expires ON bulk_import (expires_at);

CREATE TABLE bulk_import_file (
  import_id uuid NOT NULL REFERENCES bulk_import (id) ON DELETE CASCADE,
  seq integer NOT NULL,
  -- The declared type of the file's resources (NULL: any type).
  type text,
  -- 'body', or the Binary the NDJSON is read from ('Binary/<id>').
  source text NOT NULL,
  body text,
  state text NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'done', 'failed')),
  -- Resources imported, by type.
  counts jsonb NOT NULL DEFAULT '{}',
  -- The OperationOutcome of a failed file (naming the line).
  outcome jsonb,
  PRIMARY KEY (import_id, seq)
);
