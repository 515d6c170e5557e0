/** A SMART resource scope, parsed (v1 `patient/*.read` and v2 `patient/Observation.rs?category=…`). */
export interface ResourceScope {
  context: 'patient' | 'user' | 'system';
  resourceType: string;
  permissions: ReadonlySet<'c' | 'r' | 'u' | 'd' | 's'>;
  /** Granular restriction: search parameters the resources must match, e.g. [['category', 'http://…|vital-signs']]. */
  params?: readonly [string, string][];
}
