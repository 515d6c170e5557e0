import { OperationOutcomeError, badRequest, normalizeOperationOutcome } from '@medplum/core';
import type { OperationOutcome, Resource } from '@medplum/fhirtypes';
import type { Queryable } from '../../db/database';
import { sql } from '../../db/sql';
import { originOf } from '../../storage/error-origin';
import type { HaleRepository } from '../../storage/repository';

/** Lines parsed, looked up and written together: one lookup of existing ids per batch. */
const BATCH = 500;

export interface Line {
  line: number;
  resource: Resource & { id: string };
}

/** A file failed at this line (1-based; 0: the file as a whole). Nothing of the file was kept. */
export class LineError extends Error {
  constructor(
    readonly line: number,
    readonly outcome: OperationOutcome
  ) {
    super(outcome.issue?.[0]?.details?.text ?? `line ${line} failed`);
  }
}

export interface ImportHooks {
  /** Called after every batch, with the resources written so far; may throw to stop (rolls the file back). */
  progress?: (count: number) => Promise<void> | void;
  /** Called inside the file's transaction once everything is written and checked, before the commit. */
  beforeCommit?: (tx: Queryable, counts: Record<string, number>) => Promise<void>;
}

/** The outcome of a failed line, its issues prefixed with the line number. */
export function lineOutcome(line: number, err: unknown): OperationOutcome {
  const outcome =
    err instanceof OperationOutcomeError ? err.outcome : normalizeOperationOutcome(badRequest(String(err)));
  const where = line > 0 ? `line ${line}` : 'the file';
  return {
    resourceType: 'OperationOutcome',
    issue: (outcome.issue ?? []).map((issue) => ({
      ...issue,
      details: { ...issue.details, text: `${where}: ${issue.details?.text ?? issue.diagnostics ?? issue.code}` },
      location: [...(issue.location ?? []), where],
    })),
  };
}

function parseLine(text: string, line: number, declaredType: string | undefined): Line {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new LineError(line, lineOutcome(line, new OperationOutcomeError(badRequest('not valid JSON'))));
  }
  const r = value as Partial<Resource> | null;
  const fail = (text: string): never => {
    throw new LineError(line, lineOutcome(line, new OperationOutcomeError(badRequest(text))));
  };
  if (!r || typeof r !== 'object' || Array.isArray(r) || typeof r.resourceType !== 'string') {
    return fail('not a FHIR resource (a JSON object with a resourceType)');
  }
  if (declaredType && r.resourceType !== declaredType) {
    return fail(`a ${r.resourceType} in a file of type ${declaredType}`);
  }
  if (typeof r.id !== 'string' || r.id === '') {
    return fail('the resource has no id (an import writes each resource under its own id, as a PUT)');
  }
  return { line, resource: r as Resource & { id: string } };
}

/** The non-empty lines of an NDJSON text, parsed, in batches. */
function* batches(text: string, declaredType: string | undefined): Generator<Line[]> {
  let batch: Line[] = [];
  let start = 0;
  let line = 0;
  while (start < text.length) {
    const end = text.indexOf('\n', start);
    const stop = end < 0 ? text.length : end;
    line++;
    const raw = text.slice(start, stop).trim();
    start = stop + 1;
    if (raw) {
      batch.push(parseLine(raw, line, declaredType));
      if (batch.length >= BATCH) {
        yield batch;
        batch = [];
      }
    }
  }
  if (batch.length > 0) {
    yield batch;
  }
}

/** `Type/id` of the batch's resources already stored (current or deleted). */
async function storedKeys(q: Queryable, lines: readonly Line[]): Promise<Set<string>> {
  const types = lines.map((l) => l.resource.resourceType);
  const ids = lines.map((l) => l.resource.id);
  const rows = await q.query<{ type: string; id: string }>(
    sql`SELECT r.type, r.id FROM resource r JOIN unnest(${types}::text[], ${ids}::text[]) AS k(type, id)
        ON r.type = k.type AND r.id = k.id`
  );
  return new Set(rows.map((r) => `${r.type}/${r.id}`));
}

/**
 * Imports one NDJSON file in one PostgreSQL transaction, every resource written as a PUT of its
 * own id would be (update-as-create: the same validation, pre-write steps and access checks):
 * an id not stored yet is a buffered create (write-buffer.ts, many rows per statement), a stored
 * one an update (an unchanged resource keeps its version, so importing a file again changes
 * nothing). The first bad line throws a LineError and the transaction rolls back.
 */
export async function importNdjson(
  repo: HaleRepository,
  text: string,
  declaredType: string | undefined,
  hooks: ImportHooks = {}
): Promise<Record<string, number>> {
  const lineOf = new Map<string, number>();
  try {
    return await repo.withTransaction(async (tx) => {
      const counts: Record<string, number> = {};
      let total = 0;
      for (const batch of batches(text, declaredType)) {
        const stored = await storedKeys(tx.queryable, batch);
        for (const { line, resource } of batch) {
          const key = `${resource.resourceType}/${resource.id}`;
          try {
            if (stored.has(key) || lineOf.has(key)) {
              await tx.updateResource(resource);
            } else {
              tx.ctx.access.checkInteraction(resource.resourceType, 'update');
              await tx.createResource(resource, { assignedId: true });
            }
          } catch (err) {
            throw err instanceof OperationOutcomeError ? new LineError(line, lineOutcome(line, err)) : err;
          }
          lineOf.set(key, line);
          counts[resource.resourceType] = (counts[resource.resourceType] ?? 0) + 1;
        }
        total += batch.length;
        await hooks.progress?.(total);
      }
      await tx.finishWrites();
      await hooks.beforeCommit?.(tx.queryable, counts);
      return counts;
    });
  } catch (err) {
    if (err instanceof OperationOutcomeError) {
      // A dangling reference, found when every line is written: it names the resource holding it.
      const origin = originOf(err);
      const line = (origin ? lineOf.get(origin) : undefined) ?? 0;
      throw new LineError(line, lineOutcome(line, err));
    }
    throw err;
  }
}
