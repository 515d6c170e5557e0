import type { TypedValue } from '@medplum/core';
import type { Resource, SearchParameter } from '@medplum/fhirtypes';
import { addPatientIds } from './compartments';
import { appendCompositeRows } from './composite';
import { indexPlan } from './plan';
import type { IndexRows } from './rows';
import { emptyIndexRows } from './rows';
import { appendReferenceIdentifiers } from './reference';
import { appendRows } from './values';

export type { IndexRows } from './rows';
export { dateRange } from './date';
export { normalizeSearchString } from './string';

export interface IndexOptions {
  /** This server's FHIR base URL; absolute references under it are indexed like relative ones. */
  baseUrl: string;
}

/**
 * The rows one resource version contributes to the idx_* tables, plus its Patient compartments
 * (first the patient it is about: compartmentParamOrder).
 * `lookupSp` maps (resourceType, code) to the search_param id; parameters it does not know are
 * skipped (compartments are computed regardless). References must already be resolved: `urn:uuid:`
 * references (transaction bundles) index as URLs and put nothing in a compartment.
 */
export function buildIndexRows(
  resource: Resource,
  lookupSp: (resourceType: string, code: string) => number | undefined,
  options: IndexOptions
): IndexRows {
  const rows = emptyIndexRows();
  const resourceType = resource.resourceType;
  const baseUrl = trimBase(options.baseUrl);
  const compartments = ownCompartment(resource, baseUrl);
  // Values of the compartment parameters by rank, added in that order once all are extracted.
  const compartmentValues: (readonly TypedValue[] | undefined)[] = [];
  for (const param of indexPlan(resourceType)) {
    const sp = lookupSp(resourceType, param.code);
    if (param.kind === 'composite') {
      if (sp !== undefined) {
        appendCompositeRows(param.composite, resource, sp, rows, baseUrl);
      }
      continue;
    }
    if (sp === undefined && param.compartment === undefined) {
      continue;
    }
    const values = param.extract(resource);
    if (values.length === 0) {
      continue;
    }
    if (sp !== undefined) {
      if (param.narrowed) {
        appendReferenceIdentifiers(values, sp, 0, rows);
      } else if (values.length === 1) {
        appendRows(param.kind, values, sp, 0, rows, baseUrl);
      } else {
        const table = rows[param.kind];
        const from = table.length;
        appendRows(param.kind, values, sp, 0, rows, baseUrl);
        dropRepeats(table, from);
      }
    }
    if (param.compartment !== undefined) {
      compartmentValues[param.compartment] = values;
    }
  }
  for (const values of compartmentValues) {
    if (values) {
      addPatientIds(values, baseUrl, compartments);
    }
  }
  rows.compartments = compartments;
  return rows;
}

/**
 * The Patient compartments of a resource alone, in the same order as buildIndexRows gives them
 * (the first is whom it is about): for older versions, whose index rows are not kept.
 */
export function compartmentsOf(resource: Resource, options: IndexOptions): string[] {
  const baseUrl = trimBase(options.baseUrl);
  const compartments = ownCompartment(resource, baseUrl);
  const params = indexPlan(resource.resourceType).flatMap((p) =>
    p.kind !== 'composite' && p.compartment !== undefined ? [{ rank: p.compartment, extract: p.extract }] : []
  );
  for (const { extract } of params.sort((a, b) => a.rank - b.rank)) {
    addPatientIds(extract(resource), baseUrl, compartments);
  }
  return compartments;
}

function trimBase(baseUrl: string): string {
  return baseUrl.endsWith('/') ? baseUrl.slice(0, -1) : baseUrl;
}

/** What comes before the compartment parameters: a Patient is about itself, a Binary about its securityContext. */
function ownCompartment(resource: Resource, baseUrl: string): string[] {
  const compartments: string[] = [];
  if (resource.resourceType === 'Patient' && resource.id) {
    compartments.push(resource.id);
  } else if (resource.resourceType === 'Binary' && resource.securityContext) {
    // R4 puts Binary in no compartment; Hale files a patient's document content under the
    // patient its securityContext names, so Consent ("documents") and patient tokens reach it.
    addPatientIds([{ type: 'Reference', value: resource.securityContext }], baseUrl, compartments);
  }
  return compartments;
}

/**
 * Removes rows equal to an earlier row of the same parameter (appended since `from`). Searches ask
 * whether a matching row exists, so a repeat only costs an insert into two indexes: an AuditEvent
 * of a bundle repeats the same entity type and role ~50 times each, ~100 of its ~150 rows.
 */
function dropRepeats(table: object[], from: number): void {
  const count = table.length - from;
  if (count < 2) {
    return;
  }
  if (count > 64) {
    dropRepeatsByKey(table, from);
    return;
  }
  // Few rows, few distinct ones: comparing with those kept beats building a key per row.
  let kept = from + 1;
  for (let i = from + 1; i < table.length; i++) {
    const row = table[i] as Record<string, unknown>;
    let repeat = false;
    for (let j = from; j < kept && !repeat; j++) {
      repeat = sameRow(table[j] as Record<string, unknown>, row);
    }
    if (!repeat) {
      table[kept++] = row;
    }
  }
  table.length = kept;
}

/** Rows of one table share their shape, so equal values under the same keys means the same row. */
function sameRow(a: Record<string, unknown>, b: Record<string, unknown>): boolean {
  for (const key in a) {
    if (a[key] !== b[key]) {
      return false;
    }
  }
  return true;
}

function dropRepeatsByKey(table: object[], from: number): void {
  const seen = new Set<string>();
  let kept = from;
  for (let i = from; i < table.length; i++) {
    const row = table[i] as object;
    let key = '';
    for (const v of Object.values(row)) {
      key += v === null ? '\u0000' : `${v as string}\u0001`;
    }
    if (!seen.has(key)) {
      seen.add(key);
      table[kept++] = row;
    }
  }
  table.length = kept;
}

/** The search parameters of a resource type that produce index rows, to register in search_param. */
export function indexedSearchParams(resourceType: string): SearchParameter[] {
  return indexPlan(resourceType).map((param) => param.searchParam);
}
