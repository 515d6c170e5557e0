-- Core FHIR storage. One row per resource (current version) plus append-only history,
-- and one lookup table per search-parameter type keyed by the resource's internal rid.
-- Search compiles to EXISTS sub-queries over these tables, so an access filter can be
-- ANDed into the same SQL on every read path.

CREATE TABLE search_param (
  sp            integer GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  resource_type text NOT NULL,
  code          text NOT NULL,
  UNIQUE (resource_type, code)
);

CREATE TABLE resource (
  rid           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  type          text NOT NULL,
  id            text NOT NULL,
  version_id    integer NOT NULL,
  last_updated  timestamptz NOT NULL,
  deleted       boolean NOT NULL DEFAULT false,
  -- ids of the Patients whose compartment holds this resource (access filters use it)
  compartments  text[] NOT NULL DEFAULT '{}',
  -- the current version as JSON text; null for a deleted resource
  content       text,
  UNIQUE (type, id)
);
CREATE INDEX resource_type_updated_idx ON resource (type, last_updated);
CREATE INDEX resource_compartments_idx ON resource USING gin (compartments);

CREATE TABLE resource_history (
  hid           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  rid           bigint NOT NULL,
  type          text NOT NULL,
  id            text NOT NULL,
  version_id    integer NOT NULL,
  last_updated  timestamptz NOT NULL,
  deleted       boolean NOT NULL,
  method        text NOT NULL,
  compartments  text[] NOT NULL DEFAULT '{}',
  content       text,
  UNIQUE (rid, version_id)
);
CREATE INDEX resource_history_type_updated_idx ON resource_history (type, last_updated);
CREATE INDEX resource_history_updated_idx ON resource_history (last_updated);

-- grp ties together the components of one composite-parameter match (0 = not a component)
CREATE TABLE idx_token (
  rid bigint NOT NULL, sp integer NOT NULL, grp integer NOT NULL DEFAULT 0,
  system text, code text, display text, of_type text
);
CREATE INDEX idx_token_value ON idx_token (sp, code, rid);
CREATE INDEX idx_token_rid ON idx_token (rid);

CREATE TABLE idx_string (
  rid bigint NOT NULL, sp integer NOT NULL, grp integer NOT NULL DEFAULT 0,
  norm text NOT NULL, exact text NOT NULL
);
CREATE INDEX idx_string_value ON idx_string (sp, norm text_pattern_ops);
CREATE INDEX idx_string_rid ON idx_string (rid);

CREATE TABLE idx_date (
  rid bigint NOT NULL, sp integer NOT NULL, grp integer NOT NULL DEFAULT 0,
  low timestamptz NOT NULL, high timestamptz NOT NULL
);
CREATE INDEX idx_date_value ON idx_date (sp, low);
CREATE INDEX idx_date_rid ON idx_date (rid);

CREATE TABLE idx_number (
  rid bigint NOT NULL, sp integer NOT NULL, grp integer NOT NULL DEFAULT 0,
  value numeric NOT NULL
);
CREATE INDEX idx_number_rid ON idx_number (rid);

CREATE TABLE idx_quantity (
  rid bigint NOT NULL, sp integer NOT NULL, grp integer NOT NULL DEFAULT 0,
  value numeric NOT NULL, system text, code text, unit text
);
CREATE INDEX idx_quantity_rid ON idx_quantity (rid);

CREATE TABLE idx_reference (
  rid bigint NOT NULL, sp integer NOT NULL, grp integer NOT NULL DEFAULT 0,
  target_type text, target_id text, url text
);
CREATE INDEX idx_reference_target ON idx_reference (sp, target_id, rid);
CREATE INDEX idx_reference_rid ON idx_reference (rid);

CREATE TABLE idx_uri (
  rid bigint NOT NULL, sp integer NOT NULL, grp integer NOT NULL DEFAULT 0,
  value text NOT NULL
);
CREATE INDEX idx_uri_value ON idx_uri (sp, value);
CREATE INDEX idx_uri_rid ON idx_uri (rid);
