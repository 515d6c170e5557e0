-- Observation/$stats of a component code (systolic, a pulse taken with a blood pressure) reads the components coded
-- so in Observations of other codes from measurement_series too (wellness/series-stats.ts): by patient and the
-- component's coding, in time order. Only component rows have one.
CREATE INDEX measurement_series_component ON measurement_series (patient, comp_system, comp_code, at)
  WHERE comp_code IS NOT NULL;
