/**
 * The index rows one resource version contributes to the idx_* lookup tables.
 * These shapes mirror db/migrations/0001_core.sql column for column; `sp` is the
 * integer id of (resourceType, code) from the search_param table, `grp` links the
 * components of one composite match (0 for ordinary rows).
 */
export interface TokenRow {
  sp: number;
  grp: number;
  system: string | null;
  code: string | null;
  /** Display/text of the coding or CodeableConcept, normalized like StringRow.norm, for :text. */
  display: string | null;
  /** For Identifier values: "typeSystem|typeCode" of each Identifier.type coding, for :of-type. */
  ofType: string | null;
}

export interface StringRow {
  sp: number;
  grp: number;
  /** Lower-cased, accents stripped (NFD minus combining marks), whitespace collapsed. */
  norm: string;
  /** The value as stored in the resource. */
  exact: string;
}

export interface DateRow {
  sp: number;
  grp: number;
  /** Inclusive lower bound of the period the value covers, ISO 8601 instant (UTC). */
  low: string;
  /** Inclusive upper bound (last millisecond), ISO 8601 instant (UTC). */
  high: string;
}

export interface NumberRow {
  sp: number;
  grp: number;
  value: string;
}

export interface QuantityRow {
  sp: number;
  grp: number;
  value: string;
  system: string | null;
  code: string | null;
  unit: string | null;
}

export interface ReferenceRow {
  sp: number;
  grp: number;
  /** For relative (or own-base absolute) references: the target type and id. */
  targetType: string | null;
  targetId: string | null;
  /** For absolute references to elsewhere, and canonical references: the URL (without |version). */
  url: string | null;
}

export interface UriRow {
  sp: number;
  grp: number;
  value: string;
}

export interface IndexRows {
  token: TokenRow[];
  string: StringRow[];
  date: DateRow[];
  number: NumberRow[];
  quantity: QuantityRow[];
  reference: ReferenceRow[];
  uri: UriRow[];
  /** Ids of the Patients whose compartment contains this resource. */
  compartments: string[];
}

export function emptyIndexRows(): IndexRows {
  return { token: [], string: [], date: [], number: [], quantity: [], reference: [], uri: [], compartments: [] };
}
