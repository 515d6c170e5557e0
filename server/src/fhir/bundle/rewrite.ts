import { badRequest, preconditionFailed } from '@medplum/core';
import type { HaleRepository } from '../../storage/repository';
import type { ParsedEntry } from './entries';
import { entryError } from './entries';
import { matchAtMostTwo } from './identity';

const CONDITIONAL_REF = /^([A-Z][A-Za-z]+)\?(.+)$/;

/** fullUrl (urn:uuid:…, or the absolute URL of a PUT entry) → the `Type/id` it became. */
export function identityMap(entries: readonly ParsedEntry[]): Map<string, string> {
  const map = new Map<string, string>();
  for (const e of entries) {
    const fullUrl = e.entry.fullUrl;
    if (fullUrl && e.target) {
      map.set(fullUrl, `${e.target.type}/${e.target.id}`);
    }
  }
  return map;
}

/**
 * Resolves conditional references inside resources (`Patient?identifier=sys|val`): each must
 * match exactly one resource. Searched inside the transaction, after creates are known.
 */
export async function resolveConditionalReferences(
  repo: HaleRepository,
  entries: readonly ParsedEntry[],
  map: Map<string, string>
): Promise<void> {
  for (const e of entries) {
    for (const ref of conditionalReferences(e.entry.resource)) {
      if (map.has(ref)) {
        continue;
      }
      const [, type, query] = CONDITIONAL_REF.exec(ref) as RegExpExecArray;
      const matches = await matchAtMostTwo(repo, type as string, query as string);
      if (matches.length === 0) {
        throw entryError(e.index, badRequest(`Conditional reference ${ref} matched no resource`));
      }
      if (matches.length > 1) {
        throw entryError(e.index, {
          ...preconditionFailed,
          issue: [
            {
              severity: 'error',
              code: 'multiple-matches',
              details: { text: `Conditional reference ${ref} matched more than one resource` },
            },
          ],
        });
      }
      map.set(ref, `${type}/${matches[0]?.id}`);
    }
  }
}

/** Replaces, in place, every string of the entry's resource that names a mapped identity. */
export function rewriteReferences(node: unknown, map: ReadonlyMap<string, string>): void {
  if (map.size === 0) {
    return;
  }
  if (Array.isArray(node)) {
    for (let i = 0; i < node.length; i++) {
      const v = node[i];
      if (typeof v === 'string') {
        const to = map.get(v);
        if (to !== undefined) {
          node[i] = to;
        }
      } else if (v && typeof v === 'object') {
        rewriteReferences(v, map);
      }
    }
    return;
  }
  if (node && typeof node === 'object') {
    const obj = node as Record<string, unknown>;
    for (const key in obj) {
      const v = obj[key];
      if (typeof v === 'string') {
        const to = map.get(v);
        if (to !== undefined) {
          obj[key] = to;
        }
      } else if (v && typeof v === 'object') {
        rewriteReferences(v, map);
      }
    }
  }
}

/** The `reference` values of a resource that are conditional (`Type?query`). */
function conditionalReferences(node: unknown, out: string[] = []): string[] {
  if (Array.isArray(node)) {
    for (const v of node) {
      conditionalReferences(v, out);
    }
  } else if (node && typeof node === 'object') {
    for (const [k, v] of Object.entries(node)) {
      if (k === 'reference' && typeof v === 'string' && CONDITIONAL_REF.test(v)) {
        out.push(v);
      } else if (v && typeof v === 'object') {
        conditionalReferences(v, out);
      }
    }
  }
  return out;
}
