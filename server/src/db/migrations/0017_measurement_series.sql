-- The measurement series index (issue 16): one row per value of an Observation of a Patient — its own value and
-- each component's, under each coding of its code — keyed (patient, code, effective time). Observation/$stats and
-- $lastn read a series as one index range instead of probing idx_reference, idx_date, idx_token and idx_quantity
-- once per reading (8,760 readings for a year of hourly heart rates). Rows are derived from the version's index
-- rows (storage/series/points.ts) and written, replaced and deleted in the same statement as them
-- (storage/flush.ts), so the series is never out of step with a search.
--
-- Consent is the caller's access filter over the row (storage/access.ts ReadHint.row = 'series'): the columns a
-- filter reads of a resource row (rid, type, id, version_id, last_updated, compartments) are copied here, and the
-- facts a Consent rule tests per row (the Observation's categories, its effective period) are columns too, so the
-- rule needs no probe of the index tables. status lets entered-in-error readings be left out the same way.
CREATE TABLE measurement_series (
  rid bigint NOT NULL,
  patient text NOT NULL,
  system text NOT NULL,
  code text NOT NULL,
  at timestamptz NOT NULL,
  at_high timestamptz NOT NULL,
  comp_system text,
  comp_code text,
  grp integer NOT NULL DEFAULT 0,
  value numeric,
  unit text,
  status text,
  categories text[] NOT NULL DEFAULT '{}',
  type text NOT NULL,
  id text NOT NULL,
  version_id integer NOT NULL,
  last_updated timestamptz NOT NULL,
  compartments text[] NOT NULL DEFAULT '{}'
);
-- $stats: a period of a series (own values and components together).
CREATE INDEX measurement_series_at ON measurement_series (patient, system, code, at);
-- $lastn: the latest Observations of a code, by the end of their period as a date sort orders them.
CREATE INDEX measurement_series_latest ON measurement_series (patient, system, code, at_high) WHERE comp_code IS NULL;
-- Replacing and deleting a version's rows.
CREATE INDEX measurement_series_rid ON measurement_series (rid);

-- The series of the Observations stored before this migration, from their index rows as points.ts reads them.
WITH sp AS (
  SELECT
    (SELECT sp FROM search_param WHERE resource_type = 'Observation' AND code = 'subject') AS subject,
    (SELECT sp FROM search_param WHERE resource_type = 'Observation' AND code = 'date') AS date,
    (SELECT sp FROM search_param WHERE resource_type = 'Observation' AND code = 'code') AS code,
    (SELECT sp FROM search_param WHERE resource_type = 'Observation' AND code = 'status') AS status,
    (SELECT sp FROM search_param WHERE resource_type = 'Observation' AND code = 'category') AS category,
    (SELECT sp FROM search_param WHERE resource_type = 'Observation' AND code = 'value-quantity') AS value,
    (SELECT sp FROM search_param WHERE resource_type = 'Observation' AND code = 'component-code-value-quantity')
      AS component
),
obs AS (
  SELECT r.rid, r.id, r.version_id, r.last_updated, r.compartments, r.content,
    (SELECT i.target_id FROM idx_reference i, sp WHERE i.rid = r.rid AND i.sp = sp.subject
      AND i.target_type = 'Patient' AND i.target_id IS NOT NULL LIMIT 1) AS patient,
    (SELECT d.low FROM idx_date d, sp WHERE d.rid = r.rid AND d.sp = sp.date LIMIT 1) AS at,
    (SELECT d.high FROM idx_date d, sp WHERE d.rid = r.rid AND d.sp = sp.date LIMIT 1) AS at_high,
    (SELECT t.code FROM idx_token t, sp WHERE t.rid = r.rid AND t.sp = sp.status AND t.code IS NOT NULL LIMIT 1)
      AS status,
    COALESCE((SELECT array_agg(COALESCE(t.system, '') || '|' || t.code) FROM idx_token t, sp
      WHERE t.rid = r.rid AND t.sp = sp.category AND t.code IS NOT NULL), '{}') AS categories
  FROM resource r
  WHERE r.type = 'Observation' AND NOT r.deleted AND r.content IS NOT NULL
),
codings AS (
  SELECT DISTINCT o.rid, COALESCE(t.system, '') AS system, t.code
  FROM obs o JOIN idx_token t ON t.rid = o.rid JOIN sp ON t.sp = sp.code
  WHERE t.code IS NOT NULL AND o.patient IS NOT NULL AND o.at IS NOT NULL
),
vals AS (
  SELECT o.rid, NULL::text AS comp_system, NULL::text AS comp_code, 0 AS grp,
    COALESCE(q.value, CASE WHEN json_typeof(o.content::json -> 'valueInteger') = 'number'
      THEN (o.content::json ->> 'valueInteger')::numeric END) AS value,
    q.code AS unit
  FROM obs o CROSS JOIN sp
    LEFT JOIN LATERAL (SELECT value, code FROM idx_quantity q WHERE q.rid = o.rid AND q.sp = sp.value LIMIT 1) q ON TRUE
  UNION ALL
  SELECT o.rid, COALESCE(t.system, ''), t.code, t.grp, q.value, q.code
  FROM obs o CROSS JOIN sp
    JOIN idx_token t ON t.rid = o.rid AND t.sp = sp.component AND t.code IS NOT NULL
    JOIN idx_quantity q ON q.rid = o.rid AND q.sp = sp.component AND q.grp = t.grp
)
INSERT INTO measurement_series (rid, patient, system, code, at, at_high, comp_system, comp_code, grp, value, unit,
  status, categories, type, id, version_id, last_updated, compartments)
SELECT o.rid, o.patient, c.system, c.code, o.at, o.at_high, v.comp_system, v.comp_code, v.grp, v.value, v.unit,
  o.status, o.categories, 'Observation', o.id, o.version_id, o.last_updated, o.compartments
FROM codings c JOIN obs o ON o.rid = c.rid JOIN vals v ON v.rid = c.rid;
