/**
 * Parameters with no rows: `_id` and `_lastUpdated` are columns of the resource table, and
 * `_compartment` / `_project` are Medplum's own (access control is done with resource.compartments).
 */
export const NOT_INDEXED: ReadonlySet<string> = new Set(['_id', '_lastUpdated', '_compartment', '_project']);
