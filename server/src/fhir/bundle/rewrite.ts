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
  map: Map<string, string>,
  own?: ReadonlySet<string>
): Promise<void> {
  for (const e of entries) {
    for (const ref of conditionalReferences(e.entry.resource)) {
      if (map.has(ref)) {
        continue;
      }
      const [, type, query] = CONDITIONAL_REF.exec(ref) as RegExpExecArray;
      const matches = await matchAtMostTwo(repo, type as string, query as string, own);
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

/**
 * Strings that name identities (fullUrls, conditional references) and what they become. A
 * resource's strings are looked up by length first: most of them (codes, display text, narrative)
 * have no name's length and are passed over without being hashed, which took ~0.5 ms of every
 * 300-entry bundle. Made once its map is complete (the map is not read again).
 */
export class Names {
  private readonly lengths: ReadonlySet<number>;

  constructor(private readonly map: ReadonlyMap<string, string>) {
    this.lengths = new Set([...map.keys()].map((k) => k.length));
  }

  get size(): number {
    return this.map.size;
  }

  get(text: string): string | undefined {
    return this.lengths.has(text.length) ? this.map.get(text) : undefined;
  }
}

/** One string replaced by rewriteReferences: where, and what it was. */
export type Rewrite = [container: Record<string | number, unknown>, key: string | number, was: string];

/**
 * Replaces, in place, every string of the entry's resource that names a mapped identity. With
 * `undo`, records each replacement, so that undoRewrites can give a retried transaction its
 * input back without keeping a copy of every bundle.
 */
export function rewriteReferences(node: unknown, map: Names, undo?: Rewrite[]): void {
  if (map.size === 0) {
    return;
  }
  if (Array.isArray(node)) {
    for (let i = 0; i < node.length; i++) {
      const v: unknown = node[i];
      if (typeof v === 'string') {
        const to = map.get(v);
        if (to !== undefined) {
          undo?.push([node as unknown as Record<number, unknown>, i, v]);
          node[i] = to;
        }
      } else if (v && typeof v === 'object') {
        rewriteReferences(v, map, undo);
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
          undo?.push([obj, key, v]);
          obj[key] = to;
        }
      } else if (v && typeof v === 'object') {
        rewriteReferences(v, map, undo);
      }
    }
  }
}

/** Restores what rewriteReferences replaced (newest first) and empties the list. */
export function undoRewrites(undo: Rewrite[]): void {
  for (let i = undo.length - 1; i >= 0; i--) {
    const [container, key, was] = undo[i] as Rewrite;
    container[key] = was;
  }
  undo.length = 0;
}

/**
 * Whether a resource names an identity not known yet: a string that is one of `pending` (fullUrls
 * of entries whose identity needs the database) or a conditional reference (`Type?query`).
 */
export function namesUnresolved(node: unknown, pending: Names): boolean {
  if (Array.isArray(node)) {
    for (const v of node) {
      if (
        typeof v === 'string' ? pending.get(v) !== undefined : v && typeof v === 'object' && namesUnresolved(v, pending)
      ) {
        return true;
      }
    }
    return false;
  }
  if (!node || typeof node !== 'object') {
    return false;
  }
  const obj = node as Record<string, unknown>;
  for (const k in obj) {
    const v = obj[k];
    if (typeof v === 'string') {
      if (pending.get(v) !== undefined || (k === 'reference' && v.includes('?') && CONDITIONAL_REF.test(v))) {
        return true;
      }
    } else if (v && typeof v === 'object' && namesUnresolved(v, pending)) {
      return true;
    }
  }
  return false;
}

/** The `reference` values of a resource that are conditional (`Type?query`). */
function conditionalReferences(node: unknown, out: string[] = []): string[] {
  if (Array.isArray(node)) {
    for (const v of node) {
      conditionalReferences(v, out);
    }
  } else if (node && typeof node === 'object') {
    const obj = node as Record<string, unknown>;
    for (const k in obj) {
      const v = obj[k];
      if (k === 'reference' && typeof v === 'string' && v.includes('?') && CONDITIONAL_REF.test(v)) {
        out.push(v);
      } else if (v && typeof v === 'object') {
        conditionalReferences(v, out);
      }
    }
  }
  return out;
}
