import type { SearchParameter } from '@medplum/fhirtypes';
import type { Database } from '../db/database';
import { sql } from '../db/sql';
import { getResourceTypes, getSearchParams } from '../fhir/definitions';
import type { Derivation } from './indexer/derived';
import { derivationOf } from './indexer/derived';
import { NOT_INDEXED } from './indexer/not-indexed';
import { referenceRowsOf } from './indexer/reference-rows';

export function isIndexedParam(code: string, sp: SearchParameter): boolean {
  return !NOT_INDEXED.has(code) && sp.type !== 'special' && Boolean(sp.expression);
}

/**
 * Integer ids of (resourceType, code) search parameters, from the search_param table.
 * Index rows store the integer, which keeps the idx_* tables and their indexes small.
 * Derived parameters (indexer/derived.ts) have no rows and so no id here: `derivation` says
 * how to search them.
 */
export class SearchParamRegistry {
  /** By resource type, then code: a nested lookup hashes two short interned strings instead of building a key per row. */
  private readonly ids = new Map<string, Map<string, number>>();

  static async load(db: Database): Promise<SearchParamRegistry> {
    const types: string[] = [];
    const codes: string[] = [];
    for (const type of getResourceTypes()) {
      for (const [code, sp] of Object.entries(getSearchParams(type))) {
        if (isIndexedParam(code, sp) && !derivationOf(type, code)) {
          types.push(type);
          codes.push(code);
        }
      }
    }
    await db.query(sql`INSERT INTO search_param (resource_type, code)
      SELECT * FROM unnest(${types}::text[], ${codes}::text[]) ON CONFLICT DO NOTHING`);
    const rows = await db.query<{ sp: number; resource_type: string; code: string }>(
      sql`SELECT sp, resource_type, code FROM search_param`
    );
    const registry = new SearchParamRegistry();
    for (const r of rows) {
      if (!derivationOf(r.resource_type, r.code)) {
        let byCode = registry.ids.get(r.resource_type);
        if (!byCode) {
          byCode = new Map();
          registry.ids.set(r.resource_type, byCode);
        }
        byCode.set(r.code, r.sp);
      }
    }
    return registry;
  }

  id(resourceType: string, code: string): number | undefined {
    return this.ids.get(resourceType)?.get(code);
  }

  /**
   * Where a reference parameter's idx_reference rows are: its own sp, or (a parameter narrowed by
   * target type, such as Observation `patient`) another parameter's sp and the target_type to keep.
   */
  referenceRows(resourceType: string, code: string): { sp: number; targetType?: string } | undefined {
    const rows = referenceRowsOf(resourceType, code);
    const sp = this.id(resourceType, rows.code);
    return sp === undefined ? undefined : { sp, targetType: rows.targetType };
  }

  derivation(resourceType: string, code: string): Derivation | undefined {
    return derivationOf(resourceType, code);
  }

  /** The ids of one parameter code across all types that have it (e.g. every type's `_security`). */
  idsOfCode(code: string): number[] {
    const out: number[] = [];
    for (const byCode of this.ids.values()) {
      const id = byCode.get(code);
      if (id !== undefined) {
        out.push(id);
      }
    }
    return out;
  }

  readonly lookup = (resourceType: string, code: string): number | undefined => this.id(resourceType, code);
}
