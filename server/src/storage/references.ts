import { OperationOutcomeError, badRequest } from '@medplum/core';
import type { Queryable } from '../db/database';
import { sql } from '../db/sql';
import { tagOrigin } from './error-origin';

const RELATIVE_REF = /^([A-Z][A-Za-z]+)\/([A-Za-z0-9\-.]{1,64})(\/_history\/[A-Za-z0-9\-.]{1,64})?$/;

export interface LocalReference {
  type: string;
  id: string;
  /**
   * `Type/id`, made once here: the checks at the end of a transaction look up ~700 references of a
   * 300-entry bundle, and building the key for each there took ~0.4 ms after PostgreSQL had finished.
   */
  key: string;
  /** FHIRPath-ish location of the reference in the source resource, for error messages. */
  path: string;
}

/**
 * Collects the relative references (`Type/id`) of a resource, and rejects the ones that can
 * never resolve: `urn:uuid:`/`urn:oid:` placeholders left over from a bundle (they only mean
 * something inside the bundle that defined them) and conditional references that were not
 * rewritten.
 */
export function collectReferences(resource: Record<string, unknown>, baseUrl: string): LocalReference[] {
  const out: LocalReference[] = [];
  walk(resource, [resource.resourceType as string], out, baseUrl);
  return out;
}

/**
 * `path` is the location as segments, pushed and popped on one array: the text is built only for
 * the references found (building it for every element allocated more than the rest of the walk).
 */
function walk(node: unknown, path: (string | number)[], out: LocalReference[], baseUrl: string): void {
  if (Array.isArray(node)) {
    for (let i = 0; i < node.length; i++) {
      path.push(i);
      walk(node[i], path, out, baseUrl);
      path.pop();
    }
    return;
  }
  if (node === null || typeof node !== 'object') {
    return;
  }
  const object = node as Record<string, unknown>;
  for (const key in object) {
    const value = object[key];
    if (key === 'reference' && typeof value === 'string') {
      checkReference(value, `${pathText(path)}.reference`, out, baseUrl);
    } else if (key !== 'contained' && typeof value === 'object' && value !== null) {
      path.push(key);
      walk(value, path, out, baseUrl);
      path.pop();
    }
  }
}

/** `Observation.component[0].valueQuantity` from its segments. */
function pathText(path: readonly (string | number)[]): string {
  let text = String(path[0]);
  for (let i = 1; i < path.length; i++) {
    const segment = path[i] as string | number;
    text += typeof segment === 'number' ? `[${segment}]` : `.${segment}`;
  }
  return text;
}

function checkReference(value: string, path: string, out: LocalReference[], baseUrl: string): void {
  const local = value.startsWith(baseUrl + '/') ? value.slice(baseUrl.length + 1) : value;
  const m = RELATIVE_REF.exec(local);
  if (m?.[1] && m[2]) {
    // Without a version the key is the reference itself: no new string, and its hash is often known already.
    out.push({ type: m[1], id: m[2], key: m[3] ? `${m[1]}/${m[2]}` : local, path });
    return;
  }
  if (value.startsWith('urn:uuid:') || value.startsWith('urn:oid:')) {
    throw new OperationOutcomeError(
      badRequest(`Unresolvable reference ${value}: no entry of the bundle has that fullUrl`, path)
    );
  }
  if (/^[A-Z][A-Za-z]+\?/.test(value)) {
    throw new OperationOutcomeError(
      badRequest(`Conditional reference ${value} is only allowed inside a transaction`, path)
    );
  }
}

/**
 * Referential integrity: every relative reference must name a resource that exists (and is not
 * deleted) in the database or among the versions about to be written. One query for the lot.
 */
export async function assertReferencesExist(
  tx: Queryable,
  refs: readonly (LocalReference & { from: string })[],
  pending: ReadonlySet<string>
): Promise<void> {
  const missing = refs.filter((r) => !pending.has(r.key));
  if (missing.length === 0) {
    return;
  }
  // A bundle's resources name the same few Practitioners and Organizations hundreds of times.
  const unique = new Map(missing.map((r) => [r.key, r]));
  const types = [...unique.values()].map((r) => r.type);
  const ids = [...unique.values()].map((r) => r.id);
  const found = await tx.query<{ type: string; id: string }>(
    sql`SELECT r.type, r.id FROM resource r JOIN unnest(${types}::text[], ${ids}::text[]) AS q(type, id)
        ON r.type = q.type AND r.id = q.id WHERE NOT r.deleted`
  );
  const present = new Set(found.map((f) => `${f.type}/${f.id}`));
  const bad = missing.find((r) => !present.has(r.key));
  if (bad) {
    throw tagOrigin(
      new OperationOutcomeError(
        badRequest(`Reference ${bad.type}/${bad.id} in ${bad.from} does not resolve to an existing resource`, bad.path)
      ),
      bad.from
    );
  }
}
