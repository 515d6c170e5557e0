import { OperationOutcomeError, allOk, badRequest } from '@medplum/core';
import type { FhirRequest, FhirResponse } from '@medplum/fhir-router';
import type { Bundle, OperationDefinition } from '@medplum/fhirtypes';
import { sql } from '../../db/sql';
import type { HaleRepository } from '../../storage/repository';
import { accessClause } from '../../storage/read';

export const everythingOperation: OperationDefinition = {
  resourceType: 'OperationDefinition',
  url: 'http://hl7.org/fhir/OperationDefinition/Patient-everything',
  name: 'everything',
  status: 'active',
  kind: 'operation',
  code: 'everything',
  resource: ['Patient'],
  system: false,
  type: false,
  instance: true,
  parameter: [
    { name: '_since', use: 'in', min: 0, max: '1', type: 'instant' },
    { name: '_type', use: 'in', min: 0, max: '*', type: 'code' },
    { name: '_count', use: 'in', min: 0, max: '1', type: 'integer' },
    { name: 'return', use: 'out', min: 1, max: '1', type: 'Bundle' },
  ],
};

const DEFAULT_PAGE = 1000;

/**
 * Patient/{id}/$everything: the patient and every resource in their compartment, paged in
 * rid order (a `_cursor` continues after the last rid, so pages hold while data changes).
 * The audit trail (AuditEvents are in the compartment too) only when `_type` asks for it: it is
 * not the record, and every $everything would otherwise grow the next one (docs/audit.md).
 */
export async function everythingHandler(req: FhirRequest, repo: HaleRepository): Promise<FhirResponse> {
  const id = req.params.id as string;
  await repo.readResource('Patient', id); // 404/410 for an unknown or hidden patient
  const count = Number(single(req.query._count) ?? DEFAULT_PAGE);
  if (!Number.isInteger(count) || count < 1 || count > 5000) {
    throw new OperationOutcomeError(badRequest('_count must be an integer from 1 to 5000'));
  }
  const cursor = single(req.query._cursor) ?? '0';
  if (!/^\d{1,19}$/.test(cursor)) {
    throw new OperationOutcomeError(badRequest('Invalid _cursor'));
  }
  const since = single(req.query._since);
  const types = single(req.query._type)?.split(',').filter(Boolean);
  const ctx = repo.ctx;
  const rows = await repo.queryable.query<{ rid: string; type: string; id: string; content: string }>(
    sql`SELECT r.rid, r.type, r.id, r.content FROM resource r
        WHERE r.compartments @> ARRAY[${id}]::text[] AND NOT r.deleted AND r.rid > ${cursor}::bigint
        ${since ? sql`AND r.last_updated >= ${since}::timestamptz` : sql``}
        ${types ? sql`AND r.type = ANY(${types}::text[])` : sql`AND r.type <> ${'AuditEvent'}`}
        AND ${accessClause(ctx.access, 'r', undefined)}
        ORDER BY r.rid LIMIT ${count + 1}`
  );
  const page = rows.slice(0, count);
  const base = `${ctx.baseUrl}/Patient/${id}/$everything`;
  const params = new URLSearchParams({ _count: String(count) });
  if (since) {
    params.set('_since', since);
  }
  if (types) {
    params.set('_type', types.join(','));
  }
  const bundle: Bundle = {
    resourceType: 'Bundle',
    type: 'searchset',
    link: [{ relation: 'self', url: `${base}?${params.toString()}` }],
    entry: page.map((r) => ({
      fullUrl: `${ctx.baseUrl}/${r.type}/${r.id}`,
      resource: JSON.parse(r.content),
      search: { mode: 'match' },
    })),
  };
  const last = page[page.length - 1];
  if (rows.length > count && last) {
    params.set('_cursor', last.rid);
    bundle.link?.push({ relation: 'next', url: `${base}?${params.toString()}` });
  } else if (cursor === '0') {
    bundle.total = page.length;
  }
  return [allOk, bundle];
}

export function single(v: string | string[] | undefined): string | undefined {
  return Array.isArray(v) ? v[v.length - 1] : v;
}
